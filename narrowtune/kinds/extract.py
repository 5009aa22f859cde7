"""Kind `extract`: text -> JSON that validates against the task's schema.

Recipe, top to bottom (see `train`):
1. read the schema into fields: string/number fields (and arrays of them) are *spans* of the
   text, enums and booleans are *classes* of the whole text (`narrowtune.extract.fields`);
2. split each text into words and tag them BIO per span field; long texts become overlapping
   windows of `model.max_length` tokens (`extract.window_stride` tokens of overlap);
3. fine-tune the encoder with a token head (the first sub-token of each word carries its tag)
   and one classification head per class field, plus an intent head when `extract.intent`
   (joint loss), with layer-wise learning-rate decay; small data gets small batches and enough
   epochs for a few hundred updates; the epoch with the best validation score on the task's
   metric is kept;
4. at prediction, average each word's tag probabilities over the windows that see it, decode
   with BIO-constrained Viterbi, normalise span text per field, validate every value, and build
   an output that always validates (`narrowtune.extract.output`);
5. fit temperatures on validation (tags and each head) and choose the abstention threshold there.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from narrowtune.calibration import choose_threshold, fit_temperature
from narrowtune.encoders import Encoder
from narrowtune.errors import NarrowtuneError
from narrowtune.extract.align import (
    allowed_transitions,
    entities,
    tag_names,
    tags_from_spans,
    viterbi,
    word_offsets,
)
from narrowtune.extract.data import span_coverage, task_schema
from narrowtune.extract.fields import Field, choice_key, schema_fields
from narrowtune.extract.metrics import SpanSet, document_correct, extraction_metrics
from narrowtune.extract.output import Finalizer, Guess
from narrowtune.kinds.base import Prediction, ProgressFn
from narrowtune.kinds.classify import bucketed_batches, layerwise_groups, seed_everything

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.task import Task

CONFIG_FILE = "extract.json"
HEADS_FILE = "heads.safetensors"
ENCODER_DIR = "encoder"
INTENT = "__intent__"  # head name of the intent (field names come from the schema)
NULL = "null"  # class-head label meaning "absent"
IGNORE = -100


@dataclass
class ExtractConfig:
    """Everything besides weights needed to rebuild and use a trained extractor."""

    output_schema: dict[str, Any]
    tags: list[str]
    heads: dict[str, list[str]]  # head name -> its label keys (intent names / JSON values)
    labels: list[str] = field(default_factory=list)  # intents, when the task has them
    max_length: int = 128
    stride: int = 32
    viterbi: bool = True
    token_temperature: float = 1.0
    head_temperatures: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.0
    target_precision: float = 0.95
    validation_coverage: float = 1.0
    base: str = ""
    metric: str = "field_f1"
    epochs: float = 0.0
    batch_size: int = 0
    best_epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    span_values: dict[str, int] = field(default_factory=dict)  # located / unlocated values
    ragged_spans: int = 0  # training spans that did not start or end on a word boundary


# ----------------------------------------------------------------------------- windows


@dataclass
class Window:
    """One slice of at most max_length tokens of one document."""

    doc: int
    ids: list[int]
    word_at: list[int]  # per token: the word it starts (first sub-token), else -1


def make_windows(
    tokenizer: Any,
    texts: Sequence[str],
    words: Sequence[Sequence[tuple[int, int]]],
    config: ExtractConfig,
) -> list[Window]:
    """Overlapping token windows of every text, each token tied to the word it begins."""
    out: list[Window] = []
    chunk = 512
    for begin in range(0, len(texts), chunk):
        part = list(texts[begin : begin + chunk])
        enc = tokenizer(
            part,
            truncation=True,
            max_length=config.max_length,
            stride=config.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for ids, offsets, sample in zip(
            enc["input_ids"], enc["offset_mapping"], enc["overflow_to_sample_mapping"]
        ):
            doc = begin + int(sample)
            starts = {s: i for i, (s, _) in enumerate(words[doc])}
            word_at = []
            for start, end in offsets:
                word_at.append(starts.get(start, -1) if end > start else -1)
            out.append(Window(doc, list(ids), word_at))
    return out


class ExtractNet(nn.Module):
    """Encoder + a token (BIO) head + one head per class field / intent on the mean-pooled text."""

    def __init__(self, encoder: Encoder, n_tags: int, head_sizes: Sequence[int]) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        dim = encoder.dim
        # One ModuleList: index 0 tags tokens, the rest classify the text (layerwise_groups
        # gives everything under `head` the head learning rate).
        self.head = nn.ModuleList(
            [nn.Linear(dim, n_tags)] + [nn.Linear(dim, n) for n in head_sizes]
        )

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        hidden = self.encoder.transformer(input_ids=input_ids, attention_mask=attention_mask)[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        tokens = self.head[0](self.dropout(hidden))
        docs = [h(self.dropout(pooled)) for h in self.head[1:]]
        return tokens, docs


def _pad(windows: Sequence[Window], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(w.ids) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for row, w in enumerate(windows):
        ids[row, : len(w.ids)] = torch.tensor(w.ids)
        mask[row, : len(w.ids)] = 1
    return ids, mask


@dataclass
class DocResult:
    """What the network says about one document, before the output is built."""

    word_probs: np.ndarray  # [words, tags], averaged over windows
    head_probs: list[np.ndarray]  # per head, averaged over windows


# ----------------------------------------------------------------------------- the model


class ExtractModel:
    """A fine-tuned encoder that fills the task's schema, with per-field confidences."""

    kind = "extract"

    def __init__(self, net: ExtractNet, config: ExtractConfig) -> None:
        self.net = net
        self.config = config
        self.fields: list[Field] = schema_fields(config.output_schema)
        self.finalizer = Finalizer(config.output_schema, self.fields)
        self._allowed = allowed_transitions(config.tags)

    @property
    def encoder(self) -> Encoder:
        return self.net.encoder

    @property
    def head_names(self) -> list[str]:
        return list(self.config.heads)

    def _forward_windows(
        self, windows: Sequence[Window], batch_size: int
    ) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
        """Raw logits per window: token logits [len, tags] and each head's logits."""
        pad_id = int(self.encoder.tokenizer.pad_token_id or 0)  # type: ignore[attr-defined]
        order = np.argsort([len(w.ids) for w in windows], kind="stable")
        tokens: list[np.ndarray] = [np.empty(0)] * len(windows)
        heads: list[list[np.ndarray]] = [[] for _ in windows]
        self.net.eval()
        with torch.inference_mode():
            for start in range(0, len(windows), batch_size):
                idx = order[start : start + batch_size]
                ids, mask = _pad([windows[i] for i in idx], pad_id)
                tok, docs = self.net(ids, mask)
                tok_np = tok.float().numpy()
                docs_np = [d.float().numpy() for d in docs]
                for row, i in enumerate(idx):
                    tokens[i] = tok_np[row, : len(windows[i].ids)]
                    heads[i] = [d[row] for d in docs_np]
        return tokens, heads

    def _infer(self, texts: Sequence[str], batch_size: int) -> tuple[list[list], list[DocResult]]:
        cfg = self.config
        words = [word_offsets(t) for t in texts]
        windows = make_windows(self.encoder.tokenizer, texts, words, cfg)
        tokens, heads = self._forward_windows(windows, batch_size)
        n_tags = len(cfg.tags)
        sums = [np.zeros((len(w), n_tags)) for w in words]
        counts = [np.zeros(len(w)) for w in words]
        head_sums = [[np.zeros(len(labels)) for labels in cfg.heads.values()] for _ in texts]
        head_counts = np.zeros(len(texts))
        temps = [cfg.head_temperatures.get(name, 1.0) for name in cfg.heads]
        for window, tok, head in zip(windows, tokens, heads):
            logits = tok / cfg.token_temperature
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            for pos, word in enumerate(window.word_at):
                if word >= 0:
                    sums[window.doc][word] += probs[pos]
                    counts[window.doc][word] += 1
            for j, (logit, t) in enumerate(zip(head, temps)):
                z = logit / t
                p = np.exp(z - z.max())
                head_sums[window.doc][j] += p / p.sum()
            head_counts[window.doc] += 1
        results = []
        for d in range(len(texts)):
            unseen = counts[d] == 0  # a word no token starts (rare): call it O
            sums[d][unseen, 0] = 1.0
            counts[d][unseen] = 1
            word_probs = sums[d] / counts[d][:, None]
            head_probs = [s / max(head_counts[d], 1) for s in head_sums[d]]
            results.append(DocResult(word_probs, head_probs))
        return words, results

    def _decode(
        self, text: str, words: list[tuple[int, int]], result: DocResult
    ) -> tuple[Prediction, SpanSet]:
        cfg = self.config
        probs = result.word_probs
        if cfg.viterbi and len(cfg.tags) > 1:
            path = viterbi(np.log(probs + 1e-12), self._allowed, cfg.tags)
        else:
            path = [int(i) for i in probs.argmax(axis=1)] if len(words) else []
        found: dict[str, list[tuple[float, int, int]]] = {}
        for name, first, last in entities([cfg.tags[i] for i in path]):
            confidence = float(np.mean([probs[w, path[w]] for w in range(first, last)]))
            start, end = words[first][0], words[last - 1][1]
            found.setdefault(name, []).append((confidence, start, end))
        guesses: dict[str, Guess] = {}
        spans: SpanSet = set()
        tag_index = {t: i for i, t in enumerate(cfg.tags)}
        for f in self.fields:
            if f.spans:
                items = found.get(f.name, [])
                if f.role == "span" and items:
                    items = [max(items)]  # one value: the most confident span
                spans.update((f.name, s, e) for _, s, e in items)
                if items:
                    values: Any = [text[s:e] for _, s, e in sorted(items, key=lambda x: x[1])]
                    guesses[f.name] = Guess(
                        values if f.role == "list" else values[0], min(c for c, _, _ in items)
                    )
                else:
                    begin = probs[:, tag_index[f"B-{f.name}"]] if len(words) else np.zeros(1)
                    guesses[f.name] = Guess(None, float(1.0 - begin.max(initial=0.0)))
        label, label_confidence = "", None
        for name, labels, p in zip(cfg.heads, cfg.heads.values(), result.head_probs):
            best = int(np.argmax(p))
            if name == INTENT:
                label, label_confidence = labels[best], float(p[best])
            else:
                value = None if labels[best] == NULL else json.loads(labels[best])
                guesses[name] = Guess(value, float(p[best]))
        prediction = self.finalizer.finalize(
            guesses, label=label, label_confidence=label_confidence, threshold=cfg.threshold
        )
        kept = {(n, s, e) for n, s, e in spans if n in (prediction.output or {})}
        return prediction, kept

    def predict_with_spans(
        self, texts: Sequence[str], *, batch_size: int = 64
    ) -> tuple[list[Prediction], list[SpanSet]]:
        """Predictions and the character spans behind them, (field, start, end) per text."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string")
        texts = list(texts)
        if not texts:
            return [], []
        words, results = self._infer(texts, batch_size)
        pairs = [self._decode(t, w, r) for t, w, r in zip(texts, words, results)]
        return [p for p, _ in pairs], [s for _, s in pairs]

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        """The JSON output (always schema-valid), per-field confidence and abstain flag."""
        return self.predict_with_spans(texts, batch_size=batch_size)[0]

    def save(self, directory: Path) -> None:
        """Write safetensors weights, tokenizer and config (no pickle anywhere)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(directory / ENCODER_DIR)
        state = {k: v.detach().contiguous().cpu() for k, v in self.net.head.state_dict().items()}
        save_file(state, str(directory / HEADS_FILE))
        (directory / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2))


