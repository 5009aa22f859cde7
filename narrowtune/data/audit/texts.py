"""Text-level checks: very long texts, and the mix of writing systems (scripts)."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache
from typing import Any

from narrowtune.data.audit.findings import Finding
from narrowtune.data.load import Example

# Above this many characters a row is almost surely a paste (a log, an e-mail thread, a file).
PASTE_CHARS = 20_000
MINORITY_SHARE = 0.01


def approx_tokens(text: str) -> int:
    """A cheap upper-side estimate of sub-word tokens: ~4/3 per word, at least chars / 4."""
    return max(round(len(text.split()) * 4 / 3), len(text) // 4)


def long_texts(
    examples: Sequence[Example], *, max_length: int = 64, windowed: bool = False, **_: Any
) -> list[Finding]:
    """Rows longer than the model reads (`model.max_length` tokens) and pasted walls of text.

    Nothing is cut here: the model truncates at training time, and the report says how much.
    `windowed` kinds (extract) read long rows in overlapping windows instead: a note only.
    """
    over = [ex for ex in examples if approx_tokens(ex.text) > max_length]
    findings = []
    if over:
        share = len(over) / max(1, len(examples))
        longest = max(over, key=lambda ex: len(ex.text))
        findings.append(
            Finding(
                check="long_texts",
                severity="warning" if share >= 0.05 and not windowed else "info",
                message=f"{len(over)} row(s) ({share:.1%}) are longer than model.max_length="
                f"{max_length} tokens (estimated) and "
                + (
                    "are read in overlapping windows"
                    if windowed
                    else "will be truncated; the longest is "
                    f"{longest.where} ({len(longest.text):,} characters). Raise "
                    "model.max_length or put the deciding part first"
                ),
                rows=[ex.where for ex in over],
                evidence={
                    "max_length": max_length,
                    "share": share,
                    "longest_chars": len(longest.text),
                    "longest_row": longest.where,
                },
            )
        )
    pasted = [ex for ex in examples if len(ex.text) > PASTE_CHARS]
    if pasted:
        findings.append(
            Finding(
                check="long_texts",
                severity="warning",
                message=f"{len(pasted)} row(s) hold more than {PASTE_CHARS:,} characters "
                f"(first: {pasted[0].where}); probably a paste of a log or a thread — check them",
                rows=[ex.where for ex in pasted],
                evidence={"chars": {ex.where: len(ex.text) for ex in pasted[:50]}},
            )
        )
    return findings


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


def language_mix(examples: Sequence[Example], **_: Any) -> list[Finding]:
    """Writing systems present besides the main one (a script heuristic, not a language model).

    It tells Latin from Cyrillic, Greek, Arabic, CJK and so on; it cannot tell English from
    Spanish. Also reports the share of Latin-script rows with accented letters, a rough hint of
    non-English Latin-script text.
    """
    by_script: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_script[script_of(ex.text)].append(ex)
    if not by_script:
        return []
    main = max(by_script, key=lambda k: len(by_script[k]))
    shares = {k: len(v) / len(examples) for k, v in by_script.items()}
    minority = {k: v for k, v in by_script.items() if k not in (main, "NONE")}
    latin = by_script.get("LATIN", [])
    accented = sum(any(ch.isalpha() and not ch.isascii() for ch in ex.text) for ex in latin) / max(
        1, len(latin)
    )
    if not minority:
        return []
    severity = (
        "warning"
        if sum(len(v) for v in minority.values()) / len(examples) >= MINORITY_SHARE
        else "info"
    )
    listed = ", ".join(f"{k} {shares[k]:.1%}" for k in sorted(minority, key=lambda k: -shares[k]))
    return [
        Finding(
            check="language_mix",
            severity=severity,  # type: ignore[arg-type]
            message=f"most rows are in {main} script ({shares[main]:.1%}); others: {listed}. "
            "A model fine-tuned on few examples of a script will handle it poorly; "
            "check these rows belong",
            rows=[ex.where for v in minority.values() for ex in v],
            evidence={
                "method": "dominant Unicode script of each row's letters",
                "main": main,
                "shares": shares,
                "latin_rows_with_accents": accented,
            },
        )
    ]
