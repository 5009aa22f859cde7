"""The trained extractor of kind `extract`: a fine-tuned encoder with a BIO token head and one
classification head per enum/boolean field (and the intent), that fills the task's schema.

At prediction, each word's tag probabilities are averaged over the windows that see it,
decoded with BIO-constrained Viterbi, normalised per field and validated, and the output is
built so that it always validates (`narrowtune.kinds.extract.output`). How it is trained:
`narrowtune.kinds.extract.train`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from narrowtune.encoders import Encoder
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Prediction
from narrowtune.kinds.extract.align import allowed_transitions, entities, viterbi, word_offsets
from narrowtune.kinds.extract.fields import Field, schema_fields
from narrowtune.kinds.extract.metrics import SpanSet
from narrowtune.kinds.extract.output import Finalizer, Guess
from narrowtune.kinds.training import pad_batch

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
    # Per field: below this confidence a person checks the field (chosen on validation so that
    # the fields kept reach target_precision); the document's `uncertain` lists those fields.
    field_thresholds: dict[str, float] = field(default_factory=dict)
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
                ids, mask = pad_batch([windows[i].ids for i in idx], pad_id)
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
            guesses,
            label=label,
            label_confidence=label_confidence,
            threshold=cfg.threshold,
            field_thresholds=cfg.field_thresholds,
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
