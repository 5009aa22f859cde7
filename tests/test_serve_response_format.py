"""`response_format` on /v1/chat/completions goes through the SchemaConstrainedModel protocol.

A model with `with_schema(schema)` answers through the view that returns; a model without it is
refused (400), whatever its `chat` accepts. The models are test_serve_chat's real tiny GPT-2;
the constrained one's schema view writes its reply into a JSON object, as a grammar would.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_generate_tiny import build_tiny_lm, reply_rows
from test_serve_chat import HELLO, TinyChatModel

from narrowtune.kinds.base import Generation, GenerativeModel, SchemaConstrainedModel
from narrowtune.serve import create_app
from narrowtune.store import Store

SCHEMA = {"type": "object", "properties": {"reply": {"type": "string"}}, "required": ["reply"]}


class JsonChatModel(TinyChatModel):
    """The tiny chat model with a JSON mode: its schema view answers {"reply": ..., "schema":
    the schema it was given}, so a test can see which schema reached the model."""

    schema: dict[str, Any] | None = None

    def with_schema(self, schema: dict[str, Any]) -> GenerativeModel:
        view = copy.copy(self)  # shares the weights, like GenerateModel.with_schema
        view.schema = schema
        return view

    def chat(self, messages: Sequence[dict[str, str]], **options: Any) -> Generation:
        generation = super().chat(messages, **options)
        if self.schema is None:
            return generation
        text = json.dumps({"reply": generation.text, "schema": self.schema})
        return replace(generation, text=text, finish_reason="stop")


class SignatureOnlyChatModel(TinyChatModel):
    """Takes `json_schema=` in `chat` (what the server used to look for) but has no
    `with_schema`: the protocol, not the signature, says what a model can do."""

    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Generation:
        return super().chat(
            messages, max_new_tokens=max_new_tokens, temperature=temperature, stop=stop
        )


@pytest.fixture(scope="module")
def json_model() -> JsonChatModel:
    return JsonChatModel()


@pytest.fixture(scope="module")
def served(json_model: JsonChatModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    models = {"json": json_model, "plain": TinyChatModel(), "signature": SignatureOnlyChatModel()}
    with Store(tmp_path_factory.mktemp("db") / "format.db") as store:
        key = store.create_key("format")
        app = create_app(store=store, models=models)
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as http:
            yield http, store


def _chat(http: TestClient, model: str, response_format: Any, **more: Any) -> Any:
    body = {"model": model, "messages": HELLO, "max_tokens": 4, **more}
    return http.post("/v1/chat/completions", json={**body, "response_format": response_format})


def test_which_models_can_keep_to_a_schema(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from narrowtune.kinds.generate.contract import Contract
    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel

    rows = reply_rows(2)
    folder = build_tiny_lm(tmp_path / "lm", [r["prompt"] + "\n" + r["completion"] for r in rows])
    config = GenerateConfig(base=str(folder), fine_tuned=False)
    lm = AutoModelForCausalLM.from_pretrained(folder)
    generate = GenerateModel(lm, AutoTokenizer.from_pretrained(folder), config, Contract({}))
    assert isinstance(generate, SchemaConstrainedModel)  # the generate kind's model
    assert isinstance(JsonChatModel(), SchemaConstrainedModel)
    for model in (TinyChatModel(), SignatureOnlyChatModel()):
        assert isinstance(model, GenerativeModel) and not isinstance(model, SchemaConstrainedModel)


def test_json_schema_is_answered_by_the_models_schema_view(
    served: Any, json_model: JsonChatModel
) -> None:
    http, store = served
    expected = TinyChatModel().chat(HELLO, max_new_tokens=4).text
    fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA}}
    response = _chat(http, "json", fmt)
    assert response.status_code == 200, response.text
    content = response.json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"reply": expected, "schema": SCHEMA}
    assert response.json()["choices"][0]["finish_reason"] == "stop"
    (row,) = store.predictions(request_id=response.headers["X-Request-ID"])
    assert row["output"]["output"] == content and not row["abstain"]
    obj = _chat(http, "json", {"type": "json_object"}).json()
    assert json.loads(obj["choices"][0]["message"]["content"])["schema"] == {"type": "object"}
    assert json_model.schema is None  # the served model itself is never changed
    plain = _chat(http, "json", None).json()["choices"][0]["message"]["content"]
    assert plain == expected


def test_a_model_without_with_schema_is_refused(served: Any) -> None:
    http, _ = served
    fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA}}
    for name in ("plain", "signature"):
        for response_format in (fmt, {"type": "json_object"}):
            response = _chat(http, name, response_format)
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["message"] == f"model '{name}' does not support response_format"
            assert error["type"] == "invalid_request_error"
    text = _chat(http, "plain", {"type": "text"})  # plain text needs no schema support
    assert text.status_code == 200, text.text
