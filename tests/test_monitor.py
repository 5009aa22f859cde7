"""`narrowtune monitor`: drift tests over the store, the dashboard, exit codes and bad input.

A real tiny model (the session's `tiny_run`) answers real texts, recorded in a real store."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import make_rows
from typer.testing import CliRunner

from narrowtune import api
from narrowtune.cli import app
from narrowtune.monitor import drift
from narrowtune.monitor.check import MonitorError, build_reference, monitor, parse_since
from narrowtune.store import Store
from narrowtune.task import load_task

runner = CliRunner()
NEW_INTENT = [
    f"my staking reward {i} never reached the validator wallet on chain {i % 4}" for i in range(24)
]


@pytest.fixture
def task_file(tiny_run: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "task"
    shutil.copytree(tiny_run.parent.parent.parent, folder)
    return folder / "task.yaml"


def record(task_file: Path, texts: list[str], *, task_name: str | None = None) -> None:
    task = load_task(task_file)
    run = api.load(task_file)
    predictions = run.predict(texts)
    with Store(task.runs_path / "narrowtune.db") as store:
        store.record(
            [p.to_dict() for p in predictions],
            texts=texts,
            model="run",
            request_id="r1",
            latency_ms=1.0,
            task=task_name or task.name,
            kind="classify",
        )


def test_mmd_separates_shifted_samples_and_not_equal_ones() -> None:
    rng = np.random.default_rng(0)

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    a = unit(rng.normal(size=(80, 8)))
    b = unit(rng.normal(size=(60, 8)))
    shifted = unit(rng.normal(size=(60, 8)) + np.array([1.5] + [0] * 7))
    assert drift.mmd_test(a, b, permutations=200).p_value > 0.05
    assert drift.mmd_test(a, shifted, permutations=200).p_value < 0.01


def test_new_intent_recommends_retraining_with_a_cluster_and_dashboard(
    task_file: Path, tmp_path: Path
) -> None:
    record(task_file, [t for t, _ in make_rows(12, seed=5)] + NEW_INTENT)
    html = tmp_path / "dash.html"
    report_file = tmp_path / "report.json"
    result = runner.invoke(
        app, ["monitor", str(task_file), "--html", str(html), "--json", str(report_file)]
    )
    assert result.exit_code == 1, result.output
    assert "retrain recommended" in result.output
    report = json.loads(report_file.read_text())
    window = report["window"]
    assert window["tests"]["input"]["significant"]
    assert window["clusters"] and window["clusters"][0]["size"] >= 20
    assert all("staking reward" in x for x in window["clusters"][0]["examples"])
    page = html.read_text()
    assert "<svg" in page and "<script" not in page and "http://cdn" not in page


def test_in_distribution_traffic_is_not_flagged(task_file: Path) -> None:
    record(task_file, [t for t, _ in make_rows(14, seed=11)])
    task = load_task(task_file)
    with Store(task.runs_path / "narrowtune.db") as store:
        report = monitor(task, store, since=timedelta(days=1))
    tests = report["window"]["tests"]
    assert not tests["input"]["significant"], tests
    assert not tests["new_cluster"]["significant"], tests


def test_empty_store_and_another_tasks_store_are_clear_errors(task_file: Path) -> None:
    result = runner.invoke(app, ["monitor", str(task_file)])
    assert result.exit_code == 2
    assert "holds no predictions" in result.output
    record(task_file, ["refund my order 5"], task_name="other-task")
    result = runner.invoke(app, ["monitor", str(task_file)])
    assert result.exit_code == 2
    assert "only of 'other-task'" in " ".join(result.output.split())


def test_bad_since_and_old_rows_are_clear_errors(task_file: Path) -> None:
    with pytest.raises(MonitorError, match="not a duration"):
        parse_since("seven days")
    assert parse_since("36h") == timedelta(hours=36)
    record(task_file, ["refund my order 5"])
    task = load_task(task_file)
    with Store(task.runs_path / "narrowtune.db") as store, pytest.raises(MonitorError):
        # A window that ends before anything was stored.
        monitor(
            task,
            store,
            since=timedelta(minutes=1),
            now=store.prediction_window(task.name)[0]["created"] - timedelta(days=1),
            reference=build_reference(task),
        )
