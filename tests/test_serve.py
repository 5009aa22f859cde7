"""The served API, end to end: a real trained model behind a real uvicorn server on loopback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import live_server

from narrowtune.kinds.base import Prediction
from narrowtune.serve import create_app
from narrowtune.store import SCOPES, Store

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
    return store.create_key("tests", scopes=SCOPES)


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
        key = store.create_key("inproc", scopes=SCOPES)
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


# -- several models, structured outputs, NUL characters, batching ----------------------------


class OrderExtractor:
    """A real rule-based model of the extract kind: finds an order number and an amount.

    It stands for the extract kind's Prediction shape (a JSON `output`, `missing`, `problems`),
    which /v1/predict must pass through and store unchanged."""

    kind = "extract"

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        predictions = []
        for text in texts:
            order = re.search(r"order (\d+)", text)
            amount = re.search(r"\$(\d+)", text)
            output = {
                "order_id": order.group(1) if order else None,
                "amount": int(amount.group(1)) if amount else None,
            }
            missing = [name for name, value in output.items() if value is None]
            predictions.append(
                Prediction(
                    label="refund" if "refund" in text else "",
                    confidence=1.0 - 0.4 * len(missing),
                    abstain=bool(missing),
                    scores={name: 0.0 if value is None else 1.0 for name, value in output.items()},
                    output=output,
                    missing=missing,
                    problems=[f"{name}: not found in the text" for name in missing],
                )
            )
        return predictions

    def save(self, directory: Path) -> None:
        (directory / "extract.json").write_text(json.dumps({"rules": ["order", "amount"]}))


@pytest.fixture(scope="module")
def two_models(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A classifier and an extractor in one live server: (url, headers, store)."""
    with Store(tmp_path_factory.mktemp("db") / "two.db") as two_store:
        headers = {"Authorization": f"Bearer {two_store.create_key('two', scopes=SCOPES)}"}
        app = create_app(run_dir, store=two_store, models={"orders": OrderExtractor()})
        with live_server(app) as url:
            yield url, headers, two_store


def test_extract_predictions_pass_through_and_are_stored_whole(two_models: tuple) -> None:
    url, headers, two_store = two_models
    texts = ["refund order 123 for $40", "refund order 9 please"]
    response = httpx.post(
        f"{url}/v1/predict", json={"model": "orders", "texts": texts}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["task"], body["kind"], body["model"]) == ("orders", "extract", "orders")
    expected = [p.to_dict() for p in OrderExtractor().predict(texts)]
    assert body["predictions"] == expected
    assert body["predictions"][1]["missing"] == ["amount"]
    rows = sorted(two_store.predictions(request_id=body["request_id"]), key=lambda r: r["id"])
    assert [r["output"] for r in rows] == expected
    assert {(r["task"], r["kind"]) for r in rows} == {("orders", "extract")}
    (queued,) = two_store.open_reviews(model="orders")
    assert queued["output"] == {"order_id": "9", "amount": None}
    assert queued["missing"] == ["amount"] and queued["text"] == texts[1]


def test_each_model_answers_by_name_and_is_counted_apart(two_models: tuple, run_dir: Path) -> None:
    url, headers, _ = two_models
    classify = httpx.post(
        f"{url}/v1/predict", json={"model": "tiny", "text": "refund order 5"}, headers=headers
    ).json()
    assert (classify["task"], classify["kind"]) == ("tiny", "classify")
    assert set(classify["predictions"][0]) == {"label", "confidence", "abstain", "scores"}
    unknown = httpx.post(f"{url}/v1/predict", json={"model": "x", "text": "y"}, headers=headers)
    assert unknown.status_code == 404 and "tiny, orders" in unknown.text
    listed = httpx.get(f"{url}/v1/models", headers=headers).json()
    assert listed["object"] == "list"
    assert [(m["id"], m["kind"], m["run_id"]) for m in listed["data"]] == [
        ("tiny", "classify", run_dir.name),
        ("orders", "extract", "orders"),
    ]
    health = httpx.get(f"{url}/healthz").json()
    assert health["model"] == run_dir.name and [m["name"] for m in health["models"]] == [
        "tiny",
        "orders",
    ]
    metrics = httpx.get(f"{url}/metrics").text
    assert f'narrowtune_predictions_total{{model="{run_dir.name}",task="tiny"}}' in metrics
    assert 'narrowtune_predictions_total{model="orders",task="orders"}' in metrics
    by_model = httpx.get(f"{url}/v1/review", params={"model": "tiny"}, headers=headers).json()
    assert all(item["task"] == "tiny" for item in by_model)


