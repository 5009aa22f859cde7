"""The evaluation of an extract run: the fine-tuned model and every baseline on the test split.

Returns a typed `Evaluation` whose details hold `per_field` (the fine-tuned model's field table),
`threshold`, `target_precision` and `errors` (a few wrong outputs); its notes say which
baselines were skipped and why, and what training could not learn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.evaluate import extract_baselines as bl
from narrowtune.evaluate.blocks import Cell, Notes, Table
from narrowtune.evaluate.costs import cheapest_system, field_error_costs, field_lines, item_costs
from narrowtune.evaluate.evaluation import (
    Column,
    Evaluation,
    Section,
    SystemResult,
    build_evaluation,
)
from narrowtune.evaluate.metrics import measure_latency
from narrowtune.evaluate.significance import ItemScores, count_items, mean_items
from narrowtune.kinds.base import Prediction
from narrowtune.kinds.extract.metrics import (
    SpanSet,
    document_correct,
    extraction_metrics,
    field_correct,
    item_counts,
)
from narrowtune.task import TaskError

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.kinds.extract.model import ExtractModel
    from narrowtune.progress import ProgressFn
    from narrowtune.task import Task


def extraction_items(
    metric: str,
    fields: Sequence[Any],
    golds: Sequence[dict[str, Any]],
    predictions: Sequence[Prediction],
    *,
    gold_spans: Sequence[SpanSet] | None,
    pred_spans: Sequence[SpanSet] | None,
    gold_labels: Sequence[str] | None,
) -> ItemScores | None:
    """Per-document statistics of `metric`, for the margin's interval (None when unmeasured)."""
    outputs = [p.output or {} for p in predictions]
    if metric == "field_f1":
        return count_items(
            "micro_f1", [[[c] for c in item_counts(fields, g, o)] for g, o in zip(golds, outputs)]
        )
    if metric == "exact_match":
        ok = [document_correct(fields, g, o) for g, o in zip(golds, outputs)]
        return mean_items([float(x) for x in ok], ok)
    if metric == "span_f1" and gold_spans is not None and pred_spans is not None:
        counts = [
            [[len(g & p)], [len(p - g)], [len(g - p)]] for g, p in zip(gold_spans, pred_spans)
        ]
        return count_items("micro_f1", counts)
    if metric == "intent_accuracy" and gold_labels is not None:
        ok = [p.label == g for p, g in zip(predictions, gold_labels)]
        return mean_items([float(x) for x in ok], ok)
    return None


def _gold_spans(examples: Sequence[Example]) -> list[SpanSet]:
    return [
        {(name, s, e) for name, items in ex.target["spans"].items() for s, e in items}
        for ex in examples
    ]


def _columns(has_spans: bool, has_intent: bool) -> list[Column]:
    columns = [
        Column("field_f1", "field F1 %", "pct"),
        Column("field_f1_exact", "exact F1 %", "pct"),
    ]
    if has_spans:
        columns.append(Column("span_f1", "span F1 %", "pct"))
    if has_intent:
        columns.append(Column("intent_accuracy", "intent acc %", "pct"))
    columns += [
        Column("exact_match", "doc exact %", "pct"),
        Column("schema_validity", "valid %", "pct"),
        Column("ece", "field ECE", "num"),
        Column("coverage", "coverage %", "pct"),
        Column("latency.p50_ms", "p50 ms", "ms"),
        Column("latency.throughput_per_s", "texts/s", "int"),
        Column("train_seconds", "train s", "int"),
    ]
    return columns


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _field_table(tables: dict[str, dict[str, dict[str, float]]]) -> Table:
    """The fine-tuned model's scores field by field, with each baseline's F1 beside them."""
    systems = list(tables)
    first = tables[systems[0]]
    headers = ("field", "support", "P %", "R %", "F1 %", "exact F1 %", "ECE")
    headers += tuple(f"{s} F1 %" for s in systems[1:])
    rows = []
    for name, row in first.items():
        cells: list[Any] = [
            name,
            str(int(row["support"])),
            *(_pct(row[k]) for k in ("precision", "recall", "f1")),
            _pct(row["f1_exact"]),
            f"{row['ece']:.3f}" if "ece" in row else "",
        ]
        for system in systems[1:]:
            other = tables[system].get(name)
            cells.append(_pct(other["f1"]) if other else "")
        rows.append(tuple(cells))
    return Table(
        headers=headers,
        rows=tuple(rows),
        lead=f"Fine-tuned model ({systems[0]}), field by field; F1 is on normalised values, "
        "exact F1 on values as produced; ECE compares each field's confidence with whether "
        "the field is right.",
        numeric=frozenset(range(1, len(headers))),
    )


