"""The audit checks, registered where they are defined.

A check is one function in one file of `narrowtune/data/audit/checks/`, decorated with `@check`:

    @check("outliers", "rows unlike anything else in the data", fast=False,
           needs={"embeddings"})
    def outliers(examples, context, *, k=5, iqr_factor=3.0) -> list[Finding]: ...

It takes the rows it judges (`examples`), the audit's frozen `AuditContext` (settings taken from
the task, and the groups and embeddings the audit computed once for every check), and its own
keyword-only options, which a caller may set by name (`audit(..., options=...)`); an unknown
option is an error. Every module in `checks/` is imported when the checks are first listed, so
adding a check is adding one file.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    import numpy as np

    from narrowtune.data.audit.findings import Finding
    from narrowtune.progress import ProgressFn

# What a check can ask the audit to compute for it before it runs.
NEEDS = frozenset({"embeddings", "near"})


class AuditError(NarrowtuneError):
    """An audit asked for something it cannot do (an unknown check or option)."""


@dataclass(frozen=True)
class AuditContext:
    """What every check may use, built once per audit and never changed.

    Settings from the task (`seed`, `multi_label`, `max_length`, `windowed`, `mode`,
    `fewshot_max_per_class`, `declared_labels`), the audit's `near_threshold`, and what the
    audit computed for all checks:
    `split_of[i]` (the split of row i), `exact` groups and `near` clusters (index lists into the
    rows), `embeddings` (unit vectors, one row per example). Each has a neutral default, so a
    check can be called on its own: `near_duplicates(rows, AuditContext(seed=1))`.
    """

    seed: int = 0
    multi_label: bool = False
    max_length: int = 64
    windowed: bool = False
    mode: str = "auto"
    fewshot_max_per_class: int = 16
    declared_labels: tuple[str, ...] | None = None
    near_threshold: float = 0.7
    split_of: tuple[str, ...] | None = None
    exact: tuple[tuple[int, ...], ...] | None = None
    near: tuple[tuple[int, ...], ...] | None = None
    embeddings: np.ndarray | None = field(default=None, compare=False)
    progress: ProgressFn | None = field(default=None, compare=False)


CheckFn = Callable[..., "list[Finding]"]


@dataclass(frozen=True)
class CheckInfo:
    """A registered check and what it declares about itself."""

    name: str
    description: str
    run: CheckFn
    fast: bool  # model-free and linear-time: run before every training
    needs: frozenset[str] | Callable[[AuditContext], frozenset[str]]
    labels: bool  # judges labels: skipped for rows that carry none
    train_only: bool  # judged on the training split only
    options: Mapping[str, Any]  # its keyword-only options and their defaults

    def needs_for(self, context: AuditContext) -> frozenset[str]:
        return self.needs(context) if callable(self.needs) else self.needs


_CHECKS: dict[str, CheckInfo] = {}


def check(
    name: str,
    description: str,
    *,
    fast: bool,
    needs: Collection[str] | Callable[[AuditContext], frozenset[str]] = (),
    labels: bool = False,
    train_only: bool = False,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the audit check `name` (see the module docstring)."""
    if not callable(needs) and set(needs) - NEEDS:
        raise ValueError(f"check {name}: unknown needs {sorted(set(needs) - NEEDS)}")

    def register(function: CheckFn) -> CheckFn:
        if name in _CHECKS and _CHECKS[name].run is not function:
            raise ValueError(f"two audit checks are named {name!r}")
        parameters = inspect.signature(function).parameters.values()
        options = {
            p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        _CHECKS[name] = CheckInfo(
            name=name,
            description=description,
            run=function,
            fast=fast,
            needs=needs if callable(needs) else frozenset(needs),
            labels=labels,
            train_only=train_only,
            options=options,
        )
        return function

    return register


def registered_checks() -> dict[str, CheckInfo]:
    """Every check, by name, in a stable order (the files of `checks/`, alphabetically)."""
    from narrowtune.data.audit import checks as package

    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        importlib.import_module(f"{package.__name__}.{module}")
    return dict(sorted(_CHECKS.items()))


def check_options(
    names: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Per-check options, checked: an unknown check or option name is an AuditError."""
    known = registered_checks()
    out: dict[str, dict[str, Any]] = {}
    for name, values in (options or {}).items():
        if name not in known:
            raise AuditError(f"options given for unknown audit check '{name}'")
        unknown = sorted(set(values) - set(known[name].options))
        if unknown:
            takes = ", ".join(known[name].options) or "no options"
            raise AuditError(
                f"audit check '{name}' has no option '{unknown[0]}' (it takes: {takes})"
            )
        if name in names:
            out[name] = dict(values)
    return out
