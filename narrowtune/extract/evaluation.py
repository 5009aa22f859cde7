"""The evaluation of an extract run: the fine-tuned model and every baseline on the test split.

Called through `narrowtune.kinds.extract.evaluate` (the evaluate layer dispatches to the kind);
it returns the shared evaluation shape (see `narrowtune.kinds.base.Kind`) plus `per_field`
(the fine-tuned model's field table), `notes` (baselines skipped and why, training facts) and
`errors` (a few wrong outputs).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.extract import baselines as bl
from narrowtune.extract.metrics import SpanSet, extraction_metrics, field_correct
from narrowtune.kinds.base import Prediction, ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.kinds.extract import ExtractModel
    from narrowtune.task import Task


def _gold_spans(examples: Sequence[Example]) -> list[SpanSet]:
    return [
        {(name, s, e) for name, items in ex.target["spans"].items() for s, e in items}
        for ex in examples
    ]


def _columns(has_spans: bool, has_intent: bool) -> list[dict[str, str]]:
    columns = [
        {"key": "field_f1", "header": "field F1 %", "format": "pct"},
        {"key": "field_f1_exact", "header": "exact F1 %", "format": "pct"},
    ]
    if has_spans:
        columns.append({"key": "span_f1", "header": "span F1 %", "format": "pct"})
    if has_intent:
        columns.append({"key": "intent_accuracy", "header": "intent acc %", "format": "pct"})
    columns += [
        {"key": "exact_match", "header": "doc exact %", "format": "pct"},
        {"key": "schema_validity", "header": "valid %", "format": "pct"},
        {"key": "ece", "header": "field ECE", "format": "num"},
        {"key": "coverage", "header": "coverage %", "format": "pct"},
        {"key": "latency.p50_ms", "header": "p50 ms", "format": "ms"},
        {"key": "latency.throughput_per_s", "header": "texts/s", "format": "int"},
        {"key": "train_seconds", "header": "train s", "format": "int"},
    ]
    return columns


def _field_section(tables: dict[str, dict[str, dict[str, float]]]) -> str:
    systems = list(tables)
    first = tables[systems[0]]
    head = "<th>field</th><th class='num'>support</th><th class='num'>P %</th>"
    head += "<th class='num'>R %</th><th class='num'>F1 %</th><th class='num'>exact F1 %</th>"
    head += "<th class='num'>ECE</th>"
    head += "".join(f"<th class='num'>{html.escape(s)} F1 %</th>" for s in systems[1:])
    rows = []
    for name, row in first.items():
        cells = [
            f"<td>{html.escape(name)}</td>",
            f"<td class='num'>{int(row['support'])}</td>",
            *(f"<td class='num'>{100 * row[k]:.1f}</td>" for k in ("precision", "recall", "f1")),
            f"<td class='num'>{100 * row['f1_exact']:.1f}</td>",
            f"<td class='num'>{row['ece']:.3f}</td>" if "ece" in row else "<td></td>",
        ]
        for system in systems[1:]:
            other = tables[system].get(name)
            cells.append(f"<td class='num'>{100 * other['f1']:.1f}</td>" if other else "<td></td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<p>Fine-tuned model ({html.escape(systems[0])}), field by field; F1 is on normalised "
        "values, exact F1 on values as produced; ECE compares each field's confidence with "
        "whether the field is right.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
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


def _errors_section(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "<p>Every test output matched the gold output.</p>"
    rows = []
    for err in errors:
        text = err["text"] if len(err["text"]) <= 300 else err["text"][:300] + "…"
        diffs = "".join(
            f"<li><code>{html.escape(k)}</code>: gold <code>{html.escape(repr(err['gold'][k]))}"
            f"</code>, predicted <code>{html.escape(repr(err['predicted'][k]))}</code></li>"
            for k in err["gold"]
        )
        if err["intent"]:
            diffs += (
                f"<li>intent: gold <code>{html.escape(err['intent'][0])}</code>, predicted "
                f"<code>{html.escape(err['intent'][1])}</code></li>"
            )
        problems = "".join(f"<li>{html.escape(p)}</li>" for p in err["problems"])
        rows.append(
            f"<tr><td>{html.escape(err['where'])}</td><td>{html.escape(text)}</td>"
            f"<td><ul>{diffs}{problems}</ul></td><td class='num'>{err['confidence']:.2f}</td></tr>"
        )
    return (
        "<p>Wrong outputs of the fine-tuned model, most confident first.</p><table><thead><tr>"
        "<th>row</th><th>text</th><th>differences</th><th class='num'>conf.</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def evaluate_extract(
    task: Task,
    model: ExtractModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    from narrowtune.data import fingerprint
    from narrowtune.evaluate import machine_description
    from narrowtune.evaluate.metrics import measure_latency
    from narrowtune.evaluate.report import notes_html

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

    start = time.perf_counter()
    predictions, spans = model.predict_with_spans(texts)
    metrics, table = score(predictions, spans)
    metrics["seconds"] = time.perf_counter() - start
    fine_name = f"fine-tuned ({Path(task.model.base).name})"
    systems: list[dict[str, Any]] = [
        {
            "name": fine_name,
            "role": "fine-tuned",
            "description": "encoder fine-tuned with a BIO token head"
            + (", class heads" if model.config.heads else "")
            + (" (joint intent)" if has_intent else "")
            + f"; best of {len(model.config.history)} epochs on validation",
            "train_seconds": train_seconds,
            "metrics": metrics,
            "latency": measure_latency(model.predict, texts) if latency else None,
        }
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
            predict: Callable[[list[str]], object] = system.predict
            systems.append(
                {
                    "name": system.name,
                    "role": "baseline",
                    "description": system.description,
                    "train_seconds": fit_seconds,
                    "metrics": b_metrics,
                    "latency": measure_latency(predict, texts, single=20)
                    if latency and not isinstance(system, bl.LLMExtractor)
                    else None,
                }
            )
            tables[system.name] = b_table

    primary = task.metric
    fine = systems[0]["metrics"].get(primary)
    scored = [s for s in systems[1:] if s["metrics"].get(primary) is not None]
    best = max(scored, key=lambda s: s["metrics"][primary]) if scored else None
    errors = _errors(model, predictions, test, 30)
    sections = [
        ["fields", "Fields", _field_section(tables)],
        ["errors", "Errors", _errors_section(errors[:15])],
    ]
    if notes:
        sections.append(["notes", "Notes", notes_html(notes)])
    return {
        "task": task.name,
        "kind": task.kind,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_description(),
        "split": {**splits.sizes(), "name": "test", "fingerprint": fingerprint(test)},
        "primary_metric": primary,
        "systems": systems,
        "margin": {
            "metric": primary,
            "fine_tuned": fine,
            "best_baseline": best["name"] if best else None,
            "best_baseline_value": best["metrics"][primary] if best else None,
            "delta": fine - best["metrics"][primary] if best and fine is not None else None,
        },
        "columns": _columns(has_spans, has_intent),
        "sections": sections,
        "per_field": table,
        "threshold": model.config.threshold,
        "target_precision": model.config.target_precision,
        "notes": notes,
        "errors": errors,
    }