def load(directory: Path | str, *, backend: str = "torch") -> ExtractModel:
    """Load an extractor saved by `ExtractModel.save` (torch backend only)."""
    directory = Path(directory)
    if backend != "torch":
        raise NarrowtuneError(f"kind 'extract' runs on the torch backend only, not '{backend}'")
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise NarrowtuneError(f"{directory} holds no trained extractor ({CONFIG_FILE} missing)")
    config = ExtractConfig(**json.loads(config_path.read_text()))
    encoder = Encoder.from_pretrained(directory / ENCODER_DIR, max_length=config.max_length)
    net = ExtractNet(encoder, len(config.tags), [len(v) for v in config.heads.values()])
    net.head.load_state_dict(load_file(str(directory / HEADS_FILE)))
    net.eval()
    return ExtractModel(net, config)


# ----------------------------------------------------------------------------- training


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
    per_epoch = len(bucketed_batches(lengths, batch_size, random.Random(0)))
    total = max(1, math.ceil(per_epoch * cfg.epochs))
    warmup = int(total * options.warmup_ratio)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    token_loss = nn.CrossEntropyLoss(ignore_index=IGNORE)
    doc_loss = nn.CrossEntropyLoss(ignore_index=IGNORE, label_smoothing=options.label_smoothing)
    use_tokens = len(cfg.tags) > 1
    deadline = time.monotonic() + 60 * options.max_minutes if options.max_minutes else None
    best_score, best_state = -1.0, None
    step = 0
    started = time.monotonic()
    while step < total:
        net.train()
        losses = []
        for batch in bucketed_batches(lengths, batch_size, rng):
            if step >= total:
                break
            ids, mask = _pad([data.windows[i] for i in batch], pad_id)
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
            if deadline and time.monotonic() > deadline:
                step = total
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


# ----------------------------------------------------------------------------- evaluation


def evaluate(
    task: Task,
    model: ExtractModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Score the extractor and every available baseline on the test split (shared shape)."""
    from narrowtune.extract.evaluation import evaluate_extract

    return evaluate_extract(
        task,
        model,
        splits,
        baselines=baselines,
        latency=latency,
        train_seconds=train_seconds,
        progress=progress,
    )
