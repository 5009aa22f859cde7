"""`narrowtune retrain`, `promote` and `rollback`: feedback merged and audited, champion vs
challenger, the model registry, and a real server following promotions on reload.

Real tiny models throughout; the two tests that train a challenger are marked slow."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from live_server import live_server
from test_serve_reload import current_run, publish_copy
from typer.testing import CliRunner

from narrowtune import api, runs
from narrowtune.cli import app
from narrowtune.errors import NarrowtuneError
from narrowtune.monitor import registry
from narrowtune.monitor.retrain import RetrainError, retrain
from narrowtune.serve import create_app
from narrowtune.store import SCOPES, Store
from narrowtune.task import load_task

runner = CliRunner()
CANCEL = [f"please cancel my subscription number {n} today" for n in range(200, 240)]


@pytest.fixture
def task_file(tiny_run: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "task"
    shutil.copytree(tiny_run.parent.parent.parent, folder)
    return folder / "task.yaml"


def db_of(task_file: Path) -> Path:
    return load_task(task_file).runs_path / "narrowtune.db"


def give_feedback(task_file: Path, texts: list[str], label: str) -> None:
    """The served model answers `texts`; each answer is queued for review (a spot check) and
    a reviewer corrects it to `label` (or accepts it when it already is)."""
    model = api.load(task_file)
    predictions = [p.to_dict() for p in model.predict(texts)]
    with Store(db_of(task_file)) as store:
        ids = store.record(
            predictions,
            texts=texts,
            model="run",
            request_id="feedback",
            latency_ms=1.0,
            task="tiny",
            kind="classify",
        )
        store.queue_reviews(ids)
        for item in store.open_reviews(limit=1000, model="tiny"):
            if item["label"] == label:
                store.decide(item["id"], "reviewer", "accept")
            else:
                store.decide(item["id"], "reviewer", "correct", label)


def untouched(task_file: Path) -> None:
    task = load_task(task_file)
    assert not (task.runs_path / runs.PROMOTED_FILE).exists()
    assert not (task.runs_path / "retrain-data").exists() or not any(
        (task.runs_path / "retrain-data").iterdir()
    )
    assert len(runs.list_runs(task.runs_path)) == 1
    with Store(db_of(task_file)) as store:
        assert store.registry_events("tiny") == []


def test_feedback_with_an_unknown_label_is_refused_and_nothing_changes(task_file: Path) -> None:
    give_feedback(task_file, CANCEL[:6], "cancel")
    result = runner.invoke(app, ["retrain", str(task_file)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "'cancel'" in message and "--allow-label" in message
    untouched(task_file)


def test_retrain_data_failing_the_audit_is_refused_with_the_reason(task_file: Path) -> None:
    leaked = "refund please, my private key is " + "ab12" * 16
    give_feedback(task_file, [leaked, "refund my order 123 now please"], "refund")
    task = load_task(task_file)
    with Store(db_of(task_file)) as store, pytest.raises(RetrainError, match="private key"):
        retrain(task, store)
    untouched(task_file)


def test_retrain_without_feedback_or_run_is_a_clear_error(task_file: Path, tmp_path: Path) -> None:
    task = load_task(task_file)
    with Store(db_of(task_file)) as store, pytest.raises(RetrainError, match="no reviewer"):
        retrain(task, store)
    untouched(task_file)


def test_promote_of_a_missing_run_and_rollback_without_history_change_nothing(
    task_file: Path,
) -> None:
    result = runner.invoke(app, ["promote", "20990101-000000-dead", "--task", str(task_file)])
    assert result.exit_code == 2
    assert "no run '20990101-000000-dead'" in result.output
    result = runner.invoke(app, ["promote", "/nonexistent/run"])
    assert result.exit_code == 2 and "nothing changed" in result.output
    result = runner.invoke(app, ["rollback", str(task_file)])
    assert result.exit_code == 2 and "no earlier promoted run" in result.output
    untouched(task_file)


def test_a_running_server_follows_promote_and_rollback(task_file: Path, tmp_path: Path) -> None:
    task = load_task(task_file)
    (first,) = runs.list_runs(task.runs_path)
    second = publish_copy(first)  # the newest run: what serves before any promotion
    with Store(db_of(task_file)) as store:
        key = store.create_key("ops", scopes=SCOPES)
        server = create_app(task_file, store=store)
        headers = {"Authorization": f"Bearer {key}"}
        with live_server(server) as url:
            assert current_run(url) == second.name
            result = runner.invoke(app, ["promote", first.name, "--task", str(task_file)])
            assert result.exit_code == 0, result.output
            httpx.post(f"{url}/v1/admin/reload", headers=headers, timeout=60).raise_for_status()
            assert current_run(url) == first.name
            result = runner.invoke(app, ["rollback", str(task_file)])
            assert result.exit_code == 0, result.output
            httpx.post(f"{url}/v1/admin/reload", headers=headers, timeout=60).raise_for_status()
            assert current_run(url) == second.name
        events = store.registry_events("tiny")
    assert [e["action"] for e in events] == ["promote", "rollback"]
    assert events[0]["previous_run_id"] == second.name and events[1]["run_id"] == second.name


@pytest.mark.slow
def test_retrain_learns_a_new_intent_and_promotes_then_rolls_back(task_file: Path) -> None:
    give_feedback(task_file, CANCEL, "cancel")
    task = load_task(task_file)
    (champion,) = runs.list_runs(task.runs_path)
    with Store(db_of(task_file)) as store:
        result = retrain(task, store, allow_labels=["cancel"])
        assert result["promoted"], result["reason"]
        assert result["new_labels"] == ["cancel"]
        feedback = result["comparison"]["feedback"]
        assert feedback["items"] == 12 and feedback["challenger"] > feedback["champion"]
        assert runs.promoted_run(task.runs_path) == result["challenger"]
        assert api.load(task_file).predict([CANCEL[0]])[0].label == "cancel"
        registry.rollback(store, task.runs_path, "tiny")
        assert runs.promoted_run(task.runs_path) == champion.name
        actions = [e["action"] for e in store.registry_events("tiny")]
    assert actions == ["promote", "promote", "rollback"]  # champion pinned, challenger, back


@pytest.mark.slow
def test_a_retrain_that_regresses_a_protected_label_is_refused(task_file: Path) -> None:
    # Reviewers (wrongly) move refund requests to shipping: refund recall must fall.
    refunds = [f"I want my money back for order {n}" for n in range(500, 530)]
    refunds += [f"please refund the payment {n}" for n in range(500, 530)]
    give_feedback(task_file, refunds, "shipping")
    text = task_file.read_text() + "monitor:\n  protected_labels: [refund]\n"
    task_file.write_text(text)
    task = load_task(task_file)
    with Store(db_of(task_file)) as store:
        result = runner.invoke(app, ["retrain", str(task_file)])
        assert result.exit_code == 1, result.output
        assert "protected label recall regressed" in " ".join(result.output.split())
        events = store.registry_events("tiny")
    assert events[-1]["action"] == "refuse" and "refund" in events[-1]["reason"]
    assert runs.promoted_run(task.runs_path) == events[0]["run_id"]  # the champion still serves


def test_queue_reviews_adds_spot_checks_once_and_refuses_unknown_ids(tmp_path: Path) -> None:
    with Store(tmp_path / "q.db") as store:
        ids = store.record(
            [{"label": "refund", "confidence": 0.99, "abstain": False}] * 2,
            texts=["refund me", "refund me now"],
            model="run",
            request_id="r",
            latency_ms=1.0,
            task="tiny",
        )
        assert store.count_reviews() == 0
        assert store.queue_reviews(ids) == 2
        assert store.queue_reviews(ids) == 0  # already queued
        with pytest.raises(NarrowtuneError, match="no stored prediction 999"):
            store.queue_reviews([999])
        assert store.count_reviews() == 2
