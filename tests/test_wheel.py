"""`pip install narrowtune` (a built wheel) carries the demo: its data ships as package data,
and the demo's data loading runs from the installed package, outside any checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LOAD_DEMO = """
import sys
from pathlib import Path
import narrowtune
home = Path(narrowtune.__file__).resolve()
assert home.is_relative_to(Path(sys.argv[1]).resolve()), home
from narrowtune.data import load_splits
from narrowtune.data.audit import audit
from narrowtune.scaffold import demo_folder
from narrowtune.task import load_task
task = load_task(demo_folder(Path("demo")))
splits = load_splits(task)
report = audit(task, fast=True)
sizes = splits.sizes()
print(task.name, sizes["train"], sizes["validation"], sizes["test"], report.stats["checks"])
assert "torch" not in sys.modules
"""


@pytest.mark.slow
def test_the_wheel_carries_the_demo_and_loads_it_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = dist.glob("narrowtune-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"narrowtune/demo/task.yaml", "narrowtune/demo/tickets.csv"} <= names
    assert "narrowtune/data/audit/checks/secrets.py" in names  # found by listing its folder
    assert not any(name.startswith(("tests/", "examples/", "benchmarks/")) for name in names)

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_DEMO, str(target)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    name, train, validation, test, _ = result.stdout.split(maxsplit=4)
    assert name == "wallet-support" and int(train) > 400 and int(validation) > 50
    assert int(test) > 100
    assert (elsewhere / "demo" / "tickets.csv").read_bytes() == (
        ROOT / "narrowtune" / "demo" / "tickets.csv"
    ).read_bytes()
