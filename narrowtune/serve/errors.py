"""How the server answers errors: FastAPI's `{"detail": ...}` everywhere, plus OpenAI's
`{"error": {...}}` on the OpenAI-compatible routes (OpenAI clients read only that). Validation
errors are bounded: the first few problems, then a count, never the input itself."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


# A validation error lists at most this many problems (then how many there were in all), and
# never echoes the input: a 4 MB list of wrong items must not become a 200 MB answer, and an
# input holding NaN or a lone surrogate must not break the answer's own JSON.
MAX_PROBLEMS = 20
MAX_LOC_CHARS = 100


def _loc_part(part: Any) -> str | int:
    if isinstance(part, int):
        return part
    text = str(part)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= MAX_LOC_CHARS else text[: MAX_LOC_CHARS - 1] + "…"


def bounded_problems(error: RequestValidationError) -> tuple[list[dict[str, Any]], int]:
    """The first MAX_PROBLEMS problems as {loc, msg, type} (no input, no context), and the
    total count."""
    problems = error.errors()
    shown = [
        {
            "loc": [_loc_part(x) for x in p.get("loc", ())],
            "msg": str(p.get("msg", "")),
            "type": str(p.get("type", "")),
        }
        for p in problems[:MAX_PROBLEMS]
    ]
    return shown, len(problems)


async def validation_error(request: Request, error: RequestValidationError) -> Response:
    shown, total = bounded_problems(error)
    content: dict[str, Any] = {"detail": shown}
    if total > len(shown):
        content["more_problems"] = total - len(shown)
    if request.url.path.startswith(OPENAI_PATHS):
        first = shown[0] if shown else {"loc": []}
        where = ".".join(str(x) for x in first["loc"][1:]) or None
        message = "; ".join(
            f"{'.'.join(str(x) for x in p['loc'][1:]) or 'body'}: {p['msg']}" for p in shown
        )
        if total > len(shown):
            message += f"; and {total - len(shown)} more"
        content["error"] = openai_error(422, message, where)
    return JSONResponse(content, status_code=422)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def max_body_bytes(max_batch: int, max_text_chars: int) -> int:
    """The largest legal request body: a full batch of the longest texts, JSON-escaped (a
    character is at most 6 bytes as `\\uXXXX`), plus room for the rest of the JSON."""
    return max_batch * (max_text_chars * 6 + 8) + 1024
