"""Traffic that belongs to no label: the threshold is chosen on validation to catch a target share
of out-of-scope requests as well as to meet the target precision, and eval reports the recall."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune import api
from narrowtune.calibration import choose_scope_threshold
from narrowtune.card import model_card
from narrowtune.data import DataError
from narrowtune.data.scope import out_of_scope_examples
from narrowtune.data.split import load_splits
from narrowtune.evaluate import evaluate_model
from narrowtune.evaluate.report import render_report
from narrowtune.evaluate.scope import scope_lines
from narrowtune.kinds.classify.train import calibrate_for
from narrowtune.task import TaskError, load_task

OUT_OF_SCOPE = [
    "the weather is lovely today",
    "recommend a good pizza place",
    "who won the football match last night",
    "tell me a joke about cats",
    "what is the capital of France",
    "how tall is mount everest",
    "play some relaxing music",
    "translate hello into spanish",
    "what time is it in tokyo",
    "write me a poem about autumn",
    "how do I bake sourdough bread",
    "is it going to rain tomorrow",
    "what's a good movie to watch",
    "how many legs does a spider have",
    "book a table for two tonight",
    "what is the meaning of life",
    "suggest a name for my dog",
    "how far away is the moon",
    "teach me to juggle",
    "which planet is the biggest",
]


def test_the_scope_threshold_is_the_lowest_meeting_both_targets() -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        conf = np.round(rng.uniform(0.3, 1, 40), 2)
        correct = rng.uniform(0, 1, 40) < conf
        oos = np.round(rng.uniform(0.2, 1, 15), 2)
        caught = rng.uniform(0, 1, 15) < 0.2
        chosen = choose_scope_threshold(
            conf, correct, oos, target_precision=0.8, target_recall=0.7, oos_caught=caught
        )
        assert ((oos < chosen.value) | caught).mean() >= 0.7
        assert chosen.out_of_scope_recall == pytest.approx(((oos < chosen.value) | caught).mean())
        # Any lower threshold among the candidates misses the recall target or the precision one.
        lower = [t for t in np.unique(np.concatenate([conf, oos])) if t < chosen.value]
        for t in lower:
            recall_ok = ((oos < t) | caught).mean() >= 0.7
            assert not recall_ok or t < chosen.precision_threshold


def test_a_catch_all_counts_as_caught() -> None:
    conf = np.array([0.9, 0.8])
    chosen = choose_scope_threshold(
        conf,
        np.array([True, True]),
        np.array([0.99, 0.99]),
        target_precision=0.5,
        target_recall=1.0,
        oos_caught=np.array([True, True]),
    )
    assert chosen.value <= 0.8 and chosen.out_of_scope_recall == 1.0


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"examples": "oos.csv", "label": "refund"}, "give exactly one of `examples`"),
        ({}, "give exactly one of `examples`"),
        ({"label": "other"}, "out_of_scope.label: 'other' is not a label"),
        ({"label": "refnd"}, "did you mean 'refund'?"),
        ({"examples": "oos.csv", "target_recall": 1.5}, "'abstain.out_of_scope.target_recall'"),
    ],
)
def test_bad_out_of_scope_settings_name_the_key(tmp_path: Path, scope: dict, message: str) -> None:
    write_csv(tmp_path / "data.csv", make_rows(3))
    with pytest.raises(TaskError, match=r"task\.yaml") as info:
        load_task(write_task(tmp_path, **{"abstain.out_of_scope": scope}))
    assert message in str(info.value)


def test_out_of_scope_file_errors_name_the_key(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", make_rows(3))
    task = load_task(write_task(tmp_path, **{"abstain.out_of_scope": {"examples": "oos.csv"}}))
    with pytest.raises(DataError, match=r"abstain.out_of_scope.examples: data file not found"):
        out_of_scope_examples(task)
    write_csv(tmp_path / "oos.csv", [("x",)], header=("query",))
    with pytest.raises(DataError, match=r"abstain.out_of_scope.examples: .*no text column 'text'"):
        out_of_scope_examples(task)
    write_csv(tmp_path / "oos.csv", [("only one",)], header=("text",))
    with pytest.raises(DataError, match="give at least 2"):
        out_of_scope_examples(task)


def test_calibration_and_eval_catch_out_of_scope_requests(tiny_run: Path, tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", make_rows(20))  # the data tiny_run was trained on
    write_csv(tmp_path / "oos.csv", [(t,) for t in OUT_OF_SCOPE], header=("text",))
    scope = {"examples": "oos.csv", "target_recall": 0.8}
    task = load_task(write_task(tmp_path, **{"abstain.out_of_scope": scope, "train.epochs": 1}))
    split = out_of_scope_examples(task)
    assert len(split.validation) == 10 and len(split.test) == 10
    assert out_of_scope_examples(task) == split  # seeded
    assert not {e.text for e in split.validation} & {e.text for e in split.test}

    # What `train` ends with (train.calibrate_for), on the tiny run's trained weights.
    model = api.load(tiny_run)
    splits = load_splits(task)
    calibrate_for(model, task, splits.validation)
    config = model.config
    assert config.target_out_of_scope_recall == 0.8
    val_oos = model.predict([ex.text for ex in split.validation])
    assert np.mean([p.abstain for p in val_oos]) >= 0.8  # chosen on validation to meet it
    assert config.validation_out_of_scope_recall == pytest.approx(
        np.mean([p.abstain for p in val_oos])
    )

    evaluation = evaluate_model(task, model, splits, latency=False)
    test_oos = model.predict([ex.text for ex in split.test])
    fine = evaluation.fine_tuned.metrics["out_of_scope"]
    assert fine["test_items"] == 10
    assert fine["recall_at_threshold"] == pytest.approx(np.mean([p.abstain for p in test_oos]))
    # The eval's own choice on the same validation data agrees with the shipped threshold.
    assert fine["scope_threshold"] == pytest.approx(config.threshold)
    assert all(s.metrics["out_of_scope"]["scope_threshold"] for s in evaluation.systems)
    lines = scope_lines(evaluation)
    assert lines[0].startswith("out-of-scope recall (10 out-of-scope test requests from oos.csv")
    stored = json.loads(json.dumps(evaluation.to_dict()))
    assert 'id="out-of-scope"' in render_report(stored)
    info = json.loads((tiny_run / "run.json").read_text())
    assert "Out-of-scope requests" in model_card(task, info, evaluation)


def test_a_catch_all_label_is_measured_on_its_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrowtune.data import Example, Splits
    from narrowtune.evaluate import classify as classify_eval
    from narrowtune.evaluate.classify import Decided, _scope_metrics

    write_csv(tmp_path / "data.csv", make_rows(3))
    labels = {"refund": "", "shipping": "", "login": "", "other": "fits no label"}
    task = load_task(
        write_task(tmp_path, labels=labels, **{"abstain.out_of_scope": {"label": "other"}})
    )

    def examples(golds: list[str]) -> list[Example]:
        return [Example(f"text {i}", (g,)) for i, g in enumerate(golds)]

    validation = examples(["refund", "login", "other", "other"])
    test = examples(["refund", "shipping", "other", "other", "other", "other"])
    splits = Splits([], validation, test)
    # Test: two in scope; of four out-of-scope rows, one routed to `other`, one abstained on
    # (confidence below 0.5), two answered confidently as a label.
    test_decided = Decided(
        ["refund", "shipping", "other", "login", "refund", "login"],
        np.array([0.9, 0.8, 0.95, 0.3, 0.97, 0.6]),
        None,
        0.5,
    )
    val_decided = Decided(["refund", "login", "refund", "other"], np.array([0.6, 0.65, 0.7, 0.9]))
    # Two in-scope validation rows are far too few to choose on: the threshold is held at the
    # target precision (0.95), so more is caught and fewer in-scope answers are kept.
    safe = _scope_metrics(
        task, splits, test=test_decided, val=val_decided, oos_val=None, oos_test=None
    )
    assert safe["scope_threshold"] == pytest.approx(0.95)
    assert safe["recall_at_scope_threshold"] == pytest.approx(3 / 4)
    assert safe["in_scope_coverage_at_scope_threshold"] == 0.0
    # The selection itself, as it runs on enough validation rows.
    monkeypatch.setattr(classify_eval, "FEW_VALIDATION", 0)
    out = _scope_metrics(
        task, splits, test=test_decided, val=val_decided, oos_val=None, oos_test=None
    )
    assert out["source"] == "catch-all label 'other'" and out["test_items"] == 4
    assert out["recall_at_threshold"] == pytest.approx(2 / 4)
    # On validation the in-scope rows (0.6, 0.65, both right) meet the precision target from
    # 0.6; one out-of-scope row is routed to `other`, the other (0.7) must be caught too for 90%
    # recall, so the threshold goes just above 0.7 and both in-scope test rows stay.
    assert 0.7 < out["scope_threshold"] <= 0.71
    assert out["recall_at_scope_threshold"] == pytest.approx(3 / 4)  # 0.97 still gets through
    assert out["in_scope_coverage_at_scope_threshold"] == 1.0