def _errors(
    model: ExtractModel, predictions: Sequence[Prediction], test: Sequence[Example], limit: int
) -> list[dict[str, Any]]:
    out = []
    for pred, ex in zip(predictions, test):
        gold = ex.target["output"]
        wrong = [
            f.name
            for f in model.fields
            if not field_correct(f, gold.get(f.name), (pred.output or {}).get(f.name))
        ]
        if model.config.labels and pred.label != ex.label:
            wrong.append("(intent)")
        if wrong:
            out.append(
                {
                    "where": ex.where,
                    "text": ex.text,
                    "fields": wrong,
                    "gold": {k: gold.get(k) for k in wrong if k != "(intent)"},
                    "predicted": {k: (pred.output or {}).get(k) for k in wrong if k != "(intent)"},
                    "intent": [ex.label, pred.label] if "(intent)" in wrong else None,
                    "confidence": pred.confidence,
                    "problems": pred.problems,
                }
            )
    out.sort(key=lambda e: -e["confidence"])  # confident mistakes first
    return out[:limit]


def _errors_table(errors: list[dict[str, Any]]) -> Table:
    rows = []
    for err in errors:
        text = err["text"] if len(err["text"]) <= 300 else err["text"][:300] + "…"
        diffs = [
            f"{k}: gold {err['gold'][k]!r}, predicted {err['predicted'][k]!r}" for k in err["gold"]
        ]
        if err["intent"]:
            diffs.append(f"intent: gold {err['intent'][0]}, predicted {err['intent'][1]}")
        diffs += err["problems"]
        rows.append(
            (err["where"], text, Cell(style="list", items=tuple(diffs)), f"{err['confidence']:.2f}")
        )
    return Table(
        headers=("row", "text", "differences", "conf."),
        rows=tuple(rows),
        lead="Wrong outputs of the fine-tuned model, most confident first.",
        numeric=frozenset({3}),
        empty="Every test output matched the gold output.",
    )


