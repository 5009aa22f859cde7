"""The project's review patterns, as the reviewer writes them (STYLE.md is the same guide for
people; `tests/test_contract_review_example.py` keeps the two in step).

Each pattern has why it matters and the change the project wants, with `{function}` filled by
the function the comment is on. The first five are security-critical: a comment with one of them
always sends the change to a human reviewer with the analyzer's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    name: str
    title: str
    why: str
    suggestion: str
    security_critical: bool


PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in [
        Pattern(
            "reentrancy",
            "External call before the state update",
            "`{function}` sends value before it updates its own balances, so the receiver can call "
            "back in and withdraw again against the old balance.",
            "Update the balance and totals first, then make the call "
            "(checks-effects-interactions), or guard the function against reentry.",
            True,
        ),
        Pattern(
            "tx-origin",
            "Authorisation by tx.origin",
            "`{function}` authorises with `tx.origin`: any contract the owner interacts with can "
            "call it on the owner's behalf (a phishing contract passes the check).",
            "Check `msg.sender` (use the `onlyOwner` modifier).",
            True,
        ),
        Pattern(
            "unchecked-call",
            "Return value of a value transfer ignored",
            "`{function}` ignores whether the transfer succeeded: a failed send leaves the books "
            "saying the funds were paid.",
            "Capture the returned success flag and revert when it is false.",
            True,
        ),
        Pattern(
            "missing-access-control",
            "Privileged function open to anyone",
            "`{function}` changes privileged state or moves funds but any address can call it.",
            "Restrict it with `onlyOwner` (or the role that owns this action).",
            True,
        ),
        Pattern(
            "upgradeability",
            "Unprotected upgrade or delegatecall",
            "`{function}` lets a caller change the code that runs with this contract's storage.",
            "Restrict the upgrade path and never delegatecall to a caller-supplied address.",
            True,
        ),
        Pattern(
            "precision-loss",
            "Division before multiplication",
            "`{function}` divides before it multiplies, so amounts smaller than the divisor round "
            "to zero and every result loses precision.",
            "Multiply first, then divide (`amount * rate / DENOMINATOR`).",
            False,
        ),
        Pattern(
            "unbounded-loop",
            "Loop over a list that grows without bound",
            "`{function}` walks a whole list that anyone can grow; past a few hundred entries the "
            "call runs out of gas and can never succeed again.",
            "Process the list in pages (`start`, `count` at most `MAX_BATCH`) or keep a running "
            "total instead of looping.",
            False,
        ),
        Pattern(
            "shadowed-state",
            "Local variable shadows a state variable",
            "`{function}` declares a local variable with the name of a state variable, so the code "
            "reads or writes the local copy and not the contract's state.",
            "Rename the local variable (or write to the state variable if that was meant).",
            False,
        ),
        Pattern(
            "naming",
            "Name not in the project's style",
            "`{function}` is not in mixedCase: the style guide names functions in mixedCase, "
            "constants in UPPER_CASE and only internal functions with a leading underscore.",
            "Rename it in mixedCase (for example `withdrawAll`).",
            False,
        ),
        Pattern(
            "missing-event",
            "State change without an event",
            "`{function}` changes a parameter that users and monitors rely on but emits no event, "
            "so the change is invisible off-chain.",
            "Emit the matching event (old and new value) after the change.",
            False,
        ),
        Pattern(
            "magic-number",
            "Unnamed literal",
            "`{function}` uses a bare number whose meaning and units the reader has to guess; the "
            "same limit written twice drifts apart.",
            "Name it as a constant (`uint256 public constant MAX_FEE_BPS = 500;`), use the name.",
            False,
        ),
        Pattern(
            "missing-natspec",
            "Public function without NatSpec",
            "`{function}` is part of the contract's public interface but has no NatSpec comment, "
            "so integrators and auditors have no statement of what it should do.",
            "Add a `/// @notice` line (and `@param` / `@return` where they help) above it.",
            False,
        ),
    ]
}

SECURITY_CRITICAL = frozenset(name for name, p in PATTERNS.items() if p.security_critical)


def comment_text(pattern: str, function: str) -> tuple[str, str]:
    """Why it matters and the suggested change for `pattern` on `function`."""
    entry = PATTERNS[pattern]
    return entry.why.format(function=function or "this code"), entry.suggestion
