"""The review queue in the browser: a real model behind a real server, driven by headless Chromium.

The model's abstention threshold is raised above 1 in its run directory, so every prediction it
serves is handed to a human: the queue fills with items whose labels are known in advance.
Screenshots go to `test-artifacts/review-pages/` at the repository root (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live_server import live_server

from narrowtune import runs
from narrowtune.serve import create_app
from narrowtune.serve.pages import PAGE_SIZE, add_review_pages
from narrowtune.store import SCOPES, Store

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "review-pages"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INJECTION = '<script>alert("x")</script><img src=x onerror=alert(2)> refund'
TEXTS = [
    "please refund the payment 123",
    "I want my money back for order 456",
    "where is my parcel 789",
    "package 321 has not arrived yet",
    "I cannot log in to account 654",
    "password reset for user 987 fails",
    "xyzzy plugh",  # nonsense: the model is unsure, so the confidence filter has work to do
    "the weather is nice today",
]


@pytest.fixture(scope="module")
def run_dir(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    trained = tmp_path_factory.mktemp("review") / tiny_run.name
    shutil.copytree(tiny_run, trained)  # changed below: the shared run stays as trained
    # A threshold no confidence reaches: every served prediction abstains and is queued.
    config_path = trained / runs.MODEL_DIR / "classify.json"
    config = json.loads(config_path.read_text())
    config["threshold"] = 1.01
    config_path.write_text(json.dumps(config, indent=2))
    return trained


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("db") / "review.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def key(store: Store) -> str:
    return store.create_key("reviewers", scopes=SCOPES)


@pytest.fixture(scope="module")
def server(run_dir: Path, store: Store, key: str) -> Iterator[str]:
    """A real uvicorn server in a thread on loopback, with the queue filled through the API."""
    app = create_app(run_dir, store=store)
    with live_server(app) as url:
        response = httpx.post(
            f"{url}/v1/predict",
            json={"texts": [*TEXTS, INJECTION]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert all(p["abstain"] for p in response.json()["predictions"])
        yield url


def queued(store: Store, text: str) -> dict:
    (item,) = [i for i in store.open_reviews(1000, include_escalated=True) if i["text"] == text]
    return item


@contextmanager
def signed_in_client(server: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as http:
        response = http.post("/login", data={"key": key, "next": "/review"})
        assert response.status_code == 303 and response.headers["location"] == "/review"
        yield http


def csrf(http: httpx.Client | TestClient) -> str:
    """The session's CSRF token, read from a page's forms as a browser would submit it."""
    found = re.search(r'name="csrf" value="([^"]+)"', http.get("/review").text)
    assert found, "no CSRF field in the signed-in page"
    return found.group(1)


# -- without a browser ------------------------------------------------------------------------


def test_pages_without_the_cookie_redirect_to_login(server: str, store: Store, key: str) -> None:
    item = store.open_reviews(1)[0]
    with httpx.Client(base_url=server, timeout=60) as http:
        for method, path in (
            ("GET", "/review"),
            ("GET", "/review?label=refund"),
            ("GET", f"/review/{item['id']}"),
            ("POST", f"/review/{item['id']}"),
        ):
            response = http.request(method, path, data={"action": "accept"})
            assert response.status_code == 303, (method, path)
            location = response.headers["location"]
            assert location.startswith("/login?next=")
            assert unquote(location.split("=", 1)[1]) == path
        # A stale or forged cookie is no better than none, nor is the API key as a cookie.
        for forged in ("forged-session-token", key):
            http.cookies.set("nt_session", forged)
            assert http.get("/review").status_code == 303
            posted = http.post(f"/review/{item['id']}", data={"action": "accept"})
            assert posted.status_code == 303
        login = http.get("/login?next=/review")
        assert login.status_code == 200 and 'name="key"' in login.text
    assert queued(store, item["text"])["status"] == "open"  # the POST decided nothing


def test_login_refuses_a_wrong_key_and_sets_a_strict_cookie(
    server: str, key: str, store: Store
) -> None:
    predict_only = store.create_key("predict-only")
    with httpx.Client(base_url=server, timeout=60) as http:
        wrong = http.post("/login", data={"key": "nt_wrong"})
        assert wrong.status_code == 401 and "cannot review" in wrong.text
        assert "nt_wrong" not in wrong.text and "set-cookie" not in wrong.headers
        unscoped = http.post("/login", data={"key": predict_only})
        assert unscoped.status_code == 401 and "review&#39; scope" in unscoped.text
        assert predict_only not in unscoped.text and "set-cookie" not in unscoped.headers
        other_site = http.post("/login", data={"key": key}, headers={"Origin": "https://evil.test"})
        assert other_site.status_code == 401 and "set-cookie" not in other_site.headers
        offsite = http.post("/login", data={"key": key, "next": "https://evil.example/"})
        assert offsite.status_code == 303 and offsite.headers["location"] == "/review"
        (cookie,) = offsite.headers.get_list("set-cookie")
        assert cookie.startswith("nt_session=") and key not in cookie
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert "max-age=" in cookie.lower()
        token = http.cookies["nt_session"]
        page = http.get("/review")
        assert page.status_code == 200 and "Review queue" in page.text
        assert '<b id="reviewer">reviewers</b>' in page.text  # the key's name
        assert "script-src 'nonce-" in page.headers["content-security-policy"]
        # Signing out needs the session's CSRF token (a forged post cannot sign anyone out) ...
        assert http.post("/logout").status_code == 303
        assert http.get("/review").status_code == 200
        assert http.post("/logout", data={"csrf": csrf(http)}).status_code == 303
        assert http.get("/review").status_code == 303
    # ... and ends the session in the store: the old token is dead even if a copy survives.
    assert store.session_info(token) is None
    with httpx.Client(base_url=server, timeout=60, cookies={"nt_session": token}) as http:
        assert http.get("/review").status_code == 303


def test_decisions_need_the_csrf_token_and_are_recorded_under_the_key(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "csrf.db") as store:
        key = store.create_key("Kim", scopes=("review",))
        prediction = {"label": "refund", "confidence": 0.4, "abstain": True, "scores": {}}
        store.record([prediction], texts=["refund me"], model="m", request_id="r", latency_ms=1)
        (item,) = store.open_reviews()
        app = FastAPI()
        add_review_pages(app, store, ["refund", "login"])
        with TestClient(app) as http:
            assert http.post("/login", data={"key": key}).status_code == 200
            bodies = [
                b"action=accept",
                b"action=accept&csrf=guess",
                b"action=accept&csrf=%ED%A0%80",
            ]
            for body in bodies:  # none, a guess, an encoded lone surrogate
                refused = http.post(
                    f"/review/{item['id']}",
                    content=body,
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
                assert refused.status_code == 403 and "stale" in refused.text
            token = csrf(http)
            cross = http.post(
                f"/review/{item['id']}",
                data={"action": "accept", "csrf": token, "reviewer": "Mallory"},
                headers={"Origin": "https://evil.test"},
            )
            assert cross.status_code == 403
            assert store.open_reviews()[0]["status"] == "open"
            done = http.post(
                f"/review/{item['id']}",
                data={"action": "accept", "csrf": token, "reviewer": "Mallory"},
                follow_redirects=False,
            )
            assert done.status_code == 303, done.text
        (row,) = store.export_feedback()
        assert row["reviewer"] == "Kim"  # a name in the form is ignored
        # Taking the review scope away (revoking the key) signs its browsers out.
        store.revoke_key("Kim")
        with TestClient(app) as http:
            http.post("/login", data={"key": key})
            assert http.get("/review", follow_redirects=False).status_code == 303


def test_html_in_the_input_and_the_name_is_escaped(server: str, store: Store) -> None:
    item = queued(store, INJECTION)
    with signed_in_client(server, store.create_key("<b>eve</b>", scopes=("review",))) as http:
        for path in ("/review", f"/review/{item['id']}"):
            html = http.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
            assert "&lt;b&gt;eve&lt;/b&gt;" in html and "<b>eve</b>" not in html


def test_bad_filter_and_unknown_label_are_refused_with_a_message(
    server: str, key: str, store: Store
) -> None:
    item = queued(store, TEXTS[0])
    with signed_in_client(server, key) as http:
        bad = http.get("/review", params={"max_confidence": "lots"})
        assert bad.status_code == 422 and "from 0 to 1" in bad.text
        token = csrf(http)
        pizza = http.post(
            f"/review/{item['id']}", data={"action": "correct", "label": "pizza", "csrf": token}
        )
        assert pizza.status_code == 422 and "not one of the model" in pizza.text
        empty = http.post(
            f"/review/{item['id']}", data={"action": "correct", "label": "", "csrf": token}
        )
        assert empty.status_code == 422 and "Choose the correct label" in empty.text
        forged = http.get("/review", params={"done": 1, "did": "deleted, call 555-0100"})
        assert forged.status_code == 200 and "555-0100" not in forged.text
        missing = http.get("/review/999999")
        assert missing.status_code == 404 and "not in the queue" in missing.text
    assert queued(store, TEXTS[0])["status"] == "open"


def test_multi_label_correction_stores_every_chosen_label(tmp_path: Path) -> None:
    """The pages alone on a bare app (no model): a multi-label item corrected to two labels."""
    with Store(tmp_path / "multi.db") as store:
        key = store.create_key("Zoë", scopes=("review",))
        prediction = {
            "label": ["refund"],
            "confidence": 0.4,
            "abstain": True,
            "scores": {"refund": 0.4, "login": 0.3, "shipping": 0.1},
        }
        store.record(
            [prediction], texts=["refund and login"], model="m", request_id="r", latency_ms=1
        )
        app = FastAPI()
        add_review_pages(app, store, ["refund", "shipping", "login"], multi_label=True)
        with TestClient(app) as http:
            http.post("/login", data={"key": key})
            (item,) = store.open_reviews()
            page = http.get(f"/review/{item['id']}")
            assert page.status_code == 200 and "multiple" in page.text
            token = csrf(http)
            response = http.post(
                f"/review/{item['id']}",
                data={"action": "correct", "label": ["refund", "login"], "csrf": token},
                follow_redirects=False,
            )
            assert response.status_code == 303
            assert response.headers["location"] == f"/review?done={item['id']}&did=corrected"
            again = http.post(f"/review/{item['id']}", data={"action": "accept", "csrf": token})
            assert again.status_code == 404 and "not in the queue" in again.text
        (row,) = store.export_feedback()
        assert row["label"] == ["refund", "login"] and row["reviewer"] == "Zoë"


def test_the_queue_is_filtered_and_paged_by_the_store(tmp_path: Path) -> None:
    """More items than a page: counted, paged and linked through store queries."""
    with Store(tmp_path / "paged.db") as store:
        key = store.create_key("pager", scopes=SCOPES)
        total = PAGE_SIZE + 5
        for i in range(total):
            label = "refund" if i % 2 else "login"
            prediction = {"label": label, "confidence": i / total, "abstain": True, "scores": {}}
            store.record(
                [prediction], texts=[f"text {i}"], model="m", request_id=f"r{i}", latency_ms=1
            )
        app = FastAPI()
        add_review_pages(app, store, ["refund", "shipping", "login"])
        with TestClient(app) as http:
            http.post("/login", data={"key": key})
            first = http.get("/review")
            assert (
                f'<span id="count">{total}</span> items waiting; showing {PAGE_SIZE}' in first.text
            )
            assert first.text.count('<tr data-href="/review/') == PAGE_SIZE
            after = store.open_reviews(PAGE_SIZE)[-1]["id"]
            assert f'href="/review?after={after}" id="next-page"' in first.text
            second = http.get(f"/review?after={after}")
            assert second.text.count('<tr data-href="/review/') == 5
            assert 'id="next-page"' not in second.text
            refunds = http.get("/review", params={"label": "refund", "max_confidence": "0.5"})
            expected = store.count_reviews("refund", max_confidence=0.5)
            assert f'<span id="count">{expected}</span>' in refunds.text and 0 < expected < 60
            ids = [i["id"] for i in store.open_reviews(1000, "refund", max_confidence=0.5)]
            page = http.get(
                f"/review/{ids[1]}", params={"label": "refund", "max_confidence": "0.5"}
            )
            assert (
                f'href="/review/{ids[0]}?label=refund&amp;max_confidence=0.5" id="prev"'
                in page.text
            )
            assert (
                f'href="/review/{ids[2]}?label=refund&amp;max_confidence=0.5" id="next"'
                in page.text
            )
            nul = http.get("/review", params={"label": "a\x00b"})
            assert nul.status_code == 422 and "NUL" in nul.text


def test_generated_and_extracted_items_show_their_output(tmp_path: Path, tiny_run: Path) -> None:
    """Two models in one server: each item is reviewed with its own model's labels."""
    from test_serve_chat import HELLO, TinyChatModel

    with Store(tmp_path / "mixed.db") as store:
        key = store.create_key("mixed", scopes=SCOPES)
        headers = {"Authorization": f"Bearer {key}"}
        app = create_app(tiny_run, store=store, models={"chat": TinyChatModel(max_chars=5)})
        with TestClient(app) as http:
            reply = http.post(
                "/v1/chat/completions",
                json={"model": "chat", "messages": HELLO, "max_tokens": 6, "on_invalid": "return"},
                headers=headers,
            ).json()
            text = reply["choices"][0]["message"]["content"]
            assert reply["narrowtune"]["valid"] is False
            http.post("/v1/predict", json={"texts": ["xyzzy plugh", "qq"]}, headers=headers)
            http.post("/login", data={"key": key})
            token = csrf(http)
            listing = http.get("/review")
            assert 'id="f-model"' in listing.text and '<td class="model">chat</td>' in listing.text
            only_chat = http.get("/review", params={"model": "chat"})
            assert only_chat.text.count('<tr data-href="/review/') == 1
            (chat_item,) = store.open_reviews(model="chat")
            page = http.get(f"/review/{chat_item['id']}")
            assert f'<pre id="model-output">{text}</pre>' in page.text
            assert "over the limit of 5" in page.text and "<textarea" in page.text
            classify_item = store.open_reviews(model="tiny")[0]
            pizza = http.post(
                f"/review/{classify_item['id']}",
                data={"action": "correct", "label": "pizza", "csrf": token},
            )
            assert pizza.status_code == 422 and "not one of the model" in pizza.text
            fixed = http.post(
                f"/review/{chat_item['id']}",
                data={"action": "correct", "label": "your parcel is late", "csrf": token},
                follow_redirects=False,
            )
            assert fixed.status_code == 303
        (row,) = store.export_feedback()
        assert row["label"] == "your parcel is late" and row["predicted"] == ""


