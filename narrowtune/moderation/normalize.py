"""Undo the tricks that hide abusive text from a model, before the model reads it.

Attackers write "𝐜𝐥𝐚𝐢𝐦 yоur аirdrор" (mathematical letters, Cyrillic look-alikes), "fr33
m0ney", "c l a i m  n o w", zero-width spaces inside words and "metamask-support[.]com". The
`Normalizer` maps all of these back to plain text: Unicode NFKC, invisible and direction
characters removed, look-alike letters folded to Latin (from the Unicode confusables data, via
the `confusable_homoglyphs` package), leetspeak decoded when that makes a known word, spaced-out
letters joined, defanged links restored.

It only ever changes what the *model* reads: reviewers and the store keep the original text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import product
from pathlib import Path

# Characters a reader cannot see but that split words for a tokenizer: Unicode "format"
# characters (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi controls) plus
# variation selectors, the combining grapheme joiner and Hangul fillers.
_INVISIBLE_EXTRA = {0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0}


def _invisible(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.category(ch) == "Cf"
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or code in _INVISIBLE_EXTRA
    )


@cache
def confusable_map() -> dict[str, str]:
    """Each non-ASCII character the Unicode confusables data says looks like one ASCII letter or
    digit, mapped to it (Cyrillic 'а' -> 'a', Greek 'Ο' -> 'O', Armenian 'օ' -> 'o', ...)."""
    import confusable_homoglyphs

    data = json.loads(
        (Path(confusable_homoglyphs.__file__).parent / "confusables.json").read_text()
    )
    out: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        targets = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii()]
        letters = [t for t in targets if t.isalpha()] or [t for t in targets if t.isdigit()]
        if letters:
            out[char] = letters[0]
    return out


@cache
def base_vocabulary() -> frozenset[str]:
    """Whole English words the bundled encoder knows (its WordPiece vocabulary, lowercased):
    leetspeak is decoded only when the decoded form is such a word."""
    from narrowtune.encoders import resolve_base

    words = (resolve_base("all-MiniLM-L6-v2") / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha() and w.isascii() and len(w) >= 3)


_LEET: dict[str, tuple[str, ...]] = {
    "0": ("o",),
    "1": ("i", "l"),
    "3": ("e",),
    "4": ("a",),
    "5": ("s",),
    "7": ("t",),
    "8": ("b",),
    "9": ("g",),
    "@": ("a",),
    "$": ("s",),
    "!": ("i",),
    "|": ("l", "i"),
}
_LEET_TOKEN = re.compile(r"[A-Za-z0-9@$!|]+")
_SPACED = re.compile(r"(?<![^\s])(?:[A-Za-z][ .\-_*·]){2,}[A-Za-z](?![^\s.,!?:;])")
_TLDS = (
    "com|io|org|net|xyz|app|finance|co|gg|me|info|site|online|top|live|link|dev|ly|fi|"
    "exchange|network|world|club|pro|biz|us|uk|eu|ru|cn|cc|to|so|tech|space|claims?"
)
_DEFANGED_DOT = re.compile(
    r"(?<=[A-Za-z0-9])\s?(?:\[\s?(?:\.|dot)\s?\]|\(\s?(?:\.|dot)\s?\)|\{\s?(?:\.|dot)\s?\}"
    r"|<\s?(?:\.|dot)\s?>)\s?(?=[A-Za-z0-9])",
    re.IGNORECASE,
)
_SPOKEN_DOT = re.compile(
    rf"(?<=[A-Za-z0-9])(?:\s+dot\s+|\s\.\s|\s\.|\.\s)(?=(?:{_TLDS})\b)", re.IGNORECASE
)
_DEFANGED_SCHEME = re.compile(r"\b(h[xX*]{2}p)(s?)(\[?:\]?)//", re.IGNORECASE)
_DEFANGED_COLON = re.compile(r"\[:\]|\(:\)")
_SPACES = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class Normalizer:
    """Plain text from disguised text. `words`: extra known words (e.g. brand names seen in the
    training data) that leetspeak may decode to, besides the encoder's vocabulary."""

    fold_confusables: bool = True
    leetspeak: bool = True
    join_spaced: bool = True
    links: bool = True
    words: frozenset[str] = field(default_factory=frozenset)

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        text = strip_invisible(text)
        if self.links:
            text = undefang(text)
        if self.fold_confusables:
            text = fold_confusables(text)
        if self.join_spaced:
            text = join_spaced_letters(text)
        if self.leetspeak:
            text = decode_leetspeak(text, self.known_words)
        return _SPACES.sub(" ", text).strip()

    @cached_property
    def known_words(self) -> frozenset[str]:
        """The words leetspeak may decode to: the encoder's vocabulary and `words`, joined once
        (not once per text)."""
        return base_vocabulary() | self.words if self.words else base_vocabulary()

    def many(self, texts: Iterable[str]) -> list[str]:
        return [self(t) for t in texts]


