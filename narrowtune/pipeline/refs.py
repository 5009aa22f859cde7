"""References between steps: templates (`"{ticket}\\n{facts.context}"`) and conditions
(`{intent.confidence: {lt: 0.8}}`).

A reference is `name` (one of the pipeline's inputs) or `step.field[.key...]` (a step's output,
and keys inside it). Both are parsed when the pipeline is loaded, so an unknown name, a field a
step does not output, or a comparison that cannot apply to a field's type is an error with its
place in the file, not a surprise on the first case.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from narrowtune.errors import NarrowtuneError

# {name} or {step.field.key}; `{{` and `}}` are literal braces.
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
_WHOLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$")

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists", "matches")
ORDERED = ("lt", "le", "gt", "ge")


class PipelineError(NarrowtuneError):
    """A pipeline file that cannot run: unknown step type, a cycle, a bad reference..."""


@dataclass(frozen=True)
class Ref:
    """`root` is an input name or a step id; `path` the keys inside it."""

    root: str
    path: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Ref:
        if not _NAME.match(text):
            raise PipelineError(f"'{text}' is not a reference (use name or step.field)")
        root, *path = text.split(".")
        return cls(root, tuple(path))

    def __str__(self) -> str:
        return ".".join((self.root, *self.path))

    def resolve(self, scope: Mapping[str, Any]) -> Any:
        """The value in `scope` (inputs and step outputs by name); None when absent (a skipped
        step, a key the output does not have)."""
        value: Any = scope.get(self.root)
        for key in self.path:
            if isinstance(value, Mapping):
                value = value.get(key)
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                return None
        return value


def template_refs(template: Any) -> Iterator[Ref]:
    """Every reference in a template value (strings, and strings inside lists and mappings)."""
    if isinstance(template, str):
        for match in _FIELD.finditer(template):
            if match.group(1):
                yield Ref.parse(match.group(1))
    elif isinstance(template, Mapping):
        for value in template.values():
            yield from template_refs(value)
    elif isinstance(template, list):
        for value in template:
            yield from template_refs(value)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render(template: Any, scope: Mapping[str, Any]) -> Any:
    """Fill a template: a string that is exactly one reference keeps the value's type (a list
    stays a list); other strings are filled as text; lists and mappings are filled inside."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole:
            return Ref.parse(whole.group(1)).resolve(scope)

        def fill(match: re.Match[str]) -> str:
            if match.group(0) == "{{":
                return "{"
            if match.group(0) == "}}":
                return "}"
            return _as_text(Ref.parse(match.group(1)).resolve(scope))

        return _FIELD.sub(fill, template)
    if isinstance(template, Mapping):
        return {key: render(value, scope) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, scope) for value in template]
    return template


# -- conditions -----------------------------------------------------------------------------


def condition_refs(condition: Any, where: str) -> Iterator[tuple[Ref, str | None]]:
    """Each reference a condition reads, with the comparison applied to it (None for equality);
    PipelineError for a condition that is not well formed."""
    if not isinstance(condition, Mapping) or not condition:
        raise PipelineError(f"{where}: a condition is a mapping such as {{step.field: value}}")
    for key, value in condition.items():
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise PipelineError(f"{where}: '{key}' takes a non-empty list of conditions")
            for i, item in enumerate(value):
                yield from condition_refs(item, f"{where}.{key}[{i}]")
        elif key == "not":
            yield from condition_refs(value, f"{where}.not")
        else:
            ref = Ref.parse(str(key))
            if isinstance(value, Mapping):
                if not value:
                    raise PipelineError(f"{where}: '{key}' has an empty comparison")
                for op, operand in value.items():
                    if op not in COMPARISONS:
                        raise PipelineError(
                            f"{where}: unknown comparison '{op}' on '{key}' "
                            f"(use {', '.join(COMPARISONS)})"
                        )
                    _check_operand(op, operand, f"{where}.{key}.{op}")
                    yield ref, op
            else:
                yield ref, None


def _check_operand(op: str, operand: Any, where: str) -> None:
    if op in ORDERED and (
        isinstance(operand, bool)
        or not isinstance(operand, int | float)
        or (isinstance(operand, float) and not math.isfinite(operand))
    ):
        raise PipelineError(f"{where}: '{op}' compares with a finite number, got {operand!r}")
    if op in ("in", "not_in") and not isinstance(operand, list):
        raise PipelineError(f"{where}: '{op}' takes a list of values, got {operand!r}")
    if op == "exists" and not isinstance(operand, bool):
        raise PipelineError(f"{where}: 'exists' takes true or false, got {operand!r}")
    if op == "matches":
        if not isinstance(operand, str):
            raise PipelineError(f"{where}: 'matches' takes a regular expression string")
        try:
            re.compile(operand)
        except re.error as exc:
            raise PipelineError(f"{where}: not a valid regular expression: {exc}") from None


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op == "exists":
        return (value is not None) == operand
    if value is None:
        return op in ("ne", "not_in")
    if op == "eq":
        return bool(value == operand)
    if op == "ne":
        return bool(value != operand)
    if op == "in":
        return value in operand if not isinstance(value, list) else any(v in operand for v in value)
    if op == "not_in":
        return (
            value not in operand
            if not isinstance(value, list)
            else not any(v in operand for v in value)
        )
    if op == "matches":
        return re.search(operand, _as_text(value)) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return {
        "lt": value < operand,
        "le": value <= operand,
        "gt": value > operand,
        "ge": value >= operand,
    }[op]


def holds(condition: Mapping[str, Any], scope: Mapping[str, Any]) -> bool:
    """Whether a (checked) condition holds; a missing value is never less, greater or equal."""
    for key, value in condition.items():
        if key == "all":
            ok = all(holds(c, scope) for c in value)
        elif key == "any":
            ok = any(holds(c, scope) for c in value)
        elif key == "not":
            ok = not holds(value, scope)
        else:
            actual = Ref.parse(str(key)).resolve(scope)
            if isinstance(value, Mapping):
                ok = all(_compare(op, actual, operand) for op, operand in value.items())
            else:
                ok = _compare("eq", actual, value)
        if not ok:
            return False
    return True
