"""Cross-request batching: concurrent /v1/predict calls to one model become one model call.

A request's texts join their model's queue. When a model is idle, the first request waits up to
`max_wait` seconds for company; then everything queued (up to `max_batch` texts) goes to
`model.predict` in one call, and each request gets its own slice of the answers back. While that
call runs, new requests queue up and go in the next call, without waiting again.

Batching is per `ServedModel` object, so after a hot reload, requests that started on the old
model are still answered by the old model, and new ones by the new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from narrowtune.serve.models import ServedModel


@dataclass
class _Waiting:
    texts: Sequence[str]
    future: asyncio.Future[list[Any]]


class MicroBatcher:
    """Groups the predict calls that arrive within `max_wait` seconds of each other."""

    def __init__(
        self,
        *,
        max_wait: float,
        max_batch: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.on_batch = on_batch
        self._queues: dict[int, list[_Waiting]] = {}
        self._drainers: dict[int, asyncio.Task[None]] = {}

    async def predict(self, served: ServedModel, texts: Sequence[str]) -> list[Any]:
        """The model's predictions for `texts`, computed together with concurrent calls."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        key = id(served)
        self._queues.setdefault(key, []).append(_Waiting(texts, future))
        if key not in self._drainers:
            self._drainers[key] = asyncio.create_task(self._drain(key, served))
        return await future

    def _take(self, queue: list[_Waiting]) -> list[_Waiting]:
        """The oldest waiting requests whose texts fit in one call (at least one request)."""
        taken = [queue.pop(0)]
        size = len(taken[0].texts)
        while queue and size + len(queue[0].texts) <= self.max_batch:
            size += len(queue[0].texts)
            taken.append(queue.pop(0))
        return taken

    async def _drain(self, key: int, served: ServedModel) -> None:
        try:
            queue = self._queues[key]
            if sum(len(w.texts) for w in queue) < self.max_batch:
                await asyncio.sleep(self.max_wait)  # the model is idle: wait for company
            while queue:
                batch = self._take(queue)
                texts = [text for waiting in batch for text in waiting.texts]
                try:
                    results = await run_in_threadpool(served.predict, texts)
                    if len(results) != len(texts):
                        raise RuntimeError(
                            f"model returned {len(results)} predictions for {len(texts)} texts"
                        )
                except BaseException as error:
                    for waiting in batch:
                        if not waiting.future.done():
                            waiting.future.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                if self.on_batch is not None:
                    self.on_batch(len(batch))
                start = 0
                for waiting in batch:
                    end = start + len(waiting.texts)
                    if not waiting.future.done():  # a client that left is simply skipped
                        waiting.future.set_result(list(results[start:end]))
                    start = end
        finally:
            self._drainers.pop(key, None)
            for waiting in self._queues.pop(key, []):
                if not waiting.future.done():
                    waiting.future.set_exception(RuntimeError("the server is shutting down"))

    def close(self) -> None:
        for task in list(self._drainers.values()):
            task.cancel()
