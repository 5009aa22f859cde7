"""OpenAI chat completions, minus the HTTP: a request checked and made into one call of a
generative model (`ChatCall`), and its Generation made into what is stored (`Reply`) and what is
sent back, whole or as Server-Sent Events (`Completion`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from narrowtune.kinds.base import Generation, GenerativeModel, SchemaConstrainedModel
from narrowtune.serve.models import ServedModel
from narrowtune.serve.records import scrub_nul
from narrowtune.serve.schemas import ChatRequest, response_schema

# OpenAI request fields narrowtune cannot honour: refused (400) rather than silently ignored.
UNSUPPORTED = ("functions", "function_call", "logprobs", "top_logprobs")
TOOL_FIELDS = ("tools", "tool_choice")
# OpenAI's own limit on stop sequences.
MAX_STOPS = 4


@dataclass(frozen=True)
class ChatCall:
    """One `chat()` call of a served generative model, with everything it needs."""

    served: ServedModel
    model: GenerativeModel
    messages: list[dict[str, str]]
    max_new_tokens: int | None
    temperature: float
    stop: list[str] | None
    # The JSON Schema of `response_format`; set only when `model` can keep to one.
    schema: dict[str, Any] | None = None
    # What an invalid reply becomes: "withhold" (no content) or "return" (flagged).
    on_invalid: str = "withhold"
    # A tool_call model's request: the OpenAI tools (a subset of the model's) and tool_choice.
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None

    def run(self) -> Generation:
        """Generate the reply (blocking: call it in a worker thread)."""
        with self.served.lock:  # the schema view shares the model's weights and caches
            model = self.model
            if self.schema is not None:
                assert isinstance(model, SchemaConstrainedModel)  # checked by chat_call
                model = model.with_schema(self.schema)
            if calls_tools(model):
                return model.chat(  # type: ignore[call-arg]
                    self.messages,
                    max_new_tokens=self.max_new_tokens,
                    tools=self.tools,
                    tool_choice=self.tool_choice,
                )
            return model.chat(
                self.messages,
                max_new_tokens=self.max_new_tokens,
                temperature=self.temperature,
                stop=self.stop,
            )


def calls_tools(model: Any) -> bool:
    """Whether a model answers with tool calls (kind tool_call)."""
    return bool(getattr(model, "calls_tools", False))


def _message(m: Any) -> dict[str, Any]:
    """A request message as plain data: role and text, plus a tool model's fields."""
    out: dict[str, Any] = {"role": m.role, "content": m.text()}
    extra = m.model_extra or {}
    for key in ("tool_calls", "name", "tool_call_id"):
        if extra.get(key) is not None:
            out[key] = extra[key]
    return out


def chat_call(
    body: ChatRequest, served: ServedModel, *, max_text_chars: int, on_invalid: str = "withhold"
) -> ChatCall:
    """The call `body` asks `served` for; 400 for what the model or narrowtune cannot do, 413
    for a conversation over `max_text_chars` characters. `on_invalid` is the server's default
    for replies that break their contract (the request's own `on_invalid` wins)."""
    model = served.model
    if not isinstance(model, GenerativeModel):
        raise HTTPException(
            status_code=400,
            detail=f"model '{served.name}' is a {served.kind} model; /v1/chat/completions "
            "serves generative models (kind generate): use POST /v1/predict for it",
        )
    if body.n not in (None, 1):
        raise HTTPException(status_code=400, detail="only n=1 is supported")
    for unsupported in UNSUPPORTED:
        value = (body.model_extra or {}).get(unsupported)
        if value not in (None, False, [], "none"):
            raise HTTPException(
                status_code=400, detail=f"'{unsupported}' is not supported by narrowtune"
            )
    tool_model = calls_tools(model)
    if not tool_model:
        for field_name in TOOL_FIELDS:
            if getattr(body, field_name) not in (None, [], "none"):
                raise HTTPException(
                    status_code=400,
                    detail=f"'{field_name}' is for tool_call models; model '{served.name}' is a "
                    f"{served.kind} model",
                )
    try:
        schema = response_schema(body.response_format)
    except ValueError as error:
        raise HTTPException(status_code=400, detail=str(error)) from error
    if schema is not None and not isinstance(model, SchemaConstrainedModel):
        raise HTTPException(
            status_code=400, detail=f"model '{served.name}' does not support response_format"
        )
    if tool_model:
        messages: list[dict[str, Any]] = [_message(m) for m in body.messages]
    else:
        messages = [{"role": m.role, "content": m.text()} for m in body.messages]
    chars = (
        sum(len(json.dumps(m, ensure_ascii=False)) for m in messages)
        if tool_model
        else sum(len(m["content"]) for m in messages)
    )
    chars += len(json.dumps(body.tools, ensure_ascii=False)) if body.tools else 0
    if chars > max_text_chars:
        raise HTTPException(
            status_code=413,
            detail=f"messages hold {chars} characters, over the limit of {max_text_chars}",
        )
    stops = body.stops()
    if stops is not None and len(stops) > MAX_STOPS:
        raise HTTPException(status_code=400, detail="'stop' takes at most 4 sequences")
    if tool_model:
        try:  # tools, tool_choice and the conversation, checked before any generation
            model.chat_turn(messages, body.tools, body.tool_choice)  # type: ignore[attr-defined]
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
    return ChatCall(
        served=served,
        model=model,
        messages=messages,
        max_new_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature or 0.0,
        stop=stops,
        schema=schema,
        on_invalid=body.on_invalid or on_invalid,
        tools=body.tools,
        tool_choice=body.tool_choice,
    )


