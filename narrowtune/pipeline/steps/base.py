"""What every step type shares: its settings model, its declared outputs, the registry."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from narrowtune.pipeline.refs import PipelineError, Ref, condition_refs, template_refs

# The value types a step declares for its outputs ("any": not known before it runs).
TYPES = ("string", "number", "boolean", "object", "array", "any")


class StepFailed(Exception):
    """A step could not produce its outputs for this case (the case is escalated)."""


class StepConfig(BaseModel):
    """Settings every step has; each step type adds its own (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)
    type: str
    description: str = ""
    when: dict[str, Any] | None = Field(
        default=None, description="Run the step only when this condition holds."
    )
    on_error: Literal["escalate", "continue"] = Field(
        default="escalate",
        description="escalate: a failure escalates the case (default); continue: record the "
        "failure, leave the outputs empty and go on.",
    )
    timeout: float | None = Field(default=None, description="Seconds before the step fails.")

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise ValueError("timeout is a positive number of seconds")
        return value


class Step:
    """One step of a pipeline: checked when the pipeline loads, run once per case."""

    type: ClassVar[str]
    Config: ClassVar[type[StepConfig]] = StepConfig

    def __init__(self, config: StepConfig, base_dir: Path) -> None:
        self.config = config
        self.id = config.id
        self.base_dir = base_dir

    # -- what the loader checks ---------------------------------------------------------------

    def outputs(self) -> dict[str, str] | None:
        """Output field -> type (see TYPES); None when any field may appear (python steps)."""
        return {}

    def templates(self) -> list[Any]:
        """The templated settings, for the references they read."""
        return []

    def typed_inputs(self) -> list[tuple[Ref, tuple[str, ...], str]]:
        """References whose value must have a type: (reference, allowed types, setting)."""
        return []

    def references(self) -> list[Ref]:
        refs = [ref for t in self.templates() for ref in template_refs(t)]
        if self.config.when is not None:
            refs += [ref for ref, _ in condition_refs(self.config.when, f"{self.id}.when")]
        refs += [ref for ref, _, _ in self.typed_inputs()]
        return refs

    def prepare(self) -> None:
        """Load what the step needs (models, an index) before the first case."""

    # -- a case -------------------------------------------------------------------------------

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(what the step read, its outputs); raise StepFailed when the case cannot go on."""
        raise NotImplementedError

    def escalates(self) -> bool:
        """Whether running this step escalates the case (the escalate step)."""
        return False

    def routes(self) -> bool:
        """Whether this step's `route` output is the case's route."""
        return False


STEP_TYPES: dict[str, type[Step]] = {}


def register_step(cls: type[Step]) -> type[Step]:
    """Make a step type usable in pipeline files by its `type` name."""
    if cls.type in STEP_TYPES and STEP_TYPES[cls.type] is not cls:
        raise PipelineError(f"step type '{cls.type}' is already registered")
    STEP_TYPES[cls.type] = cls
    return cls


def step_type(name: str) -> type[Step]:
    if name not in STEP_TYPES:
        raise PipelineError(
            f"unknown step type '{name}'; known types: {', '.join(sorted(STEP_TYPES))}"
        )
    return STEP_TYPES[name]


def resolve_path(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return "any"


Runner = Callable[[Mapping[str, Any]], tuple[dict[str, Any], dict[str, Any]]]
