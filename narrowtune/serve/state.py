"""What every route of one app shares: its models, store, metrics, limits, batcher and reload
signal, in one typed object on `app.state`, handed to routes as a dependency."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from narrowtune.serve.admission import Admission
from narrowtune.serve.auth import KeyCache
from narrowtune.serve.batching import MicroBatcher
from narrowtune.serve.metrics import Metrics
from narrowtune.serve.models import ModelRegistry, ServedModel, UnknownModel
from narrowtune.serve.records import GroupWriter
from narrowtune.serve.watch import ReloadSignal
from narrowtune.store import Store


@dataclass(frozen=True)
class Limits:
    """The most a request may hold: texts in one /v1/predict batch, characters per text (and
    in one chat conversation). Over them: 413."""

    max_batch: int = 256
    max_text_chars: int = 10_000


@dataclass(frozen=True)
class ServeState:
    registry: ModelRegistry
    store: Store
    metrics: Metrics
    limits: Limits
    # Shares each model between concurrent /v1/predict calls, fairly across keys.
    batcher: MicroBatcher
    # Stores the answers of requests that finish together in one transaction.
    writer: GroupWriter
    # Per-key and total limits on requests in flight.
    admission: Admission
    # Rewritten by POST /v1/admin/reload so that the other worker processes reload too.
    reload_signal: ReloadSignal | None = None
    keys: KeyCache | None = None
    # A chat reply that broke its contract: "withhold" its text, or "return" it (flagged).
    on_invalid: str = "withhold"
    # Served pipelines by name (`narrowtune.pipeline.Pipeline`), loaded at start-up.
    pipelines: Mapping[str, Any] = field(default_factory=dict)

    def pick(self, name: str | None) -> ServedModel:
        """The served model named `name` (the first when None); 404 naming the served ones."""
        try:
            return self.registry.get(name)
        except UnknownModel as error:
            raise HTTPException(status_code=404, detail=str(error)) from error


async def serve_state(request: Request) -> ServeState:
    # async: FastAPI would run a plain `def` dependency in a worker thread, on every request.
    state: ServeState = request.app.state.serve
    return state


AppState = Annotated[ServeState, Depends(serve_state)]
