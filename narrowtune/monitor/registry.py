"""Which run of a task serves: promote and roll back, every change recorded in the store's
model registry table.

The serving run is named by `runs/<task>/promoted.json` (written atomically); `runs.find_run`
reads it, so `serve` (on POST /v1/admin/reload, or its polling), `eval`, `predict` and `export`
all follow a promotion without a restart. Before any promotion a task serves its newest run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune import runs
from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    from narrowtune.store import Store


class RegistryError(NarrowtuneError):
    """A promotion or rollback that cannot happen; nothing was changed."""


def serving_run_id(runs_path: Path) -> str | None:
    """The run a task serves now: the promoted one, else its newest; None when it has none."""
    promoted = runs.promoted_run(runs_path)
    if promoted is not None:
        return promoted
    found = runs.list_runs(runs_path)
    return found[-1].name if found else None


def resolve_run(run: str, runs_path: Path | None) -> tuple[Path, str]:
    """A run directory given by path, or by id within `runs_path`; and its task's name."""
    candidates = [Path(run)] + ([runs_path / run] if runs_path is not None else [])
    for path in candidates:
        if runs.is_run_dir(path):
            if runs_path is not None and path.resolve().parent != runs_path.resolve():
                raise RegistryError(
                    f"run {path} belongs to {path.resolve().parent}, not to this task's runs "
                    f"folder {runs_path}; nothing changed"
                )
            info = runs.read_json(path / runs.RUN_FILE)
            return path, str(info.get("task") or path.parent.name)
    where = " or ".join(str(c) for c in candidates)
    hint = "" if runs_path is not None else " (give a run directory, or --task with a run id)"
    raise RegistryError(f"no run '{run}': no run directory at {where}{hint}; nothing changed")


def promote(
    store: Store,
    runs_path: Path,
    task: str,
    run_id: str,
    *,
    reason: str = "promoted by hand",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Make `run_id` the serving run of `task` and record it; RegistryError when the run does
    not exist or already serves (nothing changed then)."""
    if not runs.is_run_dir(runs_path / run_id):
        raise RegistryError(f"no run '{run_id}' under {runs_path}; nothing changed")
    previous = serving_run_id(runs_path)
    if previous == run_id and runs.promoted_run(runs_path) == run_id:
        raise RegistryError(f"run {run_id} already serves task '{task}'; nothing changed")
    runs.set_promoted(runs_path, run_id)
    return store.record_event(
        task, "promote", run_id=run_id, previous_run_id=previous, reason=reason, details=details
    )


def history(store: Store, task: str) -> list[str]:
    """The stack of serving runs the registry's events build: each promotion pushes its run
    (the first one also the run that served before it), each rollback pops one."""
    stack: list[str] = []
    for event in store.registry_events(task):
        if event["action"] == "promote":
            if not stack and event["previous_run_id"]:
                stack.append(event["previous_run_id"])
            if not stack or stack[-1] != event["run_id"]:
                stack.append(event["run_id"])
        elif event["action"] == "rollback" and stack:
            stack.pop()
    return stack


def rollback(store: Store, runs_path: Path, task: str) -> dict[str, Any]:
    """Serve the run that served before the last promotion again, and record it."""
    stack = history(store, task)
    if len(stack) < 2:
        raise RegistryError(
            f"task '{task}' has no earlier promoted run to roll back to (the registry holds "
            f"{len(store.registry_events(task))} event(s)); nothing changed"
        )
    current, target = stack[-1], stack[-2]
    if not runs.is_run_dir(runs_path / target):
        raise RegistryError(
            f"the run to roll back to, {target}, is no longer under {runs_path}; nothing changed"
        )
    runs.set_promoted(runs_path, target)
    return store.record_event(
        task,
        "rollback",
        run_id=target,
        previous_run_id=current,
        reason=f"rolled back from {current}",
    )
