"""What `eval` adds for a moderation task (a classify task with `moderation.allow_label`):

- **outcomes** on the test split: how many messages are allowed, blocked and sent to review; how
  many benign messages are blocked (false positives: a real user silenced) or reviewed, and how
  many abusive ones get through;
- **per policy label**: the thresholds chosen on validation and what they do on test;
- **robustness**: a seeded, disguised copy of the test set (`narrowtune.moderation.perturb`),
  scored clean and disguised, with the normaliser on and off, side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.data import Example
from narrowtune.evaluate.blocks import Notes, Table
from narrowtune.evaluate.evaluation import Section
from narrowtune.moderation.perturb import perturb_all

if TYPE_CHECKING:
    from narrowtune.kinds.base import Prediction
    from narrowtune.kinds.classify.model import ClassifyModel


def outcome_shares(
    test: Sequence[Example], outcomes: Sequence[str], allow_label: str
) -> dict[str, Any]:
    """Shares of allow/block/review overall, among benign messages and among abusive ones."""
    benign = np.array([set(ex.labels) <= {allow_label} for ex in test], dtype=bool)
    result: dict[str, Any] = {"n": len(test), "benign": int(benign.sum())}
    decided = np.array(outcomes)
    for name in ("allow", "block", "review"):
        result[name] = float(np.mean(decided == name)) if len(decided) else None
    for group, mask in (("benign", benign), ("abusive", ~benign)):
        for name in ("allow", "block", "review"):
            key = f"{group}_{name}"
            result[key] = float(np.mean(decided[mask] == name)) if mask.any() else None
    # The two numbers a moderator asks first.
    result["false_positive_rate"] = result["benign_block"]
    result["missed_abuse_rate"] = result["abusive_allow"]
    return result


def policy_scores(
    test: Sequence[Example], predicted: Sequence[str | list[str]], policy: Sequence[str]
) -> dict[str, float | None]:
    """Micro precision/recall/F1 over the policy labels only (for a spam/ham task: spam's)."""
    policy_set = set(policy)
    tp = fp = fn = 0
    for ex, p in zip(test, predicted, strict=True):
        gold = set(ex.labels) & policy_set
        got = ({p} if isinstance(p, str) else set(p)) & policy_set
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else (0.0 if tp + fp + fn else None)
    )
    return {"harm_precision": precision, "harm_recall": recall, "harm_f1": f1}


def robustness(
    model: ClassifyModel,
    test: Sequence[Example],
    clean: Sequence[Prediction],
    *,
    metric: str,
) -> list[dict[str, Any]]:
    """Clean vs disguised test texts, normaliser on vs off: the primary metric, the policy
    labels' F1/recall and the outcome shares, one row each. `clean`: the model's predictions on
    the test texts as it reads them (the row of its own setting, not computed again)."""
    from narrowtune.evaluate.metrics import classification_metrics

    moderator = model.moderator
    assert moderator is not None
    texts = [ex.text for ex in test]
    disguised = perturb_all(texts, seed=moderator.config.perturbation_seed)
    # A model trained without the normaliser has no "on" row; its own reading is the "off" one.
    readers = [("on", moderator), ("off", moderator.without_normalization())]
    if not moderator.config.normalize:
        readers = [("off", moderator)]
    rows = []
    for normalization, reader in readers:
        for copy, inputs in (("clean", texts), ("disguised", disguised)):
            own = reader is moderator and copy == "clean"
            done = list(clean) if own else model.moderate(inputs, reader)
            predicted = [p.label for p in done]
            metrics = classification_metrics(
                [ex.labels for ex in test],
                predicted,
                [p.confidence for p in done],
                labels=model.config.labels,
                multi_label=model.config.multi_label,
            )
            shares = outcome_shares(
                test, [p.outcome or "allow" for p in done], moderator.config.allow_label
            )
            rows.append(
                {
                    "test": copy,
                    "normalization": normalization,
                    metric: metrics.get(metric),
                    **policy_scores(test, predicted, moderator.policy_labels),
                    "false_positive_rate": shares["false_positive_rate"],
                    "missed_abuse_rate": shares["missed_abuse_rate"],
                    "review": shares["review"],
                }
            )
    return rows


