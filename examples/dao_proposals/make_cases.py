"""Write cases.jsonl for `narrowtune pipeline test pipeline.yaml cases.jsonl`: every proposal
of the task's test split (the rows the extractor never trained or chose anything on), with the
route its gold output calls for.

    python examples/dao_proposals/make_cases.py

A case passes when the pipeline routes it where the gold output says, or hands it to a person
(per-field review); routing a proposal to the wrong place on its own is the failure. How many
proposals needed a person is the other figure `pipeline test` prints ("escalated").
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REQUIRED = ["title", "summary", "requested_amount", "token", "recipient"]


def main() -> None:
    from narrowtune.data import load_splits
    from narrowtune.task import load_task

    rules = yaml.safe_load((HERE / "pipeline.yaml").read_text())["steps"][-1]["rules"]
    groups = {
        r["when"]["extract.output.category"]: r["route"]
        for r in rules
        if "extract.output.category" in r.get("when", {})
    }
    task = load_task(HERE / "task.yaml")
    test = load_splits(task).test
    lines = (HERE / "proposals.jsonl").read_text(encoding="utf-8").splitlines()
    ids = {n: json.loads(line)["id"] for n, line in enumerate(lines, 1)}
    rows = []
    for example in test:
        gold = example.target["output"]
        missing = [f for f in REQUIRED if gold.get(f) is None]
        route = "author" if missing else groups[gold["category"]]
        rows.append(
            {
                "id": ids[example.row],
                "inputs": {"proposal": example.text},
                "expect": {"route": [route, "human"]},
            }
        )
    out = HERE / "cases.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} cases -> {out}")


if __name__ == "__main__":
    main()
