"""Turn per-field guesses into a Prediction whose output always validates (see fields.py).

Every extractor (the fine-tuned model and each baseline) goes through `finalize`, so they are
held to the same rules: span text is normalised for its field, each value is checked against its
field's schema, a value that fails is dropped with a message in `problems` (never silently), a
required field with no value is null and listed in `missing`; an optional one is `[]` (lists),
null where the schema admits null, and otherwise left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from narrowtune.kinds.base import Prediction
from narrowtune.kinds.extract.fields import Field, field_validator, validation_errors
from narrowtune.kinds.extract.normalize import normalize


@dataclass
class Guess:
    """An extractor's answer for one field: a value (span text, list of texts, or a class
    value; None when absent) and how sure it is of that answer (absence included)."""

    value: Any
    confidence: float


def _cast(field: Field, value: Any) -> Any:
    """Normalise a string value for its field; typed values pass as they are."""
    if isinstance(value, str) and field.role != "class":
        value = normalize(field.normalizer, value)
        if field.value_type == "string" and not isinstance(value, str):
            value = str(value)
        elif field.value_type == "integer" and isinstance(value, float):
            if value != int(value):
                raise ValueError(f"{value} is not a whole number")
            value = int(value)
    return value


class Finalizer:
    """Builds valid outputs for one schema (validators compiled once)."""

    def __init__(self, schema: dict[str, Any], fields: list[Field]) -> None:
        self.schema = schema
        self.fields = fields
        self._validators = {f.name: field_validator(schema, f.name) for f in fields}
        # optional lists with nothing found are [] (a stable shape) where the schema allows it
        self._empty_ok = {
            f.name: f.role == "list" and self._validators[f.name].is_valid([]) for f in fields
        }

    def _check(self, field: Field, value: Any, problems: list[str], *, item: bool = False) -> Any:
        try:
            typed = _cast(field, value)
        except ValueError as exc:
            problems.append(f"{field.name}: {exc}")
            return None
        if item:  # one item of a list: checked as a one-item list, item-level errors only
            errors = [e for e in self._validators[field.name].iter_errors([typed]) if e.path]
        else:
            errors = list(self._validators[field.name].iter_errors(typed))
        if errors:
            problems.append(f"{field.name}: {typed!r} fails the schema: {errors[0].message}")
            return None
        return typed

    def finalize(
        self,
        guesses: dict[str, Guess],
        *,
        label: str = "",
        label_confidence: float | None = None,
        threshold: float = 0.0,
        field_thresholds: dict[str, float] | None = None,
    ) -> Prediction:
        output: dict[str, Any] = {}
        missing: list[str] = []
        problems: list[str] = []
        scores: dict[str, float] = {}
        for field in self.fields:
            # an extractor that says nothing about a field asserts it is absent
            guess = guesses.get(field.name) or Guess(None, 1.0)
            value = guess.value
            if field.role == "list" and value is not None:
                items = value if isinstance(value, list) else [value]
                kept = [self._check(field, v, problems, item=True) for v in items if v is not None]
                value = [v for v in kept if v is not None] or None
                if value is not None:
                    # one item failing its own check leaves the rest; the whole list must fit too
                    value = self._check(field, value, problems)
            elif value is not None:
                value = self._check(field, value, problems)
            scores[field.name] = round(float(guess.confidence), 6)
            if value is not None:
                output[field.name] = value
            elif field.required:
                output[field.name] = None
                missing.append(field.name)
            elif field.role == "list" and self._empty_ok[field.name]:
                output[field.name] = []
            elif field.nullable:
                output[field.name] = None
        errors = validation_errors(self.schema, output, missing)
        if errors:  # a schema-level rule (e.g. dependentRequired) the per-field checks missed
            problems += [f"output: {e}" for e in errors]
        confidence = min(
            [*scores.values(), *([label_confidence] if label_confidence is not None else [])]
        )
        confidence = float(min(max(confidence, 0.0), 1.0))
        limits = field_thresholds or {}
        uncertain = [f.name for f in self.fields if scores[f.name] < limits.get(f.name, 0.0)]
        return Prediction(
            uncertain=uncertain,
            label=label,
            confidence=round(confidence, 6),
            abstain=bool(missing) or confidence < threshold,
            scores=scores,
            output=output,
            valid=not errors,
            missing=missing,
            problems=problems,
        )
