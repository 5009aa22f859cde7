"""narrowtune: fine-tune a small model for one narrow job, and prove it beats the baselines.

The small public API::

    import narrowtune as nt
    task = nt.load_task("task.yaml", ["train.epochs=3"])
    report = nt.audit(task)                  # findings; train refuses blocking ones
    run_dir = nt.train(task)                 # runs/<task>/<run-id>/
    evaluation, _ = nt.evaluate(task)        # fine-tuned vs baselines, same split; report.html
    model = nt.load(run_dir)
    model.predict(["my swap failed"])        # [Prediction(label=..., confidence=..., abstain=...)]
"""

from narrowtune.api import audit, evaluate, load, predict_file, train
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Prediction
from narrowtune.task import Task, TaskError, load_task

__version__ = "0.1.0"

__all__ = [
    "NarrowtuneError",
    "Prediction",
    "Task",
    "TaskError",
    "audit",
    "evaluate",
    "load",
    "load_task",
    "predict_file",
    "train",
]
