"""The review queue's JSON API: GET /v1/review (open items) and POST /v1/review/{item_id} (a
reviewer's decision). The same queue in the browser is `pages`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from narrowtune.errors import NarrowtuneError
from narrowtune.serve.auth import REVIEW, require
from narrowtune.serve.routing import OffLoopRoute
from narrowtune.serve.schemas import DecisionRequest, ItemId, ModelName, Text
from narrowtune.serve.state import AppState, ServeState
from narrowtune.store import KeyInfo, ReviewConflict, ReviewNotFound

router = APIRouter(route_class=OffLoopRoute)


@router.get("/v1/review", dependencies=REVIEW)
def review_queue(
    state: AppState,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    label: Annotated[Text | None, Query()] = None,
    include_escalated: bool = False,
    model: Annotated[ModelName | None, Query(description="Served model name")] = None,
    max_confidence: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> list[dict[str, Any]]:
    return state.store.open_reviews(
        limit,
        label,
        include_escalated=include_escalated,
        max_confidence=max_confidence,
        model=model,
        after=after,
    )


@router.post("/v1/review/{item_id}")
def review_decide(
    item_id: ItemId,
    body: DecisionRequest,
    state: AppState,
    reviewer: Annotated[KeyInfo, Depends(require("review"))],
) -> dict[str, Any]:
    """Decide an open item. The decision is recorded under the API key's name: that is the
    reviewer, whatever `reviewer` the body carries (kept for older clients, not trusted)."""
    check_labels(state, item_id, body)
    return decide(state, item_id, body, reviewer.name)


def check_labels(state: ServeState, item_id: int, body: DecisionRequest) -> None:
    """422 when a correction names a label the item's model does not have (a model without
    labels, or one no longer served, takes any)."""
    item = state.store.review_item(item_id)
    served = state.registry.find(item["task"]) if item is not None else None
    known = set(served.labels) if served is not None else set()
    if body.action != "correct" or not known:
        return
    unknown = [x for x in body.labels() if x not in known]
    if unknown:
        raise HTTPException(
            status_code=422,
            detail=f"label {', '.join(map(repr, unknown))} is not one of the model's "
            f"labels: {', '.join(sorted(known))}",
        )


def decide(state: ServeState, item_id: int, body: DecisionRequest, reviewer: str) -> dict[str, Any]:
    """Record the decision; the store's refusals as 404 (no such item), 409 (decided
    already) or 422 (anything else the reviewer got wrong)."""
    try:
        return state.store.decide(item_id, reviewer, body.action, body.label)
    except ReviewNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    except ReviewConflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    except NarrowtuneError as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
