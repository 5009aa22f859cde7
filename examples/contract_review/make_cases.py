"""Write `cases.jsonl` for `narrowtune pipeline test pipeline.yaml cases.jsonl`: each of the 48
test contracts as a pull request adding it (a new-file unified diff under `contracts/`), with
the outcome the project expects — a person decides whenever a planted issue is
security-critical (STYLE.md) — and four bad inputs that must reach a person too.

    python examples/contract_review/make_cases.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent

BROKEN = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Broken {
    uint256 public total
    function add(uint256 x) external { total += x; }
}
"""


def new_file_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    head = f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n"
    return head + "".join(f"+{line}\n" for line in lines)


def main() -> None:
    cases = []
    for line in (HERE / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["split"] != "test":
            continue
        text = (HERE / record["file"]).read_text(encoding="utf-8")
        critical = any(issue["security_critical"] for issue in record["issues"])
        cases.append(
            {
                "id": record["contract"],
                "inputs": {"diff": new_file_diff(f"contracts/{Path(record['file']).name}", text)},
                "expect": {"escalated": critical, "route": "human" if critical else "comment"},
            }
        )
    bad = {
        "bad-empty-diff": "",
        "bad-not-solidity": "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-old\n+new\n",
        "bad-not-a-diff": "please review my contract, thanks!\n",
        "bad-does-not-compile": new_file_diff("contracts/Broken.sol", BROKEN),
    }
    for case_id, diff in bad.items():
        cases.append(
            {
                "id": case_id,
                "inputs": {"diff": diff},
                "expect": {"escalated": True, "route": "human"},
            }
        )
    with (HERE / "cases.jsonl").open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case) + "\n")
    must = sum(c["expect"]["escalated"] for c in cases)
    print(f"cases.jsonl: {len(cases)} cases, {must} must reach a person")


if __name__ == "__main__":
    main()
