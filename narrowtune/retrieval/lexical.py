"""The BM25 side of retrieval (bm25s): tokenise, index the chunk texts, score a query."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from narrowtune.atomic import write_json

WORD = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def stem(word: str) -> str:
    """A light English suffix stripper (plurals, -ing, -ed), so "fees" meets "fee" and
    "delayed" meets "delay"; numbers and short words are left alone."""
    if len(word) <= 3 or word[-1].isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    if word.endswith("ed") and len(word) > 4:
        return word[:-2]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased words and numbers (0x..., 1.5, eth-usdc kept whole), English stop words out,
    light suffixes stripped."""
    stop = _stopwords()
    return [stem(w) for w in WORD.findall(text.lower()) if w not in stop]


class Lexical:
    """A BM25 index over chunk texts, keyed by chunk id."""

    def __init__(self, retriever: object | None, ids: Sequence[int]) -> None:
        self.retriever = retriever
        self.ids = np.asarray(ids, dtype=np.int64)
        self.position = {int(i): n for n, i in enumerate(self.ids)}

    @classmethod
    def build(cls, rows: Sequence[tuple[int, str]]) -> Lexical:
        import bm25s

        if not rows:
            return cls(None, [])
        corpus = [tokenize(text) or ["\u2205"] for _, text in rows]
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        return cls(retriever, [i for i, _ in rows])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(directory), show_progress=False)  # type: ignore[attr-defined]
        write_json(directory / "chunk_ids.json", self.ids.tolist())

    @classmethod
    def load(cls, directory: Path) -> Lexical:
        import bm25s

        ids = json.loads((directory / "chunk_ids.json").read_text())
        if not ids:
            return cls(None, [])
        retriever = bm25s.BM25.load(str(directory), show_progress=False)
        return cls(retriever, ids)

    def top(self, query: str, n: int, allowed: Sequence[int] | None) -> list[tuple[int, float]]:
        """The `n` best (chunk id, BM25 score) pairs with a score above zero."""
        if self.retriever is None:
            return []
        tokens = tokenize(query)
        known = self.retriever.get_tokens_ids(tokens)  # type: ignore[attr-defined]
        if not known:
            return []
        scores = self.retriever.get_scores_from_ids(known)  # type: ignore[attr-defined]
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[[self.position[int(i)] for i in allowed if int(i) in self.position]] = True
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in best if scores[i] > 0]
