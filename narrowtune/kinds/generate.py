"""Kind `generate`: LoRA fine-tuning of a small causal LM to draft text in an approved format.

Recipe, top to bottom (see `train`):
1. resolve the base model (the bundled Gemma 3 270M by default, see `narrowtune.generate.base`)
   and compile the task's output contract, so a bad schema or checker fails before training;
2. template every example with narrowtune's chat template and tokenize it segment by segment,
   marking the assistant reply (and the `<end_of_turn>` closing it) as the only tokens the loss
   is computed on; examples over `generate.max_length` are refused, truncated or dropped;
3. train a LoRA adapter with TRL's `SFTTrainer` (packing optional), measuring validation loss
   before training and every few steps, stopping early when it stops improving and keeping the
   best checkpoint;
4. merge the adapter into the base weights for fast inference; the saved run holds the adapter
   only (safetensors) plus the contract.

Every output is checked against the contract. An output that fails is generated again (see
`GenerateModel.generate_checked`); one that still fails comes back with `valid: false`, its
problems, and `abstain: true`. `confidence` is the geometric mean of the probabilities the model
gave the tokens it generated (exp of the mean token log-probability), end-of-turn included.
"""

from __future__ import annotations

import copy
import json
import math
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from narrowtune.errors import NarrowtuneError
from narrowtune.generate.base import (
    GEMMA_LICENCE,
    BaseModelError,
    base_name,
    is_bundled,
    resolve_base,
)
from narrowtune.generate.contract import Contract
from narrowtune.generate.grammar import GrammarMatcher
from narrowtune.generate.template import END, STOP_STRINGS, cut_at_stop, segments, with_system
from narrowtune.kinds.base import Generation, Prediction, ProgressFn

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.generate.llamacpp import GgufGenerator
    from narrowtune.task import Task

CONFIG_FILE = "generate.json"
ADAPTER_FILE = "adapter_model.safetensors"
CHECKER_FILE = "checker.py"
LORA_TARGETS = {
    "attention": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "all": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}
RETRY_TEMPERATURE = 0.7
RETRY_TOP_P = 0.95
BACKENDS = ("torch", "llamacpp")
GGUF_FILE = "model.gguf"  # written beside the adapter on the first llamacpp load
GGUF_CONTEXT = 4096  # llama.cpp context (prompt + reply tokens) of the llamacpp backend
CONFIDENCE_NOTE = "geometric mean probability of the generated tokens (end-of-turn included)"


class GenerateError(NarrowtuneError):
    """Training data or options the generate kind cannot use."""


@dataclass
class GenerateConfig:
    """Everything besides weights needed to rebuild and use a fine-tuned generator."""

    base: str
    system: str = ""
    max_new_tokens: int = 160
    max_length: int = 512
    contract: dict[str, Any] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)
    fine_tuned: bool = True
    epochs: float = 0.0
    steps: int = 0
    learning_rate: float = 0.0
    batch_size: int = 0
    packing: bool = False
    qlora: bool = False
    train_examples: int = 0
    truncated_examples: int = 0
    dropped_examples: int = 0
    validation_loss_before: float | None = None
    validation_loss_after: float | None = None
    train_tokens: int = 0
    train_tokens_per_s: float | None = None
    device: str = "cpu"
    confidence: str = CONFIDENCE_NOTE
    history: list[dict[str, float]] = field(default_factory=list)
    card_notes: list[str] = field(default_factory=list)


@dataclass
class Checked:
    """One prompt's final output after the contract check (and retries)."""

    text: str
    confidence: float
    problems: list[str]
    first_problems: list[str]
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float

    @property
    def valid(self) -> bool:
        return not self.problems


# ----------------------------------------------------------------------------- tokenization


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


def phrase_variants(phrases: Sequence[str]) -> list[str]:
    """Each forbidden phrase as written, lower-case and capitalised, with and without a leading
    space (how the phrase can start mid-sentence or at a line start)."""
    return sorted(
        {
            prefix + variant
            for phrase in phrases
            for variant in (phrase, phrase.lower(), phrase[:1].upper() + phrase[1:])
            for prefix in ("", " ")
        }
    )


def banned_token_sequences(tokenizer: Any, phrases: Sequence[str]) -> list[list[int]]:
    """Token sequences of every variant of each forbidden phrase (see `phrase_variants`)."""
    out = {
        tuple(ids)
        for text in phrase_variants(phrases)
        if (ids := tokenizer(text, add_special_tokens=False).input_ids)
    }
    return [list(ids) for ids in sorted(out)]


