"""Normalised analyzer findings and the patterns a human must always judge."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Patterns whose judgment is never left to the copilot: the case goes to a human with the
# analyzer's evidence (issue 13: reentrancy, access control, unchecked external calls,
# tx.origin, upgradeability).
SECURITY_CRITICAL = frozenset(
    {"reentrancy", "missing-access-control", "unchecked-call", "tx-origin", "upgradeability"}
)

# Slither detector -> review pattern. Detectors not listed keep their own name as the pattern.
# Slither's `reentrancy-benign` (state written after a call, harmless), `reentrancy-events` (an
# event emitted after a call) and `reentrancy-unlimited-gas` (send/transfer) are low or
# informational by its own rating: they keep their names and do not count as a reentrancy, or
# every contract that emits an event after paying out would go to a human.
DETECTOR_PATTERNS: dict[str, str] = {
    "reentrancy-eth": "reentrancy",
    "reentrancy-no-eth": "reentrancy",
    "tx-origin": "tx-origin",
    "unchecked-lowlevel": "unchecked-call",
    "unchecked-send": "unchecked-call",
    "unchecked-transfer": "unchecked-call",
    "divide-before-multiply": "precision-loss",
    "suicidal": "missing-access-control",
    "arbitrary-send-eth": "missing-access-control",
    "arbitrary-send-erc20": "missing-access-control",
    "unprotected-upgrade": "upgradeability",
    "controlled-delegatecall": "upgradeability",
    "delegatecall-loop": "upgradeability",
    "costly-loop": "unbounded-loop",
    "calls-loop": "unbounded-loop",
    "shadowing-state": "shadowed-state",
    "shadowing-local": "shadowed-state",
    "naming-convention": "naming",
    "missing-events-access-control": "missing-event",
    "missing-events-arithmetic": "missing-event",
}

SEVERITIES = ("high", "medium", "low", "informational", "optimization")


def pattern_of(detector: str) -> str:
    """The review pattern a detector's finding belongs to."""
    return DETECTOR_PATTERNS.get(detector, detector)


@dataclass(frozen=True)
class Finding:
    """One analyzer finding: where, what, how bad, and whether a human must judge it."""

    detector: str
    severity: str
    file: str
    line: int
    message: str
    security_critical: bool
    tool: str
    pattern: str = ""
    confidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first_line(element: dict[str, Any]) -> tuple[str, int] | None:
    mapping = element.get("source_mapping") or {}
    lines = mapping.get("lines") or []
    name = mapping.get("filename_relative") or mapping.get("filename_short") or ""
    if not lines:
        return None
    return str(name), int(lines[0])


def finding_location(result: dict[str, Any]) -> tuple[str, int]:
    """File and line of a Slither result: the first statement (node) it names, else the first
    element (a function or variable declaration)."""
    elements = result.get("elements") or []
    for element in elements:
        if element.get("type") == "node":
            place = _first_line(element)
            if place:
                return place
    for element in elements:
        place = _first_line(element)
        if place:
            return place
    return "", 0


def normalise_slither(report: dict[str, Any], *, root_prefix: str = "") -> list[Finding]:
    """Turn Slither's `--json` report into `Finding`s (sorted by file, line, detector).

    `root_prefix` is removed from the start of file names, so paths are relative to the
    analysed folder (what a code host's review comments use)."""
    results = ((report.get("results") or {}).get("detectors")) or []
    findings = []
    for result in results:
        detector = str(result.get("check", "unknown"))
        severity = str(result.get("impact", "informational")).lower()
        file, line = finding_location(result)
        if root_prefix and file.startswith(root_prefix):
            file = file[len(root_prefix) :]
        pattern = pattern_of(detector)
        message = " ".join(str(result.get("description", "")).split())
        findings.append(
            Finding(
                detector=detector,
                severity=severity,
                file=file,
                line=line,
                message=message,
                security_critical=pattern in SECURITY_CRITICAL or severity == "high",
                tool="slither",
                pattern=pattern,
                confidence=str(result.get("confidence", "")).lower(),
            )
        )
    return sorted(findings, key=lambda f: (f.file, f.line, f.detector))
