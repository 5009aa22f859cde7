"""The server as an attacker meets it: a real model behind a real uvicorn server on loopback.

Each test sends what a stranger (or a client with a key but bad intent) could send, and checks
that the answer is a clear 4xx, never a 500, that nothing is read or kept beyond the limits,
and that the server stays responsive for everyone else.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from live_server import live_server
from starlette.types import Receive, Scope, Send

from narrowtune.serve import create_app
from narrowtune.serve.auth import KeyCache
from narrowtune.serve.guard import SMALL_BODY, Guard, GuardPolicy
from narrowtune.serve.routing import MAX_VALUES
from narrowtune.serve.schemas import MAX_LIST
from narrowtune.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("hostile") / "nt.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def keys(store: Store) -> dict[str, str]:
    return {
        "predict": store.create_key("app"),
        "review": store.create_key("ana", scopes=("review",)),
        "admin": store.create_key("ops", scopes=("admin",)),
    }


@pytest.fixture(scope="module")
def server(tiny_run: Path, store: Store) -> Iterator[str]:
    app = create_app(tiny_run, store=store, max_batch=8, max_text_chars=200)
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def roomy(tiny_run: Path, store: Store) -> Iterator[str]:
    """The default limits: a body of 15 MB is of legal size."""
    with live_server(create_app(tiny_run, store=store)) as url:
        yield url


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def raw_connection(url: str) -> socket.socket:
    parts = urlsplit(url)
    conn = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return conn


def read_status(conn: socket.socket) -> tuple[int, bytes]:
    """The status code and everything the server sent until it closed (or 5 s passed)."""
    data = b""
    conn.settimeout(5)
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(body) >= length[0]:
                    break
    except TimeoutError:
        pass
    return int(data.split(b" ", 2)[1]), data


def send_chunked(conn: socket.socket, path: str, headers: str, chunks: Iterator[bytes]) -> int:
    """Send a chunked POST, chunk by chunk, until the server answers or stops reading; the
    number of body bytes sent."""
    conn.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    sent = 0
    conn.settimeout(0.001)
    for chunk in chunks:
        try:
            if conn.recv(1, socket.MSG_PEEK):
                return sent  # the server answered: stop sending
        except (TimeoutError, BlockingIOError):
            pass
        try:
            conn.settimeout(5)
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            conn.settimeout(0.001)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return sent
        sent += len(chunk)
    return sent


def endless(size: int = 64 * 1024, total: int = 48 * 1024 * 1024) -> Iterator[bytes]:
    """A body that would go on far past any limit (capped, so a broken server fails the test
    rather than hanging it)."""
    yield b'{"texts": ["'
    for _ in range(total // size):
        yield b"a" * size


# -- bodies ----------------------------------------------------------------------------------


def test_a_chunked_body_without_a_key_is_refused_before_it_is_read(server: str) -> None:
    with raw_connection(server) as conn:
        sent = send_chunked(conn, "/v1/predict", "", endless())
        status, data = read_status(conn)
    assert status == 401 and b"invalid API key" in data
    # The answer came after the headers, not after the body: a few chunks at most got out.
    assert sent < 4 * 1024 * 1024, sent


def test_a_keyed_chunked_body_over_the_limit_is_cut_off_with_413(
    server: str, keys: dict[str, str]
) -> None:
    headers = f"Authorization: Bearer {keys['predict']}\r\n"
    with raw_connection(server) as conn:
        sent = send_chunked(conn, "/v1/predict", headers, endless())
        status, data = read_status(conn)
    assert status == 413 and b"limit" in data
    limit = 8 * (200 * 6 + 8) + 1024  # max_body_bytes(8, 200)
    assert sent < limit + 8 * 1024 * 1024, sent  # stopped near the limit, not at the end


def test_a_declared_oversized_body_is_refused_from_its_length(
    server: str, keys: dict[str, str]
) -> None:
    with raw_connection(server) as conn:
        conn.sendall(
            b"POST /v1/review/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {keys['review']}\r\n".encode()
            + f"Content-Length: {SMALL_BODY + 1}\r\n\r\n".encode()
        )
        status, data = read_status(conn)
    assert status == 413 and str(SMALL_BODY).encode() in data


def test_many_small_values_are_refused_quickly_and_others_are_served_meanwhile(
    roomy: str, keys: dict[str, str]
) -> None:
    """A body of a few MB of tiny JSON values is parsed and refused off the event loop."""
    body = b'{"texts": [' + b",".join([b"1"] * 2_000_000) + b"]}"
    answers: dict[str, Any] = {}

    def hostile() -> None:
        answers["big"] = httpx.post(
            f"{roomy}/v1/predict", content=body, headers=bearer(keys["predict"]), timeout=60
        )

    thread = threading.Thread(target=hostile)
    thread.start()
    slowest = 0.0
    with httpx.Client(base_url=roomy, timeout=30) as http:
        while thread.is_alive():
            start = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            slowest = max(slowest, time.perf_counter() - start)
            time.sleep(0.01)
    thread.join()
    big = answers["big"]
    assert big.status_code == 422, big.text[:300]
    assert len(big.content) < 4096 and "JSON values" in big.text
    # Health checks kept answering while the big body was parsed (a generous bound: this is a
    # liveness check on a loaded 2-core machine, not a latency target).
    assert slowest < 1.0, slowest


def test_huge_lists_and_many_fields_are_refused_naming_the_problem(
    roomy: str, keys: dict[str, str]
) -> None:
    with httpx.Client(base_url=roomy, headers=bearer(keys["predict"]), timeout=60) as http:
        too_many = http.post("/v1/predict", json={"texts": ["a"] * (MAX_LIST + 1)})
        assert too_many.status_code in (413, 422), too_many.text[:300]
        fields = http.post("/v1/predict", json={f"k{i}": 1 for i in range(MAX_VALUES + 1)})
        assert fields.status_code == 422 and "JSON values" in fields.text
        deep: Any = "a"
        for _ in range(200):
            deep = [deep]
        nested = http.post("/v1/predict", json={"texts": deep})
        assert nested.status_code == 422 and "deeper" in nested.text
        # A body with many problems lists the first ones only, with a count of the rest.
        bad_items = http.post("/v1/predict", json={"texts": [1] * 5})
        assert bad_items.status_code == 422
        assert len(bad_items.json()["detail"]) <= 20


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/predict", '{"text": "refund \\ud800 now"}'),
        ("/v1/predict", '{"texts": ["fine", "\\udfff"]}'),
        ("/v1/predict", '{"texts": ["fine"], "model": "\\ud83d"}'),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "hi \\ud800"}]}'),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "hi"}], '
         '"temperature": NaN}'),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "hi"}], '
         '"temperature": Infinity}'),
        ("/v1/predict", '{"text": NaN}'),
        ("/v1/admin/reload", '{"model": "\\ud800"}'),
        ("/v1/review/1", '{"action": "correct", "label": "\\ud800"}'),
        ("/v1/review/1", '{"action": "accept", "reviewer": "\\ud800"}'),
    ],
)  # fmt: skip
def test_lone_surrogates_and_nan_are_422_naming_the_field(
    server: str, keys: dict[str, str], store: Store, path: str, body: str
) -> None:
    every = store.create_key(f"all-{time.monotonic_ns()}", scopes=("predict", "review", "admin"))
    before = len(store.predictions())
    response = httpx.post(
        f"{server}{path}",
        content=body.encode(),
        headers={**bearer(every), "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail and all("input" not in d for d in detail)
    assert len(store.predictions()) == before  # nothing half-recorded


# -- who may do what ------------------------------------------------------------------------


def test_each_route_needs_its_scope(server: str, keys: dict[str, str]) -> None:
    with httpx.Client(base_url=server, timeout=60) as http:
        review_only = http.post(
            "/v1/predict", json={"text": "refund"}, headers=bearer(keys["review"])
        )
        assert review_only.status_code == 403 and "'predict' scope" in review_only.text
        queue = http.get("/v1/review", headers=bearer(keys["predict"]))
        assert queue.status_code == 403 and "'review' scope" in queue.text
        reload = http.post("/v1/admin/reload", json={}, headers=bearer(keys["predict"]))
        assert reload.status_code == 403 and "'admin' scope" in reload.text
        assert http.get("/v1/review", headers=bearer(keys["review"])).status_code == 200
        assert http.get("/v1/models", headers=bearer(keys["predict"])).status_code == 200


def test_a_decision_is_recorded_under_the_key_not_the_name_sent(
    server: str, keys: dict[str, str], store: Store
) -> None:
    with httpx.Client(base_url=server, timeout=60) as http:
        http.post("/v1/predict", json={"text": "zzzz qqqq"}, headers=bearer(keys["predict"]))
        (item,) = [i for i in store.open_reviews(1000) if i["text"] == "zzzz qqqq"]
        decided = http.post(
            f"/v1/review/{item['id']}",
            json={"action": "accept", "reviewer": "the CEO"},
            headers=bearer(keys["review"]),
        )
        assert decided.status_code == 200, decided.text
    (row,) = [f for f in store.export_feedback() if f["text"] == "zzzz qqqq"]
    assert row["reviewer"] == "ana"


def test_a_revoked_key_stops_within_the_cache_time(
    server: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = store.create_key("short-lived")
    with httpx.Client(base_url=server, timeout=60, headers=bearer(key)) as http:
        assert http.get("/v1/models").status_code == 200
        store.revoke_key("short-lived")
        deadline = time.monotonic() + 10
        while http.get("/v1/models").status_code == 200:
            assert time.monotonic() < deadline, "a revoked key kept working"
            time.sleep(0.2)
        assert http.get("/v1/models").status_code == 401


def test_untrusted_hosts_and_unprotected_ops(
    tiny_run: Path, store: Store, keys: dict[str, str]
) -> None:
    app = create_app(
        tiny_run, store=store, trusted_hosts=["127.0.0.1", "localhost"], protect_ops=True
    )
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        rebound = http.get("/healthz", headers={"Host": "attacker.example"})
        assert rebound.status_code == 400
        assert http.get("/healthz").status_code == 200
        assert http.get("/metrics").status_code == 401
        assert http.get("/openapi.json").status_code == 401
        assert http.get("/metrics", headers=bearer(keys["predict"])).status_code == 403
        metrics = http.get("/metrics", headers=bearer(keys["admin"]))
        assert metrics.status_code == 200 and "narrowtune" in metrics.text


def test_credentials_in_the_query_string_are_redacted_before_logging(store: Store) -> None:
    """What the access log prints is the scope's query string after the Guard."""
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # what uvicorn asks first: start and stop at once
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(scope["query_string"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guarded = Guard(app, keys=KeyCache(store), policy=GuardPolicy(large_body=1024))
    with live_server(guarded) as url:
        httpx.get(f"{url}/healthz", params={"api_key": "nt_secret", "page": "2"}, timeout=30)
        httpx.get(f"{url}/healthz", params={"token": "nt_secret2"}, timeout=30)
    assert seen == [b"api_key=REDACTED&page=2", b"token=REDACTED"]


def test_a_stranger_cannot_grow_the_key_cache(server: str, tiny_run: Path, store: Store) -> None:
    """Every wrong key is remembered (so it costs no query), but only up to the cache's size."""
    cache = KeyCache(store, size=64)
    for i in range(500):
        assert cache.lookup(f"nt_guess-{i}") is None
    assert len(cache._entries) == 64


def test_garbage_json_and_wrong_types_never_500(server: str, keys: dict[str, str]) -> None:
    bodies = [
        b"{",
        b"\xff\xfe\x00",
        b"[]",
        b"null",
        b'"text"',
        json.dumps({"text": ["list"]}).encode(),
        json.dumps({"messages": "hi"}).encode(),
        json.dumps({"text": "a" * 10_000}).encode(),
    ]
    with httpx.Client(base_url=server, timeout=60, headers=bearer(keys["predict"])) as http:
        for path in ("/v1/predict", "/v1/chat/completions"):
            for body in bodies:
                answer = http.post(path, content=body, headers={"content-type": "application/json"})
                assert 400 <= answer.status_code < 500, (path, body[:30], answer.text[:200])
