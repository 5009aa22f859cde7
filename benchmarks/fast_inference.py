"""Fast CPU inference for `classify`: plain torch vs length-sorted torch vs ONNX fp32 vs ONNX int8.

Reproduces benchmarks/results/fast_inference.json:

    python benchmarks/fast_inference.py                      # trains BANKING77 first (minutes)
    python benchmarks/fast_inference.py --run runs/b77       # reuse (or train into) a run folder

Recipe, top to bottom:
1. train a BANKING77 classifier with narrowtune's API (half an epoch: enough for the accuracy
   comparison; the speed comparison does not depend on how well it is trained), or load one;
2. build every runner: the baseline is what a plain transformers user writes (batches of
   `--batch-size` in the given order, each padded to its longest text, encoder + head in eager
   torch), then narrowtune's torch backend (batches of similar length), then the ONNX fp32 and
   int8 backends exactly as `load(run, backend=...)` builds them;
3. also build the alternatives that were not chosen (graphs fused by onnxruntime's transformer
   optimizer, other int8 settings), so the choices in `narrowtune.kinds.classify.onnx` stay
   backed by numbers;
4. time every runner on the first `--n` test texts, `--repeats` times, round-robin so a noisy
   neighbour on a shared machine slows all of them alike, and keep the median; tokenization is
   inside every timing; accuracy is reported on those texts and on the whole test split;
5. write flat keys to `--out` and print a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from narrowtune.data import load_examples
from narrowtune.evaluate import machine_description
from narrowtune.kinds.classify import model as classify
from narrowtune.kinds.classify.model import ClassifyModel
from narrowtune.kinds.classify.onnx import (
    OnnxRunner,
    attach_onnx,
    export_graph,
    quantize_file,
)
from narrowtune.kinds.classify.train import train as train_classifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "banking77"
DEFAULT_RUN = ROOT / "runs" / "benchmarks" / "banking77-fast-inference"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "fast_inference.json"
TARGET_SPEEDUP = 2.0
MAX_ACCURACY_LOSS_POINTS = 0.5

Runner = Callable[[list[str]], np.ndarray]


def train_run(run_dir: Path, data: Path) -> ClassifyModel:
    """Train BANKING77 for half an epoch and save it; the folder appears only when complete."""
    from narrowtune.data import load_splits
    from narrowtune.task import task_from_mapping

    task = task_from_mapping(
        {
            "name": "banking77",
            "data": {
                "train": str(data / "train.csv"),
                "test": str(data / "test.csv"),
                "label_column": "category",
            },
            "train": {"epochs": 0.5},
        }
    )
    splits = load_splits(task)
    started = time.perf_counter()
    model = train_classifier(task, splits.train, splits.validation)
    print(f"trained in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}-", dir=run_dir.parent))
    try:
        model.save(tmp)
        os.replace(tmp, run_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return model


def baseline_logits(model: ClassifyModel, texts: list[str], batch_size: int) -> np.ndarray:
    """What plain transformers code does: batches in the given order, padded to their longest."""
    encoder, head = model.encoder, model.head
    encoder.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = encoder.tokenizer(  # type: ignore[operator]
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=model.config.max_length,
                return_tensors="pt",
            )
            out.append(head(encoder(batch["input_ids"], batch["attention_mask"])).numpy())
    return np.concatenate(out).astype(np.float32)


def onnx_runner(model: ClassifyModel, path: Path) -> OnnxRunner:
    return OnnxRunner(
        path,
        model.encoder.tokenizer,
        max_length=model.config.max_length,
        n_labels=len(model.config.labels),
    )


def time_runners(
    runners: dict[str, Runner], texts: list[str], repeats: int
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Median seconds per pass over `texts` for each runner, and each runner's logits."""
    logits = {name: run(texts[:64]) for name, run in runners.items()}  # warm-up (lazy init)
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            started = time.perf_counter()
            logits[name] = run(texts)
            seconds[name].append(time.perf_counter() - started)
    return {name: statistics.median(s) for name, s in seconds.items()}, logits


