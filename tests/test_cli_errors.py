"""The CLI's one error handler, command by command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrowtune.cli import app

runner = CliRunner()


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