def test_review_api_filters_and_pages_in_the_store(client: httpx.Client) -> None:
    client.post("/v1/predict", json={"texts": ["xyzzy plugh", "zork", "frobozz", "qux quux"]})
    everything = client.get("/v1/review", params={"limit": 1000}).json()
    bound = sorted(i["confidence"] for i in everything)[len(everything) // 2]
    low = client.get("/v1/review", params={"limit": 1000, "max_confidence": bound}).json()
    assert low and [i for i in everything if i["confidence"] <= bound] == low
    first = client.get("/v1/review", params={"limit": 2}).json()
    rest = client.get("/v1/review", params={"limit": 1000, "after": first[-1]["id"]}).json()
    assert first + rest == everything
    bad = client.get("/v1/review", params={"max_confidence": 1.5})
    assert bad.status_code == 422


def test_nul_characters_are_422_naming_the_field(client: httpx.Client, store: Store) -> None:
    before = len(store.predictions(limit=10_000))
    one = client.post("/v1/predict", json={"text": "refund\x00 order"})
    assert one.status_code == 422 and one.json()["detail"][0]["loc"] == ["body", "text"]
    assert "NUL" in one.json()["detail"][0]["msg"]
    batch = client.post("/v1/predict", json={"texts": ["fine", "bad\x00"]})
    assert batch.json()["detail"][0]["loc"] == ["body", "texts", 1]
    label = client.get("/v1/review", params={"label": "re\x00fund"})
    assert label.status_code == 422 and label.json()["detail"][0]["loc"] == ["query", "label"]
    item = client.get("/v1/review").json()[0]
    reviewer = client.post(
        f"/v1/review/{item['id']}", json={"reviewer": "a\x00", "action": "accept"}
    )
    assert reviewer.status_code == 422 and reviewer.json()["detail"][0]["loc"][-1] == "reviewer"
    assert len(store.predictions(limit=10_000)) == before


def test_sqlite_waits_for_locks_instead_of_failing(store: Store) -> None:
    """Several workers write one SQLite file: each connection waits up to 30 s for the lock."""
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_micro_batching_groups_concurrent_requests(run_dir: Path, tmp_path: Path) -> None:
    from narrowtune import api

    texts = [f"{t} {i}" for i, t in enumerate(["refund my order", "where is parcel", "log in"] * 4)]
    expected = {t: p for t, p in zip(texts, api.load(run_dir).predict(texts))}
    with Store(tmp_path / "batch.db") as batch_store:
        headers = {"Authorization": f"Bearer {batch_store.create_key('batch', scopes=SCOPES)}"}
        app = create_app(run_dir, store=batch_store, batch_wait_ms=200)
        with live_server(app) as url:
            start = threading.Barrier(len(texts))

            def call(text: str) -> httpx.Response:
                with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
                    start.wait()
                    return http.post("/v1/predict", json={"text": text})

            with ThreadPoolExecutor(max_workers=len(texts)) as pool:
                responses = list(pool.map(call, texts))
            metrics = httpx.get(f"{url}/metrics").text
        for text, response in zip(texts, responses):
            assert response.status_code == 200, response.text
            (answer,) = response.json()["predictions"]
            assert answer["label"] == expected[text].label
            assert answer["confidence"] == pytest.approx(expected[text].confidence, abs=1e-4)
            assert len(batch_store.predictions(request_id=response.json()["request_id"])) == 1
    values = {
        line.split(" ")[0]: int(line.split(" ")[1])
        for line in metrics.splitlines()
        if line.startswith(("narrowtune_model_batches_total", "narrowtune_batched_requests"))
    }
    assert values["narrowtune_batched_requests_total"] == len(texts)
    assert values["narrowtune_model_batches_total"] < len(texts)  # some calls went together


def test_serve_command_refuses_bad_targets_clearly(run_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from narrowtune.cli import app as cli

    runner = CliRunner()
    db = str(tmp_path / "cli.db")
    task_file = run_dir.parent.parent.parent / "task.yaml"
    for args, message in (
        ([str(tmp_path / "nowhere")], "neither a run directory"),
        ([str(task_file), str(run_dir), "--run", run_dir.name], "--run pins one task"),
        ([str(task_file), str(run_dir)], "two models are named 'tiny'"),
        ([str(task_file), "--backend", "tpu"], "unknown backend 'tpu'"),
        ([str(task_file), "--workers", "0"], "--workers"),
    ):
        result = runner.invoke(cli, ["serve", *args, "--db", db])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    help_text = runner.invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"}).output
    for option in ("--workers", "--reload-interval", "--batch-wait-ms", "/v1/chat/completions"):
        assert option in help_text
