"""Embeddings of the audited texts, with the task's encoder (or the one its kind names)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrowtune.progress import ProgressFn


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
