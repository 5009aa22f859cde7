"""The FastAPI app behind `narrowtune serve`: predict, health, metrics and the review queue API.

Every prediction is written to the store before its response is sent, so an acknowledged request
is never lost; abstained predictions become open review items in the same transaction.
"""

from __future__ import annotations

import bisect
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from narrowtune import api, runs
from narrowtune.errors import NarrowtuneError
from narrowtune.serve.pages import add_review_pages
from narrowtune.store import ReviewConflict, ReviewNotFound, Store
from narrowtune.task import load_task

NonEmptyText = Annotated[str, Field(min_length=1)]
# Store ids are signed 64-bit integers; a bigger path id overflowed the driver (500), now 422.
ItemId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
# Seconds; Prometheus' default buckets, shifted down because a small classifier answers in ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PredictRequest(BaseModel):
    """One text or a batch; unknown fields are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    text: NonEmptyText | None = None
    texts: list[NonEmptyText] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_of(self) -> PredictRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' (a string) or 'texts' (a list)")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class PredictionOut(BaseModel):
    label: str | list[str]
    confidence: float
    abstain: bool
    scores: dict[str, float]


class PredictResponse(BaseModel):
    request_id: str
    model: str
    predictions: list[PredictionOut]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: NonEmptyText
    action: Literal["accept", "correct", "escalate"]
    label: str | list[str] | None = None

    @model_validator(mode="after")
    def _label_when_correcting(self) -> DecisionRequest:
        if self.action == "correct" and not self.label:
            raise ValueError("'correct' needs 'label': the right label for the item")
        return self


class Metrics:
    """Counters and a latency histogram, written in Prometheus text format by hand.

    A few dozen lines instead of a `prometheus_client` dependency; one lock because the
    predict path runs in several threads at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.latency_count: dict[str, int] = {}
        self.predictions = 0
        self.abstentions = 0

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, path, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            counts = self.buckets.setdefault(path, [0] * len(LATENCY_BUCKETS))
            index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
            if index < len(counts):
                counts[index] += 1  # stored per bucket; made cumulative when rendered
            self.latency_sum[path] = self.latency_sum.get(path, 0.0) + seconds
            self.latency_count[path] = self.latency_count.get(path, 0) + 1

    def count_predictions(self, total: int, abstained: int) -> None:
        with self._lock:
            self.predictions += total
            self.abstentions += abstained

    def render(self, model: str) -> str:
        with self._lock:
            lines = [
                "# HELP narrowtune_requests_total HTTP requests by method, route and status.",
                "# TYPE narrowtune_requests_total counter",
            ]
            for (method, path, status), value in sorted(self.requests.items()):
                lines.append(
                    f'narrowtune_requests_total{{method="{method}",path="{path}",'
                    f'status="{status}"}} {value}'
                )
            lines += [
                "# HELP narrowtune_request_duration_seconds Request latency by route.",
                "# TYPE narrowtune_request_duration_seconds histogram",
            ]
            for path, counts in sorted(self.buckets.items()):
                running = 0
                for bound, count in zip(LATENCY_BUCKETS, counts):
                    running += count
                    lines.append(
                        f'narrowtune_request_duration_seconds_bucket{{path="{path}",'
                        f'le="{bound}"}} {running}'
                    )
                total = self.latency_count[path]
                lines += [
                    f'narrowtune_request_duration_seconds_bucket{{path="{path}",le="+Inf"}} '
                    f"{total}",
                    f'narrowtune_request_duration_seconds_sum{{path="{path}"}} '
                    f"{self.latency_sum[path]:.6f}",
                    f'narrowtune_request_duration_seconds_count{{path="{path}"}} {total}',
                ]
            lines += [
                "# HELP narrowtune_predictions_total Predictions served.",
                "# TYPE narrowtune_predictions_total counter",
                f'narrowtune_predictions_total{{model="{model}"}} {self.predictions}',
                "# HELP narrowtune_abstentions_total Predictions handed to a human "
                "(abstention rate = this / narrowtune_predictions_total).",
                "# TYPE narrowtune_abstentions_total counter",
                f'narrowtune_abstentions_total{{model="{model}"}} {self.abstentions}',
            ]
        return "\n".join(lines) + "\n"


def resolve_run_dir(path: Path) -> Path:
    """A run directory as given, or the newest run of a task file (or a task's folder)."""
    path = Path(path)
    if runs.is_run_dir(path):
        return path
    if path.is_file() or (path / "task.yaml").is_file():
        return runs.find_run(load_task(path).runs_path)
    raise NarrowtuneError(f"{path} is neither a run directory nor a task file")


