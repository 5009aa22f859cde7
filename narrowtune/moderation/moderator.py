"""From a classifier's probabilities to allow, block or review.

Each policy label (every label but the allow label) gets two thresholds, chosen on validation:
- **block** — the lowest threshold (never below 0.5) at which at most `false_positive_budget` of
  the validation texts *without* that label would be blocked for it;
- **review** — the highest threshold (at most the block one, never below `REVIEW_FLOOR`) that
  still sends `review_recall` of the label's validation texts to block or review.
A text is blocked when any label reaches its block threshold or a rule says so, sent to review
when any reaches its review threshold (or a rule says so), and allowed otherwise.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.moderation.features import Features, extract_features
from narrowtune.moderation.normalize import Normalizer, base_vocabulary

if TYPE_CHECKING:
    from narrowtune.moderation.spec import ModerationSpec

REVIEW_FLOOR = 0.05
_SEVERITY = {"allow": 0, "review": 1, "block": 2}


@dataclass
class LabelThresholds:
    """One policy label's thresholds and what they did on validation."""

    block: float = 0.5
    review: float = 0.5
    negatives: int = 0  # validation texts without the label
    positives: int = 0  # validation texts with it
    validation_false_positive_rate: float | None = None
    validation_block_recall: float | None = None
    validation_review_recall: float | None = None
    note: str = ""


