"""The FastAPI app behind `narrowtune serve`: predict, chat completions, models, health, metrics,
hot reload and the review queue API.

Every prediction (and every chat completion) is written to the store before its response is
sent, so an acknowledged request is never lost; abstained predictions and invalid generations
become open review items in the same transaction.

Several models are served at once, each addressed by its task name (`model` in a request; the
first model when a request names none). See `narrowtune.serve.models` for hot reload.
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from narrowtune import runs
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Generation, GenerativeModel, Model
from narrowtune.serve.batching import MicroBatcher
from narrowtune.serve.models import (
    ModelRegistry,
    ServedModel,
    UnknownModel,
    load_target,
    wrap_model,
)
from narrowtune.serve.pages import add_review_pages
from narrowtune.store import ReviewConflict, ReviewNotFound, Store, find_nul
from narrowtune.task import load_task

log = logging.getLogger("narrowtune.serve")

# `narrowtune serve --workers N` hands its options to each worker process in this variable
# (JSON), read by `app_from_env`, the import-string factory uvicorn calls in every worker.
CONFIG_ENV = "NARROWTUNE_SERVE_CONFIG"
# Seconds; Prometheus' default buckets, shifted down because a small classifier answers in ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The most tokens one chat completion may ask for (the generate kind's own ceiling).
MAX_COMPLETION_TOKENS = 4096
# Routes that answer errors in OpenAI's shape too ({"error": {...}}), for OpenAI clients.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(
            "contains a NUL character (\\x00), which the store cannot keep (PostgreSQL refuses "
            "it in text); remove it"
        )
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
NonEmptyText = Annotated[str, Field(min_length=1), AfterValidator(_no_nul)]
ModelName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
# Store ids are signed 64-bit integers; a bigger path id overflowed the driver (500), now 422.
ItemId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class PredictRequest(BaseModel):
    """One text or a batch, for one model; unknown fields are refused so a typo never passes
    silently."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName | None = Field(
        default=None, description="The served model's name (its task); default: the first one."
    )
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
    """A classify prediction has the first four fields only; extract and generate predictions
    add their structured `output` and its checks."""

    label: str | list[str]
    confidence: float
    abstain: bool
    scores: dict[str, float]
    output: Any = None
    valid: bool | None = None
    missing: list[str] | None = None
    problems: list[str] | None = None


class PredictResponse(BaseModel):
    request_id: str
    model: str = Field(description="The run id that answered.")
    task: str = Field(description="The served model's name (its task).")
    kind: str
    predictions: list[PredictionOut]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: NonEmptyText
    action: Literal["accept", "correct", "escalate"]
    label: Text | list[Text] | None = None

    @model_validator(mode="after")
    def _label_when_correcting(self) -> DecisionRequest:
        if self.action == "correct" and not self.label:
            raise ValueError("'correct' needs 'label': the right label for the item")
        return self


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelName | None = Field(default=None, description="Only this model (default: all).")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text"]
    text: Text


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_call_id...: accepted, not used

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat-completions request. Fields narrowtune does not implement (top_p, seed,
    user, ...) are accepted and ignored; `n` > 1, tools and logprobs are refused (400)."""

    model_config = ConfigDict(extra="allow")

    model: ModelName | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stop: Text | list[Text] | None = None
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    n: int | None = None
    response_format: dict[str, Any] | None = Field(
        default=None,
        description="{'type': 'json_schema', 'json_schema': {'name', 'schema'}} or "
        "{'type': 'json_object'}: the reply is generated inside the schema's grammar "
        "(generate models).",
    )

    def stops(self) -> list[str] | None:
        if self.stop is None:
            return None
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop)
        return [s for s in stops if s] or None


def response_schema(value: Any) -> dict[str, Any] | None:
    """The JSON Schema an OpenAI `response_format` asks for (None for plain text); ValueError
    naming the problem for a malformed one."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in (
        "text",
        "json_object",
        "json_schema",
    ):
        raise ValueError(
            "response_format must be {'type': 'text'}, {'type': 'json_object'} or "
            "{'type': 'json_schema', 'json_schema': {'name': ..., 'schema': {...}}}"
        )
    if value["type"] == "text":
        return None
    if value["type"] == "json_object":
        return {"type": "object"}
    spec = value.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        raise ValueError("response_format.json_schema.schema must be a JSON Schema object")
    return schema


def _openai_error(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        413: "invalid_request_error",
        422: "invalid_request_error",
    }.get(status, "server_error")
    return {"message": message, "type": kind, "param": param, "code": None}


