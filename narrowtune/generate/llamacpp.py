"""Generation from a GGUF file with llama.cpp (the optional `llama-cpp-python` package).

`narrowtune export` writes `model.gguf`; this runs it on the CPU with llama.cpp, using the same
chat template, the same token ids and the same stops as the transformers path (see
`narrowtune.generate.template`): the prompt is tokenized segment by segment, template markup with
its special tokens, message text with special tokens split, so a literal "<end_of_turn>" in a
ticket cannot end a turn here either. Decoding is greedy.

llama-cpp-python ships as source only on PyPI; `pip install "narrowtune[llamacpp]"` compiles
llama.cpp (several minutes on 2 cores). Build once into a wheel to reuse it:
`pip wheel llama-cpp-python==0.3.36 -w ~/wheels` then `pip install --find-links ~/wheels ...`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from narrowtune.errors import NarrowtuneError
from narrowtune.generate.template import STOP_STRINGS, cut_at_stop, segments

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


class GgufGenerator:
    """Greedy generation from a GGUF chat model with llama.cpp, in narrowtune's chat template."""

    def __init__(
        self,
        gguf: Path | str,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        system: str = "",
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise NarrowtuneError(INSTALL_HINT) from None
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
        prompt = self.prompt_ids(messages)
        if len(prompt) + max_new_tokens > self.llm.n_ctx():
            raise NarrowtuneError(
                f"prompt of {len(prompt)} tokens + {max_new_tokens} new tokens exceeds the "
                f"context of {self.llm.n_ctx()} tokens (n_ctx)"
            )
        began = time.perf_counter()
        out: list[int] = []
        finish = "length"
        self.llm.reset()
        for token in self.llm.generate(prompt, temp=0.0, top_k=1, reset=True):
            if int(token) in self.stops:
                finish = "stop"
                break
            out.append(int(token))
            if len(out) >= max_new_tokens:
                break
        text = self.llm.detokenize(out).decode("utf-8", errors="replace")
        # as in the transformers path: a turn marker written out as plain text also ends the reply
        text, cut = cut_at_stop(text, STOP_STRINGS)
        return GgufOutput(
            text.strip(), len(out), "stop" if cut else finish, time.perf_counter() - began
        )

    def close(self) -> None:
        """Free the model now (llama-cpp-python's own finaliser can fail at interpreter exit)."""
        self.llm.close()

    def __enter__(self) -> GgufGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
