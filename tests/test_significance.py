"""How sure a margin is: the paired bootstrap interval, McNemar's test, and their wording."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from narrowtune.evaluate.evaluation import Margin, SystemResult, margin_sentence
from narrowtune.evaluate.report import render_report
from narrowtune.evaluate.significance import (
    classification_items,
    mcnemar,
    paired_interval,
    resample_weights,
)

LABELS = ["a", "b", "c"]


def _random_labels(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [LABELS[i] for i in rng.integers(0, 3, n)]


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1", "micro_f1"])
def test_item_scores_reproduce_the_metric_on_any_resample(metric: str) -> None:
    gold = _random_labels(60, 1)
    predicted = _random_labels(60, 2)
    items = classification_items([[g] for g in gold], predicted, labels=LABELS, metric=metric)
    assert items is not None
    weights = resample_weights(60, resamples=5, seed=3)
    for row in weights:
        chosen = np.repeat(np.arange(60), row.astype(int))
        y_true = [gold[i] for i in chosen]
        y_pred = [predicted[i] for i in chosen]
        if metric == "accuracy":
            expected = float(np.mean([t == p for t, p in zip(y_true, y_pred)]))
        else:
            average = metric.split("_")[0]
            expected = f1_score(y_true, y_pred, labels=LABELS, average=average, zero_division=0)
        assert items.value(row[None, :])[0] == pytest.approx(expected)


def test_interval_includes_zero_for_equal_systems_and_excludes_it_for_a_clear_win() -> None:
    gold = _random_labels(200, 4)
    noisy = [g if i % 5 else "a" for i, g in enumerate(gold)]  # about 13% wrong
    perfect = classification_items([[g] for g in gold], gold, labels=LABELS, metric="accuracy")
    worse = classification_items([[g] for g in gold], noisy, labels=LABELS, metric="accuracy")
    assert perfect is not None and worse is not None
    low, high = paired_interval(perfect, worse)
    assert 0 < low <= high
    delta = perfect.observed() - worse.observed()
    assert low <= delta <= high
    low, high = paired_interval(worse, worse)
    assert low == high == 0.0


def test_mcnemar_exact_and_mid_p() -> None:
    # 10 discordant items, 8 to 2: exact two-sided p = 2 * P(X <= 2 | n=10, 1/2) = 112/1024.
    a = np.array([True] * 8 + [False] * 2 + [True] * 5)
    b = np.array([False] * 8 + [True] * 2 + [True] * 5)
    result = mcnemar(a, b)
    assert (result["a_only"], result["b_only"]) == (8, 2)
    assert result["p_exact"] == pytest.approx(112 / 1024)
    assert result["p_mid"] == pytest.approx(112 / 1024 - 45 / 1024)
    tie = mcnemar(a[:4], b[8:12])
    assert tie["p_exact"] == 1.0 and tie["p_mid"] == pytest.approx(1.0)


def _systems(gold: list[str], ft: list[str], base: list[str]) -> list[SystemResult]:
    out = []
    for name, role, predicted in (("ft", "fine-tuned", ft), ("lr", "baseline", base)):
        items = classification_items(
            [[g] for g in gold], predicted, labels=LABELS, metric="accuracy"
        )
        assert items is not None
        out.append(SystemResult(name, role, "", {"accuracy": items.observed()}, items=items))  # type: ignore[arg-type]
    return out


def test_one_example_ahead_is_no_demonstrated_margin() -> None:
    gold = _random_labels(224, 5)
    base = list(gold)
    for i in range(0, 20, 2):
        base[i] = "a" if gold[i] != "a" else "b"
    ft = list(base)
    ft[0] = gold[0]  # the fine-tuned model gets one more example right
    margin = Margin.between("accuracy", _systems(gold, ft, base))
    assert margin.delta == pytest.approx(1 / 224)
    assert margin.interval_low is not None and margin.interval_low <= 0 <= margin.interval_high
    assert margin.demonstrated is False and margin.test_items == 224
    assert margin.mcnemar is not None and margin.mcnemar["p_exact"] == 1.0
    sentence = margin_sentence(margin)
    assert sentence.startswith("no demonstrated margin") and "includes zero" in sentence
    stored = margin.to_dict()
    assert Margin.from_dict(stored) == margin and stored["demonstrated"] is False


def test_a_clear_margin_is_worded_with_its_interval_in_cli_and_report() -> None:
    gold = _random_labels(300, 6)
    base = [g if i % 4 else ("a" if g != "a" else "b") for i, g in enumerate(gold)]
    margin = Margin.between("accuracy", _systems(gold, gold, base))
    assert margin.demonstrated is True
    sentence = margin_sentence(margin)
    assert (
        "points above the best baseline" in sentence
        and "95% interval +" in sentence
        and "McNemar p" in sentence
    )
    evaluation = {
        "task": "t",
        "kind": "classify",
        "primary_metric": "accuracy",
        "systems": [s.to_dict() for s in _systems(gold, gold, base)],
        "margin": margin.to_dict(),
        "split": {"train": 1, "validation": 1, "test": 300},
    }
    page = render_report(evaluation)
    assert "ABOVE the best baseline" in page and "paired bootstrap interval" in page
    assert "McNemar exact p" in page
    evaluation["margin"] = Margin.between("accuracy", _systems(gold, gold, gold)).to_dict()
    assert "no demonstrated margin" in render_report(evaluation)


def test_a_margin_without_items_says_it_has_no_interval() -> None:
    systems = [
        SystemResult("ft", "fine-tuned", "", {"accuracy": 0.9}),
        SystemResult("lr", "baseline", "", {"accuracy": 0.8}),
    ]
    margin = Margin.between("accuracy", systems)
    assert margin.interval_low is None and margin.demonstrated is None
    assert "interval" not in margin.to_dict()
    assert "no interval measured" in margin_sentence(margin)


def test_chrf_and_rouge_items_reproduce_the_corpus_metrics() -> None:
    from narrowtune.evaluate.significance import count_items, mean_items
    from narrowtune.kinds.generate.metrics import chrf, chrf_counts, rouge_l

    rng = np.random.default_rng(7)
    words = ["gas", "fee", "swap", "bridge", "wallet", "seed", "never", "share", "hi", "team"]
    refs = [" ".join(rng.choice(words, 6)) for _ in range(25)]
    outs = [" ".join(rng.choice(words, int(rng.integers(0, 8)))) for _ in range(25)]
    items = count_items("chrf", [list(zip(*chrf_counts(o, r))) for o, r in zip(outs, refs)])
    assert items.observed() == pytest.approx(chrf(outs, refs))
    for row in resample_weights(25, resamples=3, seed=1):
        chosen = np.repeat(np.arange(25), row.astype(int))
        expected = chrf([outs[i] for i in chosen], [refs[i] for i in chosen])
        assert items.value(row[None, :])[0] == pytest.approx(expected)
    rouge = mean_items([rouge_l([o], [r]) for o, r in zip(outs, refs)])
    assert rouge.observed() == pytest.approx(rouge_l(outs, refs))
