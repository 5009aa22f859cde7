"""Check `exact_duplicates`: the same text (after normalisation) in more than one row."""

from __future__ import annotations

from collections.abc import Sequence

from narrowtune.data.audit.duplicates import MAX_GROUPS_IN_MESSAGE, exact_groups, group_evidence
from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.load import Example


@check(
    "exact_duplicates",
    "rows whose text is identical after normalisation (case, spacing, end punctuation)",
    fast=True,
)
def exact_duplicates(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
    """Rows whose text is identical after normalisation (case, spacing, end punctuation).

    Uses the audit's `context.exact` groups; computes them when the context has none.
    """
    groups = (
        context.exact if context.exact is not None else exact_groups([ex.text for ex in examples])
    )
    if not groups:
        return []
    extra = sum(len(g) - 1 for g in groups)
    shown = "; ".join(
        " = ".join(examples[i].where for i in g[:3]) for g in groups[:MAX_GROUPS_IN_MESSAGE]
    )
    return [
        Finding(
            check="exact_duplicates",
            severity="warning",
            message=f"{extra} exact duplicate row(s) in {len(groups)} group(s) ({shown}"
            f"{' …' if len(groups) > MAX_GROUPS_IN_MESSAGE else ''}); duplicates over-weight "
            "their text in training and leak across splits. `--fix` keeps one of each",
            rows=[examples[i].where for g in groups for i in g[1:]],
            evidence={
                "duplicate_rows": extra,
                "groups": [group_evidence(g, examples) for g in groups],
            },
        )
    ]
