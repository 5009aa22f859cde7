"""Kind `generate`: LoRA fine-tuning of a small causal LM to draft text in an approved format.

This module is the plug-in declaration only (light: no torch). The base model is resolved by
`base.py`, prompts are templated by `template.py`, outputs are checked by `contract.py` (and
constrained by `grammar.py`), rows are read by `data.py`; the model is `model.py`, its
training recipe `train.py`, GGUF / Ollama export `export.py` and the llama.cpp runner
`llamacpp.py`. The evaluation against the prompted base is `narrowtune.evaluate.generate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from narrowtune.kinds.base import AuditPolicy, Kind
from narrowtune.kinds.generate.spec import GenerateSpec

if TYPE_CHECKING:
    from narrowtune.task import Task

# Options the `train:` section may also set for this kind; a value set there wins.
SHARED_OPTIONS = ("epochs", "batch_size", "learning_rate", "weight_decay")


def audit_encoder(task: Task) -> str:
    """Text checks embed with the default encoder: this kind's `model.base` is a causal LM."""
    from narrowtune.task import DEFAULT_BASE

    return DEFAULT_BASE


def settle(task: Task) -> None:
    """Settle which of `train.*` and `generate.*` sets each shared option: a `train:` key the
    task sets wins (`train.epochs: auto` does not count), so training reads `generate:` only."""
    spec, train = task.generate, task.train
    for key in SHARED_OPTIONS:
        if key not in train.model_fields_set or getattr(train, key) == "auto":
            continue
        try:
            setattr(spec, key, getattr(train, key))
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise ValueError(f"train.{key} does not fit kind generate: {problem}") from None


KIND = Kind(
    name="generate",
    summary="draft text in an approved format with a LoRA-tuned small LM (replies, code)",
    metrics=("contract_rate", "chrf", "rouge_l"),
    trainer="narrowtune.kinds.generate.train:train",
    loader="narrowtune.kinds.generate.model:load",
    evaluator="narrowtune.evaluate.generate:evaluate",
    section="generate",
    spec=GenerateSpec,
    reader="narrowtune.kinds.generate.data:read_examples",
    labeled=False,
    text_column="prompt",
    backends=("torch", "llamacpp"),
    settle=settle,
    scaffold="narrowtune.kinds.generate.scaffold:scaffold",
    exporter="narrowtune.kinds.generate.export:export",
    # The kind counts (and truncates or refuses) long sequences itself.
    audit=AuditPolicy(skip=frozenset({"long_texts"}), encoder=audit_encoder),
)
