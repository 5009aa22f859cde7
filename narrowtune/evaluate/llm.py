"""The prompted-LLM baseline: any OpenAI-compatible chat endpoint, configured by environment.

    NARROWTUNE_LLM_BASE_URL   e.g. http://127.0.0.1:8000/v1 (narrowtune serve, vLLM, llama.cpp,
                              Ollama, or a hosted API)
    NARROWTUNE_LLM_API_KEY    sent as a Bearer token (default "none")
    NARROWTUNE_LLM_MODEL      model name (default: the first one `GET /models` lists)

With no base URL set the baseline is skipped and the evaluation says so; it is never faked.
"""

from __future__ import annotations

import difflib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    from narrowtune.data import Example

ENV_URL, ENV_KEY, ENV_MODEL = (
    "NARROWTUNE_LLM_BASE_URL",
    "NARROWTUNE_LLM_API_KEY",
    "NARROWTUNE_LLM_MODEL",
)
SKIPPED = f"prompted-LLM baseline skipped: set {ENV_URL} to an OpenAI-compatible endpoint"


class LLMError(NarrowtuneError):
    """The configured endpoint could not be used."""


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str
    model: str | None

    @classmethod
    def from_env(cls) -> Endpoint | None:
        url = os.environ.get(ENV_URL, "").strip()
        if not url:
            return None
        return cls(url, os.environ.get(ENV_KEY) or "none", os.environ.get(ENV_MODEL) or None)

    def client(self) -> Any:
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=120.0)

    def model_name(self, client: Any) -> str:
        if self.model:
            return self.model
        try:
            models = [m.id for m in client.models.list()]
        except Exception as exc:  # network or protocol: name the endpoint, keep the cause
            raise LLMError(f"{self.base_url}: cannot list models ({exc})") from exc
        if not models:
            raise LLMError(f"{self.base_url}: serves no models; set {ENV_MODEL}")
        return models[0]


def complete(client: Any, model: str, messages: list[dict[str, str]], **options: Any) -> str:
    """One chat completion's text (temperature 0 unless given)."""
    options.setdefault("temperature", 0.0)
    try:
        response = client.chat.completions.create(model=model, messages=messages, **options)
    except Exception as exc:
        raise LLMError(f"chat completion failed ({type(exc).__name__}: {exc})") from exc
    return response.choices[0].message.content or ""


def classify_prompt(text: str, labels: dict[str, str], multi_label: bool) -> list[dict[str, str]]:
    lines = [f"- {name}: {desc}" if desc else f"- {name}" for name, desc in labels.items()]
    ask = (
        "Answer with every label that applies, separated by commas, and nothing else."
        if multi_label
        else "Answer with exactly one label name and nothing else."
    )
    return [
        {
            "role": "user",
            "content": "Classify the text into the labels below.\n"
            + "\n".join(lines)
            + f"\n\n{ask}\n\nText: {text}\nLabel:",
        }
    ]


def parse_labels(answer: str, labels: Sequence[str], multi_label: bool) -> list[str]:
    """Label names found in a free-text answer (exact, then closest spelling); may be empty."""
    by_key = {name.lower().replace(" ", "_"): name for name in labels}
    parts = answer.replace("\n", ",").split(",") if multi_label else [answer.split("\n")[0]]
    found: list[str] = []
    for part in parts:
        key = part.strip().strip(".'\"`*").lower().replace(" ", "_")
        if not key:
            continue
        close = [key] if key in by_key else difflib.get_close_matches(key, list(by_key), n=1)
        if close and by_key[close[0]] not in found:
            found.append(by_key[close[0]])
    return found if multi_label else found[:1]


def classify_baseline(
    endpoint: Endpoint,
    labels: dict[str, str],
    test: Sequence[Example],
    *,
    multi_label: bool,
) -> tuple[str, list[str | list[str]], list[float]]:
    """(model name, predicted label(s) per test text, seconds per call). An answer naming no
    known label becomes "" (counted wrong), never a guess."""
    client = endpoint.client()
    model = endpoint.model_name(client)
    predicted: list[str | list[str]] = []
    seconds: list[float] = []
    for ex in test:
        start = time.perf_counter()
        answer = complete(
            client, model, classify_prompt(ex.text, labels, multi_label), max_tokens=24
        )
        seconds.append(time.perf_counter() - start)
        names = parse_labels(answer, list(labels), multi_label)
        predicted.append(names if multi_label else (names[0] if names else ""))
    return model, predicted, seconds
