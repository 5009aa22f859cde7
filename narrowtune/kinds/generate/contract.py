"""Output contracts: check every generated text against the task's rules, say why it fails.

A contract is compiled once (regexes, JSON Schema, the checker function) and then checks texts:
`Contract.check(text) -> list[str]`, empty when the text passes. Rules, all optional:

- `sections`: each pattern must be found (MULTILINE, IGNORECASE), in the order given;
- `forbidden`: case-insensitive phrases that must not appear;
- `regex`: the whole output must match (fullmatch, DOTALL);
- `json_schema`: the output must be JSON valid against the schema (inline or a .json file);
- `max_chars`: a length limit;
- `checker`: `file.py:function`, called with the text, returning a list of problems;
- `constrain`: when a JSON Schema or regex contract also steers decoding (see
  `narrowtune.kinds.lm.grammar`): on retries (default), on every generation, or never.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.lm.grammar import compile_grammar


class ContractError(NarrowtuneError):
    """A contract that cannot be used: a bad schema, a missing checker."""


def check_schema(schema: Any, where: str) -> None:
    """Raise ValueError unless `schema` is a valid JSON Schema (draft 2020-12 by default)."""
    import jsonschema

    if not isinstance(schema, dict):
        raise ValueError(f"{where}: a JSON Schema must be an object, got {type(schema).__name__}")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise ValueError(f"{where} is not a valid JSON Schema at {path}: {exc.message}") from None


def load_schema(value: dict[str, Any] | str, base_dir: Path) -> dict[str, Any]:
    if isinstance(value, dict):
        schema = value
        where = "generate.contract.json_schema"
    else:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise ContractError(f"generate.contract.json_schema: schema file {path} not found")
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ContractError(
                f"{path}:{exc.lineno}: the JSON Schema is not valid JSON: {exc.msg}"
            ) from None
        where = str(path)
    try:
        check_schema(schema, where)
    except ValueError as exc:
        raise ContractError(str(exc)) from None
    return schema


def load_checker(reference: str, base_dir: Path) -> tuple[Path, Callable[[str], list[str]]]:
    """The checker file and function named by 'file.py:function' (relative to `base_dir`)."""
    file_part, _, function = reference.rpartition(":")
    path = Path(file_part).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise ContractError(f"generate.contract.checker: file {path} not found")
    spec = importlib.util.spec_from_file_location(f"narrowtune_checker_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ContractError(f"generate.contract.checker: {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: report whatever it raised
        raise ContractError(f"{path}: importing the checker failed: {exc!r}") from None
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ContractError(f"{path} has no function '{function}' (generate.contract.checker)")
    return path, fn


class Contract:
    """A compiled contract (see the module docstring)."""

    def __init__(self, spec: dict[str, Any], base_dir: Path | str = ".") -> None:
        """`spec` is a `ContractSpec` as plain data; files are resolved from `base_dir`."""
        base_dir = Path(base_dir)
        self.sections = [
            (str(s["name"]), re.compile(s["pattern"], re.MULTILINE | re.IGNORECASE))
            for s in spec.get("sections") or []
        ]
        self.forbidden = [str(p) for p in spec.get("forbidden") or []]
        self.regex = re.compile(spec["regex"], re.DOTALL) if spec.get("regex") else None
        raw_schema = spec.get("json_schema")
        self.schema = load_schema(raw_schema, base_dir) if raw_schema is not None else None
        self.max_chars: int | None = spec.get("max_chars")
        self.retries = int(spec.get("retries", 2))
        self.constrain = str(spec.get("constrain") or "retry")
        # the llguidance grammar for constrained decoding, or None with the reason in the note
        self.grammar: str | None = None
        self.grammar_note = "constrained decoding is off (constrain: never)"
        if self.constrain != "never":
            self.grammar, self.grammar_note = compile_grammar(
                self.schema, spec.get("regex") or None
            )
        if self.constrain == "always" and self.grammar is None:
            raise ContractError(
                f"generate.contract.constrain: always needs a grammar, but {self.grammar_note}; "
                "use constrain: retry to check and retry without one"
            )
        self.checker_path: Path | None = None
        self.checker_function = ""
        self._checker: Callable[[str], list[str]] | None = None
        if spec.get("checker"):
            self.checker_path, self._checker = load_checker(spec["checker"], base_dir)
            self.checker_function = spec["checker"].rpartition(":")[2]
        self._validator: Any = None
        if self.schema is not None:
            import jsonschema

            cls = jsonschema.validators.validator_for(
                self.schema, default=jsonschema.Draft202012Validator
            )
            self._validator = cls(self.schema)

    def with_schema(self, schema: Any, where: str = "json_schema") -> Contract:
        """This contract with `schema` as its JSON Schema and every generation constrained to it
        (a request's `response_format`); the other rules stay. Raises ContractError for a schema
        that is invalid or cannot be compiled to a grammar."""
        import jsonschema

        try:
            check_schema(schema, where)
        except ValueError as exc:
            raise ContractError(str(exc)) from None
        grammar, note = compile_grammar(schema, None)
        if grammar is None:
            raise ContractError(f"{where}: {note}")
        out = copy.copy(self)
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        out.schema, out._validator = schema, cls(schema)
        out.grammar, out.grammar_note, out.constrain = grammar, note, "always"
        return out

    @property
    def empty(self) -> bool:
        return not (
            self.sections
            or self.forbidden
            or self.regex
            or self.schema is not None
            or self.max_chars
            or self._checker
        )

    def to_dict(self, checker_file: str | None = None) -> dict[str, Any]:
        """The contract as plain data, schema inlined; `checker_file` replaces the checker path."""
        checker = None
        if self.checker_path is not None:
            checker = f"{checker_file or self.checker_path}:{self.checker_function}"
        return {
            "sections": [{"name": n, "pattern": p.pattern} for n, p in self.sections],
            "forbidden": list(self.forbidden),
            "regex": self.regex.pattern if self.regex else None,
            "json_schema": self.schema,
            "max_chars": self.max_chars,
            "checker": checker,
            "retries": self.retries,
            "constrain": self.constrain,
        }

    @property
    def has_checker(self) -> bool:
        return self._checker is not None

    def checker_problems(self, text: str) -> list[str]:
        """What the task's checker function says about `text` (a crash is reported, not raised)."""
        if self._checker is None:
            return []
        try:
            found = self._checker(text)
        except Exception as exc:  # a checker bug must not lose the output: report it
            return [f"checker {self.checker_function} raised {exc!r}"]
        return [str(p) for p in found or []]

    def forbidden_found(self, text: str) -> list[str]:
        lower = text.lower()
        return [p for p in self.forbidden if p.lower() in lower]

    def check(self, text: str) -> list[str]:
        """Every way `text` breaks the contract (empty list: it passes)."""
        problems: list[str] = []
        if not text.strip():
            problems.append("empty output")
        position = 0
        for name, pattern in self.sections:
            match = pattern.search(text, position)
            if match is None:
                if pattern.search(text):
                    problems.append(f"section '{name}' is out of order")
                else:
                    problems.append(f"section '{name}' is missing (pattern {pattern.pattern!r})")
                continue
            position = match.end()
        problems += [f"forbidden phrase {p!r}" for p in self.forbidden_found(text)]
        if self.regex is not None and not self.regex.fullmatch(text):
            problems.append(f"does not match the contract regex {self.regex.pattern!r}")
        if self.max_chars is not None and len(text) > self.max_chars:
            problems.append(f"{len(text)} characters, over the limit of {self.max_chars}")
        if self._validator is not None:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                problems.append(f"not valid JSON: {exc.msg} at character {exc.pos}")
            else:
                try:
                    errors = sorted(self._validator.iter_errors(value), key=str)[:5]
                except Exception as exc:  # e.g. a $ref that cannot be resolved: flag, not crash
                    problems.append(f"JSON Schema could not be applied: {exc}")
                    errors = []
                for error in errors:
                    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                    problems.append(f"JSON Schema: {where}: {error.message}")
        problems += self.checker_problems(text)
        return problems
