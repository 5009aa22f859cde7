"""Train kind `generate`: LoRA fine-tuning of a small causal LM to draft text in an approved format.

Recipe, top to bottom (see `train`):
1. resolve the base model (the bundled Gemma 3 270M by default, see
   `narrowtune.kinds.lm.base`) and compile the task's output contract, so a bad schema or
   checker fails before training;
2. template every example with narrowtune's chat template and tokenize it segment by segment,
   marking the assistant reply (and the `<end_of_turn>` closing it) as the only tokens the loss
   is computed on; examples over `generate.max_length` are refused, truncated or dropped;
3. train a LoRA adapter with TRL's `SFTTrainer` (the loop shared with kind `tool_call`,
   `narrowtune.kinds.lm.train.fine_tune`) (packing optional), measuring validation loss
   before training and every few steps, stopping early when it stops improving and keeping the
   best checkpoint;
4. merge the adapter into the base weights for fast inference; the saved run holds the adapter
   only (safetensors) plus the contract.

Which of `train.*` and `generate.*` sets epochs, batch size, learning rate and weight decay is
settled when the task is validated (`narrowtune.kinds.generate.settle`): this recipe reads the
`generate:` section only, plus `train.warmup_ratio` and `train.max_minutes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from narrowtune.kinds.generate.contract import Contract
from narrowtune.kinds.generate.model import (
    GenerateConfig,
    GenerateError,
    GenerateModel,
    base_card_notes,
    load_base,
)
from narrowtune.kinds.lm.base import base_name, is_bundled
from narrowtune.kinds.lm.causal import check_qlora
from narrowtune.kinds.lm.train import (
    LORA_TARGETS,
    encode_examples,
    fine_tune,
    fit_to_length,
    lora_targets,
    recipe_for,
)
from narrowtune.kinds.training import seed_everything
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import Task

__all__ = ["LORA_TARGETS", "encode_examples", "fit_to_length", "lora_targets", "train"]


def train(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> GenerateModel:
    """Fine-tune a LoRA adapter on the task's prompt → reply examples (see the module docstring)."""
    spec = task.generate
    contract = Contract(spec.contract.model_dump(), task.base_dir)
    if not train:
        raise GenerateError("no training examples")
    if not validation:
        raise GenerateError("no validation examples: early stopping needs a validation split")
    if spec.qlora:
        check_qlora()
    seed_everything(task.seed)
    name = base_name(task)
    lm, tokenizer, _ = load_base(name, quantize_4bit=spec.qlora)
    device = next(lm.parameters()).device
    rows, truncated, dropped = encode_examples(
        tokenizer, train, spec.system, spec.max_length, spec.overlong
    )
    held_out = validation[: spec.validation_limit] if spec.validation_limit else validation
    val_rows, _, _ = encode_examples(tokenizer, held_out, spec.system, spec.max_length, "truncate")
    if not rows:
        raise GenerateError("every training example was dropped as too long (generate.overlong)")

    recipe = recipe_for(spec, task, packing=spec.packing, qlora=spec.qlora)
    done = fine_tune(lm, tokenizer, rows, val_rows, recipe, base=name, progress=progress)
    steps, before, after = done.steps, done.loss_before, done.loss_after
    batch_size = spec.batch_size
    config = GenerateConfig(
        base=name if is_bundled(name) else str(Path(name).expanduser().resolve()),
        system=spec.system,
        max_new_tokens=spec.max_new_tokens,
        max_length=spec.max_length,
        lora=spec.lora.model_dump(),
        epochs=done.epochs,
        steps=steps,
        learning_rate=spec.learning_rate,
        batch_size=batch_size,
        packing=spec.packing,
        qlora=spec.qlora,
        train_examples=len(rows),
        truncated_examples=truncated,
        dropped_examples=dropped,
        validation_loss_before=round(before, 5),
        validation_loss_after=round(after, 5),
        train_tokens=done.tokens,
        train_tokens_per_s=done.tokens_per_s,
        device=str(device),
        history=done.history,
        card_notes=[
            *base_card_notes(name),
            f"Validation loss {before:.3f} before fine-tuning, {after:.3f} after "
            f"({steps} steps; best checkpoint kept).",
        ],
    )
    return GenerateModel(
        done.merged, tokenizer, config, contract, adapter=(done.state, done.adapter_config)
    )
