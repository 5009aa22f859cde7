"""The `generate:` section of a task file (options of the generate kind)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SectionRule(_Strict):
    name: str
    pattern: str = Field(description="Regex searched for (MULTILINE, IGNORECASE), in order.")


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


class GenerateSpec(_Strict):
    """Options for `kind: generate`."""

    system: str = Field(default="", description="Instruction placed before every prompt.")
    max_new_tokens: int = Field(default=160, ge=1, le=4096)
    contract: ContractSpec = Field(default_factory=ContractSpec)
