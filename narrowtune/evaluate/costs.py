"""What mistakes cost: expected cost per 1,000 calls, the most expensive confusions, and the
abstention threshold that minimises cost (chosen on validation, reported on test).

A call costs the declared price of its mistake when it is answered wrongly, nothing when it is
answered rightly, and the price of one human review when the system abstains (its confidence is
below its threshold). Single-label tasks price each (gold, predicted) pair (`costs.errors`);
multi-label tasks price every wrong set at `costs.default`. extract prices a document by its
wrong or missing fields (`costs.fields`, summed); generate prices an output that still breaks
its contract (`costs.contract_failure`), or a review when the flagged output is reviewed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.task import TaskError

if TYPE_CHECKING:
    from narrowtune.task import CostSpec


@dataclass(frozen=True)
class CostModel:
    """The task's declared costs over the model's labels: `matrix[g, p]` is the cost of
    answering label p for an item whose label is g (zero on the diagonal)."""

    labels: list[str]
    matrix: np.ndarray
    default: float
    review: float
    unit: str
    multi_label: bool = False

    @classmethod
    def from_spec(cls, spec: CostSpec, labels: list[str], *, multi_label: bool) -> CostModel:
        """Check the declared labels against the model's; a TaskError names each unknown one."""
        problems = spec.unknown_labels(labels)
        if problems:
            raise TaskError("task file: " + "; ".join(problems))
        index = {name: i for i, name in enumerate(labels)}
        matrix = np.full((len(labels), len(labels)), float(spec.default))
        for gold, row in spec.errors.items():
            g = index[gold]
            if "*" in row:
                matrix[g, :] = float(row["*"])
            for predicted, cost in row.items():
                if predicted != "*":
                    matrix[g, index[predicted]] = float(cost)
        np.fill_diagonal(matrix, 0.0)
        return cls(labels, matrix, float(spec.default), float(spec.review), spec.unit, multi_label)

    def error_costs(
        self, gold: Sequence[Sequence[str]], predicted: Sequence[str | Sequence[str]]
    ) -> np.ndarray:
        """The cost of answering each item as predicted (0 when right)."""
        index = {name: i for i, name in enumerate(self.labels)}
        out = np.zeros(len(gold))
        for row, (g, p) in enumerate(zip(gold, predicted)):
            if self.multi_label or not isinstance(p, str):
                wrong = set(p if not isinstance(p, str) else [p]) != set(g)
                out[row] = self.default if wrong else 0.0
            elif p != g[0]:
                gi, pi = index.get(g[0]), index.get(p)
                out[row] = self.default if gi is None or pi is None else self.matrix[gi, pi]
        return out

    def per_call(
        self, errors: np.ndarray, confidence: np.ndarray | None, threshold: float | None
    ) -> float:
        """Mean cost of one call: mistakes answered, reviews for the abstained."""
        if len(errors) == 0:
            return float("nan")
        if confidence is None or threshold is None:
            return float(errors.mean())
        kept = confidence >= threshold
        return float(np.where(kept, errors, self.review).mean())

    def optimal_threshold(self, errors: np.ndarray, confidence: np.ndarray) -> float:
        """The confidence threshold with the lowest mean cost on these (validation) items.

        Candidates sit at the items' confidences (ties kept or dropped together) plus "abstain
        on everything"; among equally cheap thresholds the highest is taken (abstain more)."""
        if len(errors) == 0:
            return 1.0
        order = np.argsort(-confidence, kind="stable")
        conf, err = confidence[order], errors[order]
        n = len(conf)
        kept_cost = np.cumsum(err)  # answering the k most confident, reviewing the rest
        totals = kept_cost + self.review * (n - np.arange(1, n + 1))
        boundary = np.append(conf[1:] < conf[:-1], True)
        candidates = [(self.review * n, float(np.nextafter(conf[0], np.inf)))]
        candidates += [(float(totals[k]), float(conf[k])) for k in np.flatnonzero(boundary)]
        best = min(cost for cost, _ in candidates)
        return max(t for cost, t in candidates if cost <= best + 1e-12)


