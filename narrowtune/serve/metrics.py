"""Prometheus metrics of the server: request counts, a latency histogram per route, predictions,
abstentions, tokens, reloads and micro-batches, written in Prometheus' text format by hand.
`RequestMetrics` is the ASGI middleware that times every request by its route template.

With several worker processes (`narrowtune serve --workers N`) each worker counts its own
requests, so one worker's /metrics alone would jump up and down between scrapes (each scrape
lands on some worker). Given a shared folder, every worker writes its counters there (a small
JSON file per process, replaced atomically, every second and on every scrape), and /metrics
answers with the sum over every file: counters that only go up, whichever worker answers. A
worker that died keeps its file, so its counts stay in the sums.
"""

from __future__ import annotations

import bisect
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from narrowtune.serve.models import ServedModel

# Seconds; Prometheus' default buckets, shifted down because a small classifier answers in ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    """A Prometheus label value, escaped (model names handed to create_app can be anything)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters and a latency histogram, written in Prometheus text format by hand.

    A few dozen lines instead of a `prometheus_client` dependency; one lock because the
    predict path runs in several threads at once.
    """

    def __init__(self, share_dir: Path | str | None = None) -> None:
        self.share_dir = Path(share_dir) if share_dir is not None else None
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.latency_count: dict[str, int] = {}
        # Keyed by (run id, task name).
        self.predictions: dict[tuple[str, str], int] = {}
        self.abstentions: dict[tuple[str, str], int] = {}
        self.tokens: dict[tuple[str, str, str], int] = {}
        self.batches = 0
        self.batched_requests = 0

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, path, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            counts = self.buckets.setdefault(path, [0] * len(LATENCY_BUCKETS))
            index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
            if index < len(counts):
                counts[index] += 1  # stored per bucket; made cumulative when rendered
            self.latency_sum[path] = self.latency_sum.get(path, 0.0) + seconds
            self.latency_count[path] = self.latency_count.get(path, 0) + 1

    def count_predictions(self, served: ServedModel, total: int, abstained: int) -> None:
        key = (served.run_id, served.name)
        with self._lock:
            self.predictions[key] = self.predictions.get(key, 0) + total
            self.abstentions[key] = self.abstentions.get(key, 0) + abstained

    def count_tokens(self, served: ServedModel, prompt: int, completion: int) -> None:
        with self._lock:
            for which, value in (("prompt", prompt), ("completion", completion)):
                key = (served.run_id, served.name, which)
                self.tokens[key] = self.tokens.get(key, 0) + value

    def count_batch(self, requests: int) -> None:
        with self._lock:
            self.batches += 1
            self.batched_requests += requests

    def snapshot(self) -> dict[str, Any]:
        """The counters as plain JSON data."""
        with self._lock:
            return {
                "requests": [[*k, v] for k, v in self.requests.items()],
                "buckets": {p: list(c) for p, c in self.buckets.items()},
                "latency_sum": dict(self.latency_sum),
                "latency_count": dict(self.latency_count),
                "predictions": [[*k, v] for k, v in self.predictions.items()],
                "abstentions": [[*k, v] for k, v in self.abstentions.items()],
                "tokens": [[*k, v] for k, v in self.tokens.items()],
                "batches": self.batches,
                "batched_requests": self.batched_requests,
            }

    def add(self, snapshot: dict[str, Any]) -> None:
        """Add another process's counters (a `snapshot`) to these."""
        with self._lock:
            for method, path, status, value in snapshot.get("requests", []):
                key = (str(method), str(path), int(status))
                self.requests[key] = self.requests.get(key, 0) + int(value)
            for path, counts in snapshot.get("buckets", {}).items():
                mine = self.buckets.setdefault(path, [0] * len(LATENCY_BUCKETS))
                for i, count in enumerate(counts[: len(mine)]):
                    mine[i] += int(count)
            for path, value in snapshot.get("latency_sum", {}).items():
                self.latency_sum[path] = self.latency_sum.get(path, 0.0) + float(value)
            for path, value in snapshot.get("latency_count", {}).items():
                self.latency_count[path] = self.latency_count.get(path, 0) + int(value)
            for name, table in (
                ("predictions", self.predictions),
                ("abstentions", self.abstentions),
            ):
                for run, task, value in snapshot.get(name, []):
                    table[(run, task)] = table.get((run, task), 0) + int(value)
            for run, task, which, value in snapshot.get("tokens", []):
                self.tokens[(run, task, which)] = self.tokens.get((run, task, which), 0) + int(
                    value
                )
            self.batches += int(snapshot.get("batches", 0))
            self.batched_requests += int(snapshot.get("batched_requests", 0))

    def publish(self) -> None:
        """Write this process's counters to the shared folder (nothing without one)."""
        if self.share_dir is None:
            return
        target = self.share_dir / f"worker-{os.getpid()}.json"
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(self.snapshot()))
        os.replace(partial, target)

    def combined(self) -> Metrics:
        """Every worker's counters summed (these alone without a shared folder)."""
        if self.share_dir is None:
            return self
        self.publish()
        total = Metrics()
        for path in sorted(self.share_dir.glob("worker-*.json")):
            try:
                total.add(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # unreadable: counted at the next scrape
        return total

    def render(self, models: Sequence[ServedModel], reloads: int) -> str:
        """The Prometheus text of every worker's counters (see the module's docstring)."""
        return self.combined()._render(models, reloads)

    def _render(self, models: Sequence[ServedModel], reloads: int) -> str:
        with self._lock:
            lines = [
                "# HELP narrowtune_requests_total HTTP requests by method, route and status.",
                "# TYPE narrowtune_requests_total counter",
            ]
            for (method, path, status), value in sorted(self.requests.items()):
                lines.append(
                    f'narrowtune_requests_total{{method="{method}",path="{path}",'
                    f'status="{status}"}} {value}'
                )
            lines += [
                "# HELP narrowtune_request_duration_seconds Request latency by route.",
                "# TYPE narrowtune_request_duration_seconds histogram",
            ]
            for path, counts in sorted(self.buckets.items()):
                running = 0
                for bound, count in zip(LATENCY_BUCKETS, counts):
                    running += count
                    lines.append(
                        f'narrowtune_request_duration_seconds_bucket{{path="{path}",'
                        f'le="{bound}"}} {running}'
                    )
                total = self.latency_count[path]
                lines += [
                    f'narrowtune_request_duration_seconds_bucket{{path="{path}",le="+Inf"}} '
                    f"{total}",
                    f'narrowtune_request_duration_seconds_sum{{path="{path}"}} '
                    f"{self.latency_sum[path]:.6f}",
                    f'narrowtune_request_duration_seconds_count{{path="{path}"}} {total}',
                ]
            # Every served model has a series from the start, at 0 until it answers.
            keys = sorted({*self.predictions, *((m.run_id, m.name) for m in models)})
            keys = [(_label(run), _label(task)) for run, task in keys]
            predictions = {(_label(r), _label(t)): v for (r, t), v in self.predictions.items()}
            abstentions = {(_label(r), _label(t)): v for (r, t), v in self.abstentions.items()}
            lines += [
                "# HELP narrowtune_predictions_total Predictions served, by run and model name.",
                "# TYPE narrowtune_predictions_total counter",
            ]
            lines += [
                f'narrowtune_predictions_total{{model="{run}",task="{task}"}} '
                f"{predictions.get((run, task), 0)}"
                for run, task in keys
            ]
            lines += [
                "# HELP narrowtune_abstentions_total Predictions handed to a human "
                "(abstention rate = this / narrowtune_predictions_total).",
                "# TYPE narrowtune_abstentions_total counter",
            ]
            lines += [
                f'narrowtune_abstentions_total{{model="{run}",task="{task}"}} '
                f"{abstentions.get((run, task), 0)}"
                for run, task in keys
            ]
            lines += [
                "# HELP narrowtune_tokens_total Chat-completion tokens, prompt and completion.",
                "# TYPE narrowtune_tokens_total counter",
            ]
            lines += [
                f'narrowtune_tokens_total{{model="{_label(run)}",task="{_label(task)}",'
                f'type="{which}"}} {value}'
                for (run, task, which), value in sorted(self.tokens.items())
            ]
            lines += [
                "# HELP narrowtune_model_info The models served now (1 per model).",
                "# TYPE narrowtune_model_info gauge",
            ]
            lines += [
                f'narrowtune_model_info{{model="{_label(m.run_id)}",task="{_label(m.name)}",'
                f'kind="{_label(m.kind)}"}} 1'
                for m in models
            ]
            lines += [
                "# HELP narrowtune_reloads_total Models swapped for a newer run.",
                "# TYPE narrowtune_reloads_total counter",
                f"narrowtune_reloads_total {reloads}",
                "# HELP narrowtune_model_batches_total Model calls of the micro-batcher "
                "(requests per call = narrowtune_batched_requests_total / this).",
                "# TYPE narrowtune_model_batches_total counter",
                f"narrowtune_model_batches_total {self.batches}",
                "# TYPE narrowtune_batched_requests_total counter",
                f"narrowtune_batched_requests_total {self.batched_requests}",
            ]
        return "\n".join(lines) + "\n"


class RequestMetrics:
    """ASGI middleware: counts every HTTP request by method, route and status, and times it up
    to the start of its response (a stream's body is not waited for)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The route template, never the raw path: /v1/review/{item_id}, not one series
                # per id. The router writes the matched route into this same scope.
                path = getattr(scope.get("route"), "path", "other")
                seconds = time.perf_counter() - start
                self.metrics.observe(scope["method"], path, message["status"], seconds)
            await send(message)

        await self.app(scope, receive, observed)
