"""schemathesis against the served app's OpenAPI spec: generated requests never get a 5xx.

In-process (ASGI), with a valid key, over a real trained tiny model and a real SQLite store.
Examples per operation are bounded so the whole module stays well under a minute on 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from narrowtune.serve import create_app
from narrowtune.store import SCOPES, Store

MAX_EXAMPLES = 100


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("db") / "fuzz.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def key(store: Store) -> str:
    return store.create_key("fuzz", scopes=SCOPES)


@pytest.fixture(scope="module")
def app(tiny_run: Path, store: Store, key: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    pipeline = tmp_path_factory.mktemp("pipeline") / "p.yaml"
    pipeline.write_text(
        yaml.safe_dump(
            {
                "name": "p",
                "inputs": {"text": "string"},
                "steps": [
                    {"id": "m", "type": "model", "run": str(tiny_run), "text": "{text}"},
                    {"id": "r", "type": "route", "rules": [{"route": "{m.label}"}]},
                ],
            }
        )
    )
    application = create_app(
        tiny_run, store=store, max_batch=8, max_text_chars=200, pipelines=[pipeline]
    )
    # A few abstained predictions, so the review routes have real items to decide on.
    with TestClient(application) as http:
        http.post(
            "/v1/predict",
            json={"texts": ["xyzzy plugh", "hm", "qwerty"]},
            headers={"Authorization": f"Bearer {key}"},
        )
    return application


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert set(OPERATIONS) == labels


OPERATIONS = [
    "GET /healthz",
    "GET /metrics",
    "GET /v1/models",
    "GET /v1/models/{name}",
    "POST /v1/predict",
    "POST /v1/chat/completions",
    "POST /v1/pipelines/{name}",
    "POST /v1/admin/reload",
    "GET /v1/review",
    "POST /v1/review/{item_id}",
]


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_error(api_schema: Any, key: str, label: str) -> None:
    (operation,) = [
        result.ok() for result in api_schema.get_all_operations() if result.ok().label == label
    ]
    headers = {"Authorization": f"Bearer {key}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    fuzz()


@pytest.mark.parametrize("item_id", [2**63, 2**64, -(2**70), 0])
def test_out_of_range_review_ids_are_422_not_500(app: Any, key: str, item_id: int) -> None:
    """Regression: ids beyond SQLite's 64-bit integers overflowed the driver and answered 500."""
    with TestClient(app, raise_server_exceptions=False) as http:
        api_answer = http.post(
            f"/v1/review/{item_id}",
            json={"reviewer": "fuzz", "action": "accept"},
            headers={"Authorization": f"Bearer {key}"},
        )
        signed = http.post("/login", data={"key": key}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        page_answer = http.post(
            f"/review/{item_id}", data={"action": "accept"}, headers={"Origin": "http://testserver"}
        )
    assert api_answer.status_code == 422, api_answer.text
    assert page_answer.status_code == 422, page_answer.text


def test_review_decision_on_a_missing_item_is_404(app: Any, key: str) -> None:
    with TestClient(app) as http:
        response = http.post(
            f"/v1/review/{2**63 - 1}",
            json={"reviewer": "fuzz", "action": "accept"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 404, response.text
