"""The Task spec: one YAML file, validated by pydantic before anything heavy runs.

The keys every kind shares are declared here. A kind's own options live in its section of the
file (`extract:`, `generate:`, ...), validated by the model the kind declares: the sections
are looked up in the kinds registry (`narrowtune.kinds`), so this module names no kind.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from narrowtune import kinds
from narrowtune.errors import NarrowtuneError

DEFAULT_BASE = "all-MiniLM-L6-v2"


class TaskError(NarrowtuneError):
    """A task file that cannot be used: says which file, which key and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataSpec(_Strict):
    """Where the examples are and which columns hold what."""

    train: str = Field(description="CSV, JSONL or Parquet file with the training examples.")
    validation: str | None = Field(
        default=None, description="Optional validation file; carved from train when absent."
    )
    test: str | None = Field(
        default=None, description="Optional test file; carved from train when absent."
    )
    text_column: str = "text"
    label_column: str = "label"
    label_separator: str = Field(
        default="|", description="Separator for several labels in one CSV cell (multi-label)."
    )
    target_column: str | None = Field(
        default=None,
        description="extract: the JSON output column (default 'output'); "
        "generate: the completion column (default 'completion').",
    )
    spans_column: str = Field(
        default="spans", description="extract: optional column of character spans per field."
    )
    messages_column: str = Field(
        default="messages", description="generate: chat messages column (instead of prompt)."
    )


class SplitSpec(_Strict):
    """Fractions carved out of `data.train` when no validation/test file is given."""

    validation: float = Field(default=0.1, ge=0.0, lt=0.5)
    test: float = Field(default=0.2, ge=0.0, lt=0.5)


class ModelSpec(_Strict):
    base: str = Field(
        default=DEFAULT_BASE,
        description="Encoder: 'all-MiniLM-L6-v2' (bundled, offline) or a local model directory.",
    )
    max_length: int = Field(default=64, ge=8, le=512)


class TrainSpec(_Strict):
    """Training options. `auto` values are resolved from the data at train time."""

    mode: Literal["auto", "full", "fewshot"] = "auto"
    fewshot_max_per_class: int = Field(
        default=16, ge=1, description="`auto` picks few-shot mode at or below this median."
    )
    epochs: float | Literal["auto"] = "auto"
    batch_size: int = Field(default=32, ge=1, le=1024)
    learning_rate: float = Field(default=1e-4, gt=0, lt=1)
    head_learning_rate: float = Field(default=3e-3, gt=0, lt=1)
    layer_decay: float = Field(default=0.8, gt=0, le=1.0)
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_ratio: float = Field(default=0.06, ge=0, lt=1)
    label_smoothing: float = Field(default=0.0, ge=0, lt=1)
    probe_init: bool = Field(
        default=True, description="Initialise the head from a linear probe on frozen embeddings."
    )
    processes: int = Field(default=1, ge=1, le=64)
    max_minutes: float | None = Field(default=None, gt=0)