@dataclass(frozen=True)
class Reply:
    """A Generation made safe to store (NULs scrubbed), with OpenAI's token usage."""

    text: str
    valid: bool
    problems: list[str]
    finish_reason: str
    usage: dict[str, int]
    # A tool_call model's calls: {name, arguments, confidence, status, problems}
    tool_calls: list[dict[str, Any]] | None = None

    @property
    def executable(self) -> list[dict[str, Any]]:
        """The calls handed to the client to run: status `execute` only. Calls awaiting a
        person's confirmation, escalated below the threshold, or invalid are held back."""
        return [c for c in self.tool_calls or [] if c.get("status") == "execute"]

    @property
    def held(self) -> list[dict[str, Any]]:
        return [c for c in self.tool_calls or [] if c.get("status") != "execute"]

    @classmethod
    def of(cls, generation: Generation) -> Reply:
        prompt, completion = int(generation.prompt_tokens), int(generation.completion_tokens)
        return cls(
            text=scrub_nul(generation.text),
            valid=bool(generation.valid),
            problems=[scrub_nul(p) for p in generation.problems],
            finish_reason=generation.finish_reason,
            usage={
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            tool_calls=generation.tool_calls,
        )

    def record(self) -> dict[str, Any]:
        """The reply stored like a prediction (the conversation is its text): an invalid reply
        abstains, which puts it in the review queue, as do calls held for a person."""
        record = {
            "label": "+".join(c["name"] for c in self.tool_calls or []),
            "confidence": 1.0 if self.valid else 0.0,
            "abstain": not self.valid or bool(self.held),
            "scores": {},
            "output": self.text,
            "valid": self.valid,
            "missing": [],
            "problems": self.problems,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "endpoint": "chat.completions",
        }
        if self.tool_calls is not None:
            record["tool_calls"] = self.tool_calls
        return record


@dataclass(frozen=True)
class Completion:
    """One answered chat completion, in OpenAI's response shapes."""

    reply: Reply
    served: ServedModel
    request_id: str
    created: int
    # The reply broke its contract and is not handed over (it waits in the review queue).
    withheld: bool = False

    @classmethod
    def of(
        cls, reply: Reply, served: ServedModel, request_id: str, *, on_invalid: str = "withhold"
    ) -> Completion:
        return cls(
            reply=reply,
            served=served,
            request_id=request_id,
            created=int(time.time()),
            withheld=not reply.valid and on_invalid == "withhold",
        )

    @property
    def content(self) -> str | None:
        return None if self.withheld else self.reply.text

    @property
    def finish_reason(self) -> str:
        if self.withheld:
            return "content_filter"
        if self.reply.tool_calls is not None:
            return "tool_calls" if self.reply.executable else "stop"
        return self.reply.finish_reason

    def openai_tool_calls(self) -> list[dict[str, Any]] | None:
        """The executable calls in OpenAI's shape (arguments as JSON text)."""
        if self.withheld or not self.reply.executable:
            return None
        return [
            {
                "id": f"call_{self.request_id[:16]}_{i}",
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": json.dumps(call["arguments"], ensure_ascii=False),
                },
            }
            for i, call in enumerate(self.reply.executable)
        ]

    @property
    def refusal(self) -> str | None:
        if not self.withheld:
            return None
        return (
            "narrowtune withheld the reply: it broke the model's contract ("
            + "; ".join(self.reply.problems[:3])
            + "). It is in the review queue."
        )

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.request_id}"

    def extra(self) -> dict[str, Any]:
        """narrowtune's own fields: which request and run, the contract's verdict, and a tool
        model's calls with their statuses (those held for a person are only here)."""
        extra: dict[str, Any] = {
            "request_id": self.request_id,
            "run_id": self.served.run_id,
            "valid": self.reply.valid,
            "problems": self.reply.problems,
            "withheld": self.withheld,
        }
        if self.reply.tool_calls is not None:
            extra["tool_calls"] = self.reply.tool_calls  # every call, with confidence + status
            extra["held_calls"] = self.reply.held
        return extra

    def body(self) -> dict[str, Any]:
        """The `chat.completion` object."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.served.name,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": self.content,
                        "refusal": self.refusal,
                        **({"tool_calls": calls} if (calls := self.openai_tool_calls()) else {}),
                    },
                    "finish_reason": self.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": self.reply.usage,
            "system_fingerprint": self.served.run_id,
            "narrowtune": self.extra(),
        }

    def chunks(self, *, include_usage: bool) -> Iterator[str]:
        """OpenAI's `chat.completion.chunk` events, then `[DONE]`. The reply was generated
        whole first, so it arrives as one content chunk (then the finish chunk)."""
        yield self._event(self._choice({"role": "assistant", "content": ""}))
        if self.content:
            yield self._event(self._choice({"content": self.content}))
        for index, call in enumerate(self.openai_tool_calls() or []):
            yield self._event(self._choice({"tool_calls": [{"index": index, **call}]}))
        if self.refusal:
            yield self._event(self._choice({"refusal": self.refusal}))
        yield self._event(self._choice({}, self.finish_reason), narrowtune=self.extra())
        if include_usage:
            yield self._event([], usage=self.reply.usage)
        yield "data: [DONE]\n\n"

    def _event(self, choices: list[dict[str, Any]], **more: Any) -> str:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.served.name,
            "choices": choices,
            **more,
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    @staticmethod
    def _choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
