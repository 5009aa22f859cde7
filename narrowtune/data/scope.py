"""Out-of-scope requests: texts that belong to no label, read from the file a task names
(`abstain.out_of_scope.examples`) and split, seeded, into a part that chooses the abstention
threshold (validation) and a part that measures it (test)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from narrowtune.data.load import DataError, Example, load_examples

if TYPE_CHECKING:
    from narrowtune.task import Task


@dataclass(frozen=True)
class OutOfScope:
    """The out-of-scope examples of a task, when it names a file of them."""

    validation: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)


def out_of_scope_examples(task: Task) -> OutOfScope:
    """The task's out-of-scope examples split for choosing (validation) and measuring (test);
    empty when the task names none (or uses a catch-all label instead)."""
    spec = task.abstain.out_of_scope
    if spec is None or spec.examples is None:
        return OutOfScope()
    path = task.path(spec.examples)
    try:
        examples = load_examples(path, text_column=task.input_column, label_column=None)
    except DataError as exc:
        raise DataError(f"abstain.out_of_scope.examples: {exc}") from None
    if len(examples) < 2:
        raise DataError(
            f"abstain.out_of_scope.examples: {path} holds {len(examples)} example(s); give at "
            "least 2 (some choose the threshold, the rest measure it)"
        )
    order = list(range(len(examples)))
    random.Random(task.seed).shuffle(order)
    cut = min(max(1, round(spec.validation * len(examples))), len(examples) - 1)
    return OutOfScope(
        validation=[examples[i] for i in order[:cut]], test=[examples[i] for i in order[cut:]]
    )
