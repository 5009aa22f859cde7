"""`route` (rules on labels, fields and confidence pick where the case goes) and `escalate`
(the case goes to the review queue with the reason; the pipeline stops there)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from narrowtune.pipeline.refs import Ref, condition_refs, holds, render
from narrowtune.pipeline.steps.base import Step, StepConfig, register_step


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, Any] | None = None
    route: str = Field(min_length=1, max_length=200, description="A template.")
    reason: str = ""


class RouteConfig(StepConfig):
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_last(self) -> RouteConfig:
        defaults = [i for i, r in enumerate(self.rules) if r.when is None]
        if defaults and defaults[0] != len(self.rules) - 1:
            raise ValueError("a rule without `when` (the default) must be the last rule")
        return self


@register_step
class RouteStep(Step):
    type = "route"
    Config = RouteConfig
    config: RouteConfig

    def outputs(self) -> dict[str, str]:
        return {"route": "string", "reason": "string", "rule": "number"}

    def templates(self) -> list[Any]:
        return [t for rule in self.config.rules for t in (rule.route, rule.reason)]

    def references(self) -> list[Ref]:
        refs = super().references()
        for i, rule in enumerate(self.config.rules):
            if rule.when is not None:
                refs += [r for r, _ in condition_refs(rule.when, f"{self.id}.rules[{i}].when")]
        return refs

    def conditions(self) -> list[tuple[dict[str, Any], str]]:
        return [
            (rule.when, f"{self.id}.rules[{i}].when")
            for i, rule in enumerate(self.config.rules)
            if rule.when is not None
        ]

    def routes(self) -> bool:
        return True

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        for i, rule in enumerate(self.config.rules):
            if rule.when is None or holds(rule.when, scope):
                reason = render(rule.reason, scope) or (
                    "default rule" if rule.when is None else f"rule {i + 1} matched"
                )
                route = str(render(rule.route, scope))
                return {}, {"route": route, "reason": reason, "rule": i}
        return {}, {"route": None, "reason": "no rule matched", "rule": None}


class EscalateConfig(StepConfig):
    reason: str = Field(min_length=1, description="Why a human must decide (a template).")


@register_step
class EscalateStep(Step):
    type = "escalate"
    Config = EscalateConfig
    config: EscalateConfig

    def outputs(self) -> dict[str, str]:
        return {"reason": "string"}

    def templates(self) -> list[Any]:
        return [self.config.reason]

    def escalates(self) -> bool:
        return True

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        return {}, {"reason": str(render(self.config.reason, scope))}
