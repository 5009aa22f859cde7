"""NLU++ (PolyAI) slot extraction with kind `extract`, on the dataset's fold protocol.

Setting "10-fold" (mid): train on two consecutive folds (0+1, 2+3, …), test on the other 18; the
paper averages 10 such runs per domain. Slots only (one string field per slot, the value as
written, spans from the data); NLU++ intents are multi-label, which kind `extract` does not
predict. Validation (epoch choice, calibration) is carved from the two training folds. The two
gold spans in the whole dataset that overlap another span of the same turn are dropped (a word
can carry one tag); the count is written to the results.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/nlupp.py --domain banking --runs 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[2] / "shared/data/nlupp"
RESULTS = Path(__file__).resolve().parent / "results"


def log_progress(stage: str, done: int, total: int) -> None:
    """Print about twenty progress lines per stage (these runs are long and go to a log)."""
    if done == total or done % max(1, total // 20) == 0:
        print(f"{datetime.now(UTC):%H:%M:%S} {stage} {done}/{total}", flush=True)


def convert(item: dict) -> tuple[dict, int]:
    """A narrowtune row, and how many overlapping spans were dropped from it."""
    text = item["text"]
    slots = sorted(
        (v["span"][0], v["span"][1], name) for name, v in (item.get("slots") or {}).items()
    )
    kept: list[tuple[int, int, str]] = []
    dropped = 0
    for start, end, name in slots:
        if kept and start < kept[-1][1]:
            dropped += 1
            continue
        kept.append((start, end, name))
    return (
        {
            "text": text,
            "output": {name: text[s:e] for s, e, name in kept},
            "spans": {name: [[s, e]] for s, e, name in kept},
        },
        dropped,
    )


def write_rows(path: Path, items: list[dict]) -> int:
    dropped = 0
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            row, lost = convert(item)
            dropped += lost
            handle.write(json.dumps(row) + "\n")
    return dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domain", choices=["banking", "hotels"], default="banking")
    parser.add_argument("--runs", type=int, default=10, help="how many of the 10 fold pairs")
    parser.add_argument("--epochs", default="auto")
    parser.add_argument("--work", type=Path, default=Path("/tmp/narrowtune-bench/nlupp"))
    args = parser.parse_args()

    from narrowtune import api
    from narrowtune.evaluate import machine_description
    from narrowtune.task import load_task

    folds = [
        json.loads((DATA / args.domain / f"fold{i}.json").read_text(encoding="utf-8"))
        for i in range(20)
    ]
    slots = sorted({name for fold in folds for item in fold for name in item.get("slots") or {}})
    schema = {"type": "object", "properties": {s: {"type": "string"} for s in slots}}
    runs = []
    for run in range(args.runs):
        train_folds = (2 * run, 2 * run + 1)
        work = args.work / f"{args.domain}-run{run}"
        work.mkdir(parents=True, exist_ok=True)
        train = [item for i in train_folds for item in folds[i]]
        test = [item for i, fold in enumerate(folds) if i not in train_folds for item in fold]
        dropped = write_rows(work / "train.jsonl", train) + write_rows(work / "test.jsonl", test)
        (work / "schema.json").write_text(json.dumps(schema, indent=1))
        epochs = args.epochs if args.epochs == "auto" else float(args.epochs)
        (work / "task.yaml").write_text(
            yaml.safe_dump(
                {
                    "name": f"nlupp-{args.domain}-run{run}",
                    "kind": "extract",
                    "data": {"train": "train.jsonl", "test": "test.jsonl"},
                    "schema": "schema.json",
                    "metric": "span_f1",
                    "split": {"validation": 0.1, "test": 0.0},
                    "model": {"max_length": 64},
                    "train": {
                        "epochs": epochs,
                        "learning_rate": 1.5e-4,
                        "head_learning_rate": 1e-3,
                        "layer_decay": 0.9,
                    },
                    "seed": 13,
                },
                sort_keys=False,
            )
        )
        task = load_task(work / "task.yaml")
        start = time.perf_counter()
        run_dir = api.train(task, force=True, progress=log_progress)
        wall = time.perf_counter() - start
        evaluation = json.loads((run_dir / "metrics.json").read_text())
        info = json.loads((run_dir / "run.json").read_text())
        fine = evaluation["systems"][0]["metrics"]
        runs.append(
            {
                "train_folds": list(train_folds),
                "train_examples": info["sizes"]["train"],
                "test_examples": info["sizes"]["test"],
                "span_f1": round(100 * fine["span_f1"], 2),
                "field_f1": round(100 * fine["field_f1"], 2),
                "schema_validity": round(100 * fine["schema_validity"], 2),
                "train_seconds": info["train_seconds"],
                "wall_seconds": round(wall, 1),
                "dropped_overlapping_spans": dropped,
                "run_dir": str(run_dir),
            }
        )
        print(json.dumps(runs[-1]), flush=True)

    def mean(key: str) -> float:
        return round(statistics.mean(r[key] for r in runs), 2)

    result = {
        "benchmark": "nlupp_slots",
        "setting": f"{args.domain}_10fold",
        "runs": len(runs),
        "runs_in_protocol": 10,
        "slot_f1": mean("span_f1"),
        "slot_f1_stdev": round(statistics.stdev(r["span_f1"] for r in runs), 2)
        if len(runs) > 1
        else None,
        "field_f1": mean("field_f1"),
        "schema_validity": min(r["schema_validity"] for r in runs),
        "dropped_overlapping_spans": runs[0]["dropped_overlapping_spans"],
        "train_seconds": mean("train_seconds"),
        **{
            f"run{i}_{key}": value
            for i, run in enumerate(runs)
            for key, value in run.items()
            if key in ("span_f1", "field_f1", "train_seconds")
        },
        "reference": "NLU++ paper (arXiv:2204.13021) tables not retrieved here",
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine_description(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"nlupp_{args.domain}_10fold.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
