"""The OpenAI-compatible routes: GET /v1/models, GET /v1/models/{name} and POST
/v1/chat/completions, so OpenAI's clients (and narrowtune's own prompted-LLM baselines) can
talk to generative models. Their errors also carry OpenAI's shape (see `errors`)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from narrowtune.errors import NarrowtuneError
from narrowtune.serve.auth import PREDICT, caller
from narrowtune.serve.chat import ChatCall, Completion, Reply, chat_call
from narrowtune.serve.records import answers_record
from narrowtune.serve.routing import OffLoopRoute
from narrowtune.serve.schemas import ChatRequest
from narrowtune.serve.state import AppState, ServeState

router = APIRouter(route_class=OffLoopRoute)


@router.get("/v1/models", dependencies=PREDICT)
def list_models(state: AppState) -> dict[str, Any]:
    """The served models, in OpenAI's list shape (with each one's kind and run id)."""
    return {"object": "list", "data": [m.describe() for m in state.registry.all()]}


@router.get("/v1/models/{name}", dependencies=PREDICT)
def get_model(name: Annotated[str, PathParam(max_length=200)], state: AppState) -> dict[str, Any]:
    return state.pick(name).describe()


@router.post("/v1/chat/completions", dependencies=PREDICT, response_model=None)
async def chat_completions(
    body: ChatRequest, request: Request, response: Response, state: AppState
) -> Response | dict[str, Any]:
    """OpenAI-compatible chat completions, for models of a generative kind.

    `stream: true` answers Server-Sent Events in OpenAI's chunk format; the reply is
    generated whole first, so it arrives as one content chunk (then the finish chunk). A reply
    that breaks its contract after retries is withheld by default: no content, finish_reason
    `content_filter`, the reasons in `narrowtune.problems` (and `refusal`), the item in the
    review queue; `on_invalid: "return"` hands it over flagged `narrowtune.valid: false`.
    """
    call = chat_call(
        body,
        state.pick(body.model),
        max_text_chars=state.limits.max_text_chars,
        on_invalid=state.on_invalid,
    )
    request_id = uuid.uuid4().hex
    with state.admission.enter(caller(request).name):
        reply = await reply_and_record(state, call, request_id=request_id)
    completion = Completion.of(reply, call.served, request_id, on_invalid=call.on_invalid)
    headers = {"X-Request-ID": request_id}
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        chunks = completion.chunks(include_usage=include_usage)
        return StreamingResponse(chunks, media_type="text/event-stream", headers=headers)
    response.headers.update(headers)
    return completion.body()


async def reply_and_record(state: ServeState, call: ChatCall, *, request_id: str) -> Reply:
    """The model's reply, already stored and counted in the metrics; 400 when the model
    refuses the conversation."""
    start = time.perf_counter()
    try:
        generation = await run_in_threadpool(call.run)
    except (ValueError, NarrowtuneError) as error:  # the model refuses the conversation
        raise HTTPException(status_code=400, detail=str(error)) from error
    latency_ms = (time.perf_counter() - start) * 1000
    reply = Reply.of(generation)
    # Stored like a prediction: the conversation (JSON) in, the reply out.
    record = answers_record(
        call.served,
        [reply.record()],
        texts=[json.dumps(call.messages, ensure_ascii=False)],
        request_id=request_id,
        latency_ms=latency_ms,
    )
    await state.writer.write(record)
    state.metrics.count_predictions(call.served, 1, int(not reply.valid))
    state.metrics.count_tokens(
        call.served, reply.usage["prompt_tokens"], reply.usage["completion_tokens"]
    )
    return reply
