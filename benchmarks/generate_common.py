"""Shared runner of the generate benchmarks: train on an example, evaluate against the base model.

Each `benchmarks/generate_<example>.py` calls `run(...)` with its task file and CPU-sized
overrides; the result is `benchmarks/results/generate_<example>.json` (flat keys + command, date,
machine) and the outputs side by side in `generate_<example>_outputs.jsonl` next to it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lm_common import evaluate_and_write, prepare, rounded, train_timed

METRICS = (
    "contract_rate_before_retry",
    "contract_rate",
    "chrf",
    "rouge_l",
    "embedding_similarity",
    "checker_pass",
    "style_approved",
    "judge_win_rate",
    "mean_attempts",
    "generate_tokens_per_s",
)
PREFIX = {"fine-tuned (LoRA)": "", "base, zero-shot": "base_zero_shot_"}


def flatten(evaluation: dict[str, Any], model: Any, train_seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "train_seconds": round(train_seconds, 1),
        "train_steps": model.config.steps,
        "train_examples": model.config.train_examples,
        "train_tokens_per_s": model.config.train_tokens_per_s,
        "validation_loss_before": model.config.validation_loss_before,
        "validation_loss_after": model.config.validation_loss_after,
        "test_prompts": evaluation["split"]["evaluated"],
    }
    for system in evaluation["systems"]:
        prefix = PREFIX.get(system["name"], "base_few_shot_")
        metrics = system["metrics"]
        for key in METRICS:
            if metrics.get(key) is not None:
                name = "contract_rate_after_retry" if key == "contract_rate" else key
                out[prefix + name] = rounded(metrics[key])
        if not prefix:
            out["valid_or_flagged"] = metrics["valid_or_flagged"]
        latency = system.get("latency") or {}
        for key in ("p50_ms", "throughput_per_s", "cost_per_1k_usd"):
            if latency.get(key) is not None:
                value = latency[key]
                out[prefix + key] = round(value, 6 if key == "cost_per_1k_usd" else 2)
    return out


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train and evaluate one generate example.")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra task overrides after the script's own (e.g. generate.max_steps=60)",
    )
    parser.add_argument(
        "--setting", help="suffix of the results file: generate_<example>_<setting>.json"
    )
    parser.add_argument("--save-model", type=Path, help="also save the trained model here")
    parser.add_argument(
        "--load-model",
        type=Path,
        help="evaluate a model saved by an earlier --save-model run instead of training; "
        "train_seconds is then that run's, from its recorded tokens and tokens/s",
    )
    return parser.parse_args()


def run(name: str, task_file: Path, overrides: list[str]) -> dict[str, Any]:
    args = options()
    name, task, splits, kind = prepare("generate", name, task_file, overrides, args)
    if args.load_model:
        from narrowtune.kinds.generate.model import load

        model = load(args.load_model)
        config = model.config
        train_seconds = config.train_tokens / config.train_tokens_per_s
        print(f"loaded {args.load_model}: {config.steps} steps, ~{train_seconds:.0f} s", flush=True)
    else:
        model, train_seconds = train_timed(kind, task, splits)
    if args.save_model:
        model.save(args.save_model)
        print(f"model saved to {args.save_model}", flush=True)
    return evaluate_and_write(
        kind, task, model, splits, train_seconds, flatten, f"generate_{name}", ensure_ascii=False
    )
