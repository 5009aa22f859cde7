"""POST /v1/pipelines/<name>: one case through a served pipeline; its trace is stored, and an
escalated case opens a review item in the same queue as the models' abstentions."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam

from narrowtune.serve.auth import PREDICT, caller
from narrowtune.serve.routing import OffLoopRoute
from narrowtune.serve.schemas import PipelineRequest, PipelineResponse, PipelineStepOut
from narrowtune.serve.state import AppState

router = APIRouter(route_class=OffLoopRoute)


@router.post("/v1/pipelines/{name}", dependencies=PREDICT)
async def run_pipeline(
    body: PipelineRequest,
    request: Request,
    state: AppState,
    name: str = PathParam(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
) -> PipelineResponse:
    from narrowtune.pipeline import check_inputs, run_case

    pipeline = state.pipelines.get(name)
    if pipeline is None:
        served = ", ".join(sorted(state.pipelines)) or "none"
        raise HTTPException(status_code=404, detail=f"no pipeline '{name}' (served: {served})")
    problems = check_inputs(pipeline, body.inputs)
    if problems:
        raise HTTPException(status_code=422, detail="; ".join(problems))
    for key, value in body.inputs.items():
        if isinstance(value, str) and len(value) > state.limits.max_text_chars:
            raise HTTPException(
                status_code=413,
                detail=f"input '{key}' has {len(value)} characters, over the limit of "
                f"{state.limits.max_text_chars}",
            )
    who = caller(request).name
    with state.admission.enter(who):
        result = await asyncio.to_thread(run_case, pipeline, body.inputs)
        stored: dict[str, Any] = await asyncio.to_thread(
            state.store.record_trace, result.to_dict(), review_text=result.review_text
        )
    return PipelineResponse(
        trace_id=result.trace_id,
        pipeline=result.pipeline,
        status=result.status,  # type: ignore[arg-type]
        route=result.route,
        reason=result.reason,
        outputs=result.outputs,
        steps=[
            PipelineStepOut(
                step=s.step,
                type=s.type,
                status=s.status,
                latency_ms=s.latency_ms,
                confidence=s.confidence,
                error=s.error,
            )
            for s in result.steps
        ],
        review_item_id=stored["review_item_id"],
        latency_ms=result.latency_ms,
    )
