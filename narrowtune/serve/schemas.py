"""The request and response bodies of the HTTP API (pydantic), which are also its OpenAPI schema.

Requests refuse NUL characters and lone surrogates at the door: the store cannot keep them
(PostgreSQL refuses NUL in text; neither database can encode half a surrogate pair as UTF-8),
so a 422 naming the field beats a 500 from the database later, or a reply generated and then
lost. Lists are capped here too, so that a huge list fails on its length, not item by item.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# The most tokens one chat completion may ask for (the generate kind's own ceiling).
MAX_COMPLETION_TOKENS = 4096


# Hard ceilings on list lengths in any request, whatever the server's own (lower) limits: a
# list over them is refused on its length before its items are looked at.
MAX_LIST = 10_000
MAX_MESSAGES = 1_000
MAX_TOOLS = 128  # OpenAI's own limit on a request's tools


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(
            "contains a NUL character (\\x00), which the store cannot keep (PostgreSQL refuses "
            "it in text); remove it"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"contains a lone surrogate (U+{ord(value[error.start]):04X} at character "
            f"{error.start}), which is not valid Unicode text; send UTF-8 text"
        ) from None
    return value


def _clean_json(value: Any) -> Any:
    """Free-form JSON (a request's tools, a message's tool calls): every string checked as
    `Text` (no NUL, no lone surrogate, keys included) and no NaN or infinity; iterative, so a deep
    value cannot overflow the stack (the body's depth is bounded before validation anyway)."""
    import math

    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _no_nul(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("contains NaN or infinity, which JSON does not allow")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
NonEmptyText = Annotated[str, Field(min_length=1), AfterValidator(_no_nul)]
LabelText = Annotated[str, Field(max_length=1000), AfterValidator(_no_nul)]
ReviewerName = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]
ModelName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
# Store ids are signed 64-bit integers; a bigger path id overflowed the driver (500), now 422.
ItemId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class PredictRequest(BaseModel):
    """One text or a batch, for one model; unknown fields are refused so a typo never passes
    silently."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName | None = Field(
        default=None, description="The served model's name (its task); default: the first one."
    )
    text: NonEmptyText | None = None
    texts: list[NonEmptyText] | None = Field(default=None, min_length=1, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _one_of(self) -> PredictRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' (a string) or 'texts' (a list)")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class PredictionOut(BaseModel):
    """A classify prediction has the first four fields only; extract and generate predictions
    add their structured `output` and its checks; a moderation task's add `outcome` and
    `reasons`."""

    label: str | list[str]
    confidence: float
    abstain: bool
    scores: dict[str, float]
    output: Any = None
    valid: bool | None = None
    missing: list[str] | None = None
    problems: list[str] | None = None
    outcome: Literal["allow", "block", "review"] | None = Field(
        default=None,
        description="Moderation tasks: allow, block, or review (a moderator decides; the item "
        "is in the review queue and `abstain` is true).",
    )
    reasons: list[str] | None = Field(
        default=None, description="Moderation tasks: the thresholds and rules that decided."
    )


class PredictResponse(BaseModel):
    request_id: str
    model: str = Field(description="The run id that answered.")
    task: str = Field(description="The served model's name (its task).")
    kind: str
    predictions: list[PredictionOut]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: ReviewerName | None = Field(
        default=None,
        description="Ignored: a decision is recorded under the API key's name.",
    )
    action: Literal["accept", "correct", "escalate"]
    label: LabelText | Annotated[list[LabelText], Field(max_length=MAX_LIST)] | None = None

    @model_validator(mode="after")
    def _label_when_correcting(self) -> DecisionRequest:
        if self.action == "correct" and not self.label:
            raise ValueError("'correct' needs 'label': the right label for the item")
        return self

    def labels(self) -> list[str]:
        """The corrected label(s) as a list (empty when none was given)."""
        return [self.label] if isinstance(self.label, str) else list(self.label or [])


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelName | None = Field(default=None, description="Only this model (default: all).")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text"]
    text: Text


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_call_id...: accepted, not used

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text | Annotated[list[ContentPart], Field(max_length=MAX_MESSAGES)] | None = None

    @model_validator(mode="after")
    def _clean_extra(self) -> ChatMessage:
        _clean_json(self.model_extra or {})  # tool_calls, name, tool_call_id (tool models)
        return self

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat-completions request. Fields narrowtune does not implement (top_p, seed,
    user, ...) are accepted and ignored; `n` > 1 and logprobs are refused (400), and tools for
    models that do not call tools."""

    model_config = ConfigDict(extra="allow")

    model: ModelName | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stop: Text | Annotated[list[Text], Field(max_length=16)] | None = None
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    n: int | None = None
    on_invalid: Literal["withhold", "return"] | None = Field(
        default=None,
        description="A reply that breaks its contract after retries: 'withhold' (content null, "
        "finish_reason 'content_filter', the reasons in narrowtune.problems) or 'return' (the "
        "text, with narrowtune.valid false). Default: the server's --on-invalid (withhold).",
    )
    tools: Annotated[list[dict[str, Any]], AfterValidator(_clean_json)] | None = Field(
        default=None,
        max_length=MAX_TOOLS,
        description="OpenAI function tools (tool_call models): a subset of the tools the model "
        "was trained on; calls are decoded inside their schemas.",
    )
    tool_choice: (
        Literal["auto", "none", "required"]
        | Annotated[dict[str, Any], AfterValidator(_clean_json)]
        | None
    ) = Field(
        default=None,
        description="'auto', 'none', 'required' or {'type': 'function', 'function': {'name'}} "
        "(tool_call models).",
    )
    response_format: dict[str, Any] | None = Field(
        default=None,
        description="{'type': 'json_schema', 'json_schema': {'name', 'schema'}} or "
        "{'type': 'json_object'}: the reply is generated inside the schema's grammar "
        "(generate models).",
    )

    def stops(self) -> list[str] | None:
        if self.stop is None:
            return None
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop)
        return [s for s in stops if s] or None