def system_costs(
    model: CostModel,
    *,
    test_gold: Sequence[Sequence[str]],
    test_predicted: Sequence[str | Sequence[str]],
    test_confidence: np.ndarray | None,
    threshold: float | None,
    val_gold: Sequence[Sequence[str]] | None = None,
    val_predicted: Sequence[str | Sequence[str]] | None = None,
    val_confidence: np.ndarray | None = None,
    test_answered: np.ndarray | None = None,
) -> dict[str, Any]:
    """A system's expected cost per 1,000 calls on test: answering everything, with its
    target-precision threshold, and with the cost-optimal threshold chosen on validation.
    `test_answered`: which test items the system answered at its target-precision threshold,
    when it says so itself (a model's `abstain` flags); else `test_confidence >= threshold`."""
    errors = model.error_costs(test_gold, test_predicted)
    out: dict[str, Any] = {
        "unit": model.unit,
        "per_1k_answer_all": 1000 * model.per_call(errors, None, None),
        "per_1k_at_target": None,
        "cost_threshold": None,
        "per_1k_at_cost_threshold": None,
        "coverage_at_cost_threshold": None,
    }
    if test_confidence is None:
        return out
    if test_answered is not None:
        out["per_1k_at_target"] = 1000 * float(np.where(test_answered, errors, model.review).mean())
    elif threshold is not None:
        out["per_1k_at_target"] = 1000 * model.per_call(errors, test_confidence, threshold)
    if val_gold is not None and val_predicted is not None and val_confidence is not None:
        chosen = model.optimal_threshold(
            model.error_costs(val_gold, val_predicted), np.asarray(val_confidence, dtype=float)
        )
        out["cost_threshold"] = chosen
        out["per_1k_at_cost_threshold"] = 1000 * model.per_call(errors, test_confidence, chosen)
        out["coverage_at_cost_threshold"] = float((test_confidence >= chosen).mean())
    return out


def item_costs(
    errors: np.ndarray, answered: np.ndarray | None, review: float, unit: str
) -> dict[str, Any]:
    """Expected cost per 1,000 calls of a kind priced per item (extract: its wrong fields;
    generate: a contract failure): answering everything, and with the items the system
    abstained on (`answered` False) sent to a review instead."""
    out: dict[str, Any] = {
        "unit": unit,
        "per_1k_answer_all": 1000 * float(errors.mean()) if len(errors) else None,
        "per_1k_at_target": None,
    }
    if answered is not None and len(errors):
        out["per_1k_at_target"] = 1000 * float(np.where(answered, errors, review).mean())
    return out


def cheapest_system(systems: Sequence[Any]) -> dict[str, Any] | None:
    """The system and setting with the lowest expected cost per 1,000 calls on test."""
    priced = [
        (s.metrics["cost"][key], s.name, key)
        for s in systems
        for key in ("per_1k_answer_all", "per_1k_at_target", "per_1k_at_cost_threshold")
        if (s.metrics.get("cost") or {}).get(key) is not None
    ]
    if not priced:
        return None
    cost, name, key = min(priced)
    return {"system": name, "setting": key, "per_1k": cost}


