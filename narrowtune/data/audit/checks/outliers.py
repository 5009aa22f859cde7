"""Check `outliers`: rows far from every other row in embedding space (out-of-domain, junk)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.load import Example

CHUNK = 2048
MIN_ROWS = 20


def knn_distance(embeddings: np.ndarray, *, k: int = 5) -> np.ndarray:
    """Mean cosine distance of each row to its `k` nearest other rows (rows are unit vectors)."""
    n = len(embeddings)
    k = max(1, min(k, n - 1))
    out = np.empty(n)
    for start in range(0, n, CHUNK):
        sims = embeddings[start : start + CHUNK] @ embeddings.T
        rows = np.arange(len(sims))
        sims[rows, rows + start] = -np.inf  # not its own neighbour
        top = np.partition(-sims, k - 1, axis=1)[:, :k]
        out[start : start + CHUNK] = 1.0 + top.mean(axis=1)  # 1 - mean similarity
    return out


@check(
    "outliers",
    "rows unlike anything else in the data (k-nearest-neighbour distance above Q3 + 3 x IQR)",
    fast=False,
    needs={"embeddings"},
)
def outliers(
    examples: Sequence[Example], context: AuditContext, *, k: int = 5, iqr_factor: float = 3.0
) -> list[Finding]:
    """Rows whose k-nearest-neighbour distance is an extreme outlier (above Q3 + 3 x IQR).

    Such rows are unlike anything else in the data: out-of-domain texts, pasted junk, another
    language. Ranked most isolated first.
    """
    embeddings = context.embeddings
    if embeddings is None:
        raise ValueError("outliers needs the rows' embeddings (the audit computes them)")
    if len(examples) < MIN_ROWS:
        return []
    distance = knn_distance(embeddings, k=k)
    q1, q3 = np.percentile(distance, [25, 75])
    cut = q3 + iqr_factor * (q3 - q1)
    flagged = np.flatnonzero(distance > cut)
    if len(flagged) == 0:
        return []
    flagged = flagged[np.argsort(-distance[flagged])]
    return [
        Finding(
            check="outliers",
            severity="info",
            message=f"{len(flagged)} row(s) are unlike the rest of the data (mean cosine "
            f"distance to their {k} nearest rows > {cut:.3f}; most isolated: "
            f"{examples[flagged[0]].where}); check they belong to this task",
            rows=[examples[i].where for i in flagged],
            evidence={
                "threshold": round(float(cut), 4),
                "median_distance": round(float(np.median(distance)), 4),
                "outliers": [
                    {
                        "row": examples[i].where,
                        "distance": round(float(distance[i]), 4),
                        "label": "|".join(examples[i].labels),
                        "text": examples[i].text[:200],
                    }
                    for i in flagged
                ],
            },
        )
    ]
