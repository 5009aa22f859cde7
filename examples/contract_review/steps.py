"""Pipeline step functions for the contract-review copilot (PIPELINE_SPEC.md's `python` steps):
keyword arguments in, a JSON-serialisable dict out. Nothing here ever approves a change.

So far the review is the analyzer's findings rendered as comments; the fine-tuned reviewer
(style-guide patterns) is not built yet.
"""

from __future__ import annotations

from typing import Any

from narrowtune.solidity.analyzer import analyze_folder, analyze_sources
from narrowtune.solidity.comments import Comment, github_review, markdown, verdict
from narrowtune.solidity.diff import DiffError, apply_diff, parse_diff

SUGGESTIONS = {
    "reentrancy": "update state before the external call (checks-effects-interactions) or guard it",
    "tx-origin": "authorise with msg.sender, not tx.origin",
    "unchecked-call": "check the call's returned success flag and revert on failure",
    "precision-loss": "multiply before dividing",
    "missing-access-control": "restrict the function to its owner or role",
    "upgradeability": "protect the upgrade/initialise path and the delegatecall target",
    "unbounded-loop": "bound the loop or let callers page through it",
    "shadowed-state": "rename the variable that shadows the state variable",
}


def analyze(
    diff: str | None = None, folder: str | None = None, timeout: float = 120.0
) -> dict[str, Any]:
    """Analyze a unified diff (new files, or changes applied to `folder`) or a folder."""
    try:
        if diff is not None:
            files = parse_diff(diff)
            sources = apply_diff(files, folder)
            if not sources:
                raise DiffError("the diff touches no Solidity (.sol) file")
            result = analyze_sources(sources, timeout=timeout).to_dict()
            changed = {f.path: sorted(f.added) for f in files if f.is_solidity}
            result["findings"] = [
                x for x in result["findings"] if x["line"] in changed.get(x["file"], [])
            ] or result["findings"]
            return result
        if folder is None:
            raise DiffError("give a diff or a folder to review")
        return analyze_folder(folder, timeout=timeout).to_dict()
    except DiffError as error:
        return {
            "findings": [],
            "errors": [str(error)],
            "files": [],
            "security_critical": False,
            "needs_human": True,
            "seconds": 0.0,
            "tool": "slither",
        }


def review(analysis: dict[str, Any]) -> dict[str, Any]:
    """Comments from the analysis; security-critical findings carry the analyzer's evidence."""
    comments = [
        Comment(
            path=f["file"],
            line=f["line"],
            pattern=f["pattern"],
            why=f["message"],
            suggestion=SUGGESTIONS.get(f["pattern"], "see the analyzer's message"),
            security_critical=f["security_critical"],
            source="analyzer",
            evidence=[f["message"]],
        )
        for f in analysis.get("findings", [])
        if f["severity"] in ("high", "medium") or f["security_critical"]
    ]
    errors = list(analysis.get("errors", []))
    return {
        "comments": [c.to_dict() for c in comments],
        "review": github_review(comments, errors),
        "markdown": markdown(comments, errors),
        "verdict": verdict(comments, errors),
        "needs_human": verdict(comments, errors) == "needs_human",
    }
