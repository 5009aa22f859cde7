"""Export a fine-tuned generator: merged safetensors, a GGUF for llama.cpp, an Ollama Modelfile.

- `merged/`: the base model with the LoRA adapter merged in, as a plain Hugging Face folder
  (safetensors + tokenizer), loadable anywhere transformers runs.
- `model.gguf` (bundled Gemma 3 270M base only): the base model's own GGUF (Q4_K_M) with every
  tensor the adapter changed replaced by its merged float32 value. No conversion of the rest is
  needed, so no llama.cpp converter is involved; the metadata, tokenizer and untouched weights
  are copied byte for byte. For other bases there is no pip-installable HF -> GGUF converter
  (llama.cpp's `convert_hf_to_gguf.py` ships with llama.cpp's sources, not with the `gguf`
  package): convert `merged/` with it.
- `Modelfile`: for `ollama create <name> -f Modelfile`, with narrowtune's chat template, the
  `<end_of_turn>` stop, the task's system instruction and greedy decoding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.atomic import replacing
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.lm.base import GEMMA_LICENCE, gguf_file, is_bundled
from narrowtune.kinds.lm.template import END, OLLAMA_TEMPLATE, START

if TYPE_CHECKING:
    from narrowtune.kinds.generate.model import GenerateModel


def changed_weights(model: GenerateModel) -> dict[str, Any]:
    """HF names and merged values of the weights the LoRA adapter changed."""
    if model.adapter is None:
        return {}
    _, adapter_config = model.adapter
    targets = set(adapter_config.get("target_modules") or [])
    state = model.lm.state_dict()
    return {
        name: tensor
        for name, tensor in state.items()
        if name.endswith(".weight") and name.rsplit(".", 2)[-2] in targets
    }


def write_gguf(model: GenerateModel, path: Path) -> Path:
    """The bundled base GGUF with the adapter-changed tensors replaced (see module docstring)."""
    import gguf
    import numpy as np

    if not is_bundled(model.config.base):
        raise NarrowtuneError(
            f"GGUF export needs the bundled base (gemma-3-270m), not {model.config.base}; "
            "convert the merged/ folder with llama.cpp's convert_hf_to_gguf.py"
        )
    reader = gguf.GGUFReader(gguf_file())
    arch = str(reader.fields[gguf.Keys.General.ARCHITECTURE].contents())
    blocks = int(reader.fields[f"{arch}.block_count"].contents())
    arch_id = {name: key for key, name in gguf.MODEL_ARCH_NAMES.items()}[arch]
    names = gguf.get_tensor_name_map(arch_id, blocks)
    replaced: dict[str, np.ndarray] = {}
    for hf_name, tensor in changed_weights(model).items():
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight",))
        if gguf_name is None:
            raise NarrowtuneError(f"GGUF export: no GGUF name for weight {hf_name}")
        replaced[gguf_name] = tensor.detach().float().cpu().numpy()
    known = {t.name for t in reader.tensors}
    missing = sorted(set(replaced) - known)
    if missing:
        raise NarrowtuneError(f"GGUF export: {missing[0]} is not a tensor of the base GGUF")

    with replacing(path) as tmp:
        writer = gguf.GGUFWriter(tmp, arch=arch, endianess=reader.endianess)
        for field in reader.fields.values():
            if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                continue  # written by GGUFWriter itself
            kind = field.types[0]
            sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
        writer.add_key_value("narrowtune.adapter_merged", True, gguf.GGUFValueType.BOOL)
        for tensor in reader.tensors:
            if tensor.name in replaced:
                value = replaced[tensor.name]
                writer.add_tensor_info(
                    tensor.name,
                    value.shape,
                    value.dtype,
                    value.nbytes,
                    gguf.GGMLQuantizationType.F32,
                )
            else:
                writer.add_tensor_info(
                    tensor.name,
                    tensor.data.shape,
                    tensor.data.dtype,
                    tensor.data.nbytes,
                    tensor.tensor_type,
                )
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor in reader.tensors:
            data = replaced.get(tensor.name, tensor.data)
            writer.write_tensor_data(data, tensor_endianess=reader.endianess)
        writer.close()
    return path


def modelfile(model: GenerateModel, weights: str) -> str:
    """An Ollama Modelfile for `weights` (a GGUF path relative to the Modelfile)."""
    lines = [
        f"# narrowtune generate model; base {model.config.base}",
        f"FROM {weights}",
        f'TEMPLATE """{OLLAMA_TEMPLATE}"""',
        f'PARAMETER stop "{END}"',
        f'PARAMETER stop "{START}"',
        "PARAMETER temperature 0",
        f"PARAMETER num_predict {model.config.max_new_tokens}",
    ]
    if model.config.system:
        lines.append(f'SYSTEM """{model.config.system}"""')
    if is_bundled(model.config.base):
        lines.append(f'LICENSE """{GEMMA_LICENCE}"""')
    return "\n".join(lines) + "\n"


def export(model: GenerateModel, out: Path | str, *, gguf: bool = True) -> dict[str, str]:
    """Write `merged/`, `model.gguf` (bundled base) and `Modelfile` into `out`; returns what was
    written, and why a GGUF was not, under `gguf_skipped`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    merged = out / "merged"
    model.lm.save_pretrained(merged)
    model.tokenizer.save_pretrained(merged)
    (merged / "narrowtune-generate.json").write_text(
        json.dumps(
            {"system": model.config.system, "template": "gemma turns", "stop": [END, START]},
            indent=2,
        )
    )
    written["merged"] = str(merged)
    if gguf and is_bundled(model.config.base):
        written["gguf"] = str(write_gguf(model, out / "model.gguf"))
        (out / "Modelfile").write_text(modelfile(model, "./model.gguf"))
        written["modelfile"] = str(out / "Modelfile")
    elif gguf:
        written["gguf_skipped"] = (
            "GGUF export covers the bundled Gemma base; convert merged/ with llama.cpp's "
            "convert_hf_to_gguf.py (not pip-installable) and point the Modelfile at it"
        )
        (out / "Modelfile").write_text(modelfile(model, "./model.gguf"))
        written["modelfile"] = str(out / "Modelfile")
    return written