class OutOfScopeSpec(_Strict):
    """Requests that belong to no label: examples of them, or a catch-all label in the data."""

    examples: str | None = Field(
        default=None,
        description="A file of out-of-scope requests (CSV, JSONL or Parquet; the task's text "
        "column, no label): part chooses the threshold, the rest measures it.",
    )
    label: str | None = Field(
        default=None, description="A catch-all label in the data whose rows are out of scope."
    )
    target_recall: float = Field(
        default=0.9,
        gt=0,
        le=1.0,
        description="Share of out-of-scope requests that must be abstained on (or routed to the "
        "catch-all label), on validation.",
    )
    validation: float = Field(
        default=0.5,
        gt=0,
        lt=1.0,
        description="Share of `examples` used to choose the threshold; the rest is the test.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> OutOfScopeSpec:
        if (self.examples is None) == (self.label is None):
            raise ValueError("give exactly one of `examples` (a file) or `label` (a catch-all)")
        return self


class ProfileSpec(_Strict):
    """How the job runs, for `narrowtune advise`: what it cannot measure itself. Every value
    not given is a printed assumption."""

    volume_per_day: float = Field(default=1000, ge=0, description="Calls per day.")
    latency_budget_ms: float = Field(default=1000, gt=0, description="Most a call may take.")
    facts_change: Literal["never", "yearly", "monthly", "weekly", "daily"] = Field(
        default="yearly", description="How often the facts answers depend on change."
    )
    risk: Literal["low", "medium", "high"] = Field(
        default="medium", description="How bad a wrong answer is."
    )
    process_stable: bool = Field(
        default=True, description="Whether the labels / steps of the job are settled."
    )
    multi_step: bool = Field(
        default=False, description="Whether the job is several steps (approve, look up, act)."
    )
    llm_price_per_1m_tokens: float = Field(
        default=0.50, ge=0, description="Prompted-LLM price per million tokens (in + out)."
    )
    llm_latency_ms: float = Field(
        default=800, gt=0, description="Prompted-LLM latency per call, when not measured."
    )
    hosting_cost_per_hour: float = Field(
        default=0.10, ge=0, description="What the machine serving the small model costs."
    )


class MonitorSpec(_Strict):
    """`narrowtune monitor` and `retrain`: when drift counts, and when a challenger may serve."""

    alpha: float = Field(
        default=0.01,
        gt=0,
        lt=1,
        description="Significance level of each drift test; five tests at 0.01 keep the chance "
        "of a false alarm on a no-drift window at or under 5% (Bonferroni).",
    )
    min_window: int = Field(
        default=30, ge=5, description="Fewest predictions in a window before it is tested."
    )
    reference_size: int = Field(
        default=500, ge=20, description="Training texts (sampled) the input-drift test compares to."
    )
    permutations: int = Field(default=500, ge=50, description="Permutations of the MMD test.")
    min_cluster: int = Field(
        default=5, ge=2, description="Fewest far-from-training texts that make a new cluster."
    )
    margin: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="retrain promotes only when the lower end of the challenger's 95% paired "
        "bootstrap interval on the primary metric is above this margin.",
    )
    protected_labels: list[str] = Field(
        default_factory=list,
        description="Labels whose recall on the test set a challenger must not lower by more "
        "than `protected_tolerance`.",
    )
    protected_tolerance: float = Field(default=0.0, ge=0, lt=1)
    feedback_holdout: float = Field(
        default=0.3,
        gt=0,
        lt=1,
        description="Share of the reviewer feedback kept out of training, as the recent-"
        "feedback set both models are scored on.",
    )


class AbstainSpec(_Strict):
    target_precision: float = Field(default=0.95, gt=0, le=1.0)
    out_of_scope: OutOfScopeSpec | None = Field(
        default=None,
        description="Out-of-scope traffic: the threshold must also catch `target_recall` of it.",
    )


