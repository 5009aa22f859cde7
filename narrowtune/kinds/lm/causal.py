"""What the causal-LM kinds (`generate`, `tool_call`) share about a model: tokenizing a
templated conversation with its loss mask, the tokens that end a reply, the logits processor that
keeps generation inside an llguidance grammar, and loading a base model (optionally 4-bit for
QLoRA). Kind-specific behaviour (contracts, tool policies) stays in each kind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.lm.base import GEMMA_LICENCE, BaseModelError, is_bundled, resolve_base
from narrowtune.kinds.lm.grammar import GrammarMatcher
from narrowtune.kinds.lm.template import END, STOP_STRINGS, segments


class LMError(NarrowtuneError):
    """Training data or options a causal-LM kind cannot use."""


def encode_conversation(
    tokenizer: Any, messages: Sequence[dict[str, str]], *, add_generation_prompt: bool = False
) -> tuple[list[int], list[int]]:
    """Token ids of a templated conversation and its loss mask (1 = assistant reply token).

    Segments are tokenized one by one so the mask is exact; message text is tokenized with
    special tokens split, so a literal "<end_of_turn>" in a ticket cannot end a turn.
    """
    ids: list[int] = []
    mask: list[int] = []
    if tokenizer.bos_token_id is not None:
        ids.append(int(tokenizer.bos_token_id))
        mask.append(0)
    for seg in segments(messages, add_generation_prompt=add_generation_prompt):
        piece = tokenizer(
            seg.text, add_special_tokens=False, split_special_tokens=not seg.markup
        ).input_ids
        ids.extend(piece)
        mask.extend([int(seg.trained)] * len(piece))
    return ids, mask


def stop_token_ids(tokenizer: Any) -> list[int]:
    """Token ids that end a reply: end-of-sequence, the turn markers, and every other control
    (added special) token. Message text is tokenized with special tokens split, so a reply never
    contains a control token in training; one generated means the model ended its turn, at times
    with the wrong marker early in training. Decoding drops control tokens, so generating on past
    one would glue the next turn's text onto the reply."""
    out = {int(i) for i in tokenizer.all_special_ids}
    out |= {int(i) for i, token in tokenizer.added_tokens_decoder.items() if token.special}
    if tokenizer.eos_token_id is not None:
        out.add(int(tokenizer.eos_token_id))
    vocab = tokenizer.get_vocab()
    out |= {int(vocab[marker]) for marker in STOP_STRINGS if marker in vocab}
    return sorted(out)


def reply_end_ids(tokenizer: Any) -> list[int]:
    """The tokens that end a reply in narrowtune's template: `<end_of_turn>` and end-of-sequence
    (what a grammar allows once the output is complete)."""
    vocab = tokenizer.get_vocab()
    ids = {int(vocab[END])} if END in vocab else set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return sorted(ids)


def grammar_tokenizer(lm: Any, tokenizer: Any) -> Any:
    """llguidance's view of a transformers model's vocabulary (the output embedding's width,
    or the tokenizer's when larger), ending a reply at `reply_end_ids`."""
    from narrowtune.kinds.lm.grammar import hf_tokenizer

    width = int(lm.get_output_embeddings().weight.shape[0])
    return hf_tokenizer(tokenizer, reply_end_ids(tokenizer), max(width, len(tokenizer)))


class GrammarLogits:
    """A transformers logits processor keeping each row of a batch inside its grammar.

    Each call first hands every row's matcher the tokens generated since the last call (the
    batch's prompts are left-padded to `prompt_width`; a row that has ended is left alone),
    then sets to -inf the logits of the tokens the row's grammar does not allow. It returns a new
    tensor: generate keeps the unprocessed logits (`output_logits`) for the confidence."""

    def __init__(
        self, matchers: Sequence[GrammarMatcher], prompt_width: int, stop_ids: Sequence[int]
    ) -> None:
        self.matchers = list(matchers)
        self.prompt_width = prompt_width
        self.stop_ids = set(stop_ids)
        self.taken = [0] * len(self.matchers)
        self.ended = [False] * len(self.matchers)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        allowed = torch.ones_like(scores, dtype=torch.bool)
        for row, matcher in enumerate(self.matchers):
            start = self.prompt_width + self.taken[row]
            for token in input_ids[row, start:].tolist():
                if self.ended[row]:
                    break
                self.taken[row] += 1
                if token in self.stop_ids:
                    self.ended[row] = True
                else:
                    matcher.advance(token)
            if not (self.ended[row] or matcher.failed):
                allowed[row] = torch.from_numpy(matcher.allowed(scores.shape[-1]))
        masked = scores.masked_fill(~allowed.to(scores.device), float("-inf"))
        # a banned phrase can remove the grammar's only choices: then the grammar alone decides
        stuck = torch.isinf(masked).all(dim=-1)
        if bool(stuck.any()):
            masked[stuck] = torch.where(allowed[stuck].to(scores.device), 0.0, float("-inf"))
        return masked


