"""Lenient loading: read every usable row, turn each unusable one into a finding with its line.

`narrowtune.data.load_examples` stops at the first bad row (right for training). The audit wants
to see the whole file, so here a malformed JSONL line, an empty text or a missing label becomes a
blocking finding naming the file and line, and the rest of the file is still read. With
`stop_on_error=True` the first bad row raises `DataError` instead, with the same kind of message.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrowtune.data.audit.findings import Finding
from narrowtune.data.load import DataError, Example, parse_labels, read_records

MAX_LISTED_ERRORS = 20


@dataclass(frozen=True)
class Rejected:
    """A row the audit could not use, kept so that `--fix` can set it aside instead of losing it."""

    where: str
    reason: str  # "malformed_rows" | "empty_texts" | "missing_labels"
    message: str
    record: dict[str, Any] | str  # the parsed record, or the raw line when it did not parse


@dataclass
class LoadedRows:
    examples: list[Example] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # file-level and bad-row findings


def _jsonl_records(path: Path) -> tuple[list[str], list[tuple[int, Any]], list[Rejected]]:
    """Parse a JSONL file line by line; bad lines become `Rejected` rows, not an exception."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 (byte offset {exc.start}); re-save the file as UTF-8"
        ) from None
    records: list[tuple[int, Any]] = []
    rejected: list[Rejected] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"{where}: not valid JSON: {exc.msg} (column {exc.colno})"
            rejected.append(Rejected(where, "malformed_rows", message, line))
            continue
        if not isinstance(record, dict):
            message = f"{where}: each line must be a JSON object, got {type(record).__name__}"
            rejected.append(Rejected(where, "malformed_rows", message, line))
            continue
        columns.update(dict.fromkeys(record))
        records.append((number, record))
    return list(columns), records, rejected


def _file_finding(path: Path, message: str, role: str) -> Finding:
    return Finding(
        check="unreadable_file",
        severity="blocking",
        message=message,
        rows=[],
        evidence={"file": str(path), "role": role},
    )


def _bad_row_findings(rejected: list[Rejected], path: Path) -> list[Finding]:
    """One finding per kind of bad row, listing every row and the first messages."""
    grouped: dict[str, list[Rejected]] = defaultdict(list)
    for item in rejected:
        grouped[item.reason].append(item)
    what = {
        "malformed_rows": "malformed row(s)",
        "empty_texts": "row(s) with an empty or whitespace-only text",
        "missing_labels": "row(s) with no label",
    }
    findings = []
    for reason, items in grouped.items():
        first = items[0].message
        more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
        findings.append(
            Finding(
                check=reason,
                severity="blocking",
                message=f"{len(items)} {what[reason]} in {path.name}: {first}{more}; "
                "fix or delete them (`--fix` sets them aside in the review file)",
                rows=[i.where for i in items],
                evidence={
                    "file": str(path),
                    "errors": [i.message for i in items[:MAX_LISTED_ERRORS]],
                },
            )
        )
    return findings


def load_rows(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    multi_label: bool = False,
    label_separator: str = "|",
    role: str = "train",
    stop_on_error: bool = False,
) -> LoadedRows:
    """Every usable example of a file, plus a finding per kind of unusable row (with lines)."""
    path = Path(path)
    out = LoadedRows()
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson") and path.is_file():
            columns, records, out.rejected = _jsonl_records(path)
        else:
            columns, records = read_records(path)
    except DataError as exc:
        if stop_on_error:
            raise
        out.findings.append(_file_finding(path, str(exc), role))
        return out
    if not records and not out.rejected:
        message = f"{path}: the {role} file holds no examples"
        if stop_on_error:
            raise DataError(message)
        out.findings.append(_file_finding(path, message, role))
        return out
    needed = [(text_column, "text")] + ([(label_column, "label")] if label_column else [])
    for column, kind in needed:
        if records and column not in columns:
            message = (
                f"{path}: no {kind} column '{column}' (columns: {', '.join(columns) or 'none'}); "
                f"set data.{kind}_column in the task file"
            )
            if stop_on_error:
                raise DataError(message)
            out.findings.append(_file_finding(path, message, role))
            out.findings.extend(_bad_row_findings(out.rejected, path))
            return out
    for row, record in records:
        where = f"{path}:{row}"
        text = record.get(text_column)
        problem: tuple[str, str] | None = None
        labels: tuple[str, ...] = ()
        if text is None or not str(text).strip():
            problem = ("empty_texts", f"{where}: empty text in column '{text_column}'")
        elif label_column is not None:
            labels = parse_labels(
                record.get(label_column), multi_label=multi_label, separator=label_separator
            )
            if not labels:
                problem = ("missing_labels", f"{where}: no label in column '{label_column}'")
            elif not multi_label and len(labels) > 1:
                problem = (
                    "malformed_rows",
                    f"{where}: {len(labels)} labels in a single-label task; set multi_label: true",
                )
        if problem is not None:
            out.rejected.append(Rejected(where, problem[0], problem[1], record))
            continue
        out.examples.append(Example(text=str(text), labels=labels, source=str(path), row=row))
    out.rejected.sort(key=lambda r: int(r.where.rsplit(":", 1)[1]))
    if stop_on_error and out.rejected:
        raise DataError(out.rejected[0].message)
    out.findings.extend(_bad_row_findings(out.rejected, path))
    return out
