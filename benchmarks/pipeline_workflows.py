"""The two example workflows through `pipeline test`: pass rate, routes, escalation recall and
precision, share answered with no person, end-to-end latency on this machine.

    python benchmarks/pipeline_workflows.py dao_proposals     # after `narrowtune train` in it
    python benchmarks/pipeline_workflows.py wallet_support    # after its README's train + index

Writes benchmarks/results/pipeline_<example>.json. For dao_proposals it also counts the
per-field review: the share of proposals routed with no person and the share of fields a person
checks (the uncertain fields of escalated proposals).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import write_result

from narrowtune.pipeline import load_pipeline, read_cases, run_cases

ROOT = Path(__file__).resolve().parents[1]


def main(example: str, sample: int | None = None) -> None:
    folder = ROOT / "examples" / example
    pipeline = load_pipeline(folder / "pipeline.yaml")
    cases = read_cases(folder / "cases.jsonl", pipeline)
    total = len(cases)
    if sample is not None:
        # every case that must reach a person, and `sample` of the others (seeded): drafting a
        # reply takes seconds to minutes on a shared 2-core machine
        must = [c for c in cases if c.expect.get("escalated") is True]
        others = [c for c in cases if c.expect.get("escalated") is not True]
        random.Random(7).shuffle(others)
        cases = must + others[:sample]
    pipeline.prepare()
    report = run_cases(
        pipeline, cases, on_case=lambda o: print(o.case.id, o.result.status, o.result.route)
    )
    summary = report.summary()
    n = summary["cases"]
    values = {
        "cases": n,
        "cases_in_file": total,
        "sampled": sample is not None,
        "pass_rate": summary["pass_rate"],
        "route_accuracy": summary["route_accuracy"],
        "escalation_recall": summary["escalation_recall"],
        "escalation_precision": summary["escalation_precision"],
        "must_escalate": summary["must_escalate"],
        "escalated": summary["escalated"],
        "answered_share": round(1 - summary["escalated"] / n, 4),
        "latency_p50_ms": summary["latency_p50_ms"],
        "latency_p95_ms": summary["latency_p95_ms"],
    }
    answered = [o for o in report.outcomes if not o.result.escalated]
    if answered:
        values["answered_route_accuracy"] = round(
            sum(o.passed for o in answered) / len(answered), 4
        )
    if example == "dao_proposals":
        fields = checked = 0
        for o in report.outcomes:
            step = o.result.step("extract")
            if step is None or step.output is None:
                continue
            fields += len(step.output["scores"])
            if o.result.escalated:
                checked += len(step.output.get("uncertain") or [])
        values["no_person_share"] = values["answered_share"]
        values["fields_checked_share"] = round(checked / fields, 4) if fields else None
        values["fields_flagged_to_reviewers_share"] = round(
            sum(
                len((o.result.step("extract").output or {}).get("uncertain") or [])  # type: ignore[union-attr]
                for o in report.outcomes
                if not o.result.escalated
            )
            / fields,
            4,
        )
    reasons: dict[str, int] = {}
    for o in report.outcomes:
        if o.result.escalated:
            first = next((s.step for s in reversed(o.result.steps) if s.status != "skipped"), "")
            reasons[first] = reasons.get(first, 0) + 1
    values.update({f"escalated_by_{k}": v for k, v in sorted(reasons.items())})
    write_result(f"pipeline_{example}", values)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("example", nargs="?", default="dao_proposals")
    parser.add_argument(
        "--sample", type=int, help="run every must-escalate case and this many others (seeded)"
    )
    args = parser.parse_args()
    main(args.example, args.sample)
