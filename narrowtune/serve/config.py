"""What `narrowtune serve --workers N` hands each worker process: the options of `create_app`,
as JSON in $NARROWTUNE_SERVE_CONFIG, which every worker inherits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

CONFIG_ENV = "NARROWTUNE_SERVE_CONFIG"


@dataclass(frozen=True)
class WorkerConfig:
    """The options every worker builds its app from (see `create_app`)."""

    targets: list[str] = field(default_factory=list)  # resolved to absolute paths
    db: str = ""  # the store's URL, shared by every worker
    run: str | None = None
    backend: str = "torch"
    max_batch: int = 256
    max_text_chars: int = 10_000
    reload_interval: float = 0.0
    # A file POST /v1/admin/reload rewrites so that every worker reloads.
    reload_signal: str | None = None
    # A folder every worker writes its metrics to, so that /metrics sums all of them.
    metrics_dir: str | None = None
    batch_wait_ms: float = 0.0
    trusted_hosts: list[str] = field(default_factory=list)
    protect_ops: bool = False
    on_invalid: str = "withhold"
    max_inflight_per_key: int = 128
    max_queue: int = 2048
    rate_per_key: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> WorkerConfig:
        config = json.loads(raw)
        return cls(
            targets=[str(t) for t in config["targets"]],
            db=str(config["db"]),
            run=config.get("run"),
            backend=config.get("backend", "torch"),
            max_batch=int(config.get("max_batch", 256)),
            max_text_chars=int(config.get("max_text_chars", 10_000)),
            reload_interval=float(config.get("reload_interval", 0.0)),
            reload_signal=config.get("reload_signal") or None,
            metrics_dir=config.get("metrics_dir") or None,
            batch_wait_ms=float(config.get("batch_wait_ms", 0.0)),
            trusted_hosts=[str(h) for h in config.get("trusted_hosts", [])],
            protect_ops=bool(config.get("protect_ops", False)),
            on_invalid=str(config.get("on_invalid", "withhold")),
            max_inflight_per_key=int(config.get("max_inflight_per_key", 128)),
            max_queue=int(config.get("max_queue", 2048)),
            rate_per_key=float(config.get("rate_per_key", 0.0)),
        )
