"""`narrowtune advise` on BANKING77: its wall time on this machine and what it decides.

    python benchmarks/advise_banking77.py

The task is BANKING77's official training data (5% carved for validation) and test split, with
a profile of 20,000 calls a day; writes benchmarks/results/advise_banking77.json.
Data: ../shared/data/banking77 (CC BY 4.0, Casanueva et al. 2020); read in place, never copied.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from banking77 import DATA, RESULTS  # the same data folder and results as banking77.py

from narrowtune.advise import advise
from narrowtune.evaluate import machine_description
from narrowtune.task import load_task


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        task = {
            "name": "banking77",
            "kind": "classify",
            "data": {
                "train": str(DATA / "train.csv"),
                "test": str(DATA / "test.csv"),
                "text_column": "text",
                "label_column": "category",
            },
            "split": {"validation": 0.05, "test": 0.0},
            "profile": {"volume_per_day": 20000},
            "runs_dir": str(Path(tmp) / "runs"),
            "seed": 13,
        }
        path = Path(tmp) / "task.yaml"
        path.write_text(yaml.safe_dump(task))
        start = time.perf_counter()
        advice = advise(load_task(path))
        wall = time.perf_counter() - start
    signals = advice.signals
    record: dict[str, object] = {
        "wall_seconds": round(wall, 1),
        "decision": advice.decision,
        "per_label_median": signals["per_label_median"],
        "label_consistency": round(signals["label_consistency"], 4),
        "curve_accuracy": [round(100 * p["accuracy"], 2) for p in signals["curve"]],
        "curve_train_rows": [p["train"] for p in signals["curve"]],
        "break_even_calls_per_day": round(advice.options["break_even_calls_per_day"]),
        "fine_tune_cost_per_1k": round(advice.options["fine-tune"]["cost_per_1k"], 4),
        "prompt_cost_per_1k": round(advice.options["prompt"]["cost_per_1k"], 4),
        "prompt_tokens_per_call": round(advice.options["prompt"]["tokens_per_call"], 1),
        "small_model_p50_ms": round(advice.options["fine-tune"]["latency_ms"], 1),
    }
    short = {
        "zero-shot similarity": "zero_shot",
        "frozen embeddings + logistic regression": "frozen_logreg",
        "TF-IDF + logistic regression": "tfidf_logreg",
    }
    for name, value in signals["baselines_validation_accuracy"].items():
        record[f"validation_accuracy_{short.get(name, name)}"] = round(100 * value, 2)
    record.update(
        command="python " + " ".join(sys.argv),
        date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine_description(),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "advise_banking77.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
