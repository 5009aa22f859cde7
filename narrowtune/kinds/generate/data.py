"""Read generate examples: prompt/completion rows or chat messages, checked row by row.

Each row becomes an `Example` whose `text` is the prompt (the last user turn for chat rows) and
whose `target` is `{"messages": [...]}`: the whole conversation, normalised to
`{"role", "content"}` dicts ending with the assistant reply to learn. Every unusable row is
reported with its file and line, all at once, so nothing is silently dropped.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.data.load import DataError, Example, read_records
from narrowtune.kinds.lm.template import ROLES

if TYPE_CHECKING:
    from narrowtune.task import Task

MAX_REPORTED = 8


def columns_of(task: Task) -> tuple[str, str, str]:
    """(prompt, completion, messages) column names, with the generate defaults."""
    spec = task.data
    return task.input_column, spec.target_column or "completion", spec.messages_column


def normalise_messages(value: Any) -> list[dict[str, str]]:
    """Validate a chat conversation; raises ValueError saying what is wrong with it."""
    if isinstance(value, str):
        try:
            value = json.loads(value)  # CSV cells hold the messages as JSON text
        except json.JSONDecodeError as exc:
            raise ValueError(f"messages are not valid JSON: {exc.msg}") from None
    if not isinstance(value, list) or not value:
        raise ValueError("messages must be a non-empty list of {role, content} objects")
    out: list[dict[str, str]] = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise ValueError(f"message {i} is not an object")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise ValueError(f"message {i} has role {role!r}; roles are {', '.join(ROLES)}")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"message {i} ({role}) has empty or non-text content")
        if role == "system" and any(m["role"] != "system" for m in out):
            raise ValueError(f"message {i}: a system message must come before the conversation")
        out.append({"role": role, "content": content})
    turns = [m["role"] for m in out if m["role"] != "system"]
    if not turns or turns[-1] != "assistant":
        raise ValueError("the conversation has no assistant turn at the end to learn from")
    if turns[0] != "user":
        raise ValueError("the conversation must start with a user turn")
    for a, b in itertools.pairwise(turns):
        if a == b:
            raise ValueError(f"two {a} turns in a row; user and assistant turns must alternate")
    return out


def last_user_turn(messages: list[dict[str, str]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def read_examples(task: Task, path: Path) -> list[Example]:
    """Examples of one data file (CSV, JSONL or Parquet) for kind `generate`."""
    prompt_col, completion_col, messages_col = columns_of(task)
    columns, records = read_records(path)
    if messages_col not in columns and prompt_col not in columns:
        raise DataError(
            f"{path}: no '{prompt_col}' or '{messages_col}' column (columns: "
            f"{', '.join(columns) or 'none'}); set data.text_column / data.messages_column"
        )
    if messages_col not in columns and completion_col not in columns:
        raise DataError(
            f"{path}: no completion column '{completion_col}' (columns: {', '.join(columns)}); "
            "set data.target_column"
        )
    examples: list[Example] = []
    problems: list[str] = []
    for row, record in records:
        try:
            if record.get(messages_col) not in (None, ""):
                messages = normalise_messages(record[messages_col])
            else:
                prompt, completion = record.get(prompt_col), record.get(completion_col)
                if prompt is None or not str(prompt).strip():
                    raise ValueError(f"empty prompt in column '{prompt_col}'")
                if completion is None or not str(completion).strip():
                    raise ValueError(f"empty completion in column '{completion_col}'")
                messages = [
                    {"role": "user", "content": str(prompt)},
                    {"role": "assistant", "content": str(completion)},
                ]
        except ValueError as exc:
            problems.append(f"{path}:{row}: {exc}")
            continue
        examples.append(
            Example(
                text=last_user_turn(messages),
                source=str(path),
                row=row,
                target={"messages": messages},
            )
        )
    if problems:
        shown = "\n  ".join(problems[:MAX_REPORTED])
        more = (
            f"\n  … and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        )
        raise DataError(
            f"{len(problems)} of {len(records)} row(s) cannot be trained on:\n  {shown}{more}\n"
            "Fix or remove these rows; nothing was read."
        )
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples
