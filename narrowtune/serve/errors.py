"""How the server answers errors: FastAPI's `{"detail": ...}` everywhere, plus OpenAI's
`{"error": {...}}` on the OpenAI-compatible routes (OpenAI clients read only that), and a 413 for
a body too large to be a legal request, refused before it is read."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Routes that answer errors in OpenAI's shape too ({"error": {...}}), for OpenAI clients.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
}


def openai_error(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    """The `error` object of an OpenAI error response."""
    kind = _ERROR_TYPES.get(status, "server_error")
    return {"message": message, "type": kind, "param": param, "code": None}


async def http_error(request: Request, error: HTTPException) -> Response:
    if not request.url.path.startswith(OPENAI_PATHS):
        return await http_exception_handler(request, error)
    # OpenAI clients read {"error": {"message": ...}}; "detail" stays for everyone else.
    return JSONResponse(
        {"error": openai_error(error.status_code, str(error.detail)), "detail": error.detail},
        status_code=error.status_code,
        headers=error.headers,
    )


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
            "error": openai_error(422, message, where),
            "detail": json.loads(json.dumps(problems, default=str)),
        },
        status_code=422,
    )


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def max_body_bytes(max_batch: int, max_text_chars: int) -> int:
    """The largest legal request body: a full batch of the longest texts, JSON-escaped (a
    character is at most 6 bytes as `\\uXXXX`), plus room for the rest of the JSON."""
    return max_batch * (max_text_chars * 6 + 8) + 1024


class BodyLimit:
    """ASGI middleware: 413 for a request whose Content-Length is over `max_body`, before its
    body is read (a chunked body is left to the routes' own limits)."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                message = f"request body of {length} bytes is over the {self.max_body}-byte limit"
                content: dict[str, Any] = {"detail": message}
                if request.url.path.startswith(OPENAI_PATHS):
                    content["error"] = openai_error(413, message)
                await JSONResponse(content, status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)
