"""Progress reporting: the one callback type long work reports through.

Long steps (encoding, fine-tuning, generating, auditing) call a `ProgressFn` with
`(stage, done, total)`; they never draw anything themselves. The faces decide how it looks: the
CLI draws rich progress bars on a terminal and, when output goes to a log (CI, nohup, a file),
prints a plain line per stage at most every few seconds with `LogProgress`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

# (stage, done, total): kinds and checks report progress through this.
ProgressFn = Callable[[str, int, int], None]


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class LogProgress:
    """A ProgressFn for output that is not a terminal: one plain line per stage at most every
    `interval` seconds (and when a stage starts or ends), with done/total, elapsed and ETA::

        fine-tune 120/480 (25%) elapsed 0:48 eta 2:24
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.started: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.finished: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage not in self.started or (stage in self.finished and done < total):
            self.started[stage] = now  # a stage that runs again (another epoch, another file)
            self.finished.discard(stage)
            self.last.pop(stage, None)
        ending = total > 0 and done >= total
        if stage in self.finished:
            return
        due = stage not in self.last or now - self.last[stage] >= self.interval
        if not (due or ending):
            return
        self.last[stage] = now
        if ending:
            self.finished.add(stage)
        self.stream.write(self.line(stage, done, total, now - self.started[stage]) + "\n")
        self.stream.flush()

    @staticmethod
    def line(stage: str, done: int, total: int, elapsed: float) -> str:
        share = f" ({100 * done / total:.0f}%)" if total > 0 else ""
        eta = ""
        if 0 < done < total:
            eta = f" eta {_clock(elapsed / done * (total - done))}"
        return f"{stage} {done}/{total}{share} elapsed {_clock(elapsed)}{eta}"
