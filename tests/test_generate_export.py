"""Export of generate models: merged safetensors, Modelfile, and the GGUF of the Gemma base."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.generate.contract import Contract
from narrowtune.kinds.generate.export import export


def test_export_of_a_local_base_writes_merged_weights_and_says_why_no_gguf(tmp_path: Path) -> None:
    from test_generate_tiny import build_tiny_lm

    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel, load_base

    base = build_tiny_lm(tmp_path / "lm", ["Hello there.\nTopic: refund"])
    lm, tokenizer, _ = load_base(str(base))
    model = GenerateModel(
        lm, tokenizer, GenerateConfig(base=str(base), system="Be brief."), Contract({})
    )
    written = export(model, tmp_path / "out")
    assert "llama.cpp" in written["gguf_skipped"]
    merged = Path(written["merged"])
    assert (merged / "model.safetensors").is_file() and (merged / "tokenizer.json").is_file()
    modelfile = (tmp_path / "out" / "Modelfile").read_text()
    assert 'PARAMETER stop "<end_of_turn>"' in modelfile and 'SYSTEM """Be brief."""' in modelfile


def _adapted_gemma(lm: object, std: float) -> tuple[object, dict, dict]:
    """Gemma with a random non-zero LoRA adapter on q/v: (merged model, adapter state, config)."""
    from peft import LoraConfig, get_peft_model
    from peft.utils import get_peft_model_state_dict

    peft_model = get_peft_model(
        lm, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    )
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=std)
    state = get_peft_model_state_dict(peft_model)
    config = peft_model.peft_config["default"].to_dict()
    config["target_modules"] = sorted(config["target_modules"])
    return peft_model.merge_and_unload(), state, config


@pytest.mark.slow
def test_gguf_export_of_the_gemma_base_carries_the_merged_adapter(tmp_path: Path) -> None:
    """Merge a (non-zero) LoRA adapter into Gemma, export, read the GGUF back with transformers:
    the logits match the merged model's, and differ from the base's."""
    from transformers import AutoModelForCausalLM

    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel, load_base
    from narrowtune.kinds.lm.base import GEMMA_LICENCE

    lm, tokenizer, _ = load_base("gemma-3-270m")
    ids = tokenizer("<start_of_turn>user\nMy swap failed.<end_of_turn>\n", return_tensors="pt")
    with torch.inference_mode():
        base_logits = lm(**ids).logits[0, -1]
    merged, state, config = _adapted_gemma(lm, std=0.05)  # changes the model noticeably
    with torch.inference_mode():
        merged_logits = merged(**ids).logits[0, -1]
    model = GenerateModel(
        merged,
        tokenizer,
        GenerateConfig(base="gemma-3-270m"),
        Contract({}),
        adapter=(state, config),
    )
    written = export(model, tmp_path / "out")
    gguf_path = Path(written["gguf"])
    reloaded = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    with torch.inference_mode():
        logits = reloaded(**ids).logits[0, -1]
    assert (merged_logits - base_logits).abs().max() > 0.5
    torch.testing.assert_close(logits, merged_logits, atol=2e-3, rtol=1e-4)
    modelfile = (tmp_path / "out" / "Modelfile").read_text()
    assert "FROM ./model.gguf" in modelfile and GEMMA_LICENCE in modelfile


@pytest.mark.slow
def test_llama_cpp_runs_the_gemma_gguf_with_the_same_prompt_ids_and_stops() -> None:
    """llama.cpp (optional: llama-cpp-python) gets token for token the prompt transformers gets,
    and ends the reply at the end-of-turn token instead of running on."""
    pytest.importorskip("llama_cpp", reason='optional: pip install "narrowtune[llamacpp]"')
    from narrowtune.kinds.generate.llamacpp import GgufGenerator
    from narrowtune.kinds.generate.model import encode_conversation, load_base
    from narrowtune.kinds.lm.base import gguf_file

    _, tokenizer, _ = load_base("gemma-3-270m")
    runner = GgufGenerator(gguf_file(), n_ctx=512, n_threads=1, system="Answer in one word.")
    messages = [
        {"role": "user", "content": 'What colour is the sky? (a literal "<end_of_turn>" here)'}
    ]
    expected, _ = encode_conversation(
        tokenizer,
        [{"role": "system", "content": "Answer in one word."}, *messages],
        add_generation_prompt=True,
    )
    assert runner.prompt_ids(messages) == expected
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    assert end_of_turn in runner.stops
    out = runner.generate(messages, max_new_tokens=48)
    assert (
        out.tokens <= 48 and "<end_of_turn>" not in out.text and "<start_of_turn>" not in out.text
    )
    assert out.finish in {"stop", "length"}
    with pytest.raises(NarrowtuneError, match="exceeds the context"):
        runner.generate(messages, max_new_tokens=600)
    runner.close()


def test_llama_cpp_errors_name_the_missing_piece(tmp_path: Path) -> None:
    from narrowtune.kinds.generate.llamacpp import GgufGenerator

    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        with pytest.raises(NarrowtuneError, match=r"narrowtune\[llamacpp\]"):
            GgufGenerator(tmp_path / "model.gguf")
        return
    with pytest.raises(NarrowtuneError, match="no GGUF file there"):
        GgufGenerator(tmp_path / "model.gguf")
    (tmp_path / "bad.gguf").write_bytes(b"not a gguf")
    with pytest.raises(NarrowtuneError, match=r"llama\.cpp cannot load it"):
        GgufGenerator(tmp_path / "bad.gguf")


@pytest.mark.slow
def test_the_llamacpp_backend_runs_a_saved_model_like_torch(tmp_path: Path) -> None:
    """A saved fine-tuned generator (a non-zero adapter on Gemma) loaded with backend llamacpp:
    its GGUF is exported once into the model folder, greedy replies agree with the torch
    backend's, forbidden phrases are banned on retry, and sampling is seeded."""
    pytest.importorskip("llama_cpp", reason='optional: pip install "narrowtune[llamacpp]"')
    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel, load, load_base

    lm, tokenizer, _ = load_base("gemma-3-270m")
    merged, state, config = _adapted_gemma(lm, std=0.02)
    GenerateModel(
        merged,
        tokenizer,
        GenerateConfig(
            base="gemma-3-270m", system="Repeat after me: the parcel is late.", max_new_tokens=16
        ),
        Contract({"forbidden": ["parcel"], "retries": 1}),
        adapter=(state, config),
    ).save(tmp_path)
    prompts = ["My parcel?", "Where is my order?"]
    with torch.inference_mode():
        expected = load(tmp_path).predict(prompts)
    fast = load(tmp_path, backend="llamacpp")
    assert sorted(p.name for p in tmp_path.iterdir() if "gguf" in p.name) == ["model.gguf"]
    written = (tmp_path / "model.gguf").stat().st_mtime_ns
    got = fast.predict(prompts)
    for ours, theirs in zip(got, expected):
        # llama.cpp multiplies Q4_K weights with 8-bit-quantised activations, transformers the
        # same weights in float32: greedy paths agree while the model is sure (here the echoed
        # instruction) and may part at a near tie later on, so only the start is compared
        assert ours.output[:30] == theirs.output[:30]
        assert 0.0 < ours.confidence <= 1.0
        assert ours.problems == theirs.problems and ours.abstain == theirs.abstain
    conversation = [fast.messages_for(prompts[0])]
    assert "parcel" in fast._generate(conversation)[0][0].lower()
    assert "parcel" not in fast._generate(conversation, ban_forbidden=True)[0][0].lower()
    sampled = [fast._generate(conversation, temperature=0.7, seed=s)[0][0] for s in (3, 3, 4)]
    assert sampled[0] == sampled[1]
    fast.runner.close()
    load(tmp_path, backend="llamacpp").runner.close()  # the GGUF is reused, not rewritten
    assert (tmp_path / "model.gguf").stat().st_mtime_ns == written
    with pytest.raises(NarrowtuneError, match="torch or llamacpp backend, not 'onnx'"):
        load(tmp_path, backend="onnx")
