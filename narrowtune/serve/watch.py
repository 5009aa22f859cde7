"""When a server reloads its models without being asked: every `interval` seconds (a newer run
in a followed task's runs folder), and when another worker process signals that POST
/v1/admin/reload ran there. `ModelRegistry.reload` does the reloading itself."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

from fastapi.concurrency import run_in_threadpool

from narrowtune import runs
from narrowtune.serve.models import ModelRegistry

log = logging.getLogger("narrowtune.serve")


class ReloadSignal:
    """A file shared by the worker processes of one server: whoever reloads on request writes
    a fresh token to it, and every other worker sees the token change and reloads too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.token = self._read()  # what this process has acted on already

    def _read(self) -> str | None:
        try:
            return self.path.read_text()
        except OSError:
            return None

    def changed(self) -> bool:
        """Whether another process signalled since the last call (or since start-up)."""
        token = self._read()
        changed = token != self.token
        self.token = token
        return changed

    def publish(self) -> None:
        """Tell the other processes to reload (this one already has)."""
        token = uuid.uuid4().hex
        self.token = token
        runs.write_text(self.path, token)


async def watch(
    registry: ModelRegistry, *, interval: float, signal: ReloadSignal | None = None
) -> None:
    """Poll the runs folders every `interval` s (0: never), and the reload signal every 1 s."""
    tick = min(1.0, interval) if interval > 0 else 1.0
    last_poll = time.monotonic()
    while True:
        await asyncio.sleep(tick)
        signalled = signal is not None and signal.changed()
        due = interval > 0 and time.monotonic() - last_poll >= interval
        if not (signalled or due):
            continue
        last_poll = time.monotonic()
        try:
            await run_in_threadpool(registry.reload, retry_failed=signalled)
        except Exception:  # the watcher must outlive any one failure
            log.exception("reload check failed")