@dataclass
class ModerationConfig:
    """A trained moderation model's settings (saved in the run's classify.json)."""

    allow_label: str
    normalize: bool = True
    features: bool = True
    protected_domains: list[str] = field(default_factory=list)
    rules: dict[str, str] = field(default_factory=dict)
    false_positive_budget: float = 0.01
    review_recall: float = 0.95
    perturbation_seed: int = 0
    words: list[str] = field(default_factory=list)
    thresholds: dict[str, LabelThresholds] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: ModerationSpec, training_texts: Iterable[str]) -> ModerationConfig:
        assert spec.allow_label is not None
        return cls(
            allow_label=spec.allow_label,
            normalize=spec.normalize,
            features=spec.features,
            protected_domains=list(spec.protected_domains),
            rules=dict(spec.rules),
            false_positive_budget=spec.false_positive_budget,
            review_recall=spec.review_recall,
            perturbation_seed=spec.perturbation_seed,
            words=domain_words(training_texts) if spec.normalize else [],
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModerationConfig:
        values = dict(data)
        values["thresholds"] = {
            name: LabelThresholds(**t) for name, t in (values.get("thresholds") or {}).items()
        }
        return cls(**values)


def domain_words(texts: Iterable[str], *, limit: int = 5000) -> list[str]:
    """Words of the training data the encoder's vocabulary lacks (brand and token names), seen
    at least twice: leetspeak may decode to them ("m3tamask" -> "metamask")."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", text))
    known = base_vocabulary()
    words = [w for w, n in counts.most_common() if n >= 2 and w not in known]
    return sorted(words[:limit])


@dataclass(frozen=True)
class Decision:
    outcome: str  # allow, block or review
    reasons: list[str]


class Moderator:
    """What the model reads (normalised text + link tags) and what it decides."""

    def __init__(self, config: ModerationConfig) -> None:
        self.config = config

    @cached_property
    def normalizer(self) -> Normalizer | None:
        if not self.config.normalize:
            return None
        return Normalizer(words=frozenset(self.config.words))

    def without_normalization(self) -> Moderator:
        """The same moderator reading texts as they come (for the robustness comparison)."""
        return Moderator(ModerationConfig.from_dict({**self.config.to_dict(), "normalize": False}))

    def normalized(self, text: str) -> str:
        return self.normalizer(text) if self.normalizer else text

    def features(self, text: str) -> Features:
        return self.read(text)[1]

    def read(self, text: str) -> tuple[str, Features]:
        """What the encoder reads (normalised text, then the link tags when `features` is on)
        and the text's link features (for rules and reasons), from one normalisation."""
        clean = self.normalized(text)
        found = extract_features(clean, self.config.protected_domains)
        tags = found.tags() if self.config.features else ""
        return (f"{clean} {tags}" if tags else clean), found

    def model_input(self, text: str) -> str:
        """The text the encoder reads: normalised, then the link tags."""
        return self.read(text)[0]

    def model_inputs(self, texts: Sequence[str]) -> list[str]:
        return [self.model_input(t) for t in texts]

    @property
    def policy_labels(self) -> list[str]:
        return list(self.config.thresholds)

    def fit(
        self, probabilities: np.ndarray, labels: Sequence[str], gold: Sequence[Iterable[str]]
    ) -> None:
        """Choose every policy label's thresholds on validation (in place)."""
        gold_sets = [set(g) for g in gold]
        thresholds = {}
        for j, name in enumerate(labels):
            if name == self.config.allow_label:
                continue
            positive = np.array([name in g for g in gold_sets], dtype=bool)
            thresholds[name] = choose_thresholds(
                probabilities[:, j],
                positive,
                budget=self.config.false_positive_budget,
                review_recall=self.config.review_recall,
            )
        self.config.thresholds = thresholds

    def decide(self, scores: Mapping[str, float], features: Features | None = None) -> Decision:
        """allow / block / review for one text from its per-label probabilities."""
        outcome, reasons = "allow", []
        for name, t in self.config.thresholds.items():
            score = float(scores.get(name, 0.0))
            if score >= t.block:
                reasons.append(f"{name} {score:.2f} ≥ block threshold {t.block:.2f}")
                outcome = _worse(outcome, "block")
            elif score >= t.review:
                reasons.append(f"{name} {score:.2f} ≥ review threshold {t.review:.2f}")
                outcome = _worse(outcome, "review")
        if features is not None:
            for flag in features.flags:
                rule = self.config.rules.get(flag)
                if rule:
                    reasons.append(f"rule: {flag} → {rule}")
                    outcome = _worse(outcome, rule)
            if outcome != "allow":
                reasons.extend(features.reasons())
        return Decision(outcome, reasons)


def _worse(a: str, b: str) -> str:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def choose_thresholds(
    scores: np.ndarray, positive: np.ndarray, *, budget: float, review_recall: float
) -> LabelThresholds:
    """One label's block and review thresholds from its validation scores (see module doc)."""
    scores = np.asarray(scores, dtype=float)
    negative_scores = np.sort(scores[~positive])[::-1]
    positive_scores = np.sort(scores[positive])[::-1]
    notes = []
    allowed = math.floor(budget * len(negative_scores))
    if len(negative_scores) and len(negative_scores) < 1 / budget:
        notes.append(
            f"only {len(negative_scores)} validation texts without the label: a budget of "
            f"{budget:.1%} cannot be measured, so no validation text may be blocked for it"
        )
    block = 0.5
    if allowed < len(negative_scores):
        block = max(block, float(np.nextafter(negative_scores[allowed], np.inf)))
    if block > 1.0:
        notes.append("some texts without the label score 1.0: nothing can be blocked for it")
    review = min(block, 0.5)
    if len(positive_scores):
        keep = max(1, math.ceil(review_recall * len(positive_scores)))
        review = min(block, float(positive_scores[keep - 1]))
    else:
        notes.append("no validation text has the label: thresholds are defaults")
    review = max(review, REVIEW_FLOOR) if review < block else block

    def share(values: np.ndarray, t: float) -> float | None:
        return float(np.mean(values >= t)) if len(values) else None

    return LabelThresholds(
        block=block,
        review=review,
        negatives=len(negative_scores),
        positives=len(positive_scores),
        validation_false_positive_rate=share(negative_scores, block),
        validation_block_recall=share(positive_scores, block),
        validation_review_recall=share(positive_scores, review),
        note="; ".join(notes),
    )
