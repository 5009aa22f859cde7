"""Read extract training data: text + the JSON to extract (+ optional character spans per field).

Each row needs a non-empty text and an output object that matches the task schema (nulls mean
"not in this document"). Spans, when given, are `{field: [[start, end], ...]}` (or one
`[start, end]` pair) in characters of the text; they must lie inside the text and must not
overlap. Where a row gives no spans for a field, its value is located in the text (exact, then
case-insensitive); values that cannot be located are counted and reported in a warning, and are
still scored at evaluation.
"""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.data.load import DataError, Example, parse_labels, read_records
from narrowtune.kinds.extract.align import locate
from narrowtune.kinds.extract.fields import Field, gold_errors, schema_fields
from narrowtune.kinds.extract.schema import SchemaProblem, resolve_schema

if TYPE_CHECKING:
    from narrowtune.task import Task


class UnlocatedValues(UserWarning):
    """Training values that could not be found in their text (no span to learn from)."""


def task_schema(task: Task) -> dict[str, Any]:
    return resolve_schema(task.output_schema, task.base_dir)


def task_fields(task: Task) -> list[Field]:
    try:
        return schema_fields(task_schema(task))
    except SchemaProblem as exc:
        raise SchemaProblem(f"{task.base_dir}: {exc}") from None


def _parse_json_cell(value: Any, where: str, column: str) -> Any:
    """A JSON object/list given as text in a CSV cell, or already parsed (JSONL)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{where}: column '{column}' is not valid JSON: {exc.msg} (char {exc.pos})"
            ) from None
    return value


def _spans(raw: Any, where: str, column: str, text: str, fields: dict[str, Field]) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DataError(f"{where}: '{column}' must map field names to [start, end] lists")
    out: dict[str, list[list[int]]] = {}
    for name, items in raw.items():
        if name not in fields:
            raise DataError(f"{where}: '{column}' names field '{name}', which is not in the schema")
        if not fields[name].spans:
            raise DataError(
                f"{where}: field '{name}' is an enum/boolean (predicted from the whole text); "
                "it takes no spans"
            )
        if items is None:
            continue
        if (
            isinstance(items, list)
            and len(items) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in items)
        ):
            items = [items]
        if not isinstance(items, list):
            raise DataError(f"{where}: spans of field '{name}' must be [[start, end], ...]")
        pairs = []
        for pair in items:
            ok = (
                isinstance(pair, list | tuple)
                and len(pair) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
            )
            if not ok:
                raise DataError(
                    f"{where}: span {pair!r} of field '{name}' is not a [start, end] pair"
                )
            start, end = int(pair[0]), int(pair[1])
            if not 0 <= start < end <= len(text):
                raise DataError(
                    f"{where}: span [{start}, {end}] of field '{name}' lies outside the text "
                    f"({len(text)} characters) or is empty"
                )
            pairs.append([start, end])
        if fields[name].role == "span" and len(pairs) > 1:
            raise DataError(
                f"{where}: field '{name}' holds one value but has {len(pairs)} spans; "
                "make it an array in the schema or give one span"
            )
        out[name] = pairs
    flat = sorted((s, e, n) for n, items in out.items() for s, e in items)
    for (s1, e1, n1), (s2, e2, n2) in itertools.pairwise(flat):
        if s2 < e1:
            raise DataError(
                f"{where}: spans overlap: '{n1}' [{s1}, {e1}] and '{n2}' [{s2}, {e2}] "
                "(each character belongs to at most one field)"
            )
    return out


def _values(field: Field, value: Any) -> list[Any]:
    if value is None:
        return []
    return [v for v in value if v is not None] if field.role == "list" else [value]


def read_examples(task: Task, path: Path) -> list[Example]:
    """The examples of one data file, checked against the task schema (errors name file:row)."""
    schema = task_schema(task)
    fields = {f.name: f for f in task_fields(task)}
    spec = task.data
    output_column = spec.target_column or "output"
    columns, records = read_records(path)
    if not records:
        raise DataError(f"{path}: the file holds no examples")
    for column, role in ((spec.text_column, "text"), (output_column, "target")):
        if column not in columns:
            raise DataError(
                f"{path}: no {role} column '{column}' (columns: {', '.join(columns)}); "
                f"set data.{role}_column in the task file"
            )
    examples: list[Example] = []
    unlocated: list[str] = []
    total_values = 0
    for row, record in records:
        where = f"{path}:{row}"
        text = record.get(spec.text_column)
        if text is None or not str(text).strip():
            raise DataError(f"{where}: empty document in column '{spec.text_column}'")
        text = str(text)
        output = _parse_json_cell(record.get(output_column), where, output_column)
        if not isinstance(output, dict):
            raise DataError(
                f"{where}: column '{output_column}' must hold a JSON object, "
                f"got {type(output).__name__}"
            )
        problems = gold_errors(schema, output)
        if problems:
            field, message = problems[0]
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise DataError(f"{where}: field '{field}' does not match the schema: {message}{more}")
        raw_spans = _parse_json_cell(record.get(spec.spans_column), where, spec.spans_column)
        spans = _spans(raw_spans, where, spec.spans_column, text, fields)
        for name, items in spans.items():
            if items and output.get(name) is None:
                raise DataError(f"{where}: field '{name}' has spans but no value in the output")
        taken = [(s, e) for items in spans.values() for s, e in items]
        for field in fields.values():
            if not field.spans or field.name in spans:
                continue
            located = []
            for value in _values(field, output.get(field.name)):
                total_values += 1
                found = locate(text, value, taken)
                if found is None:
                    unlocated.append(f"{row}:{field.name}")
                    continue
                taken.append(found)
                located.append(list(found))
            if located:
                spans[field.name] = located
        labels: tuple[str, ...] = ()
        if task.extract.intent:
            labels = parse_labels(
                record.get(spec.label_column), multi_label=False, separator=spec.label_separator
            )
            if not labels:
                raise DataError(f"{where}: no intent in column '{spec.label_column}'")
        target = {"output": output, "spans": spans}
        examples.append(Example(text=text, labels=labels, source=str(path), row=row, target=target))
    if unlocated:
        shown = ", ".join(unlocated[:5])
        warnings.warn(
            f"{path}: {len(unlocated)} of {total_values} values without spans could not be "
            f"located in their text (row:field {shown}{'…' if len(unlocated) > 5 else ''}); "
            "they are not learned as spans but still scored",
            UnlocatedValues,
            stacklevel=2,
        )
    return examples


def span_coverage(examples: list[Example], fields: list[Field]) -> dict[str, int]:
    """How many non-null span-field values the examples hold, and how many have a span."""
    values = spans = 0
    for ex in examples:
        for field in fields:
            if not field.spans:
                continue
            values += len(_values(field, ex.target["output"].get(field.name)))
            spans += len(ex.target["spans"].get(field.name, []))
    return {"values": values, "with_span": spans, "unlocated": values - spans}
