"""Run directories: `runs/<task>/<run-id>/`, created atomically, found again by id or path."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from narrowtune.atomic import write_json, write_text
from narrowtune.errors import NarrowtuneError

STAGING_PREFIX = ".staging-"
MODEL_DIR = "model"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
CARD_FILE = "README.md"
TASK_FILE = "task.yaml"
ADVICE_FILE = "advice.json"  # beside the runs: `narrowtune advise` is about the task
# Names the run that serves once one was promoted (`narrowtune promote` / `rollback`); without
# it a task's newest run serves.
PROMOTED_FILE = "promoted.json"

__all__ = [
    "find_run",
    "is_run_dir",
    "list_runs",
    "new_run_id",
    "read_json",
    "staged_run",
    "write_json",
    "write_text",
]


def new_run_id() -> str:
    """Sortable by time, unique enough for parallel runs: 20261125-110512-3fa2."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@contextmanager
def staged_run(runs_path: Path, run_id: str | None = None) -> Iterator[Path]:
    """Yield a staging folder; on success it is renamed to its final name, else removed.

    A crash or Ctrl-C (KeyboardInterrupt) inside the block leaves no partial run behind.
    """
    run_id = run_id or new_run_id()
    runs_path.mkdir(parents=True, exist_ok=True)
    staging = runs_path / f"{STAGING_PREFIX}{run_id}"
    final = runs_path / run_id
    staging.mkdir()
    try:
        yield staging
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def list_runs(runs_path: Path) -> list[Path]:
    """Finished runs, oldest first (staging folders are never listed)."""
    if not runs_path.is_dir():
        return []
    return sorted(
        p
        for p in runs_path.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / RUN_FILE).is_file()
    )


def is_run_dir(path: Path) -> bool:
    return (path / RUN_FILE).is_file() and (path / MODEL_DIR).is_dir()


def promoted_run(runs_path: Path) -> str | None:
    """The id of the task's promoted run, or None when none was ever promoted."""
    pointer = runs_path / PROMOTED_FILE
    if not pointer.is_file():
        return None
    try:
        return str(read_json(pointer)["run_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise NarrowtuneError(
            f"{pointer} is damaged ({error}); run `narrowtune promote RUN` to rewrite it"
        ) from error


def set_promoted(runs_path: Path, run_id: str) -> None:
    """Make `run_id` the task's serving run (atomically: a reader sees the old or the new)."""
    write_json(
        runs_path / PROMOTED_FILE,
        {"run_id": run_id, "promoted": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
    )


def find_run(runs_path: Path, run: str | None = None) -> Path:
    """A run by id or path; when `run` is None, the promoted run (see `promoted_run`), else
    the newest run of the task."""
    if run:
        candidate = Path(run)
        for path in (candidate, runs_path / run):
            if is_run_dir(path):
                return path
        raise NarrowtuneError(
            f"no run '{run}' (looked for a run directory at {candidate} and {runs_path / run})"
        )
    promoted = promoted_run(runs_path)
    if promoted is not None:
        if not is_run_dir(runs_path / promoted):
            raise NarrowtuneError(
                f"the promoted run {promoted} ({runs_path / PROMOTED_FILE}) is missing; "
                "promote another with `narrowtune promote RUN`"
            )
        return runs_path / promoted
    runs = list_runs(runs_path)
    if not runs:
        raise NarrowtuneError(f"no trained run under {runs_path}; run `narrowtune train` first")
    return runs[-1]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def read_advice(runs_path: Path) -> dict[str, Any] | None:
    """The task's newest `narrowtune advise` result (runs/<task>/advice.json), if any."""
    path = runs_path / ADVICE_FILE
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