def export_fused(model: ClassifyModel, path: Path) -> None:
    """The alternative not shipped: the export run through onnxruntime's BERT fusions."""
    from onnxruntime.transformers.optimizer import optimize_model

    transformer = model.encoder.transformer
    attention = transformer.config._attn_implementation
    # the optimizer recognises eager attention's MatMul-Softmax-MatMul, not the SDPA trace
    transformer.set_attn_implementation("eager")
    raw = path.with_name("raw-for-fusion.onnx")
    try:
        export_graph(model, raw)
    finally:
        transformer.set_attn_implementation(attention)
    config = transformer.config
    fused = optimize_model(
        str(raw),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=0,  # fusions only; the session applies its own level at start
    )
    fused.save_model_to_file(str(path))
    raw.unlink()


def build_variants(model: ClassifyModel, shipped: Path, scratch: Path) -> dict[str, Path]:
    """Graphs for the choices `classify_onnx` did not make, one setting changed at a time."""
    fused = scratch / "fused.onnx"
    export_fused(model, fused)
    variants = {"variant_fp32_fused": fused}
    int8_options: dict[str, dict[str, Any]] = {
        "variant_int8_fused": {"source": fused},
        "variant_int8_per_tensor": {"per_channel": False},
        "variant_int8_all_ops": {"op_types": None},
        "variant_int8_full_range": {"reduce_range": False},
    }
    for name, options in int8_options.items():
        source = options.pop("source", shipped)
        quantize_file(source, scratch / f"{name}.onnx", **options)
        variants[name] = scratch / f"{name}.onnx"
    return variants


