"""Read tool_call examples: single-turn requests and multi-step trajectories (JSONL), checked
row by row against the declared tools.

A single-turn row: `{"request": "...", "calls": [{"name": ..., "arguments": {...}}]}`; no calls
(`"calls": []`, optionally an `"answer"`) is a request that must get no call. A trajectory:
`{"messages": [{"role": "user", ...}, {"role": "assistant", "tool_calls": [...]},
{"role": "tool", "name": ..., "content": "<JSON>"}, ..., {"role": "assistant", "content":
"final answer"}], "success": true}`. Calls may also be in OpenAI's shape (`{"type": "function",
"function": {"name", "arguments": "<JSON text>"}}`). Either may carry its own `tools` (BFCL
rows do), an `id`, a `category` and BFCL's `expected` answers (`[{name: {arg: [allowed...]}}]`).

Every problem is reported with the file, line and field (unknown tool, arguments failing the
tool's schema, a tool result that is not JSON, a row's tool the task does not declare), all at
once; nothing is read from a file that has one.

Each row becomes an `Example` whose text is the first request and whose target holds the
conversation (assistant turns as the action JSON the model writes), the row's tools, whether the
trajectory succeeded, its category and the expected first action.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.data.load import DataError, Example, read_records
from narrowtune.kinds.tool_call.format import Action, Call, parse_action, render_action
from narrowtune.kinds.tool_call.spec import toolset_of
from narrowtune.kinds.tool_call.tools import ToolError, Toolset, read_tools

if TYPE_CHECKING:
    from narrowtune.task import Task

MAX_REPORTED = 8
NO_CALL_ANSWER = "None of the tools fits this request."


class RowError(ValueError):
    """One row's problem (the reader adds file and line)."""


def read_call(value: Any, where: str, tools: Toolset) -> Call:
    """One call (narrowtune's or OpenAI's shape), checked against the tools."""
    if not isinstance(value, dict):
        raise RowError(f"{where}: a call must be an object")
    if value.get("type") == "function" and isinstance(value.get("function"), dict):
        value = value["function"]
    name, arguments = value.get("name"), value.get("arguments", {})
    if not isinstance(name, str) or not name:
        raise RowError(f"{where}.name: missing")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise RowError(f"{where}.arguments: not valid JSON ({exc.msg})") from None
    if name not in tools.by_name:
        raise RowError(
            f"{where}.name: unknown tool {name!r} (declared: {', '.join(tools.names) or 'none'})"
        )
    problems = tools.call_problems(name, arguments)
    if problems:
        raise RowError(f"{where}.arguments fail the schema of {name}: {'; '.join(problems)}")
    return Call(name, tools.ordered(name, arguments))


def row_tools(record: dict[str, Any], declared: Toolset) -> tuple[Toolset, list[dict] | None]:
    """The tools a row is answered with: its own (each one declared by the task, when the task
    declares any), else the task's."""
    if record.get("tools") in (None, []):
        if not declared.tools:
            raise RowError("no tools: declare tool_call.tools or give the row 'tools'")
        return declared, None
    try:
        tools = read_tools(record["tools"], "tools")
    except ToolError as exc:
        raise RowError(str(exc)) from None
    if declared.tools:
        for i, tool in enumerate(tools):
            if tool.name not in declared.by_name:
                raise RowError(
                    f"tools[{i}] ({tool.name}): not a tool the task declares "
                    f"({', '.join(declared.names)})"
                )
    return Toolset(tools, declared.confirm), [t.openai() for t in tools]


def _tool_result(message: dict[str, Any], where: str) -> dict[str, str]:
    content = message.get("content")
    if isinstance(content, str):
        try:
            json.loads(content)
        except json.JSONDecodeError as exc:
            raise RowError(f"{where}.content: the tool result is not JSON ({exc.msg})") from None
    elif isinstance(content, dict | list):
        content = json.dumps(content, ensure_ascii=False)
    else:
        raise RowError(f"{where}.content: the tool result must be JSON text or a JSON value")
    name = message.get("name")
    return {"role": "tool", "name": str(name or "tool"), "content": content}


