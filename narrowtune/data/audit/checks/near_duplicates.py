"""Check `near_duplicates`: rows that are nearly the same text."""

from __future__ import annotations

from collections.abc import Sequence

from narrowtune.data.audit.duplicates import group_evidence, near_groups
from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.normalize import normalize
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.load import Example


@check(
    "near_duplicates",
    "clusters of nearly the same text (MinHash LSH on word bigrams), exact copies aside",
    fast=False,
    needs={"near"},
)
def near_duplicates(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
    """Clusters of rows that are nearly the same text (not counting exact duplicates).

    Uses the audit's `context.near` clusters; computes them when the context has none.
    """
    texts = [ex.text for ex in examples]
    near, near_threshold = context.near, context.near_threshold
    if near is None:
        near = near_groups(
            texts, threshold=near_threshold, seed=context.seed, progress=context.progress
        )
    exact_keys = [normalize(t) for t in texts]
    # A cluster of exact copies only is reported by exact_duplicates.
    clusters = [g for g in near if len({exact_keys[i] for i in g}) > 1]
    if not clusters:
        return []
    extra = sum(len(g) - 1 for g in clusters)
    return [
        Finding(
            check="near_duplicates",
            severity="warning",
            message=f"{len(clusters)} cluster(s) of near-duplicate rows ({extra} row(s) beyond "
            f"one per cluster; word-shingle Jaccard ≥ {near_threshold}); `--fix` keeps one of each",
            rows=[examples[i].where for g in clusters for i in g[1:]],
            evidence={
                "threshold": near_threshold,
                "clusters": [group_evidence(g, examples) for g in clusters],
                "cluster_sizes": [len(g) for g in clusters],
            },
        )
    ]