def _label(value: str) -> str:
    """A Prometheus label value, escaped (model names handed to create_app can be anything)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


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
        # Keyed by (run id, task name).
        self.predictions: dict[tuple[str, str], int] = {}
        self.abstentions: dict[tuple[str, str], int] = {}
        self.tokens: dict[tuple[str, str, str], int] = {}
        self.batches = 0
        self.batched_requests = 0

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

    def count_predictions(self, served: ServedModel, total: int, abstained: int) -> None:
        key = (served.run_id, served.name)
        with self._lock:
            self.predictions[key] = self.predictions.get(key, 0) + total
            self.abstentions[key] = self.abstentions.get(key, 0) + abstained

    def count_tokens(self, served: ServedModel, prompt: int, completion: int) -> None:
        with self._lock:
            for which, value in (("prompt", prompt), ("completion", completion)):
                key = (served.run_id, served.name, which)
                self.tokens[key] = self.tokens.get(key, 0) + value

    def count_batch(self, requests: int) -> None:
        with self._lock:
            self.batches += 1
            self.batched_requests += requests

    def render(self, models: Sequence[ServedModel], reloads: int) -> str:
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
            # Every served model has a series from the start, at 0 until it answers.
            keys = sorted({*self.predictions, *((m.run_id, m.name) for m in models)})
            keys = [(_label(run), _label(task)) for run, task in keys]
            predictions = {(_label(r), _label(t)): v for (r, t), v in self.predictions.items()}
            abstentions = {(_label(r), _label(t)): v for (r, t), v in self.abstentions.items()}
            lines += [
                "# HELP narrowtune_predictions_total Predictions served, by run and model name.",
                "# TYPE narrowtune_predictions_total counter",
            ]
            lines += [
                f'narrowtune_predictions_total{{model="{run}",task="{task}"}} '
                f"{predictions.get((run, task), 0)}"
                for run, task in keys
            ]
            lines += [
                "# HELP narrowtune_abstentions_total Predictions handed to a human "
                "(abstention rate = this / narrowtune_predictions_total).",
                "# TYPE narrowtune_abstentions_total counter",
            ]
            lines += [
                f'narrowtune_abstentions_total{{model="{run}",task="{task}"}} '
                f"{abstentions.get((run, task), 0)}"
                for run, task in keys
            ]
            lines += [
                "# HELP narrowtune_tokens_total Chat-completion tokens, prompt and completion.",
                "# TYPE narrowtune_tokens_total counter",
            ]
            lines += [
                f'narrowtune_tokens_total{{model="{_label(run)}",task="{_label(task)}",'
                f'type="{which}"}} {value}'
                for (run, task, which), value in sorted(self.tokens.items())
            ]
            lines += [
                "# HELP narrowtune_model_info The models served now (1 per model).",
                "# TYPE narrowtune_model_info gauge",
            ]
            lines += [
                f'narrowtune_model_info{{model="{_label(m.run_id)}",task="{_label(m.name)}",'
                f'kind="{_label(m.kind)}"}} 1'
                for m in models
            ]
            lines += [
                "# HELP narrowtune_reloads_total Models swapped for a newer run.",
                "# TYPE narrowtune_reloads_total counter",
                f"narrowtune_reloads_total {reloads}",
                "# HELP narrowtune_model_batches_total Model calls of the micro-batcher "
                "(requests per call = narrowtune_batched_requests_total / this).",
                "# TYPE narrowtune_model_batches_total counter",
                f"narrowtune_model_batches_total {self.batches}",
                "# TYPE narrowtune_batched_requests_total counter",
                f"narrowtune_batched_requests_total {self.batched_requests}",
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


def scrub_nul(value: Any) -> Any:
    """A model's output with NUL characters replaced by U+FFFD (the store cannot keep them)."""
    if find_nul(value) is None:
        return value
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {scrub_nul(k): scrub_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_nul(v) for v in value]
    return value


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
    if structured:
        fields.update(
            output=prediction.get("output"),
            valid=bool(prediction.get("valid", True)),
            missing=list(prediction.get("missing") or []),
            problems=list(prediction.get("problems") or []),
        )
    return PredictionOut(**fields)


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
    Every route but /healthz and /metrics needs `Authorization: Bearer <key>`.
    """
    if targets is None:
        given: list[Path | str] = []
    elif isinstance(targets, (str, Path)):
        given = [targets]
    else:
        given = list(targets)
    if run is not None and len(given) != 1:
        raise NarrowtuneError("--run pins one task to a run: give exactly one task file with it")
    served = [load_target(t, backend=backend, run=run) for t in given]
    served += [wrap_model(name, model) for name, model in (models or {}).items()]
    registry = ModelRegistry(served, backend=backend)
    metrics = Metrics()
    batcher = None
    if batch_wait_ms > 0:
        batcher = MicroBatcher(
            max_wait=batch_wait_ms / 1000, max_batch=max_batch, on_batch=metrics.count_batch
        )
    # Refuse an oversized body before reading it: the largest legal batch, JSON-escaped.
    max_body = max_batch * (max_text_chars * 6 + 8) + 1024
    signal_state = {"token": _read_signal(reload_signal)}

    async def watch() -> None:
        """Poll the runs folders every `reload_interval` s, and the reload signal every 1 s."""
        tick = min(1.0, reload_interval) if reload_interval > 0 else 1.0
        last_poll = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            token = _read_signal(reload_signal)
            signalled = token != signal_state["token"]
            due = reload_interval > 0 and time.monotonic() - last_poll >= reload_interval
            if not (signalled or due):
                continue
            signal_state["token"] = token
            last_poll = time.monotonic()
            try:
                await run_in_threadpool(registry.reload, retry_failed=signalled)
            except Exception:  # the watcher must outlive any one failure
                log.exception("reload check failed")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        watcher = None
        if reload_interval > 0 or reload_signal is not None:
            watcher = asyncio.create_task(watch())
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with suppress(asyncio.CancelledError):
                    await watcher
            if batcher is not None:
                batcher.close()

    first = registry.default
    app = FastAPI(
        title="narrowtune",
        summary="Serving " + ", ".join(f"{m.name} ({m.kind}, run {m.run_id})" for m in served),
        version="1",
        lifespan=lifespan,
    )
    app.state.registry = registry

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            message = f"request body of {length} bytes is over the {max_body}-byte limit"
            content: dict[str, Any] = {"detail": message}
            if request.url.path.startswith(OPENAI_PATHS):
                content["error"] = _openai_error(413, message)
            response: Response = JSONResponse(content, status_code=413)
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        # The route template, never the raw path: /v1/review/{item_id}, not one series per id.
        path = getattr(route, "path", "other")
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - start)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if not request.url.path.startswith(OPENAI_PATHS):
            return await http_exception_handler(request, error)
        # OpenAI clients read {"error": {"message": ...}}; "detail" stays for everyone else.
        return JSONResponse(
            {"error": _openai_error(error.status_code, str(error.detail)), "detail": error.detail},
            status_code=error.status_code,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if not request.url.path.startswith(OPENAI_PATHS):
            return await request_validation_exception_handler(request, error)
        problems = error.errors()
        first_problem = problems[0] if problems else {}
        where = ".".join(str(x) for x in first_problem.get("loc", ())[1:]) or None
        message = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ())[1:]) or 'body'}: {p.get('msg')}"
            for p in problems
        )
        return JSONResponse(
            {
                "error": _openai_error(422, message, where),
                "detail": json.loads(json.dumps(problems, default=str)),
            },
            status_code=422,
        )

    def require_key(request: Request) -> None:
        """401 unless the request carries an active key; the key itself is never logged.

        `Authorization: Bearer <key>` is what the OpenAI clients send as their `api_key`.
        """
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not store.check_key(key.strip()):
            raise HTTPException(
                status_code=401,
                detail="missing or invalid API key: send 'Authorization: Bearer <key>' "
                "(create one with `narrowtune keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    authorized = [Depends(require_key)]

    def pick(name: str | None) -> ServedModel:
        try:
            return registry.get(name)
        except UnknownModel as error:
            raise HTTPException(status_code=404, detail=str(error)) from error

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        default = registry.default
        return {
            "status": "ok",
            "model": default.run_id,
            "task": default.name,
            "kind": default.kind,
            "models": [
                {"name": m.name, "run_id": m.run_id, "kind": m.kind} for m in registry.all()
            ],
            "pid": os.getpid(),
        }

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(
            metrics.render(registry.all(), registry.reloads),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    @app.get("/v1/models", dependencies=authorized)
    def list_models() -> dict[str, Any]:
        """The served models, in OpenAI's list shape (with each one's kind and run id)."""
        return {"object": "list", "data": [m.describe() for m in registry.all()]}

    @app.get("/v1/models/{name}", dependencies=authorized)
    def get_model(name: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        return pick(name).describe()

    def run_predict(served: ServedModel, texts: list[str]) -> list[Any]:
        with served.lock:
            return served.model.predict(texts)

    @app.post("/v1/predict", dependencies=authorized, response_model_exclude_none=True)
    async def predict(body: PredictRequest, response: Response) -> PredictResponse:
        served = pick(body.model)  # held to the end: a reload meanwhile does not change it
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
        start = time.perf_counter()
        if batcher is not None:
            raw = await batcher.predict(served, texts)
        else:
            raw = await run_in_threadpool(run_predict, served, texts)
        predictions = [scrub_nul(p.to_dict()) for p in raw]
        latency_ms = (time.perf_counter() - start) * 1000
        # Stored before answering: an acknowledged prediction is always in the store.
        await run_in_threadpool(
            store.record,
            predictions,
            texts=texts,
            model=served.run_id,
            request_id=request_id,
            latency_ms=latency_ms,
            task=served.name,
            kind=served.kind,
        )
        metrics.count_predictions(served, len(predictions), sum(p["abstain"] for p in predictions))
        response.headers["X-Request-ID"] = request_id
        return PredictResponse(
            request_id=request_id,
            model=served.run_id,
            task=served.name,
            kind=served.kind,
            predictions=[prediction_out(p) for p in predictions],
        )

    @app.post("/v1/chat/completions", dependencies=authorized, response_model=None)
    async def chat_completions(body: ChatRequest, response: Response) -> Response | dict:
        """OpenAI-compatible chat completions, for models of a generative kind.

        `stream: true` answers Server-Sent Events in OpenAI's chunk format; the reply is
        generated whole first, so it arrives as one content chunk (then the finish chunk).
        """
        served = pick(body.model)
        model = served.model
        if not isinstance(model, GenerativeModel):
            raise HTTPException(
                status_code=400,
                detail=f"model '{served.name}' is a {served.kind} model; /v1/chat/completions "
                "serves generative models (kind generate): use POST /v1/predict for it",
            )
        if body.n not in (None, 1):
            raise HTTPException(status_code=400, detail="only n=1 is supported")
        for unsupported in ("tools", "functions", "tool_choice", "logprobs", "top_logprobs"):
            value = (body.model_extra or {}).get(unsupported)
            if value not in (None, False, [], "none"):
                raise HTTPException(
                    status_code=400, detail=f"'{unsupported}' is not supported by narrowtune"
                )
        try:
            json_schema = response_schema(body.response_format)
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        structured: dict[str, Any] = {}
        if json_schema is not None:
            if "json_schema" not in inspect.signature(model.chat).parameters:
                raise HTTPException(
                    status_code=400,
                    detail=f"model '{served.name}' does not support response_format",
                )
            structured["json_schema"] = json_schema
        messages = [{"role": m.role, "content": m.text()} for m in body.messages]
        chars = sum(len(m["content"]) for m in messages)
        if chars > max_text_chars:
            raise HTTPException(
                status_code=413,
                detail=f"messages hold {chars} characters, over the limit of {max_text_chars}",
            )
        max_new_tokens = body.max_completion_tokens or body.max_tokens
        temperature = body.temperature or 0.0
        stops = body.stops()
        if stops is not None and len(stops) > 4:
            raise HTTPException(status_code=400, detail="'stop' takes at most 4 sequences")

        def generate() -> Generation:
            with served.lock:
                return model.chat(
                    messages,
                    max_new_tokens=max_new_tokens,
                    temperature=temperature,
                    stop=stops,
                    **structured,
                )

        request_id = uuid.uuid4().hex
        start = time.perf_counter()
        try:
            generation = await run_in_threadpool(generate)
        except (ValueError, NarrowtuneError) as error:  # the model refuses the conversation
            raise HTTPException(status_code=400, detail=str(error)) from error
        latency_ms = (time.perf_counter() - start) * 1000
        text = scrub_nul(generation.text)
        problems = [scrub_nul(p) for p in generation.problems]
        usage = {
            "prompt_tokens": int(generation.prompt_tokens),
            "completion_tokens": int(generation.completion_tokens),
            "total_tokens": int(generation.prompt_tokens + generation.completion_tokens),
        }
        # Stored like a prediction: the conversation (JSON) in, the reply out; an invalid reply
        # abstains, which puts it in the review queue.
        stored = {
            "label": "",
            "confidence": 1.0 if generation.valid else 0.0,
            "abstain": not generation.valid,
            "scores": {},
            "output": text,
            "valid": bool(generation.valid),
            "missing": [],
            "problems": problems,
            "finish_reason": generation.finish_reason,
            "usage": usage,
            "endpoint": "chat.completions",
        }
        await run_in_threadpool(
            store.record,
            [stored],
            texts=[json.dumps(messages, ensure_ascii=False)],
            model=served.run_id,
            request_id=request_id,
            latency_ms=latency_ms,
            task=served.name,
            kind=served.kind,
        )
        metrics.count_predictions(served, 1, int(not generation.valid))
        metrics.count_tokens(served, usage["prompt_tokens"], usage["completion_tokens"])
        completion_id = f"chatcmpl-{request_id}"
        created = int(time.time())
        extra = {
            "request_id": request_id,
            "run_id": served.run_id,
            "valid": bool(generation.valid),
            "problems": problems,
        }
        headers = {"X-Request-ID": request_id}
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            chunks = _stream_chunks(
                completion_id, created, served.name, text, generation.finish_reason,
                usage if include_usage else None, extra,
            )  # fmt: skip
            return StreamingResponse(chunks, media_type="text/event-stream", headers=headers)
        response.headers.update(headers)
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": served.name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": generation.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": usage,
            "system_fingerprint": served.run_id,
            "narrowtune": extra,
        }

    @app.post("/v1/admin/reload", dependencies=authorized)
    async def admin_reload(body: ReloadRequest | None = None) -> JSONResponse:
        """Load the newest run of every model served from a task file (or of `model`) now.

        200 when every newer run loaded (or nothing was newer); 500 with `errors` when one
        failed to load, in which case its old run keeps serving.
        """
        name = body.model if body is not None else None
        if name is not None:
            pick(name)
        result = await run_in_threadpool(registry.reload, name, retry_failed=True)
        if reload_signal is not None:  # the other worker processes reload too
            token = uuid.uuid4().hex
            signal_state["token"] = token  # this one already has
            runs.write_text(reload_signal, token)
        result["models"] = [m.describe() for m in registry.all()]
        return JSONResponse(result, status_code=500 if result["errors"] else 200)

    @app.get("/v1/review", dependencies=authorized)
    def review_queue(
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        label: Annotated[Text | None, Query()] = None,
        include_escalated: bool = False,
        model: Annotated[ModelName | None, Query(description="Served model name")] = None,
        max_confidence: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
        after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    ) -> list[dict[str, Any]]:
        return store.open_reviews(
            limit,
            label,
            include_escalated=include_escalated,
            max_confidence=max_confidence,
            model=model,
            after=after,
        )

    @app.post("/v1/review/{item_id}", dependencies=authorized)
    def review_decide(item_id: ItemId, body: DecisionRequest) -> dict[str, Any]:
        item = store.review_item(item_id)
        served = registry.find(item["task"]) if item is not None else None
        known_labels = set(served.labels) if served is not None else set()
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

    add_review_pages(app, store, first.labels, multi_label=first.multi_label, catalog=registry)
    return app


def _read_signal(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text()
    except OSError:
        return None


def _stream_chunks(
    completion_id: str,
    created: int,
    model: str,
    text: str,
    finish_reason: str,
    usage: dict[str, int] | None,
    extra: dict[str, Any],
) -> Iterator[str]:
    """OpenAI's `chat.completion.chunk` events for one finished reply, then `[DONE]`."""

    def event(choices: list[dict[str, Any]], **more: Any) -> str:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **more,
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]

    yield event(choice({"role": "assistant", "content": ""}))
    if text:
        yield event(choice({"content": text}))
    yield event(choice({}, finish_reason), narrowtune=extra)
    if usage is not None:
        yield event([], usage=usage)
    yield "data: [DONE]\n\n"


def app_from_env() -> FastAPI:
    """The app of one worker process of `narrowtune serve --workers N` (uvicorn's factory).

    Reads the options `narrowtune serve` wrote to $NARROWTUNE_SERVE_CONFIG (JSON: targets, db,
    run, backend, max_batch, max_text_chars, reload_interval, reload_signal, batch_wait_ms).
    """
    raw = os.environ.get(CONFIG_ENV)
    if not raw:
        raise NarrowtuneError(
            f"${CONFIG_ENV} is not set: this factory is for the worker processes that "
            "`narrowtune serve --workers N` starts"
        )
    config = json.loads(raw)
    signal = config.get("reload_signal")
    return create_app(
        [Path(t) for t in config["targets"]],
        store=Store(config["db"]),
        run=config.get("run"),
        backend=config.get("backend", "torch"),
        max_batch=int(config.get("max_batch", 256)),
        max_text_chars=int(config.get("max_text_chars", 10_000)),
        reload_interval=float(config.get("reload_interval", 0.0)),
        reload_signal=Path(signal) if signal else None,
        batch_wait_ms=float(config.get("batch_wait_ms", 0.0)),
    )
