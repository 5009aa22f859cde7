"""How sure a margin is: a paired bootstrap interval over the same test items, and McNemar's test.

A system's primary metric is recomputed on resamples of the test split from per-item statistics
(`ItemScores`): a 0/1 or graded score per item for metrics that are means (accuracy, exact match,
contract rate, chrF), or true-positive / false-positive / false-negative counts per item and
class for F1 metrics (macro-F1 averages the classes' F1, micro-F1 pools the counts). Both systems
are scored on the *same* resampled items, so the interval is on the difference itself and the
items' shared difficulty cancels out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Statistic = Literal["mean", "macro_f1", "micro_f1", "chrf"]

RESAMPLES = 2000
LEVEL = 0.95
# Below this many test items a margin says next to nothing, whatever its interval; eval says so.
FEW_TEST_ITEMS = 30


@dataclass(frozen=True)
class ItemScores:
    """Per-item statistics of one system on the test split, in test order.

    `values` is (n,) for a mean statistic, or (n, 3, classes) holding each item's TP, FP and FN
    per class for the F1 statistics. `correct` (n,) bool, when given, is the exact-match outcome
    per item (McNemar's test is run on it)."""

    statistic: Statistic
    values: np.ndarray
    correct: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def value(self, weights: np.ndarray) -> np.ndarray:
        """The metric on each resample: `weights` is (resamples, n), how often each item was
        drawn (all ones: the test split itself)."""
        w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        if self.statistic == "mean":
            return (w @ self.values.astype(np.float64)) / np.maximum(w.sum(axis=1), 1e-12)
        n = len(self)
        counts = (w @ self.values.reshape(n, -1).astype(np.float64)).reshape(len(w), 3, -1)
        if self.statistic == "chrf":  # (matches, output, reference) n-grams per order, beta 2
            m, h, r = counts[:, 0], counts[:, 1], counts[:, 2]
            present = (h > 0) & (r > 0)
            precision = np.where(present, m / np.maximum(h, 1e-12), 0.0)
            recall = np.where(present, m / np.maximum(r, 1e-12), 0.0)
            denominator = 4 * precision + recall
            f = np.where(
                denominator > 0, 5 * precision * recall / np.maximum(denominator, 1e-12), 0
            )
            orders = present.sum(axis=1)
            return np.where(orders > 0, (f * present).sum(axis=1) / np.maximum(orders, 1), 0.0)
        tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
        if self.statistic == "micro_f1":
            tp, fp, fn = tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1)
            denominator = 2 * tp + fp + fn
            return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1e-12), 0.0)
        denominator = 2 * tp + fp + fn  # a class never seen nor predicted counts as 0 (sklearn)
        f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1e-12), 0.0)
        return f1.mean(axis=1)

    def observed(self) -> float:
        return float(self.value(np.ones((1, len(self))))[0])


def classification_items(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[str | Sequence[str]],
    *,
    labels: list[str],
    metric: str,
) -> ItemScores | None:
    """Per-item statistics of a classifier for `metric` (accuracy, macro_f1 or micro_f1), matching
    `narrowtune.evaluate.metrics.classification_metrics` on the whole split; None for another
    metric. Single-label predictions are names, multi-label ones lists of names."""
    index = {name: i for i, name in enumerate(labels)}
    n, k = len(gold), len(labels)
    truth = np.zeros((n, k), dtype=bool)
    guess = np.zeros((n, k), dtype=bool)
    for row, (g, p) in enumerate(zip(gold, predicted)):
        names = [p] if isinstance(p, str) else list(p)
        truth[row, [index[x] for x in g if x in index]] = True
        guess[row, [index[x] for x in names if x in index]] = True
    correct = (truth == guess).all(axis=1)
    single = all(isinstance(p, str) for p in predicted)
    if single:  # a single-label item is right when its one label is (names outside: wrong)
        correct = np.array(
            [str(p) == g[0] and p in index for g, p in zip(gold, predicted)], dtype=bool
        )
    if metric == "accuracy":
        return ItemScores("mean", correct.astype(np.float64), correct)
    if metric not in ("macro_f1", "micro_f1"):
        return None
    counts = np.stack([truth & guess, ~truth & guess, truth & ~guess], axis=1).astype(np.float32)
    return ItemScores(metric, counts, correct)  # type: ignore[arg-type]


def count_items(statistic: Statistic, counts: Sequence[Sequence[Sequence[float]]]) -> ItemScores:
    """Per-item statistics from counts: (n, 3, k) — TP/FP/FN per class (F1 statistics) or
    matches/output/reference n-grams per order (chrF)."""
    return ItemScores(statistic, np.asarray(counts, dtype=np.float64).reshape(len(counts), 3, -1))


def mean_items(values: Sequence[float], correct: Sequence[bool] | None = None) -> ItemScores:
    """Per-item statistics of a metric that is a plain mean over items."""
    array = np.asarray(values, dtype=np.float64)
    return ItemScores("mean", array, None if correct is None else np.asarray(correct, dtype=bool))


def resample_weights(n: int, *, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """(resamples, n) counts: how often each of n items was drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, n))
    weights = np.zeros((resamples, n), dtype=np.float32)
    np.add.at(weights, (np.arange(resamples)[:, None], draws), 1.0)
    return weights


def paired_interval(
    a: ItemScores,
    b: ItemScores,
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of metric(a) - metric(b), both on the same resampled items."""
    if len(a) != len(b):
        raise ValueError(f"paired systems scored different items ({len(a)} vs {len(b)})")
    if len(a) == 0:
        return (float("nan"), float("nan"))
    weights = resample_weights(len(a), resamples=resamples, seed=seed)
    differences = a.value(weights) - b.value(weights)
    tail = (1 - level) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    return float(low), float(high)


def mcnemar(a_correct: np.ndarray, b_correct: np.ndarray) -> dict[str, Any]:
    """McNemar's test on paired right/wrong outcomes: exact (binomial) and mid-p two-sided p.

    `a_only`: items only system a got right; `b_only`: only b. Under "the systems are equally
    accurate" each discordant item is a fair coin."""
    from scipy.stats import binom

    a_only = int(np.sum(a_correct & ~b_correct))
    b_only = int(np.sum(~a_correct & b_correct))
    discordant = a_only + b_only
    if discordant == 0:
        return {"a_only": 0, "b_only": 0, "p_exact": 1.0, "p_mid": 1.0}
    smaller = min(a_only, b_only)
    tail = float(binom.cdf(smaller, discordant, 0.5))
    point = float(binom.pmf(smaller, discordant, 0.5))
    exact = min(1.0, 2 * tail)
    mid = min(1.0, 2 * tail - point)  # the observed count weighs half
    return {"a_only": a_only, "b_only": b_only, "p_exact": exact, "p_mid": mid}
