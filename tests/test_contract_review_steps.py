"""The contract-review example's pipeline step functions: bad input goes to a human, a real
analyzer run on a diff routes a reentrancy to a human with the analyzer's evidence."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from narrowtune.solidity.analyzer import missing_tools

sys.path.insert(0, str(Path(__file__).parents[1] / "examples" / "contract_review"))
from steps import analyze, review_analysis

from tests.test_contract_review import VAULT


@pytest.mark.parametrize(
    ("diff", "message"),
    [
        ("", "empty"),
        ("--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-a\n+b\n", "no Solidity"),
    ],
)
def test_bad_input_goes_to_a_human_and_is_never_approved(diff: str, message: str) -> None:
    result = review_analysis(analyze(diff=diff))
    assert result["needs_human"] and result["review"]["event"] == "REQUEST_CHANGES"
    assert message in result["markdown"]


@pytest.mark.skipif(bool(missing_tools()), reason="; ".join(missing_tools()) or "installed")
def test_a_reentrancy_in_a_diff_goes_to_a_human_with_evidence() -> None:
    lines = VAULT.splitlines()
    diff = f"--- /dev/null\n+++ b/Vault.sol\n@@ -0,0 +1,{len(lines)} @@\n" + "".join(
        "+" + line + "\n" for line in lines
    )
    result = review_analysis(analyze(diff=diff))
    critical = [c for c in result["comments"] if c["pattern"] == "reentrancy"]
    assert critical and critical[0]["line"] == 13 and critical[0]["evidence"]
    assert result["review"]["event"] == "REQUEST_CHANGES"
