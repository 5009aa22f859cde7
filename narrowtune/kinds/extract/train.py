"""Train kind `extract`: text -> JSON that validates against the task's schema.

Recipe, top to bottom (see `train`):
1. read the schema into fields: string/number fields (and arrays of them) are *spans* of the
   text, enums and booleans are *classes* of the whole text (`narrowtune.kinds.extract.fields`);
2. split each text into words and tag them BIO per span field; long texts become overlapping
   windows of `model.max_length` tokens (`extract.window_stride` tokens of overlap);
3. fine-tune the encoder with a token head (the first sub-token of each word carries its tag)
   and one classification head per class field, plus an intent head when `extract.intent`
   (joint loss), with layer-wise learning-rate decay; small data gets small batches and enough
   epochs for a few hundred updates; the epoch with the best validation score on the task's
   metric is kept;
4. fit temperatures on validation (tags and each head) and choose the abstention threshold there.

How the trained model predicts: `narrowtune.kinds.extract.model`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from narrowtune.calibration import FEW_VALIDATION, choose_threshold, fit_temperature
from narrowtune.encoders import Encoder
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.extract.align import tag_names, tags_from_spans, word_offsets
from narrowtune.kinds.extract.data import span_coverage, task_schema
from narrowtune.kinds.extract.fields import Field, choice_key, schema_fields
from narrowtune.kinds.extract.metrics import (
    SpanSet,
    document_correct,
    extraction_metrics,
    field_correct,
)
from narrowtune.kinds.extract.model import (
    IGNORE,
    INTENT,
    NULL,
    ExtractConfig,
    ExtractModel,
    ExtractNet,
    Window,
    make_windows,
)
from narrowtune.kinds.training import (
    TimeBudget,
    bucketed_batches,
    count_batches,
    epoch_loop,
    layerwise_groups,
    pad_batch,
    seed_everything,
    warmup_schedule,
)
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import Task


def head_labels(task: Task, fields: Sequence[Field], train: Sequence[Example]) -> dict[str, list]:
    """Label keys of each head: intents seen in training; each class field's values (+ null)."""
    heads: dict[str, list[str]] = {}
    if task.extract.intent:
        heads[INTENT] = list(task.labels) if task.labels else sorted({ex.label for ex in train})
    for f in fields:
        if f.role != "class":
            continue
        keys = [choice_key(v) for v in f.choices]
        seen_null = any(ex.target["output"].get(f.name) is None for ex in train)
        if seen_null or not f.required:
            keys.append(NULL)
        heads[f.name] = keys
    return heads


def _doc_targets(ex: Example, heads: dict[str, list[str]], fields: dict[str, Field]) -> list[int]:
    out = []
    for name, labels in heads.items():
        if name == INTENT:
            key = ex.label
        else:
            value = ex.target["output"].get(name)
            key = NULL if value is None else choice_key(value)
        out.append(labels.index(key) if key in labels else IGNORE)
    return out


SMALL_DATA = 1_000  # windows; below this, smaller batches (more updates) unless set
MIN_STEPS = 200  # `auto` epochs give small data at least this many updates (<= 40 epochs)


def resolve_batch_size(task: Task, n_windows: int) -> int:
    """`train.batch_size` when set; else 8 on small data (more updates per epoch), or 32."""
    if "batch_size" in task.train.model_fields_set or n_windows >= SMALL_DATA:
        return task.train.batch_size
    return min(8, task.train.batch_size)


def resolve_epochs(task: Task, n_windows: int, batch_size: int) -> float:
    """`train.epochs` when set; else ~3,000 windows' worth (3 to 15 epochs), raised on small
    data to at least MIN_STEPS updates (at most 40 epochs)."""
    if task.train.epochs != "auto":
        return float(task.train.epochs)
    epochs = min(max(round(3_000 / max(n_windows, 1)), 3), 15)
    steps_per_epoch = max(1, math.ceil(n_windows / batch_size))
    return float(max(epochs, min(math.ceil(MIN_STEPS / steps_per_epoch), 40)))


@dataclass
class _Prepared:
    windows: list[Window]
    token_targets: list[list[int]]
    doc_targets: list[list[int]]
    ragged: int


