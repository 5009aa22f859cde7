"""What the extract kind learns per schema field, and what a valid output is.

Each top-level property of the task's schema becomes a `Field` with a role:
- `span`: a string or number read from one span of the text (token classification, BIO);
- `list`: an array of such values, one span each;
- `class`: an enum or boolean, predicted by a classification head on the pooled text.

Validity, precisely: an output is *valid* when it validates against the task schema relaxed so
that the required fields listed in `missing` may be null (`relaxed_schema`). Nothing else is
relaxed: a null in a required field that is not listed as missing, a value of the wrong type or
an enum value outside the list is invalid. *Strictly valid* means valid against the schema as
written (so nothing is missing).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator

from narrowtune.kinds.extract.normalize import NORMALIZERS
from narrowtune.kinds.extract.schema import SchemaProblem

Role = Literal["span", "list", "class"]
NORMALIZE_KEY = "x-narrowtune-normalize"


@dataclass(frozen=True)
class Field:
    name: str
    role: Role
    value_type: str  # string | number | integer | boolean
    required: bool
    nullable: bool  # the schema itself admits null
    normalizer: str = "text"
    choices: tuple[Any, ...] = ()  # class fields: the values a head chooses between

    @property
    def spans(self) -> bool:
        return self.role in ("span", "list")


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (#/$defs/X or #/definitions/X)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            raise SchemaProblem(f"only local $ref are supported, not {ref!r}")
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            raise SchemaProblem(f"$ref {ref!r} points nowhere")
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _strip_null(schema: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null part of a property, and whether null is allowed."""
    node = _resolve(schema, node)
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list):
            resolved = [_resolve(schema, o) for o in options]
            rest = [o for o in resolved if o.get("type") != "null"]
            if len(rest) == 1:
                merged = {k: v for k, v in node.items() if k != key}
                inner, nullable = _strip_null(schema, {**merged, **rest[0]})
                return inner, nullable or len(rest) < len(resolved)
    types = node.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        nullable = len(rest) < len(types)
        if len(rest) == 1:
            return {**node, "type": rest[0]}, nullable
        return node, nullable
    enum = node.get("enum")
    if isinstance(enum, list) and None in enum:
        return {**node, "enum": [v for v in enum if v is not None]}, True
    return node, False


def _scalar_type(name: str, node: dict[str, Any]) -> str:
    if "enum" in node or "const" in node:
        return "enum"
    kind = node.get("type")
    if kind in ("string", "number", "integer", "boolean"):
        return str(kind)
    raise SchemaProblem(
        f"field '{name}': type {kind!r} is not supported by kind 'extract' (fields are strings, "
        "numbers, integers, booleans, enums, or arrays of strings/numbers)"
    )


def _normalizer(name: str, node: dict[str, Any], value_type: str) -> str:
    hint = node.get(NORMALIZE_KEY)
    if hint is not None:
        if hint not in NORMALIZERS:
            raise SchemaProblem(
                f"field '{name}': unknown {NORMALIZE_KEY} {hint!r}; "
                f"known: {', '.join(sorted(NORMALIZERS))}"
            )
        return str(hint)
    fmt = node.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    if fmt in ("uri", "url"):
        return "url"
    if value_type in ("number", "integer"):
        return value_type
    return "text"


def schema_fields(schema: dict[str, Any]) -> list[Field]:
    """The fields of a (checked) task schema, in property order."""
    required = set(schema.get("required") or [])
    fields = []
    for name, raw in schema["properties"].items():
        if not isinstance(raw, dict):
            raise SchemaProblem(f"field '{name}': its schema must be an object")
        node, nullable = _strip_null(schema, raw)
        if node.get("type") == "array":
            items, _ = _strip_null(schema, node.get("items") or {})
            item_type = _scalar_type(name, items)
            if item_type in ("enum", "boolean"):
                raise SchemaProblem(
                    f"field '{name}': arrays of enums/booleans are not supported; "
                    "use an array of strings, or one boolean field per option"
                )
            fields.append(
                Field(
                    name,
                    "list",
                    item_type,
                    name in required,
                    nullable,
                    _normalizer(name, {**items, **node}, item_type),
                )
            )
            continue
        value_type = _scalar_type(name, node)
        if value_type == "enum":
            values = node["enum"] if "enum" in node else [node["const"]]
            fields.append(
                Field(name, "class", "enum", name in required, nullable, choices=tuple(values))
            )
        elif value_type == "boolean":
            fields.append(
                Field(name, "class", "boolean", name in required, nullable, choices=(True, False))
            )
        else:
            fields.append(
                Field(
                    name,
                    "span",
                    value_type,
                    name in required,
                    nullable,
                    _normalizer(name, node, value_type),
                )
            )
    if not fields:
        raise SchemaProblem("schema has no properties to extract")
    return fields


def choice_key(value: Any) -> str:
    """A class value as a stable string (JSON), used as a head's label name."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def relaxed_schema(schema: dict[str, Any], missing: list[str]) -> dict[str, Any]:
    """The schema with each field in `missing` allowed to be null (see the module docstring)."""
    if not missing:
        return schema
    relaxed = copy.deepcopy(schema)
    for name in missing:
        original = relaxed["properties"].get(name, {})
        relaxed["properties"][name] = {"anyOf": [original, {"type": "null"}]}
    return relaxed


def validation_errors(schema: dict[str, Any], output: Any, missing: list[str]) -> list[str]:
    """Messages for everything in `output` that breaks the relaxed schema (empty: valid)."""
    validator = Draft202012Validator(relaxed_schema(schema, missing))
    out = []
    for error in sorted(validator.iter_errors(output), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        out.append(f"{where}: {error.message}")
    return out


def field_validator(schema: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for one field's value (keeps the schema's $defs for local refs)."""
    sub: dict[str, Any] = {k: schema[k] for k in ("$defs", "definitions") if k in schema}
    sub.update(schema["properties"][name])
    return Draft202012Validator(sub)


def gold_errors(schema: dict[str, Any], output: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each value of a training output that breaks the schema.

    Null (or absent) values are allowed everywhere: they mean "not in this document".
    """
    present = {k: v for k, v in output.items() if v is not None}
    loose = {**schema, "required": []}
    validator = Draft202012Validator(loose)
    out = []
    for error in validator.iter_errors(present):
        path = [str(p) for p in error.absolute_path]
        out.append((path[0] if path else "(top level)", error.message))
    return out
