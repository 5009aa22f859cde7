"""The system rows the causal-LM kinds (`generate`, `tool_call`) evaluate alike: the fine-tuned
LoRA model and the base model prompted zero- and few-shot. Each kind adds what differs (how
its outputs are constrained or retried) as the tail of the description."""

from __future__ import annotations

from typing import Any

from narrowtune.evaluate.evaluation import SystemResult


def lora_system(config: Any, detail: str, train_seconds: float | None) -> SystemResult:
    """The fine-tuned model's row: LoRA rank, base and steps from `config`, then `detail`."""
    return SystemResult(
        name="fine-tuned (LoRA)",
        role="fine-tuned",
        description=f"LoRA r={config.lora.get('r')} on {config.base}, "
        f"{config.steps} steps; {detail}",
        metrics={},
        train_seconds=train_seconds,
    )


def zero_shot_system(base: str, how: str) -> SystemResult:
    """The base model prompted without examples (`how`: what it is prompted with)."""
    return SystemResult(
        name="base, zero-shot",
        role="baseline",
        description=f"{base} {how}",
        metrics={},
        train_seconds=0.0,
    )


def few_shot_system(base: str, shots: int, tail: str) -> SystemResult:
    """The base model with `shots` training examples as earlier turns, then `tail`."""
    return SystemResult(
        name=f"base, {shots}-shot",
        role="baseline",
        description=f"{base} with {shots} training examples as earlier turns{tail}",
        metrics={},
        train_seconds=0.0,
    )
