"""Grammar-constrained decoding for the contracts a grammar can express: JSON Schema and regex.

llguidance (the constrained-decoding engine of llama.cpp, vLLM and SGLang) compiles the
contract's JSON Schema, or its whole-output regex, into a matcher over the model's tokens. At
each decoding step `GrammarMatcher.allowed` says which tokens can continue a valid output and
every other token's logit is set to -inf; the chosen token is fed back with `advance`. The
model still picks among the allowed tokens by its own scores, so the output is the model's, only
kept inside the grammar.

What a grammar does not cover is still checked afterwards: the JSON Schema is compiled leniently
(keywords llguidance does not implement, such as `format`, are left to the validator), and
sections, forbidden phrases, `max_chars` and the checker function are checked as for any output.
A schema or regex llguidance cannot compile (look-arounds, back-references, Python-only escapes)
leaves the contract unconstrained, checked and retried as before; `Contract.grammar_note` says
why. This module needs numpy and llguidance only; the transformers and llama.cpp hooks live with
their generation loops.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

MODES = ("retry", "always", "never")
# JSON as a model writes it: up to 16 spaces/newlines where JSON allows whitespace (room for an
# indented object), so a weak model cannot spin on whitespace and the output always ends.
JSON_OPTIONS = {
    "whitespace_flexible": True,
    "whitespace_pattern": r"[\x20\x0A]{0,16}",
    "lenient": True,
}


# Compact JSON (", " and ": " separators, no other whitespace): a weak model cannot spend its
# tokens on whitespace at all (kind tool_call's actions). The separators must be the ones the
# training targets are written with (`tool_call.format.render_action`); llguidance's own
# default is "," and ":".
COMPACT_JSON_OPTIONS = {
    "whitespace_flexible": False,
    "lenient": True,
    "item_separator": ", ",
    "key_separator": ": ",
}


def compile_grammar(
    schema: dict[str, Any] | None,
    regex: str | None,
    *,
    json_options: dict[str, Any] | None = None,
) -> tuple[str | None, str]:
    """(llguidance grammar, note) for a contract's JSON Schema or regex; (None, why) when neither
    is given or llguidance cannot compile it. A schema takes precedence over a regex.
    `json_options`: llguidance's JSON options (default `JSON_OPTIONS`)."""
    from llguidance import LLMatcher

    if schema is not None:
        what = "JSON Schema"
        try:
            grammar = LLMatcher.grammar_from_json_schema(
                json.dumps(schema), overrides=json_options or JSON_OPTIONS
            )
        except ValueError as exc:
            return None, f"the JSON Schema cannot be compiled to a grammar ({exc})"
    elif regex is not None:
        what = "regex"
        # the contract's regex is full-match with DOTALL; llguidance matches whole outputs
        grammar = LLMatcher.grammar_from_regex(f"(?s){regex}")
    else:
        return None, "the contract has no JSON Schema or regex to constrain decoding with"
    error = LLMatcher.validate_grammar(grammar)
    if error:
        return None, f"the {what} cannot be compiled to a grammar: {_reason(error)}"
    note = f"decoding can be constrained to the {what}"
    if schema is not None and regex is not None:
        note += " (the regex is checked after generation only)"
    return grammar, note


def _reason(error: str) -> str:
    """The telling line of an llguidance error (regex errors carry an 'error: ...' line)."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    told = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    return (told or lines or ["unknown error"])[0]


def hf_tokenizer(tokenizer: Any, end_ids: Sequence[int], n_vocab: int) -> Any:
    """llguidance's view of a Hugging Face fast tokenizer (about a second for a 262k vocab)."""
    import llguidance.hf

    return llguidance.hf.from_tokenizer(tokenizer, n_vocab=n_vocab, eos_token=list(end_ids))


def llamacpp_tokenizer(llm: Any, end_ids: Sequence[int]) -> Any:
    """llguidance's view of a llama-cpp-python model's vocabulary."""
    import llama_cpp
    import llguidance.llamacpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    return llguidance.llamacpp.lltokenizer_from_vocab(vocab, eos_token=list(end_ids))


class GrammarMatcher:
    """One output's position in the grammar: which tokens may come next, and the token taken."""

    def __init__(self, tokenizer: Any, grammar: str) -> None:
        from llguidance import LLMatcher

        self._matcher = LLMatcher(tokenizer, grammar, log_level=0)
        self._size = int(tokenizer.vocab_size)

    @property
    def failed(self) -> bool:
        """The matcher left the grammar (it was handed a token it did not allow): stop masking."""
        return bool(self._matcher.is_error())

    def allowed(self, width: int) -> np.ndarray:
        """Boolean mask over `width` logits: True where the token can continue a valid output
        (the end-of-reply tokens once the output is complete). Ids beyond the tokenizer's
        vocabulary are never allowed."""
        bits = np.frombuffer(self._matcher.compute_bitmask(), dtype=np.uint8)
        mask = np.unpackbits(bits, bitorder="little")[: self._size].astype(bool)
        if mask.size >= width:
            return mask[:width]
        return np.concatenate([mask, np.zeros(width - mask.size, dtype=bool)])

    def advance(self, token: int) -> None:
        """Take `token` (the matcher fails, see `failed`, when the grammar did not allow it)."""
        self._matcher.consume_token(int(token))
