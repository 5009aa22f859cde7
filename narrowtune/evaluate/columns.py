"""The summary columns of an evaluation: one list drives the CLI table, the card and the report.

Classify has its fixed columns; other kinds name theirs in `evaluation["columns"]`.
"""

from __future__ import annotations

import math
from typing import Any

CLASSIFY_COLUMNS: list[dict[str, str]] = [
    {"key": "accuracy", "header": "acc %", "format": "pct"},
    {"key": "macro_f1", "header": "macro-F1 %", "format": "pct"},
    {"key": "ece", "header": "ECE", "format": "num"},
    {"key": "abstention.coverage", "header": "coverage@target %", "format": "pct"},
    {"key": "latency.p50_ms", "header": "p50 ms", "format": "ms"},
    {"key": "latency.p95_ms", "header": "p95 ms", "format": "ms"},
    {"key": "latency.throughput_per_s", "header": "texts/s", "format": "int"},
    {"key": "train_seconds", "header": "train s", "format": "int"},
]


def summary_columns(evaluation: dict[str, Any]) -> list[dict[str, str]]:
    return list(evaluation.get("columns") or CLASSIFY_COLUMNS)


def lookup(system: dict[str, Any], key: str) -> Any:
    """A value by dotted key: `train_seconds` and `latency.*` from the system, else metrics."""
    head = key.partition(".")[0]
    if head in ("latency", "train_seconds"):
        node: Any = system
    else:
        node = system.get("metrics") or {}
    for part in key.split("."):
        if not isinstance(node, dict):
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
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def cells(system: dict[str, Any], columns: list[dict[str, str]]) -> list[str]:
    return [format_value(lookup(system, c["key"]), c.get("format", "num")) for c in columns]
