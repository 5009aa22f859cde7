"""`narrowtune audit`: is this data fit to fine-tune on?

Each check is one function in one file of `checks/`, registered where it is defined with
`@check` (see `registry.py`): its name, a one-line description, whether it is fast (model-free,
linear time: what `train` runs first), what it needs computed (embeddings, near-duplicate
clusters), and whether it judges labels. A check receives the rows and one frozen
`AuditContext`; its own options are keyword arguments a caller sets by name.

The task's kind says how its data is audited (`Kind.audit`): checks that do not apply, whether
long rows are windowed, which encoder embeds the texts. Label checks are skipped for rows that
carry no labels.

Loading is lenient (see `rows.py`): malformed rows, empty texts and missing labels become
blocking findings with their file and line, and everything else is still audited.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.data.audit.collect import AuditData, collect
from narrowtune.data.audit.duplicates import exact_groups, near_groups
from narrowtune.data.audit.embed import embed
from narrowtune.data.audit.findings import AuditReport, Finding, sort_findings
from narrowtune.data.audit.fix import measure_impact, plan_fixes, write_fixed
from narrowtune.data.audit.registry import (
    AuditContext,
    AuditError,
    CheckInfo,
    check_options,
    registered_checks,
)
from narrowtune.data.audit.render import audit_html, audit_table
from narrowtune.data.audit.rows import LoadedRows, load_rows
from narrowtune.data.audit.secrets import find_secrets, mask_secrets
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.task import Task

CHECKS: dict[str, CheckInfo] = registered_checks()
# Model-free and linear-time: what `train` runs before training. In fast mode the conflict and
# leakage checks compare normalised texts only (no MinHash).
FAST_CHECKS = tuple(name for name, info in CHECKS.items() if info.fast)
# Not checks one can pick: what lenient loading reports about rows it could not use.
LOAD_FINDINGS = ("unreadable_file", "malformed_rows", "empty_texts", "missing_labels")


def _resolve_checks(checks: Sequence[str] | None, fast: bool) -> list[str]:
    if checks is None:
        return list(FAST_CHECKS if fast else CHECKS)
    unknown = [name for name in checks if name not in CHECKS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(CHECKS), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise AuditError(
            f"unknown audit check '{unknown[0]}'. {hint}Known checks: {', '.join(CHECKS)}"
        )
    chosen = list(dict.fromkeys(checks))
    return [name for name in chosen if name in FAST_CHECKS] if fast else chosen


def _stats(data: AuditData) -> dict[str, Any]:
    labels = Counter(label for ex in data.splits.train for label in ex.labels)
    return {
        "rows": {role: len(loaded.examples) for role, loaded in data.files.items()},
        "rejected_rows": {role: len(loaded.rejected) for role, loaded in data.files.items()},
        "splits": data.splits.sizes(),
        "train_label_counts": dict(sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _checks_for(task: Task, names: list[str]) -> list[str]:
    """The chosen checks that apply to the task's kind and rows."""
    policy = task.plugin.audit
    labeled = task.has_labels
    return [
        name for name in names if name not in policy.skip and (labeled or not CHECKS[name].labels)
    ]


def audit(
    task: Task,
    *,
    checks: list[str] | None = None,
    fast: bool = False,
    progress: ProgressFn | None = None,
    stop_on_error: bool = False,
    embedding_cache: dict[str, np.ndarray] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    near_threshold: float = 0.7,
) -> AuditReport:
    """Run the audit checks on the task's data and return every finding, most severe first.

    `checks` picks checks by name (default: all, or the fast ones with `fast=True`).
    `options` sets checks' own options by check name (`{"outliers": {"k": 10}}`); an unknown
    check or option is an AuditError. `near_threshold` is the word-shingle Jaccard similarity
    above which rows count as near-duplicates (for every check that uses the clusters).
    `stop_on_error=True` raises `DataError` at the first bad row instead of reporting it.
    `embedding_cache` (text -> vector) lets a caller reuse embeddings across calls.
    """
    start = time.perf_counter()
    names = _checks_for(task, _resolve_checks(checks, fast))
    own_options = check_options(names, options)
    policy = task.plugin.audit
    if progress:
        progress("load", 0, 1)
    data = collect(task, stop_on_error=stop_on_error)
    if progress:
        progress("load", 1, 1)
    findings: list[Finding] = list(data.findings)
    stats = _stats(data)
    stats["checks"] = names
    timings: dict[str, float] = {}
    examples = data.examples
    if examples:
        texts = [ex.text for ex in examples]
        began = time.perf_counter()
        context = AuditContext(
            seed=task.seed,
            multi_label=task.multi_label,
            max_length=task.model.max_length,
            windowed=policy.windowed,
            mode=task.train.mode,
            fewshot_max_per_class=task.train.fewshot_max_per_class,
            declared_labels=tuple(task.labels) if task.labels else None,
            near_threshold=near_threshold,
            split_of=tuple(data.split_of),
            exact=tuple(map(tuple, exact_groups(texts))),
            progress=progress,
        )
        timings["exact_groups"] = time.perf_counter() - began
        needs = set().union(*(CHECKS[name].needs_for(context) for name in names))
        if not fast and "near" in needs:
            began = time.perf_counter()
            near = near_groups(texts, threshold=near_threshold, seed=task.seed, progress=progress)
            context = dataclasses.replace(context, near=tuple(map(tuple, near)))
            timings["near_groups"] = time.perf_counter() - began
        if "embeddings" in needs:
            began = time.perf_counter()
            vectors = embed(
                texts,
                base=policy.encoder(task) if policy.encoder else task.model.base,
                max_length=task.model.max_length,
                cache=embedding_cache,
                progress=progress,
            )
            context = dataclasses.replace(context, embeddings=vectors)
            timings["encode"] = time.perf_counter() - began
        for number, name in enumerate(names):
            if progress:
                progress(name, number, len(names))
            began = time.perf_counter()
            info = CHECKS[name]
            rows = data.splits.train if info.train_only else examples
            findings.extend(info.run(rows, context, **own_options.get(name, {})))
            timings[name] = time.perf_counter() - began
    stats["seconds_per_step"] = {k: round(v, 3) for k, v in timings.items()}
    return AuditReport(
        findings=sort_findings(findings), stats=stats, seconds=time.perf_counter() - start
    )


__all__ = [
    "CHECKS",
    "FAST_CHECKS",
    "LOAD_FINDINGS",
    "AuditContext",
    "AuditData",
    "AuditError",
    "AuditReport",
    "CheckInfo",
    "Finding",
    "LoadedRows",
    "audit",
    "audit_html",
    "audit_table",
    "collect",
    "embed",
    "find_secrets",
    "load_rows",
    "mask_secrets",
    "measure_impact",
    "plan_fixes",
    "write_fixed",
]
