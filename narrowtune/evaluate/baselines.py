"""Baselines a user would pick instead of fine-tuning, fitted and scored on the same split.

Each baseline but one works on frozen sentence embeddings from the task's base encoder:
- zero-shot similarity: cosine similarity of a text to its label's name (+ description);
- frozen embeddings + logistic regression (C=10);
- k-nearest neighbours (cosine, k chosen on validation);
- TF-IDF + logistic regression: word 1-2-gram TF-IDF (no encoder at all), the classic cheap
  baseline a fine-tuned model should beat.
Every baseline is calibrated (temperature on validation) and gets an abstention threshold chosen
on validation for the same target precision, so coverage figures compare like with like.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier

from narrowtune.calibration import (
    FEW_VALIDATION,
    choose_threshold,
    fit_temperature,
    sigmoid,
    softmax,
)
from narrowtune.data import Example
from narrowtune.data.labels import is_correct, label_targets
from narrowtune.encoders import Encoder


@dataclass
class BaselineResult:
    name: str
    description: str
    labels: list[str]
    multi_label: bool
    threshold: float
    predict_proba: Callable[[Any], np.ndarray]  # features -> calibrated probabilities
    fit_seconds: float = 0.0
    inputs: str = "embeddings"  # what predict_proba takes: "embeddings" or "texts"

    def decide(self, probs: np.ndarray) -> tuple[list[str | list[str]], np.ndarray]:
        """Predicted label(s) and confidence per row, as the fine-tuned model decides them."""
        if self.multi_label:
            predicted: list[str | list[str]] = [
                [self.labels[i] for i in np.flatnonzero(row >= 0.5)] for row in probs
            ]
            confidence = np.min(np.maximum(probs, 1 - probs), axis=1)
        else:
            predicted = [self.labels[i] for i in probs.argmax(axis=1)]
            confidence = probs.max(axis=1)
        return predicted, confidence


def _finish(
    name: str,
    description: str,
    scores: Callable[[np.ndarray], np.ndarray],
    val_emb: np.ndarray,
    validation: Sequence[Example],
    labels: list[str],
    multi_label: bool,
    target_precision: float,
    *,
    already_probabilities: bool = False,
) -> BaselineResult:
    """Calibrate a scoring function on validation and choose its abstention threshold."""
    y_val = label_targets(validation, labels, multi_label)
    if already_probabilities:

        def proba(emb: np.ndarray) -> np.ndarray:
            return scores(emb)
    else:
        t = fit_temperature(scores(val_emb), y_val, multi_label=multi_label, few=FEW_VALIDATION)

        def proba(emb: np.ndarray) -> np.ndarray:
            s = scores(emb)
            return sigmoid(s, t) if multi_label else softmax(s, t)

    result = BaselineResult(name, description, labels, multi_label, 0.0, proba)
    predicted, confidence = result.decide(proba(val_emb))
    chosen = choose_threshold(
        confidence,
        is_correct(predicted, validation),
        target_precision=target_precision,
        few=FEW_VALIDATION,
    )
    result.threshold = chosen.value
    return result


def label_prompt(name: str, description: str) -> str:
    """The text a label is embedded as: its name in words, plus its description."""
    words = re.sub(r"[_\-]+", " ", name).strip()
    return f"{words}: {description}" if description else words


def zero_shot(
    encoder: Encoder,
    labels: list[str],
    descriptions: dict[str, str],
    val_emb: np.ndarray,
    validation: Sequence[Example],
    *,
    multi_label: bool,
    target_precision: float,
) -> BaselineResult:
    label_emb = encoder.encode([label_prompt(n, descriptions.get(n, "")) for n in labels])
    offset = 0.0
    if multi_label:
        # Cosine similarities are not logits: centre them at a cut-off chosen on validation.
        y_val = label_targets(validation, labels, True)
        sims = val_emb @ label_emb.T
        grid = np.quantile(sims, np.linspace(0.5, 0.99, 50))
        f1 = [
            (2 * ((sims >= g) & (y_val == 1)).sum()) / max(1, (sims >= g).sum() + y_val.sum())
            for g in grid
        ]
        offset = float(grid[int(np.argmax(f1))])
    return _finish(
        "zero-shot similarity",
        "cosine similarity of each text to its label's name and description (no training)",
        lambda emb: emb @ label_emb.T - offset,
        val_emb,
        validation,
        labels,
        multi_label,
        target_precision,
    )


def logistic_regression(
    train_emb: np.ndarray,
    train: Sequence[Example],
    val_emb: np.ndarray,
    validation: Sequence[Example],
    labels: list[str],
    *,
    multi_label: bool,
    target_precision: float,
    seed: int,
) -> BaselineResult:
    y = label_targets(train, labels, multi_label)
    clf = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    model = OneVsRestClassifier(clf) if multi_label else clf
    model.fit(train_emb, y)

    def scores(emb: np.ndarray) -> np.ndarray:
        raw = model.decision_function(emb)
        if multi_label or raw.ndim == 2:
            full = np.full((emb.shape[0], len(labels)), -30.0)
            classes = np.arange(len(labels)) if multi_label else model.classes_
            full[:, classes] = raw if raw.ndim == 2 else raw[:, None]
            return full
        full = np.zeros((emb.shape[0], len(labels)))  # binary: one decision value
        full[:, model.classes_[1]] = raw
        return full

    return _finish(
        "frozen embeddings + logistic regression",
        "the base encoder frozen; a logistic-regression probe (C=10) on its embeddings",
        scores,
        val_emb,
        validation,
        labels,
        multi_label,
        target_precision,
    )


def knn(
    train_emb: np.ndarray,
    train: Sequence[Example],
    val_emb: np.ndarray,
    validation: Sequence[Example],
    labels: list[str],
    *,
    multi_label: bool,
    target_precision: float,
) -> BaselineResult:
    y = label_targets(train, labels, multi_label)
    y_val = label_targets(validation, labels, multi_label)
    best_k, best_score, best_model = 1, -1.0, None
    for k in (1, 3, 5, 10, 20):
        if k > len(train):
            break
        model = KNeighborsClassifier(n_neighbors=k, metric="cosine", weights="distance")
        model.fit(train_emb, y)
        score = (
            float((model.predict(val_emb) == y_val).all(axis=-1).mean())
            if multi_label
            else float((model.predict(val_emb) == y_val).mean())
        )
        if score > best_score:
            best_k, best_score, best_model = k, score, model
    assert best_model is not None
    fitted = best_model

    def proba(emb: np.ndarray) -> np.ndarray:
        out = np.zeros((len(emb), len(labels)))
        raw = fitted.predict_proba(emb)
        if multi_label:  # one (n, 2) array per label
            for j, p in enumerate(raw):
                out[:, j] = p[:, 1] if p.shape[1] > 1 else float(fitted.classes_[j][0])
        else:
            out[:, fitted.classes_] = raw
        return out

    return _finish(
        f"kNN (k={best_k})",
        f"{best_k} nearest training examples by cosine similarity, distance-weighted vote",
        proba,
        val_emb,
        validation,
        labels,
        multi_label,
        target_precision,
        already_probabilities=True,
    )


def tfidf_logistic_regression(
    train: Sequence[Example],
    validation: Sequence[Example],
    labels: list[str],
    *,
    multi_label: bool,
    target_precision: float,
    seed: int,
) -> BaselineResult:
    """Word 1-2-gram TF-IDF (sublinear tf, fitted on the training texts) and a logistic
    regression (C=10) on it; `predict_proba` takes texts. Calibrated and thresholded on
    validation like every other baseline."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    train_x = vectorizer.fit_transform([ex.text for ex in train])
    val_x = vectorizer.transform([ex.text for ex in validation])
    fitted = logistic_regression(
        train_x,  # type: ignore[arg-type]
        train,
        val_x,  # type: ignore[arg-type]
        validation,
        labels,
        multi_label=multi_label,
        target_precision=target_precision,
        seed=seed,
    )
    on_features = fitted.predict_proba

    def proba(texts: Sequence[str]) -> np.ndarray:
        return on_features(vectorizer.transform(list(texts)))

    return BaselineResult(
        "TF-IDF + logistic regression",
        "word 1-2-gram TF-IDF of the training texts and a logistic regression (C=10); no encoder",
        labels,
        multi_label,
        fitted.threshold,
        proba,
        inputs="texts",
    )
