"""Temperature scaling and abstention thresholds, fitted on validation data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

# Fewer validation items than this and a fitted temperature or a chosen threshold means little:
# one item moves the precision by more than 3 points. Callers that pass `few=FEW_VALIDATION`
# then keep T = 1 and never let the threshold fall below the target precision itself.
FEW_VALIDATION = 30


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    from scipy.special import expit  # no overflow warning for large logits / small temperatures

    return expit(logits / temperature)


def fit_temperature(
    logits: np.ndarray, targets: np.ndarray, *, multi_label: bool = False, few: int = 0
) -> float:
    """The temperature T minimising validation NLL of softmax(logits / T) (or sigmoid).

    `targets` are class indices (single-label) or a 0/1 matrix (multi-label). With fewer than
    `few` rows, 1.0: on a handful of rows that are all right, the NLL is minimised by sharpening
    every confidence towards 1, which is what an unseen request then gets.
    """
    if len(logits) < few:
        return 1.0
    x = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(targets)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def nll() -> torch.Tensor:
        optimizer.zero_grad()
        scaled = x / log_t.exp()
        if multi_label:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(scaled, y.double())
        else:
            loss = torch.nn.functional.cross_entropy(scaled, y.long())
        loss.backward()
        return loss

    optimizer.step(nll)
    temperature = float(log_t.exp().item())
    if not np.isfinite(temperature) or temperature <= 0:
        return 1.0
    return float(np.clip(temperature, 0.05, 20.0))


@dataclass(frozen=True)
class Threshold:
    """Predictions with confidence >= `value` are kept; the rest go to a human."""

    value: float
    target_precision: float
    precision: float  # on the data it was chosen on
    coverage: float


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, *, target_precision: float, few: int = 0
) -> Threshold:
    """The lowest confidence threshold whose kept predictions reach `target_precision`.

    Scans predictions from most to least confident and keeps the largest prefix whose precision
    still meets the target. With none, the threshold sits above every confidence (abstain always).
    With fewer than `few` items the threshold is at least `target_precision` (`safe_threshold`).
    """
    if 0 < len(confidence) < few:
        chosen = choose_threshold(confidence, correct, target_precision=target_precision)
        value = safe_threshold(chosen.value, len(confidence), target_precision, few=few)
        kept = confidence >= value
        precision = float(correct[kept].mean()) if kept.any() else float("nan")
        return Threshold(value, target_precision, precision, float(kept.mean()))
    if len(confidence) == 0:
        return Threshold(1.0, target_precision, float("nan"), 0.0)
    order = np.argsort(-confidence, kind="stable")
    conf = confidence[order]
    hits = np.cumsum(correct[order].astype(float))
    kept = np.arange(1, len(conf) + 1)
    precision = hits / kept
    # Only cut between distinct confidence values: ties are kept or dropped together.
    boundary = np.append(conf[1:] < conf[:-1], True)
    ok = np.flatnonzero((precision >= target_precision - 1e-12) & boundary)
    if len(ok) == 0:
        return Threshold(float(np.nextafter(conf[0], np.inf)), target_precision, float("nan"), 0.0)
    k = int(ok[-1])
    return Threshold(float(conf[k]), target_precision, float(precision[k]), (k + 1) / len(conf))


def safe_threshold(value: float, items: int, target_precision: float, *, few: int) -> float:
    """`value`, or `target_precision` when that is higher and fewer than `few` items chose it:
    a threshold chosen on a handful of rows abstains more, never less, than the confidence the
    precision target itself asks for."""
    return max(value, target_precision) if items < few else value


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, bins: int = 15
) -> tuple[float, list[dict[str, float]]]:
    """ECE with equal-width confidence bins, and the reliability table behind it."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = []
    ece = 0.0
    n = max(len(confidence), 1)
    for lower, upper in itertools.pairwise(edges):
        inside = (confidence > lower) & (confidence <= upper)
        if lower == 0.0:
            inside |= confidence == 0.0
        count = int(inside.sum())
        if count == 0:
            continue
        conf = float(confidence[inside].mean())
        acc = float(correct[inside].mean())
        ece += count / n * abs(conf - acc)
        table.append(
            {
                "lower": float(lower),
                "upper": float(upper),
                "confidence": conf,
                "accuracy": acc,
                "count": count,
            }
        )
    return float(ece), table


@dataclass(frozen=True)
class ScopeThreshold:
    """A threshold meeting a target precision on in-scope requests and a target share of
    out-of-scope requests caught (abstained on, or routed to a catch-all label)."""

    value: float
    precision_threshold: float  # the threshold the precision target alone would give
    recall_threshold: float  # the threshold the out-of-scope target alone would give
    coverage: float  # of in-scope items, on the data it was chosen on
    out_of_scope_recall: float  # on the data it was chosen on


def choose_scope_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    oos_confidence: np.ndarray,
    *,
    target_precision: float,
    target_recall: float,
    oos_caught: np.ndarray | None = None,
    few: int = 0,
) -> ScopeThreshold:
    """The lowest threshold that meets both targets: `target_precision` on the in-scope items
    (`confidence`, `correct`) and `target_recall` of the out-of-scope items caught, i.e. with a
    confidence below it, or already caught (`oos_caught`: routed to a catch-all label). With
    fewer than `few` in-scope items, never below `target_precision` (`safe_threshold`)."""
    by_precision = choose_threshold(
        confidence, correct, target_precision=target_precision, few=few
    ).value
    caught = np.zeros(len(oos_confidence), dtype=bool) if oos_caught is None else oos_caught
    need = int(np.ceil(target_recall * len(oos_confidence) - 1e-9)) - int(caught.sum())
    loose = np.sort(oos_confidence[~caught])
    by_recall = 0.0 if need <= 0 else float(np.nextafter(loose[min(need, len(loose)) - 1], np.inf))
    value = max(by_precision, by_recall)
    recall = (
        float(((oos_confidence < value) | caught).mean()) if len(oos_confidence) else float("nan")
    )
    coverage = float((confidence >= value).mean()) if len(confidence) else 0.0
    return ScopeThreshold(value, by_precision, by_recall, coverage, recall)
