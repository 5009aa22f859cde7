"""The CLI's one error handler and its --backend choices, command by command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrowtune.backends import Backend
from narrowtune.cli import app

runner = CliRunner()
# Wide enough that rich wraps neither the help nor the usage-error panel.
WIDE = {"COLUMNS": "200"}


@pytest.mark.parametrize(
    "args",
    [
        ["init", "x", "--kind", "tool", "--directory", "{tmp}/x"],
        ["train", "{missing}"],
        ["eval", "{missing}"],
        ["predict", "{missing}", "{tmp}/in.csv"],
        ["audit", "{missing}"],
        ["keys", "create", "bob", "{missing}"],
        ["keys", "list", "{missing}"],
        ["keys", "revoke", "bob", "--db", "{tmp}/nt.db"],
        ["feedback", "export", "{missing}"],
        ["serve", "{missing}"],
        ["export", "{missing}", "-o", "{tmp}/out"],
        ["runs", "{missing}"],
    ],
    ids=lambda args: " ".join(a for a in args[:2] if not a.startswith("{")),
)
def test_a_narrowtune_error_from_any_command_is_one_line_on_stderr_and_exit_2(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NARROWTUNE_DB", raising=False)  # the task file decides where the db is
    missing = tmp_path / "nowhere" / "task.yaml"
    argv = [a.format(tmp=tmp_path, missing=missing) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    if str(missing) in argv:
        assert result.stderr == (
            f"error: task file not found: {missing} (create one with `narrowtune init NAME`)\n"
        )


@pytest.mark.parametrize("command", ["serve", "eval", "predict"])
def test_an_unknown_backend_is_a_usage_error_naming_the_choices(
    command: str, tmp_path: Path
) -> None:
    targets = [str(tmp_path / "task.yaml")] + ([str(tmp_path / "in.csv")] * (command == "predict"))
    result = runner.invoke(app, [command, *targets, "--backend", "nope"], env=WIDE)
    assert result.exit_code == 2, result.output
    assert "unknown backend 'nope'; choose one of torch, onnx, onnx-int8, llamacpp" in (
        result.stderr
    )
    help_text = runner.invoke(app, [command, "--help"], env=WIDE).stdout
    assert "torch|onnx|onnx-int8|llamacpp" in help_text  # typer lists the enum's values


def test_backend_names_are_the_values_the_api_takes() -> None:
    assert [b.value for b in Backend] == ["torch", "onnx", "onnx-int8", "llamacpp"]
    assert Backend.parse("onnx-int8") is Backend.ONNX_INT8 and Backend.ONNX_INT8 == "onnx-int8"
