"""`narrowtune pipeline test`: run expected cases, score each step and the whole workflow.

A cases file is JSONL, one case per line:

    {"id": "refund-3", "inputs": {"ticket": "..."},
     "expect": {"route": "human", "escalated": true, "intent.label": "refund_request"}}

`route` and `escalated` check the case's outcome; any other key is a reference to a step's
output (`step.field[.key]`) or to the pipeline's `outputs` (`output.name`), compared for
equality (a list of values: any of them). A case passes when all its expectations hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from narrowtune.pipeline.refs import PipelineError, Ref
from narrowtune.pipeline.runner import CaseResult, run_case
from narrowtune.pipeline.spec import Pipeline

OUTCOME_KEYS = ("route", "escalated")


@dataclass(frozen=True)
class Case:
    id: str
    inputs: dict[str, Any]
    expect: dict[str, Any]
    where: str


@dataclass
class CaseOutcome:
    case: Case
    result: CaseResult
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class CasesReport:
    pipeline: str
    outcomes: list[CaseOutcome]

    def summary(self) -> dict[str, Any]:
        n = len(self.outcomes)
        passed = sum(o.passed for o in self.outcomes)
        steps: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            for key in o.case.expect:
                if key in OUTCOME_KEYS:
                    continue
                name = key.split(".")[0]
                entry = steps.setdefault(name, {"checked": 0, "passed": 0})
                entry["checked"] += 1
                entry["passed"] += not any(f.startswith(f"{key}:") for f in o.failures)
        for entry in steps.values():
            entry["rate"] = round(entry["passed"] / entry["checked"], 4)  # type: ignore[assignment]
        with_route = [o for o in self.outcomes if "route" in o.case.expect]
        must = [o for o in self.outcomes if o.case.expect.get("escalated") is True]
        # Precision: of the cases that reached a person, the share marked as having to.
        escalated = [o for o in self.outcomes if o.result.escalated]
        hit = [o for o in escalated if o.case.expect.get("escalated") is True]
        latencies = np.array([o.result.latency_ms for o in self.outcomes]) if n else np.zeros(1)
        return {
            "pipeline": self.pipeline,
            "cases": n,
            "passed": passed,
            "pass_rate": round(passed / n, 4) if n else 0.0,
            "route_accuracy": round(
                sum(_matches(o.result.route, o.case.expect["route"]) for o in with_route)
                / len(with_route),
                4,
            )
            if with_route
            else None,
            "escalation_recall": round(len(hit) / len(must), 4) if must else None,
            "escalation_precision": round(len(hit) / len(escalated), 4) if escalated else None,
            "must_escalate": len(must),
            "escalated": sum(o.result.escalated for o in self.outcomes),
            "steps": steps,
            "latency_p50_ms": round(float(np.percentile(latencies, 50)), 1),
            "latency_p95_ms": round(float(np.percentile(latencies, 95)), 1),
        }


def read_cases(path: Path, pipeline: Pipeline) -> list[Case]:
    """The cases of a JSONL file; PipelineError naming file:line for a malformed one."""
    if not path.is_file():
        raise PipelineError(f"cases file not found: {path}")
    cases: list[Case] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PipelineError(f"{where}: not valid JSON: {exc.msg}") from None
            if not isinstance(row, dict) or not isinstance(row.get("inputs"), dict):
                raise PipelineError(f"{where}: a case is an object with an `inputs` object")
            expect = row.get("expect", {})
            if not isinstance(expect, dict) or not expect:
                raise PipelineError(f"{where}: `expect` is a non-empty object (route, fields...)")
            for key in expect:
                if key in OUTCOME_KEYS:
                    continue
                ref = Ref.parse(key)
                known = {s.id for s in pipeline.steps} | {"output"}
                if ref.root not in known:
                    raise PipelineError(
                        f"{where}: expectation '{key}' names no step (steps: "
                        f"{', '.join(s.id for s in pipeline.steps)}; or output.NAME)"
                    )
            if "escalated" in expect and not isinstance(expect["escalated"], bool):
                raise PipelineError(f"{where}: `escalated` is true or false")
            case_id = str(row.get("id", number))
            if case_id in seen:
                raise PipelineError(f"{where}: two cases have the id '{case_id}'")
            seen.add(case_id)
            cases.append(Case(case_id, row["inputs"], expect, where))
    if not cases:
        raise PipelineError(f"{path}: no cases")
    return cases


def _actual(result: CaseResult, key: str) -> Any:
    ref = Ref.parse(key)
    if ref.root == "output":
        return Ref("o", ref.path).resolve({"o": result.outputs})
    trace = result.step(ref.root)
    if trace is None or trace.status != "ok":
        return None
    return Ref("s", ref.path).resolve({"s": trace.output})


def _matches(actual: Any, expected: Any) -> bool:
    if isinstance(expected, list) and not isinstance(actual, list):
        return actual in expected
    return bool(actual == expected)


def check_case(case: Case, result: CaseResult) -> list[str]:
    failures = []
    for key, expected in case.expect.items():
        if key == "route":
            actual: Any = result.route
        elif key == "escalated":
            actual = result.escalated
        else:
            actual = _actual(result, key)
        if not _matches(actual, expected):
            failures.append(f"{key}: expected {expected!r}, got {actual!r}")
    return failures


def run_cases(
    pipeline: Pipeline,
    cases: list[Case],
    *,
    on_case: Callable[[CaseOutcome], None] | None = None,
    record: Callable[[CaseResult], Any] | None = None,
) -> CasesReport:
    """Run every case (recording each trace with `record` when given) and check it."""
    outcomes = []
    for case in cases:
        result = run_case(pipeline, case.inputs)
        if record is not None:
            record(result)
        outcome = CaseOutcome(case, result, check_case(case, result))
        outcomes.append(outcome)
        if on_case is not None:
            on_case(outcome)
    return CasesReport(pipeline.name, outcomes)


def failed_lines(report: CasesReport, limit: int = 20) -> list[str]:
    lines = []
    for o in report.outcomes:
        if not o.passed:
            lines.append(
                f"{o.case.id} ({o.case.where}): {'; '.join(o.failures)}"
                f" [route {o.result.route}, {o.result.status}: {o.result.reason}]"
            )
    return lines[:limit]
