"""Out-of-scope traffic in words: how much of it each system lets through as a confident answer."""

from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def scope_lines(evaluation: Any) -> list[str]:
    """Plain-text lines on out-of-scope recall for the CLI and the model card (none when the task
    describes no out-of-scope traffic). `evaluation` is an `Evaluation` or its stored form."""
    systems = (
        evaluation["systems"]
        if isinstance(evaluation, dict)
        else [s.to_dict() for s in evaluation.systems]
    )
    measured = [
        (s, (s.get("metrics") or {}).get("out_of_scope"))
        for s in systems
        if (s.get("metrics") or {}).get("out_of_scope")
    ]
    if not measured:
        return []
    first = measured[0][1]
    lines = [
        f"out-of-scope recall ({first['test_items']} out-of-scope test requests from "
        f"{first['source']}; target {_pct(first['target_recall'])}, chosen on validation):"
    ]
    for system, scope in measured:
        line = f"  {system['name']}: {_pct(scope.get('recall_at_threshold'))} at its threshold"
        if scope.get("scope_threshold") is not None:
            line += (
                f"; {_pct(scope.get('recall_at_scope_threshold'))} at the threshold meeting both "
                f"targets ({scope['scope_threshold']:.3f}), which keeps "
                f"{_pct(scope.get('in_scope_coverage_at_scope_threshold'))} of in-scope requests "
                f"at {_pct(scope.get('in_scope_precision_at_scope_threshold'))} precision"
            )
        lines.append(line)
    if first["test_items"] and first["test_items"] < 30:
        lines.append(
            f"  note: only {first['test_items']} out-of-scope test requests: a rough figure"
        )
    return lines
