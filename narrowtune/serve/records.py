"""What the server writes to the store for each answer, before the answer is sent: an
acknowledged prediction or completion is always in the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from narrowtune.serve.models import ServedModel
from narrowtune.store import Store, find_nul


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


def record_answers(
    store: Store,
    served: ServedModel,
    answers: list[dict[str, Any]],
    *,
    texts: Sequence[str],
    request_id: str,
    latency_ms: float,
) -> None:
    """Store one request's answers (predictions as dicts), each with its input text; the
    abstained ones become open review items in the same transaction."""
    store.record(
        answers,
        texts=texts,
        model=served.run_id,
        request_id=request_id,
        latency_ms=latency_ms,
        task=served.name,
        kind=served.kind,
    )
