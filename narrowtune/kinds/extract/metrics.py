"""Extraction metrics: field-level P/R/F1 (exact and normalised), entity-level span F1,
document exact match, schema validity, intent accuracy and per-field calibration.

Counting, per document and field (lists count item by item, as multisets):
- a predicted value equal to the gold value is a true positive;
- a predicted value that differs from the gold value is a false positive *and* a false negative;
- a prediction where the gold is absent is a false positive; a gold value not predicted a false
  negative. Absent on both sides counts nothing.
"Exact" compares the values as produced (strings case-sensitive); "normalised" compares them
after the field's normaliser and case/whitespace/edge-punctuation folding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from narrowtune.kinds.base import Prediction
from narrowtune.kinds.extract.fields import Field
from narrowtune.kinds.extract.normalize import comparable

SpanSet = set[tuple[str, int, int]]


def _items(field: Field, value: Any) -> list[Any]:
    if value is None:
        return []
    if field.role == "list":
        return [v for v in (value if isinstance(value, list) else [value]) if v is not None]
    return [value]


def _key(value: Any) -> Any:
    return round(float(value), 6) if isinstance(value, int | float) else value


def _counts(gold: list[Any], pred: list[Any]) -> tuple[int, int, int]:
    g = Counter(map(_key, gold))
    p = Counter(map(_key, pred))
    tp = sum((g & p).values())
    return tp, sum(p.values()) - tp, sum(g.values()) - tp


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if tp + fp + fn == 0:  # nothing to find and nothing found: perfect, not zero
        precision = recall = f1 = 1.0
    return {"precision": precision, "recall": recall, "f1": f1}


def field_correct(field: Field, gold: Any, pred: Any) -> bool:
    """Whether a predicted field value matches the gold one (normalised; absent == absent)."""
    g = sorted(map(str, (comparable(field.normalizer, v) for v in _items(field, gold))))
    p = sorted(map(str, (comparable(field.normalizer, v) for v in _items(field, pred))))
    return g == p


def field_table(
    fields: Sequence[Field], golds: Sequence[dict[str, Any]], preds: Sequence[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Per field (and `all`, micro-averaged): P/R/F1 normalised, F1 exact, support."""
    table: dict[str, dict[str, float]] = {}
    totals = np.zeros((2, 3), dtype=int)
    for field in fields:
        counts = np.zeros((2, 3), dtype=int)
        support = 0
        for gold, pred in zip(golds, preds):
            g = _items(field, gold.get(field.name))
            p = _items(field, (pred or {}).get(field.name))
            support += len(g)
            counts[0] += _counts(g, p)
            counts[1] += _counts(
                [comparable(field.normalizer, v) for v in g],
                [comparable(field.normalizer, v) for v in p],
            )
        totals += counts
        norm = prf(*counts[1])
        table[field.name] = {**norm, "f1_exact": prf(*counts[0])["f1"], "support": support}
    norm = prf(*totals[1])
    table["all"] = {
        **norm,
        "f1_exact": prf(*totals[0])["f1"],
        "support": int(sum(v["support"] for v in table.values())),
    }
    return table


def item_counts(
    fields: Sequence[Field], gold: dict[str, Any], pred: dict[str, Any] | None
) -> tuple[int, int, int]:
    """One document's normalised (TP, FP, FN) over every field: `field_table`'s `all` row is
    these summed over the documents."""
    tp = fp = fn = 0
    for field in fields:
        g = [comparable(field.normalizer, v) for v in _items(field, gold.get(field.name))]
        p = [comparable(field.normalizer, v) for v in _items(field, (pred or {}).get(field.name))]
        a, b, c = _counts(g, p)
        tp, fp, fn = tp + a, fp + b, fn + c
    return tp, fp, fn


def span_scores(gold: Sequence[SpanSet], pred: Sequence[SpanSet]) -> dict[str, float]:
    """Entity-level micro P/R/F1 over (field, start, end) spans (seqeval conventions)."""
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    return prf(tp, fp, fn)


def per_field_ece(
    fields: Sequence[Field], golds: Sequence[dict[str, Any]], predictions: Sequence[Prediction]
) -> dict[str, float]:
    """ECE of each field's confidence (`Prediction.scores`) against whether the field is right."""
    from narrowtune.calibration import expected_calibration_error

    out = {}
    for field in fields:
        confidence = np.array([p.scores.get(field.name, 0.0) for p in predictions], dtype=float)
        correct = np.array(
            [
                field_correct(field, g.get(field.name), (p.output or {}).get(field.name))
                for g, p in zip(golds, predictions)
            ],
            dtype=float,
        )
        out[field.name] = expected_calibration_error(confidence, correct, bins=10)[0]
    return out


def document_correct(
    fields: Sequence[Field], gold: dict[str, Any], pred: dict[str, Any] | None
) -> bool:
    return all(field_correct(f, gold.get(f.name), (pred or {}).get(f.name)) for f in fields)


def extraction_metrics(
    fields: Sequence[Field],
    golds: Sequence[dict[str, Any]],
    predictions: Sequence[Prediction],
    *,
    gold_spans: Sequence[SpanSet] | None = None,
    pred_spans: Sequence[SpanSet] | None = None,
    gold_labels: Sequence[str] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Flat metrics of one system on the test split, and its per-field table."""
    outputs = [p.output or {} for p in predictions]
    table = field_table(fields, golds, outputs)
    correct = np.array([document_correct(fields, g, o) for g, o in zip(golds, outputs)])
    kept = np.array([not p.abstain for p in predictions])
    ece = per_field_ece(fields, golds, predictions)
    metrics: dict[str, Any] = {
        "field_f1": table["all"]["f1"],
        "field_precision": table["all"]["precision"],
        "field_recall": table["all"]["recall"],
        "field_f1_exact": table["all"]["f1_exact"],
        "exact_match": float(correct.mean()) if len(correct) else 0.0,
        "schema_validity": float(np.mean([p.valid for p in predictions])),
        "strict_validity": float(np.mean([p.valid and not p.missing for p in predictions])),
        "missing_rate": float(np.mean([bool(p.missing) for p in predictions])),
        "problem_rate": float(np.mean([bool(p.problems) for p in predictions])),
        "ece": float(np.mean(list(ece.values()))) if ece else 0.0,
        "coverage": float(kept.mean()),
        "exact_match_kept": float(correct[kept].mean()) if kept.any() else None,
        "span_f1": None,
        "intent_accuracy": None,
    }
    if gold_spans is not None and pred_spans is not None:
        spans = span_scores(gold_spans, pred_spans)
        metrics.update(
            span_f1=spans["f1"], span_precision=spans["precision"], span_recall=spans["recall"]
        )
    if gold_labels is not None:
        hits = [p.label == g for p, g in zip(predictions, gold_labels)]
        metrics["intent_accuracy"] = float(np.mean(hits)) if hits else 0.0
    for name, value in ece.items():
        table[name]["ece"] = value
    return metrics, table
