"""The demo data carries deliberate problems (examples/wallet_support/README.md); the audit
must find each one, and `train` must refuse the raw file until it is cleaned."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrowtune import api
from narrowtune.task import load_task

EXAMPLE = Path(__file__).resolve().parent.parent / "narrowtune" / "demo" / "task.yaml"


def line(row: int) -> str:
    """README rows are 1-based data rows; the header is line 1 of the CSV."""
    return f"tickets.csv:{row + 1}"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    task = load_task(EXAMPLE, [f"runs_dir={tmp_path_factory.mktemp('runs')}"])
    return api.audit(task, fast=True)


def rows_of(report, check: str) -> set[str]:
    return {Path(r).name for f in report.findings if f.check == check for r in f.rows}


def groups_of(report, check: str) -> list[set[str]]:
    return [
        {Path(r).name for r in group["rows"]}
        for f in report.findings
        if f.check == check
        for group in f.evidence.get("groups", f.evidence.get("clusters", []))
    ]


def test_exact_duplicates_found(report) -> None:
    groups = groups_of(report, "exact_duplicates")
    for a, b in ((5, 268), (10, 187), (26, 579)):  # the last pair differs in case and spaces
        assert {line(a), line(b)} in groups


def test_conflict_found(report) -> None:
    assert {line(60), line(481)} <= rows_of(report, "conflicting_labels")


def test_secrets_found_and_blocking(report) -> None:
    secrets = [f for f in report.findings if f.check == "secrets"]
    flagged = {Path(r).name for f in secrets for r in f.rows}
    for row in (80, 25, 580, 521):  # seed phrase, private key, e-mail, phone
        assert line(row) in flagged, row
    assert any(
        f.severity == "blocking" and line(80) in {Path(r).name for r in f.rows} for f in secrets
    )


def test_near_duplicate_found(tmp_path: Path) -> None:
    task = load_task(EXAMPLE, [f"runs_dir={tmp_path}"])
    report = api.audit(task, checks=["near_duplicates"])
    assert any({line(47), line(232)} <= g for g in groups_of(report, "near_duplicates"))


def test_train_refuses_the_raw_demo_file(tmp_path: Path) -> None:
    task = load_task(EXAMPLE, [f"runs_dir={tmp_path}"])
    with pytest.raises(api.BlockingDataError, match="seed phrase"):
        api.train(task)
    assert not any(tmp_path.rglob("run.json"))
