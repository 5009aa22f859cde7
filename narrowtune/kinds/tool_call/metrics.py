"""BFCL-style AST match of a turn's calls against the expected answers.

An expected answer is a list of calls `{function: {argument: [allowed values]}}` (BFCL's
`possible_answer` format; a narrowtune row's gold calls become one allowed value each). The
calls match when there are as many calls as expected and they pair up one to one (in any order,
as parallel calls may come in any order) so that each pair names the same function, every
argument the call gives is an expected argument, every expected argument is given unless `""`
is among its allowed values (optional), and each value is one of the allowed ones: numbers
compare by value (1 == 1.0; a bool is not a number), strings after lower-casing and dropping
spaces and punctuation (as BFCL does), lists and objects element by element.
No expected calls: the turn must make no call (irrelevance).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_PUNCT = re.compile(r"[\s,./\-_*^'\"]")


def _norm_str(value: str) -> str:
    return _PUNCT.sub("", value.lower())


def same_value(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(want, bool) and got == want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return float(got) == float(want)
    if isinstance(want, str) and isinstance(got, str):
        return _norm_str(got) == _norm_str(want)
    if isinstance(want, list) and isinstance(got, list | tuple):
        return len(got) == len(want) and all(same_value(g, w) for g, w in zip(got, want))
    if isinstance(want, dict) and isinstance(got, dict):
        return set(got) == set(want) and all(same_value(got[k], want[k]) for k in want)
    return bool(got == want)


def call_matches(name: str, arguments: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """One call against one expected `{function: {argument: [allowed]}}`."""
    ((want_name, allowed),) = expected.items()
    if name != want_name:
        return False
    if any(arg not in allowed for arg in arguments):
        return False
    for arg, values in allowed.items():
        if arg not in arguments:
            if "" not in values:
                return False
            continue
        if not any(
            same_value(arguments[arg], v) for v in values if v != "" or arguments[arg] == ""
        ):
            return False
    return True


def ast_match(
    calls: Sequence[tuple[str, Mapping[str, Any]]], expected: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether the calls match the expected calls one to one (see the module docstring)."""
    if len(calls) != len(expected):
        return False
    if not expected:
        return True
    # bipartite matching by augmenting paths (at most a handful of calls)
    fits = [[call_matches(n, a, e) for e in expected] for n, a in calls]
    owner: list[int | None] = [None] * len(expected)

    def place(i: int, seen: set[int]) -> bool:
        for j, ok in enumerate(fits[i]):
            if ok and j not in seen:
                seen.add(j)
                current = owner[j]
                if current is None or place(current, seen):
                    owner[j] = i
                    return True
        return False

    return all(place(i, set()) for i in range(len(calls)))


def names_match(names: Sequence[str], expected: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the functions called are the expected ones (as multisets): the action."""
    return sorted(names) == sorted(next(iter(e)) for e in expected)
