"""Generation from a GGUF file with llama.cpp (the optional `llama-cpp-python` package).

`narrowtune export` writes `model.gguf`; this runs it on the CPU with llama.cpp, using the same
chat template, the same token ids and the same stops as the transformers path (see
`narrowtune.kinds.lm.template`): the prompt is tokenized segment by segment, template
markup with its special tokens, message text with special tokens split, so a literal
"<end_of_turn>" in a ticket cannot end a turn here either. Decoding is narrowtune's own loop
over llama.cpp's logits (greedy, or seeded nucleus sampling for contract retries, with banned
phrases), so confidence and the contract retries work as they do on transformers.

llama-cpp-python ships as source only on PyPI; `pip install "narrowtune[llamacpp]"` compiles
llama.cpp (several minutes on 2 cores). Build once into a wheel to reuse it:
`pip wheel llama-cpp-python==0.3.36 -w ~/wheels` then `pip install --find-links ~/wheels ...`.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.lm.grammar import GrammarMatcher
from narrowtune.kinds.lm.template import STOP_STRINGS, cut_at_stop, segments

INSTALL_HINT = (
    'llama.cpp inference needs llama-cpp-python: pip install "narrowtune[llamacpp]" '
    "(it compiles llama.cpp from source, several minutes)"
)


@dataclass(frozen=True)
class GgufOutput:
    text: str
    tokens: int  # generated tokens, the stop token excluded
    finish: str  # "stop" (end of turn) or "length" (max_new_tokens reached)
    seconds: float


_LOG_CALLBACK: Any = None  # kept referenced: llama.cpp calls it from C
GGML_LOG_ERROR = 4  # ggml's log levels: none 0, debug 1, info 2, warn 3, error 4, cont 5


def check_installed() -> None:
    """Import llama-cpp-python (or say how to install it) and pass on only llama.cpp's errors
    to stderr: its own filter uses an older level table and prints warnings meant for
    developers (e.g. about its sliding-window cache) on every load."""
    global _LOG_CALLBACK
    try:
        import llama_cpp
    except ImportError:
        raise NarrowtuneError(INSTALL_HINT) from None
    if _LOG_CALLBACK is None:

        @llama_cpp.llama_log_callback  # type: ignore[misc]
        def errors_only(level: int, text: bytes, user_data: Any) -> None:
            if level == GGML_LOG_ERROR:
                sys.stderr.write(text.decode("utf-8", errors="replace"))

        _LOG_CALLBACK = errors_only
        llama_cpp.llama_log_set(errors_only, ctypes.c_void_p(0))


class GgufGenerator:
    """Generation from a GGUF chat model with llama.cpp, in narrowtune's chat template."""

    def __init__(
        self,
        gguf: Path | str,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        system: str = "",
    ) -> None:
        check_installed()
        from llama_cpp import Llama

        path = Path(gguf)
        if not path.is_file():
            raise NarrowtuneError(f"{path}: no GGUF file there (narrowtune export writes one)")
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                verbose=False,
            )
        except ValueError as exc:
            raise NarrowtuneError(f"{path}: llama.cpp cannot load it: {exc}") from None
        self.system = system
        self.stops = {int(self.llm.token_eos())}
        for marker in STOP_STRINGS:
            ids = self.llm.tokenize(marker.encode(), add_bos=False, special=True)
            if len(ids) == 1:  # a single control token in this vocabulary
                self.stops.add(int(ids[0]))

    def prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """Token ids of the templated conversation, ending with an open model turn."""
        if self.system and not any(m["role"] == "system" for m in messages):
            messages = [{"role": "system", "content": self.system}, *messages]
        ids = [int(self.llm.token_bos())]
        for seg in segments(messages, add_generation_prompt=True):
            ids += self.llm.tokenize(seg.text.encode("utf-8"), add_bos=False, special=seg.markup)
        return ids

    def generate(self, messages: Sequence[dict[str, str]], max_new_tokens: int) -> GgufOutput:
        """Greedy reply to one conversation, timed."""
        began = time.perf_counter()
        text, _, _, tokens, finish = self.complete(messages, max_new_tokens=max_new_tokens)
        return GgufOutput(text, tokens, finish, time.perf_counter() - began)

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int = 0,
        banned: Sequence[Sequence[int]] = (),
        grammar: GrammarMatcher | None = None,
        stop: Sequence[str] = (),
    ) -> tuple[str, float, int, int, str]:
        """(text, confidence, prompt tokens, completion tokens, finish) for one conversation, as
        `GenerateModel._generate` returns them: greedy, or sampled with `temperature` and
        nucleus `top_p`; `banned` token sequences never completed (as transformers'
        `bad_words_ids`); `grammar` allows only the tokens that keep the output inside it (see
        `narrowtune.kinds.lm.grammar`); confidence = exp(mean log-probability of the chosen
        tokens, the stop token included), from the raw logits."""
        prompt = self.prompt_ids(messages)
        if len(prompt) + max_new_tokens > self.llm.n_ctx():
            raise NarrowtuneError(
                f"prompt of {len(prompt)} tokens + {max_new_tokens} new tokens exceeds the "
                f"context of {self.llm.n_ctx()} tokens (n_ctx)"
            )
        rng = np.random.default_rng(seed)
        vocab = self.llm.n_vocab()
        history = list(prompt)
        out: list[int] = []
        logprobs: list[float] = []
        finish = "length"
        self.llm.reset()
        self.llm.eval(prompt)
        stops = [*STOP_STRINGS, *stop]
        for _ in range(max_new_tokens):
            # llama-cpp-python keeps no logits without logits_all (n_ctx x 262k floats for
            # Gemma): read the last position's straight from the context after each eval
            logits = np.ctypeslib.as_array(self.llm._ctx.get_logits_ith(-1), shape=(vocab,))
            logits = logits.astype(np.float64)
            shifted = logits - logits.max()
            log_z = np.log(np.exp(shifted).sum())
            allowed = shifted.copy()
            for seq in banned:
                if len(seq) == 1 or history[-(len(seq) - 1) :] == list(seq[:-1]):
                    allowed[seq[-1]] = -np.inf
            if grammar is not None and not grammar.failed:
                fits = grammar.allowed(vocab)
                allowed[~fits] = -np.inf
                if not np.isfinite(allowed).any():  # a ban took the grammar's only choices
                    allowed = np.where(fits, shifted, -np.inf)
            token = self._pick(allowed, temperature, top_p, rng)
            logprobs.append(float(shifted[token] - log_z))
            if token in self.stops:
                finish = "stop"
                break
            if grammar is not None:
                grammar.advance(token)
            out.append(token)
            history.append(token)
            if stop and cut_at_stop(self._text(out), stops)[1]:
                finish = "stop"
                break
            self.llm.eval([token])
        text, cut = cut_at_stop(self._text(out), stops)
        confidence = float(np.exp(np.mean(logprobs))) if logprobs else 0.0
        return text.strip(), confidence, len(prompt), len(out), "stop" if cut else finish

    @staticmethod
    def _pick(logits: np.ndarray, temperature: float, top_p: float, rng: Any) -> int:
        if temperature <= 0:
            return int(np.argmax(logits))
        scaled = logits / temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        order = np.argsort(-probs)
        keep = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        chosen = order[:keep]
        return int(rng.choice(chosen, p=probs[chosen] / probs[chosen].sum()))

    def _text(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="replace")

    def token_sequences(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, special tokens split (for banned phrases)."""
        return [
            ids
            for text in texts
            if (ids := self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        ]

    def close(self) -> None:
        """Free the model now (llama-cpp-python's own finaliser can fail at interpreter exit)."""
        self.llm.close()

    def __enter__(self) -> GgufGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
