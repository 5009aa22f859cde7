"""Kind `classify`: single- and multi-label text classification (routing, moderation, intents).

Recipe, top to bottom (see `train`):
1. embed the training texts with the frozen encoder and fit a logistic-regression probe;
2. start the classification head from that probe (LP-FT), so fine-tuning begins at the strong
   frozen baseline instead of a random head;
3. fine-tune encoder + head with layer-wise learning-rate decay, warmup + linear decay, and
   length-bucketed batches (little padding: faster steps on CPU);
4. fit a temperature on validation logits and choose the abstention threshold there for the
   task's target precision.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from narrowtune.calibration import (
    choose_threshold,
    fit_temperature,
    sigmoid,
    softmax,
)
from narrowtune.data.labels import is_correct, label_targets
from narrowtune.encoders import Encoder, length_order
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Prediction, ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import Task, TrainSpec

CONFIG_FILE = "classify.json"
HEAD_FILE = "head.safetensors"
ENCODER_DIR = "encoder"
Backend = Literal["torch", "onnx", "onnx-int8"]


@dataclass
class ClassifyConfig:
    """Everything besides weights needed to rebuild and use a trained classifier."""

    labels: list[str]
    multi_label: bool = False
    max_length: int = 64
    temperature: float = 1.0
    threshold: float = 0.0
    target_precision: float = 0.95
    validation_coverage: float = 1.0
    base: str = ""
    mode: str = "full"
    history: list[dict[str, float]] = field(default_factory=list)


class ClassifyModel:
    """A fine-tuned encoder + linear head with calibrated, abstaining predictions."""

    kind = "classify"

    def __init__(
        self, encoder: Encoder, head: nn.Linear, config: ClassifyConfig, *, backend: str = "torch"
    ) -> None:
        self.encoder = encoder
        self.head = head
        self.config = config
        self.backend = backend
        self._runner: Any = None  # an ONNX session wrapper when backend != "torch"

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    def logits(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Raw (uncalibrated) logits, one row per text."""
        texts = list(texts)
        if self._runner is not None:
            return self._runner.logits(texts, batch_size=batch_size)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        self.encoder.eval()
        order = length_order([len(t) for t in texts])
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                idx = order[start : start + batch_size]
                batch = self.encoder.tokenize([texts[i] for i in idx])
                emb = self.encoder(batch["input_ids"], batch["attention_mask"])
                out[idx] = self.head(emb).float().numpy()
        return out

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from logits (temperature fitted on validation)."""
        t = self.config.temperature
        return sigmoid(logits, t) if self.config.multi_label else softmax(logits, t)

    def predictions_from_logits(self, logits: np.ndarray, *, top_k: int = 3) -> list[Prediction]:
        probs = self.probabilities(logits)
        labels = self.labels
        out = []
        for row in probs:
            top = np.argsort(-row)[:top_k]
            scores = {labels[i]: round(float(row[i]), 6) for i in top}
            if self.config.multi_label:
                chosen = [labels[i] for i in np.flatnonzero(row >= 0.5)]
                confidence = float(np.min(np.maximum(row, 1.0 - row)))
                label: str | list[str] = chosen
            else:
                best = int(top[0])
                confidence = float(row[best])
                label = labels[best]
            abstain = confidence < self.config.threshold
            out.append(Prediction(label, round(confidence, 6), bool(abstain), scores))
        return out

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        """Label name(s), calibrated confidence and abstain flag for each text."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string")
        if not texts:
            return []
        return self.predictions_from_logits(self.logits(texts, batch_size=batch_size))

    def save(self, directory: Path) -> None:
        """Write safetensors weights, tokenizer and config (no pickle anywhere)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(directory / ENCODER_DIR)
        state = {k: v.detach().contiguous().cpu() for k, v in self.head.state_dict().items()}
        save_file(state, str(directory / HEAD_FILE))
        (directory / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2))


def load(directory: Path | str, *, backend: str = "torch") -> ClassifyModel:
    """Load a classifier saved by `ClassifyModel.save` (backend: torch, onnx or onnx-int8)."""
    if backend not in ("torch", "onnx", "onnx-int8"):
        raise NarrowtuneError(
            f"kind 'classify' runs on the torch, onnx or onnx-int8 backend, not '{backend}'"
        )
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise NarrowtuneError(f"{directory} holds no trained classifier ({CONFIG_FILE} missing)")
    config = ClassifyConfig(**json.loads(config_path.read_text()))
    encoder = Encoder.from_pretrained(directory / ENCODER_DIR, max_length=config.max_length)
    state = load_file(str(directory / HEAD_FILE))
    head = nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
    head.load_state_dict(state)
    model = ClassifyModel(encoder, head, config, backend=backend)
    if backend != "torch":
        from narrowtune.kinds.classify_onnx import attach_onnx

        attach_onnx(model, directory, quantized=backend == "onnx-int8")
    return model


# ----------------------------------------------------------------------------- training


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


_LAYER = re.compile(r"\.(?:layer|layers|h|block)\.(\d+)\.")


def layerwise_groups(net: _Net, options: TrainSpec) -> list[dict[str, Any]]:
    """AdamW parameter groups: the head at its own rate, lower layers at geometrically less."""
    params = [(n, p) for n, p in net.encoder.transformer.named_parameters() if p.requires_grad]
    layers = [int(m.group(1)) + 1 for n, _ in params if (m := _LAYER.search(f".{n}"))]
    above = max(layers, default=0) + 1  # anything after the last layer (e.g. a final norm)

    def depth(name: str) -> int:
        match = _LAYER.search(f".{name}")
        return int(match.group(1)) + 1 if match else (0 if "embed" in name else above)

    top = max(depth(n) for n, _ in params)  # the highest trainable part gets the full rate
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in params:
        lr = options.learning_rate * options.layer_decay ** (top - depth(name))
        decay = 0.0 if param.ndim == 1 else options.weight_decay
        groups.setdefault((lr, decay), []).append(param)
    out = [{"params": p, "lr": lr, "weight_decay": wd} for (lr, wd), p in groups.items()]
    out.append(
        {
            "params": list(net.head.parameters()),
            "lr": options.head_learning_rate,
            "weight_decay": 0.0,
        }
    )
    return out


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Batches of similar-length examples, in random order; membership varies by epoch."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def _pad(ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return input_ids, mask


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
    (launched by torchrun, see `narrowtune.kinds.distributed`), each taking its share of batches.
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
    per_epoch = len(bucketed_batches(lengths, options.batch_size, random.Random(0))) // world
    total = max(1, math.ceil(per_epoch * epochs))
    warmup = int(total * options.warmup_ratio)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    net, optimizer = accelerator.prepare(net, optimizer)
    if multi_label:
        loss_fn: nn.Module = nn.BCEWithLogitsLoss()
    else:
        loss_fn = nn.CrossEntropyLoss(label_smoothing=options.label_smoothing)
    deadline = time.monotonic() + 60 * options.max_minutes if options.max_minutes else None

    history: list[dict[str, float]] = []
    step = 0
    net.train()
    while step < total:
        batches = bucketed_batches(lengths, options.batch_size, rng)
        batches = batches[: len(batches) // world * world][rank::world]
        losses = []
        for batch in batches:
            if step >= total:
                break
            input_ids, mask = _pad([ids[i] for i in batch], pad_id)
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
            if deadline and time.monotonic() > deadline:
                step = total
        history.append({"epoch": len(history) + 1, "loss": float(np.mean(losses or [0.0]))})
    # Inference and saving happen on the CPU, outside any process group.
    accelerator.unwrap_model(net).to("cpu").eval()
    return history


def calibrate(model: ClassifyModel, validation: Sequence[Example], target_precision: float) -> None:
    """Fit the temperature and the abstention threshold on validation data (in place)."""
    config = model.config
    logits = model.logits([ex.text for ex in validation])
    y = label_targets(validation, config.labels, config.multi_label)
    config.temperature = fit_temperature(logits, y, multi_label=config.multi_label)
    preds = model.predictions_from_logits(logits)
    confidence = np.array([p.confidence for p in preds])
    correct = is_correct([p.label for p in preds], validation)
    chosen = choose_threshold(confidence, correct, target_precision=target_precision)
    config.threshold = chosen.value
    config.target_precision = target_precision
    config.validation_coverage = chosen.coverage


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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
        from narrowtune.kinds.distributed import train_distributed

        return train_distributed(task, train, validation, progress=progress)
    seed_everything(task.seed)
    labels = list(task.labels) if task.labels else sorted({n for ex in train for n in ex.labels})
    encoder = Encoder.from_pretrained(task.model.base, max_length=task.model.max_length)
    mode = resolve_mode(options, train)
    epochs = resolve_epochs(options, len(train), mode)
    texts = [ex.text for ex in train]
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
    )
    model = ClassifyModel(encoder, head, config)
    calibrate(model, validation, task.abstain.target_precision)
    return model
