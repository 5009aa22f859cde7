"""Multi-process training of kind `classify`: torchrun launches N copies of its `train`.

Accelerate sees the torchrun environment (gloo on CPU, NCCL on GPUs) and wraps the model in
DistributedDataParallel; each process takes its share of the batches and gradients are averaged.
Process 0 saves the model, which the launching process loads back. The data travels to the
workers as JSONL in a private temporary folder.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from narrowtune.data import Example
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.classify.model import ClassifyModel, load
from narrowtune.kinds.training import check_processes
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.task import Task

PROGRESS_TAG = "NARROWTUNE_PROGRESS"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_examples(path: Path, examples: list[Example]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for ex in examples:
            handle.write(
                json.dumps(
                    {"text": ex.text, "labels": list(ex.labels), "source": ex.source, "row": ex.row}
                )
                + "\n"
            )


def read_examples(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as handle:
        return [
            Example(r["text"], tuple(r["labels"]), r["source"], r["row"])
            for r in map(json.loads, handle)
        ]


def train_distributed(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> ClassifyModel:
    """Train `task` in `task.train.processes` processes; returns the trained model.

    Refused at once (nothing launched) when some process would get no batch."""
    n = task.train.processes
    check_processes(len(train), task.train.batch_size, n)
    with tempfile.TemporaryDirectory(prefix="narrowtune-dist-") as tmp:
        folder = Path(tmp)
        spec = task.model_copy(deep=True)
        spec.train.processes = 1  # each worker trains as one process of the group
        spec.abstain.out_of_scope = None  # its file is read by the caller, after training
        (folder / "task.json").write_text(json.dumps(spec.resolved()))
        _write_examples(folder / "train.jsonl", train)
        _write_examples(folder / "validation.jsonl", validation)
        threads = max(1, (os.cpu_count() or 1) // n)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={n}",
            "--nnodes=1",
            "--master_addr=127.0.0.1",
            f"--master_port={_free_port()}",
            "-m",
            "narrowtune.kinds.classify.worker",
            str(folder),
        ]
        log = []
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(PROGRESS_TAG):
                    _, stage, done, total = line.split()
                    if progress:
                        progress(stage, int(done), int(total))
                else:
                    log.append(line)
        if proc.returncode != 0 or not (folder / "model").is_dir():
            tail = "".join(log[-25:])
            raise NarrowtuneError(
                f"multi-process training failed (exit {proc.returncode}):\n{tail}"
            )
        return load(folder / "model")
