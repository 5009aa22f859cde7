"""What the server writes to the store for each answer, before the answer is sent: an
acknowledged prediction or completion is always in the store.

`GroupWriter` is a group commit: the answers of the requests that finish while a write is under
way are written together in the next transaction, so the store costs one commit per group, not
per request, under load, and a lone request still goes straight in. A request is answered only
after its own rows are committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.concurrency import run_in_threadpool

from narrowtune.serve.models import ServedModel
from narrowtune.store import Record, Store, find_nul


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


def answers_record(
    served: ServedModel,
    answers: list[dict[str, Any]],
    *,
    texts: Sequence[str],
    request_id: str,
    latency_ms: float,
) -> Record:
    """One request's answers (predictions as dicts), each with its input text, as the store
    keeps them; the abstained ones become open review items."""
    return Record(
        answers,
        texts,
        model=served.run_id,
        request_id=request_id,
        latency_ms=latency_ms,
        task=served.name,
        kind=served.kind,
    )


class GroupWriter:
    """Writes each request's Record, grouping those that arrive while a write runs."""

    def __init__(self, store: Store, *, max_group: int = 512) -> None:
        self.store = store
        self.max_group = max_group
        self._pending: list[tuple[Record, asyncio.Future[list[int]]]] = []
        self._task: asyncio.Task[None] | None = None
        self.groups = 0  # transactions written (for the metrics)

    async def write(self, record: Record) -> list[int]:
        """Store `record` (with whatever else is waiting); its prediction ids once committed.
        A record the store cannot keep raises here, alone: `Store.record_many` checks every
        record before it writes any, and a group it refuses is written again one by one."""
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        # Shielded: a client that leaves does not take its rows out of a group being written.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the requests that finished in the same turn join
        while self._pending:
            group = self._pending[: self.max_group]
            del self._pending[: self.max_group]
            try:
                ids = await run_in_threadpool(self.store.record_many, [r for r, _ in group])
            except Exception as error:
                if len(group) == 1:
                    _settle(group[0][1], error=error)
                    continue
                # One bad record must not fail the others: write them one by one.
                for record, future in group:
                    try:
                        (one,) = await run_in_threadpool(self.store.record_many, [record])
                    except Exception as single:
                        _settle(future, error=single)
                    else:
                        _settle(future, result=one)
                continue
            self.groups += 1
            for (_, future), one in zip(group, ids, strict=True):
                _settle(future, result=one)


def _settle(
    future: asyncio.Future[list[int]],
    *,
    result: list[int] | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or [])
