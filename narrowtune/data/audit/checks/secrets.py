"""Check `secrets`: credentials and personal data that must not be trained on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.audit.secrets import DESCRIPTION, MASKS, SEVERITY, find_secrets, snippet
from narrowtune.data.load import Example


@check(
    "secrets",
    "seed phrases, private keys, API keys, cards, IBANs and e-mails in the texts (masked)",
    fast=True,
)
def secrets(
    examples: Sequence[Example], context: AuditContext, *, max_listed: int = 20
) -> list[Finding]:
    """One finding per kind of secret or personal datum, with masked context per row."""
    rows: dict[str, list[str]] = defaultdict(list)
    samples: dict[str, list[dict[str, str]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for ex in examples:
        spans = find_secrets(ex.text)
        seen = set()
        for span in spans:
            counts[span.kind] += 1
            if span.kind in seen:
                continue
            seen.add(span.kind)
            rows[span.kind].append(ex.where)
            if len(samples[span.kind]) < max_listed:
                sample = {"row": ex.where, "context": snippet(ex.text, spans, span)}
                if span.note:
                    sample["note"] = span.note
                samples[span.kind].append(sample)
    findings = []
    for kind in SEVERITY:
        if kind not in rows:
            continue
        first = rows[kind][0]
        if kind == "tx_hash":
            action = "left as is; mask them by hand if they identify a customer"
        else:
            action = f"`--fix` replaces each with {MASKS[kind]}"
        findings.append(
            Finding(
                check="secrets",
                severity=SEVERITY[kind],
                message=f"{counts[kind]} {DESCRIPTION[kind]} in {len(rows[kind])} row(s), "
                f"first at {first}; {action}",
                rows=rows[kind],
                evidence={"kind": kind, "count": counts[kind], "samples": samples[kind]},
            )
        )
    return findings
