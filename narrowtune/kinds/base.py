"""The kind protocol: what every kind (classify, extract, generate, tool_call) implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import Task

# (stage, done, total): kinds report progress through this; faces decide how to draw it.
ProgressFn = Callable[[str, int, int], None]


@dataclass
class Prediction:
    """One output: label name(s) and/or a structured output, a calibrated confidence, and
    whether a human should decide.

    - classify: `label` (name or names), `scores` per label; `output` is None.
    - extract: `output` is the JSON object (valid against the task's schema with the fields in
      `missing` made nullable), `missing`
      the required fields that could not be filled, `scores` the confidence per field, `label`
      the intent when the task has one (else "").
    - generate: `output` is the text; `valid` says whether it met the task's contract and
      `problems` says why not.
    """

    label: str | list[str]
    confidence: float
    abstain: bool
    scores: dict[str, float] = field(default_factory=dict)
    output: Any = None
    valid: bool = True
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Model(Protocol):
    """A trained model of some kind."""

    kind: str

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]: ...

    def save(self, directory: Path) -> None: ...


@dataclass
class Generation:
    """One generated reply from a generative model (kind `generate`)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length"
    valid: bool = True
    problems: list[str] = field(default_factory=list)


@runtime_checkable
class GenerativeModel(Model, Protocol):
    """A Model that also answers chat messages (serves `/v1/chat/completions`).

    A model that can keep its reply inside a JSON Schema also takes `json_schema=` (a
    request's `response_format`); the server refuses response_format for one that does not."""

    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> Generation: ...


@runtime_checkable
class SchemaConstrainedModel(GenerativeModel, Protocol):
    """A GenerativeModel that can keep its replies inside a JSON Schema (a request's
    `response_format`): `with_schema` returns a view of the same model that does."""

    def with_schema(self, schema: dict[str, Any]) -> GenerativeModel: ...


class Kind(Protocol):
    """A kind module: `train`, `load` and the Model it returns.

    Kinds other than classify also define
    `evaluate(task, model, splits, *, baselines, latency, train_seconds, progress) -> dict`,
    returning the evaluation in the shared shape (`task`, `kind`, `created`, `machine`, `split`,
    `primary_metric`, `systems` [{name, role, metrics, latency, train_seconds}], `margin`), plus
    `columns` ([{key, header, format: pct|num|ms|int}] for the summary tables) and `sections`
    ([[anchor, title, html]] extra report sections; the kind escapes its own HTML).
    """

    def train(
        self,
        task: Task,
        train: list[Example],
        validation: list[Example],
        *,
        progress: ProgressFn | None = None,
    ) -> Model: ...

    def load(self, directory: Path, *, backend: str = "torch") -> Model: ...
