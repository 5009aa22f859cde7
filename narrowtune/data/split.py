"""Deterministic stratified train/validation/test splits and data fingerprints."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from narrowtune.data.load import DataError, Example

if TYPE_CHECKING:
    from narrowtune.task import Task


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    validation: list[Example]
    test: list[Example]

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train),
            "validation": len(self.validation),
            "test": len(self.test),
        }


def fingerprint(examples: list[Example]) -> str:
    """A content hash of texts, labels and targets, independent of file names and row numbers."""
    digest = hashlib.sha256()
    for ex in examples:
        item: list[object] = [ex.text, list(ex.labels)]
        if ex.target is not None:
            item.append(ex.target)
        digest.update(json.dumps(item, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def make_splits(examples: list[Example], *, validation: float, test: float, seed: int) -> Splits:
    """Carve validation and test sets from `examples`, stratified by (first) label.

    Each label keeps at least one example in train; the result depends only on the data and seed.
    """
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_label[ex.labels[0] if ex.labels else ""].append(ex)
    rng = random.Random(seed)
    train: list[Example] = []
    val: list[Example] = []
    tst: list[Example] = []
    for label in sorted(by_label):
        group = list(by_label[label])
        rng.shuffle(group)
        n = len(group)
        n_test = min(round(n * test), max(n - 1, 0))
        n_val = min(round(n * validation), max(n - 1 - n_test, 0))
        tst.extend(group[:n_test])
        val.extend(group[n_test : n_test + n_val])
        train.extend(group[n_test + n_val :])
    for part in (train, val, tst):
        rng.shuffle(part)
    return Splits(train=train, validation=val, test=tst)


def _check_labels(splits: Splits, declared: list[str] | None) -> None:
    counts = Counter(label for ex in splits.train for label in ex.labels)
    if len(counts) < 2:
        raise DataError(
            f"training data has {len(counts)} distinct label(s); a classifier needs at least 2"
        )
    if declared:
        unknown = sorted(set(counts) - set(declared))
        if unknown:
            first = next(ex for ex in splits.train if set(ex.labels) & set(unknown))
            raise DataError(
                f"{first.where}: label '{unknown[0]}' is not in the task's `labels` list "
                f"({len(unknown)} unknown label(s): {', '.join(unknown[:5])})"
            )
    for name, part in (("validation", splits.validation), ("test", splits.test)):
        for ex in part:
            missing = [label for label in ex.labels if label not in counts]
            if missing:
                raise DataError(
                    f"{ex.where}: {name} label '{missing[0]}' never occurs in the training data; "
                    "add training examples for it or drop the row"
                )
    lonely = sorted(label for label, c in counts.items() if c < 2)
    if lonely:
        first = next(ex for ex in splits.train if lonely[0] in ex.labels)
        raise DataError(
            f"{first.where}: label '{lonely[0]}' has only one training example "
            f"({len(lonely)} such label(s)); add at least one more example per label"
        )


def task_splits(
    task: Task,
    pool: list[Example],
    given_validation: list[Example] | None,
    given_test: list[Example] | None,
) -> Splits:
    """Use the validation/test files the task names; carve the missing ones from `pool`."""
    carved = make_splits(
        pool,
        validation=0.0 if given_validation is not None else task.split.validation,
        test=0.0 if given_test is not None else task.split.test,
        seed=task.seed,
    )
    return Splits(
        train=carved.train,
        validation=given_validation if given_validation is not None else carved.validation,
        test=given_test if given_test is not None else carved.test,
    )


def has_labels(task: Task) -> bool:
    """Whether the task's examples carry labels (its kind decides)."""
    return task.has_labels


def column_options(task: Task) -> dict[str, object]:
    """The task's column mapping, as keyword arguments for the text + label loaders."""
    return {
        "text_column": task.input_column,
        "label_column": task.data.label_column if task.has_labels else None,
        "multi_label": task.multi_label,
        "label_separator": task.data.label_separator,
    }


def load_splits(task: Task) -> Splits:
    """Load the task's data files and split them; fails early on unusable data."""
    spec = task.data
    kind = task.plugin

    def read(path: str) -> list[Example]:
        return kind.read_examples(task, task.path(path))

    pool = read(spec.train)
    given_val = read(spec.validation) if spec.validation else None
    given_test = read(spec.test) if spec.test else None
    splits = task_splits(task, pool, given_val, given_test)
    if task.has_labels:
        _check_labels(splits, list(task.labels) if task.labels else None)
    if not splits.validation:
        raise DataError(
            "no validation examples: give data.validation or set split.validation > 0 "
            "(calibration and the abstention threshold are chosen on it)"
        )
    return splits
