"""`api.resolve_run`: what a run directory, a task file or a task folder names, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrowtune import api
from narrowtune.errors import NarrowtuneError


def test_a_run_directory_names_itself(tiny_run: Path) -> None:
    assert api.resolve_run(tiny_run) == tiny_run


def test_a_task_file_and_its_folder_name_the_tasks_newest_run(tiny_run: Path) -> None:
    # tiny_run lies under <task folder>/runs/<task>/<id>/
    task_file = next(p / "task.yaml" for p in tiny_run.parents if (p / "task.yaml").is_file())
    assert api.resolve_run(task_file).resolve() == tiny_run.resolve()
    assert api.resolve_run(task_file.parent).resolve() == tiny_run.resolve()


def test_a_folder_that_is_no_run_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(NarrowtuneError, match=f"{tmp_path} is not a run directory"):
        api.resolve_run(tmp_path)
