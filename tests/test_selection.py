"""Model and threshold selection see validation data only: test data never reaches them.

Two checks. Every built-in kind's trainer is handed the training and validation examples and
nothing else (its signature has no place for test data). And the evaluation's own choices — the
baselines' temperatures, k and abstention thresholds, the cost-optimal and out-of-scope
thresholds — stay exactly the same when the test split is replaced by different data, while the
test figures do change.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import write_task

from narrowtune.data import Example, Splits
from narrowtune.data.split import load_splits
from narrowtune.evaluate.classify import baseline_systems
from narrowtune.kinds import all_kinds
from narrowtune.kinds.base import resolve
from narrowtune.task import load_task


@pytest.mark.parametrize("kind", [k for k in all_kinds() if k.trainer], ids=lambda k: k.name)
def test_trainers_take_train_and_validation_only(kind) -> None:  # type: ignore[no-untyped-def]
    trainer = resolve(kind.trainer)
    positional = [
        p.name
        for p in inspect.signature(trainer).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional == ["task", "train", "validation"]
    keywords = [
        p.name for p in inspect.signature(trainer).parameters.values() if p.kind == p.KEYWORD_ONLY
    ]
    assert not [k for k in keywords if "test" in k]


def _chosen(systems: list) -> list[tuple[str, float | None, float | None]]:  # type: ignore[type-arg]
    return [
        (
            s.name,
            (s.metrics.get("abstention") or {}).get("threshold"),
            (s.metrics.get("cost") or {}).get("cost_threshold"),
        )
        for s in systems
    ]


def test_baseline_choices_do_not_depend_on_the_test_split(tiny_task: Path) -> None:
    costs = {"errors": {"login": {"refund": 50}}, "review": 0.2}
    task = load_task(write_task(tiny_task.parent, costs=costs))
    splits = load_splits(task)
    labels = sorted({ex.labels[0] for ex in splits.train})
    first = baseline_systems(task, splits, labels, False, None, False)
    # Other test data: the same texts with every gold label moved on to the next label.
    moved = [
        replace(ex, labels=(labels[(labels.index(ex.labels[0]) + 1) % len(labels)],))
        for ex in splits.test
    ]
    other = Splits(
        splits.train, splits.validation, [*moved, Example("an unseen text", ("refund",))]
    )
    second = baseline_systems(task, other, labels, False, None, False)
    assert _chosen(first) == _chosen(second)
    assert all(t is not None and c is not None for _, t, c in _chosen(first))
    assert [s.metrics["accuracy"] for s in first] != [s.metrics["accuracy"] for s in second]
