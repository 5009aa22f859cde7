"""Check `language_mix`: which writing systems the rows are in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.audit.texts import script_of
from narrowtune.data.load import Example

MINORITY_SHARE = 0.01


@check(
    "language_mix",
    "the mix of writing systems (Latin, Cyrillic, CJK, ...) and a hint of accented Latin text",
    fast=True,
)
def language_mix(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
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
