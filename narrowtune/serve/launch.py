"""Starting `narrowtune serve`: one process serving the app, or N uvicorn worker processes that
each build the same app from a `WorkerConfig`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from narrowtune import runs
from narrowtune.backends import usable_cores
from narrowtune.serve.app import create_app
from narrowtune.serve.config import CONFIG_ENV, ServeOptions, WorkerConfig
from narrowtune.store import Store
from narrowtune.task import load_task

# The import string of the app factory each worker process calls.
WORKER_FACTORY = "narrowtune.serve.app:app_from_env"


@dataclass(frozen=True)
class Server:
    """A server ready to listen: its app built (one process), or its workers' config checked."""

    names: list[str]  # what it serves: model names, or the targets when workers load them
    workers: int
    app: FastAPI | None = None
    config: WorkerConfig | None = None

    def run(self, *, host: str, port: int, access_log: bool = True) -> None:
        """Listen until interrupted (blocks)."""
        if self.app is not None:
            uvicorn.run(self.app, host=host, port=port, log_level="info", access_log=access_log)
            return
        assert self.config is not None  # one of the two, by `prepare`
        with tempfile.TemporaryDirectory(prefix="narrowtune-serve-") as folder:
            # POST /v1/admin/reload rewrites this file so that every worker reloads.
            # Every worker writes its metrics here; /metrics sums them.
            (Path(folder) / "metrics").mkdir()
            config = replace(
                self.config,
                reload_signal=str(Path(folder) / "reload"),
                metrics_dir=str(Path(folder) / "metrics"),
            )
            os.environ[CONFIG_ENV] = config.to_json()  # inherited by the worker processes
            # The workers share the cores: each model runtime gets its part, not all of them
            # (N runtimes each spinning a thread per core would fight over every core).
            os.environ.setdefault("NARROWTUNE_THREADS", str(max(1, usable_cores() // self.workers)))
            uvicorn.run(
                WORKER_FACTORY,
                factory=True,
                workers=self.workers,
                host=host,
                port=port,
                log_level="info",
                access_log=access_log,
            )


def prepare(
    targets: Sequence[Path],
    *,
    store: Store,
    workers: int = 1,
    options: ServeOptions | None = None,
) -> Server:
    """The server for `targets` (see `create_app`), logging to `store`.

    One worker: the models are loaded here. Several: each worker loads them itself, so only
    cheap checks run here (a worker that fails to start would be restarted in a loop), and
    `store` is closed: the workers open its URL.
    """
    options = options or ServeOptions()
    if workers == 1:
        app = create_app(targets, store=store, **options.kwargs())
        names = [m.name for m in app.state.serve.registry.all()]
        return Server(names=names, workers=1, app=app)
    for target in targets:
        if not runs.is_run_dir(target):
            runs.find_run(load_task(target).runs_path, options.run)
    if options.pipelines:
        from narrowtune.pipeline import load_pipeline

        for file in options.pipelines:
            load_pipeline(file)
    store.close()
    config = WorkerConfig(
        targets=[str(t.resolve()) for t in targets], db=store.url, options=options
    )
    return Server(names=[str(t) for t in targets], workers=workers, app=None, config=config)
