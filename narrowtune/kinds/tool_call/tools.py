"""Tools as JSON Schemas (OpenAI's function-calling format), checked and made usable.

A tool is given as OpenAI sends it, `{"type": "function", "function": {"name", "description",
"parameters"}}`, or bare (`{"name", "description", "parameters"}`). BFCL's files use
Python-flavoured types (`dict`, `float`, `tuple`, `any`); they are read as their JSON Schema
equivalents (`object`, `number`, `array`, no type). Every parameters schema is checked with
`jsonschema`'s `check_schema`; the error names the tool and the place in its schema.

`Toolset` holds the declared tools: it validates a call's arguments against its tool's schema,
writes the tool list into a prompt, and gives the JSON Schema of one action (some calls, or a
text answer) that decoding is constrained to.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array", "list": "array"}
DESCRIPTION_CHARS = 160  # of each tool's description in a prompt
DECODE_STRING_CHARS = 120  # strings without a bound of their own, while decoding only
ANSWER_CHARS = 400  # a no-call answer, while decoding


class ToolError(ValueError):
    """A tool declaration or call that cannot be used; the message names the tool and field."""


def _json_types(schema: Any) -> Any:
    """`schema` with BFCL's Python-flavoured type names replaced by JSON Schema's."""
    if isinstance(schema, list):
        return [_json_types(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            if value == "any":
                continue
            value = BFCL_TYPES.get(value, value)
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _json_types(v) for k, v in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = value
        else:
            out[key] = _json_types(value)
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    return out


def bounded(schema: Any) -> Any:
    """`schema` for decoding: every free string (no maxLength, enum, const, pattern or format)
    gets maxLength DECODE_STRING_CHARS, so a weak model cannot spin inside a string until it
    runs out of tokens. Validation still uses the declared schema."""
    if isinstance(schema, list):
        return [bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: bounded(v) for k, v in schema.items()}
    if out.get("type") == "string" and not {
        "maxLength",
        "enum",
        "const",
        "pattern",
        "format",
    } & set(out):
        out["maxLength"] = DECODE_STRING_CHARS
    return out


def check_schema(schema: Any, where: str) -> None:
    """Raise ToolError unless `schema` is a valid JSON Schema (draft 2020-12 by default)."""
    import jsonschema

    if not isinstance(schema, dict):
        raise ToolError(f"{where}: a JSON Schema must be an object, got {type(schema).__name__}")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise ToolError(f"{where} is not a valid JSON Schema at {path}: {exc.message}") from None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]

    @classmethod
    def read(cls, value: Any, where: str) -> Tool:
        """A tool from OpenAI's format (or a bare function); ToolError names `where`."""
        if not isinstance(value, dict):
            raise ToolError(f"{where}: a tool must be an object, got {type(value).__name__}")
        function = value.get("function") if value.get("type") == "function" else value
        if not isinstance(function, dict):
            raise ToolError(f"{where}: 'function' must be an object")
        name = function.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ToolError(
                f"{where}: tool name {name!r} must be 1-64 letters, digits, '_', '.' or '-'"
            )
        description = function.get("description") or ""
        if not isinstance(description, str):
            raise ToolError(f"{where} ({name}): 'description' must be text")
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        parameters = _json_types(copy.deepcopy(parameters))
        check_schema(parameters, f"{where} ({name}).parameters")
        if parameters.get("type", "object") != "object":
            raise ToolError(f"{where} ({name}).parameters: must be an object schema")
        parameters.setdefault("type", "object")
        parameters.setdefault("properties", {})
        return cls(name, description, parameters)

    def openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def signature(self) -> str:
        """One prompt line: name(arg: type, optional?: type) - description."""
        required = set(self.parameters.get("required") or [])
        args = []
        for arg, schema in (self.parameters.get("properties") or {}).items():
            kind = schema.get("type", "any") if isinstance(schema, dict) else "any"
            if isinstance(schema, dict) and "enum" in schema:
                kind = "|".join(json.dumps(v) for v in schema["enum"][:8])
            args.append(f"{arg}{'' if arg in required else '?'}: {kind}")
        description = " ".join(self.description.split())[:DESCRIPTION_CHARS]
        return f"{self.name}({', '.join(args)})" + (f" - {description}" if description else "")

    def problems(self, arguments: Any) -> list[str]:
        """Why `arguments` do not validate against this tool's schema (empty: they do)."""
        import jsonschema

        if not isinstance(arguments, dict):
            return [f"{self.name}: arguments must be an object"]
        cls = jsonschema.validators.validator_for(
            self.parameters, default=jsonschema.Draft202012Validator
        )
        errors = sorted(cls(self.parameters).iter_errors(arguments), key=lambda e: list(e.path))
        return [
            f"{self.name}.{'/'.join(str(p) for p in e.path) or '(arguments)'}: {e.message}"
            for e in errors[:5]
        ]


