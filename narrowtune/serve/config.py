"""The options of a server, and what `narrowtune serve --workers N` hands each worker process:
those options plus where to find the store, as JSON in $NARROWTUNE_SERVE_CONFIG, which every
worker inherits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

CONFIG_ENV = "NARROWTUNE_SERVE_CONFIG"


@dataclass(frozen=True)
class ServeOptions:
    """How `create_app` serves, beyond what it serves and where it stores (its keyword
    arguments of the same names say what each one does)."""

    run: str | None = None
    backend: str = "torch"
    max_batch: int = 256
    max_text_chars: int = 10_000
    reload_interval: float = 0.0
    batch_wait_ms: float = 0.0
    trusted_hosts: tuple[str, ...] = ()
    protect_ops: bool = False
    on_invalid: str = "withhold"
    max_inflight_per_key: int = 128
    max_queue: int = 2048
    rate_per_key: float = 0.0
    # Pipeline files served at /v1/pipelines/<name> (absolute paths).
    pipelines: tuple[str, ...] = ()

    def kwargs(self) -> dict[str, Any]:
        """These options as `create_app`'s keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, given: dict[str, Any]) -> ServeOptions:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in given.items() if k in known}
        values["trusted_hosts"] = tuple(values.get("trusted_hosts") or ())
        values["pipelines"] = tuple(values.get("pipelines") or ())
        return cls(**values)


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker builds its app from (see `create_app`)."""

    targets: list[str] = field(default_factory=list)  # resolved to absolute paths
    db: str = ""  # the store's URL, shared by every worker
    options: ServeOptions = field(default_factory=ServeOptions)
    # A file POST /v1/admin/reload rewrites so that every worker reloads.
    reload_signal: str | None = None
    # A folder every worker writes its metrics to, so that /metrics sums all of them.
    metrics_dir: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> WorkerConfig:
        config = json.loads(raw)
        return cls(
            targets=[str(t) for t in config["targets"]],
            db=str(config["db"]),
            options=ServeOptions.from_dict(config.get("options") or {}),
            reload_signal=config.get("reload_signal") or None,
            metrics_dir=config.get("metrics_dir") or None,
        )