def reply_end_ids(tokenizer: Any) -> list[int]:
    """The tokens that end a reply in narrowtune's template: `<end_of_turn>` and end-of-sequence
    (what a grammar allows once the output is complete)."""
    vocab = tokenizer.get_vocab()
    ids = {int(vocab[END])} if END in vocab else set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return sorted(ids)


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


def fit_to_length(
    ids: list[int], mask: list[int], limit: int
) -> tuple[list[int], list[int]] | None:
    """Cut an overlong example: first the prompt's start (after BOS), then the reply's end.

    None when nothing trained would remain."""
    excess = len(ids) - limit
    if excess <= 0:
        return ids, mask
    first_trained = mask.index(1) if 1 in mask else len(mask)
    removable = max(first_trained - 1, 0)  # keep BOS and the open model turn where possible
    cut = min(excess, max(removable - 8, 0))  # leave the last few prompt tokens (the turn marker)
    ids, mask = ids[:1] + ids[1 + cut :], mask[:1] + mask[1 + cut :]
    ids, mask = ids[:limit], mask[:limit]
    return (ids, mask) if 1 in mask else None


# ----------------------------------------------------------------------------- the model


class GenerateModel:
    """A causal LM (LoRA merged in) that drafts replies and checks each against the contract."""

    kind = "generate"

    def __init__(
        self,
        lm: Any,
        tokenizer: Any,
        config: GenerateConfig,
        contract: Contract,
        *,
        adapter: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None,
        shots: Sequence[dict[str, str]] = (),
        runner: GgufGenerator | None = None,
    ) -> None:
        self.config = config
        self.contract = contract
        self.adapter = adapter  # (state dict, peft config) of the LoRA adapter, for `save`
        self.shots = [dict(m) for m in shots]  # few-shot turns placed before every prompt
        # llama.cpp on a GGUF (backend "llamacpp") instead of transformers: no torch weights
        self.runner = runner
        self.lm = None if runner else lm.eval()
        self.tokenizer = tokenizer
        self.device = torch.device("cpu") if runner else next(lm.parameters()).device
        self._grammar_tokenizer: Any = None  # llguidance's tokenizer, built on first use
        if runner is not None:
            self._banned = runner.token_sequences(phrase_variants(contract.forbidden))
        else:
            self._stop_ids = stop_token_ids(tokenizer)
            self._banned = (
                banned_token_sequences(tokenizer, contract.forbidden)
                if contract.forbidden
                else None
            )

    # -- prompts

    def messages_for(self, text: str) -> list[dict[str, str]]:
        """The conversation sent for one prompt: system, few-shot turns, the prompt."""
        return with_system([*self.shots, {"role": "user", "content": text}], self.config.system)

    # -- raw generation

    def _generate(
        self,
        conversations: Sequence[Sequence[dict[str, str]]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        seed: int = 0,
        ban_forbidden: bool = False,
        constrained: bool = False,
        stop: Sequence[str] = (),
    ) -> list[tuple[str, float, int, int, str]]:
        """(text, confidence, prompt tokens, completion tokens, finish reason) per conversation,
        generated as one left-padded batch (with llama.cpp: one conversation at a time);
        `constrained` keeps every output inside the contract's grammar."""
        if self.runner is not None:
            return [
                self.runner.complete(
                    c,
                    max_new_tokens=max_new_tokens or self.config.max_new_tokens,
                    temperature=temperature,
                    top_p=RETRY_TOP_P if temperature > 0 else 1.0,
                    seed=seed,
                    banned=self._banned if ban_forbidden and self._banned else (),
                    grammar=self._matchers(1)[0] if constrained else None,
                    stop=stop,
                )
                for c in conversations
            ]
        prompts = [
            encode_conversation(self.tokenizer, c, add_generation_prompt=True)[0]
            for c in conversations
        ]
        width = max(len(p) for p in prompts)
        pad_id = self.tokenizer.pad_token_id
        pad_id = int(pad_id if pad_id is not None else self._stop_ids[0])
        input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids)
            attention[row, width - len(ids) :] = 1
        options: dict[str, Any] = {
            "max_new_tokens": max_new_tokens or self.config.max_new_tokens,
            "eos_token_id": self._stop_ids,
            "pad_token_id": pad_id,
            "return_dict_in_generate": True,
            "output_logits": True,
        }
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature, top_p=RETRY_TOP_P, top_k=0)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if ban_forbidden and self._banned:
            options["bad_words_ids"] = self._banned
        if stop:
            options.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        if constrained:
            from transformers import LogitsProcessorList

            grammar = GrammarLogits(self._matchers(len(prompts)), width, self._stop_ids)
            options["logits_processor"] = LogitsProcessorList([grammar])
        with torch.inference_mode(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            out = self.lm.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                **options,
            )
        generated = out.sequences[:, width:].cpu()
        # log-probability of each chosen token, step by step (never all steps x vocab at once)
        chosen = torch.stack(
            [
                step.float().log_softmax(-1).cpu().gather(-1, generated[:, i : i + 1]).squeeze(-1)
                for i, step in enumerate(out.logits)
            ],
            dim=1,
        )
        results = []
        stop_set = set(self._stop_ids)
        for row, prompt in enumerate(prompts):
            tokens = generated[row].tolist()
            end = next((i for i, t in enumerate(tokens) if t in stop_set), None)
            kept = tokens if end is None else tokens[:end]
            scored = chosen[row, : len(tokens) if end is None else end + 1]
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            text, cut = cut_at_stop(text, [*STOP_STRINGS, *stop])
            finish = "stop" if end is not None or cut else "length"
            confidence = float(torch.exp(scored.mean())) if scored.numel() else 0.0
            results.append((text.strip(), confidence, len(prompt), len(kept), finish))
        return results

    def _matchers(self, count: int) -> list[GrammarMatcher]:
        """A fresh grammar matcher per output (llguidance's tokenizer is built once)."""
        grammar = self.contract.grammar
        if grammar is None:
            raise GenerateError(f"no grammar to constrain decoding: {self.contract.grammar_note}")
        return [GrammarMatcher(self._llg_tokenizer(), grammar) for _ in range(count)]

    def _llg_tokenizer(self) -> Any:
        """llguidance's view of this model's vocabulary (built on first use, about 3 s for
        Gemma's 262k tokens, then kept)."""
        if self._grammar_tokenizer is None:
            from narrowtune.generate.grammar import hf_tokenizer, llamacpp_tokenizer

            if self.runner is not None:
                self._grammar_tokenizer = llamacpp_tokenizer(
                    self.runner.llm, sorted(self.runner.stops)
                )
            else:
                width = int(self.lm.get_output_embeddings().weight.shape[0])
                self._grammar_tokenizer = hf_tokenizer(
                    self.tokenizer, reply_end_ids(self.tokenizer), max(width, len(self.tokenizer))
                )
        return self._grammar_tokenizer

    def with_schema(self, schema: dict[str, Any]) -> GenerateModel:
        """This model answering inside `schema` (see `Contract.with_schema`): a view sharing
        the weights, the tokenizers and llguidance's vocabulary."""
        contract = self.contract.with_schema(schema, "response_format json_schema")
        view = copy.copy(self)
        view.contract = contract
        view._grammar_tokenizer = self._llg_tokenizer()
        return view

    @property
    def constrains(self) -> str:
        """When decoding is grammar-constrained: "always", "retry" or "never"."""
        return self.contract.constrain if self.contract.grammar is not None else "never"

    # -- checked generation

    def generate_checked(
        self,
        conversations: Sequence[Sequence[dict[str, str]]],
        *,
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        retry: bool = True,
        retries: int | None = None,
    ) -> list[Checked]:
        """Generate, check each output against the contract, regenerate the failures.

        Retry, up to `contract.retries` (or `retries`) extra attempts per failing output, the
        failures of each round regenerated together in batches: attempt 2 is greedy
        with the forbidden phrases banned (`bad_words_ids`); attempts 3+ sample (temperature
        0.7, top-p 0.95, a fixed seed per attempt) with the phrases still banned. When the
        contract's JSON Schema or regex compiles to a grammar, retries are also
        grammar-constrained (`constrain: retry`), or every attempt is (`constrain: always`):
        only tokens that can continue a valid output are allowed. Where a greedy attempt 2 would
        repeat the first token for token (greedy first try, nothing banned, no grammar added),
        it samples instead. The first output that passes wins; when none does, the first output
        is returned with its problems. An output is never edited after generation.
        """
        constrain = self.constrains
        greedy_retry_differs = temperature > 0 or bool(self._banned) or constrain == "retry"
        out: list[Checked] = []
        for start in range(0, len(conversations), batch_size):
            batch = conversations[start : start + batch_size]
            began = time.perf_counter()
            first = self._generate(
                batch,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                constrained=constrain == "always",
                stop=stop,
            )
            seconds = (time.perf_counter() - began) / len(batch)
            for text, conf, n_prompt, n_done, finish in first:
                problems = self._problems(text, finish)
                out.append(
                    Checked(
                        text, conf, problems, list(problems), 1, n_prompt, n_done, finish, seconds
                    )
                )
        if not retry:
            retries = 0
        elif retries is None:
            retries = self.contract.retries
        for attempt in range(2, 2 + retries):  # each round regenerates the failures as batches
            failing = [i for i, c in enumerate(out) if c.problems]
            for start in range(0, len(failing), batch_size):
                chunk = failing[start : start + batch_size]
                began = time.perf_counter()
                sample = attempt > 2 or not greedy_retry_differs
                again = self._generate(
                    [conversations[i] for i in chunk],
                    max_new_tokens=max_new_tokens,
                    temperature=RETRY_TEMPERATURE if sample else 0.0,
                    seed=attempt,
                    ban_forbidden=True,
                    constrained=constrain != "never",
                    stop=stop,
                )
                seconds = (time.perf_counter() - began) / len(chunk)
                for i, (text, conf, n_prompt, n_done, finish) in zip(chunk, again):
                    checked = out[i]
                    checked.seconds += seconds
                    checked.attempts = attempt
                    if not self._problems(text, finish):
                        checked.text, checked.confidence, checked.problems = text, conf, []
                        checked.prompt_tokens, checked.completion_tokens = n_prompt, n_done
                        checked.finish_reason = finish
        return out

    def _problems(self, text: str, finish: str) -> list[str]:
        if self.contract.empty:
            return []
        problems = self.contract.check(text)
        if finish == "length":
            problems.append("cut off at max_new_tokens")
        return problems

    # -- the Model protocol

    def predict(self, texts: Sequence[str], *, batch_size: int = 8) -> list[Prediction]:
        """A checked draft for each prompt (see `generate_checked`); invalid drafts abstain."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of prompts, not a single string")
        if not texts:
            return []
        checked = self.generate_checked(
            [self.messages_for(t) for t in texts], batch_size=min(batch_size, 16)
        )
        return [
            Prediction(
                label="",
                confidence=round(c.confidence, 6),
                abstain=not c.valid,
                output=c.text,
                valid=c.valid,
                problems=c.problems,
            )
            for c in checked
        ]

    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Generation:
        """Answer a chat conversation (OpenAI-style roles); checked against the contract.
        With `json_schema` (a request's response_format) the reply is generated inside that
        schema's grammar and checked against it too."""
        from narrowtune.generate.data import normalise_messages

        if json_schema is not None:
            return self.with_schema(json_schema).chat(
                messages, max_new_tokens=max_new_tokens, temperature=temperature, stop=stop
            )

        conversation = [dict(m) for m in messages]
        try:  # a request ends with a user turn: validate it as if an answer followed
            normalise_messages([*conversation, {"role": "assistant", "content": "x"}])
        except ValueError as exc:
            raise ValueError(f"messages: {exc}") from None
        conversation = with_system([*self.shots, *conversation], self.config.system)
        [c] = self.generate_checked(
            [conversation], max_new_tokens=max_new_tokens, temperature=temperature, stop=stop or ()
        )
        return Generation(
            text=c.text,
            prompt_tokens=c.prompt_tokens,
            completion_tokens=c.completion_tokens,
            finish_reason=c.finish_reason,
            valid=c.valid,
            problems=c.problems,
        )

    def save(self, directory: Path) -> None:
        """Write the LoRA adapter (safetensors), the config and the contract's checker file."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        checker_file = None
        if self.contract.checker_path is not None:
            if self.contract.checker_path.resolve() != (directory / CHECKER_FILE).resolve():
                shutil.copyfile(self.contract.checker_path, directory / CHECKER_FILE)
            checker_file = CHECKER_FILE
        config = asdict(self.config)
        config["contract"] = self.contract.to_dict(checker_file)
        if self.adapter is not None:
            state, peft_config = self.adapter
            save_file(
                {k: v.detach().contiguous().cpu() for k, v in state.items()},
                str(directory / ADAPTER_FILE),
            )
            (directory / "adapter_config.json").write_text(json.dumps(peft_config, indent=2))
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))


# ----------------------------------------------------------------------------- loading


def pick_device() -> tuple[torch.device, torch.dtype]:
    """CUDA with bf16 where available, else the CPU in float32."""
    if torch.cuda.is_available():
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.device("cuda"), dtype
    return torch.device("cpu"), torch.float32


def check_qlora() -> None:
    """QLoRA needs CUDA and bitsandbytes: say which is missing before anything is loaded."""
    if not torch.cuda.is_available():
        raise GenerateError(
            "generate.qlora: true needs a CUDA GPU and this machine has none; "
            "set generate.qlora: false to train the LoRA adapter on the unquantised base"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise GenerateError(
            "generate.qlora: true needs the bitsandbytes package: pip install bitsandbytes"
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


def base_card_notes(name: str) -> list[str]:
    return [GEMMA_LICENCE] if is_bundled(name) else []


def load(directory: Path | str, *, backend: str = "torch") -> GenerateModel:
    """Load a generator saved by `GenerateModel.save` (base model + LoRA adapter, merged).

    backend "llamacpp" runs the model's GGUF with llama.cpp instead (see `load_gguf`)."""
    if backend not in BACKENDS:
        raise NarrowtuneError(
            f"kind generate runs on the {' or '.join(BACKENDS)} backend, not '{backend}'"
        )
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise NarrowtuneError(f"{directory} holds no trained generator ({CONFIG_FILE} missing)")
    config = GenerateConfig(**json.loads(config_path.read_text()))
    contract = Contract(config.contract, directory)
    if backend == "llamacpp":
        return load_gguf(directory, config, contract)
    lm, tokenizer, _ = load_base(config.base)
    adapter = None
    if (directory / ADAPTER_FILE).is_file():
        from peft import PeftModel
        from peft.utils import get_peft_model_state_dict

        peft_model = PeftModel.from_pretrained(lm, directory)
        adapter = (
            {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()},
            json.loads((directory / "adapter_config.json").read_text()),
        )
        lm = peft_model.merge_and_unload()
    return GenerateModel(lm, tokenizer, config, contract, adapter=adapter)


def load_gguf(directory: Path, config: GenerateConfig, contract: Contract) -> GenerateModel:
    """The saved generator on llama.cpp. Its GGUF (`model.gguf` beside the adapter) is exported
    on first use, written to a temporary name and renamed, so a crash leaves no partial file."""
    from narrowtune.generate.export import write_gguf
    from narrowtune.generate.llamacpp import GgufGenerator, check_installed

    check_installed()
    gguf = directory / GGUF_FILE
    if not gguf.is_file():
        if not is_bundled(config.base):
            raise NarrowtuneError(
                f"backend llamacpp needs {gguf}: narrowtune writes GGUFs for the bundled base "
                "only; convert `narrowtune export` merged/ with llama.cpp's "
                f"convert_hf_to_gguf.py and save it as {gguf}"
            )
        partial = gguf.with_name(f".{GGUF_FILE}.partial")
        write_gguf(load(directory), partial)
        partial.replace(gguf)
    runner = GgufGenerator(gguf, n_ctx=GGUF_CONTEXT, system=config.system)
    return GenerateModel(None, None, config, contract, runner=runner)


def base_model(task: Task, *, shots: Sequence[dict[str, str]] = ()) -> GenerateModel:
    """The task's base model, prompted (zero-shot, or few-shot with `shots`), no fine-tuning."""
    name = base_name(task)
    lm, tokenizer, _ = load_base(name)
    config = GenerateConfig(
        base=name,
        system=task.generate.system,
        max_new_tokens=task.generate.max_new_tokens,
        fine_tuned=False,
        card_notes=base_card_notes(name),
    )
    contract = Contract(task.generate.contract.model_dump(), task.base_dir)
    return GenerateModel(lm, tokenizer, config, contract, shots=shots)


# ----------------------------------------------------------------------------- training


def resolve_options(task: Task) -> dict[str, Any]:
    """Training options: `generate:` values, overridden by `train:` keys the task sets."""
    spec, train_spec = task.generate, task.train
    given = train_spec.model_fields_set
    epochs = spec.epochs
    if "epochs" in given and train_spec.epochs != "auto":
        epochs = float(train_spec.epochs)
    return {
        "epochs": epochs,
        "batch_size": train_spec.batch_size if "batch_size" in given else spec.batch_size,
        "learning_rate": (
            train_spec.learning_rate if "learning_rate" in given else spec.learning_rate
        ),
        "warmup_ratio": train_spec.warmup_ratio,
        "weight_decay": train_spec.weight_decay if "weight_decay" in given else 0.0,
        "max_minutes": train_spec.max_minutes,
    }


def encode_examples(
    tokenizer: Any, examples: Sequence[Example], system: str, max_length: int, policy: str
) -> tuple[list[dict[str, list[int]]], int, int]:
    """Tokenized rows (`input_ids`, `assistant_masks`), and the truncated and dropped counts."""
    rows: list[dict[str, list[int]]] = []
    overlong: list[tuple[Example, int]] = []
    truncated = dropped = 0
    for ex in examples:
        messages = with_system(ex.target["messages"], system)
        ids, mask = encode_conversation(tokenizer, messages)
        if len(ids) > max_length:
            overlong.append((ex, len(ids)))
            if policy == "drop":
                dropped += 1
                continue
            if policy == "truncate":
                fitted = fit_to_length(ids, mask, max_length)
                if fitted is None:
                    dropped += 1
                    continue
                ids, mask = fitted
                truncated += 1
        rows.append({"input_ids": ids, "assistant_masks": mask})
    if overlong and policy == "error":
        shown = ", ".join(f"{ex.where} ({n} tokens)" for ex, n in overlong[:5])
        raise GenerateError(
            f"{len(overlong)} example(s) are longer than generate.max_length={max_length} "
            f"tokens: {shown}. Raise generate.max_length, shorten them, or set "
            "generate.overlong to 'truncate' or 'drop'."
        )
    return rows, truncated, dropped


def lora_targets(lm: Any, targets: str | list[str]) -> list[str]:
    """Module names the adapter attaches to; errors name the linear layers there are."""
    wanted = LORA_TARGETS[targets] if isinstance(targets, str) else list(targets)
    linear = {n.rsplit(".", 1)[-1] for n, m in lm.named_modules() if isinstance(m, torch.nn.Linear)}
    present = [t for t in wanted if t in linear]
    if not present:
        raise GenerateError(
            f"generate.lora.targets {wanted} match no linear layer of the base model; "
            f"its linear layers are: {', '.join(sorted(linear))}"
        )
    return present


def _callbacks(progress: ProgressFn | None, max_minutes: float | None) -> list[Any]:
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):  # type: ignore[misc]
        deadline: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # the time limit covers training steps, not the validation loss measured before
            if max_minutes:
                self.deadline = time.monotonic() + 60 * max_minutes

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if progress:
                progress("fine-tune", state.global_step, state.max_steps)
            out_of_time = bool(self.deadline and time.monotonic() > self.deadline)
            if out_of_time:
                control.should_training_stop = True
            if out_of_time or state.global_step >= state.max_steps:
                # measure and keep the last step too, so the best checkpoint can be the last one
                control.should_evaluate = True
                control.should_save = True

    return [_Progress()]


