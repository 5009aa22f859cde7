"""Who gets in, when the server is busy: bounded, per-key admission for the model routes.

- At most `per_key` requests of one key are in flight at once; the next one gets 429 with
  `Retry-After`, so one client cannot queue up the whole server.
- Optionally (`rate` > 0) a key may start at most `rate` requests per second on average, with
  bursts of `burst` (a token bucket); over it, 429 with the seconds until the next token.
- At most `max_queue` requests are in flight in all; past that every new one gets 503 with
  `Retry-After`, rather than a queue (and latencies) that grow without bound.

State is per key name, and only keys that passed the Guard get here, so it is bounded by the
number of keys in the store, not by what strangers send; idle keys are forgotten.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import HTTPException


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Admission:
    per_key: int = 128
    max_queue: int = 2048
    rate: float = 0.0
    burst: float = 0.0
    _inflight: dict[str, int] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _total: int = 0
    refused: dict[int, int] = field(default_factory=dict)  # status -> count (for the metrics)

    @contextmanager
    def enter(self, key: str) -> Iterator[None]:
        """Hold a place for one request of `key` (429/503 when there is none)."""
        if self._total >= self.max_queue:
            self._refuse(503, "the server is at capacity; retry shortly", 1)
        if self._inflight.get(key, 0) >= self.per_key:
            self._refuse(
                429,
                f"this API key already has {self.per_key} requests in flight; wait for "
                "answers before sending more",
                1,
            )
        if self.rate > 0:
            self._take_token(key)
        self._inflight[key] = self._inflight.get(key, 0) + 1
        self._total += 1
        try:
            yield
        finally:
            self._total -= 1
            left = self._inflight[key] - 1
            if left:
                self._inflight[key] = left
            else:
                del self._inflight[key]

    def _take_token(self, key: str) -> None:
        now = time.monotonic()
        capacity = max(self.burst, 1.0)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            self._refuse(429, f"this API key is over its rate of {self.rate:g} requests/s", wait)
        bucket.tokens -= 1
        if len(self._buckets) > 4 * max(len(self._inflight), 256):
            # Forget full buckets (idle keys): they would be full again anyway.
            for name in [n for n, b in self._buckets.items() if b.tokens >= capacity - 1]:
                self._buckets.pop(name, None)

    def _refuse(self, status: int, detail: str, retry_after: int) -> None:
        self.refused[status] = self.refused.get(status, 0) + 1
        raise HTTPException(
            status_code=status, detail=detail, headers={"Retry-After": str(max(1, retry_after))}
        )
