"""The FastAPI app behind `narrowtune serve`, composed from one router per concern: predict,
the OpenAI-compatible routes, admin (health, metrics, reload), the review queue's API and its
pages.

Every prediction (and every chat completion) is written to the store before its response is
sent, so an acknowledged request is never lost; abstained predictions and invalid generations
become open review items in the same transaction.

Several models are served at once, each addressed by its task name (`model` in a request; the
first model when a request names none). See `narrowtune.serve.models` for hot reload.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Model
from narrowtune.serve import admin, openai_compat, predict, review
from narrowtune.serve import pipelines as pipeline_routes
from narrowtune.serve.admission import Admission
from narrowtune.serve.auth import KeyCache
from narrowtune.serve.batching import MicroBatcher
from narrowtune.serve.config import CONFIG_ENV, WorkerConfig
from narrowtune.serve.errors import add_error_handlers, max_body_bytes
from narrowtune.serve.guard import Guard, GuardPolicy
from narrowtune.serve.metrics import Metrics, RequestMetrics
from narrowtune.serve.models import ModelRegistry, ServedModel, load_target, wrap_model
from narrowtune.serve.pages import add_review_pages
from narrowtune.serve.records import GroupWriter
from narrowtune.serve.state import Limits, ServeState
from narrowtune.serve.watch import ReloadSignal, watch
from narrowtune.store import Store

__all__ = ["CONFIG_ENV", "app_from_env", "create_app"]

# How many texts of the longest length one pipeline case's body may hold.
PIPELINE_TEXTS = 8


def create_app(
    targets: Path | str | Sequence[Path | str] | None = None,
    *,
    store: Store,
    models: Mapping[str, Model] | None = None,
    max_batch: int = 256,
    max_text_chars: int = 10_000,
    backend: str = "torch",
    run: str | None = None,
    reload_interval: float = 0.0,
    reload_signal: Path | None = None,
    batch_wait_ms: float = 0.0,
    trusted_hosts: Sequence[str] = (),
    protect_ops: bool = False,
    on_invalid: str = "withhold",
    max_inflight_per_key: int = 128,
    max_queue: int = 2048,
    rate_per_key: float = 0.0,
    metrics_dir: Path | None = None,
    pipelines: Sequence[Path | str] = (),
) -> FastAPI:
    """An app serving the models of `targets`, logging to `store`.

    `targets`: one or several run directories (pinned) or task files / task folders (their
    newest run, followed on reload); `run` pins a single task file to one of its runs. `models`:
    already-loaded model objects by name (served as they are, after the targets). Each model is
    addressed by its task name; the first one answers requests that name none.

    Models are loaded here, once, so a bad run fails at start-up rather than on the first
    request. `reload_interval` > 0 polls the followed tasks' runs folders every that many
    seconds and swaps in a newer run; `POST /v1/admin/reload` does it on demand. With several
    worker processes, `reload_signal` is a file the admin route rewrites so that every worker
    reloads (each checks it every second). `batch_wait_ms` > 0 groups concurrent
    /v1/predict calls to one model into one model call, waiting at most that long for company.

    Every /v1 route needs `Authorization: Bearer <key>` for a key with the route's scope
    (`narrowtune.serve.auth`); `protect_ops` puts /metrics and the API docs behind an admin key
    too. `trusted_hosts`: the only Host names requests may use (empty: any). See
    `narrowtune.serve.guard` for what is refused before a route runs. `on_invalid`: what a
    chat reply that breaks its contract becomes by default, "withhold" or "return" (flagged).
    `max_inflight_per_key`, `max_queue` and `rate_per_key` bound admission to the model routes
    (`narrowtune.serve.admission`: 429 or 503 with Retry-After past them). `metrics_dir`: a
    folder shared by the worker processes, whose sums /metrics answers. `pipelines`: pipeline
    files served at POST /v1/pipelines/<name> (their models and indexes are loaded now).
    """
    served = load_models(targets, models, backend=backend, run=run)
    metrics = Metrics(share_dir=metrics_dir)
    keys = KeyCache(store)
    state = ServeState(
        registry=ModelRegistry(served, backend=backend),
        store=store,
        metrics=metrics,
        limits=Limits(max_batch=max_batch, max_text_chars=max_text_chars),
        batcher=MicroBatcher(
            max_wait=batch_wait_ms / 1000, max_batch=max_batch, on_batch=metrics.count_batch
        ),
        writer=GroupWriter(store),
        admission=Admission(
            per_key=max_inflight_per_key,
            max_queue=max_queue,
            rate=rate_per_key,
            burst=max(rate_per_key, 1.0) * 2,
        ),
        reload_signal=ReloadSignal(reload_signal) if reload_signal is not None else None,
        keys=keys,
        on_invalid=on_invalid,
        pipelines=load_pipelines(pipelines),
    )
    app = FastAPI(
        title="narrowtune",
        summary="Serving " + ", ".join(f"{m.name} ({m.kind}, run {m.run_id})" for m in served),
        version="1",
        lifespan=_lifespan(state, reload_interval),
    )
    app.state.serve = state
    # Host, key and body size are settled before any route runs or any body is read; the last
    # middleware added runs first, so the metrics count the Guard's refusals too.
    policy = GuardPolicy(
        large_body=max_body_bytes(max_batch, max_text_chars),
        # a case of up to PIPELINE_TEXTS inputs of the longest text each
        pipeline_body=max_body_bytes(PIPELINE_TEXTS, max_text_chars),
        trusted_hosts=frozenset(h.lower() for h in trusted_hosts),
        protect_ops=protect_ops,
    )
    app.add_middleware(Guard, keys=keys, policy=policy, session_check=store.session_info)
    app.add_middleware(RequestMetrics, metrics=metrics)
    add_error_handlers(app)
    routers = (
        predict.router,
        openai_compat.router,
        pipeline_routes.router,
        admin.router,
        review.router,
    )
    for router in routers:
        app.include_router(router)
    first = state.registry.default
    add_review_pages(
        app, store, first.labels, multi_label=first.multi_label, catalog=state.registry
    )
    return app


def load_models(
    targets: Path | str | Sequence[Path | str] | None,
    models: Mapping[str, Model] | None,
    *,
    backend: str,
    run: str | None,
) -> list[ServedModel]:
    """The models of `targets` (loaded now), then the model objects handed over."""
    if targets is None:
        given: list[Path | str] = []
    elif isinstance(targets, (str, Path)):
        given = [targets]
    else:
        given = list(targets)
    if run is not None and len(given) != 1:
        raise NarrowtuneError("--run pins one task to a run: give exactly one task file with it")
    served = [load_target(t, backend=backend, run=run) for t in given]
    return served + [wrap_model(name, model) for name, model in (models or {}).items()]


def load_pipelines(files: Sequence[Path | str]) -> dict[str, Any]:
    """The pipelines of `files` by name, every model and index loaded (a bad one fails now)."""
    from narrowtune.pipeline import load_pipeline

    loaded: dict[str, Any] = {}
    for file in files:
        pipeline = load_pipeline(file)
        if pipeline.name in loaded:
            raise NarrowtuneError(f"two pipelines are named '{pipeline.name}' ({file})")
        pipeline.prepare()
        loaded[pipeline.name] = pipeline
    return loaded


def _lifespan(
    state: ServeState, reload_interval: float
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown: the reload watcher runs while the app does; the batcher stops."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        watcher = None
        if reload_interval > 0 or state.reload_signal is not None:
            watcher = asyncio.create_task(
                watch(state.registry, interval=reload_interval, signal=state.reload_signal)
            )
        publisher = None
        if state.metrics.share_dir is not None:
            publisher = asyncio.create_task(_publish_metrics(state))
        try:
            yield
        finally:
            for task in (watcher, publisher):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            state.batcher.close()
            if state.metrics.share_dir is not None:
                state.metrics.publish()  # the last counts of a worker that stops

    return lifespan


async def _publish_metrics(state: ServeState, every: float = 1.0) -> None:
    """Write this worker's metrics to the shared folder every `every` seconds."""
    while True:
        await asyncio.sleep(every)
        with suppress(OSError):
            await asyncio.to_thread(state.metrics.publish)


def app_from_env() -> FastAPI:
    """The app of one worker process of `narrowtune serve --workers N` (uvicorn's factory).

    Reads what `narrowtune serve` wrote to $NARROWTUNE_SERVE_CONFIG (a `WorkerConfig` as
    JSON: targets, the store's URL, the `ServeOptions`, the reload signal and metrics folder).
    """
    raw = os.environ.get(CONFIG_ENV)
    if not raw:
        raise NarrowtuneError(
            f"${CONFIG_ENV} is not set: this factory is for the worker processes that "
            "`narrowtune serve --workers N` starts"
        )
    config = WorkerConfig.from_json(raw)
    return create_app(
        [Path(t) for t in config.targets],
        store=Store(config.db),
        reload_signal=Path(config.reload_signal) if config.reload_signal else None,
        metrics_dir=Path(config.metrics_dir) if config.metrics_dir else None,
        **config.options.kwargs(),
    )
