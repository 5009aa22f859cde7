"""Classification metrics as plain data: quality, calibration, coverage and latency."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from narrowtune.calibration import choose_threshold, expected_calibration_error


def coverage_curve(
    confidence: np.ndarray, correct: np.ndarray, *, points: int = 41
) -> list[dict[str, float]]:
    """Accuracy of the predictions kept at each coverage level (most confident first)."""
    if len(confidence) == 0:
        return []
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order].astype(float))
    n = len(order)
    curve = []
    for coverage in np.linspace(1.0 / n, 1.0, points):
        k = max(1, round(coverage * n))
        curve.append(
            {
                "coverage": k / n,
                "accuracy": float(hits[k - 1] / k),
                "threshold": float(confidence[order][k - 1]),
            }
        )
    return curve


def classification_metrics(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[str | Sequence[str]],
    confidence: Sequence[float],
    *,
    labels: list[str],
    multi_label: bool,
    threshold: float | None = None,
    target_precision: float | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class P/R/F1, confusion matrix, ECE and the coverage curve.

    `gold` holds the label names of each example; `predicted` a name (single-label) or a list of
    names (multi-label). `threshold` is the abstention threshold the model was shipped with.
    """
    conf = np.asarray(confidence, dtype=float)
    index = {name: i for i, name in enumerate(labels)}
    out: dict[str, Any] = {"n": len(gold)}
    if multi_label:
        y_true = np.zeros((len(gold), len(labels)), dtype=int)
        y_pred = np.zeros_like(y_true)
        for row, (g, p) in enumerate(zip(gold, predicted)):
            y_true[row, [index[x] for x in g if x in index]] = 1
            y_pred[row, [index[x] for x in p if x in index]] = 1
        correct = (y_true == y_pred).all(axis=1)
        out["accuracy"] = float(correct.mean())  # exact set match
        out["micro_f1"] = float(f1_score(y_true, y_pred, average="micro", zero_division=0))
        out["macro_f1"] = float(f1_score(y_true, y_pred, average="macro", zero_division=0))
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    else:
        y_true_1 = np.array([index.get(g[0], -1) for g in gold])
        y_pred_1 = np.array([index.get(str(p), -1) for p in predicted])
        correct = y_true_1 == y_pred_1
        out["accuracy"] = float(correct.mean())
        ids = list(range(len(labels)))
        out["macro_f1"] = float(
            f1_score(y_true_1, y_pred_1, labels=ids, average="macro", zero_division=0)
        )
        p, r, f, s = precision_recall_fscore_support(
            y_true_1, y_pred_1, labels=ids, zero_division=0
        )
        matrix = np.zeros((len(labels), len(labels)), dtype=int)
        for t, q in zip(y_true_1, y_pred_1):
            if t >= 0 and q >= 0:
                matrix[t, q] += 1
        out["confusion"] = {"labels": labels, "matrix": matrix.tolist()}
    out["per_class"] = {
        name: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, name in enumerate(labels)
    }
    out["ece"], out["reliability"] = expected_calibration_error(conf, correct)
    out["coverage_curve"] = coverage_curve(conf, correct)
    if threshold is not None:
        kept = conf >= threshold
        out["abstention"] = {
            "threshold": float(threshold),
            "target_precision": target_precision,
            "coverage": float(kept.mean()) if len(kept) else 0.0,
            "precision_kept": float(correct[kept].mean()) if kept.any() else None,
        }
    if target_precision is not None:
        best = choose_threshold(conf, correct, target_precision=target_precision)
        out["oracle_coverage_at_target"] = best.coverage
    for level in (0.99,):
        at = choose_threshold(conf, correct, target_precision=level)
        out[f"coverage_at_{int(level * 100)}_precision_on_test"] = at.coverage
    return out


def measure_latency(
    predict: Callable[[list[str]], object],
    texts: Sequence[str],
    *,
    single: int = 100,
    batch_size: int = 64,
    cost_per_hour_usd: float = 0.10,
) -> dict[str, float]:
    """p50/p95 latency of one-text calls, batched throughput, and cost per 1,000 calls.

    Cost assumes the model runs on a machine rented at `cost_per_hour_usd` and kept busy at the
    measured batched throughput.
    """
    texts = list(texts)
    sample = texts[:single]
    predict(sample[:2])  # warm-up
    times = []
    for text in sample:
        start = time.perf_counter()
        predict([text])
        times.append((time.perf_counter() - start) * 1000)
    bulk = texts[: max(batch_size * 8, single)]
    start = time.perf_counter()
    for i in range(0, len(bulk), batch_size):
        predict(bulk[i : i + batch_size])
    elapsed = time.perf_counter() - start
    throughput = len(bulk) / elapsed if elapsed > 0 else float("inf")
    return {
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "throughput_per_s": float(throughput),
        "cost_per_1k_usd": float(cost_per_hour_usd / 3600 / throughput * 1000),
    }
