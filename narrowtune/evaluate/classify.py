"""The evaluation of a classify run: the fine-tuned classifier against the baselines a user would
pick instead (zero-shot embedding similarity, frozen embeddings + logistic regression / kNN, and
a prompted LLM behind an OpenAI-compatible endpoint when one is configured), on the same split.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from narrowtune.calibration import FEW_VALIDATION, choose_scope_threshold
from narrowtune.data import Example, Splits
from narrowtune.data.labels import is_correct
from narrowtune.data.scope import out_of_scope_examples
from narrowtune.encoders import Encoder
from narrowtune.evaluate import baselines as bl
from narrowtune.evaluate.costs import CostModel, costly_confusions, system_costs
from narrowtune.evaluate.evaluation import Evaluation, SystemResult, build_evaluation
from narrowtune.evaluate.metrics import classification_metrics, measure_latency
from narrowtune.evaluate.significance import classification_items
from narrowtune.kinds.base import Prediction
from narrowtune.kinds.classify.model import ClassifyModel
from narrowtune.progress import ProgressFn
from narrowtune.task import Task


def score_predictions(
    predictions: Sequence[Prediction],
    examples: Sequence[Example],
    *,
    labels: list[str],
    multi_label: bool,
    threshold: float | None,
    target_precision: float,
) -> dict[str, Any]:
    return classification_metrics(
        [ex.labels for ex in examples],
        [p.label for p in predictions],
        [p.confidence for p in predictions],
        labels=labels,
        multi_label=multi_label,
        threshold=threshold,
        target_precision=target_precision,
    )


def _errors(
    predictions: Sequence[Prediction], examples: Sequence[Example], limit: int = 30
) -> list[dict[str, Any]]:
    out = []
    for p, ex in zip(predictions, examples):
        gold: str | list[str] = list(ex.labels) if isinstance(p.label, list) else ex.labels[0]
        wrong = set(p.label) != set(gold) if isinstance(p.label, list) else p.label != gold
        if wrong:
            out.append(
                {
                    "text": ex.text,
                    "gold": gold,
                    "predicted": p.label,
                    "confidence": p.confidence,
                    "abstain": p.abstain,
                }
            )
    out.sort(key=lambda e: -e["confidence"])  # confident mistakes are the dangerous ones
    return out[:limit]


@dataclass
class Decided:
    """A system's decisions on some items: label(s), confidence (None: it gives none), which
    items it answered (None: those with confidence >= `threshold`, or all without one)."""

    predicted: list[str | list[str]] | list[str]
    confidence: np.ndarray | None
    answered: np.ndarray | None = None
    threshold: float | None = None

    def answered_mask(self) -> np.ndarray:
        if self.answered is not None:
            return self.answered
        if self.confidence is None or self.threshold is None:
            return np.ones(len(self.predicted), dtype=bool)
        return self.confidence >= self.threshold

    def subset(self, mask: np.ndarray) -> Decided:
        return Decided(
            [p for p, keep in zip(self.predicted, mask) if keep],
            None if self.confidence is None else self.confidence[mask],
            None if self.answered is None else self.answered[mask],
            self.threshold,
        )


def _routed_to(predicted: Sequence[str | Sequence[str]], label: str | None) -> np.ndarray:
    if label is None:
        return np.zeros(len(predicted), dtype=bool)
    return np.array(
        [p == label if isinstance(p, str) else label in p for p in predicted], dtype=bool
    )


def _scope_metrics(
    task: Task,
    splits: Splits,
    *,
    test: Decided,
    val: Decided | None,
    oos_val: Decided | None,
    oos_test: Decided | None,
) -> dict[str, Any]:
    """Out-of-scope recall (share of out-of-scope requests abstained on, or routed to the
    catch-all label) at the system's own threshold, and at a threshold chosen on validation to
    meet both the target precision (in-scope) and the target out-of-scope recall."""
    scope = task.abstain.out_of_scope
    assert scope is not None
    catch = scope.label

    def outside(examples: Sequence[Example]) -> np.ndarray:
        return np.array([catch is not None and catch in ex.labels for ex in examples], dtype=bool)

    test_out = outside(splits.test)
    test_in, test_in_examples = (
        test.subset(~test_out),
        [ex for ex, o in zip(splits.test, test_out) if not o],
    )
    if catch is not None:
        oos_test = test.subset(test_out)
        oos_val = None if val is None else val.subset(outside(splits.validation))
    out: dict[str, Any] = {
        "source": f"catch-all label '{catch}'" if catch else str(scope.examples),
        "target_recall": scope.target_recall,
        "test_items": 0 if oos_test is None else len(oos_test.predicted),
        "recall_at_threshold": None,
        "scope_threshold": None,
        "recall_at_scope_threshold": None,
        "in_scope_coverage_at_scope_threshold": None,
        "in_scope_precision_at_scope_threshold": None,
    }
    if oos_test is None or not oos_test.predicted:
        return out
    caught = _routed_to(oos_test.predicted, catch)
    out["recall_at_threshold"] = float((~oos_test.answered_mask() | caught).mean())
    if (
        val is None
        or oos_val is None
        or val.confidence is None
        or oos_val.confidence is None
        or test.confidence is None
        or oos_test.confidence is None
    ):
        return out
    val_out = outside(splits.validation)
    val_in = val.subset(~val_out)
    val_examples = [ex for ex, o in zip(splits.validation, val_out) if not o]
    assert val_in.confidence is not None and test_in.confidence is not None
    chosen = choose_scope_threshold(
        val_in.confidence,
        is_correct(val_in.predicted, val_examples),
        oos_val.confidence,
        target_precision=task.abstain.target_precision,
        target_recall=scope.target_recall,
        oos_caught=_routed_to(oos_val.predicted, catch),
        few=FEW_VALIDATION,
    )
    kept = test_in.confidence >= chosen.value
    correct = is_correct(test_in.predicted, test_in_examples)
    out.update(
        scope_threshold=chosen.value,
        recall_at_scope_threshold=float(((oos_test.confidence < chosen.value) | caught).mean()),
        in_scope_coverage_at_scope_threshold=float(kept.mean()) if len(kept) else None,
        in_scope_precision_at_scope_threshold=float(correct[kept].mean()) if kept.any() else None,
    )
    return out


def decision_metrics(
    task: Task,
    splits: Splits,
    labels: list[str],
    multi: bool,
    *,
    test_predicted: Sequence[str | Sequence[str]],
    test_confidence: np.ndarray | None,
    threshold: float | None,
    val_predicted: Sequence[str | Sequence[str]] | None = None,
    val_confidence: np.ndarray | None = None,
    test_answered: np.ndarray | None = None,
    oos_val: Decided | None = None,
    oos_test: Decided | None = None,
) -> dict[str, Any]:
    """What a system's decisions cost when the task declares costs (`cost`), and how much
    out-of-scope traffic it catches when the task describes some (`out_of_scope`): choices are
    made on the validation predictions, figures measured on test. `oos_val` / `oos_test`: the
    system's decisions on the task's out-of-scope examples (a file of them)."""
    out: dict[str, Any] = {}
    if task.abstain.out_of_scope is not None:
        out["out_of_scope"] = _scope_metrics(
            task,
            splits,
            test=Decided(list(test_predicted), test_confidence, test_answered, threshold),
            val=None
            if val_predicted is None
            else Decided(list(val_predicted), val_confidence, None, None),
            oos_val=oos_val,
            oos_test=oos_test,
        )
    if task.costs is not None:
        model = CostModel.from_spec(task.costs, labels, multi_label=multi)
        out["cost"] = system_costs(
            model,
            test_gold=[ex.labels for ex in splits.test],
            test_predicted=test_predicted,
            test_confidence=test_confidence,
            threshold=threshold,
            val_gold=[ex.labels for ex in splits.validation],
            val_predicted=val_predicted,
            val_confidence=val_confidence,
            test_answered=test_answered,
        )
    return out


def _cost_details(
    task: Task,
    splits: Splits,
    labels: list[str],
    multi: bool,
    predictions: Sequence[Prediction],
    systems: list[SystemResult],
) -> dict[str, Any]:
    """The declared costs, the fine-tuned model's most expensive confusions (answered items,
    at its shipped threshold) and the cheapest system."""
    assert task.costs is not None
    model = CostModel.from_spec(task.costs, labels, multi_label=multi)
    answered = np.array([not p.abstain for p in predictions], dtype=bool)
    priced = [
        (s.metrics["cost"][key], s.name, key)
        for s in systems
        for key in ("per_1k_answer_all", "per_1k_at_target", "per_1k_at_cost_threshold")
        if (s.metrics.get("cost") or {}).get(key) is not None
    ]
    cheapest = min(priced) if priced else None
    notes = []
    if multi and task.costs.errors:
        notes.append("multi-label: every wrong label set costs `costs.default`")
    return {
        "unit": task.costs.unit,
        "review": task.costs.review,
        "default": task.costs.default,
        "declared": {g: dict(row) for g, row in task.costs.errors.items()},
        "confusions": costly_confusions(
            model,
            [ex.labels for ex in splits.test],
            [p.label for p in predictions],
            answered,
        ),
        "cheapest": None
        if cheapest is None
        else {"system": cheapest[1], "setting": cheapest[2], "per_1k": cheapest[0]},
        "notes": notes,
    }


def evaluate(
    task: Task,
    model: ClassifyModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> Evaluation:
    """Score `model` and every baseline on the test split."""
    test = splits.test
    if not test:
        raise ValueError("the test split is empty: give data.test or set split.test > 0")
    config = model.config
    labels: list[str] = config.labels
    multi = config.multi_label
    target = task.abstain.target_precision
    texts = [ex.text for ex in test]

    start = time.perf_counter()
    predictions = model.predict(texts)
    metrics = score_predictions(
        predictions,
        test,
        labels=labels,
        multi_label=multi,
        threshold=config.threshold,
        target_precision=target,
    )
    metrics["seconds"] = time.perf_counter() - start
    val_predictions = model.predict([ex.text for ex in splits.validation]) if _decides(task) else []
    scope = out_of_scope_examples(task)
    oos_val_pred = model.predict([ex.text for ex in scope.validation]) if scope.validation else []
    oos_test_pred = model.predict([ex.text for ex in scope.test]) if scope.test else []
    metrics.update(
        decision_metrics(
            task,
            splits,
            labels,
            multi,
            test_predicted=[p.label for p in predictions],
            test_confidence=np.array([p.confidence for p in predictions], dtype=float),
            threshold=config.threshold,
            val_predicted=[p.label for p in val_predictions],
            val_confidence=np.array([p.confidence for p in val_predictions], dtype=float),
            test_answered=np.array([not p.abstain for p in predictions], dtype=bool),
            oos_val=_decided(oos_val_pred) if scope.validation else None,
            oos_test=_decided(oos_test_pred) if scope.test else None,
        )
    )
    systems = [
        SystemResult(
            name=f"fine-tuned ({Path(task.model.base).name})",
            role="fine-tuned",
            description=f"{config.mode} fine-tune of the encoder with a linear head (LP-FT)",
            train_seconds=train_seconds,
            metrics=metrics,
            latency=measure_latency(model.predict, texts) if latency else None,
            items=classification_items(
                [ex.labels for ex in test],
                [p.label for p in predictions],
                labels=labels,
                metric=task.metric,
            ),
        )
    ]
    notes: list[str] = []
    if len(splits.validation) < FEW_VALIDATION:
        notes.append(
            f"safe defaults on {len(splits.validation)} validation rows (fewer than "
            f"{FEW_VALIDATION}): no temperature fitted (T = 1) and no abstention threshold below "
            f"the target precision {target:g}, so more requests go to review, not fewer"
        )
    if baselines:
        # A moderation model reads normalised text: its baselines read the same.
        seen = splits if model.moderator is None else prepared_splits(model, splits)
        systems.extend(baseline_systems(task, seen, labels, multi, progress, latency))
        llm_system = _llm_system(task, test, labels, multi)
        if llm_system is None:
            from narrowtune.evaluate.llm import SKIPPED

            notes.append(SKIPPED)
        else:
            systems.append(llm_system)
    details: dict[str, Any] = {
        "labels": labels,
        "multi_label": multi,
        "target_precision": target,
        "errors": _errors(predictions, test),
    }
    if task.costs is not None:
        details["costs"] = _cost_details(task, splits, labels, multi, predictions, systems)
    sections = []
    if model.moderator is not None and model.moderator.policy_labels:
        from narrowtune.evaluate.moderation import moderation_details, moderation_sections

        details["moderation"] = moderation_details(
            model,
            test,
            predictions,
            metrics["per_class"],
            metric=task.metric,
        )
        sections = moderation_sections(details["moderation"], task.metric)
    return build_evaluation(
        task.name,
        task.kind,
        splits,
        systems,
        primary_metric=task.metric,
        notes=notes,
        details=details,
        sections=sections,
    )


def prepared_splits(model: ClassifyModel, splits: Splits) -> Splits:
    """`splits` with each text replaced by what `model` reads (normalised, link tags)."""

    def prepared(examples: list[Example]) -> list[Example]:
        inputs = model.model_inputs([ex.text for ex in examples])
        return [replace(ex, text=text) for ex, text in zip(examples, inputs, strict=True)]

    return Splits(prepared(splits.train), prepared(splits.validation), prepared(splits.test))


def _decides(task: Task) -> bool:
    """Whether the evaluation makes choices of its own on validation predictions."""
    return task.costs is not None or task.abstain.out_of_scope is not None


def _decided(predictions: Sequence[Prediction]) -> Decided:
    return Decided(
        [p.label for p in predictions],
        np.array([p.confidence for p in predictions], dtype=float),
        np.array([not p.abstain for p in predictions], dtype=bool),
    )


def _llm_out_of_scope(
    endpoint: Any, task: Task, descriptions: dict[str, str], multi: bool
) -> Decided | None:
    """The prompted LLM on the out-of-scope test examples: an answer naming no label counts as
    caught (it answered nothing a user would act on)."""
    from narrowtune.evaluate.llm import classify_baseline

    scope = out_of_scope_examples(task)
    if not scope.test:
        return None
    _, predicted, _ = classify_baseline(endpoint, descriptions, scope.test, multi_label=multi)
    answered = np.array([bool(p) for p in predicted], dtype=bool)
    return Decided(list(predicted), None, answered)


def _llm_system(
    task: Task, test: list[Example], labels: list[str], multi: bool
) -> SystemResult | None:
    """The prompted-LLM baseline when an endpoint is configured (see narrowtune.evaluate.llm)."""
    from narrowtune.evaluate.llm import Endpoint, classify_baseline

    endpoint = Endpoint.from_env()
    if endpoint is None:
        return None
    descriptions = {name: (task.labels or {}).get(name, "") for name in labels}
    model, predicted, seconds = classify_baseline(endpoint, descriptions, test, multi_label=multi)
    metrics = classification_metrics(
        [ex.labels for ex in test],
        predicted,
        [1.0] * len(predicted),
        labels=labels,
        multi_label=multi,
    )
    # A prompted LLM gives no calibrated confidence: no ECE, no coverage curve to compare.
    metrics.update(ece=None, abstention=None, coverage_curve=None)
    metrics.update(
        decision_metrics(
            task,
            Splits([], [], list(test)),
            labels,
            multi,
            test_predicted=predicted,
            test_confidence=None,
            threshold=None,
            oos_test=_llm_out_of_scope(endpoint, task, descriptions, multi),
        )
    )
    millis = 1000 * np.asarray(seconds)
    items = classification_items(
        [ex.labels for ex in test], predicted, labels=labels, metric=task.metric
    )
    return SystemResult(
        name=f"prompted LLM ({model})",
        role="baseline",
        description=f"zero-shot prompt listing the labels, via {endpoint.base_url}",
        train_seconds=0.0,
        metrics=metrics,
        latency={
            "p50_ms": float(np.percentile(millis, 50)),  # as measure_latency computes them
            "p95_ms": float(np.percentile(millis, 95)),
            "throughput_per_s": len(seconds) / sum(seconds) if sum(seconds) else None,
        },
        items=items,
    )


def baseline_systems(
    task: Task,
    splits: Splits,
    labels: list[str],
    multi: bool,
    progress: ProgressFn | None,
    latency: bool,
) -> list[SystemResult]:
    encoder = Encoder.from_pretrained(task.model.base, max_length=task.model.max_length)
    target = task.abstain.target_precision
    start = time.perf_counter()
    train_emb = encoder.encode([ex.text for ex in splits.train], progress=progress)
    encode_seconds = time.perf_counter() - start
    val_emb = encoder.encode([ex.text for ex in splits.validation])
    test_texts = [ex.text for ex in splits.test]
    test_emb = encoder.encode(test_texts)
    scope = out_of_scope_examples(task)
    oos_val_emb = encoder.encode([ex.text for ex in scope.validation]) if scope.validation else None
    oos_test_emb = encoder.encode([ex.text for ex in scope.test]) if scope.test else None
    descriptions = task.labels or {}

    fitted: list[tuple[bl.BaselineResult, float | None]] = []
    start = time.perf_counter()
    fitted.append(
        (
            bl.zero_shot(
                encoder,
                labels,
                descriptions,
                val_emb,
                splits.validation,
                multi_label=multi,
                target_precision=target,
            ),
            0.0,
        )
    )
    for make in (
        lambda: bl.logistic_regression(
            train_emb,
            splits.train,
            val_emb,
            splits.validation,
            labels,
            multi_label=multi,
            target_precision=target,
            seed=task.seed,
        ),
        lambda: bl.knn(
            train_emb,
            splits.train,
            val_emb,
            splits.validation,
            labels,
            multi_label=multi,
            target_precision=target,
        ),
    ):
        start = time.perf_counter()
        result = make()
        fitted.append((result, encode_seconds + time.perf_counter() - start))
    start = time.perf_counter()
    tfidf = bl.tfidf_logistic_regression(
        splits.train,
        splits.validation,
        labels,
        multi_label=multi,
        target_precision=target,
        seed=task.seed,
    )
    fitted.append((tfidf, time.perf_counter() - start))  # no encoder: no encoding time

    val_texts = [ex.text for ex in splits.validation]
    oos_val_texts = [ex.text for ex in scope.validation]
    oos_test_texts = [ex.text for ex in scope.test]
    systems = []
    for result, fit_seconds in fitted:
        on_texts = result.inputs == "texts"
        predicted, confidence = result.decide(
            result.predict_proba(test_texts if on_texts else test_emb)
        )
        metrics = classification_metrics(
            [ex.labels for ex in splits.test],
            predicted,
            confidence.tolist(),
            labels=labels,
            multi_label=multi,
            threshold=result.threshold,
            target_precision=target,
        )
        val_predicted, val_confidence = result.decide(
            result.predict_proba(val_texts if on_texts else val_emb)
        )
        oos = {}
        for part, emb, texts in (
            ("oos_val", oos_val_emb, oos_val_texts),
            ("oos_test", oos_test_emb, oos_test_texts),
        ):
            if emb is not None:
                oos_predicted, oos_confidence = result.decide(
                    result.predict_proba(texts if on_texts else emb)
                )
                oos[part] = Decided(oos_predicted, oos_confidence, None, result.threshold)
        metrics.update(
            decision_metrics(
                task,
                splits,
                labels,
                multi,
                test_predicted=predicted,
                test_confidence=confidence,
                threshold=result.threshold,
                val_predicted=val_predicted,
                val_confidence=val_confidence,
                **oos,
            )
        )

        def predict(batch: list[str], r: bl.BaselineResult = result) -> np.ndarray:
            return r.predict_proba(batch if r.inputs == "texts" else encoder.encode(batch))

        systems.append(
            SystemResult(
                name=result.name,
                role="baseline",
                description=result.description,
                train_seconds=fit_seconds,
                metrics=metrics,
                latency=measure_latency(predict, test_texts) if latency else None,
                items=classification_items(
                    [ex.labels for ex in splits.test], predicted, labels=labels, metric=task.metric
                ),
            )
        )
    return systems