def prepare(
    model: ExtractModel, examples: Sequence[Example], heads: dict[str, list[str]]
) -> _Prepared:
    """Windows of the examples with their token (BIO) and document targets."""
    cfg = model.config
    tag_index = {t: i for i, t in enumerate(cfg.tags)}
    fields = {f.name: f for f in model.fields}
    texts = [ex.text for ex in examples]
    words = [word_offsets(t) for t in texts]
    word_tags = []
    ragged = 0
    for ex, w in zip(examples, words):
        tags, bad = tags_from_spans(w, ex.target["spans"], tag_index)
        word_tags.append(tags)
        ragged += bad
    windows = make_windows(model.encoder.tokenizer, texts, words, cfg)
    token_targets = [
        [word_tags[win.doc][w] if w >= 0 else IGNORE for w in win.word_at] for win in windows
    ]
    docs = [_doc_targets(ex, heads, fields) for ex in examples]
    return _Prepared(windows, token_targets, [docs[win.doc] for win in windows], ragged)


def _validation_score(model: ExtractModel, validation: Sequence[Example], metric: str) -> dict:
    preds, spans = model.predict_with_spans([ex.text for ex in validation])
    metrics, _ = extraction_metrics(
        model.fields,
        [ex.target["output"] for ex in validation],
        preds,
        gold_spans=[gold_span_set(ex) for ex in validation],
        pred_spans=spans,
        gold_labels=[ex.label for ex in validation] if model.config.labels else None,
    )
    keys = ("field_f1", "span_f1", "exact_match", "intent_accuracy")
    return {f"val_{k}": metrics[k] for k in keys if metrics.get(k) is not None} | {
        "score": metrics.get(metric) if metrics.get(metric) is not None else metrics["field_f1"]
    }


def gold_span_set(ex: Example) -> SpanSet:
    return {(name, s, e) for name, items in ex.target["spans"].items() for s, e in items}


def fine_tune(
    model: ExtractModel,
    train: Sequence[Example],
    validation: Sequence[Example],
    task: Task,
    *,
    progress: ProgressFn | None = None,
) -> None:
    """Fine-tune in place; keeps the epoch with the best validation score on the task metric."""
    options = task.train
    cfg = model.config
    data = prepare(model, train, cfg.heads)
    cfg.ragged_spans = data.ragged
    batch_size = resolve_batch_size(task, len(data.windows))
    cfg.batch_size = batch_size
    cfg.epochs = resolve_epochs(task, len(data.windows), batch_size)
    pad_id = int(model.encoder.tokenizer.pad_token_id or 0)  # type: ignore[attr-defined]
    net = model.net
    optimizer = torch.optim.AdamW(layerwise_groups(net, options))  # type: ignore[arg-type]
    lengths = [len(w.ids) for w in data.windows]
    rng = random.Random(task.seed)
    total = max(1, math.ceil(count_batches(len(lengths), batch_size) * cfg.epochs))
    scheduler = warmup_schedule(optimizer, total, options.warmup_ratio)
    token_loss = nn.CrossEntropyLoss(ignore_index=IGNORE)
    doc_loss = nn.CrossEntropyLoss(ignore_index=IGNORE, label_smoothing=options.label_smoothing)
    use_tokens = len(cfg.tags) > 1
    budget = TimeBudget(options.max_minutes)
    best_score, best_state = -1.0, None
    step = 0
    started = time.monotonic()
    for batches in epoch_loop(total, lambda: bucketed_batches(lengths, batch_size, rng), budget):
        net.train()
        losses = []
        for batch in batches:
            ids, mask = pad_batch([data.windows[i].ids for i in batch], pad_id)
            tokens, docs = net(ids, mask)
            loss = torch.zeros(())
            if use_tokens:
                target = torch.full(ids.shape, IGNORE, dtype=torch.long)
                for row, i in enumerate(batch):
                    target[row, : len(data.token_targets[i])] = torch.tensor(data.token_targets[i])
                if (target != IGNORE).any():
                    loss = loss + token_loss(tokens.reshape(-1, tokens.shape[-1]), target.view(-1))
            for j, logits in enumerate(docs):
                y = torch.tensor([data.doc_targets[i][j] for i in batch])
                if (y != IGNORE).any():
                    loss = loss + task.extract.intent_weight * doc_loss(logits, y)
            if loss.requires_grad:
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            step += 1
            if progress:
                progress("fine-tune", step, total)
            if budget.expired():
                break
        record: dict[str, float] = {
            "epoch": len(cfg.history) + 1,
            "loss": float(np.mean(losses or [0.0])),
            "seconds": round(time.monotonic() - started, 1),
        }
        scores = _validation_score(model, validation, cfg.metric)
        score = float(scores.pop("score"))
        record.update(scores)
        cfg.history.append(record)
        if score > best_score:
            best_score, cfg.best_epoch = score, int(record["epoch"])
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()


