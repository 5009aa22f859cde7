"""A tiny causal LM built from a config (no download) for the generate tests, and its data.

`build_tiny_lm` trains a byte-level BPE tokenizer on the given texts (with the chat template's
special tokens) and saves a randomly initialised 2-layer Llama next to it: a real model, small
enough that training it for a few dozen steps takes seconds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from narrowtune.kinds.lm.template import END, START

REPLY_TOPICS = {
    "refund": ["money back for order {n}", "refund the payment {n}", "refund invoice {n}"],
    "shipping": ["parcel {n} is late", "where is package {n}", "shipment {n} not here"],
    "login": ["cannot log in to {n}", "password reset fails for {n}", "account {n} locked"],
}


def reply_rows(per_topic: int, seed: int = 0) -> list[dict[str, str]]:
    """Prompt → reply pairs in a fixed, trivially learnable format (greeting, topic, sign-off)."""
    rng = random.Random(seed)
    rows = []
    for topic, templates in REPLY_TOPICS.items():
        for i in range(per_topic):
            prompt = templates[i % len(templates)].format(n=rng.randint(100, 999))
            rows.append(
                {"prompt": prompt, "completion": f"Hello.\nTopic: {topic}\nRegards, Support"}
            )
    rng.shuffle(rows)
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def build_tiny_lm(folder: Path, texts: list[str], *, seed: int = 0) -> Path:
    """Save a tokenizer trained on `texts` and a random tiny Llama into `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", START, END]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=[START, END],
    )
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def test_tiny_lm_builds_and_knows_the_turn_markers(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = reply_rows(2)
    folder = build_tiny_lm(tmp_path / "lm", [r["prompt"] + r["completion"] for r in rows])
    tokenizer = AutoTokenizer.from_pretrained(folder)
    vocab = tokenizer.get_vocab()
    assert START in vocab and END in vocab
    ids = tokenizer("Hello.\nTopic", add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == "Hello.\nTopic"
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.num_hidden_layers == 2
