"""A seeded adversary: disguise texts the way spammers and phishers do, to measure how much a
moderation model loses on disguised text (`eval` compares clean and perturbed copies of the test
set, with and without normalisation).

Each text gets one to three of: look-alike letters (Cyrillic and Greek twins of Latin letters),
zero-width characters inside words, leetspeak, spaced-out letters, and defanged links. The same
seed always gives the same copy.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

PERTURBATIONS = ("homoglyphs", "zero_width", "leetspeak", "spacing", "links")

# Latin letters and a non-Latin character drawn the same (Cyrillic and Greek).
_TWINS = {
    "a": "а",
    "c": "с",
    "e": "е",
    "i": "і",
    "j": "ј",
    "o": "о",
    "p": "р",
    "s": "ѕ",
    "x": "х",
    "y": "у",
    "A": "А",
    "B": "В",
    "E": "Е",
    "H": "Н",
    "K": "К",
    "M": "М",
    "O": "О",
    "P": "Р",
    "T": "Т",
    "X": "Х",
    "v": "ν",
}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
_WORD = re.compile(r"[A-Za-z]{4,}")
_DOMAIN = re.compile(r"\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b", re.IGNORECASE)


def _words(text: str) -> list[re.Match[str]]:
    return [m for m in _WORD.finditer(text) if not _inside_link(text, m.start())]


def _inside_link(text: str, pos: int) -> bool:
    start = text.rfind(" ", 0, pos) + 1
    end = text.find(" ", pos)
    token = text[start : end if end >= 0 else len(text)]
    return "." in token.strip(".,!?") or "/" in token


def _replace_words(
    text: str, rng: random.Random, change: Callable[[str], str], share: float
) -> str:
    matches = _words(text)
    if not matches:
        return text
    chosen = {m.start() for m in matches if rng.random() < share} or {rng.choice(matches).start()}
    out, last = [], 0
    for m in matches:
        if m.start() in chosen:
            out.append(text[last : m.start()])
            out.append(change(m.group(0)))
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def homoglyphs(text: str, rng: random.Random) -> str:
    def change(word: str) -> str:
        return "".join(_TWINS[c] if c in _TWINS and rng.random() < 0.5 else c for c in word)

    return _replace_words(text, rng, change, 0.5)


def zero_width(text: str, rng: random.Random) -> str:
    def change(word: str) -> str:
        cut = rng.randrange(1, len(word))
        return word[:cut] + rng.choice(_ZERO_WIDTH) + word[cut:]

    return _replace_words(text, rng, change, 0.5)


def leetspeak(text: str, rng: random.Random) -> str:
    def change(word: str) -> str:
        return "".join(_LEET.get(c.lower(), c) if rng.random() < 0.7 else c for c in word)

    return _replace_words(text, rng, change, 0.4)


def spacing(text: str, rng: random.Random) -> str:
    return _replace_words(text, rng, lambda word: " ".join(word), 0.25)


def links(text: str, rng: random.Random) -> str:
    """Defang a link ("example[.]com", "hxxps://"); without one, break a word with a dot-free
    disguise of its own (no text is left unperturbed)."""
    if not _DOMAIN.search(text):
        return homoglyphs(text, rng)
    style = rng.choice(("[.]", "(.)", " dot ", "(dot)"))
    text = _DOMAIN.sub(lambda m: m.group(1).replace(".", style), text)
    return text.replace("https://", "hxxps://").replace("http://", "hxxp://")


_APPLY: dict[str, Callable[[str, random.Random], str]] = {
    "homoglyphs": homoglyphs,
    "zero_width": zero_width,
    "leetspeak": leetspeak,
    "spacing": spacing,
    "links": links,
}


def perturb(text: str, rng: random.Random, kinds: Sequence[str] = PERTURBATIONS) -> str:
    """`text` disguised by one to three of `kinds`, chosen by `rng`."""
    chosen = rng.sample(list(kinds), k=min(len(kinds), rng.randint(1, 3)))
    for name in chosen:
        text = _APPLY[name](text, rng)
    return text


def perturb_all(texts: Sequence[str], seed: int = 0) -> list[str]:
    """A disguised copy of `texts`: text i uses its own seeded generator, so the copy of one
    text does not depend on the others."""
    return [perturb(t, random.Random(f"{seed}:{i}")) for i, t in enumerate(texts)]