def calibrate(model: ExtractModel, validation: Sequence[Example], target_precision: float) -> None:
    """Fit temperatures (tags, each head) and the abstention threshold on validation data."""
    cfg = model.config
    data = prepare(model, validation, cfg.heads)
    tokens, heads = model._forward_windows(data.windows, 64)
    if len(cfg.tags) > 1:
        logits = [
            t[p] for t, y in zip(tokens, data.token_targets) for p, v in enumerate(y) if v != IGNORE
        ]
        targets = [v for y in data.token_targets for v in y if v != IGNORE]
        if targets:
            cfg.token_temperature = fit_temperature(np.stack(logits), np.array(targets))
    for j, name in enumerate(cfg.heads):
        rows = [(h[j], y[j]) for h, y in zip(heads, data.doc_targets) if y[j] != IGNORE]
        if rows:
            cfg.head_temperatures[name] = fit_temperature(
                np.stack([r[0] for r in rows]), np.array([r[1] for r in rows])
            )
    cfg.threshold = 0.0
    preds = model.predict([ex.text for ex in validation])
    correct = np.array(
        [
            document_correct(model.fields, ex.target["output"], p.output)
            and (not cfg.labels or p.label == ex.label)
            for p, ex in zip(preds, validation)
        ]
    )
    confidence = np.array([p.confidence for p in preds])
    chosen = choose_threshold(confidence, correct, target_precision=target_precision)
    cfg.threshold = chosen.value
    cfg.target_precision = target_precision
    cfg.validation_coverage = chosen.coverage
    # Per field, the same rule: the lowest confidence at which the kept values of that field
    # still reach the target precision (at least the target itself on a small validation set).
    for field in model.fields:
        scores = np.array([p.scores.get(field.name, 0.0) for p in preds])
        right = np.array(
            [
                field_correct(
                    field, ex.target["output"].get(field.name), (p.output or {}).get(field.name)
                )
                for p, ex in zip(preds, validation)
            ]
        )
        cfg.field_thresholds[field.name] = choose_threshold(
            scores, right, target_precision=target_precision, few=FEW_VALIDATION
        ).value


def train(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> ExtractModel:
    """Train an extractor for `task`; `validation` picks the epoch and calibrates confidences."""
    if task.train.processes > 1:
        raise NarrowtuneError("kind 'extract' trains in one process; set train.processes: 1")
    seed_everything(task.seed)
    schema = task_schema(task)
    fields = schema_fields(schema)
    heads = head_labels(task, fields, train)
    tags = tag_names([f.name for f in fields if f.spans])
    max_length = task.model.max_length
    encoder = Encoder.from_pretrained(task.model.base, max_length=max_length)
    config = ExtractConfig(
        output_schema=schema,
        tags=tags,
        heads=heads,
        labels=heads.get(INTENT, []),
        max_length=max_length,
        stride=min(task.extract.window_stride, max_length // 2),
        viterbi=task.extract.viterbi,
        base=task.model.base,
        metric=task.metric,
        span_values=span_coverage(train, fields),
    )
    net = ExtractNet(encoder, len(tags), [len(v) for v in heads.values()])
    model = ExtractModel(net, config)
    fine_tune(model, train, validation, task, progress=progress)
    calibrate(model, validation, task.abstain.target_precision)
    return model