# -- in headless Chromium ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="the Playwright Python package is not installed "
        "(pip install -c constraints.txt playwright)",
    )
    executable = os.environ.get("NARROWTUNE_CHROMIUM") or shutil.which("chromium")
    executable = executable or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.skip(
            f"no Chromium at {executable} (apt-get install chromium, or NARROWTUNE_CHROMIUM)"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_review_in_the_browser(browser: object, server: str, key: str, store: Store) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    failed: list[str] = []  # any request leaving the server (a CDN) would show up here
    page.on("request", lambda r: None if r.url.startswith(server) else failed.append(r.url))
    try:
        # Signing in, from a deep link: the login page sends the reviewer back there.
        page.goto(f"{server}/review?label=refund")
        assert "/login" in page.url
        shot(page, "01-login")
        page.fill("input[name=key]", store.create_key("Ana Reviewer", scopes=("review",)))
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/review?label=refund")
        assert page.inner_text("#reviewer") == "Ana Reviewer"

        # The whole queue, then filtered by label through the form.
        page.goto(f"{server}/review")
        assert page.locator("#queue tbody tr").count() == len(TEXTS) + 1
        assert INJECTION[:20] in page.inner_text("#queue")  # shown as text, never run
        shot(page, "02-queue")
        page.select_option("#f-label", "shipping")
        page.click("#filters button[type=submit]")
        page.wait_for_url(lambda url: "/review?label=shipping&" in url)
        labels = page.locator("#queue tbody td.label").all_inner_texts()
        shipping = [i for i in store.open_reviews(1000) if i["label"] == "shipping"]
        assert labels == ["shipping"] * len(shipping) and len(shipping) >= 2
        shot(page, "03-filtered-shipping")

        # Filtered by confidence (every label again): every row shown is at or under the bound,
        # a bound between the queue's own confidences so that it keeps some and drops some.
        confidences = [i["confidence"] for i in store.open_reviews(1000)]
        distinct = sorted(set(confidences))
        bound = round((distinct[len(distinct) // 2 - 1] + distinct[len(distinct) // 2]) / 2, 4)
        expected = [c for c in confidences if c <= bound]
        assert 0 < len(expected) < len(confidences), confidences
        page.select_option("#f-label", "")
        page.fill("#f-conf", str(bound))
        page.click("#filters button[type=submit]")
        page.wait_for_url(lambda url: f"max_confidence={bound}" in url)
        shown = [float(x) for x in page.locator("#queue tbody td:nth-child(4)").all_inner_texts()]
        assert len(shown) == len(expected) and all(c <= bound + 0.005 for c in shown)
        shot(page, "04-filtered-confidence")

        # Open a refund item, check what it shows, and correct its label with the form.
        page.goto(f"{server}/review?label=refund")
        page.keyboard.press("j")
        page.keyboard.press("k")
        page.keyboard.press("Enter")
        first = queued(store, page.inner_text("#input"))
        assert page.url.endswith(f"/review/{first['id']}?label=refund")
        assert page.inner_text("#model-label") == "refund"
        assert page.inner_text("#confidence") == f"{first['confidence']:.3f}"
        shot(page, "05-item")
        page.keyboard.press("j")  # the next refund item, and back
        page.wait_for_url(lambda url: f"/review/{first['id']}?" not in url)
        assert page.inner_text("#model-label") == "refund"
        page.keyboard.press("k")
        page.wait_for_url(lambda url: f"/review/{first['id']}?" in url)
        page.keyboard.press("c")
        assert page.evaluate("document.activeElement.id") == "correct-label"
        page.select_option("#correct-label", "login")
        page.click("#correct")
        # Lands on the next refund item, with a note that the first one was saved.
        page.wait_for_url(lambda url: f"?label=refund&done={first['id']}&did=corrected" in url)
        assert f"Item {first['id']} corrected." in page.inner_text("[role=status]")
        shot(page, "06-after-correct")

        # Accept the next one with the keyboard alone.
        second = queued(store, page.inner_text("#input"))
        assert second["id"] != first["id"]
        page.keyboard.press("a")
        page.wait_for_url(lambda url: f"done={second['id']}&did=accepted" in url)
        shot(page, "07-after-accept")

        # Escalate a shipping item with `e`: it leaves the open queue but is still listed when
        # escalated items are included.
        page.goto(f"{server}/review?label=shipping")
        page.locator("#queue tbody tr a").first.click()
        third = queued(store, page.inner_text("#input"))
        page.keyboard.press("e")
        page.wait_for_url(lambda url: f"done={third['id']}&did=escalated" in url)
        assert queued(store, third["text"])["status"] == "escalated"
        page.goto(f"{server}/review?label=shipping&include_escalated=1")
        assert "escalated" in page.inner_text(f"#item-{third['id']}")
        shot(page, "08-escalated")
    finally:
        context.close()

    assert dialogs == [] and failed == []
    feedback = {f["text"]: f for f in store.export_feedback()}
    assert feedback[first["text"]]["label"] == "login"
    assert feedback[first["text"]]["action"] == "correct"
    assert feedback[first["text"]]["reviewer"] == "Ana Reviewer"
    assert feedback[second["text"]]["label"] == second["label"] == "refund"
    assert feedback[second["text"]]["action"] == "accept"
    assert feedback[second["text"]]["reviewer"] == "Ana Reviewer"
    assert third["text"] not in feedback
    assert (ARTIFACTS / "06-after-correct.png").stat().st_size > 0
