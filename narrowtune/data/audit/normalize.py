"""Text normalisation and shingling shared by the duplicate, conflict and leakage checks."""

from __future__ import annotations

import re
import string

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = string.punctuation + "¡¿“”‘’«»…–—"
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\b\d+\b")


def normalize(text: str) -> str:
    """The key two texts must share to count as exact duplicates.

    Case-folded, whitespace collapsed, punctuation stripped at both ends: "Hello  World!" and
    "hello world" are duplicates; "hello, world" and "hello world" are not.
    """
    return _SPACE.sub(" ", text.casefold()).strip().strip(_EDGE_PUNCT).strip()


def shingles(text: str, *, size: int = 2) -> set[bytes]:
    """Word n-grams of a text (all-digit words folded to '0'), as bytes for MinHash.

    Folding digits makes templated texts that differ only in numbers (phone numbers, amounts,
    order ids) near-duplicates. Texts shorter than `size` words give one shingle: themselves.
    """
    words = _WORD.findall(_DIGITS.sub("0", text.casefold()))
    if len(words) <= size:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}
