"""Character spans <-> word-level BIO tags, BIO-constrained Viterbi, and locating values in text.

Words are runs of word characters or single punctuation marks (the split BERT-style tokenizers
make before word pieces), so every word starts a sub-token and a word's first sub-token can carry
its tag. Entities follow seqeval/conlleval conventions: an I- tag after O or after another field
starts a new entity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

WORD = re.compile(r"\w+|[^\w\s]")
Span = tuple[int, int]


def word_offsets(text: str) -> list[Span]:
    """(start, end) character offsets of the words of `text`."""
    return [(m.start(), m.end()) for m in WORD.finditer(text)]


def tag_names(span_fields: Sequence[str]) -> list[str]:
    """The tag set: O, then B-/I- per span field."""
    tags = ["O"]
    for name in span_fields:
        tags += [f"B-{name}", f"I-{name}"]
    return tags


def tags_from_spans(
    words: Sequence[Span], spans: dict[str, list[list[int]]], tag_index: dict[str, int]
) -> tuple[list[int], int]:
    """Tag ids per word, and how many spans did not start/end on word boundaries.

    A span covers every word it overlaps (a span cut inside a word grows to the whole word).
    """
    tags = [0] * len(words)
    starts = [s for s, _ in words]
    ends = [e for _, e in words]
    ragged = 0
    for name, items in spans.items():
        for start, end in items:
            covered = [i for i, (ws, we) in enumerate(words) if ws < end and we > start]
            if not covered:
                ragged += 1
                continue
            if start not in starts or end not in ends:
                ragged += 1
            tags[covered[0]] = tag_index[f"B-{name}"]
            for i in covered[1:]:
                tags[i] = tag_index[f"I-{name}"]
    return tags, ragged


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(field, first word, last word + 1) of each entity in a BIO tag sequence (conlleval)."""
    out = []
    current: str | None = None
    begin = 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-")
        continues = prefix == "I" and name == current
        if current is not None and not continues:
            out.append((current, begin, i))
            current = None
        if prefix == "B" or (prefix == "I" and not continues):
            current, begin = name, i
    return out


def allowed_transitions(tags: Sequence[str]) -> np.ndarray:
    """allowed[a, b]: whether tag b may follow tag a (I-X only after B-X or I-X)."""
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    for b, tag in enumerate(tags):
        if tag.startswith("I-"):
            name = tag[2:]
            for a, prev in enumerate(tags):
                allowed[a, b] = prev in (f"B-{name}", f"I-{name}")
    return allowed


def viterbi(log_probs: np.ndarray, allowed: np.ndarray, tags: Sequence[str]) -> list[int]:
    """The most likely tag sequence under the BIO constraints (no sequence starts with I-)."""
    n_words, n_tags = log_probs.shape
    if n_words == 0:
        return []
    forbid = np.where(allowed, 0.0, -np.inf)
    start_ok = np.array([0.0 if not t.startswith("I-") else -np.inf for t in tags])
    score = log_probs[0] + start_ok
    back = np.zeros((n_words, n_tags), dtype=np.int64)
    for i in range(1, n_words):
        candidates = score[:, None] + forbid  # [previous, next]
        back[i] = np.argmax(candidates, axis=0)
        score = candidates[back[i], np.arange(n_tags)] + log_probs[i]
    path = [int(np.argmax(score))]
    for i in range(n_words - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]


def _occurrences(text: str, needle: str, *, fold: bool) -> list[int]:
    haystack, needle = (text.lower(), needle.lower()) if fold else (text, needle)
    out, start = [], haystack.find(needle)
    while start >= 0 and needle:
        out.append(start)
        start = haystack.find(needle, start + 1)
    return out


def _free(start: int, end: int, taken: Sequence[Span]) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether a match does not cut a word in two (so '12' is not found inside '2012')."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    inner_first, inner_last = text[start], text[end - 1]
    ok_left = not (before.isalnum() and inner_first.isalnum())
    ok_right = not (after.isalnum() and inner_last.isalnum())
    return ok_left and ok_right


def surface_forms(value: object) -> list[str]:
    """Ways a value may be written: the string itself, or numbers with and without separators."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        number = float(value)
        forms = []
        if number == int(number):
            whole = int(number)
            forms += [f"{whole:,}", str(whole)]
            for scale, suffix in ((1_000_000, "M"), (1_000, "k"), (1_000, "K")):
                if whole % scale == 0 and whole >= scale:
                    forms.append(f"{whole // scale}{suffix}")
        else:
            forms += [f"{number:,}", repr(number)]
        return forms
    text = str(value).strip()
    return [text] if text else []


def locate(text: str, value: object, taken: Sequence[Span]) -> Span | None:
    """Where `value` is written in `text`: exact first, then case-insensitive; never overlapping
    spans already taken, never inside a longer word. None when it is not there."""
    for form in surface_forms(value):
        for fold in (False, True):
            for start in _occurrences(text, form, fold=fold):
                end = start + len(form)
                if _bounded(text, start, end) and _free(start, end, taken):
                    return (start, end)
    return None