def response_schema(value: Any) -> dict[str, Any] | None:
    """The JSON Schema an OpenAI `response_format` asks for (None for plain text); ValueError
    naming the problem for a malformed one."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in (
        "text",
        "json_object",
        "json_schema",
    ):
        raise ValueError(
            "response_format must be {'type': 'text'}, {'type': 'json_object'} or "
            "{'type': 'json_schema', 'json_schema': {'name': ..., 'schema': {...}}}"
        )
    if value["type"] == "text":
        return None
    if value["type"] == "json_object":
        return {"type": "object"}
    spec = value.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        raise ValueError("response_format.json_schema.schema must be a JSON Schema object")
    return schema


def _plain_json(value: Any, where: str = "inputs") -> None:
    """ValueError naming the place of a NUL, a lone surrogate or a non-finite number."""
    import math

    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            try:
                _no_nul(item)
            except ValueError as error:
                raise ValueError(f"{at} {error}") from None
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{at} is not a finite number")
        elif isinstance(item, dict):
            for key, inner in item.items():
                try:
                    _no_nul(str(key))
                except ValueError as error:
                    raise ValueError(f"a key of {at} {error}") from None
                stack.append((inner, f"{at}.{key}"))
        elif isinstance(item, list):
            stack.extend((inner, f"{at}[{i}]") for i, inner in enumerate(item))


class PipelineRequest(BaseModel):
    """One case for a served pipeline: its inputs by name (see the pipeline's `inputs:`)."""

    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(max_length=100)

    @model_validator(mode="after")
    def _plain(self) -> PipelineRequest:
        _plain_json(self.inputs)
        return self


class PipelineStepOut(BaseModel):
    step: str
    type: str
    status: str
    latency_ms: float
    confidence: float | None = None
    error: str | None = None


class PipelineResponse(BaseModel):
    """The case's outcome: answered or escalated (then a review item was opened), its route,
    the pipeline's outputs, and the steps' statuses (the whole trace is in the store)."""

    trace_id: str
    pipeline: str
    status: Literal["answered", "escalated"]
    route: str | None
    reason: str
    outputs: dict[str, Any]
    steps: list[PipelineStepOut]
    review_item_id: int | None = None
    latency_ms: float
