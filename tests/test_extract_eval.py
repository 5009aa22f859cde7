"""Kind `extract` end to end: train a tiny run, evaluate it against the baselines, predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_kind_protocol import _write_extract

from narrowtune import api
from narrowtune.task import load_task

RULES = """
import re

def extract(text):
    vendor = re.search(r"from (\\w+)", text)
    amount = re.search(r"for ([\\d,]+)", text)
    token = re.search(r"\\d (USDC|DAI|ETH)", text)
    return {
        "token": token.group(1) if token else None,
        "vendor": vendor.group(1) if vendor else None,
        "amount": amount.group(1) if amount else None,
        "priority": "high" if "urgent" in text else "low",
    }
"""


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("extract-eval")
    task_path = _write_extract(folder)
    (folder / "rules.py").write_text(RULES)
    task = load_task(task_path, ["extract.baseline=rules.py:extract", "train.epochs=3"])
    run_dir = api.train(task, force=True)
    evaluation = api.evaluate(task)[0].to_dict()  # as metrics.json holds it
    return folder, task, run_dir, evaluation


def test_evaluation_has_the_shared_shape(evaluated) -> None:
    _, _, run_dir, evaluation = evaluated
    assert evaluation["kind"] == "extract" and evaluation["primary_metric"] == "field_f1"
    names = [s["name"] for s in evaluation["systems"]]
    assert names[1:] == ["gazetteer", "rules"]
    for system in evaluation["systems"]:
        metrics = system["metrics"]
        assert metrics["schema_validity"] == 1.0
        assert 0.0 <= metrics["field_f1"] <= 1.0
        assert system["latency"]["p50_ms"] > 0
    rules = evaluation["systems"][2]["metrics"]
    assert rules["field_f1"] == pytest.approx(1.0)  # the rules are exact on this data
    assert rules["span_f1"] is None  # a rule function gives no spans
    margin = evaluation["margin"]
    assert margin["best_baseline"] == "rules"
    assert margin["delta"] == pytest.approx(margin["fine_tuned"] - 1.0)
    assert any("NARROWTUNE_LLM_BASE_URL" in note for note in evaluation["notes"])
    assert {c["key"] for c in evaluation["columns"]} >= {"field_f1", "span_f1", "schema_validity"}
    anchors = [s[0] for s in evaluation["sections"]]
    assert anchors[:2] == ["fields", "errors"]
    report = (run_dir / "report.html").read_text()
    assert "vendor" in report and "rules" in report
    assert set(evaluation["per_field"]) == {"vendor", "amount", "token", "priority", "all"}


def test_run_json_records_training_facts(evaluated) -> None:
    run = json.loads((evaluated[2] / "run.json").read_text())
    model = run["model"]
    assert model["span_values"]["unlocated"] == 0
    assert 1 <= model["best_epoch"] <= 3 and len(model["history"]) == 3
    assert "output_schema" in model


def test_predict_file_writes_outputs(evaluated, tmp_path: Path) -> None:
    folder = evaluated[0]
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        json.dumps({"text": "Invoice from Acme for 4,200 DAI. No rush on this one."})
        + "\n"
        + json.dumps({"text": "Hello there"})
        + "\n"
    )
    model = api.load(folder / "task.yaml")
    rows = [json.loads(line) for line in api.predict_file(model, inputs).splitlines()]
    assert rows[0]["output"]["amount"] == 4200.0 and rows[0]["output"]["priority"] == "low"
    for row in rows:
        assert row["valid"] is True
        assert set(row) >= {"label", "confidence", "abstain", "output", "missing", "problems"}
        assert row["abstain"] == bool(row["missing"]) or row["abstain"]


def test_unreachable_llm_endpoint_is_reported_not_fatal(
    evaluated, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrowtune.data import load_splits
    from narrowtune.evaluate import evaluate_model

    _, task, run_dir, _ = evaluated
    monkeypatch.setenv("NARROWTUNE_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
    monkeypatch.delenv("NARROWTUNE_LLM_MODEL", raising=False)
    evaluation = evaluate_model(task, api.load(run_dir), load_splits(task), latency=False).to_dict()
    assert "prompted LLM" not in [s["name"] for s in evaluation["systems"]]
    assert any("127.0.0.1:9" in note and "failed" in note for note in evaluation["notes"])


def test_eval_prices_wrong_fields_per_1000_calls(evaluated) -> None:
    from narrowtune.data import load_splits
    from narrowtune.evaluate import evaluate_model
    from narrowtune.evaluate.costs import cost_lines
    from narrowtune.kinds.extract.metrics import field_correct
    from narrowtune.task import CostSpec, TaskError

    _, task, run_dir, _ = evaluated
    priced = task.model_copy(deep=True)
    priced.costs = CostSpec(fields={"amount": 10, "*": 1}, review=0.5, unit="EUR")
    model = api.load(run_dir)
    splits = load_splits(priced)
    evaluation = evaluate_model(priced, model, splits, latency=False)
    # Recomputed here from the model's own predictions: a document costs its wrong fields.
    preds = model.predict([ex.text for ex in splits.test])
    errors, answered = [], []
    for ex, p in zip(splits.test, preds):
        gold = ex.target["output"]
        cost = sum(
            (10 if f.name == "amount" else 1)
            for f in model.fields
            if not field_correct(f, gold.get(f.name), (p.output or {}).get(f.name))
        )
        errors.append(cost)
        answered.append(not p.abstain)
    fine = evaluation.fine_tuned.metrics["cost"]
    assert fine["per_1k_answer_all"] == pytest.approx(1000 * sum(errors) / len(errors))
    at_target = [e if a else 0.5 for e, a in zip(errors, answered)]
    assert fine["per_1k_at_target"] == pytest.approx(1000 * sum(at_target) / len(at_target))
    rules = next(s for s in evaluation.systems if s.name == "rules")
    assert rules.metrics["cost"]["per_1k_answer_all"] == 0.0  # the rules are exact here
    assert evaluation.details["costs"]["cheapest"]["system"] == "rules"
    assert "expected cost per 1,000 calls (EUR" in "\n".join(cost_lines(evaluation))
    priced.costs = CostSpec(fields={"amuont": 10})
    with pytest.raises(TaskError, match=r"costs\.fields\.amuont: 'amuont' is not a field"):
        evaluate_model(priced, model, splits, latency=False, baselines=False)
