"""BENCHMARKS.md must show exactly what benchmarks/results/*.json hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_md_matches_results() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/render.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_result_names_command_date_machine() -> None:
    files = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert files
    for path in files:
        data = json.loads(path.read_text())
        for key in ("command", "date", "machine"):
            assert data.get(key), f"{path.name} lacks {key}"