def evaluate(
    task: Task,
    model: ExtractModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> Evaluation:
    """Score the extractor and every available baseline on the test split."""
    test = splits.test
    texts = [ex.text for ex in test]
    golds = [ex.target["output"] for ex in test]
    fields = model.fields
    has_spans = any(f.spans for f in fields)
    has_intent = bool(model.config.labels)
    gold_spans = _gold_spans(test) if has_spans else None
    gold_labels = [ex.label for ex in test] if has_intent else None

    def score(preds: list[Prediction], spans: list[SpanSet] | None) -> tuple[dict, dict]:
        return extraction_metrics(
            fields,
            golds,
            preds,
            gold_spans=gold_spans,
            pred_spans=spans if has_spans else None,
            gold_labels=gold_labels,
        )

    field_costs: dict[str, dict[str, Any]] = {}

    def price(name: str, metrics: dict[str, Any], preds: list[Prediction]) -> None:
        """metrics["cost"] when the task declares costs (kept per field for the details)."""
        if task.costs is None:
            return
        outputs = [p.output for p in preds]
        errors, per_field = field_error_costs(task.costs, fields, golds, outputs, field_correct)
        answered = np.array([not p.abstain for p in preds], dtype=bool)
        metrics["cost"] = item_costs(errors, answered, task.costs.review, task.costs.unit)
        field_costs[name] = per_field

    def items(preds: list[Prediction], spans: list[SpanSet] | None) -> ItemScores | None:
        return extraction_items(
            task.metric,
            fields,
            golds,
            preds,
            gold_spans=gold_spans,
            pred_spans=spans if has_spans else None,
            gold_labels=gold_labels,
        )

    start = time.perf_counter()
    predictions, spans = model.predict_with_spans(texts)
    metrics, table = score(predictions, spans)
    metrics["seconds"] = time.perf_counter() - start
    fine_name = f"fine-tuned ({Path(task.model.base).name})"
    if task.costs is not None:
        unknown = task.costs.unknown_fields([f.name for f in fields])
        if unknown:
            raise TaskError("task file: " + "; ".join(unknown))
    price(fine_name, metrics, predictions)
    systems = [
        SystemResult(
            name=fine_name,
            role="fine-tuned",
            description="encoder fine-tuned with a BIO token head"
            + (", class heads" if model.config.heads else "")
            + (" (joint intent)" if has_intent else "")
            + f"; best of {len(model.config.history)} epochs on validation",
            train_seconds=train_seconds,
            metrics=metrics,
            latency=measure_latency(model.predict, texts) if latency else None,
            items=items(predictions, spans),
        )
    ]
    tables = {fine_name: table}
    cov = model.config.span_values
    notes = []
    if cov.get("unlocated"):
        notes.append(
            f"{cov['unlocated']} of {cov['values']} training span values could not be located "
            "in their text (no span given, no exact or case-insensitive match): not learned."
        )
    if model.config.ragged_spans:
        notes.append(
            f"{model.config.ragged_spans} training spans did not start/end on a word boundary "
            "and were widened to whole words."
        )

    if baselines:
        candidates: list[tuple[Any, float]] = []
        begin = time.perf_counter()
        gazetteer = bl.Gazetteer(fields, model.finalizer, splits.train)
        candidates.append((gazetteer, time.perf_counter() - begin))
        if task.extract.baseline:
            func = bl.load_function(task.base_dir, task.extract.baseline)
            candidates.append((bl.UserRules(func, model.finalizer, task.extract.baseline), 0.0))
        else:
            notes.append("no rule baseline: set extract.baseline: 'rules.py:function' to add one.")
        from narrowtune.evaluate.llm import SKIPPED, Endpoint

        endpoint = Endpoint.from_env()
        if endpoint is None:
            notes.append(f"{SKIPPED} (optionally NARROWTUNE_LLM_API_KEY, NARROWTUNE_LLM_MODEL).")
        else:
            try:
                llm = bl.LLMExtractor(
                    endpoint,
                    model.config.output_schema,
                    model.finalizer,
                    instructions=task.description,
                    examples=splits.train[:3],
                    intents=model.config.labels,
                )
                candidates.append((llm, 0.0))
            except Exception as exc:  # the endpoint is the user's: report, do not crash
                notes.append(f"prompted-LLM baseline failed to start: {exc}")
        for system, fit_seconds in candidates:
            begin = time.perf_counter()
            try:
                preds, b_spans = system.predict(texts)
            except Exception as exc:
                if not isinstance(system, bl.LLMExtractor):
                    raise
                notes.append(f"prompted-LLM baseline failed: {exc}")
                continue
            b_metrics, b_table = score(preds, b_spans)
            b_metrics["seconds"] = time.perf_counter() - begin
            price(system.name, b_metrics, preds)
            predict: Callable[[list[str]], object] = system.predict
            systems.append(
                SystemResult(
                    name=system.name,
                    role="baseline",
                    description=system.description,
                    train_seconds=fit_seconds,
                    metrics=b_metrics,
                    latency=measure_latency(predict, texts, single=20)
                    if latency and not isinstance(system, bl.LLMExtractor)
                    else None,
                    items=items(preds, b_spans),
                )
            )
            tables[system.name] = b_table

    errors = _errors(model, predictions, test, 30)
    sections = [
        Section("fields", "Fields", _field_table(tables)),
        Section("errors", "Errors", _errors_table(errors[:15])),
    ]
    if notes:
        sections.append(Section("notes", "Notes", Notes(tuple(notes))))
    details: dict[str, Any] = {
        "per_field": table,
        "threshold": model.config.threshold,
        "target_precision": model.config.target_precision,
        "errors": errors,
    }
    if task.costs is not None:
        details["costs"] = {
            "unit": task.costs.unit,
            "review": task.costs.review,
            "default": task.costs.default,
            "declared": {"fields": dict(task.costs.fields)},
            "confusions": field_lines(field_costs[fine_name]),
            "cheapest": cheapest_system(systems),
            "notes": [
                "a document costs the sum of its wrong or missing fields' costs; an abstained "
                "one costs a review ('target-precision threshold' column)"
            ],
        }
    return build_evaluation(
        task.name,
        task.kind,
        splits,
        systems,
        primary_metric=task.metric,
        columns=_columns(has_spans, has_intent),
        sections=sections,
        notes=notes,
        details=details,
    )
