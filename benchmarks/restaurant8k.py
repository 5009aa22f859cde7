"""Restaurant-8k (PolyAI, Span-ConveRT) slot span extraction with kind `extract`.

Each turn becomes one narrowtune row: the slot the system just asked for (the dataset's
`context.requestedSlots`, which Span-ConveRT also uses) is written in front of the user's text as
`(asked: time) `, and the gold spans are shifted by that prefix. One string field per slot
(people, time, date, first_name, last_name). Trains through `narrowtune.api.train` on
`train_<i>.json` (1/2^i of the training data; 0 = all, 8 = 32 turns; validation carved from it)
and scores span F1 on the official `test.json` (entity level: slot + exact character span).

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/restaurant8k.py --fraction 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[2] / "shared/data/restaurant8k"
RESULTS = Path(__file__).resolve().parent / "results"


def log_progress(stage: str, done: int, total: int) -> None:
    """Print about twenty progress lines per stage (these runs are long and go to a log)."""
    if done == total or done % max(1, total // 20) == 0:
        print(f"{datetime.now(UTC):%H:%M:%S} {stage} {done}/{total}", flush=True)


SLOTS = ["people", "time", "date", "first_name", "last_name"]


def convert(item: dict) -> tuple[dict, int]:
    """A narrowtune row, and how many gold spans were dropped because they overlap another
    (a few turns label one span as two slots, e.g. both date and time; a word carries one tag,
    so the first label in the file is kept and the drop is counted in the results)."""
    asked = (item.get("context") or {}).get("requestedSlots") or []
    prefix = f"(asked: {', '.join(asked)}) " if asked else ""
    user = item["userInput"]["text"]
    text = prefix + user
    output: dict[str, str] = {}
    spans: dict[str, list[list[int]]] = {}
    taken: list[tuple[int, int]] = []
    dropped = 0
    for label in item.get("labels") or []:
        span = label["valueSpan"]
        start = span.get("startIndex", 0) + len(prefix)
        end = span.get("endIndex", len(user)) + len(prefix)
        if label["slot"] in output or any(start < e and end > s for s, e in taken):
            dropped += 1
            continue
        taken.append((start, end))
        output[label["slot"]] = text[start:end]
        spans[label["slot"]] = [[start, end]]
    return {"text": text, "output": output, "spans": spans}, dropped


def per_epoch(history: list[dict]) -> dict[str, float]:
    """Validation scores after each epoch (and seconds so far), as flat keys."""
    out = {}
    for record in history:
        n = int(record["epoch"])
        for key, value in record.items():
            if key in ("val_span_f1", "seconds"):
                out[f"epoch{n}_{key}"] = round(100 * value, 2) if key.startswith("val_") else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fraction", type=int, default=0, help="train_<i>.json: 1/2^i of train")
    parser.add_argument("--epochs", default="auto")
    parser.add_argument("--lr", type=float, default=1.5e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/narrowtune-bench/restaurant8k"))
    args = parser.parse_args()

    from narrowtune import api
    from narrowtune.evaluate import machine_description
    from narrowtune.task import load_task

    work = args.work / f"fraction{args.fraction}"
    work.mkdir(parents=True, exist_ok=True)
    dropped = {}
    for source, target in (
        (f"train_{args.fraction}.json", "train.jsonl"),
        ("test.json", "test.jsonl"),
    ):
        items = json.loads((DATA / source).read_text(encoding="utf-8"))
        dropped[target] = 0
        with (work / target).open("w", encoding="utf-8") as handle:
            for item in items:
                row, lost = convert(item)
                dropped[target] += lost
                handle.write(json.dumps(row) + "\n")
    schema = {"type": "object", "properties": {s: {"type": "string"} for s in SLOTS}}
    (work / "schema.json").write_text(json.dumps(schema, indent=1))
    epochs = args.epochs if args.epochs == "auto" else float(args.epochs)
    task_file = work / "task.yaml"
    task_file.write_text(
        yaml.safe_dump(
            {
                "name": f"restaurant8k-f{args.fraction}",
                "kind": "extract",
                "data": {"train": "train.jsonl", "test": "test.jsonl"},
                "schema": "schema.json",
                "metric": "span_f1",
                "split": {"validation": 0.1, "test": 0.0},
                "model": {"max_length": 64},
                "train": {
                    "epochs": epochs,
                    "learning_rate": args.lr,
                    "head_learning_rate": args.head_lr,
                    "layer_decay": 0.9,
                },
                "seed": 13,
            },
            sort_keys=False,
        )
    )
    task = load_task(task_file)
    start = time.perf_counter()
    run_dir = api.train(task, force=True, progress=log_progress)
    wall = time.perf_counter() - start
    evaluation = json.loads((run_dir / "metrics.json").read_text())
    info = json.loads((run_dir / "run.json").read_text())
    fine = evaluation["systems"][0]["metrics"]
    result = {
        "benchmark": "restaurant8k",
        "setting": f"train_{args.fraction}",
        "train_examples": info["sizes"]["train"],
        "validation_examples": info["sizes"]["validation"],
        "test_examples": info["sizes"]["test"],
        "span_f1": round(100 * fine["span_f1"], 2),
        "span_precision": round(100 * fine["span_precision"], 2),
        "span_recall": round(100 * fine["span_recall"], 2),
        "field_f1": round(100 * fine["field_f1"], 2),
        "exact_match": round(100 * fine["exact_match"], 2),
        "schema_validity": round(100 * fine["schema_validity"], 2),
        "dropped_overlapping_spans_train": dropped["train.jsonl"],
        "dropped_overlapping_spans_test": dropped["test.jsonl"],
        "epochs": info["model"]["epochs"],
        "best_epoch": info["model"]["best_epoch"],
        **per_epoch(info["model"]["history"]),
        "train_seconds": info["train_seconds"],
        "wall_seconds": round(wall, 1),
        "base": task.model.base,
        "reference": "Span-ConveRT, full training set: F1 about 96 (aggregator figure)",
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine_description(),
        "run_dir": str(run_dir),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"restaurant8k_train{args.fraction}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
