"""Evaluate a trained run against the baselines a user would pick instead, on the same split.

`evaluate_model` hands the run to its kind's evaluator (`Kind.evaluator`: `classify.py`,
`extract.py` and `generate.py` here for the built-in kinds), which returns a typed `Evaluation`
(see `evaluation.py`); `report.py` renders it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from narrowtune.evaluate.evaluation import (
    Column,
    Evaluation,
    Margin,
    Section,
    SystemResult,
    build_evaluation,
    machine_description,
)

if TYPE_CHECKING:
    from narrowtune.data import Splits
    from narrowtune.kinds.base import Model
    from narrowtune.progress import ProgressFn
    from narrowtune.task import Task


def evaluate_model(
    task: Task,
    model: Model,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> Evaluation:
    """Score `model` and every baseline on the test split (the task's kind decides how)."""
    if not splits.test:
        raise ValueError("the test split is empty: give data.test or set split.test > 0")
    return task.plugin.evaluate(
        task,
        model,
        splits,
        baselines=baselines,
        latency=latency,
        train_seconds=train_seconds,
        progress=progress,
    )


__all__ = [
    "Column",
    "Evaluation",
    "Margin",
    "Section",
    "SystemResult",
    "build_evaluation",
    "evaluate_model",
    "machine_description",
]
