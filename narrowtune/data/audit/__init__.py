"""`narrowtune audit`: is this data fit to fine-tune on?

Each check is one function `(examples, **opts) -> list[Finding]`, registered by name in
`CHECKS` (cleanlab's issue-manager idea): adding a check touches its own module and one line
here. Checks take the options they use and ignore the rest; the shared ones are
`exact` / `near` (precomputed duplicate groups, index lists into `examples`), `split_of`,
`embeddings` (unit vectors, one row per example), `seed`, `progress` and a few task settings.

Loading is lenient (see `rows.py`): malformed rows, empty texts and missing labels become
blocking findings with their file and line, and everything else is still audited.
"""

from __future__ import annotations

import difflib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.data.audit.balance import class_balance
from narrowtune.data.audit.collect import AuditData, collect
from narrowtune.data.audit.conflicts import conflicting_labels
from narrowtune.data.audit.duplicates import (
    exact_duplicates,
    exact_groups,
    near_duplicates,
    near_groups,
)
from narrowtune.data.audit.findings import AuditReport, Finding, sort_findings
from narrowtune.data.audit.fix import measure_impact, plan_fixes, write_fixed
from narrowtune.data.audit.label_issues import label_issues
from narrowtune.data.audit.leakage import leakage
from narrowtune.data.audit.outliers import outliers
from narrowtune.data.audit.render import audit_html, audit_table
from narrowtune.data.audit.rows import LoadedRows, load_rows
from narrowtune.data.audit.secrets import find_secrets, mask_secrets, secrets
from narrowtune.data.audit.texts import language_mix, long_texts
from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    from narrowtune.task import Task

ProgressFn = Callable[[str, int, int], None]

CHECKS: dict[str, Callable[..., list[Finding]]] = {
    "exact_duplicates": exact_duplicates,
    "near_duplicates": near_duplicates,
    "conflicting_labels": conflicting_labels,
    "label_issues": label_issues,
    "leakage": leakage,
    "class_balance": class_balance,
    "long_texts": long_texts,
    "language_mix": language_mix,
    "secrets": secrets,
    "outliers": outliers,
}
# Model-free and linear-time: what `train` runs before training. In fast mode the conflict and
# leakage checks compare normalised texts only (no MinHash).
FAST_CHECKS = (
    "exact_duplicates",
    "conflicting_labels",
    "leakage",
    "class_balance",
    "long_texts",
    "language_mix",
    "secrets",
)
# Not checks one can pick: what lenient loading reports about rows it could not use.
LOAD_FINDINGS = ("unreadable_file", "malformed_rows", "empty_texts", "missing_labels")
NEEDS_EMBEDDINGS = frozenset({"label_issues", "outliers"})
NEEDS_NEAR = frozenset({"near_duplicates", "conflicting_labels", "leakage"})
TRAIN_SPLIT_ONLY = frozenset({"class_balance"})  # judged on what the model learns from
# Checks about labels: skipped for tasks whose rows carry none (generate, extract w/o intent).
LABEL_CHECKS = frozenset({"conflicting_labels", "label_issues", "class_balance"})


class AuditError(NarrowtuneError):
    """An audit asked for something it cannot do (an unknown check name)."""


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


def embed(
    texts: Sequence[str],
    *,
    base: str,
    max_length: int,
    cache: dict[str, np.ndarray] | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Unit-vector embeddings of `texts` with the task's base encoder; `cache` maps text->row."""
    from narrowtune.encoders import Encoder

    cache = {} if cache is None else cache
    missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        encoder = Encoder.from_pretrained(base, max_length=max_length)
        vectors = encoder.encode(missing, progress=progress)
        cache.update(zip(missing, vectors, strict=True))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([cache[t] for t in texts])


def _stats(data: AuditData) -> dict[str, Any]:
    labels = Counter(label for ex in data.splits.train for label in ex.labels)
    return {
        "rows": {role: len(loaded.examples) for role, loaded in data.files.items()},
        "rejected_rows": {role: len(loaded.rejected) for role, loaded in data.files.items()},
        "splits": data.splits.sizes(),
        "train_label_counts": dict(sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def audit(
    task: Task,
    *,
    checks: list[str] | None = None,
    fast: bool = False,
    progress: ProgressFn | None = None,
    stop_on_error: bool = False,
    embedding_cache: dict[str, np.ndarray] | None = None,
) -> AuditReport:
    """Run the audit checks on the task's data and return every finding, most severe first.

    `checks` picks checks by name (default: all, or the fast ones with `fast=True`).
    `stop_on_error=True` raises `DataError` at the first bad row instead of reporting it.
    `embedding_cache` (text -> vector) lets a caller reuse embeddings across calls.
    """
    from narrowtune.data.split import has_labels
    from narrowtune.task import DEFAULT_BASE

    start = time.perf_counter()
    names = _resolve_checks(checks, fast)
    if not has_labels(task):
        names = [name for name in names if name not in LABEL_CHECKS]
    if task.kind == "generate":  # the kind counts (and truncates or rejects) long sequences itself
        names = [name for name in names if name != "long_texts"]
    # Text checks embed with an encoder: the task's own, or the default one for generative kinds.
    encoder_base = DEFAULT_BASE if task.kind == "generate" else task.model.base
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
        shared: dict[str, Any] = {
            "exact": exact_groups(texts),
            "near": None,
            "embeddings": None,
            "split_of": data.split_of,
            "seed": task.seed,
            "multi_label": task.multi_label,
            "max_length": task.model.max_length,
            "windowed": task.kind == "extract",
            "mode": task.train.mode,
            "fewshot_max_per_class": task.train.fewshot_max_per_class,
            "declared_labels": list(task.labels) if task.labels else None,
            "progress": progress,
        }
        timings["exact_groups"] = time.perf_counter() - began
        if not fast and NEEDS_NEAR & set(names):
            began = time.perf_counter()
            shared["near"] = near_groups(texts, seed=task.seed, progress=progress)
            timings["near_groups"] = time.perf_counter() - began
        needs_embeddings = NEEDS_EMBEDDINGS & set(names)
        if task.multi_label:  # label_issues skips multi-label tasks: no need to encode for it
            needs_embeddings -= {"label_issues"}
        if needs_embeddings:
            began = time.perf_counter()
            shared["embeddings"] = embed(
                texts,
                base=encoder_base,
                max_length=task.model.max_length,
                cache=embedding_cache,
                progress=progress,
            )
            timings["encode"] = time.perf_counter() - began
        for number, name in enumerate(names):
            if progress:
                progress(name, number, len(names))
            began = time.perf_counter()
            rows = data.splits.train if name in TRAIN_SPLIT_ONLY else examples
            findings.extend(CHECKS[name](rows, **shared))
            timings[name] = time.perf_counter() - began
    stats["seconds_per_step"] = {k: round(v, 3) for k, v in timings.items()}
    return AuditReport(
        findings=sort_findings(findings), stats=stats, seconds=time.perf_counter() - start
    )


__all__ = [
    "CHECKS",
    "FAST_CHECKS",
    "LOAD_FINDINGS",
    "AuditData",
    "AuditError",
    "AuditReport",
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
