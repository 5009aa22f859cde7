"""ONNX Runtime backends for `classify`: export once per run directory, then serve from ONNX.

`load(directory, backend="onnx" | "onnx-int8")` calls `attach_onnx`, which exports the whole
classifier (transformer + mean pooling + L2 normalisation + head) to one ONNX graph, optionally
quantizes its weights to int8, and attaches a runner that batches texts of similar token length.
Graph optimizations are left to the session (ORT_ENABLE_ALL). Files live in `<run>/onnx/`:

    model.onnx        fp32
    model.int8.onnx   dynamic int8 quantization of model.onnx (MatMul weights, per channel)
    source.json       hash of the weights and settings the graphs came from (stale -> re-export)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from narrowtune.backends import usable_cores
from narrowtune.encoders import length_batches
from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    from narrowtune.kinds.classify.model import ClassifyModel

ONNX_DIR = "onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
SOURCE_FILE = "source.json"
OPSET = 17  # first opset where LayerNormalization is one ONNX op, not a decomposed chain
INPUT_NAMES = ("input_ids", "attention_mask")
# MatMul carries nearly all of the encoder's compute. Also quantizing the embedding Gathers
# (all ops) shrinks the file but measured no faster and less accurate on BANKING77.
QUANTIZE_OPS = ("MatMul",)
# one weight scale per output column; one per matrix cost 0.7 accuracy points on BANKING77
# test (2.9 together with REDUCE_RANGE)
PER_CHANNEL = True
# 7-bit weights: no slower on this VNNI CPU, no less accurate on BANKING77, and they avoid
# int16 overflow in the AVX2/AVX512 (non-VNNI) kernels of a machine the run may be moved to.
REDUCE_RANGE = True


class OnnxError(NarrowtuneError):
    """An ONNX export or session that could not be built."""


class _Graph(nn.Module):
    """Encoder + head as one module with plain tensor inputs, so the export is one graph."""

    def __init__(self, model: ClassifyModel) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.head = model.head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(input_ids, attention_mask))


def _fingerprint(model: ClassifyModel) -> str:
    """Hash of the weights and export settings, so stale ONNX files are never served.

    A run directory can be saved over (retrained in place) after its graphs were exported;
    hashing the in-memory weights (~0.1 s for MiniLM) catches that where file mtimes would not.
    """
    settings = f"opset={OPSET};ops={QUANTIZE_OPS};pc={PER_CHANNEL};rr={REDUCE_RANGE}"
    digest = hashlib.sha256(settings.encode())
    for module in (model.encoder.transformer, model.head):
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _dummy_inputs(model: ClassifyModel) -> tuple[torch.Tensor, torch.Tensor]:
    # Two rows of different lengths: the trace must see a real padding mask, or a library
    # shortcut for "no padding" (mask dropped when all ones) could be baked into the graph.
    batch = model.encoder.tokenizer(  # type: ignore[operator]
        ["a short text", "a somewhat longer text so that the first row needs padding"],
        padding=True,
        truncation=True,
        max_length=model.config.max_length,
        return_tensors="pt",
    )
    return batch["input_ids"], batch["attention_mask"]


def export_onnx(model: ClassifyModel, directory: Path) -> Path:
    """Export `model` to `directory/onnx/model.onnx` (fp32); reuse it when current."""
    return _ensure(model, Path(directory), quantized=False)


def quantize(model: ClassifyModel, directory: Path) -> Path:
    """Write `directory/onnx/model.int8.onnx` (dynamic int8), exporting fp32 first if needed."""
    return _ensure(model, Path(directory), quantized=True)


def _ensure(model: ClassifyModel, directory: Path, *, quantized: bool) -> Path:
    """Path of the requested graph, building whatever is missing or stale."""
    final = directory / ONNX_DIR
    wanted = final / (INT8_FILE if quantized else FP32_FILE)
    fingerprint = _fingerprint(model)
    source = final / SOURCE_FILE
    current = source.is_file() and json.loads(source.read_text()).get("weights") == fingerprint
    if final.is_dir() and not current:
        shutil.rmtree(final)  # exported from other weights (or by an older version): rebuild
    if not wanted.is_file():
        _build(model, directory, quantized=quantized, fingerprint=fingerprint)
    return wanted


def _build(model: ClassifyModel, directory: Path, *, quantized: bool, fingerprint: str) -> None:
    """Write the missing ONNX files into a temp dir inside `directory`, then move them in.

    Nothing under `directory/onnx` is ever half-written: if the export or the quantization
    fails (or the process is killed), only the temp dir is left, and it is removed here or,
    after a kill, ignored (its name starts with a dot).
    """
    final = directory / ONNX_DIR
    directory.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=directory))
    try:
        fp32 = final / FP32_FILE
        if not fp32.is_file():
            export_graph(model, tmp / FP32_FILE)
            fp32 = tmp / FP32_FILE
        if quantized:
            quantize_file(fp32, tmp / INT8_FILE)
        (tmp / SOURCE_FILE).write_text(json.dumps({"weights": fingerprint}, indent=2))
        try:
            os.replace(tmp, final)  # one rename: the folder appears complete or not at all
        except OSError:  # it exists (int8 added next to fp32, or a concurrent export)
            for item in tmp.iterdir():
                os.replace(item, final / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_graph(model: ClassifyModel, path: Path) -> None:
    """torch -> ONNX with the TorchScript exporter; dynamic batch and sequence axes.

    The graph is saved as exported. onnxruntime's transformer optimizer (BERT fusions:
    Attention, EmbedLayerNormalization, SkipLayerNormalization) was measured and not kept:
    fp32 ran no faster than this graph with the session's ORT_ENABLE_ALL, and int8 ran ~20%
    slower, because MatMul-only quantization leaves the fused Attention's projections in fp32
    (benchmarks/fast_inference.py, `variant_*_fused`).
    """
    graph = _Graph(model).eval()
    try:
        # inference_mode tensors cannot be traced; a caller may hold it (predict paths do)
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation chatter, not actionable
            torch.onnx.export(
                graph,
                _dummy_inputs(model),
                str(path),
                input_names=list(INPUT_NAMES),
                output_names=["logits"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "logits": {0: "batch"},
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:
        raise OnnxError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc


def quantize_file(
    source: Path,
    target: Path,
    *,
    op_types: Sequence[str] | None = QUANTIZE_OPS,
    per_channel: bool = PER_CHANNEL,
    reduce_range: bool = REDUCE_RANGE,
) -> None:
    """Dynamic int8 quantization: int8 weights, activations quantized per batch at run time.

    Defaults chosen by accuracy and speed on BANKING77 (benchmarks/fast_inference.py,
    `variant_int8_*`).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic logs a root-logger WARNING advising pre-processing; that advice is for
    # static (calibrated) quantization, so keep it off the user's console.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(source),
            str(target),
            op_types_to_quantize=list(op_types) if op_types else None,
            per_channel=per_channel,
            reduce_range=reduce_range,
            weight_type=QuantType.QInt8,
            # Shape inference cannot type the outputs of contrib ops (a graph fused by
            # onnxruntime's transformer optimizer); every activation here is float32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def _threads() -> int:
    # $NARROWTUNE_THREADS when set (`serve --workers N` shares the cores out between its
    # workers), else the CPUs this process may use: a container pinned to 2 of 64 cores would
    # otherwise start 64 spinning ORT threads on them.
    given = os.environ.get("NARROWTUNE_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return usable_cores()


class OnnxRunner:
    """An onnxruntime session plus the tokenizer; `logits` matches `ClassifyModel.logits`."""

    def __init__(self, path: Path, tokenizer: Any, *, max_length: int, n_labels: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1  # one linear graph: no parallel branches to run
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise OnnxError(f"could not open {path} with onnxruntime: {exc}") from exc
        self.path = path
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.n_labels = n_labels
        self.pad_id = int(getattr(tokenizer, "pad_token_id", None) or 0)
        # A fused graph may declare int32 ids (EmbedLayerNormalization); feed what it declares.
        self.dtypes = {
            i.name: np.int32 if i.type == "tensor(int32)" else np.int64
            for i in self.session.get_inputs()
        }

    def logits(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Float32 logits, one row per text, in the order given.

        With the int8 graph a row can move slightly with its batch-mates: dynamic quantization
        picks one activation scale per batch (measured: ~1% of BANKING77 argmaxes differ from
        torch, and accuracy moves by a tenth of a point between batchings).
        """
        texts = list(texts)
        out = np.zeros((len(texts), self.n_labels), dtype=np.float32)
        if not texts:
            return out
        # Tokenize once without padding; sort by token count and cut batches where padding
        # would cost more than a little (`length_batches`): batches in arrival order pad short
        # texts to the longest of 64, which cost 2-4x the compute on the demo's tickets.
        ids: list[list[int]] = self.tokenizer(  # type: ignore[operator]
            texts, truncation=True, max_length=self.max_length
        )["input_ids"]
        for idx in length_batches([len(x) for x in ids], max_batch=batch_size):
            rows = [ids[i] for i in idx]
            width = max(len(r) for r in rows)
            input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, seq in enumerate(rows):
                input_ids[r, : len(seq)] = seq
                mask[r, : len(seq)] = 1
            feed = {
                "input_ids": input_ids.astype(self.dtypes["input_ids"], copy=False),
                "attention_mask": mask.astype(self.dtypes["attention_mask"], copy=False),
            }
            out[idx] = self.session.run(["logits"], feed)[0]
        return out


def attach_onnx(model: ClassifyModel, directory: Path | str, *, quantized: bool) -> None:
    """Export (when missing) and attach an ONNX Runtime runner as `model._runner`."""
    directory = Path(directory)
    path = quantize(model, directory) if quantized else export_onnx(model, directory)
    model._runner = OnnxRunner(
        path,
        model.encoder.tokenizer,
        max_length=model.config.max_length,
        n_labels=len(model.config.labels),
    )
