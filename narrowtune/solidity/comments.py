"""Review comments in the shape a code host's review API takes, and as Markdown.

`github_review` follows GitHub's "create a review for a pull request" body: `event`, `body` and
`comments` of `{path, line, side, body}`. The event is never `APPROVE`: the copilot comments,
and asks for changes (a human's decision) whenever anything security-critical or any analyzer
error is present.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Comment:
    """One review comment: file:line, the pattern, why it matters, a suggested change."""

    path: str
    line: int
    pattern: str
    why: str
    suggestion: str
    security_critical: bool = False
    source: str = "reviewer"  # "analyzer" or "reviewer"
    evidence: list[str] = field(default_factory=list)  # the analyzer's messages
    confidence: float | None = None
    uncertain: bool = False  # the reviewer is unsure: flagged so that a human looks

    def body(self) -> str:
        head = f"**{self.pattern}**" + (" (possible)" if self.uncertain else "")
        head += " (security-critical: a human decides)" if self.security_critical else ""
        parts = [head, f"Why it matters: {self.why}", f"Suggested change: {self.suggestion}"]
        if self.evidence:
            parts.append("Analyzer evidence:\n" + "\n".join(f"- {e}" for e in self.evidence))
        return "\n\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(comments: list[Comment], errors: list[str]) -> str:
    """`needs_human` when anything is security-critical or the analysis failed, else `comment`.
    There is no approving verdict."""
    if errors or any(c.security_critical for c in comments):
        return "needs_human"
    return "comment"


def github_review(comments: list[Comment], errors: list[str]) -> dict[str, Any]:
    """A pull-request review body for GitHub's review API (never `APPROVE`)."""
    decision = verdict(comments, errors)
    summary = summary_line(comments, errors)
    return {
        "event": "REQUEST_CHANGES" if decision == "needs_human" else "COMMENT",
        "body": summary,
        "comments": [
            {"path": c.path, "line": c.line, "side": "RIGHT", "body": c.body()}
            for c in sorted(comments, key=lambda c: (c.path, c.line, c.pattern))
        ],
    }


def summary_line(comments: list[Comment], errors: list[str]) -> str:
    critical = sum(c.security_critical for c in comments)
    text = f"{len(comments)} comment(s), {critical} security-critical."
    if errors:
        text += " The analysis could not complete: " + "; ".join(errors)
    if verdict(comments, errors) == "needs_human":
        text += " A human reviewer must decide; this review does not approve the change."
    else:
        text += " Comments only; a human reviewer approves or not."
    return text


def markdown(comments: list[Comment], errors: list[str]) -> str:
    """The same review as Markdown, one section per comment."""
    lines = ["## Contract review", "", summary_line(comments, errors), ""]
    for error in errors:
        lines.append(f"- **analysis error**: {error}")
    if errors:
        lines.append("")
    for c in sorted(comments, key=lambda c: (c.path, c.line, c.pattern)):
        lines.append(f"### `{c.path}:{c.line}` {c.pattern}")
        lines.append("")
        lines.append(c.body())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
