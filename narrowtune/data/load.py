"""Read examples from CSV, JSONL or Parquet, naming the file and row of anything wrong."""

from __future__ import annotations

import csv
import difflib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrowtune.errors import NarrowtuneError

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


class DataError(NarrowtuneError):
    """A data file that cannot be used as it is."""


@dataclass(frozen=True)
class Example:
    """One input text, its label names (empty when unlabeled) and a kind-specific target.

    `target` carries what non-classify kinds learn: the JSON (and spans) for `extract`, the
    completion or chat messages for `generate`. Classify leaves it `None`.
    """

    text: str
    labels: tuple[str, ...] = ()
    source: str = ""
    row: int = 0  # 1-based: data row for CSV/Parquet, line number for JSONL
    target: Any = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """The single label of a single-label example."""
        return self.labels[0] if self.labels else ""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.row}" if self.source else f"row {self.row}"


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-save the file as UTF-8"
        ) from None


def _records_csv(path: Path, delimiter: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    text = _decode(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = list(reader.fieldnames or [])
        records = [(reader.line_num, dict(row)) for row in reader]
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    return columns, records


def _records_jsonl(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    records = []
    columns: dict[str, None] = {}
    for number, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not valid JSON: {exc.msg} (column {exc.colno})"
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                f"{path}:{number}: each line must be a JSON object, got {type(record).__name__}"
            )
        columns.update(dict.fromkeys(record))
        records.append((number, record))
    return list(columns), records


def _records_parquet(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None
    rows = table.to_pylist()
    return list(table.column_names), [(i, r) for i, r in enumerate(rows, start=1)]


def read_records(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Column names and (row number, record) pairs of a data file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"{path}: unknown file type '{path.suffix}'; use .csv, .tsv, .jsonl or .parquet"
        )
    if fmt in ("csv", "tsv"):
        return _records_csv(path, "," if fmt == "csv" else "\t")
    if fmt == "jsonl":
        return _records_jsonl(path)
    return _records_parquet(path)


def _require_column(path: Path, columns: list[str], name: str, role: str) -> None:
    if name in columns:
        return
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise DataError(
        f"{path}: no {role} column '{name}' (columns: {', '.join(columns) or 'none'}). "
        f"{hint}Set data.{role}_column in the task file."
    )


def parse_labels(value: Any, *, multi_label: bool, separator: str) -> tuple[str, ...]:
    """Label names from a cell: a JSON list, a separated string (multi-label) or one name."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value]
    elif multi_label:
        items = [part.strip() for part in str(value).split(separator)]
    else:
        items = [str(value).strip()]
    return tuple(item for item in items if item)


def load_examples(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    multi_label: bool = False,
    label_separator: str = "|",
) -> list[Example]:
    """Load labeled (or, with `label_column=None`, unlabeled) examples from a file.

    Every row must have a non-empty text, and a label when a label column is given.
    """
    path = Path(path)
    columns, records = read_records(path)
    if not records:
        raise DataError(f"{path}: the file holds no examples")
    _require_column(path, columns, text_column, "text")
    if label_column is not None:
        _require_column(path, columns, label_column, "label")
    examples = []
    for row, record in records:
        text = record.get(text_column)
        if text is None or not str(text).strip():
            raise DataError(f"{path}:{row}: empty text in column '{text_column}'")
        labels: tuple[str, ...] = ()
        if label_column is not None:
            labels = parse_labels(
                record.get(label_column), multi_label=multi_label, separator=label_separator
            )
            if not labels:
                raise DataError(f"{path}:{row}: no label in column '{label_column}'")
            if not multi_label and len(labels) > 1:
                raise DataError(
                    f"{path}:{row}: {len(labels)} labels in a single-label task; "
                    "set multi_label: true"
                )
        examples.append(Example(text=str(text), labels=labels, source=str(path), row=row))
    return examples
