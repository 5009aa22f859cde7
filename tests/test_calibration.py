"""Temperature scaling, threshold choice and calibration error on data with known answers."""

from __future__ import annotations

import numpy as np

from narrowtune.calibration import choose_threshold, fit_temperature, softmax
from narrowtune.evaluate.metrics import coverage_curve, expected_calibration_error


def _calibrated_logits(n: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true label distribution (so T = 1 is right)."""
    logits = rng.normal(0, 2.5, size=(n, k))
    probs = softmax(logits)
    y = np.array([rng.choice(k, p=row) for row in probs])
    return logits, y


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    logits, y = _calibrated_logits(4000, 5, rng)
    assert abs(fit_temperature(logits, y) - 1.0) < 0.1
    assert abs(fit_temperature(logits * 3.0, y) - 3.0) < 0.3  # sharpened 3x -> T about 3


def test_ece_small_when_calibrated_large_when_not() -> None:
    rng = np.random.default_rng(1)
    logits, y = _calibrated_logits(5000, 4, rng)
    for scale, low, high in ((1.0, 0.0, 0.03), (4.0, 0.08, 1.0)):
        probs = softmax(logits * scale)
        ece, table = expected_calibration_error(probs.max(1), probs.argmax(1) == y)
        assert low <= ece <= high
        assert sum(row["count"] for row in table) == len(y)
    t = fit_temperature(logits * 4.0, y)
    probs = softmax(logits * 4.0, t)
    ece, _ = expected_calibration_error(probs.max(1), probs.argmax(1) == y)
    assert ece < 0.03


def test_threshold_meets_target_precision() -> None:
    rng = np.random.default_rng(2)
    confidence = rng.uniform(0, 1, 2000)
    correct = rng.uniform(0, 1, 2000) < confidence  # more confident, more often right
    chosen = choose_threshold(confidence, correct, target_precision=0.9)
    kept = confidence >= chosen.value
    assert correct[kept].mean() >= 0.9
    assert abs(kept.mean() - chosen.coverage) < 1e-9
    assert 0.1 < chosen.coverage < 0.5
    # a lower threshold (one more example) would fall below the target or tie
    never = choose_threshold(confidence, np.zeros(2000, bool), target_precision=0.9)
    assert never.coverage == 0.0 and (confidence < never.value).all()


def test_coverage_curve_is_ordered() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, False, True])
    curve = coverage_curve(confidence, correct, points=4)
    assert [round(p["coverage"], 2) for p in curve] == [0.25, 0.5, 0.75, 1.0]
    assert [round(p["accuracy"], 3) for p in curve] == [1.0, 1.0, 0.667, 0.75]


def test_few_validation_rows_keep_t_1_and_abstain_more() -> None:
    # Five rows, all right: the NLL alone would sharpen every confidence towards 1 and a
    # threshold at the lowest of them would answer almost anything. With few=30, T stays 1 and
    # the threshold never falls below the target precision.
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.5, 0.0], [0.0, 0.0, 1.0], [1.2, 0, 0], [0, 0.8, 0]])
    y = np.array([0, 1, 2, 0, 1])
    assert fit_temperature(logits, y) < 0.2  # what fitting on five rows would do
    assert fit_temperature(logits, y, few=30) == 1.0
    confidence = softmax(logits).max(1)
    correct = np.ones(5, bool)
    loose = choose_threshold(confidence, correct, target_precision=0.9)
    assert loose.value == confidence.min() and loose.coverage == 1.0
    safe = choose_threshold(confidence, correct, target_precision=0.9, few=30)
    assert safe.value == 0.9 and safe.coverage == 0.0  # nothing here is 0.9 sure
    many = np.tile(confidence, 8)
    assert choose_threshold(many, np.ones(40, bool), target_precision=0.9, few=30).value < 0.9
