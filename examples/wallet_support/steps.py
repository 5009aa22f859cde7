"""The wallet-support workflow's own step (a `python` step of pipeline.yaml).

`compose` puts the retrieved fact into the drafted reply: the fine-tuned drafter writes the
reply's shape and tone from the ticket, and the facts that change (a chain's status, a fee, a
policy) come from the knowledge base at the time of the ticket, quoted with their source and
date — so a policy edit changes the next reply without retraining anything.
"""

from __future__ import annotations

import re
from typing import Any

REMINDER = "Reminder: we will never ask for your seed phrase or private keys."
SIGN_OFF = "— Wallet Support"
# The first sentence of a passage: up to the first full stop followed by a space or the end.
_SENTENCE = re.compile(r"(.+?[.!?])(\s|$)", re.S)


def first_sentences(text: str, count: int = 2, limit: int = 320) -> str:
    """The passage's first sentences without Markdown headings, list marks or line breaks."""
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    flat = " ".join(re.sub(r"^([-*]|\d+\.)\s+", "", ln) for ln in lines)
    out: list[str] = []
    rest = flat
    while rest and len(out) < count:
        match = _SENTENCE.match(rest)
        if not match:
            out.append(rest)
            break
        out.append(match.group(1).strip())
        rest = rest[match.end() :].lstrip()
    sentence = " ".join(out)
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def fact_line(hit: dict[str, Any]) -> str:
    date = (hit.get("updated_at") or "")[:10]
    source = hit.get("title") or hit.get("doc_id") or "our help centre"
    when = f", updated {date}" if date else ""
    stale = " This note may be out of date; we are checking it." if hit.get("stale") else ""
    return f"Latest from our help centre ({source}{when}): {first_sentences(hit['text'])}{stale}"


def compose(draft: str | None, facts: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The reply: the draft with the best retrieved fact inserted before the safety reminder
    (or the sign-off), and which document it came from."""
    draft = draft or ""  # an empty draft still gets its fact; the contract step then fails it
    if not facts:
        return {"text": draft, "source": None, "stale": False}
    top = facts[0]
    line = fact_line(top)
    lines = draft.rstrip("\n").split("\n") if draft.strip() else []
    for anchor in (REMINDER, SIGN_OFF):
        if anchor in lines:
            at = lines.index(anchor)
            lines[at:at] = [line, ""]
            break
    else:
        lines += ["", line]
    return {"text": "\n".join(lines), "source": top.get("doc_id"), "stale": bool(top.get("stale"))}
