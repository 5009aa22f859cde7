"""API keys: every /v1 route but the health and metrics ones needs an active key."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request

from narrowtune.serve.state import AppState


def require_key(request: Request, state: AppState) -> None:
    """401 unless the request carries an active key; the key itself is never logged.

    `Authorization: Bearer <key>` is what the OpenAI clients send as their `api_key`.
    """
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not state.store.check_key(key.strip()):
        raise HTTPException(
            status_code=401,
            detail="missing or invalid API key: send 'Authorization: Bearer <key>' "
            "(create one with `narrowtune keys create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )


# The `dependencies=` of every route that needs a key.
AUTHORIZED = [Depends(require_key)]