def pick_device() -> tuple[torch.device, torch.dtype]:
    """CUDA with bf16 where available, else the CPU in float32."""
    if torch.cuda.is_available():
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.device("cuda"), dtype
    return torch.device("cpu"), torch.float32


def check_qlora(section: str = "generate") -> None:
    """QLoRA needs CUDA and bitsandbytes: say which is missing before anything is loaded."""
    if not torch.cuda.is_available():
        raise LMError(
            f"{section}.qlora: true needs a CUDA GPU and this machine has none; "
            f"set {section}.qlora: false to train the LoRA adapter on the unquantised base"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise LMError(
            f"{section}.qlora: true needs the bitsandbytes package: pip install bitsandbytes"
        ) from None


def load_base(name: str, *, quantize_4bit: bool = False) -> tuple[Any, Any, Path]:
    """(model, tokenizer, folder) of a base causal LM, on the best device; with
    `quantize_4bit`, its linear layers quantised to 4-bit NF4 by bitsandbytes (QLoRA)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = resolve_base(name)
    device, dtype = pick_device()
    options: dict[str, Any] = {"dtype": dtype}
    if quantize_4bit:
        from transformers import BitsAndBytesConfig

        check_qlora()
        options["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
        options["device_map"] = {"": device.index or 0}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        lm = AutoModelForCausalLM.from_pretrained(path, **options)
    except (OSError, ValueError) as exc:
        raise BaseModelError(f"{path}: cannot load a causal LM from this folder: {exc}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if quantize_4bit:
        from peft import prepare_model_for_kbit_training

        # casts norms to float32 and enables input gradients, as QLoRA training needs
        lm = prepare_model_for_kbit_training(lm, use_gradient_checkpointing=False)
        return lm, tokenizer, path
    return lm.to(device), tokenizer, path


def merge_into_base(name: str, state: dict[str, torch.Tensor], adapter_config: dict) -> Any:
    """The unquantised base with a LoRA adapter (trained on the 4-bit base) merged in."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    lm, _, _ = load_base(name)
    known = set(LoraConfig.__dataclass_fields__)
    config = LoraConfig(**{k: v for k, v in adapter_config.items() if k in known})
    peft_model = get_peft_model(lm, config)
    set_peft_model_state_dict(peft_model, state)
    return peft_model.merge_and_unload()


ADAPTER_FILE = "adapter_model.safetensors"
ADAPTER_CONFIG_FILE = "adapter_config.json"
Adapter = tuple[dict[str, torch.Tensor], dict[str, Any]]


def save_adapter(directory: Path, adapter: Adapter) -> None:
    """Write a LoRA adapter (its state as safetensors, its PEFT config as JSON) to `directory`."""
    from safetensors.torch import save_file

    state, peft_config = adapter
    save_file(
        {k: v.detach().contiguous().cpu() for k, v in state.items()},
        str(directory / ADAPTER_FILE),
    )
    (directory / ADAPTER_CONFIG_FILE).write_text(json.dumps(peft_config, indent=2))


def load_adapted(directory: Path, base: str) -> tuple[Any, Any, Adapter | None]:
    """(model, tokenizer, adapter) of `base` with the LoRA adapter saved in `directory` merged
    in (the bare base and no adapter when `directory` holds none)."""
    lm, tokenizer, _ = load_base(base)
    adapter = None
    if (directory / ADAPTER_FILE).is_file():
        from peft import PeftModel
        from peft.utils import get_peft_model_state_dict

        peft_model = PeftModel.from_pretrained(lm, directory)
        adapter = (
            {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()},
            json.loads((directory / ADAPTER_CONFIG_FILE).read_text()),
        )
        lm = peft_model.merge_and_unload()
    return lm, tokenizer, adapter


def base_card_notes(name: str) -> list[str]:
    return [GEMMA_LICENCE] if is_bundled(name) else []
