"""Check `long_texts`: rows longer than the model reads, and pasted walls of text."""

from __future__ import annotations

from collections.abc import Sequence

from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.audit.texts import approx_tokens
from narrowtune.data.load import Example

# Above this many characters a row is almost surely a paste (a log, an e-mail thread, a file).
PASTE_CHARS = 20_000


@check(
    "long_texts",
    "rows longer than the model reads (model.max_length tokens) and pasted walls of text",
    fast=True,
)
def long_texts(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
    """Rows longer than the model reads (`model.max_length` tokens) and pasted walls of text.

    Nothing is cut here: the model truncates at training time, and the report says how much.
    Kinds that read long rows in overlapping windows (`context.windowed`, e.g. extract) lose
    nothing to length: then it is a note only.
    """
    max_length, windowed = context.max_length, context.windowed
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
