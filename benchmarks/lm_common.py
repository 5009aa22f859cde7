"""What the causal-LM benchmark runners (`generate_common`, `tool_call_common`) and the other
benchmark scripts share: where results go, the provenance every result records, and the step
that evaluates a trained model and writes `<stem>.json` plus `<stem>_outputs.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from narrowtune.data import load_splits
from narrowtune.evaluate import machine_description
from narrowtune.kinds import get_kind
from narrowtune.task import load_task

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def rounded(value: Any) -> Any:
    """A float to 4 decimals; anything else as it is."""
    return round(value, 4) if isinstance(value, float) else value


def provenance() -> dict[str, str]:
    """`command` (with the cores and threads this process really ran on), `date`, `machine`."""
    cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    threads = os.environ.get("OMP_NUM_THREADS", "")
    prefix = (f"OMP_NUM_THREADS={threads} " if threads else "") + f"taskset -c {cores}"
    return {
        "command": f"{prefix} python " + " ".join(sys.argv),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine_description() + f", pinned to core(s) {cores} ({prefix})",
    }


def progress(stage: str, done: int, total: int) -> None:
    """Print a training/evaluation stage with the time (UTC)."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {stage} {done}/{total}", flush=True)


def prepare(
    kind_name: str, name: str, task_file: Path, overrides: list[str], args: argparse.Namespace
) -> tuple[str, Any, Any, Any]:
    """(results name, task, splits, kind): the task file with the script's overrides then the
    command line's `--set`s; `--setting` suffixes the name."""
    if args.setting:
        name = f"{name}_{args.setting}"
    task = load_task(task_file, [*overrides, *args.set])
    return name, task, load_splits(task), get_kind(kind_name)


def train_timed(
    kind: Any, task: Any, splits: Any, tail: Callable[[Any], str] = lambda model: ""
) -> tuple[Any, float]:
    """Train on the splits; print the seconds taken and the validation loss before -> after
    (then `tail(model)`); return the model and the seconds."""
    began = time.perf_counter()
    model = kind.train(task, splits.train, splits.validation, progress=progress)
    train_seconds = time.perf_counter() - began
    print(
        f"trained in {train_seconds:.0f} s: {model.config.validation_loss_before} -> "
        f"{model.config.validation_loss_after}{tail(model)}",
        flush=True,
    )
    return model, train_seconds


def evaluate_and_write(
    kind: Any,
    task: Any,
    model: Any,
    splits: Any,
    train_seconds: float,
    flatten: Callable[[dict[str, Any], Any, float], dict[str, Any]],
    stem: str,
    *,
    ensure_ascii: bool = True,
) -> dict[str, Any]:
    """Evaluate `model` against its baselines (with latency), write the flat result (plus
    provenance) to `RESULTS/<stem>.json` and the outputs to `RESULTS/<stem>_outputs.jsonl`,
    print the result and return it."""
    evaluation = kind.evaluate(
        task,
        model,
        splits,
        baselines=True,
        latency=True,
        train_seconds=train_seconds,
        progress=progress,
    ).to_dict()
    result = {**flatten(evaluation, model, train_seconds), **provenance()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    with (RESULTS / f"{stem}_outputs.jsonl").open("w", encoding="utf-8") as handle:
        for row in evaluation["outputs"]:
            handle.write(json.dumps(row, ensure_ascii=ensure_ascii) + "\n")
    print(json.dumps(result, indent=2), flush=True)
    return result
