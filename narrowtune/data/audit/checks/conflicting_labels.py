"""Check `conflicting_labels`: the same (or nearly the same) text given different labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from narrowtune.data.audit.duplicates import exact_groups
from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.load import Example

MAX_IN_MESSAGE = 3


def _labels(ex: Example) -> str:
    return "|".join(sorted(ex.labels))


def conflicting_groups(
    examples: Sequence[Example], groups: list[list[int]]
) -> list[dict[str, Any]]:
    """The groups whose rows do not all carry the same label(s), with the majority label.

    `majority` is None on a tie: no label can be trusted over another.
    """
    out = []
    for group in groups:
        counts = Counter(_labels(examples[i]) for i in group)
        if len(counts) < 2:
            continue
        (top, n_top), (_, n_next) = counts.most_common(2)
        out.append(
            {
                "rows": [examples[i].where for i in group],
                "labels": [_labels(examples[i]) for i in group],
                "label_counts": dict(counts),
                "majority": top if n_top > n_next else None,
                "text": examples[group[0]].text[:200],
                "indices": group,
            }
        )
    return out


def _finding(conflicts: list[dict[str, Any]], kind: str, severity: str) -> Finding:
    shown = "; ".join(
        f"{c['rows'][0]} ({' vs '.join(sorted(c['label_counts']))})"
        for c in conflicts[:MAX_IN_MESSAGE]
    )
    rows = [where for c in conflicts for where in c["rows"]]
    return Finding(
        check="conflicting_labels",
        severity=severity,  # type: ignore[arg-type]
        message=f"{len(conflicts)} {kind} text(s) carry different labels ({shown}"
        f"{' …' if len(conflicts) > MAX_IN_MESSAGE else ''}); the model cannot learn both. "
        "`--fix` keeps the majority label and sets the others aside for review",
        rows=rows,
        evidence={
            "kind": kind,
            "groups": [{k: v for k, v in c.items() if k != "indices"} for c in conflicts],
        },
    )


@check(
    "conflicting_labels",
    "the same (or, in a full audit, nearly the same) text given different labels",
    fast=True,
    labels=True,
)
def conflicting_labels(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
    """Same normalised text with different labels; with `near` clusters, near-same text too.

    `context.exact` / `context.near` are the index groups from `exact_groups` / `near_groups`;
    exact groups are computed here when missing, near ones only checked when given (they need
    MinHash, which the fast audit skips).
    """
    exact, near = context.exact, context.near
    if exact is None:
        exact = exact_groups([ex.text for ex in examples])
    findings = []
    same = conflicting_groups(examples, exact)
    if same:
        findings.append(_finding(same, "identical (after normalisation)", "warning"))
    if near is not None:
        exact_rows = {i for c in same for i in c["indices"]}
        similar = [
            c
            for c in conflicting_groups(examples, near)
            if not set(c["indices"]) <= exact_rows  # already reported as identical
        ]
        if similar:
            findings.append(_finding(similar, "near-identical", "warning"))
    return findings
