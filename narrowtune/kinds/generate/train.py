"""Train kind `generate`: LoRA fine-tuning of a small causal LM to draft text in an approved format.

Recipe, top to bottom (see `train`):
1. resolve the base model (the bundled Gemma 3 270M by default, see
   `narrowtune.kinds.generate.base`) and compile the task's output contract, so a bad schema or
   checker fails before training;
2. template every example with narrowtune's chat template and tokenize it segment by segment,
   marking the assistant reply (and the `<end_of_turn>` closing it) as the only tokens the loss
   is computed on; examples over `generate.max_length` are refused, truncated or dropped;
3. train a LoRA adapter with TRL's `SFTTrainer` (packing optional), measuring validation loss
   before training and every few steps, stopping early when it stops improving and keeping the
   best checkpoint;
4. merge the adapter into the base weights for fast inference; the saved run holds the adapter
   only (safetensors) plus the contract.

Which of `train.*` and `generate.*` sets epochs, batch size, learning rate and weight decay is
settled when the task is validated (`narrowtune.kinds.generate.settle`): this recipe reads the
`generate:` section only, plus `train.warmup_ratio` and `train.max_minutes`.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from narrowtune.kinds.generate.base import base_name, is_bundled
from narrowtune.kinds.generate.contract import Contract
from narrowtune.kinds.generate.model import (
    GenerateConfig,
    GenerateError,
    GenerateModel,
    base_card_notes,
    check_qlora,
    encode_conversation,
    load_base,
    merge_into_base,
    pick_device,
)
from narrowtune.kinds.generate.template import with_system
from narrowtune.kinds.training import TimeBudget, seed_everything
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import Task

LORA_TARGETS = {
    "attention": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "all": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}


def fit_to_length(
    ids: list[int], mask: list[int], limit: int
) -> tuple[list[int], list[int]] | None:
    """Cut an overlong example: first the prompt's start (after BOS), then the reply's end.

    None when nothing trained would remain."""
    excess = len(ids) - limit
    if excess <= 0:
        return ids, mask
    first_trained = mask.index(1) if 1 in mask else len(mask)
    removable = max(first_trained - 1, 0)  # keep BOS and the open model turn where possible
    cut = min(excess, max(removable - 8, 0))  # leave the last few prompt tokens (the turn marker)
    ids, mask = ids[:1] + ids[1 + cut :], mask[:1] + mask[1 + cut :]
    ids, mask = ids[:limit], mask[:limit]
    return (ids, mask) if 1 in mask else None


def encode_examples(
    tokenizer: Any, examples: Sequence[Example], system: str, max_length: int, policy: str
) -> tuple[list[dict[str, list[int]]], int, int]:
    """Tokenized rows (`input_ids`, `assistant_masks`), and the truncated and dropped counts."""
    rows: list[dict[str, list[int]]] = []
    overlong: list[tuple[Example, int]] = []
    truncated = dropped = 0
    for ex in examples:
        messages = with_system(ex.target["messages"], system)
        ids, mask = encode_conversation(tokenizer, messages)
        if len(ids) > max_length:
            overlong.append((ex, len(ids)))
            if policy == "drop":
                dropped += 1
                continue
            if policy == "truncate":
                fitted = fit_to_length(ids, mask, max_length)
                if fitted is None:
                    dropped += 1
                    continue
                ids, mask = fitted
                truncated += 1
        rows.append({"input_ids": ids, "assistant_masks": mask})
    if overlong and policy == "error":
        shown = ", ".join(f"{ex.where} ({n} tokens)" for ex, n in overlong[:5])
        raise GenerateError(
            f"{len(overlong)} example(s) are longer than generate.max_length={max_length} "
            f"tokens: {shown}. Raise generate.max_length, shorten them, or set "
            "generate.overlong to 'truncate' or 'drop'."
        )
    return rows, truncated, dropped


def lora_targets(lm: Any, targets: str | list[str]) -> list[str]:
    """Module names the adapter attaches to; errors name the linear layers there are."""
    wanted = LORA_TARGETS[targets] if isinstance(targets, str) else list(targets)
    linear = {n.rsplit(".", 1)[-1] for n, m in lm.named_modules() if isinstance(m, torch.nn.Linear)}
    present = [t for t in wanted if t in linear]
    if not present:
        raise GenerateError(
            f"generate.lora.targets {wanted} match no linear layer of the base model; "
            f"its linear layers are: {', '.join(sorted(linear))}"
        )
    return present


def _callbacks(progress: ProgressFn | None, budget: TimeBudget) -> list[Any]:
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # the time limit covers training steps, not the validation loss measured before
            budget.start()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if progress:
                progress("fine-tune", state.global_step, state.max_steps)
            out_of_time = budget.expired()
            if out_of_time:
                control.should_training_stop = True
            if out_of_time or state.global_step >= state.max_steps:
                # measure and keep the last step too, so the best checkpoint can be the last one
                control.should_evaluate = True
                control.should_save = True

    return [_Progress()]


def train(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> GenerateModel:
    """Fine-tune a LoRA adapter on the task's prompt → reply examples (see the module docstring)."""
    from datasets import Dataset, disable_progress_bars
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from transformers import EarlyStoppingCallback, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    disable_progress_bars()  # narrowtune reports progress itself

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

    targets = lora_targets(lm, spec.lora.targets)
    peft_config = LoraConfig(
        r=spec.lora.r,
        lora_alpha=spec.lora.alpha,
        lora_dropout=spec.lora.dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    batch_size = spec.batch_size
    steps_per_epoch = math.ceil(len(rows) / batch_size)
    total_steps = spec.max_steps or max(1, math.ceil(steps_per_epoch * spec.epochs))
    eval_every = spec.eval_every or max(1, math.ceil(total_steps / 5))
    callbacks = _callbacks(progress, TimeBudget(task.train.max_minutes))
    if spec.early_stopping_patience:
        callbacks.append(
            EarlyStoppingCallback(early_stopping_patience=spec.early_stopping_patience)
        )
    with tempfile.TemporaryDirectory(prefix="narrowtune-sft-") as scratch:
        args = SFTConfig(
            output_dir=scratch,
            max_steps=total_steps,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size,
            learning_rate=spec.learning_rate,
            warmup_steps=task.train.warmup_ratio,  # a float below 1 is a fraction of the run
            weight_decay=spec.weight_decay,
            lr_scheduler_type="linear",
            logging_steps=max(1, eval_every // 2),
            eval_strategy="steps",
            eval_steps=eval_every,
            save_strategy="steps",
            save_steps=eval_every,
            save_total_limit=2,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
            report_to="none",
            seed=task.seed,
            data_seed=task.seed,
            use_cpu=device.type == "cpu",
            bf16=device.type == "cuda" and pick_device()[1] == torch.bfloat16,
            packing=spec.packing,
            max_length=spec.max_length,
            disable_tqdm=True,
            dataloader_num_workers=0,
            save_only_model=True,
            # TRL turns this on by default; a 270M model fits without it, and recomputing the
            # activations costs about a third more time per step.
            activation_checkpointing=False,
        )
        trainer = SFTTrainer(
            model=lm,
            args=args,
            train_dataset=Dataset.from_list(rows),
            eval_dataset=Dataset.from_list(val_rows),
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
        )
        trainer.remove_callback(PrinterCallback)  # progress goes through `progress` instead
        before = float(trainer.evaluate()["eval_loss"])
        began = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - began
        # The best checkpoint is loaded at the end; its loss was measured when it was saved.
        best = trainer.state.best_metric
        after = float(best) if best is not None else float(trainer.evaluate()["eval_loss"])
        history = [
            {k: float(v) for k, v in entry.items() if isinstance(v, int | float)}
            for entry in trainer.state.log_history
            if "loss" in entry or "eval_loss" in entry
        ]
        steps = int(trainer.state.global_step)
        peft_model = trainer.model
    tokens = int(sum(len(r["input_ids"]) for r in rows) * steps / max(steps_per_epoch, 1))
    state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()}
    adapter_config = json.loads(
        json.dumps(peft_model.peft_config["default"].to_dict(), default=list)
    )
    if spec.qlora:
        # merging into 4-bit weights would round the adapter away: merge into the full base
        del peft_model, trainer, lm
        torch.cuda.empty_cache()
        merged = merge_into_base(name, state, adapter_config)
    else:
        merged = peft_model.merge_and_unload()
    config = GenerateConfig(
        base=name if is_bundled(name) else str(Path(name).expanduser().resolve()),
        system=spec.system,
        max_new_tokens=spec.max_new_tokens,
        max_length=spec.max_length,
        lora=spec.lora.model_dump(),
        epochs=round(steps / steps_per_epoch, 3),
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
        train_tokens=tokens,
        train_tokens_per_s=round(tokens / train_seconds, 1) if train_seconds > 0 else None,
        device=str(device),
        history=history,
        card_notes=[
            *base_card_notes(name),
            f"Validation loss {before:.3f} before fine-tuning, {after:.3f} after "
            f"({steps} steps; best checkpoint kept).",
        ],
    )
    return GenerateModel(merged, tokenizer, config, contract, adapter=(state, adapter_config))
