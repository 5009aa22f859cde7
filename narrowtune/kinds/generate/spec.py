"""The `generate:` section of a task file (options of the generate kind)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from narrowtune.kinds.lm.base import DEFAULT_GENERATE_BASE

__all__ = ["DEFAULT_GENERATE_BASE", "GenerateSpec"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _compiles(pattern: str, what: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{what} {pattern!r} is not a valid regular expression: {exc}") from None
    return pattern


class SectionRule(_Strict):
    name: str
    pattern: str = Field(description="Regex searched for (MULTILINE, IGNORECASE), in order.")

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        return _compiles(value, "section pattern")


class ContractSpec(_Strict):
    """What every generated output must satisfy before anyone sees it."""

    sections: list[SectionRule] = Field(default_factory=list)
    forbidden: list[str] = Field(
        default_factory=list, description="Case-insensitive phrases that must never appear."
    )
    regex: str | None = Field(default=None, description="Whole-output regex (fullmatch, DOTALL).")
    json_schema: dict | str | None = Field(
        default=None, description="The output must be JSON valid against this schema."
    )
    max_chars: int | None = Field(default=None, ge=1)
    checker: str | None = Field(
        default=None,
        description="'file.py:function' (relative to the task file) returning a list of problems.",
    )
    retries: int = Field(
        default=2,
        ge=0,
        le=8,
        description="Extra generations for an output that breaks the contract: the first bans the "
        "forbidden phrases (greedy, or sampled where greedy would repeat the first try), the rest "
        "also sample (temperature 0.7, top-p 0.95); with a json_schema or regex, retries are "
        "also grammar-constrained (see constrain).",
    )
    constrain: Literal["retry", "always", "never"] = Field(
        default="retry",
        description="Grammar-constrained decoding for a json_schema or regex contract: only tokens "
        "that can continue a valid output are allowed, on retries (retry), on every generation "
        "(always) or never; other rules are still checked after generation.",
    )

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        return None if value is None else _compiles(value, "contract regex")

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: Any) -> Any:
        if isinstance(value, dict):
            from narrowtune.kinds.generate.contract import check_schema

            check_schema(value, "generate.contract.json_schema")
        return value

    @field_validator("checker")
    @classmethod
    def _checker_form(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or not value.partition(":")[2].isidentifier()):
            raise ValueError(f"checker {value!r} must look like 'check.py:function_name'")
        return value

    @property
    def empty(self) -> bool:
        return not (
            self.sections
            or self.forbidden
            or self.regex
            or self.json_schema is not None
            or self.max_chars
            or self.checker
        )


class LoraSpec(_Strict):
    """The LoRA adapter trained on the frozen base model."""

    r: int = Field(default=16, ge=1, le=512)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    targets: Literal["attention", "all"] | list[str] = Field(
        default="attention",
        description="'attention' (q/k/v/o projections), 'all' (attention + MLP) or module names.",
    )


class GenerateSpec(_Strict):
    """Options for `kind: generate`."""

    system: str = Field(default="", description="Instruction placed before every prompt.")
    max_new_tokens: int = Field(default=160, ge=1, le=4096)
    contract: ContractSpec = Field(default_factory=ContractSpec)
    lora: LoraSpec = Field(default_factory=LoraSpec)
    epochs: float = Field(
        default=2.0, gt=0, description="Passes over the training data (train.epochs overrides)."
    )
    max_steps: int | None = Field(
        default=None, ge=1, description="Stop after this many optimizer steps (overrides epochs)."
    )
    learning_rate: float = Field(
        default=2e-4, gt=0, lt=1, description="LoRA learning rate (train.learning_rate overrides)."
    )
    batch_size: int = Field(
        default=4, ge=1, le=256, description="Sequences per step (train.batch_size overrides)."
    )
    weight_decay: float = Field(
        default=0.0, ge=0, description="AdamW weight decay (train.weight_decay overrides)."
    )
    max_length: int = Field(
        default=512, ge=16, le=32768, description="Token limit of one templated training example."
    )
    overlong: Literal["error", "truncate", "drop"] = Field(
        default="error",
        description="Training examples over max_length: stop with the rows named (error), cut the "
        "prompt's start then the completion's end (truncate), or leave them out (drop); "
        "truncate and drop are counted in the run.",
    )
    packing: bool = Field(default=False, description="Pack several examples per sequence (BFD).")
    qlora: bool = Field(
        default=False,
        description="Train the adapter on the base quantised to 4-bit NF4 (QLoRA): needs a CUDA "
        "GPU and the bitsandbytes package; the saved model merges the adapter into the "
        "unquantised base.",
    )
    early_stopping_patience: int | None = Field(
        default=2,
        ge=1,
        description="Stop after this many validation-loss evaluations without improvement and "
        "keep the best checkpoint; null trains every step.",
    )
    eval_every: int | None = Field(
        default=None, ge=1, description="Steps between validation-loss checks (default: ~5 a run)."
    )
    validation_limit: int | None = Field(
        default=32,
        ge=1,
        description="Validation examples the validation loss is measured on (each check costs a "
        "forward pass over them; null uses all).",
    )
    few_shot: int = Field(
        default=3, ge=0, le=16, description="Examples from train in the few-shot baseline prompt."
    )
    style_judge: str | None = Field(
        default=None,
        description="A classify run directory or task.yaml judging the style of outputs.",
    )
    style_label: str = Field(
        default="approved", description="The style judge's label that counts as on-style."
    )
    eval_limit: int | None = Field(
        default=None, ge=1, description="Evaluate on at most this many test prompts (CPU time)."
    )
