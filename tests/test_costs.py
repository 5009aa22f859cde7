"""Costed mistakes: the declared cost matrix, expected cost per 1,000 calls, the cost-optimal
threshold (chosen on validation), and clear errors for a bad declaration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune import api
from narrowtune.card import model_card
from narrowtune.data.split import load_splits
from narrowtune.evaluate import evaluate_model
from narrowtune.evaluate.columns import summary_columns
from narrowtune.evaluate.costs import CostModel, cost_lines
from narrowtune.evaluate.report import render_report
from narrowtune.task import CostSpec, TaskError, load_task

LABELS = ["refund", "shipping", "login"]
COSTS = {
    "errors": {"login": {"refund": 100}, "shipping": {"*": 5}},
    "default": 1,
    "review": 0.5,
    "unit": "EUR",
}


def _model() -> CostModel:
    return CostModel.from_spec(CostSpec.model_validate(COSTS), LABELS, multi_label=False)


def test_the_matrix_follows_the_declaration() -> None:
    m = _model().matrix
    assert m.tolist() == [[0, 1, 1], [5, 0, 5], [100, 1, 0]]
    costs = _model().error_costs([["login"], ["login"], ["shipping"]], ["refund", "login", "x"])
    assert costs.tolist() == [100, 0, 1]  # a name outside the labels costs the default


def test_the_cost_optimal_threshold_is_the_cheapest_on_the_given_items() -> None:
    rng = np.random.default_rng(0)
    model = _model()
    for _ in range(20):
        n = int(rng.integers(1, 40))
        confidence = np.round(rng.uniform(0, 1, n), 1)  # ties on purpose
        errors = rng.choice([0.0, 0.0, 1.0, 5.0, 100.0], n)
        chosen = model.optimal_threshold(errors, confidence)
        best = min(model.per_call(errors, confidence, t) for t in [*confidence, 2.0])
        assert model.per_call(errors, confidence, chosen) == pytest.approx(best)


@pytest.mark.parametrize(
    ("costs", "message"),
    [
        (
            {"errors": {"logn": {"refund": 3}}},
            "costs.errors.logn: 'logn' is not a label — did you mean 'login'?",
        ),
        ({"errors": {"login": {"refund": -2}}}, "login.refund: a cost must be >= 0"),
        ({"errors": {"login": {"login": 2}}}, "predicting the right label is not a mistake"),
        ({"review": -1}, "'costs.review'"),
        ({"reveiw": 1}, "did you mean 'review'?"),
    ],
)
def test_bad_cost_declarations_name_the_field(tmp_path: Path, costs: dict, message: str) -> None:
    write_csv(tmp_path / "data.csv", make_rows(3))
    with pytest.raises(TaskError) as info:
        load_task(write_task(tmp_path, costs=costs))
    assert message.replace("costs.errors.", "") in str(info.value)
    assert "task.yaml" in str(info.value)


def test_costs_on_labels_found_only_in_the_data_are_checked_at_eval(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"costs.errors.refnd: 'refnd' is not a label"):
        CostModel.from_spec(
            CostSpec.model_validate({"errors": {"refnd": {"login": 1}}}), LABELS, multi_label=False
        )


def test_eval_prices_every_system_and_picks_the_threshold_on_validation(
    tiny_run: Path, tmp_path: Path
) -> None:
    write_csv(tmp_path / "data.csv", make_rows(20))  # the data tiny_run was trained on
    task = load_task(write_task(tmp_path, costs=COSTS, **{"train.epochs": 1}))
    splits = load_splits(task)
    model = api.load(tiny_run)
    evaluation = evaluate_model(task, model, splits, latency=False)
    cost = _model()

    test_pred = model.predict([ex.text for ex in splits.test])
    errors = cost.error_costs([ex.labels for ex in splits.test], [p.label for p in test_pred])
    val_pred = model.predict([ex.text for ex in splits.validation])
    val_errors = cost.error_costs(
        [ex.labels for ex in splits.validation], [p.label for p in val_pred]
    )
    chosen = cost.optimal_threshold(val_errors, np.array([p.confidence for p in val_pred]))

    fine = evaluation.fine_tuned.metrics["cost"]
    assert fine["per_1k_answer_all"] == pytest.approx(1000 * errors.mean())
    kept = np.array([not p.abstain for p in test_pred])
    assert fine["per_1k_at_target"] == pytest.approx(1000 * np.where(kept, errors, 0.5).mean())
    assert fine["cost_threshold"] == pytest.approx(chosen)
    assert fine["unit"] == "EUR"
    assert all("cost" in s.metrics for s in evaluation.systems)
    stored = json.loads(json.dumps(evaluation.to_dict()))
    assert stored["costs"]["review"] == 0.5 and stored["costs"]["cheapest"]["system"]
    lines = "\n".join(cost_lines(evaluation))
    assert "expected cost per 1,000 calls (EUR" in lines and "cost-optimal threshold" in lines
    assert 'id="costs"' in render_report(stored)
    info = json.loads((tiny_run / "run.json").read_text())
    assert "Cost of mistakes" in model_card(task, info, evaluation)
    assert "cost/1k" in [c.header for c in summary_columns(stored)]


def test_generate_prices_each_contract_failure(tmp_path: Path) -> None:
    from narrowtune.evaluate.evaluation import SystemResult
    from narrowtune.evaluate.generate import _price_failures
    from narrowtune.kinds.generate.model import Checked

    def out(valid: bool) -> Checked:
        problems = [] if valid else ["section 'Steps' is missing"]
        return Checked("x", 1.0, problems, problems, 1, 0, 0, "stop", 0.1)

    write_csv(tmp_path / "data.csv", make_rows(3))
    task = load_task(write_task(tmp_path))
    task.costs = CostSpec(contract_failure=40, review=2, unit="EUR")
    systems = [
        SystemResult(name="fine-tuned", role="fine-tuned", description="", metrics={}),
        SystemResult(name="base", role="baseline", description="", metrics={}),
    ]
    checked = {
        "fine-tuned": [out(True), out(True), out(True), out(False)],
        "base": [out(False), out(False), out(True), out(False)],
    }
    details = _price_failures(task, systems, checked)
    fine, base = (s.metrics["cost"] for s in systems)
    assert fine["per_1k_answer_all"] == pytest.approx(1000 * 40 / 4)  # one broken output in 4
    assert fine["per_1k_at_target"] == pytest.approx(1000 * 2 / 4)  # reviewed instead
    assert base["per_1k_answer_all"] == pytest.approx(1000 * 3 * 40 / 4)
    assert details["cheapest"] == {
        "system": "fine-tuned",
        "setting": "per_1k_at_target",
        "per_1k": pytest.approx(500.0),
    }
    assert details["confusions"][0]["count"] == 1 and details["unit"] == "EUR"
    task.costs = CostSpec(default=7)  # no contract_failure given: `default` prices it
    _price_failures(task, systems, checked)
    assert systems[0].metrics["cost"]["per_1k_answer_all"] == pytest.approx(1000 * 7 / 4)
