"""Shared runner of the tool_call benchmarks: train on a task, evaluate against the baselines,
write `benchmarks/results/<name>.json` (flat keys + command, date, machine).

Keys per system: no prefix for the fine-tuned model, `base_zero_shot_`, `base_few_shot_`,
`encoder_route_` and `llm_` for the baselines; `ast_<category>` per category.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from lm_common import evaluate_and_write, prepare, rounded, train_timed

METRICS = (
    "ast_accuracy",
    "action_accuracy",
    "exact_arguments",
    "irrelevance_accuracy",
    "schema_valid",
    "unconfirmed_executions",
    "escalated",
    "executed_precision",
    "ast_accuracy_successful",
    "ast_accuracy_failed",
)
BASE_NOTE = (
    "the bundled Gemma 3 270M is a pretrained model, not instruction-tuned: the base rows are "
    "that base prompted with the tools in the same grammar"
)


def prefix_of(name: str) -> str:
    if name.startswith("fine-tuned"):
        return ""
    if name == "base, zero-shot":
        return "base_zero_shot_"
    if name.startswith("base,"):
        return "base_few_shot_"
    if name.startswith("encoder route"):
        return "encoder_route_"
    return "llm_"


def flatten(evaluation: dict[str, Any], model: Any, train_seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "train_seconds": round(train_seconds, 1),
        "train_steps": model.config.steps,
        "train_epochs": model.config.epochs,
        "train_examples": model.config.train_examples,
        "train_tokens_per_s": model.config.train_tokens_per_s,
        "validation_loss_before": model.config.validation_loss_before,
        "validation_loss_after": model.config.validation_loss_after,
        "threshold": model.config.threshold,
        "test_items": evaluation["split"]["evaluated"],
        "base_model_note": BASE_NOTE,
    }
    for system in evaluation["systems"]:
        prefix = prefix_of(system["name"])
        metrics = system["metrics"]
        for key in METRICS:
            if metrics.get(key) is not None:
                out[prefix + key] = rounded(metrics[key])
        for category, value in (metrics.get("category") or {}).items():
            if value is not None:
                out[f"{prefix}ast_{category}"] = rounded(value)
        latency = system.get("latency") or {}
        for key in ("p50_ms", "p95_ms", "cost_per_1k_usd"):
            if latency.get(key) is not None:
                out[prefix + key] = round(latency[key], 6 if key == "cost_per_1k_usd" else 1)
        if prefix and system.get("train_seconds"):
            out[prefix + "train_seconds"] = round(system["train_seconds"], 1)
    return out


def options(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--setting", help="suffix of the results file")
    parser.add_argument("--save-model", type=Path, help="also save the trained model here")
    return parser.parse_args()


def run(name: str, task_file: Path, overrides: list[str], args: argparse.Namespace) -> None:
    name, task, splits, kind = prepare("tool_call", name, task_file, overrides, args)
    print(f"splits {splits.sizes()}", flush=True)
    model, train_seconds = train_timed(
        kind, task, splits, lambda m: f"; threshold {m.config.threshold}"
    )
    if args.save_model:
        model.save(args.save_model)
    spec = task.tool_call
    # as `kinds.lm.train.fine_tune` counts them: an epoch is ceil(examples / batch size) steps
    steps_per_epoch = math.ceil(model.config.train_examples / spec.batch_size)
    planned = round(spec.max_steps / steps_per_epoch, 3) if spec.max_steps else spec.epochs

    def flat(evaluation: dict[str, Any], model: Any, seconds: float) -> dict[str, Any]:
        return {**flatten(evaluation, model, seconds), "train_epochs_planned": planned}

    evaluate_and_write(kind, task, model, splits, train_seconds, flat, name)