def create_app(
    run_dir: Path,
    *,
    store: Store,
    max_batch: int = 256,
    max_text_chars: int = 10_000,
    backend: str = "torch",
) -> FastAPI:
    """An app serving the model of `run_dir` (or a task's newest run), logging to `store`.

    The model is loaded here, once, so a bad run fails at start-up rather than on the first
    request. Every route but /healthz and /metrics needs `Authorization: Bearer <key>`.
    """
    run_dir = resolve_run_dir(run_dir)
    info = runs.read_json(run_dir / runs.RUN_FILE)
    run_id: str = info["run_id"]
    model = api.load(run_dir, backend=backend)  # "onnx-int8": the fast CPU path
    known_labels = set(getattr(getattr(model, "config", None), "labels", None) or [])
    # Predictions are serialized: on a small CPU box torch already uses every core for one
    # batch, and Hugging Face fast tokenizers are not safe to call from two threads at once.
    predict_lock = threading.Lock()
    metrics = Metrics()
    # Refuse an oversized body before reading it: the largest legal batch, JSON-escaped.
    max_body = max_batch * (max_text_chars * 6 + 8) + 1024

    app = FastAPI(
        title="narrowtune",
        summary=f"Serving run {run_id} ({info.get('task')}, {info.get('kind')})",
        version="1",
    )

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            response: Response = JSONResponse(
                {"detail": f"request body of {length} bytes is over the {max_body}-byte limit"},
                status_code=413,
            )
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        # The route template, never the raw path: /v1/review/{item_id}, not one series per id.
        path = getattr(route, "path", "other")
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - start)
        return response

    def require_key(request: Request) -> None:
        """401 unless the request carries an active key; the key itself is never logged."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not store.check_key(key.strip()):
            raise HTTPException(
                status_code=401,
                detail="missing or invalid API key: send 'Authorization: Bearer <key>' "
                "(create one with `narrowtune keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    authorized = [Depends(require_key)]

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "model": run_id, "task": info.get("task"), "kind": info["kind"]}

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(
            metrics.render(run_id), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    @app.post("/v1/predict", dependencies=authorized)
    async def predict(body: PredictRequest, response: Response) -> PredictResponse:
        texts = body.all_texts()
        if len(texts) > max_batch:
            raise HTTPException(
                status_code=413,
                detail=f"batch of {len(texts)} texts is over the limit of {max_batch}; "
                "split it into smaller requests",
            )
        for i, text in enumerate(texts):
            if len(text) > max_text_chars:
                raise HTTPException(
                    status_code=413,
                    detail=f"text {i} has {len(text)} characters, over the limit of "
                    f"{max_text_chars}",
                )
        request_id = uuid.uuid4().hex

        def run_model() -> list[Any]:
            with predict_lock:
                return model.predict(texts)

        start = time.perf_counter()
        predictions = [p.to_dict() for p in await run_in_threadpool(run_model)]
        latency_ms = (time.perf_counter() - start) * 1000
        # Stored before answering: an acknowledged prediction is always in the store.
        await run_in_threadpool(
            store.record,
            predictions,
            texts=texts,
            model=run_id,
            request_id=request_id,
            latency_ms=latency_ms,
        )
        metrics.count_predictions(len(predictions), sum(p["abstain"] for p in predictions))
        response.headers["X-Request-ID"] = request_id
        return PredictResponse(
            request_id=request_id,
            model=run_id,
            predictions=[PredictionOut(**p) for p in predictions],
        )

    @app.get("/v1/review", dependencies=authorized)
    def review_queue(
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        label: str | None = None,
        include_escalated: bool = False,
    ) -> list[dict[str, Any]]:
        return store.open_reviews(limit, label, include_escalated=include_escalated)

    @app.post("/v1/review/{item_id}", dependencies=authorized)
    def review_decide(item_id: ItemId, body: DecisionRequest) -> dict[str, Any]:
        if body.action == "correct" and known_labels:
            chosen = [body.label] if isinstance(body.label, str) else list(body.label or [])
            unknown = [x for x in chosen if x not in known_labels]
            if unknown:
                raise HTTPException(
                    status_code=422,
                    detail=f"label {', '.join(map(repr, unknown))} is not one of the model's "
                    f"labels: {', '.join(sorted(known_labels))}",
                )
        try:
            return store.decide(item_id, body.reviewer, body.action, body.label)
        except ReviewNotFound as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        except ReviewConflict as error:
            raise HTTPException(status_code=409, detail=str(error)) from error
        except NarrowtuneError as error:
            raise HTTPException(status_code=422, detail=str(error)) from error

    config = getattr(model, "config", None)
    add_review_pages(
        app,
        store,
        list(getattr(config, "labels", None) or []),
        multi_label=bool(getattr(config, "multi_label", False)),
    )
    return app
