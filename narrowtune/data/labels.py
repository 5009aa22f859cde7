"""Label names to model targets: class indices or a multi-hot matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrowtune.data.load import Example


def label_targets(examples: Sequence[Example], labels: list[str], multi_label: bool) -> np.ndarray:
    """Class indices (single-label) or a float 0/1 matrix (multi-label), rows in example order."""
    index = {name: i for i, name in enumerate(labels)}
    if multi_label:
        y = np.zeros((len(examples), len(labels)), dtype=np.float32)
        for row, ex in enumerate(examples):
            y[row, [index[name] for name in ex.labels]] = 1.0
        return y
    return np.array([index[ex.labels[0]] for ex in examples], dtype=np.int64)


def is_correct(predicted: Sequence[str | Sequence[str]], gold: Sequence[Example]) -> np.ndarray:
    """Exact match per example: the same label, or the same set of labels."""
    return np.array(
        [
            p == g.labels[0] if isinstance(p, str) else set(p) == set(g.labels)
            for p, g in zip(predicted, gold)
        ],
        dtype=bool,
    )