def train(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> GenerateModel:
    """Fine-tune a LoRA adapter on the task's prompt → reply examples (see the module docstring)."""
    from datasets import Dataset, disable_progress_bars
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from transformers import EarlyStoppingCallback, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    disable_progress_bars()  # narrowtune reports progress itself

    spec = task.generate
    contract = Contract(spec.contract.model_dump(), task.base_dir)
    if not train:
        raise GenerateError("no training examples")
    if not validation:
        raise GenerateError("no validation examples: early stopping needs a validation split")
    if spec.qlora:
        check_qlora()
    seed_everything(task.seed)
    name = base_name(task)
    lm, tokenizer, _ = load_base(name, quantize_4bit=spec.qlora)
    device = next(lm.parameters()).device
    options = resolve_options(task)
    rows, truncated, dropped = encode_examples(
        tokenizer, train, spec.system, spec.max_length, spec.overlong
    )
    held_out = validation[: spec.validation_limit] if spec.validation_limit else validation
    val_rows, _, _ = encode_examples(tokenizer, held_out, spec.system, spec.max_length, "truncate")
    if not rows:
        raise GenerateError("every training example was dropped as too long (generate.overlong)")

    targets = lora_targets(lm, spec.lora.targets)
    peft_config = LoraConfig(
        r=spec.lora.r,
        lora_alpha=spec.lora.alpha,
        lora_dropout=spec.lora.dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    batch_size = options["batch_size"]
    steps_per_epoch = math.ceil(len(rows) / batch_size)
    total_steps = spec.max_steps or max(1, math.ceil(steps_per_epoch * options["epochs"]))
    eval_every = spec.eval_every or max(1, math.ceil(total_steps / 5))
    callbacks = _callbacks(progress, options["max_minutes"])
    if spec.early_stopping_patience:
        callbacks.append(
            EarlyStoppingCallback(early_stopping_patience=spec.early_stopping_patience)
        )
    with tempfile.TemporaryDirectory(prefix="narrowtune-sft-") as scratch:
        args = SFTConfig(
            output_dir=scratch,
            max_steps=total_steps,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size,
            learning_rate=options["learning_rate"],
            warmup_steps=options["warmup_ratio"],  # a float below 1 is a fraction of the run
            weight_decay=options["weight_decay"],
            lr_scheduler_type="linear",
            logging_steps=max(1, eval_every // 2),
            eval_strategy="steps",
            eval_steps=eval_every,
            save_strategy="steps",
            save_steps=eval_every,
            save_total_limit=2,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
            report_to="none",
            seed=task.seed,
            data_seed=task.seed,
            use_cpu=device.type == "cpu",
            bf16=device.type == "cuda" and pick_device()[1] == torch.bfloat16,
            packing=spec.packing,
            max_length=spec.max_length,
            disable_tqdm=True,
            dataloader_num_workers=0,
            save_only_model=True,
            # TRL turns this on by default; a 270M model fits without it, and recomputing the
            # activations costs about a third more time per step.
            activation_checkpointing=False,
        )
        trainer = SFTTrainer(
            model=lm,
            args=args,
            train_dataset=Dataset.from_list(rows),
            eval_dataset=Dataset.from_list(val_rows),
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
        )
        trainer.remove_callback(PrinterCallback)  # progress goes through `progress` instead
        before = float(trainer.evaluate()["eval_loss"])
        began = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - began
        # The best checkpoint is loaded at the end; its loss was measured when it was saved.
        best = trainer.state.best_metric
        after = float(best) if best is not None else float(trainer.evaluate()["eval_loss"])
        history = [
            {k: float(v) for k, v in entry.items() if isinstance(v, int | float)}
            for entry in trainer.state.log_history
            if "loss" in entry or "eval_loss" in entry
        ]
        steps = int(trainer.state.global_step)
        peft_model = trainer.model
    tokens = int(sum(len(r["input_ids"]) for r in rows) * steps / max(steps_per_epoch, 1))
    state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()}
    adapter_config = json.loads(
        json.dumps(peft_model.peft_config["default"].to_dict(), default=list)
    )
    if spec.qlora:
        # merging into 4-bit weights would round the adapter away: merge into the full base
        del peft_model, trainer, lm
        torch.cuda.empty_cache()
        merged = merge_into_base(name, state, adapter_config)
    else:
        merged = peft_model.merge_and_unload()
    config = GenerateConfig(
        base=name if is_bundled(name) else str(Path(name).expanduser().resolve()),
        system=spec.system,
        max_new_tokens=spec.max_new_tokens,
        max_length=spec.max_length,
        lora=spec.lora.model_dump(),
        epochs=round(steps / steps_per_epoch, 3),
        steps=steps,
        learning_rate=options["learning_rate"],
        batch_size=batch_size,
        packing=spec.packing,
        qlora=spec.qlora,
        train_examples=len(rows),
        truncated_examples=truncated,
        dropped_examples=dropped,
        validation_loss_before=round(before, 5),
        validation_loss_after=round(after, 5),
        train_tokens=tokens,
        train_tokens_per_s=round(tokens / train_seconds, 1) if train_seconds > 0 else None,
        device=str(device),
        history=history,
        card_notes=[
            *base_card_notes(name),
            f"Validation loss {before:.3f} before fine-tuning, {after:.3f} after "
            f"({steps} steps; best checkpoint kept).",
        ],
    )
    return GenerateModel(merged, tokenizer, config, contract, adapter=(state, adapter_config))


def evaluate(
    task: Task,
    model: GenerateModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Fine-tuned vs the base model prompted zero- and few-shot on the same held-out prompts
    (see `narrowtune.generate.evaluation`)."""
    from narrowtune.generate.evaluation import evaluate as run

    return run(
        task,
        model,
        splits,
        baselines=baselines,
        latency=latency,
        train_seconds=train_seconds,
        progress=progress,
    )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
