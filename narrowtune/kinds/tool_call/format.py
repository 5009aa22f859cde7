"""How an action is written in the model's turn, and how a conversation with tool results is
laid out in narrowtune's chat template.

An action is one JSON object, `{"tool_calls": [{"name": ..., "arguments": {...}}, ...]}` (one
or more calls, run in parallel) or `{"answer": "..."}` (no call). Tool results go back to the
model as a user turn, `Tool results:` then one `name: {json}` line per call, since the template
has user and model turns only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass
class Action:
    """What the model did in one turn: calls (possibly several), or a text answer."""

    calls: list[Call] = field(default_factory=list)
    answer: str | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.calls]


def render_action(action: Action) -> str:
    """The action as the model writes it (compact JSON, keys in a fixed order)."""
    if action.calls:
        body = {"tool_calls": [c.to_dict() for c in action.calls]}
    else:
        body = {"answer": action.answer or ""}
    return json.dumps(body, ensure_ascii=False, separators=(", ", ": "))


def parse_action(text: str) -> tuple[Action | None, str | None]:
    """(action, None), or (None, why) when `text` is not an action."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg}"
    if not isinstance(value, dict):
        return None, "not a JSON object"
    if "tool_calls" in value:
        calls = value["tool_calls"]
        if not isinstance(calls, list) or not calls:
            return None, "tool_calls must be a non-empty list"
        out = []
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                return None, "each tool call needs a name"
            arguments = call.get("arguments", {})
            if not isinstance(arguments, dict):
                return None, f"{call['name']}: arguments must be an object"
            out.append(Call(call["name"], arguments))
        return Action(calls=out), None
    if isinstance(value.get("answer"), str):
        return Action(answer=value["answer"]), None
    return None, "neither tool_calls nor answer"


def call_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of each element of the `tool_calls` list in `text` (the model's JSON),
    found by scanning brackets and strings; [] when there is no such list."""
    start = text.find('"tool_calls"')
    if start < 0:
        return []
    i = text.find("[", start)
    if i < 0:
        return []
    spans: list[tuple[int, int]] = []
    depth, in_string, escaped, begin = 0, False, False, -1
    for j in range(i + 1, len(text)):
        ch = text[j]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            if depth == 0:
                begin = j
            depth += 1
        elif ch in "}]":
            if depth == 0:  # the list closes
                break
            depth -= 1
            if depth == 0 and begin >= 0:
                spans.append((begin, j + 1))
                begin = -1
    return spans


def tool_results_text(results: Sequence[dict[str, Any]]) -> str:
    """A user turn holding tool results (`{"name", "content"}`, content is JSON text)."""
    lines = [f"{r.get('name') or 'tool'}: {r['content']}" for r in results]
    return "Tool results:\n" + "\n".join(lines)


def template_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """A tool conversation (`system`, `user`, `assistant` whose content is an action's JSON,
    `tool` results) as the template's user/assistant turns: consecutive tool results become
    one user turn."""
    out: list[dict[str, str]] = []
    pending: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] == "tool":
            pending.append(message)
            continue
        if pending:
            out.append({"role": "user", "content": tool_results_text(pending)})
            pending = []
        out.append({"role": message["role"], "content": message["content"]})
    if pending:
        out.append({"role": "user", "content": tool_results_text(pending)})
    return out
