"""The `tool_call:` section of a task file: the tools, the policy, and the training recipe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from narrowtune.kinds.tool_call.tools import ToolError, Toolset, read_tools

if TYPE_CHECKING:
    from narrowtune.task import Task


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PolicySpec(_Strict):
    """What may be done without a person: allowed actions, actions that need confirmation, and
    "no call" (a text answer) when nothing fits."""

    allowed: list[str] | None = Field(
        default=None, description="Tools the model may call (default: every declared tool)."
    )
    confirm: list[str] = Field(
        default_factory=list,
        description="Tools whose calls are returned for a person to confirm and never executed.",
    )
    no_call: bool = Field(default=True, description="The model may answer without a call.")


class ToolLoraSpec(_Strict):
    r: int = Field(default=16, ge=1, le=512)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    targets: Literal["attention", "all"] | list[str] = "attention"


class ToolCallSpec(_Strict):
    """Options for `kind: tool_call`."""

    tools: list[dict[str, Any]] | str = Field(
        default_factory=list,
        description="The tools, in OpenAI's function-calling format, or a JSON file of them "
        "(relative to the task file). Rows may carry their own `tools` instead.",
    )
    policy: PolicySpec = Field(default_factory=PolicySpec)
    system: str = Field(
        default="You choose the tool call that serves the request, or answer without one.",
        description="Instruction placed before the tool list in every prompt.",
    )
    prompt_tools: Literal["signatures", "names"] = Field(
        default="signatures",
        description="How the fine-tuned model's prompt lists the tools: signatures and "
        "descriptions, or names only (shorter prompts, faster training on a fixed tool set; the "
        "grammar holds the argument schemas either way). Baselines always get signatures.",
    )
    threshold: float | Literal["auto"] = Field(
        default="auto",
        description="Calls below this confidence are escalated, not executed; auto chooses it on "
        "validation (the lowest keeping executed calls at least `target_precision` right).",
    )
    target_precision: float = Field(default=0.95, gt=0, le=1)
    max_new_tokens: int = Field(default=128, ge=8, le=2048)
    lora: ToolLoraSpec = Field(default_factory=ToolLoraSpec)
    epochs: float = Field(default=2.0, gt=0)
    max_steps: int | None = Field(default=None, ge=1)
    learning_rate: float = Field(default=2e-4, gt=0, lt=1)
    batch_size: int = Field(default=4, ge=1, le=256)
    weight_decay: float = Field(default=0.0, ge=0)
    max_length: int = Field(default=768, ge=16, le=32768)
    overlong: Literal["error", "truncate", "drop"] = "truncate"
    early_stopping_patience: int | None = Field(default=2, ge=1)
    eval_every: int | None = Field(default=None, ge=1)
    validation_limit: int | None = Field(
        default=48,
        ge=1,
        description="Validation examples for the validation loss and the threshold choice.",
    )
    few_shot: int = Field(default=2, ge=0, le=8, description="Examples in the few-shot baseline.")
    eval_limit: int | None = Field(default=None, ge=1, description="Test items evaluated at most.")
    encoder_baseline: bool = Field(
        default=True,
        description="Add the encoder route baseline (classify the tool with the classify kind, "
        "fill its arguments with the extract kind).",
    )

    @field_validator("tools")
    @classmethod
    def _valid_tools(cls, value: Any) -> Any:
        if isinstance(value, list):
            try:
                read_tools(value, "tool_call.tools")
            except ToolError as exc:
                raise ValueError(str(exc)) from None
        return value


def load_tools(spec: ToolCallSpec, base_dir: Path) -> list[dict[str, Any]]:
    """The declared tools as OpenAI dicts (read from the file when `tools` names one)."""
    if isinstance(spec.tools, list):
        return spec.tools
    path = Path(spec.tools).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise ToolError(f"tool_call.tools: file {path} not found")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ToolError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return value.get("tools", value) if isinstance(value, dict) else value


def toolset_of(task: Task) -> Toolset:
    """The task's tools with its policy applied (allowed tools only; confirm marked)."""
    spec = task.tool_call
    tools = read_tools(load_tools(spec, task.base_dir), "tool_call.tools")
    declared = {t.name for t in tools}
    for key in ("allowed", "confirm"):
        unknown = sorted(set(getattr(spec.policy, key) or []) - declared) if tools else []
        if unknown:
            raise ToolError(
                f"tool_call.policy.{key}: {', '.join(unknown)} not among the declared tools "
                f"({', '.join(sorted(declared))})"
            )
    allowed = spec.policy.allowed
    if allowed is not None:
        tools = [t for t in tools if t.name in set(allowed)]
    return Toolset(tools, frozenset(spec.policy.confirm))
