"""The Solidity review library (narrowtune.solidity): diffs, finding normalisation, review
shapes, and a real Slither run (solcjs compiles) with its failure modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrowtune.solidity.analyzer import analyze_folder, analyze_sources, missing_tools
from narrowtune.solidity.comments import Comment, github_review, markdown, verdict
from narrowtune.solidity.diff import DiffError, apply_diff, parse_diff
from narrowtune.solidity.findings import normalise_slither

needs_analyzer = pytest.mark.skipif(
    bool(missing_tools()),
    reason="analyzer not installed: " + "; ".join(missing_tools()),
)

VAULT = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Vault {
    mapping(address => uint256) public balances;

    function deposit() external payable {
        balances[msg.sender] += msg.value;
    }

    function withdraw() external {
        uint256 amount = balances[msg.sender];
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send failed");
        balances[msg.sender] = 0;
    }
}
"""

VAULT_LINES = len(VAULT.splitlines())
NEW_FILE_DIFF = f"--- /dev/null\n+++ b/src/Vault.sol\n@@ -0,0 +1,{VAULT_LINES} @@\n" + "".join(
    "+" + line + "\n" for line in VAULT.splitlines()
)


def test_new_file_diff_is_parsed_and_rebuilt() -> None:
    files = parse_diff(NEW_FILE_DIFF)
    assert [f.path for f in files] == ["src/Vault.sol"]
    assert files[0].is_new and files[0].added[13].strip().startswith("(bool ok")
    assert apply_diff(files) == {"src/Vault.sol": VAULT}


def test_changed_file_diff_applies_to_its_base(tmp_path: Path) -> None:
    (tmp_path / "A.sol").write_text("line1\nline2\nline3\n")
    diff = "--- a/A.sol\n+++ b/A.sol\n@@ -1,3 +1,4 @@\n line1\n-line2\n+line2b\n+extra\n line3\n"
    files = parse_diff(diff)
    assert files[0].added == {2: "line2b", 3: "extra"}
    assert apply_diff(files, tmp_path) == {"A.sol": "line1\nline2b\nextra\nline3\n"}
    with pytest.raises(DiffError, match="give the folder"):
        apply_diff(files)
    (tmp_path / "A.sol").write_text("other\nline2\nline3\n")
    with pytest.raises(DiffError, match=r"line 1 .* does not match"):
        apply_diff(files, tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("   \n", "empty"), ("hello\nworld\n", "not a unified diff")],
)
def test_bad_diffs_say_why(text: str, message: str) -> None:
    with pytest.raises(DiffError, match=message):
        parse_diff(text)


def test_non_solidity_files_are_left_out() -> None:
    diff = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-old\n+new\n"
    files = parse_diff(diff)
    assert not files[0].is_solidity and apply_diff(files) == {}


def test_slither_json_is_normalised() -> None:
    report = {
        "success": True,
        "results": {
            "detectors": [
                {
                    "check": "reentrancy-eth",
                    "impact": "High",
                    "confidence": "Medium",
                    "description": "Reentrancy in V.withdraw()\n\tExternal calls: ...",
                    "elements": [
                        {
                            "type": "function",
                            "source_mapping": {"lines": [11, 12, 13], "filename_relative": "V.sol"},
                        },
                        {
                            "type": "node",
                            "source_mapping": {"lines": [13], "filename_relative": "V.sol"},
                        },
                    ],
                },
                {
                    "check": "divide-before-multiply",
                    "impact": "Medium",
                    "confidence": "Medium",
                    "description": "x / 100 * 3",
                    "elements": [
                        {
                            "type": "function",
                            "source_mapping": {"lines": [4, 5], "filename_relative": "V.sol"},
                        }
                    ],
                },
            ]
        },
    }
    first, second = normalise_slither(report)
    assert (first.detector, first.line, first.pattern, first.severity) == (
        "divide-before-multiply",
        4,
        "precision-loss",
        "medium",
    )
    assert not first.security_critical
    assert (second.pattern, second.line, second.security_critical) == ("reentrancy", 13, True)
    assert "\n" not in second.message and second.tool == "slither"


def test_reviews_never_approve() -> None:
    style = Comment("A.sol", 3, "magic-number", "why", "use a constant")
    critical = Comment(
        "A.sol",
        9,
        "reentrancy",
        "why",
        "checks-effects-interactions",
        True,
        "analyzer",
        ["evidence"],
    )
    assert verdict([style], []) == "comment" and github_review([style], [])["event"] == "COMMENT"
    review = github_review([style, critical], [])
    assert review["event"] == "REQUEST_CHANGES"
    assert review["comments"][1] == {
        "path": "A.sol",
        "line": 9,
        "side": "RIGHT",
        "body": critical.body(),
    }
    assert verdict([], ["slither failed"]) == "needs_human"
    text = markdown([critical], [])
    assert "`A.sol:9` reentrancy" in text and "does not approve" in text


@needs_analyzer
def test_real_slither_run_finds_the_reentrancy() -> None:
    analysis = analyze_sources({"Vault.sol": VAULT}, timeout=120)
    assert analysis.errors == []
    hits = [f for f in analysis.findings if f.pattern == "reentrancy"]
    assert hits and hits[0].file == "Vault.sol" and hits[0].line == 13
    assert analysis.security_critical and analysis.needs_human


@needs_analyzer
def test_a_file_that_does_not_compile_goes_to_a_human() -> None:
    analysis = analyze_sources(
        {"Broken.sol": "pragma solidity ^0.8.20;\ncontract B { function f( }\n"}
    )
    assert analysis.findings == [] and analysis.needs_human
    assert "do not compile" in analysis.errors[0] and "ParserError" in analysis.errors[0]


@needs_analyzer
def test_an_analyzer_that_times_out_or_crashes_goes_to_a_human(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "V.sol").write_text(VAULT)
    slow = analyze_folder(tmp_path, timeout=0.05)
    assert slow.needs_human and "did not finish within 0.05 s" in slow.errors[0]
    monkeypatch.setenv("NARROWTUNE_SLITHER", "/bin/false")  # a real program that exits 1
    crashed = analyze_folder(tmp_path)
    assert crashed.needs_human and "slither failed" in crashed.errors[0]


def test_a_folder_without_solidity_goes_to_a_human(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a contract")
    analysis = analyze_folder(tmp_path)
    assert analysis.needs_human and "no Solidity (.sol) files" in analysis.errors[0]


def test_benign_reentrancy_ratings_are_not_security_critical() -> None:
    """Slither's own low ratings (an event after a call) must not send a change to a human."""
    report = {
        "results": {
            "detectors": [
                {
                    "check": check,
                    "impact": impact,
                    "confidence": "medium",
                    "description": check,
                    "elements": [
                        {
                            "type": "node",
                            "source_mapping": {"filename_relative": "A.sol", "lines": [line]},
                        }
                    ],
                }
                for line, (check, impact) in enumerate(
                    [
                        ("reentrancy-events", "Low"),
                        ("reentrancy-benign", "Low"),
                        ("reentrancy-unlimited-gas", "Informational"),
                        ("reentrancy-eth", "High"),
                        ("reentrancy-no-eth", "Medium"),
                    ],
                    start=1,
                )
            ]
        }
    }
    found = {f.detector: f for f in normalise_slither(report)}
    assert not any(found[d].security_critical for d in ("reentrancy-events", "reentrancy-benign"))
    assert not found["reentrancy-unlimited-gas"].security_critical
    assert (
        found["reentrancy-eth"].pattern == "reentrancy"
        and found["reentrancy-eth"].security_critical
    )
    assert found["reentrancy-no-eth"].security_critical
