"""The first thing every request meets: host, key, body size and the access log, settled before
any route runs and before a body is read.

In order, for each HTTP request:
1. `Host` must be one of the trusted hosts when the server was given some (a page on another
   site cannot then reach a loopback server through DNS rebinding): else 400.
2. Query parameters that look like credentials (`key`, `api_key`, `token`, ...) are replaced by
   `REDACTED` in the request's scope, which is what uvicorn's access log prints: a key pasted
   into a URL never reaches a log file.
3. Routes that need a key (`/v1/...`, and `/metrics` and the docs when protected) are answered
   401 at once, without reading the body, unless `Authorization: Bearer <key>` holds an active
   key; the caller's `KeyInfo` rides along in the scope for the routes' scope checks. The review
   pages' posts need a live session cookie, checked the same way (else a redirect to /login).
4. The body is read here, counting bytes as they arrive, chunked or not: past the route's limit
   the answer is 413 at once and the rest is never read. A body within the limit is handed to
   the app unchanged. So memory per request is bounded by the limit, whatever a client sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from narrowtune.serve.auth import CALLER, SESSION, SESSION_COOKIE, KeyCache, bearer_key
from narrowtune.serve.errors import OPENAI_PATHS, openai_error

# Query parameters whose values are never logged.
SECRET_PARAMS = frozenset(
    {"key", "api_key", "apikey", "api-key", "token", "access_token", "password", "secret"}
)
# The body limit of every route but the ones named in `Guard.large_paths`: review decisions,
# login, logout and reloads are small forms.
SMALL_BODY = 64 * 1024
OPS_PATHS = ("/metrics", "/docs", "/redoc", "/openapi.json")


@dataclass(frozen=True)
class GuardPolicy:
    """What the Guard enforces (see `create_app`)."""

    large_body: int  # the body limit of /v1/predict and /v1/chat/completions
    # The body limit of /v1/pipelines/<name>: a few inputs of the longest text each.
    pipeline_body: int = SMALL_BODY
    # Host names (without port) requests may address; empty: any.
    trusted_hosts: frozenset[str] = field(default_factory=frozenset)
    # /metrics and the API docs need an admin key too.
    protect_ops: bool = False


class TooLarge(Exception):
    pass


class Guard:
    """ASGI middleware; see the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyCache,
        policy: GuardPolicy,
        session_check: Callable[[str], Any] | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.policy = policy
        self.session_check = session_check
        self.large_paths = ("/v1/predict", "/v1/chat/completions")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope.get("path", "")
        if self.policy.trusted_hosts and _host(headers) not in self.policy.trusted_hosts:
            await _answer(send, 400, path, "this server does not answer for that Host header")
            return
        _redact_query(scope)
        if self._needs_key(path):
            key = bearer_key(dict(headers))
            found, info = self.keys.cached(key)
            if not found:
                info = await run_in_threadpool(self.keys.lookup, key)
            if info is None:
                await _answer(
                    send,
                    401,
                    path,
                    "missing or invalid API key: send 'Authorization: Bearer <key>' "
                    "(create one with `narrowtune keys create`)",
                    {"www-authenticate": "Bearer"},
                )
                return
            if not path.startswith("/v1") and "admin" not in info.scopes:
                await _answer(
                    send,
                    403,
                    path,
                    f"this API key ('{info.name}') lacks the 'admin' scope that {path} needs",
                )
                return
            scope[CALLER] = info
        elif scope.get("method") == "POST" and self._needs_session(path):
            token = _cookie(headers, SESSION_COOKIE)
            session = None
            if self.session_check is not None and token:
                session = await run_in_threadpool(self.session_check, token)
            if session is None:
                target = path + (
                    f"?{scope['query_string'].decode('latin-1')}"
                    if scope.get("query_string")
                    else ""
                )
                await _redirect(send, "/login?next=" + quote(target, safe=""))
                return
            scope[SESSION] = session
        if path in self.large_paths:
            limit = self.policy.large_body
        elif path.startswith("/v1/pipelines/"):
            limit = max(self.policy.pipeline_body, SMALL_BODY)
        else:
            limit = SMALL_BODY
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _answer(send, 413, path, _too_large(int(length), limit))
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive, limit)
        except TooLarge:
            await _answer(send, 413, path, f"request body is over the {limit}-byte limit")
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)

    def _needs_key(self, path: str) -> bool:
        if path.startswith("/v1/") or path == "/v1":
            return True
        return self.policy.protect_ops and path.startswith(OPS_PATHS)

    @staticmethod
    def _needs_session(path: str) -> bool:
        return path.startswith("/review") or path == "/logout"


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refused (TooLarge) as soon as it passes `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        if chunk:
            parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits on the real one (for
    the client's disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _too_large(length: int, limit: int) -> str:
    return f"request body of {length} bytes is over the {limit}-byte limit"


def _host(headers: Headers) -> str:
    host = headers.get("host", "")
    if host.startswith("["):  # [::1]:8000
        return host[1:].split("]", 1)[0].lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def _cookie(headers: Headers, name: str) -> str:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def _redact_query(scope: Scope) -> None:
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    if not any(k.lower() in SECRET_PARAMS for k, _ in pairs):
        return
    cleaned = [(k, "REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    scope["query_string"] = urlencode(cleaned).encode("latin-1", "replace")


async def _answer(
    send: Send, status: int, path: str, message: str, headers: dict[str, str] | None = None
) -> None:
    content: dict[str, Any] = {"detail": message}
    if path.startswith(OPENAI_PATHS):
        content["error"] = openai_error(status, message)
    body = json.dumps(content).encode("utf-8")
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The body was not read (or not all of it): the connection cannot be reused.
                (b"connection", b"close"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode()),
                (b"content-length", b"0"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
