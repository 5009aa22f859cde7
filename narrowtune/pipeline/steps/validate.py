"""`validate`: check a value — text against an output contract (required sections, forbidden
phrases, a regex, JSON Schema, a length), an object against a JSON Schema, required fields and
allowed values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from narrowtune.pipeline.refs import PipelineError, Ref, render
from narrowtune.pipeline.steps.base import Step, StepConfig, register_step, resolve_path

_WHOLE_REF = r"^\{[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*\}$"


class ValidateConfig(StepConfig):
    value: str = Field(description="What to check: a reference such as '{draft.text}'.")
    sections: list[dict[str, str]] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    regex: str | None = None
    json_schema: dict[str, Any] | str | None = None
    max_chars: int | None = Field(default=None, gt=0)
    required: list[str] = Field(default_factory=list, description="Fields that must be filled.")
    allowed: dict[str, list[Any]] = Field(default_factory=dict)
    contract: str | None = Field(
        default=None,
        description="A task file whose output contract (sections, forbidden phrases, regex, "
        "JSON Schema, length) checks the value, on top of the rules given here.",
    )

    @model_validator(mode="after")
    def _something(self) -> ValidateConfig:
        if not any(
            (
                self.contract,
                self.sections,
                self.forbidden,
                self.regex,
                self.json_schema is not None,
                self.max_chars,
                self.required,
                self.allowed,
            )
        ):
            raise ValueError(
                "a validate step needs at least one rule: sections, forbidden, regex, "
                "json_schema, max_chars, required or allowed"
            )
        for section in self.sections:
            if set(section) != {"name", "pattern"}:
                raise ValueError("each section is {name: ..., pattern: ...}")
        return self


@register_step
class ValidateStep(Step):
    type = "validate"
    Config = ValidateConfig
    config: ValidateConfig

    def __init__(self, config: StepConfig, base_dir: Path) -> None:
        super().__init__(config, base_dir)
        from narrowtune.kinds.generate.contract import Contract, ContractError

        cfg = self.config
        text_rules: dict[str, Any] = {
            "sections": cfg.sections,
            "forbidden": cfg.forbidden,
            "regex": cfg.regex,
            "max_chars": cfg.max_chars,
            "constrain": "never",
        }
        schema = cfg.json_schema
        if cfg.contract is not None:
            theirs = _task_contract(resolve_path(base_dir, cfg.contract), self.id)
            text_rules["sections"] = [*theirs.get("sections", []), *cfg.sections]
            text_rules["forbidden"] = [*theirs.get("forbidden", []), *cfg.forbidden]
            text_rules["regex"] = cfg.regex or theirs.get("regex")
            text_rules["max_chars"] = cfg.max_chars or theirs.get("max_chars")
            schema = schema if schema is not None else theirs.get("json_schema")
        self.text_rules = bool(
            text_rules["sections"]
            or text_rules["forbidden"]
            or text_rules["regex"]
            or text_rules["max_chars"]
        )
        try:
            self.contract = Contract(text_rules, base_dir)
            self.schema_contract = (
                Contract({"json_schema": schema, "constrain": "never"}, base_dir)
                if schema is not None
                else None
            )
        except (ContractError, ValueError) as exc:
            raise PipelineError(f"step '{self.id}': {exc}") from None
        except Exception as exc:  # re.error from a pattern
            raise PipelineError(f"step '{self.id}': a pattern is not valid: {exc}") from None

    def outputs(self) -> dict[str, str]:
        return {"valid": "boolean", "problems": "array"}

    def templates(self) -> list[Any]:
        return [self.config.value]

    def typed_inputs(self) -> list[tuple[Ref, tuple[str, ...], str]]:
        import re

        if not re.match(_WHOLE_REF, self.config.value):
            return []
        ref = Ref.parse(self.config.value[1:-1])
        cfg = self.config
        wants_text = self.text_rules
        wants_object = bool(cfg.required or cfg.allowed)
        if wants_text and wants_object:
            raise PipelineError(
                f"step '{self.id}': text rules (sections, forbidden, regex, max_chars) and "
                "object rules (required, allowed) cannot check the same value"
            )
        if wants_text:
            return [(ref, ("string",), "value")]
        if wants_object:
            return [(ref, ("object",), "value")]
        return [(ref, ("string", "object", "array"), "value")]

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        value = render(self.config.value, scope)
        problems: list[str] = []
        if value is None or value == "":
            problems.append("nothing to check: the value is empty (a skipped or failed step?)")
        elif isinstance(value, str):
            problems += self.contract.check(value)
            if self.schema_contract is not None:
                problems += self.schema_contract.check(value)
            if self.config.required or self.config.allowed:
                problems.append("required/allowed check an object, but the value is text")
        elif isinstance(value, Mapping):
            if self.schema_contract is not None:
                problems += self.schema_contract.check(json.dumps(value))
            for name in self.config.required:
                if value.get(name) in (None, "", []):
                    problems.append(f"required field '{name}' is missing")
            for name, choices in self.config.allowed.items():
                given = value.get(name)
                items = given if isinstance(given, list) else [given]
                bad = [v for v in items if v is not None and v not in choices]
                if bad:
                    problems.append(f"field '{name}': {bad[0]!r} is not one of {choices}")
        else:
            problems.append(f"cannot check a {type(value).__name__} value")
        return {"value": value}, {"valid": not problems, "problems": problems}


def _task_contract(path: Path, step: str) -> dict[str, Any]:
    """The output contract of the task file at `path`, as plain data."""
    from narrowtune.task import load_task

    task = load_task(path)
    section = task.section
    contract = getattr(section, "contract", None) if section is not None else None
    if contract is None:
        raise PipelineError(
            f"step '{step}': task {path} ({task.kind}) has no output contract to check with"
        )
    data = contract.model_dump() if hasattr(contract, "model_dump") else dict(contract)
    out = {k: v for k, v in data.items() if v not in (None, [], "")}
    if isinstance(out.get("json_schema"), str):  # a file beside the task
        out["json_schema"] = str(resolve_path(path.parent, out["json_schema"]))
    return out
