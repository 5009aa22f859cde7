"""Check `leakage`: the same or nearly the same text in more than one split."""

from __future__ import annotations

from collections.abc import Sequence

from narrowtune.data.audit.duplicates import exact_groups
from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.normalize import normalize
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.load import Example


def cross_split_groups(groups: list[list[int]], split_of: Sequence[str]) -> list[list[int]]:
    """The groups whose rows sit in more than one split."""
    return [g for g in groups if len({split_of[i] for i in g}) > 1]


def _evidence(group: list[int], examples: Sequence[Example], split_of: Sequence[str]) -> dict:
    return {
        "rows": [examples[i].where for i in group],
        "splits": [split_of[i] for i in group],
        "text": examples[group[0]].text[:200],
    }


@check(
    "leakage",
    "validation/test rows whose (near-)duplicate is in another split",
    fast=True,
)
def leakage(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
    """Rows of validation/test whose (near-)duplicate is in another split, usually train.

    `context.split_of[i]` names the split of `examples[i]` ("train", "validation", "test").
    Exact groups are computed when missing; near clusters are only checked when given.
    """
    split_of, exact, near = context.split_of, context.exact, context.near
    if split_of is None or len(set(split_of)) < 2:
        return []
    if exact is None:
        exact = exact_groups([ex.text for ex in examples])
    findings = []
    total = {name: sum(1 for s in split_of if s == name) for name in set(split_of)}
    for kind, groups in (("exact", exact), ("near", near)):
        if groups is None:
            continue
        leaking = cross_split_groups(groups, split_of)
        if kind == "near":  # clusters of exact copies only were reported above
            keys = [normalize(ex.text) for ex in examples]
            leaking = [g for g in leaking if len({keys[i] for i in g}) > 1]
        if not leaking:
            continue
        held_out = [i for g in leaking for i in g if split_of[i] != "train"]
        per_split = {
            name: sum(1 for i in held_out if split_of[i] == name) for name in ("validation", "test")
        }
        shares = ", ".join(
            f"{n} of {total.get(name, 0)} {name} rows" for name, n in per_split.items() if n
        )
        findings.append(
            Finding(
                check="leakage",
                severity="warning",
                message=f"{kind} duplicates across splits: {shares} also appear "
                f"{'exactly' if kind == 'exact' else 'nearly'} in another split, so evaluation "
                "overstates quality; `--fix` drops the training copies",
                rows=[examples[i].where for i in held_out],
                evidence={
                    "kind": kind,
                    "per_split": per_split,
                    "groups": [_evidence(g, examples, split_of) for g in leaking],
                },
            )
        )
    return findings