class CostSpec(_Strict):
    """What mistakes cost (any unit; `unit` names it): `eval` reports the expected cost per
    1,000 calls of every system and a cost-optimal abstention threshold."""

    errors: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="gold label -> predicted label -> cost of that mistake; '*' as the predicted "
        "label stands for any other label. Unlisted mistakes cost `default`.",
    )
    default: float = Field(default=1.0, ge=0, description="Cost of a mistake not in `errors`.")
    review: float = Field(
        default=0.0, ge=0, description="Cost of one human review (an abstained prediction)."
    )
    unit: str = Field(default="USD", description="The unit costs are in (for reports only).")
    fields: dict[str, float] = Field(
        default_factory=dict,
        description="extract: field name -> cost of a wrong or missing value of that field; "
        "'*' stands for any other field. Unlisted fields cost `default`.",
    )
    contract_failure: float | None = Field(
        default=None,
        ge=0,
        description="generate: cost of an output that still breaks its contract after the "
        "retries (returned flagged). Default: `default`.",
    )

    @field_validator("fields")
    @classmethod
    def _field_costs(cls, value: dict[str, float]) -> dict[str, float]:
        for name, cost in value.items():
            if cost < 0 or cost != cost:
                raise ValueError(f"{name}: a cost must be >= 0 (got {cost})")
        return value

    def field_cost(self, name: str) -> float:
        """What a wrong or missing value of field `name` costs (extract)."""
        return float(self.fields.get(name, self.fields.get("*", self.default)))

    def unknown_fields(self, names: list[str]) -> list[str]:
        """Problems naming each field in `fields` that is not one of `names`."""
        problems = []
        for name in self.fields:
            if name != "*" and name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"fields: {', '.join(names)}"
                problems.append(f"costs.fields.{name}: '{name}' is not a field — {hint}")
        return problems

    @field_validator("errors")
    @classmethod
    def _costs_are_mistakes(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for gold, row in value.items():
            if not isinstance(row, dict):
                raise ValueError(f"{gold}: give a mapping of predicted label -> cost")
            for predicted, cost in row.items():
                if cost < 0 or cost != cost:
                    raise ValueError(f"{gold}.{predicted}: a cost must be >= 0 (got {cost})")
                if predicted == gold:
                    raise ValueError(
                        f"{gold}.{predicted}: predicting the right label is not a mistake"
                    )
        return value

    def unknown_labels(self, labels: list[str]) -> list[str]:
        """Problems naming each label in `errors` that is not one of `labels`."""
        known = set(labels)
        problems = []
        for gold, row in self.errors.items():
            for name, where in [(gold, f"errors.{gold}")] + [
                (p, f"errors.{gold}.{p}") for p in row if p != "*"
            ]:
                if name not in known:
                    close = difflib.get_close_matches(name, labels, n=1)
                    hint = (
                        f"did you mean '{close[0]}'?" if close else f"labels: {', '.join(labels)}"
                    )
                    problems.append(f"costs.{where}: '{name}' is not a label — {hint}")
        return problems


def _error_details(error: ValidationError, prefix: tuple[str, ...] = ()) -> list[InitErrorDetails]:
    """A validation error's items, their locations under `prefix`, to raise again as one."""
    out = []
    for item in error.errors():
        detail = InitErrorDetails(
            type=item["type"], loc=(*prefix, *item["loc"]), input=item["input"]
        )
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        out.append(detail)
    return out


class Task(_Strict):
    """Everything a command needs to know about one narrow job.

    Kind sections (`task.extract`, `task.generate`, ... and `task.section` for the task's own
    kind) are attributes too: each is validated by its kind's model, and a task may carry the
    sections of other kinds (they are checked, and unused)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: str = Field(
        default="classify", description="The kind of job: see `narrowtune init --help`."
    )
    description: str = ""
    data: DataSpec
    labels: dict[str, str] | None = Field(
        default=None,
        description="Label names, optionally with a description each (used by zero-shot).",
    )
    multi_label: bool = False
    profile: ProfileSpec = Field(
        default_factory=ProfileSpec, description="How the job runs (for `narrowtune advise`)."
    )
    costs: CostSpec | None = Field(
        default=None, description="What mistakes and human reviews cost (see CostSpec)."
    )
    output_schema: dict[str, Any] | str | None = Field(
        default=None,
        alias="schema",
        description="The JSON Schema of a structured output (kinds that take one, e.g. extract): "
        "inline, a .json file, or a dotted path to a pydantic model.",
    )
    model: ModelSpec = Field(default_factory=ModelSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    metric: str = Field(
        default="accuracy",
        description="Primary metric, one of the kind's own (an unknown one is refused with the "
        "list); by default the kind's first.",
    )
    target: float | None = Field(default=None, ge=0, le=1)
    abstain: AbstainSpec = Field(default_factory=AbstainSpec)
    monitor: MonitorSpec = Field(default_factory=MonitorSpec)
    seed: int = 13
    runs_dir: str = "runs"
    base_dir: str = Field(default=".", exclude=True, description="Folder paths are relative to.")
    _sections: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _kind_sections(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Validate each kind section with its kind's model; report every error at once."""
        if not isinstance(data, dict):
            return handler(data)  # an assignment to a validated task
        data = dict(data)
        sections: dict[str, BaseModel] = {}
        errors: list[InitErrorDetails] = []
        for kind in kinds.all_kinds():
            if kind.section is None or kind.spec is None:
                continue
            raw = data.pop(kind.section, None)
            try:
                sections[kind.section] = kind.spec.model_validate({} if raw is None else raw)
            except ValidationError as exc:
                errors += _error_details(exc, (kind.section,))
        task = None
        try:
            task = handler(data)
        except ValidationError as exc:
            errors = _error_details(exc) + errors
        if errors or task is None:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        task._sections = sections
        task._check_kind()
        return task

    def _check_kind(self) -> None:
        """Checks that depend on the kind: its metric, its schema, its own settle()."""
        kind = self.plugin
        if "metric" not in self.model_fields_set and self.metric not in kind.metrics:
            object.__setattr__(self, "metric", kind.metrics[0])  # the kind's default metric
        if self.metric not in kind.metrics:
            raise ValueError(
                f"metric '{self.metric}' is not one of kind '{self.kind}': "
                f"{', '.join(kind.metrics)}"
            )
        if self.output_schema is not None and not kind.takes_schema:
            takers = [k.name for k in kinds.all_kinds() if k.takes_schema]
            raise ValueError(
                f"`schema` is for kind {' or '.join(map(repr, takers))}, not '{self.kind}'"
            )
        if kind.settle is not None:
            kind.settle(self)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        try:
            kinds.get_kind(value)
        except kinds.UnknownKind as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_mapping(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {str(v): "" for v in value}
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    @field_validator("abstain")
    @classmethod
    def _catch_all_label(cls, value: AbstainSpec, info: ValidationInfo) -> AbstainSpec:
        labels = info.data.get("labels")
        scope = value.out_of_scope
        if scope is not None and scope.label is not None and labels and scope.label not in labels:
            close = difflib.get_close_matches(scope.label, list(labels), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"labels: {', '.join(labels)}"
            raise ValueError(f"out_of_scope.label: '{scope.label}' is not a label — {hint}")
        return value

    @field_validator("costs")
    @classmethod
    def _cost_labels(cls, value: CostSpec | None, info: ValidationInfo) -> CostSpec | None:
        labels = info.data.get("labels")
        if value is not None and labels:
            problems = [p.removeprefix("costs.") for p in value.unknown_labels(list(labels))]
            if problems:
                raise ValueError("; ".join(problems))
        return value

    def __getattr__(self, name: str) -> Any:
        # Kind sections: `task.generate`, `task.extract`, ... (validated, see _kind_sections).
        try:
            return super().__getattr__(name)  # type: ignore[misc]
        except AttributeError:
            sections = (self.__pydantic_private__ or {}).get("_sections") or {}
            if name in sections:
                return sections[name]
            raise

    @property
    def plugin(self) -> kinds.Kind:
        """The task's kind, from the registry."""
        return kinds.get_kind(self.kind)

    @property
    def section(self) -> Any:
        """The options of the task's own kind (its section), or None for a kind without one."""
        name = self.plugin.section
        return None if name is None else self._sections[name]

    def path(self, relative: str) -> Path:
        """Resolve a path from the task file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    @property
    def input_column(self) -> str:
        """The column holding the model's input: `data.text_column`, or the kind's default
        column (e.g. "prompt" for generate) when the task does not set it."""
        if "text_column" not in self.data.model_fields_set:
            return self.plugin.text_column
        return self.data.text_column

    @property
    def has_labels(self) -> bool:
        """Whether this task's rows carry labels (asked of its kind)."""
        return self.plugin.has_labels(self)

    @property
    def runs_path(self) -> Path:
        return self.path(self.runs_dir) / self.name

    def resolved(self) -> dict[str, Any]:
        """The task as plain data, every default filled in (written to each run); every kind
        section follows `schema`."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(mode="json", by_alias=True).items():
            out[key] = value
            if key == "schema":
                out.update({name: s.model_dump(mode="json") for name, s in self._sections.items()})
        return out


def _parse_scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=value` overrides (values parsed as YAML scalars) to a raw task mapping."""
    for item in overrides:
        if "=" not in item:
            raise TaskError(f"override {item!r} is not key=value (example: train.epochs=3)")
        key, _, value = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise TaskError(f"override {item!r} has an empty key")
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            if not isinstance(child, dict):
                raise TaskError(f"override {item!r}: '{part}' is not a section")
            node = child
        node[parts[-1]] = _parse_scalar(value)
    return raw


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path in a YAML document to its 1-based line number (list items are
    numbered from 0: `("steps", "2", "type")`)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                path = (*prefix, str(key_node.value))
                lines[path] = key_node.start_mark.line + 1
                walk(value_node, path)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                path = (*prefix, str(i))
                lines.setdefault(path, item.start_mark.line + 1)
                walk(item, path)

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, ())
    return lines


def _field_names(model: type[BaseModel], path: tuple[str, ...]) -> list[str]:
    """Known keys at a location in the spec (kind sections included), for 'did you mean'."""
    sections = {k.section: k.spec for k in kinds.all_kinds() if k.section and k.spec}
    if not path:
        return [n for n in (*model.model_fields, *sections) if n != "base_dir"]
    current: Any = sections.get(path[0], model)
    if path[0] in sections:
        path = path[1:]
    for part in path:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = field.annotation
        # An optional section (`X | None`): its model is the one to look in.
        models = [a for a in get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = models[0] if len(models) == 1 else current
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
    return [n for n in current.model_fields if n != "base_dir"]


def _explain(error: ValidationError, source: str, lines: dict[tuple[str, ...], int]) -> str:
    messages = []
    for item in error.errors():
        loc = tuple(str(p) for p in item["loc"])
        key = ".".join(loc) or "(top level)"
        line = lines.get(loc) or (lines.get(loc[:-1]) if loc else None)
        where = f"{source}:{line}" if line else source
        if item["type"] == "extra_forbidden":
            known = _field_names(Task, loc[:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            messages.append(f"{where}: unknown key '{key}' — {hint}")
        elif item["type"] == "missing":
            messages.append(f"{where}: required key '{key}' is missing")
        else:
            messages.append(f"{where}: '{key}': {item['msg']} (got {item.get('input')!r})")
    return "invalid task file\n  " + "\n  ".join(messages)


def task_from_mapping(
    raw: Any, *, source: str = "<task>", base_dir: Path | str = ".", text: str = ""
) -> Task:
    if not isinstance(raw, dict):
        raise TaskError(f"{source}: a task file must be a YAML mapping of keys (name, kind, data…)")
    raw = dict(raw)
    raw["base_dir"] = str(base_dir)
    try:
        return Task.model_validate(raw)
    except ValidationError as exc:
        raise TaskError(_explain(exc, source, key_lines(text))) from None


def load_task(path: str | Path, overrides: list[str] | None = None) -> Task:
    """Read and validate a task file; `overrides` are `key=value` strings (dotted keys)."""
    path = Path(path)
    if path.is_dir() and (path / "task.yaml").is_file():
        path = path / "task.yaml"
    if not path.is_file():
        raise TaskError(f"task file not found: {path} (create one with `narrowtune init NAME`)")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaskError(f"{where}: not valid YAML: {problem}") from None
    if raw is None:
        raise TaskError(f"{path}: the task file is empty")
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
    return task_from_mapping(raw, source=str(path), base_dir=path.parent, text=text)
