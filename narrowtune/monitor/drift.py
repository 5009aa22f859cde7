"""The drift tests, on plain arrays: no store, no model, no I/O.

- `mmd_test`: maximum mean discrepancy between two sets of unit embeddings with a Gaussian
  kernel (bandwidth: the median pairwise distance), p-value from a permutation test.
- `label_shift`: chi-square test of a 2 x labels contingency table (reference vs current).
- `lower_confidence`: one-sided Mann-Whitney U test that current confidences are lower.
- `more_abstentions`: one-sided Fisher exact test that the abstention rate rose.
- `far_rate`: one-sided binomial test that more texts than expected sit far from the training
  data, and `group_far`: the far texts grouped into clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TestResult:
    statistic: float
    p_value: float


def _sq_distances(x: np.ndarray) -> np.ndarray:
    norms = (x * x).sum(axis=1)
    d = norms[:, None] + norms[None, :] - 2.0 * (x @ x.T)
    return np.maximum(d, 0.0)


def mmd_test(
    reference: np.ndarray, current: np.ndarray, *, permutations: int = 500, seed: int = 0
) -> TestResult:
    """Unbiased MMD² between `reference` (n, d) and `current` (m, d) and its permutation p-value
    ((1 + permuted statistics at or above the observed) / (1 + permutations))."""
    n, m = len(reference), len(current)
    if n < 2 or m < 2:
        return TestResult(float("nan"), float("nan"))
    pooled = np.concatenate([reference, current]).astype(np.float64)
    sq = _sq_distances(pooled)
    upper = sq[np.triu_indices(len(pooled), k=1)]
    bandwidth = float(np.median(upper[upper > 0])) if np.any(upper > 0) else 1.0
    kernel = np.exp(-sq / bandwidth)
    np.fill_diagonal(kernel, 0.0)
    total = n + m

    def statistic(in_x: np.ndarray) -> np.ndarray:
        # in_x: (p, total) 0/1 membership of the first sample; vectorised over permutations.
        xf = in_x.astype(np.float64)
        yf = 1.0 - xf
        kx = xf @ kernel
        ky = yf @ kernel
        xx = (kx * xf).sum(axis=1) / (n * (n - 1))
        yy = (ky * yf).sum(axis=1) / (m * (m - 1))
        xy = (kx * yf).sum(axis=1) / (n * m)
        return xx + yy - 2.0 * xy

    observed_mask = np.zeros((1, total), dtype=bool)
    observed_mask[0, :n] = True
    observed = float(statistic(observed_mask)[0])
    rng = np.random.default_rng(seed)
    exceed = 0
    for start in range(0, permutations, 100):
        count = min(100, permutations - start)
        masks = np.zeros((count, total), dtype=bool)
        for row in range(count):
            masks[row, rng.permutation(total)[:n]] = True
        exceed += int((statistic(masks) >= observed).sum())
    return TestResult(observed, (1 + exceed) / (1 + permutations))


def label_shift(reference: Sequence[str], current: Sequence[str]) -> TestResult:
    """Chi-square test that the predicted-label mix of `current` differs from `reference`."""
    from scipy.stats import chi2_contingency

    ref, cur = Counter(reference), Counter(current)
    labels = sorted(set(ref) | set(cur))
    if len(labels) < 2 or not reference or not current:
        return TestResult(0.0, 1.0)
    table = np.array([[ref[x] for x in labels], [cur[x] for x in labels]], dtype=np.float64)
    result = chi2_contingency(table)
    return TestResult(float(result[0]), float(result[1]))


def lower_confidence(reference: Sequence[float], current: Sequence[float]) -> TestResult:
    """One-sided Mann-Whitney U: are the current confidences lower than the reference ones?"""
    from scipy.stats import mannwhitneyu

    if not reference or not current:
        return TestResult(float("nan"), 1.0)
    result = mannwhitneyu(current, reference, alternative="less")
    return TestResult(float(result.statistic), float(result.pvalue))


def more_abstentions(ref_abstained: int, ref_total: int, abstained: int, total: int) -> TestResult:
    """One-sided Fisher exact test: is the current abstention rate higher than the reference's?"""
    from scipy.stats import fisher_exact

    if not ref_total or not total:
        return TestResult(float("nan"), 1.0)
    table = [[abstained, total - abstained], [ref_abstained, ref_total - ref_abstained]]
    odds, p = fisher_exact(table, alternative="greater")
    return TestResult(float(odds), float(p))


def nearest_distance(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Cosine distance of each unit vector in `points` to its nearest one in `reference`."""
    if len(points) == 0:
        return np.zeros(0)
    return 1.0 - (points @ reference.T).max(axis=1)


def far_rate(far: int, total: int, expected: float) -> TestResult:
    """One-sided binomial test: more far-from-training texts than the rate `expected`?"""
    from scipy.stats import binomtest

    if not total:
        return TestResult(0.0, 1.0)
    result = binomtest(far, total, max(expected, 1e-6), alternative="greater")
    return TestResult(far / total, float(result.pvalue))


def group_far(embeddings: np.ndarray, *, threshold: float) -> list[list[int]]:
    """Indices of `embeddings` grouped by average-linkage clustering (cosine distance under
    `threshold` joins), largest group first."""
    if len(embeddings) == 0:
        return []
    if len(embeddings) == 1:
        return [[0]]
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    ).fit_predict(embeddings)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return sorted(groups.values(), key=len, reverse=True)
