"""The batched decode loop the causal-LM kinds (`generate`, `tool_call`) share: left-pad the
templated prompts, run transformers' `generate` (optionally grammar-constrained and seeded),
score each chosen token, and cut each row at its first stop token. What each kind makes of the
rows (contract checks, tool-call confidences) stays in the kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from narrowtune.kinds.lm.causal import GrammarLogits
from narrowtune.kinds.lm.grammar import GrammarMatcher


@dataclass
class DecodedRow:
    """One generated reply: its prompt's length, the tokens kept (before the first stop
    token), whether a stop token ended it, and the log-probability of each scored token (the
    kept tokens, plus the stop token when there is one)."""

    prompt_tokens: int
    kept: list[int]
    ended: bool
    scored: torch.Tensor

    @property
    def confidence(self) -> float:
        """exp(mean log-probability) of the scored tokens (0 when nothing was generated)."""
        return float(torch.exp(self.scored.mean())) if self.scored.numel() else 0.0


def decode_batch(
    lm: Any,
    tokenizer: Any,
    prompts: Sequence[list[int]],
    stop_ids: list[int],
    device: Any,
    *,
    options: dict[str, Any],
    matchers: Sequence[GrammarMatcher] | None = None,
    seed: int | None = None,
) -> list[DecodedRow]:
    """Generate for `prompts` (token ids) as one left-padded batch.

    `options` are extra keyword arguments for `generate` (max_new_tokens, the sampling
    settings, bad words, stop strings); `matchers` (one per prompt) keep each row inside its
    grammar; `seed` seeds torch's generator for this call only (the global state is restored).
    """
    width = max(len(p) for p in prompts)
    pad_id = tokenizer.pad_token_id
    pad_id = int(pad_id if pad_id is not None else stop_ids[0])
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, ids in enumerate(prompts):
        input_ids[row, width - len(ids) :] = torch.tensor(ids)
        attention[row, width - len(ids) :] = 1
    settings: dict[str, Any] = {
        "eos_token_id": stop_ids,
        "pad_token_id": pad_id,
        "return_dict_in_generate": True,
        "output_logits": True,
        **options,
    }
    if matchers is not None:
        from transformers import LogitsProcessorList

        settings["logits_processor"] = LogitsProcessorList(
            [GrammarLogits(list(matchers), width, stop_ids)]
        )
    with torch.inference_mode(), torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        result = lm.generate(
            input_ids=input_ids.to(device), attention_mask=attention.to(device), **settings
        )
    generated = result.sequences[:, width:].cpu()
    # log-probability of each chosen token, step by step (never all steps x vocab at once)
    chosen = torch.stack(
        [
            step.float().log_softmax(-1).cpu().gather(-1, generated[:, i : i + 1]).squeeze(-1)
            for i, step in enumerate(result.logits)
        ],
        dim=1,
    )
    stop_set = set(stop_ids)
    rows = []
    for row, prompt in enumerate(prompts):
        tokens = generated[row].tolist()
        end = next((i for i, t in enumerate(tokens) if t in stop_set), None)
        kept = tokens if end is None else tokens[:end]
        scored = chosen[row, : len(tokens) if end is None else end + 1]
        rows.append(DecodedRow(len(prompt), kept, end is not None, scored))
    return rows
