"""The models a server answers with, by name, and their hot reload.

Each served model is addressed by its task name. One given as a task file (or a task's folder)
follows its task: when a newer run appears in `runs/<task>/`, `ModelRegistry.reload()` loads it
(outside every lock, while requests go on) and swaps it in with one reference assignment. A
request takes its `ServedModel` once, at its start, and uses that object to the end, so requests
in flight finish on the model they started with. A run directory given directly is pinned: it is
never replaced. A model object handed to `create_app` is pinned too; its name stands for its run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from narrowtune import api, runs
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import GenerativeModel, Model, Prediction
from narrowtune.task import load_task

log = logging.getLogger("narrowtune.serve")


class UnknownModel(NarrowtuneError):
    """No served model has that name (the API answers 404)."""


@dataclass(frozen=True)
class ServedModel:
    """One loaded model and where it came from; replaced whole on reload, never changed."""

    name: str
    kind: str
    run_id: str
    model: Model
    created: int  # Unix seconds: when the run was trained (or the object handed over)
    run_dir: Path | None = None
    # The task's runs folder when this model follows its task's newest run; None when pinned.
    follows: Path | None = None
    # Predictions are serialized per model: on a small CPU box torch already uses every core
    # for one batch, and Hugging Face fast tokenizers are not safe to call from two threads.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def labels(self) -> list[str]:
        return list(getattr(getattr(self.model, "config", None), "labels", None) or [])

    @property
    def multi_label(self) -> bool:
        return bool(getattr(getattr(self.model, "config", None), "multi_label", False))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The model's predictions, one call at a time (see `lock`)."""
        with self.lock:
            return self.model.predict(texts)

    @property
    def generative(self) -> bool:
        return isinstance(self.model, GenerativeModel)

    def describe(self) -> dict[str, Any]:
        """The model in OpenAI's list shape, plus narrowtune's own fields."""
        return {
            "id": self.name,
            "object": "model",
            "created": self.created,
            "owned_by": "narrowtune",
            "kind": self.kind,
            "run_id": self.run_id,
            "follows_newest_run": self.follows is not None,
        }


def _created(info: Mapping[str, Any], run_dir: Path) -> int:
    try:
        return int(datetime.fromisoformat(str(info["created"]).replace("Z", "+00:00")).timestamp())
    except (KeyError, ValueError):
        return int((run_dir / runs.RUN_FILE).stat().st_mtime)


def load_run(
    run_dir: Path, *, backend: str, follows: Path | None = None, name: str | None = None
) -> ServedModel:
    """Load the model of one run directory."""
    info = runs.read_json(run_dir / runs.RUN_FILE)
    model = api.load(run_dir, backend=backend)  # "onnx-int8": the fast CPU path
    return ServedModel(
        name=name or str(info.get("task") or run_dir.parent.name),
        kind=str(info.get("kind") or getattr(model, "kind", "unknown")),
        run_id=str(info.get("run_id") or run_dir.name),
        model=model,
        created=_created(info, run_dir),
        run_dir=run_dir,
        follows=follows,
    )


def load_target(target: Path | str, *, backend: str, run: str | None = None) -> ServedModel:
    """A run directory (pinned), or a task file / task folder (follows its newest run).

    `run` pins a task to one of its runs (an id or a path) instead.
    """
    path = Path(target)
    if runs.is_run_dir(path):
        if run is not None:
            raise NarrowtuneError(f"--run applies to a task file; {path} is already a run")
        return load_run(path, backend=backend)
    if path.is_file() or (path / "task.yaml").is_file():
        task = load_task(path)
        run_dir = runs.find_run(task.runs_path, run)
        follows = task.runs_path if run is None else None
        return load_run(run_dir, backend=backend, follows=follows, name=task.name)
    raise NarrowtuneError(
        f"{path} is neither a run directory (run.json + model/) nor a task file (task.yaml)"
    )


