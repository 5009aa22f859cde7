"""Progress when output is a log (CI, nohup, a file): plain lines, at most every ~10 s."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from typer.testing import CliRunner

from narrowtune.progress import LogProgress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_log_progress_prints_at_most_every_interval_with_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = LogProgress(stream, interval=10.0, clock=clock)
    for step in range(0, 101):
        clock.now = step * 0.5  # 0.5 s a step: 50 s in all
        progress("fine-tune", step, 100)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "fine-tune 0/100 (0%) elapsed 0:00"
    assert lines[1] == "fine-tune 20/100 (20%) elapsed 0:10 eta 0:40"
    assert lines[-1] == "fine-tune 100/100 (100%) elapsed 0:50"
    assert len(lines) == 6  # at 0, 10, 20, 30 and 40 s, and at the end (50 s)
    times = [int(line.split("elapsed ")[1].split()[0].split(":")[1]) for line in lines]
    assert all(b - a >= 10 or b == 50 for a, b in itertools.pairwise(times))


def test_a_stage_that_runs_again_starts_its_clock_again() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = LogProgress(stream, interval=10.0, clock=clock)
    progress("encode", 5, 5)
    clock.now = 100.0
    progress("encode", 0, 3)
    progress("encode", 3, 3)
    assert stream.getvalue().splitlines() == [
        "encode 5/5 (100%) elapsed 0:00",
        "encode 0/3 (0%) elapsed 0:00",
        "encode 3/3 (100%) elapsed 0:00",
    ]


def test_cli_training_in_a_log_prints_plain_progress_lines(tiny_task: Path) -> None:
    from narrowtune.cli import app

    result = CliRunner().invoke(app, ["train", str(tiny_task)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("fine-tune ")]
    assert lines and lines[-1].startswith("fine-tune ") and "(100%)" in lines[-1]
    assert "elapsed" in lines[-1]
    assert "━" not in result.output  # no bar drawn into a log