def run_benchmark(
    run_dir: Path, *, n: int, batch_size: int, repeats: int, data: Path
) -> dict[str, object]:
    if (run_dir / classify.CONFIG_FILE).is_file():
        model = classify.load(run_dir)
    else:
        model = train_run(run_dir, data)
    test = load_examples(data / "test.csv", label_column="category")
    all_texts = [ex.text for ex in test]
    texts = all_texts[:n]
    gold = np.array([model.config.labels.index(ex.labels[0]) for ex in test])

    # The shipped backends, built exactly as `load(run, backend=...)` builds them.
    fp32_model = classify.load(run_dir)
    attach_onnx(fp32_model, run_dir, quantized=False)
    int8_model = classify.load(run_dir)
    attach_onnx(int8_model, run_dir, quantized=True)
    runners: dict[str, Runner] = {
        "baseline": lambda t: baseline_logits(model, t, batch_size),
        "torch_sorted": lambda t: model.logits(t, batch_size=batch_size),
        "onnx_fp32": lambda t: fp32_model.logits(t, batch_size=batch_size),
        "onnx_int8": lambda t: int8_model.logits(t, batch_size=batch_size),
    }
    scratch = Path(tempfile.mkdtemp(prefix=".fast-inference-", dir=run_dir))
    try:
        for name, path in build_variants(model, run_dir / "onnx" / "model.onnx", scratch).items():
            runner = onnx_runner(model, path)
            runners[name] = lambda t, r=runner: r.logits(t, batch_size=batch_size)
        seconds, logits = time_runners(runners, texts, repeats)
        # Accuracy also over the whole test split (the rest untimed): 1,024 texts resolve
        # only ~0.1-point steps, too coarse for choices worth a few tenths of a point.
        full = {
            name: np.concatenate([logits[name], run(all_texts[n:])])
            for name, run in runners.items()
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    result: dict[str, object] = {}
    base_rate = len(texts) / seconds["baseline"]
    reference = full["torch_sorted"].argmax(1)
    for name in runners:
        predicted = full[name].argmax(1)
        rate = len(texts) / seconds[name]
        result[f"{name}_sent_per_s"] = round(rate, 1)
        result[f"{name}_speedup"] = round(rate / base_rate, 2)
        result[f"{name}_accuracy"] = round(float((predicted[:n] == gold[:n]).mean()), 4)
        result[f"{name}_accuracy_full_test"] = round(float((predicted == gold).mean()), 4)
        agreement = float((predicted == reference).mean())
        result[f"{name}_agreement_with_torch_full_test"] = round(agreement, 4)
    result["torch_accuracy"] = result["torch_sorted_accuracy"]
    delta = 100 * (float(result["onnx_int8_accuracy"]) - float(result["torch_accuracy"]))
    result["accuracy_delta_points"] = round(delta, 2)
    delta_full = 100 * (
        float(result["onnx_int8_accuracy_full_test"])
        - float(result["torch_sorted_accuracy_full_test"])
    )
    result["accuracy_delta_points_full_test"] = round(delta_full, 2)
    result["onnx_fp32_max_abs_logit_diff"] = float(
        np.abs(full["onnx_fp32"] - full["torch_sorted"]).max()
    )
    result["target_met"] = bool(
        float(result["onnx_int8_speedup"]) >= TARGET_SPEEDUP
        and max(-delta, -delta_full) <= MAX_ACCURACY_LOSS_POINTS
    )
    result.update(
        n_texts=len(texts),
        n_test_full=len(all_texts),
        batch_size=batch_size,
        repeats=repeats,
        torch_threads=torch.get_num_threads(),
        mean_tokens=round(float(np.mean(model.encoder.token_lengths(texts))), 1),
        run=str(run_dir),
        data="BANKING77 test split: first n texts in file order timed; accuracy on both",
        timing="median of repeats, round-robin; each pass = tokenize + forward over n texts",
    )
    return result


def render(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    names = [k.removesuffix("_sent_per_s") for k in result if k.endswith("_sent_per_s")]
    table = Table(
        title=f"classify inference: {result['n_texts']} BANKING77 texts timed, batch "
        f"{result['batch_size']}; accuracy on first {result['n_texts']} / all "
        f"{result['n_test_full']} test texts\n{result['machine']}"
    )
    columns = (
        "runner",
        "sent/s",
        "× base",
        f"acc {result['n_texts']}",
        "acc all",
        "Δ all",
        "agree",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "runner" else "right", no_wrap=True)
    torch_full = result["torch_sorted_accuracy_full_test"]
    for name in names:
        # variants are measured, not shipped
        label = name.replace("variant_", "  alt: ") if name.startswith("variant_") else name
        full = result[f"{name}_accuracy_full_test"]
        table.add_row(
            label,
            f"{result[f'{name}_sent_per_s']:.1f}",
            f"{result[f'{name}_speedup']:.2f}",
            f"{100 * result[f'{name}_accuracy']:.2f}",
            f"{100 * full:.2f}",
            f"{100 * (full - torch_full):+.2f}",
            f"{100 * result[f'{name}_agreement_with_torch_full_test']:.1f}%",
        )
    console = Console(width=max(Console().width, 100))
    console.print(table)
    verdict = "met" if result["target_met"] else "NOT met"
    console.print(
        f"target (int8 ≥ {TARGET_SPEEDUP}× baseline, accuracy loss ≤ "
        f"{MAX_ACCURACY_LOSS_POINTS} pts): {verdict}"
    )


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--run",
        type=Path,
        default=DEFAULT_RUN,
        help="run folder (trained into when it holds no model)",
    )
    parser.add_argument("--n", type=int, default=1024, help="test texts to time")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes (median is kept)")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with train.csv, test.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    result = run_benchmark(
        args.run, n=args.n, batch_size=args.batch_size, repeats=args.repeats, data=args.data
    )
    result["command"] = " ".join(
        ["python", "benchmarks/fast_inference.py", *(argv or sys.argv[1:])]
    )
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = machine_description()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, args.out)
    render(result)
    return result


if __name__ == "__main__":
    main()