def read_messages(value: Any, tools: Toolset) -> list[dict[str, str]]:
    """A trajectory's messages, checked; assistant turns become the action JSON."""
    if not isinstance(value, list) or not value:
        raise RowError("messages: must be a non-empty list")
    out: list[dict[str, str]] = []
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise RowError(f"{where}: must be an object")
        role = message.get("role")
        if role == "tool":
            out.append(_tool_result(message, where))
        elif role == "assistant":
            if message.get("tool_calls"):
                calls = message["tool_calls"]
                if not isinstance(calls, list):
                    raise RowError(f"{where}.tool_calls: must be a list")
                action = Action(
                    calls=[
                        read_call(c, f"{where}.tool_calls[{j}]", tools) for j, c in enumerate(calls)
                    ]
                )
            else:
                content = message.get("content")
                if not isinstance(content, str) or not content.strip():
                    raise RowError(f"{where}: an assistant turn needs tool_calls or content")
                action = Action(answer=content)
            out.append({"role": "assistant", "content": render_action(action)})
        elif role in ("user", "system"):
            content = message.get("content")
            if not isinstance(content, str) or not content.strip():
                raise RowError(f"{where}.content: empty or not text")
            out.append({"role": role, "content": content})
        else:
            raise RowError(f"{where}.role: {role!r} is not system, user, assistant or tool")
    turns = [m["role"] for m in out if m["role"] != "system"]
    if not turns or turns[0] != "user":
        raise RowError("messages: the conversation must start with a user turn")
    if "assistant" not in turns:
        raise RowError("messages: no assistant turn to learn from")
    return out


def _expected(value: Any) -> list[dict[str, dict[str, list[Any]]]]:
    """BFCL's ground truth: a list of {function: {argument: [allowed values]}}."""
    if not isinstance(value, list):
        raise RowError("expected: must be a list of {function: {argument: [allowed values]}}")
    for i, item in enumerate(value):
        if not isinstance(item, dict) or len(item) != 1:
            raise RowError(f"expected[{i}]: must be one {{function: {{...}}}} object")
        (arguments,) = item.values()
        if not isinstance(arguments, dict) or not all(
            isinstance(v, list) for v in arguments.values()
        ):
            raise RowError(f"expected[{i}]: each argument maps to a list of allowed values")
    return value


def expected_of(action: Action) -> list[dict[str, dict[str, list[Any]]]]:
    """An action as expected answers (each argument's one allowed value)."""
    return [{c.name: {k: [v] for k, v in c.arguments.items()}} for c in action.calls]


def first_action(messages: list[dict[str, str]]) -> Action:
    content = next(m["content"] for m in messages if m["role"] == "assistant")
    action, _ = parse_action(content)
    assert action is not None  # written by render_action
    return action


def read_row(
    record: dict[str, Any], declared: Toolset, text_column: str, source: str = "", row: int = 0
) -> Example:
    tools, own_tools = row_tools(record, declared)
    if record.get("messages") not in (None, ""):
        messages = read_messages(record["messages"], tools)
    else:
        request = record.get(text_column, record.get("request"))
        if not isinstance(request, str) or not request.strip():
            raise RowError(f"{text_column}: empty or missing (or give 'messages')")
        calls = record.get("calls")
        if calls is None:
            raise RowError("calls: missing (use [] for a request that must get no call)")
        if not isinstance(calls, list):
            raise RowError("calls: must be a list")
        if calls:
            action = Action(calls=[read_call(c, f"calls[{j}]", tools) for j, c in enumerate(calls)])
        else:
            answer = record.get("answer")
            action = Action(answer=answer if isinstance(answer, str) and answer else NO_CALL_ANSWER)
        messages = [
            {"role": "user", "content": request},
            {"role": "assistant", "content": render_action(action)},
        ]
    success = record.get("success", True)
    if not isinstance(success, bool):
        raise RowError("success: must be true or false")
    first = first_action(messages)
    expected = (
        _expected(record["expected"]) if record.get("expected") is not None else expected_of(first)
    )
    category = record.get("category") or (
        "no_call" if not first.calls else "parallel" if len(first.calls) > 1 else "single"
    )
    text = next(m["content"] for m in messages if m["role"] == "user")
    return Example(
        text=text,
        labels=(),
        source=source,
        row=row,
        target={
            "id": str(record.get("id", "")),
            "messages": messages,
            "tools": own_tools,
            "success": success,
            "category": str(category),
            "expected": expected,
        },
    )


def read_examples(task: Task, path: Path) -> list[Example]:
    """Examples of one JSONL (or CSV/Parquet with JSON cells) file for kind `tool_call`."""
    try:
        declared = toolset_of(task)
    except ToolError as exc:
        raise DataError(str(exc)) from None
    _, records = read_records(path)
    examples: list[Example] = []
    problems: list[str] = []
    for row, record in records:
        for key in ("messages", "calls", "tools", "expected"):
            if isinstance(record.get(key), str) and record[key].strip()[:1] in "[{":
                with contextlib.suppress(json.JSONDecodeError):  # CSV cells hold JSON text
                    record[key] = json.loads(record[key])
        try:
            example = read_row(record, declared, task.input_column, str(path), row)
        except RowError as exc:
            problems.append(f"{path}:{row}: {exc}")
            continue
        examples.append(example)
    if problems:
        shown = "\n  ".join(problems[:MAX_REPORTED])
        more = (
            f"\n  … and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        )
        raise DataError(
            f"{len(problems)} of {len(records)} row(s) cannot be used:\n  {shown}{more}\n"
            "Fix or remove these rows; nothing was read."
        )
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples
