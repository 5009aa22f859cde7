"""The LoRA fine-tuning loop the causal-LM kinds (`generate`, `tool_call`) share.

Each kind turns its rows into chat conversations (`Example.target["messages"]`); this module
tokenizes them with narrowtune's chat template, marking the assistant turns (and the
`<end_of_turn>` closing each) as the only tokens the loss is computed on, refuses, truncates or
drops overlong examples, and trains a LoRA adapter with TRL's `SFTTrainer`: validation loss before
training and every few steps, early stopping keeping the best checkpoint, a time budget, and the
adapter merged into the base weights at the end (`fine_tune`). `section` names the kind's
task-file section in error messages.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from narrowtune.kinds.lm.causal import LMError, encode_conversation, merge_into_base, pick_device
from narrowtune.kinds.lm.template import with_system
from narrowtune.kinds.training import TimeBudget
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
    tokenizer: Any,
    examples: Sequence[Example],
    system: str,
    max_length: int,
    policy: str,
    *,
    section: str = "generate",
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
        raise LMError(
            f"{len(overlong)} example(s) are longer than {section}.max_length={max_length} "
            f"tokens: {shown}. Raise {section}.max_length, shorten them, or set "
            f"{section}.overlong to 'truncate' or 'drop'."
        )
    return rows, truncated, dropped


def lora_targets(lm: Any, targets: str | list[str], *, section: str = "generate") -> list[str]:
    """Module names the adapter attaches to; errors name the linear layers there are."""
    wanted = LORA_TARGETS[targets] if isinstance(targets, str) else list(targets)
    linear = {n.rsplit(".", 1)[-1] for n, m in lm.named_modules() if isinstance(m, torch.nn.Linear)}
    present = [t for t in wanted if t in linear]
    if not present:
        raise LMError(
            f"{section}.lora.targets {wanted} match no linear layer of the base model; "
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


@dataclass
class LoraRecipe:
    """The options of one LoRA fine-tuning run (a kind fills them from its section)."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    targets: str | list[str] = "attention"
    epochs: float = 2.0
    max_steps: int | None = None
    learning_rate: float = 2e-4
    batch_size: int = 4
    weight_decay: float = 0.0
    warmup: float = 0.0
    max_length: int = 512
    packing: bool = False
    qlora: bool = False
    early_stopping_patience: int | None = 2
    eval_every: int | None = None
    max_minutes: float | None = None
    seed: int = 0


def recipe_for(spec: Any, task: Task, **extra: Any) -> LoraRecipe:
    """The LoRA recipe of a causal-LM kind's task section (`spec`: its `lora` block, epochs,
    steps, learning rate, batch size, weight decay, max length, early stopping, eval cadence),
    the task-wide warmup, time budget and seed; `extra` adds the options only some kinds have
    (packing, qlora)."""
    return LoraRecipe(
        **spec.lora.model_dump(),
        epochs=spec.epochs,
        max_steps=spec.max_steps,
        learning_rate=spec.learning_rate,
        batch_size=spec.batch_size,
        weight_decay=spec.weight_decay,
        warmup=task.train.warmup_ratio,
        max_length=spec.max_length,
        early_stopping_patience=spec.early_stopping_patience,
        eval_every=spec.eval_every,
        max_minutes=task.train.max_minutes,
        seed=task.seed,
        **extra,
    )


@dataclass
class FineTuned:
    """What `fine_tune` gives back: the merged model, the adapter, and how training went."""

    merged: Any
    state: dict[str, torch.Tensor]
    adapter_config: dict[str, Any]
    steps: int
    steps_per_epoch: int
    loss_before: float
    loss_after: float
    train_seconds: float
    tokens: int
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def epochs(self) -> float:
        return round(self.steps / self.steps_per_epoch, 3)

    @property
    def tokens_per_s(self) -> float | None:
        return round(self.tokens / self.train_seconds, 1) if self.train_seconds > 0 else None


def fine_tune(
    lm: Any,
    tokenizer: Any,
    rows: list[dict[str, list[int]]],
    val_rows: list[dict[str, list[int]]],
    recipe: LoraRecipe,
    *,
    base: str,
    section: str = "generate",
    progress: ProgressFn | None = None,
) -> FineTuned:
    """Train a LoRA adapter on `rows` (from `encode_examples`) and merge it into the base."""
    from datasets import Dataset, disable_progress_bars
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from transformers import EarlyStoppingCallback, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    disable_progress_bars()  # narrowtune reports progress itself
    device = next(lm.parameters()).device
    targets = lora_targets(lm, recipe.targets, section=section)
    peft_config = LoraConfig(
        r=recipe.r,
        lora_alpha=recipe.alpha,
        lora_dropout=recipe.dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    batch_size = recipe.batch_size
    steps_per_epoch = math.ceil(len(rows) / batch_size)
    total_steps = recipe.max_steps or max(1, math.ceil(steps_per_epoch * recipe.epochs))
    eval_every = recipe.eval_every or max(1, math.ceil(total_steps / 5))
    callbacks = _callbacks(progress, TimeBudget(recipe.max_minutes))
    if recipe.early_stopping_patience:
        callbacks.append(
            EarlyStoppingCallback(early_stopping_patience=recipe.early_stopping_patience)
        )
    with tempfile.TemporaryDirectory(prefix="narrowtune-sft-") as scratch:
        args = SFTConfig(
            output_dir=scratch,
            max_steps=total_steps,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size,
            learning_rate=recipe.learning_rate,
            warmup_steps=recipe.warmup,  # a float below 1 is a fraction of the run
            weight_decay=recipe.weight_decay,
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
            seed=recipe.seed,
            data_seed=recipe.seed,
            use_cpu=device.type == "cpu",
            bf16=device.type == "cuda" and pick_device()[1] == torch.bfloat16,
            packing=recipe.packing,
            max_length=recipe.max_length,
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
    if recipe.qlora:
        # merging into 4-bit weights would round the adapter away: merge into the full base
        del peft_model, trainer, lm
        torch.cuda.empty_cache()
        merged = merge_into_base(base, state, adapter_config)
    else:
        merged = peft_model.merge_and_unload()
    return FineTuned(
        merged=merged,
        state=state,
        adapter_config=adapter_config,
        steps=steps,
        steps_per_epoch=steps_per_epoch,
        loss_before=before,
        loss_after=after,
        train_seconds=train_seconds,
        tokens=tokens,
        history=history,
    )
