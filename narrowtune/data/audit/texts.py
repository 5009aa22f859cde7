"""Text measures the checks share: an estimate of token counts, and the writing system of a text."""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import cache


def approx_tokens(text: str) -> int:
    """A cheap upper-side estimate of sub-word tokens: ~4/3 per word, at least chars / 4."""
    return max(round(len(text.split()) * 4 / 3), len(text) // 4)


@cache
def _script_of_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA"):
        return "CJK"
    return first or "OTHER"


def script_of(text: str) -> str:
    """The writing system most letters of a text belong to ('LATIN', 'CYRILLIC', 'CJK' …).

    From the Unicode names of its letters; 'NONE' when it has no letters (numbers, emoji only).
    """
    counts: Counter[str] = Counter(_script_of_char(ch) for ch in text if ch.isalpha())
    return counts.most_common(1)[0][0] if counts else "NONE"
