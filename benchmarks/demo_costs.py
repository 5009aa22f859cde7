"""The demo's expected cost per 1,000 tickets under its declared cost matrix: the target-precision
threshold against the cost-optimal one (both chosen on validation, measured on test).

    python benchmarks/demo_costs.py

Runs what `narrowtune demo` runs (audit --fix, train on the cleaned copy, eval with baselines)
on the bundled demo data and its task file (narrowtune/demo/task.yaml, `costs:`), and writes
benchmarks/results/demo_costs.json (flat keys + command, date, machine).
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from audit_common import write_result

from narrowtune import api
from narrowtune.data.audit import write_fixed
from narrowtune.scaffold import demo_folder
from narrowtune.task import load_task


def key(name: str) -> str:
    if name.startswith("fine-tuned"):
        return "fine_tuned"
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def main() -> None:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        task_path = demo_folder(Path(tmp) / "demo")
        task = load_task(task_path)
        report = api.audit(task)
        cleaned = task_path.parent / "tickets.clean.jsonl"
        write_fixed(task, report, cleaned)
        task = load_task(task_path, [f"data.train={cleaned.name}"])
        run_dir = api.train(task)
        evaluation, _ = api.evaluate(task, run=str(run_dir))
    data = evaluation.to_dict()
    record: dict[str, object] = {"test_examples": data["split"]["test"]}
    for system in data["systems"]:
        cost = system["metrics"]["cost"]
        name = key(system["name"])
        for field in (
            "per_1k_answer_all",
            "per_1k_at_target",
            "per_1k_at_cost_threshold",
            "cost_threshold",
            "coverage_at_cost_threshold",
        ):
            value = cost.get(field)
            record[f"{name}_{field}"] = None if value is None else round(float(value), 4)
        coverage = (system["metrics"].get("abstention") or {}).get("coverage")
        record[f"{name}_coverage_at_target"] = None if coverage is None else round(coverage, 4)
    costs = data["costs"]
    record["review_cost"] = costs["review"]
    record["cheapest"] = f"{costs['cheapest']['system']} ({costs['cheapest']['setting']})"
    record["top_confusion"] = (
        f"{costs['confusions'][0]['gold']} -> {costs['confusions'][0]['predicted']}"
        if costs["confusions"]
        else "none"
    )
    margin = data["margin"]
    record["accuracy"] = round(100 * data["systems"][0]["metrics"]["accuracy"], 2)
    record["margin_points"] = round(100 * margin["delta"], 2)
    record["margin_interval_low_points"] = round(100 * margin["interval_low"], 2)
    record["margin_interval_high_points"] = round(100 * margin["interval_high"], 2)
    record["wall_seconds"] = round(time.perf_counter() - start, 1)
    write_result("demo_costs", record)


if __name__ == "__main__":
    main()
