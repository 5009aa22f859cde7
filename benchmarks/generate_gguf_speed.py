"""GGUF on llama.cpp vs transformers `generate`: CPU generation speed on the same prompts.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/generate_gguf_speed.py
    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/generate_gguf_speed.py \\
        --model /tmp/code-migration-model --task examples/code_migration/task.yaml --setting code

Without `--model`: the bundled Gemma 3 270M base, its own Q4_K_M GGUF on llama.cpp vs the same
weights dequantised to float32 in transformers. With `--model` (a folder written by
`GenerateModel.save`, e.g. `generate_code_migration.py --save-model DIR`): that fine-tuned model
exported with `narrowtune.kinds.generate.export` (adapter-changed tensors in float32, the rest
Q4_K_M) vs the merged model in transformers. Both decode greedily, one prompt at a time, on one
thread, with the same chat template and stops; the prompt token ids are checked to be identical.
Speed is generated tokens / wall seconds per prompt, prompt processing included, summed over
prompts. Needs llama-cpp-python (`pip install "narrowtune[llamacpp]"`, a source build).
Writes benchmarks/results/generate_gguf_speed_<setting>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lm_common import ROOT, provenance

RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a saved fine-tuned generate model folder")
    parser.add_argument(
        "--task",
        type=Path,
        default=ROOT / "examples/wallet_support/replies/task.yaml",
        help="task whose test prompts are used",
    )
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--setting", default="base")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from narrowtune.data import load_splits
    from narrowtune.kinds.generate.export import export
    from narrowtune.kinds.generate.llamacpp import GgufGenerator
    from narrowtune.kinds.generate.metrics import chrf
    from narrowtune.kinds.generate.model import base_model, encode_conversation, load
    from narrowtune.kinds.lm.base import gguf_file
    from narrowtune.task import load_task

    task = load_task(args.task)
    prompts = [ex.text for ex in load_splits(task).test[: args.prompts]]
    scratch = tempfile.TemporaryDirectory(prefix="narrowtune-gguf-")
    if args.model:
        model = load(args.model)
        gguf = Path(export(model, Path(scratch.name))["gguf"])
    else:
        model = base_model(task)
        gguf = gguf_file()
    runner = GgufGenerator(gguf, n_ctx=4096, n_threads=args.threads, system=model.config.system)

    rows = []
    for i, prompt in enumerate(prompts):
        messages = model.messages_for(prompt)
        same_ids = encode_conversation(model.tokenizer, messages, add_generation_prompt=True)[
            0
        ] == runner.prompt_ids(messages)
        began = time.perf_counter()
        text, _, _, hf_tokens, _ = model._generate([messages], max_new_tokens=args.max_new_tokens)[
            0
        ]
        hf_seconds = time.perf_counter() - began
        gguf_out = runner.generate(messages, args.max_new_tokens)
        rows.append(
            {
                "same_prompt_ids": same_ids,
                "hf_tokens": hf_tokens,
                "hf_seconds": hf_seconds,
                "gguf_tokens": gguf_out.tokens,
                "gguf_seconds": gguf_out.seconds,
                "same_text": text == gguf_out.text,
                "chrf": chrf(gguf_out.text, text),
            }
        )
        print(
            f"{i + 1}/{len(prompts)}: transformers {hf_tokens} tok {hf_seconds:.1f} s, "
            f"llama.cpp {gguf_out.tokens} tok {gguf_out.seconds:.1f} s",
            flush=True,
        )
    runner.close()
    scratch.cleanup()

    hf_rate = sum(r["hf_tokens"] for r in rows) / sum(r["hf_seconds"] for r in rows)
    gguf_rate = sum(r["gguf_tokens"] for r in rows) / sum(r["gguf_seconds"] for r in rows)
    result = {
        "model": str(args.model) if args.model else "gemma-3-270m (base)",
        "prompts": len(rows),
        "max_new_tokens": args.max_new_tokens,
        "threads": args.threads,
        "transformers_tokens_per_s": round(hf_rate, 2),
        "llamacpp_tokens_per_s": round(gguf_rate, 2),
        "llamacpp_speedup": round(gguf_rate / hf_rate, 2),
        "prompt_ids_identical": sum(r["same_prompt_ids"] for r in rows) / len(rows),
        "outputs_identical": sum(r["same_text"] for r in rows) / len(rows),
        "outputs_chrf_llamacpp_vs_transformers": round(sum(r["chrf"] for r in rows) / len(rows), 4),
        "transformers_dtype": "float32 (dequantised from the GGUF)",
        "gguf": "Q4_K_M" + (" + adapter-changed tensors in float32" if args.model else ""),
        **provenance(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"generate_gguf_speed_{args.setting}.json").write_text(
        json.dumps(result, indent=2) + "\n"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
