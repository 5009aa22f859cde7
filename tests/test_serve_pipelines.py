"""POST /v1/pipelines/<name> on a real server: answers, escalations into the review queue,
the reviewer's decision on the trace, and what an attacker would send."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from live_server import live_server

from narrowtune.serve import create_app
from narrowtune.store import SCOPES, Store

MAX_CHARS = 300


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory: pytest.TempPathFactory, tiny_run: Path) -> Path:
    folder = tmp_path_factory.mktemp("pipeline")
    spec = {
        "name": "triage",
        "inputs": {"ticket": "string", "customer": "object"},
        "steps": [
            {"id": "intent", "type": "model", "run": str(tiny_run), "text": "{ticket}"},
            {
                "id": "vip",
                "type": "escalate",
                "when": {"any": [{"customer.tier": "vip"}, {"intent.label": "login"}]},
                "reason": "a person handles {intent.label} for {customer.tier} customers",
            },
            {
                "id": "route",
                "type": "route",
                "rules": [{"route": "queue-{intent.label}"}],
            },
        ],
        "outputs": {"intent": "{intent.label}", "confidence": "{intent.confidence}"},
        "escalation": {"text": "{ticket}"},
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("db") / "serve.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def server(tiny_run: Path, store: Store, pipeline_file: Path) -> Iterator[str]:
    app = create_app(tiny_run, store=store, max_text_chars=MAX_CHARS, pipelines=[pipeline_file])
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str, store: Store) -> Iterator[httpx.Client]:
    key = store.create_key("pipeline-tests", scopes=SCOPES)
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        yield c


def test_a_case_is_answered_and_traced(client: httpx.Client, store: Store) -> None:
    response = client.post(
        "/v1/pipelines/triage",
        json={"inputs": {"ticket": "where is my parcel 123", "customer": {"tier": "basic"}}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "answered" and body["review_item_id"] is None
    assert body["route"] == f"queue-{body['outputs']['intent']}"
    assert [s["step"] for s in body["steps"]] == ["intent", "vip", "route"]
    trace = store.trace(body["trace_id"])
    assert trace is not None and trace["steps"][0]["output"]["label"] == body["outputs"]["intent"]


def test_an_escalation_opens_a_review_item_and_the_decision_is_on_the_trace(
    client: httpx.Client, store: Store
) -> None:
    response = client.post(
        "/v1/pipelines/triage",
        json={"inputs": {"ticket": "please refund order 555", "customer": {"tier": "vip"}}},
    )
    body = response.json()
    assert body["status"] == "escalated" and body["route"] == "human"
    assert "for vip customers" in body["reason"]
    item_id = body["review_item_id"]
    item = store.review_item(item_id)
    assert item is not None and item["text"] == "please refund order 555"
    assert item["kind"] == "pipeline" and item["task"] == "triage"
    decided = client.post(
        f"/v1/review/{item_id}",
        json={"action": "correct", "label": "queue-refund", "reviewer": "li"},
    )
    assert decided.status_code == 200, decided.text
    review = store.trace(body["trace_id"])["review"]  # type: ignore[index]
    assert review["status"] == "corrected" and review["decisions"][0]["label"] == "queue-refund"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"inputs": {"ticket": "x"}}, 422, "missing input 'customer'"),
        ({"inputs": {"ticket": 5, "customer": {}}}, 422, "should be a string"),
        ({"inputs": {"ticket": "x", "customer": {}, "admin": True}}, 422, "unknown input"),
        ({"inputs": {"ticket": "a\x00b", "customer": {}}}, 422, "NUL"),
        ({"inputs": {"ticket": "x" * (MAX_CHARS + 1), "customer": {}}}, 413, "over the limit"),
        ({"inputs": {"ticket": "x", "customer": {"n": [1] * 60_000}}}, 413, "byte limit"),
        (
            {
                "inputs": {
                    "ticket": "x",
                    "customer": {
                        "n": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
                    },
                }
            },
            422,
            "deeper",
        ),
        ({"inputs": {"ticket": "x", "customer": {}}, "run_as": "root"}, 422, "run_as"),
    ],
)
def test_bad_cases_are_refused_by_name(
    client: httpx.Client, body: dict, status: int, says: str
) -> None:
    response = client.post("/v1/pipelines/triage", json=body)
    assert response.status_code == status, response.text
    assert says in response.text


def test_nan_and_lone_surrogates_are_422(client: httpx.Client) -> None:
    for raw in (
        b'{"inputs": {"ticket": "x", "customer": {"score": NaN}}}',
        b'{"inputs": {"ticket": "\\ud800", "customer": {}}}',
    ):
        response = client.post(
            "/v1/pipelines/triage", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text


def test_unknown_pipeline_and_missing_key(client: httpx.Client, server: str) -> None:
    response = client.post("/v1/pipelines/nope", json={"inputs": {}})
    assert response.status_code == 404 and "triage" in response.text
    anonymous = httpx.post(
        f"{server}/v1/pipelines/triage",
        json={"inputs": {"ticket": "x", "customer": {}}},
        timeout=10,
    )
    assert anonymous.status_code == 401
    forged = httpx.post(
        f"{server}/v1/pipelines/triage",
        json={"inputs": {"ticket": "x", "customer": {}}},
        headers={"Authorization": "Bearer nt_forged"},
        timeout=10,
    )
    assert forged.status_code == 401


def test_memory_does_not_grow_with_refused_bodies(client: httpx.Client) -> None:
    body = {"inputs": {"ticket": "y" * (MAX_CHARS + 50), "customer": {}}}
    for _ in range(20):  # warm up
        client.post("/v1/pipelines/triage", json=body)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(200):
        assert client.post("/v1/pipelines/triage", json=body).status_code == 413
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 2_000_000, grown
