"""The kind protocol: what a kind of narrow job declares (`Kind`) and what its models do.

A kind is one plug-in object, a `Kind`, found through the registry (`narrowtune.kinds`). It
declares its task-file section, how its data is read, whether rows carry labels, its metrics,
how the audit treats its data, its `init` starter and its model card, and names the functions
that train, load, evaluate and export its models. Those heavy functions are given as
"module:function" strings (or callables) and imported on first call, so looking a kind up,
loading a task or auditing data never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from narrowtune.errors import NarrowtuneError
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from pydantic import BaseModel

    from narrowtune.data import Example, Splits
    from narrowtune.evaluate.evaluation import Evaluation
    from narrowtune.task import Task


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
    - classify with moderation: `outcome` is allow, block or review (review also sets
      `abstain`), and `reasons` says which thresholds or rules decided it.
    - extract: `uncertain` names the fields whose confidence is under the field's threshold
      (chosen on validation), the ones a person checks in a per-field review.
    """

    label: str | list[str]
    confidence: float
    abstain: bool
    scores: dict[str, float] = field(default_factory=dict)
    output: Any = None
    valid: bool = True
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    outcome: str | None = None
    reasons: list[str] = field(default_factory=list)
    uncertain: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The prediction as plain data; `outcome` and `reasons` only for moderation tasks,
        `uncertain` only for kinds that judge each field."""
        data = asdict(self)
        if self.outcome is None:
            del data["outcome"], data["reasons"]
        if self.uncertain is None:
            del data["uncertain"]
        return data


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
    finish_reason: str  # "stop" | "length" | "tool_calls"
    valid: bool = True
    problems: list[str] = field(default_factory=list)
    # Kind `tool_call`: the calls of this turn ({name, arguments, confidence, status, problems}).
    tool_calls: list[dict[str, Any]] | None = None


@runtime_checkable
class GenerativeModel(Model, Protocol):
    """A Model that also answers chat messages (serves `/v1/chat/completions`)."""

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


# A function given as "package.module:function" (imported on first call) or as the function.
Ref = str | Callable[..., Any]


def resolve(ref: Ref) -> Callable[..., Any]:
    """The function a Ref names."""
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise NarrowtuneError(f"cannot import {ref!r}: {exc}") from exc


@dataclass(frozen=True)
class AuditPolicy:
    """How `narrowtune audit` treats a kind's data.

    - `skip`: checks that do not apply (beyond the label checks, which are skipped whenever
      rows carry no labels);
    - `windowed`: long rows are read in overlapping windows, so length is a note, not a warning;
    - `rewritable`: rows are text + labels only, so `--fix` and `--impact` can rewrite them;
    - `encoder`: the encoder that embeds texts for the embedding checks (default: the task's
      `model.base`)."""

    skip: frozenset[str] = frozenset()
    windowed: bool = False
    rewritable: bool = False
    encoder: Callable[[Task], str] | None = None


@dataclass(frozen=True)
class CardSpec:
    """The kind's part of the model card written into every run: the "Model" bullet lines,
    the summary columns shown (keys; None: all the evaluation's), and its limits."""

    model_lines: Callable[[Task, dict[str, Any]], list[str]] | None = None
    columns: tuple[str, ...] | None = None
    limits: str = (
        "A narrow model for this one job. Check its outputs (invalid or low-confidence ones go "
        "to a person) and retrain when the data drifts."
    )


@dataclass(frozen=True)
class Kind:
    """One kind of narrow job, as a plug-in. See the module docstring and DEVELOPERS.md.

    Required: `name`, `summary`, `metrics` (primary-metric choices, the first the default),
    and the `trainer`, `loader` and `evaluator` functions:

    - trainer(task, train, validation, *, progress) -> Model
    - loader(directory, *, backend) -> Model
    - evaluator(task, model, splits, *, baselines, latency, train_seconds, progress)
      -> Evaluation

    Optional: `section` + `spec` (its options: the task-file key and the pydantic model that
    validates it), `reader(task, path) -> list[Example]` (default: text + label rows),
    `labeled` (whether rows carry labels; a bool or a function of the task), `takes_schema`
    (the task's top-level `schema:` is its output shape), `text_column` (the default input
    column), `backends`, `settle(task)` (cross-checks and option resolution once the task is
    valid; raises ValueError naming the problem), `scaffold(directory, name) -> task mapping`
    (the `init` starter; writes its data files), `exporter(model, out_dir, *, gguf) -> files`,
    and the `audit` and `card` policies."""

    name: str
    summary: str
    metrics: tuple[str, ...]
    trainer: Ref
    loader: Ref
    evaluator: Ref
    section: str | None = None
    spec: type[BaseModel] | None = None
    reader: Ref | None = None
    labeled: bool | Callable[[Task], bool] = True
    takes_schema: bool = False
    text_column: str = "text"
    backends: tuple[str, ...] = ("torch",)
    settle: Callable[[Task], None] | None = None
    scaffold: Ref | None = None
    exporter: Ref | None = None
    audit: AuditPolicy = AuditPolicy()
    card: CardSpec = CardSpec()

    def __post_init__(self) -> None:
        if not self.metrics:
            raise ValueError(f"kind {self.name!r} declares no metrics")
        if (self.section is None) != (self.spec is None):
            raise ValueError(f"kind {self.name!r}: give both `section` and `spec`, or neither")

    def has_labels(self, task: Task) -> bool:
        return self.labeled(task) if callable(self.labeled) else self.labeled

    def read_examples(self, task: Task, path: Path) -> list[Example]:
        """The examples of one data file; errors name the file and row."""
        if self.reader is not None:
            return resolve(self.reader)(task, path)  # type: ignore[no-any-return]
        from narrowtune.data.load import load_examples
        from narrowtune.data.split import column_options

        return load_examples(path, **column_options(task))  # type: ignore[arg-type]

    def train(
        self,
        task: Task,
        train: list[Example],
        validation: list[Example],
        *,
        progress: ProgressFn | None = None,
    ) -> Model:
        return resolve(self.trainer)(task, train, validation, progress=progress)  # type: ignore[no-any-return]

    def load(self, directory: Path, *, backend: str = "torch") -> Model:
        if backend not in self.backends:
            raise NarrowtuneError(
                f"kind '{self.name}' runs on the {' or '.join(self.backends)} backend, "
                f"not '{backend}'"
            )
        return resolve(self.loader)(Path(directory), backend=backend)  # type: ignore[no-any-return]

    def evaluate(
        self,
        task: Task,
        model: Model,
        splits: Splits,
        *,
        baselines: bool = True,
        latency: bool = True,
        train_seconds: float | None = None,
        progress: ProgressFn | None = None,
    ) -> Evaluation:
        return resolve(self.evaluator)(  # type: ignore[no-any-return]
            task,
            model,
            splits,
            baselines=baselines,
            latency=latency,
            train_seconds=train_seconds,
            progress=progress,
        )


__all__ = [
    "AuditPolicy",
    "CardSpec",
    "Generation",
    "GenerativeModel",
    "Kind",
    "Model",
    "Prediction",
    "ProgressFn",
    "Ref",
    "SchemaConstrainedModel",
    "resolve",
]
