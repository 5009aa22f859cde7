"""Who is calling, and what they may do.

Every /v1 route needs `Authorization: Bearer <key>` (what the OpenAI clients send as their
`api_key`) for an active key with the route's scope: `predict` for predictions, chat and the
model list, `review` for the review queue, `admin` for reloads (and for /metrics and the API
docs when the server protects them). The key is checked by the `Guard` middleware before the
request's body is read; routes then ask for a scope with `Depends(require("predict"))`, and
anything recorded in a caller's name (a reviewer's decision) uses the key's name, never a name
the client sends.

Looking a key up is a database query; `KeyCache` keeps recent answers for a couple of seconds
(bounded in size), so the predict path does not query the store on every request. A revoked
key therefore stops working within `ttl` seconds, in every worker.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Depends, HTTPException, Request

from narrowtune.store import KeyInfo, Store

# Where the Guard leaves the caller's KeyInfo in the ASGI scope.
CALLER = "narrowtune.caller"
# The review pages' session cookie, and where the Guard leaves the session it checked (so the
# page that handles the post does not look it up again).
SESSION_COOKIE = "nt_session"
SESSION = "narrowtune.session"


def bearer_key(headers: dict[str, str]) -> str:
    """The key of an `Authorization: Bearer <key>` header ('' when there is none)."""
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


class KeyCache:
    """Recent key lookups (valid and invalid), for `ttl` seconds, at most `size` of them."""

    def __init__(self, store: Store, *, ttl: float = 2.0, size: int = 4096) -> None:
        self.store = store
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[float, KeyInfo | None]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def cached(self, key: str) -> tuple[bool, KeyInfo | None]:
        """(found, info) without touching the store."""
        digest = self._digest(key)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[0] < time.monotonic():
                return False, None
            return True, entry[1]

    def lookup(self, key: str) -> KeyInfo | None:
        """The key's info from the cache, or from the store (then cached)."""
        found, info = self.cached(key)
        if found:
            return info
        try:
            info = self.store.key_info(key) if _encodable(key) else None
        except Exception:  # a store that cannot answer: refuse, never let the key through
            info = None
        digest = self._digest(key)
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.ttl, info)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return info

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


def _encodable(key: str) -> bool:
    return "\x00" not in key and len(key) <= 200 and key.isascii()


def unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail="missing or invalid API key: send 'Authorization: Bearer <key>' "
        "(create one with `narrowtune keys create`)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def caller(request: Request) -> KeyInfo:
    """The caller the Guard let in (401 when there is none: the Guard was bypassed)."""
    info = request.scope.get(CALLER)
    if not isinstance(info, KeyInfo):
        raise unauthorized()
    return info


def require(scope: str) -> Callable[[Request], Any]:
    """A dependency: the caller, who must hold `scope` (else 403 naming it)."""

    async def dependency(request: Request) -> KeyInfo:
        info = caller(request)
        if scope not in info.scopes:
            raise HTTPException(
                status_code=403,
                detail=f"this API key ('{info.name}') lacks the '{scope}' scope; create one "
                f"with `narrowtune keys create NAME --scope {scope}`",
            )
        return info

    return dependency


# The `dependencies=` of routes by scope.
PREDICT = [Depends(require("predict"))]
REVIEW = [Depends(require("review"))]
ADMIN = [Depends(require("admin"))]
