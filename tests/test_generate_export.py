"""Export of generate models: merged safetensors, Modelfile, and the GGUF of the Gemma base."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from narrowtune.generate.contract import Contract
from narrowtune.generate.export import export


def test_export_of_a_local_base_writes_merged_weights_and_says_why_no_gguf(tmp_path: Path) -> None:
    from test_generate_tiny import build_tiny_lm

    from narrowtune.kinds.generate import GenerateConfig, GenerateModel, load_base

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


@pytest.mark.slow
def test_gguf_export_of_the_gemma_base_carries_the_merged_adapter(tmp_path: Path) -> None:
    """Merge a (non-zero) LoRA adapter into Gemma, export, read the GGUF back with transformers:
    the logits match the merged model's, and differ from the base's."""
    from peft import LoraConfig, get_peft_model
    from peft.utils import get_peft_model_state_dict
    from transformers import AutoModelForCausalLM

    from narrowtune.generate.base import GEMMA_LICENCE
    from narrowtune.kinds.generate import GenerateConfig, GenerateModel, load_base

    lm, tokenizer, _ = load_base("gemma-3-270m")
    ids = tokenizer("<start_of_turn>user\nMy swap failed.<end_of_turn>\n", return_tensors="pt")
    with torch.inference_mode():
        base_logits = lm(**ids).logits[0, -1]
    peft_model = get_peft_model(
        lm, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    )
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.05)  # an adapter that changes the model noticeably
    state = get_peft_model_state_dict(peft_model)
    config = peft_model.peft_config["default"].to_dict()
    config["target_modules"] = sorted(config["target_modules"])
    merged = peft_model.merge_and_unload()
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
