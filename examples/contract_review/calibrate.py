"""Choose the reviewer's security threshold on the validation contracts (never the test ones).

    python calibrate.py          # after `narrowtune train task.yaml`, from this folder

A change goes to a human when the analyzer reports anything security-critical, or when the
reviewer names a security-critical pattern on a changed line. This adds a third way, for what
the reviewer is unsure of: a line whose probability of some security-critical pattern (the sum
over those patterns) reaches the threshold gets a "possible" security-critical comment, and a
human decides. The threshold is the largest value (at most 0.5) with which every validation
contract that has a security-critical planted issue reaches a human. Writes runs/security.json
(the run it was chosen for, the threshold, and what it costs on validation).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from steps import read_lines, reviewer  # noqa: E402
from style import SECURITY_CRITICAL  # noqa: E402

CAP = 0.5


def main() -> None:
    rows = list(csv.DictReader((HERE / "lines" / "validation.csv").open(encoding="utf-8")))
    analysis = json.loads((HERE / "analysis" / "train.json").read_text(encoding="utf-8"))
    model, run_dir = reviewer(HERE / "task.yaml")
    calls = read_lines(model, [r["text"] for r in rows])

    critical: dict[str, bool] = defaultdict(bool)  # a security-critical planted issue
    caught: dict[str, bool] = defaultdict(bool)  # reaches a human without the threshold
    top: dict[str, float] = defaultdict(float)  # the highest line security probability
    for row, call in zip(rows, calls, strict=True):
        name = row["file"]
        critical[name] |= row["label"] in SECURITY_CRITICAL
        label, abstain = call.prediction.label, call.prediction.abstain
        caught[name] |= label in SECURITY_CRITICAL and not abstain
        top[name] = max(top[name], call.security)
    for finding in analysis["findings"]:
        if finding["security_critical"] and finding["file"] in caught:
            caught[finding["file"]] = True

    needed = [top[name] for name in critical if critical[name] and not caught[name]]
    threshold = min([CAP, *needed])
    others = [name for name in critical if not critical[name]]
    flagged = [n for n in others if caught[n] or top[n] >= threshold]
    chosen = {
        "run": run_dir.name,
        "threshold": math.floor(threshold * 1e6) / 1e6,  # never above the value it must reach
        "validation_contracts": len(critical),
        "validation_critical_contracts": sum(critical.values()),
        "critical_caught_without_threshold": sum(caught[n] for n in critical if critical[n]),
        "other_contracts_sent_to_a_human": len(flagged),
        "other_contracts": len(others),
    }
    path = HERE / "runs" / "security.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(chosen, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(chosen, indent=2))


if __name__ == "__main__":
    main()
