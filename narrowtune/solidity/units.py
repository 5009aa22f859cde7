"""Solidity sources cut into review units: one per line of code inside a function, with the
context a reviewer needs to judge that line (the line above it, the whole function, the
contract's state variables, and what the analyzer said about the line).

A unit's `text` is what a line classifier reads; the line itself comes first so truncation never
loses it. The parsing is lexical (braces and declarations), enough for review comments: it does
not need the code to compile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_DECLARATION = re.compile(r"^\s*(function|constructor|modifier|receive|fallback)\b")
_FUNCTION_NAME = re.compile(r"^\s*function\s+([A-Za-z_$][\w$]*)")
_STATE = re.compile(
    r"^\s*(?:mapping\s*\(.*\)|[A-Za-z_][\w.]*(?:\[\d*\])*)\s+"
    r"(?:(?:public|private|internal|constant|immutable|override|transient)\s+)*"
    r"([A-Za-z_$][\w$]*)\s*(?:=|;)"
)
_SKIP_STATE = ("event ", "error ", "using ", "struct ", "enum ", "return", "emit ")
FUNCTION_CHARS = 600  # the function's text kept in a unit, after collapsing whitespace


@dataclass(frozen=True)
class Unit:
    """One line of code under review."""

    file: str
    line: int  # 1-based
    code: str
    function: str  # the enclosing function's name ("constructor", "modifier x", ...)
    text: str  # what the reviewer model reads

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "code": self.code,
            "function": self.function,
            "text": self.text,
        }


def _strip_comment(line: str) -> str:
    """The line without a trailing `//` comment (string literals with `//` are rare enough)."""
    return line.split("//", 1)[0] if "//" in line and '"' not in line else line


def _is_code(line: str) -> bool:
    stripped = line.strip()
    if not stripped or stripped in ("}", "{", "};", "_;"):
        return False
    return not stripped.startswith(("//", "/*", "*", "pragma ", "import "))


def _name_of(declaration: str) -> str:
    match = _FUNCTION_NAME.match(declaration)
    if match:
        return match.group(1)
    word = declaration.strip().split("(")[0].split()
    return " ".join(word[:2]) if word else "?"


def state_variables(lines: list[str]) -> list[str]:
    """Names of the state variables declared at contract level (brace depth 1)."""
    names, depth = [], 0
    for raw in lines:
        line = _strip_comment(raw)
        stripped = line.strip()
        if depth == 1 and not stripped.startswith(_SKIP_STATE):
            match = _STATE.match(line)
            if match and not _DECLARATION.match(line):
                names.append(match.group(1))
        depth += line.count("{") - line.count("}")
    return names


def file_units(path: str, source: str, findings: Iterable[Mapping[str, Any]] = ()) -> list[Unit]:
    """The review units of one source file; `findings` are normalised analyzer findings
    (`file`, `line`, `detector`) and are matched to units by file and line."""
    lines = source.splitlines()
    by_line: dict[int, list[str]] = {}
    for finding in findings:
        if finding.get("file") == path:
            by_line.setdefault(int(finding.get("line", 0)), []).append(str(finding["detector"]))
    # Constants (UPPER_CASE) cannot be shadowed by mistake in a way that compiles; leave them out.
    state = ", ".join(n for n in state_variables(lines) if not n.isupper()) or "none"
    units: list[Unit] = []
    depth, i = 0, 0
    while i < len(lines):
        line = _strip_comment(lines[i])
        if depth == 1 and _DECLARATION.match(line):
            # The function runs until its braces close (or a `;` ends a body-less declaration).
            start, end, inner = i, i, 0
            opened = False
            while end < len(lines):
                text = _strip_comment(lines[end])
                inner += text.count("{") - text.count("}")
                opened = opened or "{" in text
                if (opened and inner <= 0) or (not opened and text.rstrip().endswith(";")):
                    break
                end += 1
            body = lines[start : end + 1]
            name = _name_of(lines[start])
            compact = " ".join(" ".join(body).split())[:FUNCTION_CHARS]
            above = lines[start - 1].strip() if start > 0 else ""
            for offset, code_line in enumerate(body):
                if not _is_code(code_line):
                    continue
                number = start + offset + 1
                previous = above if offset == 0 else body[offset - 1].strip()
                found = ", ".join(sorted(set(by_line.get(number, [])))) or "none"
                text = (
                    f"{code_line.strip()} ## above: {previous or 'nothing'} ## analyzer: {found}"
                    f" ## in {name}: {compact} ## state: {state}"
                )
                units.append(Unit(path, number, code_line.strip(), name, text))
            i = end + 1
            continue
        depth += line.count("{") - line.count("}")
        i += 1
    return units


def units(sources: Mapping[str, str], findings: Iterable[Mapping[str, Any]] = ()) -> list[Unit]:
    """Review units of every `.sol` source ({path: text}), in file and line order."""
    findings = list(findings)
    out: list[Unit] = []
    for path in sorted(sources):
        if path.endswith(".sol"):
            out.extend(file_units(path, sources[path], findings))
    return out
