"""The evaluation of a classify run: the fine-tuned classifier against the baselines a user would
pick instead (zero-shot embedding similarity, frozen embeddings + logistic regression / kNN, and
a prompted LLM behind an OpenAI-compatible endpoint when one is configured), on the same split.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrowtune.data import Example, Splits
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
) -> dict[str, Any]:
    """What a system's decisions cost when the task declares costs (`cost`): choices are made
    on the validation predictions, figures measured on test."""
    out: dict[str, Any] = {}
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
    if baselines:
        systems.extend(baseline_systems(task, splits, labels, multi, progress, latency))
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
    return build_evaluation(
        task.name,
        task.kind,
        splits,
        systems,
        primary_metric=task.metric,
        notes=notes,
        details=details,
    )


def _decides(task: Task) -> bool:
    """Whether the evaluation makes choices of its own on validation predictions."""
    return task.costs is not None


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

    systems = []
    for result, fit_seconds in fitted:
        predicted, confidence = result.decide(result.predict_proba(test_emb))
        metrics = classification_metrics(
            [ex.labels for ex in splits.test],
            predicted,
            confidence.tolist(),
            labels=labels,
            multi_label=multi,
            threshold=result.threshold,
            target_precision=target,
        )
        val_predicted, val_confidence = result.decide(result.predict_proba(val_emb))
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
            )
        )

        def predict(batch: list[str], r: bl.BaselineResult = result) -> np.ndarray:
            return r.predict_proba(encoder.encode(batch))

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
