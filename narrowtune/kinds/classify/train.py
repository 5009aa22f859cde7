"""Train kind `classify`: single- and multi-label text classification (routing, moderation,
intents).

Recipe, top to bottom (see `train`):
1. embed the training texts with the frozen encoder and fit a logistic-regression probe;
2. start the classification head from that probe (LP-FT), so fine-tuning begins at the strong
   frozen baseline instead of a random head;
3. fine-tune encoder + head with layer-wise learning-rate decay, warmup + linear decay, and
   length-bucketed batches (little padding: faster steps on CPU);
4. fit a temperature on validation logits and choose the abstention threshold there for the
   task's target precision;
5. for a moderation task, the model reads normalised texts with their link tags throughout, and
   each policy label's block/review thresholds are chosen on validation
   (`narrowtune.moderation`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from narrowtune.calibration import (
    FEW_VALIDATION,
    choose_scope_threshold,
    choose_threshold,
    fit_temperature,
)
from narrowtune.data.labels import is_correct, label_targets
from narrowtune.encoders import Encoder
from narrowtune.kinds.classify.model import ClassifyConfig, ClassifyModel
from narrowtune.kinds.training import (
    TimeBudget,
    bucketed_batches,
    count_batches,
    epoch_loop,
    layerwise_groups,
    pad_batch,
    seed_everything,
    shard,
    warmup_schedule,
)
from narrowtune.moderation.moderator import ModerationConfig, Moderator
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import OutOfScopeSpec, Task, TrainSpec


def resolve_mode(options: TrainSpec, train: Sequence[Example]) -> str:
    """`fewshot` when the median label has few examples (or when asked), else `full`."""
    if options.mode != "auto":
        return options.mode
    counts: dict[str, int] = {}
    for ex in train:
        for name in ex.labels:
            counts[name] = counts.get(name, 0) + 1
    median = float(np.median(list(counts.values())))
    return "fewshot" if median <= options.fewshot_max_per_class else "full"


def resolve_epochs(options: TrainSpec, n_train: int, mode: str) -> float:
    """Passes over the data: more for small sets, few for large ones (the head starts trained)."""
    if options.epochs != "auto":
        return float(options.epochs)
    if mode == "fewshot":
        return float(min(max(round(4_000 / max(n_train, 1)), 4), 15))
    return float(min(max(round(2_400 / max(n_train, 1)), 3), 8))


def probe_head(
    embeddings: np.ndarray, y: np.ndarray, n_labels: int, *, multi_label: bool, seed: int
) -> nn.Linear:
    """A linear head fitted on frozen embeddings (the LP of LP-FT)."""
    from sklearn.linear_model import LogisticRegression

    dim = embeddings.shape[1]
    weight = np.zeros((n_labels, dim), dtype=np.float32)
    bias = np.zeros(n_labels, dtype=np.float32)
    if multi_label:
        for j in range(n_labels):
            column = y[:, j]
            if column.min() == column.max():  # label always (or never) on: constant logit
                bias[j] = 6.0 if column[0] > 0 else -6.0
                continue
            clf = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
            clf.fit(embeddings, column)
            weight[j], bias[j] = clf.coef_[0], clf.intercept_[0]
    else:
        clf = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
        clf.fit(embeddings, y)
        present = clf.classes_.astype(int)
        if len(present) == 2 and n_labels == 2:
            weight[1], bias[1] = clf.coef_[0] / 2, clf.intercept_[0] / 2
            weight[0], bias[0] = -weight[1], -bias[1]
        else:
            weight[present], bias[present] = clf.coef_, clf.intercept_
            missing = np.setdiff1d(np.arange(n_labels), present)
            bias[missing] = -10.0
    head = nn.Linear(dim, n_labels)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight))
        head.bias.copy_(torch.from_numpy(bias))
    return head


class _Net(nn.Module):
    def __init__(self, encoder: Encoder, head: nn.Linear) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(input_ids, attention_mask))


def fine_tune(
    encoder: Encoder,
    head: nn.Linear,
    texts: Sequence[str],
    targets: np.ndarray,
    options: TrainSpec,
    *,
    epochs: float,
    multi_label: bool,
    seed: int,
    progress: ProgressFn | None = None,
) -> list[dict[str, float]]:
    """Fine-tune encoder + head in place; returns per-epoch mean training loss.

    Runs under Hugging Face Accelerate, so the same code trains in one process or in several
    (launched by torchrun, see `narrowtune.kinds.classify.distributed`), each taking an equal
    share of every epoch's batches.
    """
    from accelerate import Accelerator

    # cpu=True on a CPU machine makes torchrun-launched processes use gloo (MULTI_CPU).
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    world, rank = accelerator.num_processes, accelerator.process_index
    tokenized = encoder.tokenizer(list(texts), truncation=True, max_length=encoder.max_length)  # type: ignore[operator]
    ids: list[list[int]] = tokenized["input_ids"]
    lengths = [len(x) for x in ids]
    pad_id = int(encoder.tokenizer.pad_token_id or 0)  # type: ignore[attr-defined]
    y = torch.from_numpy(targets)

    net = _Net(encoder, head)
    optimizer = torch.optim.AdamW(layerwise_groups(net, options))
    rng = random.Random(seed)
    per_epoch = count_batches(len(ids), options.batch_size) // world
    total = max(1, math.ceil(per_epoch * epochs))
    scheduler = warmup_schedule(optimizer, total, options.warmup_ratio)
    net, optimizer = accelerator.prepare(net, optimizer)
    if multi_label:
        loss_fn: nn.Module = nn.BCEWithLogitsLoss()
    else:
        loss_fn = nn.CrossEntropyLoss(label_smoothing=options.label_smoothing)
    budget = TimeBudget(options.max_minutes)

    def epoch_batches() -> list[list[int]]:
        return shard(bucketed_batches(lengths, options.batch_size, rng), world, rank)

    history: list[dict[str, float]] = []
    step = 0
    net.train()
    for batches in epoch_loop(total, epoch_batches, budget):
        losses = []
        for batch in batches:
            input_ids, mask = pad_batch([ids[i] for i in batch], pad_id)
            logits = net(input_ids.to(accelerator.device), mask.to(accelerator.device))
            loss = loss_fn(logits, y[batch].to(accelerator.device))
            accelerator.backward(loss)
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            step += 1
            if progress and rank == 0:
                progress("fine-tune", step, total)
            if budget.expired():
                break
        history.append({"epoch": len(history) + 1, "loss": float(np.mean(losses or [0.0]))})
    # Inference and saving happen on the CPU, outside any process group.
    accelerator.unwrap_model(net).to("cpu").eval()
    return history


def calibrate(
    model: ClassifyModel,
    validation: Sequence[Example],
    target_precision: float,
    *,
    scope: OutOfScopeSpec | None = None,
    out_of_scope: Sequence[Example] = (),
) -> None:
    """Fit the temperature and the abstention threshold on validation data (in place).

    With `scope` (the task's `abstain.out_of_scope`), the threshold must also catch
    `scope.target_recall` of the out-of-scope validation requests: `out_of_scope` (examples of
    them), or the validation rows labelled with the catch-all `scope.label`."""
    config = model.config
    logits = model.logits([ex.text for ex in validation])
    y = label_targets(validation, config.labels, config.multi_label)
    # Few validation rows: no temperature (T = 1) and a threshold no lower than the target
    # precision (calibration.FEW_VALIDATION); the evaluation says so.
    config.temperature = fit_temperature(
        logits, y, multi_label=config.multi_label, few=FEW_VALIDATION
    )
    preds = model.predictions_from_logits(logits)
    confidence = np.array([p.confidence for p in preds])
    correct = is_correct([p.label for p in preds], validation)
    config.target_precision = target_precision
    if scope is None or (scope.label is None and not out_of_scope):
        chosen = choose_threshold(
            confidence, correct, target_precision=target_precision, few=FEW_VALIDATION
        )
        config.threshold = chosen.value
        config.validation_coverage = chosen.coverage
        return
    if scope.label is not None:  # the catch-all label's rows are the out-of-scope ones
        outside = np.array([scope.label in ex.labels for ex in validation], dtype=bool)
        in_conf, in_correct, oos_conf = confidence[~outside], correct[~outside], confidence[outside]
        caught = np.array(
            [
                p.label == scope.label or (isinstance(p.label, list) and scope.label in p.label)
                for p, out in zip(preds, outside)
                if out
            ],
            dtype=bool,
        )
    else:
        oos_preds = model.predict([ex.text for ex in out_of_scope])
        in_conf, in_correct = confidence, correct
        oos_conf = np.array([p.confidence for p in oos_preds])
        caught = np.zeros(len(oos_conf), dtype=bool)
    chosen_scope = choose_scope_threshold(
        in_conf,
        in_correct,
        oos_conf,
        target_precision=target_precision,
        target_recall=scope.target_recall,
        oos_caught=caught,
        few=FEW_VALIDATION,
    )
    config.threshold = chosen_scope.value
    config.validation_coverage = chosen_scope.coverage
    config.target_out_of_scope_recall = scope.target_recall
    config.validation_out_of_scope_recall = chosen_scope.out_of_scope_recall


def calibrate_for(model: ClassifyModel, task: Task, validation: Sequence[Example]) -> None:
    """`calibrate` with the task's target precision and out-of-scope settings."""
    from narrowtune.data.scope import out_of_scope_examples

    scope = task.abstain.out_of_scope
    calibrate(
        model,
        validation,
        task.abstain.target_precision,
        scope=scope,
        out_of_scope=out_of_scope_examples(task).validation if scope else (),
    )


def fit_moderation(model: ClassifyModel, validation: Sequence[Example]) -> None:
    """Choose a moderation model's block/review thresholds on validation (in place)."""
    moderator = model.moderator
    if moderator is None:
        return
    probabilities = model.probabilities(model.logits([ex.text for ex in validation]))
    moderator.fit(probabilities, model.labels, [ex.labels for ex in validation])
    model.config.moderation = moderator.config.to_dict()


def train(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> ClassifyModel:
    """Train a classifier for `task`; `validation` calibrates confidences and the threshold."""
    options = task.train
    if options.processes > 1:
        from narrowtune.kinds.classify.distributed import train_distributed

        model = train_distributed(task, train, validation, progress=progress)
        if task.abstain.out_of_scope is not None:  # the workers left it out
            calibrate_for(model, task, validation)
        return model
    seed_everything(task.seed)
    labels = list(task.labels) if task.labels else sorted({n for ex in train for n in ex.labels})
    encoder = Encoder.from_pretrained(task.model.base, max_length=task.model.max_length)
    mode = resolve_mode(options, train)
    epochs = resolve_epochs(options, len(train), mode)
    texts = [ex.text for ex in train]
    moderation = None
    if task.moderation.enabled:
        moderation = ModerationConfig.from_spec(task.moderation, texts)
        texts = Moderator(moderation).model_inputs(texts)
    y = label_targets(train, labels, task.multi_label)

    if options.probe_init:
        embeddings = encoder.encode(texts, progress=progress)
        head = probe_head(embeddings, y, len(labels), multi_label=task.multi_label, seed=task.seed)
    else:
        head = nn.Linear(encoder.dim, len(labels))
    history = fine_tune(
        encoder,
        head,
        texts,
        y,
        options,
        epochs=epochs,
        multi_label=task.multi_label,
        seed=task.seed,
        progress=progress,
    )
    config = ClassifyConfig(
        labels=labels,
        multi_label=task.multi_label,
        max_length=task.model.max_length,
        base=task.model.base,
        mode=mode,
        history=history,
        moderation=None if moderation is None else moderation.to_dict(),
    )
    model = ClassifyModel(encoder, head, config)
    calibrate_for(model, task, validation)
    fit_moderation(model, validation)
    return model
