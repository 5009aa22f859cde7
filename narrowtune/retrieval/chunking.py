"""Splitting a document into overlapping chunks of words, along Markdown headings where it can.

A document is first cut into sections at its Markdown headings. Consecutive sections are packed
into one chunk while they fit in `size` words (so a short note stays whole); a section longer
than `size` is cut into windows of `size` words that overlap by `overlap` words. Each chunk
remembers the heading it starts under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    heading: str


def sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, words) per Markdown section; text before the first heading has heading ''.
    A heading line's own words open its section, so they are searched as well."""
    out: list[tuple[str, list[str]]] = []
    heading = ""
    words: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            if words:
                out.append((heading, words))
            heading, words = match.group(2), []
        line_words = line.split()
        if line_words:
            line_words[-1] += "\n"  # the line break travels with the word (not counted)
        words.extend(line_words)
    if words:
        out.append((heading, words))
    return out


def windows(words: list[str], size: int, overlap: int) -> list[list[str]]:
    """`words` in windows of `size` overlapping by `overlap`; the last window is not a tail
    shorter than the overlap."""
    if len(words) <= size:
        return [words]
    step = size - overlap
    out = []
    for start in range(0, len(words), step):
        out.append(words[start : start + size])
        if start + size >= len(words):
            break
    return out


def chunk_text(text: str, *, size: int = 160, overlap: int = 32) -> list[Chunk]:
    """Chunks of at most `size` words; see the module's docstring."""
    if size < 8:
        raise ValueError("chunk size must be at least 8 words")
    if not 0 <= overlap < size:
        raise ValueError("chunk overlap must be >= 0 and smaller than the chunk size")
    pieces: list[tuple[str, list[str]]] = []
    current: list[str] = []
    current_heading = ""
    for heading, words in sections(text):
        if len(words) > size:
            if current:
                pieces.append((current_heading, current))
                current = []
            pieces.extend((heading, window) for window in windows(words, size, overlap))
            continue
        if current and len(current) + len(words) > size:
            pieces.append((current_heading, current))
            current = []
        if not current:
            current_heading = heading
        current = current + words
    if current:
        pieces.append((current_heading, current))
    return [Chunk(i, _join(words), heading) for i, (heading, words) in enumerate(pieces)]


def _join(words: list[str]) -> str:
    """Words back into text, with the line breaks they carry."""
    return " ".join(words).replace("\n ", "\n").strip()
