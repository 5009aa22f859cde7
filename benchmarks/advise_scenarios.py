"""`narrowtune advise` on the twelve validation scenarios: does it agree with each one's winner?

    python benchmarks/advise_scenarios.py

Each scenario (examples/advise_scenarios/, written by its seeded make_scenarios.py) is a small
classify task with a profile and an expected decision; measure.py measures what that decision
rests on (confirmed or not). This runs `advise` on a copy of each and records its decision,
agreement, the measurement and the wall time; writes benchmarks/results/advise_scenarios.json.
The advisor's rules were written before the scenarios; thresholds were not tuned to them.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from audit_common import write_result

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "examples" / "advise_scenarios"
sys.path.insert(0, str(SCENARIOS))

from make_scenarios import SCENARIOS as SPECS  # noqa: E402
from measure import justify  # noqa: E402

from narrowtune.advise import advise  # noqa: E402
from narrowtune.task import load_task  # noqa: E402


def main() -> None:
    record: dict[str, object] = {}
    agree = confirmed = 0
    began = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in SPECS.items():
            folder = Path(tmp) / name
            shutil.copytree(SCENARIOS / name, folder)
            start = time.perf_counter()
            advice = advise(load_task(folder / "task.yaml"))
            seconds = time.perf_counter() - start
            check = justify(name, folder, advice)
            ok = advice.decision == spec["expected"]
            agree += ok
            confirmed += bool(check["confirmed"])
            record[f"{name}_expected"] = spec["expected"]
            record[f"{name}_decision"] = advice.decision
            record[f"{name}_agrees"] = ok
            record[f"{name}_confirmed"] = bool(check["confirmed"])
            record[f"{name}_measurement"] = check["measurement"]
            record[f"{name}_seconds"] = round(seconds, 1)
            rows.append((name, spec["expected"], advice.decision, ok, check["measurement"]))
            print(json.dumps(rows[-1]), flush=True)
    record["scenarios"] = len(SPECS)
    record["agreement"] = agree
    record["measurements_confirming_expected"] = confirmed
    record["wall_seconds"] = round(time.perf_counter() - began, 1)
    record["order"] = list(SPECS)
    write_result("advise_scenarios", record)


if __name__ == "__main__":
    main()
