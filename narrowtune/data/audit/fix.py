"""`--fix` and `--impact`: act on an audit's findings.

One plan (`plan_fixes`) decides, row by row, what a cleaned copy of the data keeps, drops or
sets aside for a person; `write_fixed` writes it, `measure_impact` trains the fast baseline on
the raw and on the cleaned training split and compares them on the same clean test rows.

The plan, for the rows being cleaned:
- a group of (near-)duplicates keeps one row with the group's majority label (the first, not
  one suspected mislabelled if it can); copies with the same label are dropped, copies with
  another label go to review as conflicts; on a tie between labels all go to review;
- a group that also holds a held-out row (a separate validation/test file, or the evaluation
  split for `--impact`) loses its rows being cleaned: the held-out copy stays, so no leak;
- rows cleanlab suspects of a wrong label go to review with the suggested label;
- rows that could not be read (malformed, empty text, no label) go to review as they were;
- secrets in every kept or reviewed text are masked ([SEED_PHRASE], [EMAIL], …).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.atomic import write_jsonl
from narrowtune.data.audit.collect import collect
from narrowtune.data.audit.embed import embed
from narrowtune.data.audit.findings import AuditReport
from narrowtune.data.audit.normalize import normalize
from narrowtune.data.audit.secrets import find_secrets, mask_secrets
from narrowtune.data.load import DataError, Example

if TYPE_CHECKING:
    from narrowtune.task import Task


@dataclass
class FixPlan:
    keep: list[Example] = field(default_factory=list)  # texts already masked
    dropped: dict[str, str] = field(default_factory=dict)  # where -> reason
    review: list[dict[str, Any]] = field(default_factory=list)  # rows set aside, with reasons
    masked: Counter[str] = field(default_factory=Counter)  # secret kind -> count

    def counts(self) -> dict[str, Any]:
        reasons = Counter(self.dropped.values())
        review = Counter(item["reason"] for item in self.review)
        return {
            "kept": len(self.keep),
            "dropped_exact_duplicates": reasons.get("exact_duplicate", 0),
            "dropped_near_duplicates": reasons.get("near_duplicate", 0),
            "dropped_leaking": reasons.get("leakage", 0),
            "set_aside_for_review": len(self.review),
            "review_reasons": dict(review),
            "masked_secrets": dict(self.masked),
        }


def _groups(report: AuditReport) -> list[list[str]]:
    """Duplicate groups from the report (exact groups, near clusters, cross-split groups),
    merged where they share a row."""
    raw: list[list[str]] = []
    for finding in report.findings:
        if finding.check in ("exact_duplicates", "leakage"):
            raw.extend(g["rows"] for g in finding.evidence.get("groups", []))
        elif finding.check == "near_duplicates":
            raw.extend(c["rows"] for c in finding.evidence.get("clusters", []))
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in raw:
        for other in group[1:]:
            a, b = find(group[0]), find(other)
            if a != b:
                parent[b] = a
    merged: dict[str, list[str]] = defaultdict(list)
    for where in parent:
        merged[find(where)].append(where)
    return [g for g in merged.values() if len(g) > 1]


def _suspects(report: AuditReport) -> dict[str, str]:
    """Rows cleanlab flags -> suggested label."""
    return {
        issue["row"]: issue["suggested"]
        for finding in report.by_check("label_issues")
        for issue in finding.evidence.get("issues", [])
    }


def _label(ex: Example) -> str:
    return "|".join(sorted(ex.labels))


def _masked(text: str, plan: FixPlan) -> str:
    spans = find_secrets(text)
    plan.masked.update(s.kind for s in spans if s.kind != "tx_hash")
    return mask_secrets(text, spans) if spans else text


def plan_fixes(
    rows: Sequence[Example],
    report: AuditReport,
    *,
    held_out: Iterable[str] = (),
    rejected: Sequence[Any] = (),
) -> FixPlan:
    """Decide what a cleaned copy of `rows` keeps, drops and sets aside (see module doc).

    `held_out` are `where` strings of rows that stay as they are elsewhere (evaluation rows);
    `rejected` are `rows.Rejected` items of the file, set aside for review.
    """
    by_where = {ex.where: ex for ex in rows}
    held = set(held_out)
    suspects = _suspects(report)
    plan = FixPlan()
    decided: dict[str, tuple[str, str | None]] = {}  # where -> (action, suggested label)
    for group in _groups(report):
        mine = [w for w in group if w in by_where]
        if not mine:
            continue
        if any(w in held for w in group):
            for w in mine:
                decided[w] = ("leakage", None)
            continue
        counts = Counter(_label(by_where[w]) for w in mine)
        ranked = counts.most_common(2)
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            for w in mine:
                decided[w] = ("conflicting_labels", None)
            continue
        majority = ranked[0][0]
        candidates = [w for w in mine if _label(by_where[w]) == majority]
        keeper = next((w for w in candidates if w not in suspects), candidates[0])
        key = normalize(by_where[keeper].text)
        for w in mine:
            if w == keeper:
                continue
            if _label(by_where[w]) != majority:
                decided[w] = ("conflicting_labels", majority)
            elif normalize(by_where[w].text) == key:
                decided[w] = ("exact_duplicate", None)
            else:
                decided[w] = ("near_duplicate", None)
    for ex in rows:
        action, suggested = decided.get(ex.where, ("keep", None))
        if action == "keep" and ex.where in suspects:
            action, suggested = "label_issue", suspects[ex.where]
        if action in ("exact_duplicate", "near_duplicate", "leakage"):
            plan.dropped[ex.where] = action
        elif action == "keep":
            plan.keep.append(
                Example(_masked(ex.text, plan), ex.labels, source=ex.source, row=ex.row)
            )
        else:
            item: dict[str, Any] = {
                "row": ex.where,
                "reason": action,
                "text": _masked(ex.text, plan),
                "label": list(ex.labels) if len(ex.labels) != 1 else ex.labels[0],
            }
            if suggested:
                item["suggested_label"] = suggested
            plan.review.append(item)
    for bad in rejected:
        record = bad.record
        if isinstance(record, dict):
            record = {k: _masked(v, plan) if isinstance(v, str) else v for k, v in record.items()}
        else:
            record = _masked(str(record), plan)
        plan.review.append(
            {"row": bad.where, "reason": bad.reason, "error": bad.message, "record": record}
        )
    return plan


def _rewritable_only(task: Task, what: str) -> None:
    # Rows of kinds that carry targets (JSON, completions) are not rewritten by this cleaner;
    # refusing is better than writing a copy that silently drops them.
    if task.plugin.audit.rewritable:
        return
    from narrowtune.kinds import all_kinds

    able = " and ".join(k.name for k in all_kinds() if k.audit.rewritable)
    raise DataError(
        f"{what} works on {able} tasks; kind '{task.kind}' rows carry targets it would "
        "not keep. Fix the rows the audit names in the data file itself."
    )


def review_path(out: Path) -> Path:
    return out.with_name(out.stem + ".review.jsonl")


def write_fixed(task: Task, report: AuditReport, out: Path) -> dict[str, Any]:
    """Write a cleaned copy of the training file to `out` (JSONL) and the rows set aside to
    `<out stem>.review.jsonl`; never overwrites an input file. Returns counts.

    Only the training file is rewritten; separate validation/test files stay as they are, and
    training rows duplicating one of their rows are dropped.
    """
    _rewritable_only(task, "--fix")
    out = Path(out)
    review = review_path(out)
    inputs = {
        task.path(p).resolve() for p in (task.data.train, task.data.validation, task.data.test) if p
    }
    for target in (out, review):
        if target.resolve() in inputs:
            raise DataError(
                f"refusing to overwrite the input file {target}; give --fix a new file name"
            )
    if out.suffix.lower() not in (".jsonl", ".ndjson"):
        raise DataError(f"--fix writes JSONL; name the output *.jsonl (got {out.name})")
    data = collect(task)
    train_file = data.files["train"]
    held_out = [
        ex.where
        for role in ("validation", "test")
        if role in data.files
        for ex in data.files[role].examples
    ]
    plan = plan_fixes(train_file.examples, report, held_out=held_out, rejected=train_file.rejected)
    text_key, label_key = task.data.text_column, task.data.label_column

    def rows() -> Iterable[dict[str, Any]]:
        for ex in plan.keep:
            label: Any = list(ex.labels) if task.multi_label else ex.label
            yield {text_key: ex.text, label_key: label}

    write_jsonl(out, rows())
    write_jsonl(review, plan.review)
    counts = plan.counts()
    counts.update(
        {
            "input_rows": len(train_file.examples) + len(train_file.rejected),
            "written": len(plan.keep),
            "out": str(out),
            "review": str(review),
        }
    )
    return counts


def measure_impact(
    task: Task,
    report: AuditReport,
    *,
    seed: int,
    l2: float = 0.1,
    embedding_cache: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Accuracy of frozen-embedding logistic regression trained on the raw vs the cleaned
    training split, on the same clean test rows.

    Clean test rows: the test split minus rows the audit suspects of a wrong or conflicting
    label. Cleaned training split: `plan_fixes` with the validation and test rows held out
    (so training copies of test rows are dropped). `l2=0.1` is C=10, as in the eval baseline.
    """
    _rewritable_only(task, "--impact")
    from narrowtune.data.audit.probe import fit_softmax

    if task.multi_label:
        raise DataError("--impact measures single-label accuracy; this task is multi-label")
    data = collect(task)
    splits = data.splits
    suspect = set(_suspects(report)) | {
        w for f in report.by_check("conflicting_labels") for w in f.rows
    }
    test = [ex for ex in splits.test if ex.where not in suspect]
    if not test:
        raise DataError("no clean test rows to measure on; give data.test or split.test > 0")
    held_out = [ex.where for ex in (*splits.validation, *splits.test)]
    plan = plan_fixes(splits.train, report, held_out=held_out)
    names = sorted({ex.label for ex in splits.train})
    index = {name: i for i, name in enumerate(names)}
    cache: dict[str, np.ndarray] = {} if embedding_cache is None else embedding_cache
    options = {"base": task.model.base, "max_length": task.model.max_length, "cache": cache}
    test_x = embed([ex.text for ex in test], **options)
    test_y = np.array([index.get(ex.label, -1) for ex in test])

    def accuracy(train: Sequence[Example]) -> float:
        x = embed([ex.text for ex in train], **options)
        y = np.array([index[ex.label] for ex in train])
        probe = fit_softmax(x, y, len(names), l2=l2)
        return float((probe.predict_proba(test_x).argmax(axis=1) == test_y).mean())

    raw, clean = accuracy(splits.train), accuracy(plan.keep)
    return {
        "model": f"frozen {task.model.base} embeddings + softmax regression (C={1 / l2:g})",
        "seed": seed,
        "raw_train_rows": len(splits.train),
        "clean_train_rows": len(plan.keep),
        "test_rows": len(test),
        "test_rows_excluded_as_suspect": len(splits.test) - len(test),
        "raw_accuracy": round(raw, 4),
        "clean_accuracy": round(clean, 4),
        "accuracy_gain": round(clean - raw, 4),
    }
