"""What an audit check returns (`Finding`) and what a whole audit returns (`AuditReport`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "blocking"]
SEVERITY_ORDER: dict[str, int] = {"blocking": 0, "warning": 1, "info": 2}


@dataclass
class Finding:
    """One problem (or fact) a check found, with the rows it concerns and its evidence.

    `rows` are `Example.where` strings ("tickets.csv:12"); `evidence` is JSON-safe plain data and
    never holds a secret in the clear (secret findings show masked text only).
    """

    check: str
    severity: Severity
    message: str
    rows: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AuditReport:
    """All findings of one audit, most severe first, plus summary statistics."""

    findings: list[Finding]
    stats: dict[str, Any]
    seconds: float

    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "blocking"]

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITY_ORDER}
        return {
            "seconds": round(self.seconds, 3),
            "counts": counts,
            "stats": self.stats,
            "findings": [f.to_dict() for f in self.findings],
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, the finding touching most rows first."""
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], -len(f.rows), f.check))
