"""The trained classifier of kind `classify`: a fine-tuned encoder + linear head with
calibrated, abstaining predictions; saved as safetensors, loaded for torch or ONNX Runtime.

How it is trained: `narrowtune.kinds.classify.train`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from narrowtune.calibration import sigmoid, softmax
from narrowtune.encoders import Encoder, length_order
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Prediction
from narrowtune.moderation.moderator import ModerationConfig, Moderator

CONFIG_FILE = "classify.json"
HEAD_FILE = "head.safetensors"
ENCODER_DIR = "encoder"
Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS = ("torch", "onnx", "onnx-int8")


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
    target_out_of_scope_recall: float | None = None
    validation_out_of_scope_recall: float | None = None
    base: str = ""
    mode: str = "full"
    history: list[dict[str, float]] = field(default_factory=list)
    moderation: dict[str, Any] | None = None  # a ModerationConfig, for moderation tasks


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

    @cached_property
    def moderator(self) -> Moderator | None:
        """The moderation settings of a moderation task (normaliser, thresholds), else None."""
        if self.config.moderation is None:
            return None
        return Moderator(ModerationConfig.from_dict(self.config.moderation))

    def model_inputs(self, texts: Sequence[str]) -> list[str]:
        """What the encoder reads: the texts themselves, or for a moderation task the
        normalised texts with their link tags."""
        return self.moderator.model_inputs(texts) if self.moderator else list(texts)

    def logits(
        self, texts: Sequence[str], *, batch_size: int = 64, prepared: bool = False
    ) -> np.ndarray:
        """Raw (uncalibrated) logits, one row per text (`prepared`: the texts are
        `model_inputs` already)."""
        texts = list(texts) if prepared else self.model_inputs(texts)
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

    def moderate(
        self, texts: Sequence[str], moderator: Moderator, *, batch_size: int = 64
    ) -> list[Prediction]:
        """Predictions for `texts` read through `moderator` (each text normalised once, for the
        encoder and for its link features), each with its allow / block / review outcome;
        review means a human decides (abstain). `predict` uses the model's own moderator; eval
        also reads disguised texts with the normaliser off."""
        read = [moderator.read(text) for text in texts]
        logits = self.logits(
            [model_input for model_input, _ in read], batch_size=batch_size, prepared=True
        )
        out = self.predictions_from_logits(logits)
        if not moderator.policy_labels:
            return out
        for prediction, row, (_, features) in zip(
            out, self.probabilities(logits), read, strict=True
        ):
            per_label = {name: float(p) for name, p in zip(self.labels, row, strict=True)}
            decision = moderator.decide(per_label, features)
            prediction.outcome = decision.outcome
            prediction.reasons = decision.reasons
            prediction.abstain = decision.outcome == "review"
        return out

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        """Label name(s), calibrated confidence and abstain flag for each text (and, for a
        moderation task, its outcome: see `moderate`)."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string")
        if not texts:
            return []
        if self.moderator is not None:
            return self.moderate(texts, self.moderator, batch_size=batch_size)
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
    if backend not in BACKENDS:
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
        from narrowtune.kinds.classify.onnx import attach_onnx

        attach_onnx(model, directory, quantized=backend == "onnx-int8")
    return model
