"""Operating a running server: GET /healthz and GET /metrics (no key: for probes and
Prometheus), and POST /v1/admin/reload (swap in the newest runs now)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from narrowtune.serve.auth import ADMIN
from narrowtune.serve.routing import OffLoopRoute
from narrowtune.serve.schemas import ReloadRequest
from narrowtune.serve.state import AppState

router = APIRouter(route_class=OffLoopRoute)


@router.get("/healthz")
def healthz(state: AppState) -> dict[str, Any]:
    default = state.registry.default
    return {
        "status": "ok",
        "model": default.run_id,
        "task": default.name,
        "kind": default.kind,
        "models": [
            {"name": m.name, "run_id": m.run_id, "kind": m.kind} for m in state.registry.all()
        ],
        "pid": os.getpid(),
    }


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus_metrics(state: AppState) -> PlainTextResponse:
    return PlainTextResponse(
        state.metrics.render(state.registry.all(), state.registry.reloads),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


@router.post("/v1/admin/reload", dependencies=ADMIN)
async def admin_reload(state: AppState, body: ReloadRequest | None = None) -> JSONResponse:
    """Load the newest run of every model served from a task file (or of `model`) now.

    200 when every newer run loaded (or nothing was newer); 500 with `errors` when one
    failed to load, in which case its old run keeps serving.
    """
    name = body.model if body is not None else None
    if name is not None:
        state.pick(name)
    result = await run_in_threadpool(state.registry.reload, name, retry_failed=True)
    if state.reload_signal is not None:  # the other worker processes reload too
        state.reload_signal.publish()
    result["models"] = [m.describe() for m in state.registry.all()]
    return JSONResponse(result, status_code=500 if result["errors"] else 200)
