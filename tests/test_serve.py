"""The served API, end to end: a real trained model behind a real uvicorn server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import live_server

from narrowtune.serve import create_app
from narrowtune.store import Store

MAX_BATCH = 8
MAX_CHARS = 200


@pytest.fixture(scope="module")
def run_dir(tiny_run: Path) -> Path:
    return tiny_run


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("db") / "serve.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def key(store: Store) -> str:
    return store.create_key("tests")


@pytest.fixture(scope="module")
def server(run_dir: Path, store: Store) -> Iterator[str]:
    """A real uvicorn server in a thread, on a loopback socket the OS picked; stopped after."""
    app = create_app(run_dir, store=store, max_batch=MAX_BATCH, max_text_chars=MAX_CHARS)
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as http:
        yield http


def test_healthz_needs_no_key(server: str, run_dir: Path) -> None:
    response = httpx.get(f"{server}/healthz")
    assert response.status_code == 200
    assert response.json()["model"] == run_dir.name


def test_predict_single_and_batch(client: httpx.Client, store: Store, run_dir: Path) -> None:
    one = client.post("/v1/predict", json={"text": "please refund the payment 123"})
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["model"] == run_dir.name and one.headers["x-request-id"] == body["request_id"]
    (prediction,) = body["predictions"]
    assert prediction["label"] == "refund"
    assert set(prediction) == {"label", "confidence", "abstain", "scores"}

    texts = ["where is my parcel 456", "I cannot log in to account 9", "xyzzy plugh", "hm"]
    batch = client.post("/v1/predict", json={"texts": texts})
    assert batch.status_code == 200, batch.text
    assert [p["label"] for p in batch.json()["predictions"]][:2] == ["shipping", "login"]


def test_every_prediction_is_stored_and_abstentions_are_queued(
    client: httpx.Client, store: Store
) -> None:
    texts = ["refund request for invoice 77", "xyzzy plugh", "the weather is nice", "qq"]
    body = client.post("/v1/predict", json={"texts": texts}).json()
    # Read straight after the response: rows are committed before the server answers.
    rows = store.predictions(request_id=body["request_id"])
    assert sorted(r["text"] for r in rows) == sorted(texts)
    assert all(r["model"] == body["model"] and r["latency_ms"] > 0 for r in rows)
    abstained = [t for t, p in zip(texts, body["predictions"]) if p["abstain"]]
    assert abstained, "the tiny model should be unsure of nonsense text"
    queued = {
        q["text"]
        for q in store.open_reviews(limit=1000)
        if q["prediction_id"] in {r["id"] for r in rows}
    }
    assert queued == set(abstained)


def test_concurrent_requests_all_answered_and_stored(client: httpx.Client, store: Store) -> None:
    """Requests overlapping in the thread pool all get answers and all their rows (SQLite WAL)."""

    def call(i: int) -> httpx.Response:
        return client.post("/v1/predict", json={"texts": [f"refund order {i}", f"zork {i}"]})

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(call, range(12)))
    assert [r.status_code for r in responses] == [200] * 12
    for r in responses:
        assert len(store.predictions(request_id=r.json()["request_id"])) == 2


def test_missing_or_wrong_key_is_401(server: str, key: str) -> None:
    url = f"{server}/v1/predict"
    for headers in ({}, {"Authorization": "Bearer nt_wrong"}, {"Authorization": key}):
        response = httpx.post(url, json={"text": "refund"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert key not in response.text and "nt_wrong" not in response.text
    assert httpx.get(f"{server}/v1/review").status_code == 401


def test_bad_body_is_422_naming_the_field(client: httpx.Client) -> None:
    wrong_type = client.post("/v1/predict", json={"texts": "not a list"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["loc"] == ["body", "texts"]
    unknown = client.post("/v1/predict", json={"txt": "typo"})
    assert unknown.status_code == 422 and "txt" in unknown.text
    neither = client.post("/v1/predict", json={})
    assert neither.status_code == 422 and "'text'" in neither.text
    not_json = client.post(
        "/v1/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422 and "json" in not_json.text.lower()
    empty = client.post("/v1/predict", json={"texts": ["ok", ""]})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "texts", 1]


def test_oversized_batch_or_text_is_413(client: httpx.Client, store: Store) -> None:
    before = len(store.predictions(limit=10_000))
    batch = client.post("/v1/predict", json={"texts": ["refund"] * (MAX_BATCH + 1)})
    assert batch.status_code == 413 and f"limit of {MAX_BATCH}" in batch.text
    text = client.post("/v1/predict", json={"texts": ["ok", "x" * (MAX_CHARS + 1)]})
    assert text.status_code == 413 and "text 1 has" in text.text
    body = client.post("/v1/predict", json={"text": "x" * 5_000_000})
    assert body.status_code == 413 and "byte limit" in body.text
    assert len(store.predictions(limit=10_000)) == before


def test_metrics_count_requests_latency_and_abstentions(client: httpx.Client, server: str) -> None:
    client.post("/v1/predict", json={"text": "xyzzy"})
    text = httpx.get(f"{server}/metrics").text  # no key needed
    assert "# TYPE narrowtune_requests_total counter" in text
    assert 'narrowtune_requests_total{method="POST",path="/v1/predict",status="200"}' in text
    assert 'narrowtune_request_duration_seconds_bucket{path="/v1/predict",le="+Inf"}' in text
    assert "narrowtune_abstentions_total{" in text
    predicted = [line for line in text.splitlines() if line.startswith("narrowtune_predictions")]
    assert int(predicted[0].rsplit(" ", 1)[1]) >= 1


def test_review_round_trip_through_the_api(client: httpx.Client, store: Store) -> None:
    client.post("/v1/predict", json={"texts": ["xyzzy plugh", "zork", "frobozz"]})
    queue = client.get("/v1/review", params={"limit": 1000}).json()
    assert len(queue) >= 2
    first, second = queue[0], queue[1]
    assert {"id", "text", "label", "confidence", "status"} <= set(first)

    corrected = client.post(
        f"/v1/review/{first['id']}",
        json={"reviewer": "ana", "action": "correct", "label": "login"},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "corrected"
    accepted = client.post(
        f"/v1/review/{second['id']}", json={"reviewer": "bo", "action": "accept"}
    )
    assert accepted.status_code == 200

    again = client.post(f"/v1/review/{first['id']}", json={"reviewer": "bo", "action": "accept"})
    assert again.status_code == 409 and "already corrected" in again.text
    missing = client.post("/v1/review/999999", json={"reviewer": "bo", "action": "accept"})
    assert missing.status_code == 404
    no_label = client.post(
        f"/v1/review/{queue[-1]['id']}", json={"reviewer": "bo", "action": "correct"}
    )
    assert no_label.status_code == 422 and "label" in no_label.text
    bad_label = client.post(
        f"/v1/review/{queue[-1]['id']}",
        json={"reviewer": "bo", "action": "correct", "label": "pizza"},
    )
    assert bad_label.status_code == 422 and "'pizza' is not one of" in bad_label.text

    remaining = {q["id"] for q in client.get("/v1/review", params={"limit": 1000}).json()}
    assert first["id"] not in remaining and second["id"] not in remaining
    feedback = {f["text"]: f["label"] for f in store.export_feedback()}
    assert feedback[first["text"]] == "login"
    assert feedback[second["text"]] == second["label"]


def test_app_also_works_in_process_with_a_task_file(run_dir: Path, tmp_path: Path) -> None:
    """TestClient path (no socket), serving a task file's newest run."""
    with Store(tmp_path / "inproc.db") as store:
        key = store.create_key("inproc")
        app = create_app(run_dir.parent.parent.parent / "task.yaml", store=store)
        with TestClient(app) as http:
            assert http.get("/healthz").json()["model"] == run_dir.name
            response = http.post(
                "/v1/predict", json={"text": "refund"}, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200
        assert len(store.predictions()) == 1


def test_onnx_int8_backend_serves_the_same_labels(run_dir: Path, store: Store, key: str) -> None:
    from fastapi.testclient import TestClient

    texts = ["where is my parcel 123", "refund my order 77", "cannot log in to account 5"]
    labels = {}
    for backend in ("torch", "onnx-int8"):
        app = create_app(run_dir, store=store, backend=backend)
        with TestClient(app) as http:
            response = http.post(
                "/v1/predict", json={"texts": texts}, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200, response.text
            labels[backend] = [p["label"] for p in response.json()["predictions"]]
    assert labels["torch"] == labels["onnx-int8"]
