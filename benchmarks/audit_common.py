"""Helpers shared by the benchmark scripts: where results go and what to record with them."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.platform()}; {os.cpu_count()} CPU(s) ({platform.processor() or 'unknown'}); "
        f"python {platform.python_version()}; load average at finish "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_result(name: str, values: dict[str, Any]) -> Path:
    """Write benchmarks/results/<name>.json with flat keys plus command, date and machine."""
    record = {
        **values,
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2, ensure_ascii=False))
    return path


class Timer:
    def __enter__(self) -> Timer:
        self.start, self.cpu_start = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = cpu_seconds() - self.cpu_start
