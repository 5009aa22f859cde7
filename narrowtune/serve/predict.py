"""POST /v1/predict: one text or a batch through one served model, stored, then answered."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from narrowtune.serve.auth import PREDICT, caller
from narrowtune.serve.models import ServedModel
from narrowtune.serve.records import answers_record, scrub_nul
from narrowtune.serve.routing import OffLoopRoute
from narrowtune.serve.schemas import PredictionOut, PredictRequest, PredictResponse
from narrowtune.serve.state import AppState, Limits, ServeState

router = APIRouter(route_class=OffLoopRoute)


@router.post("/v1/predict", dependencies=PREDICT, response_model_exclude_none=True)
async def predict(
    body: PredictRequest, request: Request, response: Response, state: AppState
) -> PredictResponse:
    served = state.pick(body.model)  # held to the end: a reload meanwhile does not change it
    texts = body.all_texts()
    check_sizes(texts, state.limits)
    request_id = uuid.uuid4().hex
    who = caller(request).name
    with state.admission.enter(who):
        predictions = await predict_and_record(
            state, served, texts, request_id=request_id, caller=who
        )
    response.headers["X-Request-ID"] = request_id
    return PredictResponse(
        request_id=request_id,
        model=served.run_id,
        task=served.name,
        kind=served.kind,
        predictions=[prediction_out(p) for p in predictions],
    )


def check_sizes(texts: list[str], limits: Limits) -> None:
    """413 for a batch or a text over the server's limits."""
    if len(texts) > limits.max_batch:
        raise HTTPException(
            status_code=413,
            detail=f"batch of {len(texts)} texts is over the limit of {limits.max_batch}; "
            "split it into smaller requests",
        )
    for i, text in enumerate(texts):
        if len(text) > limits.max_text_chars:
            raise HTTPException(
                status_code=413,
                detail=f"text {i} has {len(text)} characters, over the limit of "
                f"{limits.max_text_chars}",
            )


async def predict_and_record(
    state: ServeState,
    served: ServedModel,
    texts: list[str],
    *,
    request_id: str,
    caller: str = "",
) -> list[dict[str, Any]]:
    """The model's predictions for `texts` (as dicts, NULs scrubbed), already stored and
    counted in the metrics. The model is shared fairly with `caller`'s concurrent requests
    and everyone else's (`MicroBatcher`)."""
    start = time.perf_counter()
    raw = await state.batcher.predict(served, texts, caller=caller)
    predictions = [scrub_nul(p.to_dict()) for p in raw]
    latency_ms = (time.perf_counter() - start) * 1000
    record = answers_record(
        served, predictions, texts=texts, request_id=request_id, latency_ms=latency_ms
    )
    await state.writer.write(record)
    abstained = sum(p["abstain"] for p in predictions)
    state.metrics.count_predictions(served, len(predictions), abstained)
    return predictions


def prediction_out(prediction: Mapping[str, Any]) -> PredictionOut:
    """The response form of one prediction; classify predictions keep their four fields."""
    structured = (
        prediction.get("output") is not None
        or prediction.get("missing")
        or prediction.get("problems")
        or prediction.get("valid") is False
    )
    fields: dict[str, Any] = {
        "label": prediction["label"],
        "confidence": prediction["confidence"],
        "abstain": prediction["abstain"],
        "scores": prediction.get("scores") or {},
    }
    if prediction.get("outcome") is not None:
        fields.update(outcome=prediction["outcome"], reasons=list(prediction.get("reasons") or []))
    if structured:
        fields.update(
            output=prediction.get("output"),
            valid=bool(prediction.get("valid", True)),
            missing=list(prediction.get("missing") or []),
            problems=list(prediction.get("problems") or []),
        )
    return PredictionOut(**fields)
