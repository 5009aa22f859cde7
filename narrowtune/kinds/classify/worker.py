"""One process of a multi-process `classify` training, as torchrun starts it.

`python -m narrowtune.kinds.classify.worker FOLDER` reads the task and the examples that
`narrowtune.kinds.classify.distributed.train_distributed` wrote into FOLDER, trains as one
process of the group (Accelerate takes the rank from torchrun's environment), and process 0
saves the model into FOLDER/model.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from narrowtune.kinds.classify.distributed import PROGRESS_TAG, read_examples
from narrowtune.kinds.classify.train import train
from narrowtune.task import Task


def run(folder: Path) -> None:
    raw = json.loads((folder / "task.json").read_text())
    base_dir = raw.pop("base_dir", ".")
    task = Task.model_validate({**raw, "base_dir": base_dir})
    rank = int(os.environ.get("RANK", "0"))

    def report(stage: str, done: int, total: int) -> None:
        if rank == 0:
            print(f"{PROGRESS_TAG} {stage} {done} {total}", flush=True)

    model = train(
        task,
        read_examples(folder / "train.jsonl"),
        read_examples(folder / "validation.jsonl"),
        progress=report,
    )
    if rank == 0:
        model.save(folder / "model")


if __name__ == "__main__":
    run(Path(sys.argv[1]))
