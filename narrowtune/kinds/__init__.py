"""The kinds registry: every kind of narrow job narrowtune knows, by name.

A kind is one `Kind` object (see `narrowtune.kinds.base`) declared in its own package. The
built-in kinds are listed below by where their `Kind` lives; an installed package adds a kind
through the entry-point group `narrowtune.kinds`::

    [project.entry-points."narrowtune.kinds"]
    sentiment = "my_package.sentiment:KIND"

and code can register one at run time (`register_kind`, or `registered` for a block). A kind
is imported when it is first looked up; its declaration is light (no torch), so asking "does
this kind have labels? which metrics? which audit checks?" stays cheap. Everything outside
`narrowtune/kinds/` asks this registry instead of comparing kind names.
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import (
    AuditPolicy,
    CardSpec,
    Generation,
    GenerativeModel,
    Kind,
    Model,
    Prediction,
)

ENTRY_POINT_GROUP = "narrowtune.kinds"
BUILTIN = {
    "classify": "narrowtune.kinds.classify:KIND",
    "extract": "narrowtune.kinds.extract:KIND",
    "generate": "narrowtune.kinds.generate:KIND",
    "tool_call": "narrowtune.kinds.tool_call:KIND",
}


class UnknownKind(NarrowtuneError):
    """No kind of that name is registered."""


class Registry:
    """Kinds by name: the built-ins, then installed entry points, then run-time registrations.

    Declarations are imported on first use and kept."""

    def __init__(self) -> None:
        self._refs: dict[str, str] = dict(BUILTIN)
        self._kinds: dict[str, Kind] = {}
        self._scanned = False

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if entry.name in self._refs and self._refs[entry.name] != entry.value:
                warnings.warn(
                    f"entry point {entry.name} = {entry.value} ignored: kind '{entry.name}' "
                    f"is {self._refs[entry.name]}",
                    stacklevel=3,
                )
                continue
            self._refs[entry.name] = entry.value

    def names(self) -> list[str]:
        self._scan()
        return list(dict.fromkeys([*self._refs, *self._kinds]))

    def get(self, name: str) -> Kind:
        if name in self._kinds:
            return self._kinds[name]
        self._scan()
        if name not in self._refs:
            known = self.names()
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise UnknownKind(f"unknown kind '{name}'; {hint}known kinds: {', '.join(known)}")
        module, _, attribute = self._refs[name].partition(":")
        try:
            kind = getattr(importlib.import_module(module), attribute or "KIND")
        except (ImportError, AttributeError) as exc:
            raise UnknownKind(
                f"kind '{name}' ({self._refs[name]}) cannot be loaded: {exc}"
            ) from exc
        if not isinstance(kind, Kind) or kind.name != name:
            raise UnknownKind(f"{self._refs[name]} is not a Kind named '{name}'")
        self._kinds[name] = kind
        return kind

    def all(self) -> list[Kind]:
        return [self.get(name) for name in self.names()]

    def register(self, kind: Kind) -> None:
        """Add a kind at run time; a name already taken is refused."""
        if kind.name in self.names():
            raise NarrowtuneError(f"a kind named '{kind.name}' is already registered")
        self._kinds[kind.name] = kind

    def unregister(self, name: str) -> None:
        """Remove a kind added with `register` (built-in and installed kinds stay)."""
        if name in self._refs:
            raise NarrowtuneError(f"kind '{name}' is built in or installed; it cannot be removed")
        self._kinds.pop(name, None)


_REGISTRY = Registry()


def get_kind(name: str) -> Kind:
    """The kind called `name` (UnknownKind, with the known names, otherwise)."""
    return _REGISTRY.get(name)


def kind_names() -> list[str]:
    """Every registered kind's name: built-ins first."""
    return _REGISTRY.names()


def all_kinds() -> list[Kind]:
    return _REGISTRY.all()


def register_kind(kind: Kind) -> None:
    """Register a kind defined at run time (an installed package uses an entry point)."""
    _REGISTRY.register(kind)


def unregister_kind(name: str) -> None:
    _REGISTRY.unregister(name)


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """A kind registered for the duration of a block (tests, notebooks)."""
    register_kind(kind)
    try:
        yield kind
    finally:
        unregister_kind(kind.name)


__all__ = [
    "ENTRY_POINT_GROUP",
    "AuditPolicy",
    "CardSpec",
    "Generation",
    "GenerativeModel",
    "Kind",
    "Model",
    "Prediction",
    "UnknownKind",
    "all_kinds",
    "get_kind",
    "kind_names",
    "register_kind",
    "registered",
    "unregister_kind",
]
