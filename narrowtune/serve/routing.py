"""Routes whose JSON body is parsed and checked in a worker thread, not on the event loop.

FastAPI parses a JSON body and validates it on the event loop: a few megabytes of small values
(`{"texts": [1, 1, ...]}`) or a million unknown fields hold the loop for a second or more, and
every other request (health checks included) waits. `OffLoopRoute` does that work in a thread
first: the body is parsed, its size in JSON values and its depth are bounded, and it is
validated against the route's body model; a body that fails is answered 422 from the thread's
result (the first problems only, never the input), and one that passes is handed to FastAPI
already parsed, where validating a legal body is cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from narrowtune.serve.errors import validation_error

# The most JSON values (objects, arrays, strings, numbers...) and the deepest nesting a request
# body may have; a legal request has far fewer.
MAX_VALUES = 50_000
MAX_DEPTH = 32
# Bodies up to this size that orjson refuses are parsed again by the standard library, which
# accepts what JSON's grammar does not (NaN) or names a problem better (a lone surrogate), so
# that the body's schema can say which field is wrong. Bigger ones are refused as they are.
RETRY_STDLIB = 64 * 1024


class TooComplex(ValueError):
    pass


def check_shape(value: Any) -> None:
    """TooComplex when `value` holds more than MAX_VALUES values or nests deeper than
    MAX_DEPTH (iterative: a deep body cannot overflow the stack)."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise TooComplex(f"the body holds more than {MAX_VALUES} JSON values")
        if depth > MAX_DEPTH:
            raise TooComplex(f"the body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            count += len(item)  # the keys
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _not_json(error: json.JSONDecodeError) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "type": "json_invalid",
                "loc": ("body", error.pos),
                "msg": f"JSON decode error: {error.msg}",
            }
        ]
    )


def _problem(message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": message, "type": "value_error"}])


class OffLoopRoute(APIRoute):
    """An APIRoute whose JSON body is parsed, bounded and validated in a worker thread."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        field = self.body_field

        def parse(body: bytes) -> tuple[Any, RequestValidationError | None]:
            # orjson: a few times faster than the standard library, which matters because a
            # parser holds the GIL (and so the event loop) for as long as it runs.
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError as error:
                if len(body) > RETRY_STDLIB:
                    return None, _not_json(error)
                try:
                    value = json.loads(body)
                except ValueError:
                    return None, None  # FastAPI reports malformed JSON itself (422, with where)
            except RecursionError:
                return None, _problem(f"the body nests deeper than {MAX_DEPTH} levels")
            try:
                check_shape(value)
            except TooComplex as error:
                return None, _problem(str(error))
            if field is not None:
                _, errors = field.validate(value, {}, loc=("body",))
                if errors:
                    return None, RequestValidationError(errors)
            return value, None

        async def parse_first(request: Request) -> Response:
            body = await request.body()
            content_type = request.headers.get("content-type", "")
            if body and ("json" in content_type or not content_type):
                value, problem = await run_in_threadpool(parse, body)
                if problem is not None:
                    return await validation_error(request, problem)
                if value is not None:
                    request._json = value  # Starlette caches request.json() there
            return await handler(request)

        return parse_first
