"""`narrowtune advise`: measured signals, the decision rules, advice.json and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_rows, write_csv, write_task
from typer.testing import CliRunner

from narrowtune.advise import advise, decide
from narrowtune.cli import app
from narrowtune.task import ProfileSpec, load_task


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A 3-intent task with 60 rows per intent at a high volume, advised once."""
    folder = tmp_path_factory.mktemp("advise")
    write_csv(folder / "data.csv", make_rows(60))
    task = load_task(write_task(folder, profile={"volume_per_day": 1_000_000}))
    return task, advise(task)


def test_enough_data_at_high_volume_is_fine_tune(measured) -> None:  # type: ignore[no-untyped-def]
    task, advice = measured
    signals = advice.signals
    assert signals["per_label_median"] == 36 and signals["label_consistency"] == 1.0
    assert [p["train"] for p in signals["curve"]] == [11, 27, 54, 108]
    assert set(signals["baselines_validation_accuracy"]) == {
        "zero-shot similarity",
        "frozen embeddings + logistic regression",
        "TF-IDF + logistic regression",
    }
    assert advice.options["fine-tune"]["latency_ms"] > 0
    assert advice.options["prompt"]["tokens_per_call"] > 20
    assert advice.decision == "fine-tune", advice.reasons
    by_name = {c.name: c for c in advice.criteria}
    assert by_name["volume"].met and by_name["labelled examples"].met
    assert by_name["demonstrated margin over the baselines"].met is None  # no run yet
    assert signals["unseen_figures"] == {"texts_quoting_figures": 0, "share_unseen": None}
    stored = json.loads((task.runs_path / "advice.json").read_text())
    assert stored["decision"] == "fine-tune"
    assert stored["assumptions"]["volume_per_day"] == {"value": 1_000_000, "assumed": False}
    assert stored["assumptions"]["risk"]["assumed"] is True
    assert any("costs" in m for m in stored["measure_first"])


@pytest.mark.parametrize(
    ("profile", "decision"),
    [
        ({"volume_per_day": 1_000_000, "facts_change": "daily"}, "fine-tuned router + retrieve"),
        ({"volume_per_day": 1_000_000, "process_stable": False}, "orchestrate"),
        ({"volume_per_day": 1_000_000, "multi_step": True}, "orchestrate + fine-tuned step"),
        ({"volume_per_day": 10}, "prompt"),
        ({"volume_per_day": 10, "facts_change": "weekly"}, "retrieve"),
    ],
)
def test_the_rules_follow_the_profile(measured, profile: dict, decision: str) -> None:  # type: ignore[no-untyped-def]
    task, advice = measured
    changed = task.model_copy(deep=True)
    changed.profile = ProfileSpec(**profile)
    options = dict(advice.options)
    assert decide(changed, advice.signals, options)[0] == decision


def test_thin_labels_prompt_noisy_labels_fix_data_and_a_margin_without_proof_is_not_fine_tune(
    measured,
) -> None:  # type: ignore[no-untyped-def]
    task, advice = measured
    thin = {**advice.signals, "per_label_median": 4.0}
    assert decide(task, thin, advice.options)[0] == "prompt"
    noisy = {**advice.signals, "label_consistency": 0.8}
    assert decide(task, noisy, advice.options)[0] == "fix data first"
    small = {**advice.signals, "validation": 6, "test": 6}
    assert decide(task, small, advice.options)[0] == "measure more before deciding"
    unproven = {
        **advice.signals,
        "run": {"margin": {"delta": 0.004, "demonstrated": False}, "margin_sentence": "x"},
    }
    decision, reasons, _, measure = decide(task, unproven, advice.options)
    assert decision == "prompt" and any("no demonstrated margin" in r for r in reasons)
    assert any("interval includes zero" in m for m in measure)


def test_the_command_prints_the_decision_and_assumptions(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", make_rows(20))
    result = CliRunner().invoke(app, ["advise", str(write_task(tmp_path))])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "decision: measure more before deciding" in text
    assert "break-even volume" in text and "assumed (set them under `profile:`)" in text
    assert "label more data" in text


def test_kinds_without_labels_count_worked_examples(tmp_path: Path) -> None:
    from test_kind_protocol import _write_extract

    task = load_task(_write_extract(tmp_path))
    advice = advise(task)
    by_name = {c.name: c for c in advice.criteria}
    train = advice.signals["train"]
    assert by_name["labelled examples"].evidence.startswith(f"{train} examples in all")
    assert by_name["labelled examples"].met is (train >= 200)
    assert not any("out-of-scope" in m for m in advice.measure_first)  # a classify setting
    assert "per label" not in " ".join(advice.reasons)


@pytest.mark.slow
def test_the_curve_can_come_from_the_fast_fine_tune(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", make_rows(20))
    task = load_task(write_task(tmp_path, profile={"volume_per_day": 1_000_000}))
    advice = advise(task, curve_minutes=0.4)
    curve = advice.signals["curve"]
    assert [p["train"] for p in curve] == [p["train"] for p in advice.signals["probe_curve"]]
    assert all(0.0 <= p["accuracy"] <= 1.0 and p["seconds"] > 0 for p in curve)
    helping = next(c for c in advice.criteria if c.name == "more data still helping")
    assert helping.evidence.startswith("fast fine-tune (1 epoch) on validation")


@pytest.mark.parametrize(
    "example",
    ["dao_proposals", "brand_voice", "code_migration", "wallet_support/replies"],
)
def test_advise_runs_on_every_example(example: str, tmp_path: Path) -> None:
    import shutil

    from narrowtune.advise import DECISIONS

    source = Path(__file__).resolve().parents[1] / "examples" / example
    folder = tmp_path / "example"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("runs"))
    task = load_task(folder / "task.yaml")
    advice = advise(task)
    assert advice.decision in DECISIONS and advice.reasons
    stored = json.loads((task.runs_path / "advice.json").read_text())
    assert stored["decision"] == advice.decision