def strip_invisible(text: str) -> str:
    """Drop invisible characters, and combining marks stacked on ASCII letters (after NFKC an
    accented Latin letter is one character, so a mark left on a bare letter is decoration)."""
    out: list[str] = []
    for ch in text:
        if _invisible(ch):
            continue
        if unicodedata.category(ch) == "Mn" and out and out[-1].isascii() and out[-1].isalpha():
            continue
        out.append(ch)
    return "".join(out)


def undefang(text: str) -> str:
    """hxxps[:]//example[.]com, example(dot)com, "example dot com" -> https://example.com."""
    text = _DEFANGED_SCHEME.sub(lambda m: f"http{m.group(2).lower()}://", text)
    text = _DEFANGED_COLON.sub(":", text)
    text = _DEFANGED_DOT.sub(".", text)
    return _SPOKEN_DOT.sub(".", text)


def fold_confusables(text: str) -> str:
    """Replace look-alike letters by their Latin twins inside words that are written in Latin
    (a word with an ASCII letter, or any word of a mostly-Latin message). Words of a message in
    another script (Russian, Greek) are left alone."""
    table = confusable_map()
    letters = [ch for ch in text if ch.isalpha()]
    latin_message = bool(letters) and sum(ch.isascii() for ch in letters) * 2 >= len(letters)

    def fold(match: re.Match[str]) -> str:
        word = match.group(0)
        if not any(ch in table for ch in word):
            return word
        if latin_message or any(ch.isascii() and ch.isalpha() for ch in word):
            return "".join(table.get(ch, ch) for ch in word)
        return word

    return re.sub(r"\S+", fold, text)


def join_spaced_letters(text: str) -> str:
    """ "c l a i m  n o w" -> "claim now": three or more single letters, each followed
    by one separator, are one word."""
    return _SPACED.sub(lambda m: re.sub(r"[ .\-_*·]", "", m.group(0)), text)


def decode_leetspeak(text: str, known: frozenset[str]) -> str:
    """ "fr33 cl41m" -> "free claim": a word with letters and leet characters is decoded only
    when it is not a known word itself and exactly decodes to one (so "web3", "0x12ab", "2fa"
    and "$100" stay as they are)."""

    def decode(match: re.Match[str]) -> str:
        token = match.group(0)
        start = match.start()
        if start > 0 and text[start - 1] in "@#/.:_-":  # a mention, hashtag, path or domain
            return token
        word = token.rstrip("!|")  # "free!" ends a sentence
        tail = token[len(word) :]
        if word[:1] in "$@" and not any(ch in _LEET for ch in word[1:]):
            return token  # a cashtag ($ETH) or a mention
        lower = word.lower()
        if (
            lower in known
            or lower.startswith("0x")
            or sum(ch.isalpha() for ch in word) < 2
            or not any(ch in _LEET for ch in word)
        ):
            return token
        options = [_LEET.get(ch, (ch,)) for ch in lower]
        if sum(len(o) > 1 for o in options) > 4:
            return token
        for letters in product(*options):
            candidate = "".join(letters)
            if len(candidate) >= 3 and candidate in known:
                return candidate + tail
        return token

    return _LEET_TOKEN.sub(decode, text)