def in_schema_order(value: Any, schema: Any) -> Any:
    """`value` with every object's keys in the order its schema's `properties` lists them."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return value
        keys = [k for k in properties if k in value] + [k for k in value if k not in properties]
        return {k: in_schema_order(value[k], properties.get(k)) for k in keys}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [in_schema_order(v, schema["items"]) for v in value]
    return value


def read_tools(values: Any, where: str) -> list[Tool]:
    if not isinstance(values, list):
        raise ToolError(f"{where}: tools must be a list")
    tools = [Tool.read(v, f"{where}[{i}]") for i, v in enumerate(values)]
    names = [t.name for t in tools]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ToolError(f"{where}: tool(s) declared twice: {', '.join(twice)}")
    return tools


@dataclass
class Toolset:
    """Declared tools by name, with the task's policy: which need a person's confirmation."""

    tools: list[Tool]
    confirm: frozenset[str] = frozenset()
    by_name: dict[str, Tool] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {t.name: t for t in self.tools}

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tools]

    def subset(self, names: Iterable[str]) -> Toolset:
        keep = set(names)
        return Toolset([t for t in self.tools if t.name in keep], self.confirm)

    def ordered(self, name: str, arguments: Any) -> Any:
        """A call's arguments with their keys in its tool's schema property order (at every
        depth), the order the decoding grammar writes them in; keys the schema does not list,
        and calls to tools not in the set, keep their order. Every action the model reads
        (training targets, a conversation's earlier calls) is written this way, so it learns
        and sees the order it will be held to."""
        tool = self.by_name.get(name)
        return in_schema_order(arguments, tool.parameters) if tool else arguments

    def call_problems(self, name: str, arguments: Any) -> list[str]:
        tool = self.by_name.get(name)
        if tool is None:
            known = ", ".join(self.names) or "none"
            return [f"unknown tool {name!r} (declared: {known})"]
        return tool.problems(arguments)

    def prompt(self, detail: str = "signatures") -> str:
        """The tool list and the answer format, for the system prompt: each tool's signature
        and description, or (`detail="names"`) its name only (the grammar still holds every
        argument's schema)."""
        if detail == "names":
            lines = [f"- {t.name}" for t in self.tools]
        else:
            lines = [f"- {t.signature()}" for t in self.tools]
        confirm = [n for n in self.names if n in self.confirm]
        text = "Tools:\n" + "\n".join(lines)
        if confirm:
            text += f"\nNeed a person's confirmation: {', '.join(confirm)}"
        return (
            text + '\nReply with JSON: {"tool_calls": [{"name": ..., "arguments": {...}}]} '
            'to call tools, or {"answer": "..."} when no tool fits.'
        )

    def action_schema(
        self,
        *,
        names: Sequence[str] | None = None,
        allow_answer: bool = True,
        allow_calls: bool = True,
    ) -> dict[str, Any]:
        """The JSON Schema of one action: calls to the tools `names` (default: all), each with
        arguments valid against its tool, or a text answer."""
        chosen = [self.by_name[n] for n in (names if names is not None else self.names)]
        options: list[dict[str, Any]] = []
        if allow_calls and chosen:
            calls = [
                {
                    "type": "object",
                    "properties": {"name": {"const": t.name}, "arguments": bounded(t.parameters)},
                    "required": ["name", "arguments"],
                    "additionalProperties": False,
                }
                for t in chosen
            ]
            options.append(
                {
                    "type": "object",
                    "properties": {
                        "tool_calls": {
                            "type": "array",
                            "items": calls[0] if len(calls) == 1 else {"anyOf": calls},
                            "minItems": 1,
                            "maxItems": 8,
                        }
                    },
                    "required": ["tool_calls"],
                    "additionalProperties": False,
                }
            )
        if allow_answer or not options:
            options.append(
                {
                    "type": "object",
                    "properties": {"answer": {"type": "string", "maxLength": ANSWER_CHARS}},
                    "required": ["answer"],
                    "additionalProperties": False,
                }
            )
        return options[0] if len(options) == 1 else {"anyOf": options}
