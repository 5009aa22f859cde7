"""The Task spec: defaults, overrides, and errors that name the file, line, key and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrowtune.task import TaskError, load_task


def test_defaults_and_resolution(tiny_task: Path) -> None:
    task = load_task(tiny_task)
    assert task.kind == "classify"
    assert task.model.base == "all-MiniLM-L6-v2"
    assert task.train.epochs == 2
    assert task.abstain.target_precision == 0.95
    assert task.path("data.csv") == tiny_task.parent / "data.csv"
    assert task.runs_path == tiny_task.parent / "runs" / "tiny"
    resolved = task.resolved()
    assert "base_dir" not in resolved and resolved["train"]["batch_size"] == 8


def test_overrides_are_parsed_as_yaml_scalars(tiny_task: Path) -> None:
    task = load_task(
        tiny_task,
        ["train.epochs=5", "seed=11", "abstain.target_precision=0.99", "model.base=/some/path"],
    )
    assert task.train.epochs == 5.0 and task.seed == 11
    assert task.abstain.target_precision == 0.99
    assert task.model.base == "/some/path"


def test_override_without_equals_is_explained(tiny_task: Path) -> None:
    with pytest.raises(TaskError, match="not key=value"):
        load_task(tiny_task, ["train.epochs"])


def test_unknown_key_names_line_and_suggests(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text("name: t\ndata:\n  train: d.csv\ntrian:\n  epochs: 3\n")
    with pytest.raises(TaskError) as info:
        load_task(path)
    message = str(info.value)
    assert f"{path}:4" in message
    assert "unknown key 'trian'" in message and "did you mean 'train'" in message


def test_nested_typo_and_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text("name: t\ndata:\n  train: d.csv\n  text_colum: body\ntrain:\n  epochs: many\n")
    with pytest.raises(TaskError) as info:
        load_task(path)
    message = str(info.value)
    assert "data.text_colum" in message and "did you mean 'text_column'" in message
    assert f"{path}:6" in message and "train.epochs" in message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text("name: t\ndata: [unclosed\n")
    with pytest.raises(TaskError, match=r"task.yaml:\d+:\d+: not valid YAML"):
        load_task(path)


def test_missing_required_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text("name: t\n")
    with pytest.raises(TaskError, match="required key 'data' is missing"):
        load_task(path)
    with pytest.raises(TaskError, match="task file not found"):
        load_task(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(TaskError, match="empty"):
        load_task(empty)


def test_labels_accept_list_or_mapping(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text("name: t\ndata: {train: d.csv}\nlabels: [a, b]\n")
    assert load_task(path).labels == {"a": "", "b": ""}