def moderation_details(
    model: ClassifyModel,
    test: Sequence[Example],
    predictions: Sequence[Prediction],
    per_class: dict[str, Any],
    *,
    metric: str,
) -> dict[str, Any]:
    """Everything the moderation section shows, as plain data (stored in metrics.json)."""
    moderator = model.moderator
    assert moderator is not None
    settings = moderator.config
    labels = {}
    for name, t in settings.thresholds.items():
        scores = per_class.get(name) or {}
        labels[name] = {
            "precision": scores.get("precision"),
            "recall": scores.get("recall"),
            "f1": scores.get("f1"),
            "support": scores.get("support"),
            "block": t.block,
            "review": t.review,
            "validation_false_positive_rate": t.validation_false_positive_rate,
            "note": t.note,
        }
    return {
        "allow_label": settings.allow_label,
        "normalize": settings.normalize,
        "false_positive_budget": settings.false_positive_budget,
        "review_recall": settings.review_recall,
        "rules": dict(settings.rules),
        "outcomes": outcome_shares(
            test, [p.outcome or "allow" for p in predictions], settings.allow_label
        ),
        "labels": labels,
        "robustness": robustness(model, test, predictions, metric=metric),
        "perturbation_seed": settings.perturbation_seed,
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def moderation_lines(evaluation: Any) -> list[str]:
    """Plain-text summary for the CLI and the model card (none for other tasks). `evaluation`
    is an `Evaluation` or its stored form."""
    details = (
        evaluation.get("moderation")
        if isinstance(evaluation, dict)
        else evaluation.details.get("moderation")
    )
    if not details:
        return []
    o = details["outcomes"]
    lines = [
        f"moderation on {o['n']} test messages: allow {_pct(o['allow'])}, block "
        f"{_pct(o['block'])}, review {_pct(o['review'])}; benign blocked "
        f"{_pct(o['false_positive_rate'])} (budget {_pct(details['false_positive_budget'])} "
        f"per label, chosen on validation), benign reviewed {_pct(o['benign_review'])}, abuse "
        f"let through {_pct(o['missed_abuse_rate'])}"
    ]
    for row in details.get("robustness") or []:
        lines.append(
            f"  {row['test']:9} text, normalisation {row['normalization']:3}: policy-label F1 "
            f"{_num(row['harm_f1'])}, recall {_num(row['harm_recall'])}, benign blocked "
            f"{_pct(row['false_positive_rate'])}"
        )
    return lines


def moderation_sections(details: dict[str, Any], metric: str) -> list[Section]:
    """The report's moderation section: outcomes, per-label thresholds, robustness."""
    o = details["outcomes"]
    outcomes = Table(
        headers=("messages", "allow", "block", "review"),
        rows=(
            ("all", _pct(o["allow"]), _pct(o["block"]), _pct(o["review"])),
            ("benign", _pct(o["benign_allow"]), _pct(o["benign_block"]), _pct(o["benign_review"])),
            (
                "abusive",
                _pct(o["abusive_allow"]),
                _pct(o["abusive_block"]),
                _pct(o["abusive_review"]),
            ),
        ),
        lead=f"Outcomes of the fine-tuned model on the {o['n']} test messages "
        f"({o['benign']} benign). A blocked benign message is a real user silenced; an allowed "
        "abusive one reached the community.",
        numeric=frozenset({1, 2, 3}),
    )
    per_label = Table(
        headers=(
            "label",
            "precision",
            "recall",
            "F1",
            "block at ≥",
            "review at ≥",
            "validation FPR",
            "note",
        ),
        rows=tuple(
            (
                name,
                _num(v["precision"]),
                _num(v["recall"]),
                _num(v["f1"]),
                _num(v["block"]),
                _num(v["review"]),
                _pct(v["validation_false_positive_rate"]),
                v["note"],
            )
            for name, v in details["labels"].items()
        ),
        lead=f"Per policy label (test scores; thresholds chosen on validation for a "
        f"{_pct(details['false_positive_budget'])} false-positive budget and "
        f"{_pct(details['review_recall'])} of each label sent to block or review).",
        numeric=frozenset({1, 2, 3, 4, 5, 6}),
    )
    robust = Table(
        headers=(
            "test text",
            "normalisation",
            metric,
            "policy F1",
            "policy recall",
            "benign blocked",
            "abuse let through",
            "sent to review",
        ),
        rows=tuple(
            (
                r["test"],
                r["normalization"],
                _num(r.get(metric)),
                _num(r["harm_f1"]),
                _num(r["harm_recall"]),
                _pct(r["false_positive_rate"]),
                _pct(r["missed_abuse_rate"]),
                _pct(r["review"]),
            )
            for r in details.get("robustness") or []
        ),
        lead="The test set disguised the way attackers do (look-alike letters, zero-width "
        "characters, leetspeak, spaced letters, defanged links; seed "
        f"{details['perturbation_seed']}), read with the normaliser on and off. The model "
        "was trained with the normaliser as the task sets it; 'off' reads raw text at "
        "inference only.",
        numeric=frozenset({2, 3, 4, 5, 6, 7}),
        empty="robustness not measured",
    )
    notes = Notes(
        (
            "Reviewers and the store always see the original message; only the model reads "
            "the normalised text.",
            f"Rules: {details['rules'] or 'none'}.",
        )
    )
    return [
        Section("moderation", "Moderation: allow, block, review", outcomes),
        Section("moderation-labels", "Moderation: per policy label", per_label),
        Section("moderation-robustness", "Moderation: disguised text", robust),
        Section("moderation-notes", "Moderation: notes", notes),
    ]