def wrap_model(name: str, model: Model) -> ServedModel:
    """A model object handed over already loaded: pinned, its name doubles as its run id."""
    if not name or len(name) > 200 or "\x00" in name:
        raise NarrowtuneError(f"a served model needs a name of 1 to 200 characters, not {name!r}")
    if not isinstance(model, Model):
        raise NarrowtuneError(
            f"model '{name}' is a {type(model).__name__}, not a narrowtune Model "
            "(it needs `kind`, `predict(texts)` and `save(dir)`)"
        )
    run_id = str(getattr(model, "run_id", None) or name)
    return ServedModel(
        name=name, kind=str(model.kind), run_id=run_id, model=model, created=int(time.time())
    )


class ModelRegistry:
    """The served models by name, in the order given (the first answers requests naming none)."""

    def __init__(self, served: Sequence[ServedModel], *, backend: str = "torch") -> None:
        if not served:
            raise NarrowtuneError("nothing to serve: give at least one task file or run directory")
        by_name: dict[str, ServedModel] = {}
        for model in served:
            if model.name in by_name:
                raise NarrowtuneError(
                    f"two models are named '{model.name}' ({by_name[model.name].run_id} and "
                    f"{model.run_id}); models are addressed by task name, so serve one per task"
                )
            by_name[model.name] = model
        self._served = by_name  # replaced whole (copy on write), never changed in place
        self._reload_lock = threading.Lock()
        self._failed: dict[str, Path] = {}  # a newer run that would not load: not retried
        self.backend = backend
        self.reloads = 0

    def names(self) -> list[str]:
        return list(self._served)

    def all(self) -> list[ServedModel]:
        return list(self._served.values())

    @property
    def default(self) -> ServedModel:
        return next(iter(self._served.values()))

    def get(self, name: str | None = None) -> ServedModel:
        """The model named `name`, or the first one when `name` is None."""
        served = self._served  # one read: a reload swapping the dict meanwhile is harmless
        if name is None:
            return next(iter(served.values()))
        try:
            return served[name]
        except KeyError:
            raise UnknownModel(
                f"no model named '{name}'; this server has: {', '.join(served)}"
            ) from None

    def find(self, name: str | None) -> ServedModel | None:
        """The model named `name` (a stored item's task); the only one when `name` is None."""
        served = self._served
        if name is None:
            return next(iter(served.values())) if len(served) == 1 else None
        return served.get(name)

    def labels_for(self, name: str | None) -> tuple[list[str], bool]:
        """The labels of the model named `name` and whether it is multi-label (review pages)."""
        served = self.find(name)
        return (served.labels, served.multi_label) if served is not None else ([], False)

    def reload(self, name: str | None = None, *, retry_failed: bool = False) -> dict[str, Any]:
        """Load the newest run of every followed model (or of `name`) that is not served yet.

        One reload at a time; requests keep being answered meanwhile. A newer run that fails to
        load is reported in `errors` and the current model goes on serving; it is not tried
        again on the next poll unless `retry_failed` (what POST /v1/admin/reload passes).
        """
        if name is not None:
            self.get(name)  # UnknownModel for a wrong name
        reloaded: list[dict[str, str]] = []
        unchanged: list[str] = []
        errors: list[dict[str, str]] = []
        with self._reload_lock:
            for current in self.all():
                if name is not None and current.name != name:
                    continue
                if current.follows is None:
                    unchanged.append(current.name)
                    continue
                try:
                    newest = runs.find_run(current.follows)
                except NarrowtuneError as error:
                    errors.append({"model": current.name, "error": str(error)})
                    continue
                if newest == current.run_dir or (
                    not retry_failed and self._failed.get(current.name) == newest
                ):
                    unchanged.append(current.name)
                    continue
                try:
                    fresh = load_run(
                        newest, backend=self.backend, follows=current.follows, name=current.name
                    )
                except Exception as error:  # a broken run must never take the server down
                    self._failed[current.name] = newest
                    message = f"could not load {newest}: {error}; still serving {current.run_id}"
                    log.warning("reload of %s: %s", current.name, message)
                    errors.append({"model": current.name, "error": message})
                    continue
                self._failed.pop(current.name, None)
                self._served = {**self._served, current.name: fresh}  # the atomic swap
                self.reloads += 1
                log.info("reloaded %s: %s -> %s", current.name, current.run_id, fresh.run_id)
                reloaded.append({"model": current.name, "from": current.run_id, "to": fresh.run_id})
        return {"reloaded": reloaded, "unchanged": unchanged, "errors": errors}
