"""Cross-request batching, shared fairly: concurrent /v1/predict calls to one model become one
model call, and no caller can hold the model.

Every request's texts join their model's queue, under the caller's key name. When the model is
free, the next call is filled round-robin across callers, at most `chunk` texts from each
caller per turn, until the call holds `max_batch` texts or its texts add up to `max_chars`
characters (a text counts at most `TEXT_CHARS`: the encoder truncates longer ones). So a
caller's large batch is split over several calls, and a one-text request that arrives behind it
goes in the next call, not after the whole batch. A request is answered when all its texts
are.

`max_wait` > 0: an idle model waits that long for company before the first call. With 0 the
first request goes at once, and requests that arrive while a call runs share the next one.

Batching is per `ServedModel` object, so after a hot reload, requests that started on the old
model are still answered by the old model, and new ones by the new.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from narrowtune.serve.models import ServedModel

# What one text costs a model call at most, in characters: encoders truncate at a few hundred
# tokens.
TEXT_CHARS = 2_000


@dataclass
class _Waiting:
    texts: Sequence[str]
    future: asyncio.Future[list[Any]]
    results: list[Any] = field(default_factory=list)
    sent: int = 0  # texts handed to a model call so far


@dataclass
class _Queue:
    """One model's waiting requests, by caller, in round-robin order."""

    callers: OrderedDict[str, deque[_Waiting]] = field(default_factory=OrderedDict)

    def add(self, caller: str, waiting: _Waiting) -> None:
        self.callers.setdefault(caller, deque()).append(waiting)

    def texts(self) -> int:
        return sum(len(w.texts) - w.sent for q in self.callers.values() for w in q)

    def __bool__(self) -> bool:
        return bool(self.callers)


class MicroBatcher:
    """Fills each model call round-robin over the callers waiting (see the module's docstring)."""

    def __init__(
        self,
        *,
        max_wait: float,
        max_batch: int,
        chunk: int = 16,
        max_chars: int = 16_000,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.chunk = chunk
        self.max_chars = max_chars
        self.on_batch = on_batch
        self._queues: dict[int, _Queue] = {}
        self._drainers: dict[int, asyncio.Task[None]] = {}

    async def predict(
        self, served: ServedModel, texts: Sequence[str], *, caller: str = ""
    ) -> list[Any]:
        """The model's predictions for `texts`, computed together with concurrent calls."""
        if not texts:
            return []
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        key = id(served)
        self._queues.setdefault(key, _Queue()).add(caller, _Waiting(texts, future))
        if key not in self._drainers:
            self._drainers[key] = asyncio.create_task(self._drain(key, served))
        return await future

    def _take(self, queue: _Queue) -> list[tuple[_Waiting, int, int]]:
        """The next call's pieces, (request, start, end), round-robin over callers."""
        pieces: list[tuple[_Waiting, int, int]] = []
        size = chars = 0
        while queue and size < self.max_batch and chars < self.max_chars:
            caller, waiting_list = next(iter(queue.callers.items()))
            waiting = waiting_list[0]
            start = waiting.sent
            end = start
            limit = min(len(waiting.texts), start + self.chunk, start + self.max_batch - size)
            while end < limit and (end == start or chars < self.max_chars):
                chars += min(len(waiting.texts[end]), TEXT_CHARS)
                end += 1
            waiting.sent = end
            size += end - start
            pieces.append((waiting, start, end))
            if waiting.sent == len(waiting.texts):
                waiting_list.popleft()
            # This caller's turn is over: to the back of the line (or out, when done).
            queue.callers.pop(caller)
            if waiting_list:
                queue.callers[caller] = waiting_list
        return pieces

    async def _drain(self, key: int, served: ServedModel) -> None:
        try:
            queue = self._queues[key]
            if self.max_wait > 0 and queue.texts() < self.max_batch:
                await asyncio.sleep(self.max_wait)  # the model is idle: wait for company
            else:
                await asyncio.sleep(0)  # the requests of this same turn join the first call
            while queue:
                pieces = self._take(queue)
                texts = [t for waiting, start, end in pieces for t in waiting.texts[start:end]]
                try:
                    results = await run_in_threadpool(served.predict, texts)
                    if len(results) != len(texts):
                        raise RuntimeError(
                            f"model returned {len(results)} predictions for {len(texts)} texts"
                        )
                except BaseException as error:
                    self._fail(queue, pieces, error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                if self.on_batch is not None:
                    self.on_batch(len(pieces))
                offset = 0
                for waiting, start, end in pieces:
                    waiting.results.extend(results[offset : offset + end - start])
                    offset += end - start
                    if len(waiting.results) == len(waiting.texts) and not waiting.future.done():
                        waiting.future.set_result(waiting.results)  # a client that left: skip
        finally:
            self._drainers.pop(key, None)
            for waiting_list in self._queues.pop(key, _Queue()).callers.values():
                for waiting in waiting_list:
                    if not waiting.future.done():
                        waiting.future.set_exception(RuntimeError("the server is shutting down"))

    @staticmethod
    def _fail(queue: _Queue, pieces: list[tuple[_Waiting, int, int]], error: BaseException) -> None:
        """A failed call fails each request it held a piece of (their other pieces are
        dropped from the queue)."""
        failed = {id(waiting) for waiting, _, _ in pieces}
        for waiting, _, _ in pieces:
            if not waiting.future.done():
                waiting.future.set_exception(error)
        for caller in list(queue.callers):
            left = deque(w for w in queue.callers[caller] if id(w) not in failed)
            if left:
                queue.callers[caller] = left
            else:
                queue.callers.pop(caller)

    def close(self) -> None:
        for task in list(self._drainers.values()):
            task.cancel()
