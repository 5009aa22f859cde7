"""The summary columns of an evaluation: one list drives the CLI table, the card and the report.

An evaluation names its columns (`Evaluation.columns`); one without columns is in the
classification format and gets `CLASSIFICATION_COLUMNS`. Works on typed evaluations and on
their stored (metrics.json) form alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ColumnFormat = Literal["pct", "num", "ms", "int", "cost"]


@dataclass(frozen=True)
class Column:
    """A summary column (CLI table, model card, report): a dotted key into a system
    (`latency.p50_ms`, `train_seconds`) or its metrics (`accuracy`, `abstention.coverage`)."""

    key: str
    header: str
    format: ColumnFormat = "num"

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "header": self.header, "format": self.format}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Column:
        return cls(str(data["key"]), str(data["header"]), data.get("format", "num"))  # type: ignore[arg-type]


CLASSIFICATION_COLUMNS: list[Column] = [
    Column("accuracy", "acc %", "pct"),
    Column("macro_f1", "macro-F1 %", "pct"),
    Column("ece", "ECE", "num"),
    Column("abstention.coverage", "coverage@target %", "pct"),
    Column("latency.p50_ms", "p50 ms", "ms"),
    Column("latency.p95_ms", "p95 ms", "ms"),
    Column("latency.throughput_per_s", "texts/s", "int"),
    Column("train_seconds", "train s", "int"),
]


# Added when the task declares what mistakes cost (narrowtune.evaluate.costs).
COST_COLUMNS: list[Column] = [
    Column("cost.per_1k_at_target", "cost/1k", "cost"),
    Column("cost.per_1k_at_cost_threshold", "cost/1k cost-opt", "cost"),
]


def summary_columns(evaluation: Any) -> list[Column]:
    """The columns of an `Evaluation`, or of its stored form (a mapping); the cost columns are
    added when the evaluation priced its systems' mistakes."""
    if not isinstance(evaluation, Mapping):
        columns = list(evaluation.columns or CLASSIFICATION_COLUMNS)
        priced = bool(evaluation.details.get("costs"))
    else:
        given = evaluation.get("columns")
        columns = [Column.from_dict(c) for c in given] if given else list(CLASSIFICATION_COLUMNS)
        priced = bool(evaluation.get("costs"))
    return columns + COST_COLUMNS if priced else columns


def lookup(system: Any, key: str) -> Any:
    """A value by dotted key: `train_seconds` and `latency.*` from the system, else metrics.
    `system` is a `SystemResult` or its stored form (a mapping)."""
    data = system if isinstance(system, Mapping) else system.to_dict()
    head = key.partition(".")[0]
    node: Any = data if head in ("latency", "train_seconds") else data.get("metrics") or {}
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def format_value(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if fmt == "pct":
        return f"{100 * float(value):.1f}"
    if fmt == "ms":
        return f"{float(value):.1f}"
    if fmt == "int":
        return f"{float(value):.0f}"
    if fmt == "cost":
        return f"{float(value):,.2f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def cells(system: Any, columns: list[Column]) -> list[str]:
    return [format_value(lookup(system, c.key), c.format) for c in columns]
