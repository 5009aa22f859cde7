"""The contract-review example: its planted-issue data, the style guide, review units, the
pipeline on bad input, and (slow) the whole workflow with a reviewer trained here."""

from __future__ import annotations

import csv
import filecmp
import json
import re
import sys
from pathlib import Path

import pytest

from narrowtune.solidity.analyzer import analyze_folder, missing_tools
from narrowtune.solidity.findings import SECURITY_CRITICAL
from narrowtune.solidity.units import state_variables, units

EXAMPLE = Path(__file__).parents[1] / "examples" / "contract_review"
sys.path.insert(0, str(EXAMPLE))
import make_contracts  # noqa: E402
from style import PATTERNS  # noqa: E402

needs_analyzer = pytest.mark.skipif(
    bool(missing_tools()), reason="analyzer not installed: " + "; ".join(missing_tools())
)
MIXED_CASE = re.compile(r"^[a-z][A-Za-z0-9]*$")


def expected() -> list[dict]:
    return [json.loads(line) for line in (EXAMPLE / "expected.jsonl").read_text().splitlines()]


def test_the_generator_writes_the_committed_contracts_byte_for_byte(tmp_path: Path) -> None:
    make_contracts.main(tmp_path)
    assert filecmp.cmp(tmp_path / "expected.jsonl", EXAMPLE / "expected.jsonl", shallow=False)
    committed = sorted(p.name for p in (EXAMPLE / "contracts" / "test").glob("*.sol"))
    assert len(committed) == 48
    _, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "contracts" / "test", EXAMPLE / "contracts" / "test", committed, shallow=False
    )
    assert (mismatch, errors) == ([], [])


def test_the_data_meets_the_issue_sizes() -> None:
    records = expected()
    test = [r for r in records if r["split"] == "test"]
    train = [r for r in records if r["split"] == "train"]
    assert len(test) >= 40 and sum(not r["issues"] for r in test) >= 10
    assert sum(len(r["issues"]) for r in train) >= 150
    planted = {i["pattern"] for r in test for i in r["issues"]}
    # every planted family of the issue is in the test set
    assert {"reentrancy", "tx-origin", "unchecked-call", "precision-loss"} <= planted
    assert {"missing-access-control", "unbounded-loop", "shadowed-state"} <= planted


def test_every_planted_line_shows_its_pattern() -> None:
    """The labels are checked against the code itself, not trusted from the generator."""
    for record in expected():
        if record["split"] != "test":
            continue
        lines = (EXAMPLE / record["file"]).read_text().splitlines()
        for issue in record["issues"]:
            code, above = lines[issue["line"] - 1].strip(), lines[issue["line"] - 2].strip()
            where = f"{record['file']}:{issue['line']}"
            pattern = issue["pattern"]
            assert code == issue["code"], where
            if pattern == "tx-origin":
                assert "tx.origin" in code, where
            elif pattern == "unchecked-call":
                assert (".send(" in code or ".call{" in code) and "(bool" not in code, where
            elif pattern == "reentrancy":
                assert ".call{" in code, where
            elif pattern == "missing-natspec":
                assert code.startswith("function ") and not above.startswith("///"), where
            elif pattern == "naming":
                name = code.split("function ", 1)[1].split("(")[0]
                assert not MIXED_CASE.match(name), where
            elif pattern == "missing-access-control":
                assert code.startswith("function ") and "onlyOwner" not in code, where
            elif pattern == "precision-loss":
                # a product of something already divided (on this line or just above)
                before = " ".join(lines[issue["line"] - 3 : issue["line"]])
                assert "*" in code and "/" in before.split("*")[0] + above, where
            elif pattern == "unbounded-loop":
                # over a whole list's length (read on this line or a few lines above)
                window = " ".join(lines[issue["line"] - 5 : issue["line"]])
                assert code.startswith("for (") and ".length" in window, where
            elif pattern == "magic-number":
                assert re.search(r"\b([2-9]|\d{2,})\b", code), where  # not 0 or 1


def test_style_guide_and_pattern_list_agree() -> None:
    text = (EXAMPLE / "STYLE.md").read_text()
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", text, re.M))
    assert listed == set(PATTERNS)
    critical = {name for name, p in PATTERNS.items() if p.security_critical}
    assert critical == set(SECURITY_CRITICAL)
    task_labels = (EXAMPLE / "task.yaml").read_text()
    for name in PATTERNS:
        if name != "upgradeability":  # in the guide, not planted in this example
            assert name in task_labels


SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Pool {
    uint256 public constant LIMIT = 10;
    address public owner;
    mapping(address => uint256) public balances;

    /// @notice Pay out.
    function payOut(uint256 amount) external {
        // a comment line
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "failed");
        balances[msg.sender] -= amount;
    }

    function Other() external view returns (uint256) {
        return LIMIT;
    }
}
"""


def test_units_cover_code_lines_with_their_context() -> None:
    findings = [{"file": "Pool.sol", "line": 12, "detector": "reentrancy-eth"}]
    got = units({"Pool.sol": SOURCE, "README.md": "not solidity"}, findings)
    assert [u.line for u in got] == [10, 12, 13, 14, 17, 18]
    by_line = {u.line: u for u in got}
    assert by_line[10].function == "payOut" and "above: /// @notice Pay out." in by_line[10].text
    assert "analyzer: reentrancy-eth" in by_line[12].text
    assert "analyzer: none" in by_line[13].text
    assert by_line[12].text.startswith('(bool ok, ) = msg.sender.call{value: amount}("");')
    assert "above: nothing" in by_line[17].text and by_line[17].function == "Other"
    assert "state: owner, balances" in by_line[18].text  # constants left out
    assert state_variables(SOURCE.splitlines()) == ["LIMIT", "owner", "balances"]


def test_units_of_broken_or_empty_sources_do_not_raise() -> None:
    assert units({"A.sol": ""}) == []
    broken = units({"A.sol": "contract A {\n    function f( {\n        x = 1;\n"})
    assert [u.line for u in broken] == [2, 3]


def test_cases_file_expects_a_human_exactly_for_security_critical_plants() -> None:
    from narrowtune.pipeline import load_pipeline, read_cases

    pipeline = load_pipeline(EXAMPLE / "pipeline.yaml")
    cases = {c.id: c for c in read_cases(EXAMPLE / "cases.jsonl", pipeline)}
    for record in expected():
        if record["split"] == "test":
            critical = any(i["security_critical"] for i in record["issues"])
            assert cases[record["contract"]].expect["escalated"] is critical
    bad = [c for c in cases.values() if c.id.startswith("bad-")]
    assert len(bad) == 4 and all(c.expect == {"escalated": True, "route": "human"} for c in bad)


@needs_analyzer
def test_every_test_contract_compiles_and_the_analyzer_finds_planted_reentrancy() -> None:
    analysis = analyze_folder(EXAMPLE / "contracts" / "test", timeout=600)
    assert analysis.errors == []
    assert len(analysis.files) == 48
    found = {(f.file, f.line) for f in analysis.findings if f.pattern == "reentrancy"}
    planted = [
        (Path(r["file"]).name, i["line"])
        for r in expected()
        if r["split"] == "test"
        for i in r["issues"]
        if i["pattern"] == "reentrancy"
    ]
    assert planted and all(p in found for p in planted)


@needs_analyzer
def test_the_pipeline_sends_bad_input_to_a_human_without_a_reviewer() -> None:
    """Bad input stops at the analysis: the reviewer is never loaded, nothing is approved."""
    from steps import analyze, review_analysis

    for diff, message in [
        ("", "empty"),
        ("--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-a\n+b\n", "no Solidity"),
        (
            "--- /dev/null\n+++ b/contracts/B.sol\n@@ -0,0 +1,2 @@\n+pragma solidity ^0.8.20;\n"
            "+contract B { uint x }\n",
            "do not compile",
        ),
    ]:
        result = review_analysis(analyze(diff=diff), run="no-such-run")
        assert result["needs_human"] and result["review"]["event"] == "REQUEST_CHANGES", diff
        assert message in result["reason"], result["reason"]


@pytest.mark.slow
@needs_analyzer
def test_the_workflow_end_to_end_with_a_reviewer_trained_here(tmp_path: Path) -> None:
    """A small reviewer trained through the CLI on part of the rows, then the pipeline on two
    test contracts: one with a planted reentrancy (a human decides, with the analyzer's
    evidence), one clean (never an approval; routed as its review says)."""
    import yaml
    from typer.testing import CliRunner

    from narrowtune.cli import app
    from narrowtune.pipeline import load_pipeline, run_case

    sys.path.insert(0, str(EXAMPLE))
    import build_lines

    records = expected()
    train = [r for r in records if r["split"] == "train"][:40]
    make_contracts.main(tmp_path)
    findings = analyze_folder(tmp_path / "contracts" / "train", timeout=600).to_dict()["findings"]
    build_lines.HERE = tmp_path
    rows = build_lines.labelled_rows(train, findings)
    positives = [r for r in rows if r["label"] != "none"]
    negatives = [r for r in rows if r["label"] == "none"][: 2 * len(positives)]
    (tmp_path / "lines").mkdir()
    for name, part in [("train", positives + negatives), ("validation", rows[::7])]:
        with (tmp_path / "lines" / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", "label", "file", "line"])
            writer.writeheader()
            writer.writerows(part)
    spec = yaml.safe_load((EXAMPLE / "task.yaml").read_text())
    spec["data"].pop("test")
    spec["train"] = {"mode": "full", "epochs": 1, "max_minutes": 3}
    spec["model"]["max_length"] = 128
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(spec))
    for name in ("pipeline.yaml", "steps.py", "style.py"):
        (tmp_path / name).write_text((EXAMPLE / name).read_text())
    trained = CliRunner().invoke(app, ["train", str(tmp_path / "task.yaml")])
    assert trained.exit_code == 0, trained.output
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "train.json").write_text(json.dumps({"findings": findings}))
    (tmp_path / "calibrate.py").write_text((EXAMPLE / "calibrate.py").read_text())

    for name in ("steps", "calibrate"):
        sys.modules.pop(name, None)
    pipeline = load_pipeline(tmp_path / "pipeline.yaml")
    pipeline.prepare()
    # Without a threshold chosen on validation the review step fails, and the case goes to a
    # human rather than being commented on without the security flag.
    clean_record = next(r for r in records if r["split"] == "test" and not r["issues"])
    text = (EXAMPLE / clean_record["file"]).read_text()
    lines = text.splitlines()
    clean_diff = f"--- /dev/null\n+++ b/contracts/{Path(clean_record['file']).name}\n"
    clean_diff += f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{ln}\n" for ln in lines)
    unready = run_case(pipeline, {"diff": clean_diff})
    assert unready.escalated and "calibrate.py" in unready.reason, unready.reason
    sys.path.insert(0, str(tmp_path))
    import calibrate

    calibrate.main()
    chosen = json.loads((tmp_path / "runs" / "security.json").read_text())
    assert 0 < chosen["threshold"] <= 0.5
    test = {r["contract"]: r for r in records if r["split"] == "test"}
    critical = next(
        r for r in test.values() if any(i["pattern"] == "reentrancy" for i in r["issues"])
    )
    clean = next(r for r in test.values() if not r["issues"])
    for record, must in [(critical, True), (clean, False)]:
        text = (EXAMPLE / record["file"]).read_text()
        lines = text.splitlines()
        diff = f"--- /dev/null\n+++ b/contracts/{Path(record['file']).name}\n"
        diff += f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{ln}\n" for ln in lines)
        result = run_case(pipeline, {"diff": diff})
        review = result.step("review").output
        assert review["review"]["event"] != "APPROVE"
        if must:
            assert result.escalated and result.route == "human"
            reentrancy = [c for c in review["comments"] if c["pattern"] == "reentrancy"]
            assert reentrancy and reentrancy[0]["evidence"], review["comments"]
        else:
            # A seconds-trained reviewer may flag a clean line as possibly critical (its
            # threshold comes from 40 contracts): what must hold is that the route follows the
            # review's verdict and that nothing is approved. The full reviewer's figures on
            # clean contracts are in benchmarks/contract_review.py.
            assert result.escalated == review["needs_human"], result.reason
            assert result.route == ("human" if review["needs_human"] else "comment")


def test_the_security_threshold_must_be_chosen_for_the_run_in_use(tmp_path: Path) -> None:
    from steps import security_threshold

    path = tmp_path / "security.json"
    with pytest.raises(FileNotFoundError, match=r"calibrate\.py"):
        security_threshold(path, tmp_path / "run-a")
    path.write_text(json.dumps({"run": "run-b", "threshold": 0.2}))
    with pytest.raises(ValueError, match="chosen for run run-b, not run-a"):
        security_threshold(path, tmp_path / "run-a")
    assert security_threshold(path, tmp_path / "run-b") == 0.2
