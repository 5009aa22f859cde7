"""`narrowtune advise` on BANKING77: its wall time on this machine and what it decides.

    python benchmarks/advise_banking77.py

The task is BANKING77's official training data (5% carved for validation) and test split, with
a profile of 20,000 calls a day; writes benchmarks/results/advise_banking77.json.
Data: ../shared/data/banking77 (CC BY 4.0, Casanueva et al. 2020); read in place, never copied.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from audit_common import write_result
from banking77 import write_task  # the same task file as banking77.py

from narrowtune.advise import advise
from narrowtune.task import load_task


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # banking77.py's task, with the default abstention target and a traffic profile.
        path = write_task(
            Path(tmp),
            {"abstain": {"target_precision": 0.95}, "profile": {"volume_per_day": 20000}},
        )
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
    write_result("advise_banking77", record)


if __name__ == "__main__":
    main()