def field_error_costs(
    spec: CostSpec,
    fields: Sequence[Any],
    golds: Sequence[dict[str, Any]],
    outputs: Sequence[dict[str, Any] | None],
    correct: Callable[[Any, Any, Any], bool],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """extract: each document's cost (the sum of its wrong or missing fields' costs), and per
    field the cost each document paid for it. `correct(field, gold, predicted)` decides."""
    per_field = {
        f.name: np.array(
            [
                0.0 if correct(f, g.get(f.name), (o or {}).get(f.name)) else spec.field_cost(f.name)
                for g, o in zip(golds, outputs)
            ]
        )
        for f in fields
    }
    total = np.sum(list(per_field.values()), axis=0) if per_field else np.zeros(len(golds))
    return np.asarray(total, dtype=float), per_field


def field_lines(per_field: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """The fields whose mistakes cost the most per 1,000 calls, as `confusions` entries (gold:
    the field, predicted: "wrong or missing") so every renderer shows them the same way."""
    out = []
    for name, costs in per_field.items():
        wrong = int((costs > 0).sum())
        if wrong:
            out.append(
                {
                    "gold": name,
                    "predicted": "wrong or missing",
                    "count": wrong,
                    "cost_each": float(costs[costs > 0].mean()),
                    "per_1k": 1000 * float(costs.mean()),
                }
            )
    return sorted(out, key=lambda c: (-c["per_1k"], c["gold"]))


def costly_confusions(
    model: CostModel,
    gold: Sequence[Sequence[str]],
    predicted: Sequence[str | Sequence[str]],
    answered: np.ndarray,
    *,
    top: int = 8,
) -> list[dict[str, Any]]:
    """The (gold, predicted) mistakes that cost the most in total among the answered items."""
    errors = model.error_costs(gold, predicted)
    totals: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    for g, p, cost, kept in zip(gold, predicted, errors, answered):
        if kept and cost > 0:
            pair = ("|".join(g), p if isinstance(p, str) else "|".join(p))
            totals[pair] += float(cost)
            counts[pair] += 1
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:top]
    n = max(len(gold), 1)
    return [
        {
            "gold": g,
            "predicted": p,
            "count": counts[(g, p)],
            "cost_each": total / counts[(g, p)],
            "per_1k": 1000 * total / n,
        }
        for (g, p), total in ranked
    ]


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def cost_lines(evaluation: Any) -> list[str]:
    """Plain-text lines on costs for the CLI and the model card (none without declared costs).
    `evaluation` is an `Evaluation` or its stored form."""
    details = (
        evaluation.get("costs") if isinstance(evaluation, dict) else evaluation.details.get("costs")
    )
    if not details:
        return []
    systems = (
        evaluation["systems"]
        if isinstance(evaluation, dict)
        else [s.to_dict() for s in evaluation.systems]
    )
    unit = details.get("unit", "")
    lines = [f"expected cost per 1,000 calls ({unit}; a review costs {details.get('review')}):"]
    for system in systems:
        cost = (system.get("metrics") or {}).get("cost") or {}
        if not cost:
            continue
        parts = [f"answer all {_money(cost.get('per_1k_answer_all'))}"]
        if cost.get("per_1k_at_target") is not None:
            parts.append(f"target-precision threshold {_money(cost['per_1k_at_target'])}")
        if cost.get("per_1k_at_cost_threshold") is not None:
            parts.append(
                f"cost-optimal threshold {cost['cost_threshold']:.3f} (chosen on validation) "
                f"{_money(cost['per_1k_at_cost_threshold'])} at "
                f"{100 * cost['coverage_at_cost_threshold']:.1f}% coverage"
            )
        lines.append(f"  {system['name']}: " + "; ".join(parts))
    cheapest = details.get("cheapest")
    if cheapest:
        setting = {
            "per_1k_answer_all": "answering everything",
            "per_1k_at_target": "at its target-precision threshold",
            "per_1k_at_cost_threshold": "at its cost-optimal threshold",
        }.get(cheapest["setting"], cheapest["setting"])
        lines.append(
            f"  cheapest on test: {cheapest['system']} {setting} ({_money(cheapest['per_1k'])})"
        )
    confusions = details.get("confusions") or []
    if confusions:
        lines.append("most expensive mistakes of the fine-tuned model (answered, on test):")
        for c in confusions[:5]:
            lines.append(
                f"  {c['gold']} → {c['predicted']}: {c['count']} × {c['cost_each']:g} "
                f"= {_money(c['per_1k'])} per 1,000 calls"
            )
    lines += [f"  note: {n}" for n in details.get("notes") or []]
    return lines
