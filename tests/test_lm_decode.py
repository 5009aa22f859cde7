"""The shared decode loop of the causal-LM kinds (`narrowtune.kinds.lm.decode`), on a random
tiny Llama: rows cut at the first stop token, scores that match the kept tokens, a seed that
makes sampling repeatable without touching torch's global generator."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_generate_tiny import build_tiny_lm, reply_rows

from narrowtune.kinds.lm.causal import encode_conversation, stop_token_ids
from narrowtune.kinds.lm.decode import decode_batch


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object, list[list[int]]]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = reply_rows(2)
    folder = build_tiny_lm(
        Path(tmp_path_factory.mktemp("lm")), [r["prompt"] + r["completion"] for r in rows]
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder).eval()
    prompts = [
        encode_conversation(
            tokenizer, [{"role": "user", "content": text}], add_generation_prompt=True
        )[0]
        for text in ("parcel 123 is late", "refund")
    ]
    return lm, tokenizer, prompts


def test_rows_keep_the_tokens_before_the_first_stop(tiny) -> None:
    lm, tokenizer, prompts = tiny
    assert len(prompts[0]) != len(prompts[1])  # the batch is really left-padded
    stops = stop_token_ids(tokenizer)
    greedy = {"max_new_tokens": 12, "do_sample": False, "temperature": None, "top_p": None}
    rows = decode_batch(lm, tokenizer, prompts, stops, torch.device("cpu"), options=greedy)
    assert [r.prompt_tokens for r in rows] == [len(p) for p in prompts]
    for row in rows:
        assert not set(row.kept) & set(stops)
        assert len(row.scored) == len(row.kept) + (1 if row.ended else 0)
        assert len(row.kept) <= 12
        assert 0.0 < row.confidence <= 1.0
    # with nothing counted as a stop, every row runs to max_new_tokens and keeps it all
    never = [tokenizer.pad_token_id]
    rows = decode_batch(
        lm, tokenizer, prompts, never, torch.device("cpu"), options={**greedy, "max_new_tokens": 5}
    )
    assert all(len(r.kept) == 5 and not r.ended for r in rows)


def test_a_seed_repeats_sampling_and_leaves_the_global_generator_alone(tiny) -> None:
    lm, tokenizer, prompts = tiny
    stops = stop_token_ids(tokenizer)
    sample = {"max_new_tokens": 10, "do_sample": True, "temperature": 1.0, "top_k": 0}

    def run(seed: int) -> list[list[int]]:
        rows = decode_batch(
            lm, tokenizer, prompts, stops, torch.device("cpu"), options=sample, seed=seed
        )
        return [r.kept for r in rows]

    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = run(7)
    assert torch.equal(torch.rand(3), expected_next)
    assert run(7) == first
    assert any(run(s) != first for s in (8, 9, 10))
