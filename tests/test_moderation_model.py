"""A real (tiny) moderation model, end to end: train, save/load, predict with outcomes, eval
with the robustness table, serve with outcomes and the review queue, bad input."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from narrowtune import api
from narrowtune.store import SCOPES, Store
from narrowtune.task import load_task

SCAMS = [
    "claim your free {t} airdrop now at {d}",
    "verify your wallet seed phrase at {d} or lose your {t}",
    "urgent: your {t} account is locked, log in at {d}",
    "send {n} {t} to get double back, giveaway at {d}",
    "support agent here, share your recovery phrase to restore your {t}",
    "connect your wallet at {d} to receive the {t} bonus",
]
BENIGN = [
    "how long does a {t} withdrawal take on average",
    "thanks for the help yesterday, my {t} arrived",
    "is the {t} pool still paying rewards after the update",
    "gas fees are high today, I will wait to move my {t}",
    "the new app version looks great, swapping {t} was easy",
    "does anyone know when the next community call is",
]
DOMAINS = ["metamask-verify.com", "claim-bonus.xyz", "wallet-sync.net", "bit.ly/3xYz"]
TOKENS = ["ETH", "USDC", "SOL", "ARB"]


def rows(seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for label, templates in (("scam", SCAMS), ("ok", BENIGN)):
        for i in range(30):
            text = templates[i % len(templates)].format(
                t=rng.choice(TOKENS), d=rng.choice(DOMAINS), n=rng.randint(1, 9)
            )
            out.append({"text": f"{text} #{rng.randint(100, 999)}", "label": label})
    rng.shuffle(out)
    return out


def write_task(folder: Path) -> Path:
    with (folder / "messages.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows(0):
            handle.write(json.dumps(row) + "\n")
    task = {
        "name": "tiny-moderation",
        "kind": "classify",
        "data": {"train": "messages.jsonl"},
        "labels": {"scam": "a scam or phishing message", "ok": "a normal message"},
        "moderation": {
            "allow_label": "ok",
            "protected_domains": ["metamask.io"],
            "false_positive_budget": 0.1,
            "rules": {"lookalike_domain": "review"},
        },
        "split": {"validation": 0.25, "test": 0.25},
        "train": {"epochs": 2, "batch_size": 8},
        "seed": 5,
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(task))
    return path


@pytest.fixture(scope="module")
def task_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_task(tmp_path_factory.mktemp("moderation"))


@pytest.fixture(scope="module")
def run_dir(task_file: Path) -> Path:
    return api.train(load_task(task_file), force=True)


def test_saved_model_keeps_its_moderation_settings(run_dir: Path) -> None:
    model = api.load(run_dir)
    assert model.moderator is not None
    settings = model.moderator.config
    assert settings.allow_label == "ok"
    assert list(settings.thresholds) == ["scam"]  # every label but the allow label
    scam = settings.thresholds["scam"]
    assert scam.block >= 0.5 and scam.review <= scam.block
    assert "airdrop" in settings.words and "the" not in settings.words  # the data's own words
    card = (run_dir / "README.md").read_text()
    assert "Moderation: allow label `ok`" in card


def test_predictions_carry_outcomes_and_review_means_abstain(run_dir: Path) -> None:
    model = api.load(run_dir)
    texts = [
        "verify your wallet seed phrase at claim-bonus.xyz or lose your ETH #101",
        "thanks for the help yesterday, my USDC arrived #102",
        "does anyone know when the next community call is #777 metamask.co",  # rule: review
        "🙂🙂🙂",
        "\u200b\u200d",
        "x" * 100_000,
    ]
    predictions = model.predict(texts)
    assert len(predictions) == len(texts)
    assert predictions[0].outcome == "block"
    assert predictions[1].outcome == "allow"
    assert predictions[2].outcome == "review"
    assert any("lookalike_domain" in r for r in predictions[2].reasons)
    for p in predictions:
        assert p.outcome in {"allow", "block", "review"}
        assert p.abstain == (p.outcome == "review")


def test_disguised_text_gets_the_same_answer_as_plain_text(run_dir: Path) -> None:
    model = api.load(run_dir)
    plain = "verify your wallet seed phrase at claim-bonus.xyz or lose your ETH #555"
    disguised = (
        "v e r i f y your wаllet s33d phr\u200base at claim-bonus[.]xyz or lose your ETH #555"
    )
    first, second = model.predict([plain, disguised])
    assert first.label == second.label == "scam"
    assert second.outcome == first.outcome


def test_eval_reports_outcomes_and_the_robustness_table(task_file: Path, run_dir: Path) -> None:
    evaluation, _ = api.evaluate(load_task(task_file), run=str(run_dir), baselines=False)
    details = evaluation.details["moderation"]
    shares = details["outcomes"]
    assert shares["n"] == evaluation.split.test
    assert abs(shares["allow"] + shares["block"] + shares["review"] - 1) < 1e-9
    rows = {(r["test"], r["normalization"]): r for r in details["robustness"]}
    assert set(rows) == {(t, n) for t in ("clean", "disguised") for n in ("on", "off")}
    assert all(0.0 <= r["harm_recall"] <= 1.0 for r in rows.values())
    assert [s.anchor for s in evaluation.sections][:1] == ["moderation"]
    report = (run_dir / "report.html").read_text()
    assert "Moderation: disguised text" in report


def test_predict_file_adds_outcome_and_reasons(run_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text,label\nclaim your free ETH airdrop now at claim-bonus.xyz,gold\n")
    out = api.predict_file(api.load(run_dir), source, output=tmp_path / "out.csv")
    header = out.splitlines()[0].split(",")
    assert "outcome" in header and "reasons" in header


def test_invalid_utf8_input_file_is_a_clear_error(run_dir: Path, tmp_path: Path) -> None:
    from narrowtune.errors import NarrowtuneError

    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'{"text": "ok"}\n{"text": "\xff\xfe broken"}\n')
    with pytest.raises(NarrowtuneError, match=r"bad\.jsonl"):
        api.predict_file(api.load(run_dir), source)


@pytest.fixture(scope="module")
def served(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from narrowtune.serve import create_app

    with Store(tmp_path_factory.mktemp("db") / "moderation.db") as store:
        key = store.create_key("mods", scopes=SCOPES)
        with TestClient(create_app(run_dir, store=store)) as http:
            http.headers["Authorization"] = f"Bearer {key}"
            yield http, store


def test_served_predictions_carry_outcomes_and_reviews_keep_the_original(served: tuple) -> None:
    http, store = served
    # Cyrillic 'а' and a zero-width space inside a look-alike domain (the rule sends it to review)
    disguised = "does аnyone know when the next community call is #777 metamask.c\u200bo"
    response = http.post(
        "/v1/predict",
        json={"texts": [disguised, "thanks for the help yesterday, my USDC arrived #104"]},
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["predictions"]
    assert first["outcome"] == "review" and first["abstain"] is True
    assert first["reasons"]
    assert second["outcome"] in {"allow", "block", "review"}
    stored = store.predictions()
    assert any(p["text"] == disguised for p in stored)  # the store keeps what the user wrote
    queue = http.get("/v1/review").json()
    item = next(item for item in queue if item["text"] == disguised)  # the original text
    assert item["outcome"] == "review" and item["reasons"] == first["reasons"]
    key = http.headers["Authorization"].removeprefix("Bearer ")
    http.post("/login", data={"key": key, "next": "/review"}, follow_redirects=False)
    page = http.get(f"/review/{item['id']}")  # the moderator's page
    assert page.status_code == 200, page.text
    assert disguised in page.text  # exactly as written (escaped HTML keeps these characters)
    assert 'id="outcome">review<' in page.text and "lookalike_domain" in page.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 422),  # empty message
        ({"text": "\ud800 lone surrogate"}, 422),
        ({"text": "a" * 100_000}, 413),  # over the server's text limit
    ],
)
def test_served_bad_messages_get_clear_answers(served: tuple, body: dict, status: int) -> None:
    http, _ = served
    response = http.post(
        "/v1/predict",
        content=json.dumps(body, ensure_ascii=True).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_only_emoji_or_control_characters_get_an_outcome(served: tuple) -> None:
    http, _ = served
    response = http.post("/v1/predict", json={"texts": ["🙂🔥💎", "\u200b\u202e\u2060"]})
    assert response.status_code == 200, response.text
    for prediction in response.json()["predictions"]:
        assert prediction["outcome"] in {"allow", "block", "review"}


def test_onnx_backend_reads_the_same_normalised_text(run_dir: Path) -> None:
    texts = [
        "does аnyone know when the next community call is #777 metamask.c\u200bo",
        "claim your free ETH airdrop now at claim-bonus.xyz #5",
    ]
    torch_preds = api.load(run_dir).predict(texts)
    onnx_preds = api.load(run_dir, backend="onnx").predict(texts)
    for a, b in zip(torch_preds, onnx_preds, strict=True):
        assert (a.label, a.outcome) == (b.label, b.outcome)
        assert abs(a.confidence - b.confidence) < 1e-3
