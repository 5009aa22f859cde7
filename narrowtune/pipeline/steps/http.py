"""`http`: call an external service, with a timeout and retries."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from narrowtune.pipeline.refs import render
from narrowtune.pipeline.steps.base import Step, StepConfig, StepFailed, register_step

# Bytes of a response body kept; a larger answer fails the step rather than filling memory.
MAX_RESPONSE_BYTES = 1_000_000


class HttpConfig(StepConfig):
    url: str = Field(pattern=r"^https?://", description="A template; http:// or https:// only.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    json_: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    retries: int = Field(default=2, ge=0, le=10)
    backoff: float = Field(default=0.2, ge=0, le=30)


@register_step
class HttpStep(Step):
    type = "http"
    Config = HttpConfig
    config: HttpConfig

    def outputs(self) -> dict[str, str]:
        return {"status": "number", "json": "any", "text": "string", "attempts": "number"}

    def templates(self) -> list[Any]:
        return [self.config.url, self.config.json_, self.config.headers]

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        import httpx

        cfg = self.config
        url = str(render(cfg.url, scope))
        body = render(cfg.json_, scope)
        headers = {k: str(v) for k, v in render(cfg.headers, scope).items()}
        timeout = cfg.timeout or 10.0
        shown = {"method": cfg.method, "url": url, "json": body}
        last = ""
        for attempt in range(1, cfg.retries + 2):
            try:
                with (
                    httpx.Client(timeout=timeout, follow_redirects=False) as client,
                    client.stream(cfg.method, url, json=body, headers=headers) as response,
                ):
                    data = bytearray()
                    for chunk in response.iter_bytes():
                        data += chunk
                        if len(data) > MAX_RESPONSE_BYTES:
                            raise StepFailed(
                                f"step '{self.id}': {url} answered more than "
                                f"{MAX_RESPONSE_BYTES} bytes"
                            )
                    status = response.status_code
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                text = data.decode("utf-8", errors="replace")
                if status < 500:
                    if status >= 400:
                        raise StepFailed(f"step '{self.id}': {url} answered {status}: {text[:200]}")
                    try:
                        import json

                        parsed = json.loads(text) if text else None
                    except ValueError:
                        parsed = None
                    return shown, {
                        "status": status,
                        "json": parsed,
                        "text": text,
                        "attempts": attempt,
                    }
                last = f"{status}: {text[:200]}"
            if attempt <= cfg.retries:
                time.sleep(cfg.backoff * attempt)
        raise StepFailed(
            f"step '{self.id}': {cfg.method} {url} failed after {cfg.retries + 1} attempts ({last})"
        )
