"""The fine-tuned generator of kind `generate`: a causal LM (LoRA adapter merged in) that drafts
replies and checks every one against the task's output contract.

An output that fails the contract is generated again (see `GenerateModel.generate_checked`); one
that still fails comes back with `valid: false`, its problems, and `abstain: true`.
`confidence` is the geometric mean of the probabilities the model gave the tokens it generated
(exp of the mean token log-probability), end-of-turn included. With backend "llamacpp" the same
model runs from a GGUF on llama.cpp. How it is trained: `narrowtune.kinds.generate.train`.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from narrowtune.atomic import replacing
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Generation, Prediction
from narrowtune.kinds.generate.contract import Contract
from narrowtune.kinds.lm.base import base_name, is_bundled
from narrowtune.kinds.lm.causal import (
    LMError,
    base_card_notes,
    encode_conversation,
    grammar_tokenizer,
    load_adapted,
    load_base,
    save_adapter,
    stop_token_ids,
)
from narrowtune.kinds.lm.decode import decode_batch
from narrowtune.kinds.lm.grammar import GrammarMatcher
from narrowtune.kinds.lm.template import STOP_STRINGS, cut_at_stop, with_system

if TYPE_CHECKING:
    from narrowtune.kinds.generate.llamacpp import GgufGenerator
    from narrowtune.task import Task

CONFIG_FILE = "generate.json"
CHECKER_FILE = "checker.py"
RETRY_TEMPERATURE = 0.7
RETRY_TOP_P = 0.95
BACKENDS = ("torch", "llamacpp")
GGUF_FILE = "model.gguf"  # written beside the adapter on the first llamacpp load
GGUF_CONTEXT = 4096  # llama.cpp context (prompt + reply tokens) of the llamacpp backend
CONFIDENCE_NOTE = "geometric mean probability of the generated tokens (end-of-turn included)"


# Training data or options the generate kind cannot use (the causal-LM kinds' shared error).
GenerateError = LMError


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
        options: dict[str, Any] = {"max_new_tokens": max_new_tokens or self.config.max_new_tokens}
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature, top_p=RETRY_TOP_P, top_k=0)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if ban_forbidden and self._banned:
            options["bad_words_ids"] = self._banned
        if stop:
            options.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        rows = decode_batch(
            self.lm,
            self.tokenizer,
            prompts,
            self._stop_ids,
            self.device,
            options=options,
            matchers=self._matchers(len(prompts)) if constrained else None,
            seed=seed,
        )
        results = []
        for row in rows:
            text = self.tokenizer.decode(row.kept, skip_special_tokens=True)
            text, cut = cut_at_stop(text, [*STOP_STRINGS, *stop])
            finish = "stop" if row.ended or cut else "length"
            results.append((text.strip(), row.confidence, row.prompt_tokens, len(row.kept), finish))
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
            from narrowtune.kinds.lm.grammar import llamacpp_tokenizer

            if self.runner is not None:
                self._grammar_tokenizer = llamacpp_tokenizer(
                    self.runner.llm, sorted(self.runner.stops)
                )
            else:
                self._grammar_tokenizer = grammar_tokenizer(self.lm, self.tokenizer)
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
        from narrowtune.kinds.generate.data import normalise_messages

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
            save_adapter(directory, self.adapter)
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))


# ----------------------------------------------------------------------------- loading


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
    lm, tokenizer, adapter = load_adapted(directory, config.base)
    return GenerateModel(lm, tokenizer, config, contract, adapter=adapter)


def load_gguf(directory: Path, config: GenerateConfig, contract: Contract) -> GenerateModel:
    """The saved generator on llama.cpp. Its GGUF (`model.gguf` beside the adapter) is exported
    on first use, written to a temporary name and renamed, so a crash leaves no partial file."""
    from narrowtune.kinds.generate.export import write_gguf
    from narrowtune.kinds.generate.llamacpp import GgufGenerator, check_installed

    check_installed()
    gguf = directory / GGUF_FILE
    if not gguf.is_file():
        if not is_bundled(config.base):
            raise NarrowtuneError(
                f"backend llamacpp needs {gguf}: narrowtune writes GGUFs for the bundled base "
                "only; convert `narrowtune export` merged/ with llama.cpp's "
                f"convert_hf_to_gguf.py and save it as {gguf}"
            )
        with replacing(gguf) as partial:
            write_gguf(load(directory), partial)
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
