"""Load and check the JSON Schema of an `extract` task (inline, .json file or pydantic model)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from narrowtune.errors import NarrowtuneError


class SchemaProblem(NarrowtuneError):
    """A task schema that is missing, unreadable or not valid JSON Schema."""


def _from_dotted(path: str) -> dict[str, Any]:
    module_name, _, attr = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SchemaProblem(f"schema '{path}': cannot import it ({exc})") from exc
    if not hasattr(obj, "model_json_schema"):
        raise SchemaProblem(f"schema '{path}' is not a pydantic model class")
    return obj.model_json_schema()


def resolve_schema(value: dict[str, Any] | str | None, base_dir: str | Path) -> dict[str, Any]:
    """The schema as a dict: inline mapping, a `.json` file (relative to the task), or a
    dotted path to a pydantic model. Raises SchemaProblem naming what is wrong."""
    if value is None:
        raise SchemaProblem("kind 'extract' needs a `schema:` (JSON Schema, .json file or model)")
    if isinstance(value, str):
        if value.endswith(".json"):
            path = Path(value).expanduser()
            path = path if path.is_absolute() else Path(base_dir) / path
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError as exc:
                raise SchemaProblem(f"schema file {path} does not exist") from exc
            except json.JSONDecodeError as exc:
                raise SchemaProblem(
                    f"{path}:{exc.lineno}:{exc.colno}: schema is not valid JSON ({exc.msg})"
                ) from exc
        else:
            schema = _from_dotted(value)
    else:
        schema = value
    check_schema(schema)
    return schema


def check_schema(schema: Any) -> None:
    """Fail unless `schema` is a valid JSON Schema describing an object with properties."""
    if not isinstance(schema, dict):
        raise SchemaProblem(f"schema must be a JSON object, not {type(schema).__name__}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise SchemaProblem(f"schema is not valid JSON Schema at {where}: {exc.message}") from exc
    if schema.get("type") not in ("object", None) or not isinstance(schema.get("properties"), dict):
        raise SchemaProblem("schema must describe an object with `properties` (the fields)")
