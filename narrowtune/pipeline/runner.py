"""Run one case through a pipeline and keep its trace: every step's input, output, latency,
confidence and error. A step that fails (an error, a timeout, an HTTP service that does not
answer, an empty index) escalates the case; it is never answered on half the facts."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from narrowtune.errors import NarrowtuneError
from narrowtune.pipeline.refs import holds, render
from narrowtune.pipeline.spec import Pipeline
from narrowtune.pipeline.steps import StepFailed
from narrowtune.pipeline.steps.base import type_of

# Threads that run steps with a timeout. A step that times out is abandoned, not killed (Python
# cannot stop a thread): its thread finishes in the background and its result is dropped.
_TIMED = ThreadPoolExecutor(max_workers=8, thread_name_prefix="narrowtune-step")

ANSWERED, ESCALATED = "answered", "escalated"


@dataclass
class StepTrace:
    step: str
    type: str
    status: str  # ok, skipped, failed, timeout
    input: Any = None
    output: Any = None
    latency_ms: float = 0.0
    confidence: float | None = None
    error: str | None = None


@dataclass
class CaseResult:
    trace_id: str
    pipeline: str
    inputs: dict[str, Any]
    status: str  # answered or escalated
    route: str | None
    reason: str
    outputs: dict[str, Any]
    steps: list[StepTrace] = field(default_factory=list)
    latency_ms: float = 0.0
    created: str = ""
    review_text: str = ""
    # Per-field review of an escalated case: {"fields": {...}, "check": [names]}.
    review: dict[str, Any] | None = None

    @property
    def escalated(self) -> bool:
        return self.status == ESCALATED

    def step(self, step_id: str) -> StepTrace | None:
        return next((s for s in self.steps if s.step == step_id), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_inputs(pipeline: Pipeline, inputs: Any) -> list[str]:
    """What is wrong with a case's inputs (empty when they fit the pipeline's `inputs:`)."""
    if not isinstance(inputs, Mapping):
        return [f"a case's inputs are an object of {', '.join(pipeline.spec.inputs)}"]
    problems = []
    for name, wanted in pipeline.spec.inputs.items():
        if name not in inputs or inputs[name] is None:
            problems.append(f"missing input '{name}'")
        elif type_of(inputs[name]) != wanted:
            problems.append(f"input '{name}' should be a {wanted}, got {type_of(inputs[name])}")
        elif isinstance(inputs[name], float) and not math.isfinite(inputs[name]):
            problems.append(f"input '{name}' is not a finite number")
    unknown = sorted(set(inputs) - set(pipeline.spec.inputs))
    if unknown:
        problems.append(
            f"unknown input '{unknown[0]}' (the pipeline reads {', '.join(pipeline.spec.inputs)})"
        )
    return problems


def _clean(value: Any) -> Any:
    """The value as plain JSON (for the trace): anything else becomes its repr."""
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=repr))
    except ValueError:
        return repr(value)


def _review_text(pipeline: Pipeline, scope: Mapping[str, Any]) -> str:
    template = pipeline.spec.escalation.text
    if template:
        return str(render(template, scope))
    for name, wanted in pipeline.spec.inputs.items():
        if wanted == "string" and isinstance(scope.get(name), str):
            return str(scope[name])
    return json.dumps({k: scope.get(k) for k in pipeline.spec.inputs}, ensure_ascii=False)


def run_case(pipeline: Pipeline, inputs: Mapping[str, Any]) -> CaseResult:
    """Run one case; the result says whether it was answered or escalated, and why."""
    start = time.perf_counter()
    result = CaseResult(
        trace_id=uuid.uuid4().hex,
        pipeline=pipeline.name,
        inputs=_clean(dict(inputs)) if isinstance(inputs, Mapping) else {},
        status=ANSWERED,
        route=None,
        reason="",
        outputs={},
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    scope: dict[str, Any] = dict(inputs) if isinstance(inputs, Mapping) else {}
    problems = check_inputs(pipeline, inputs)
    if problems:
        result.steps.append(StepTrace("inputs", "inputs", "failed", error="; ".join(problems)))
        _escalate(pipeline, result, "bad input: " + "; ".join(problems))
    else:
        for step in pipeline.steps:
            if step.config.when is not None and not holds(step.config.when, scope):
                result.steps.append(StepTrace(step.id, step.type, "skipped"))
                continue
            trace = StepTrace(step.id, step.type, "ok")
            began = time.perf_counter()
            try:
                if step.config.timeout is None:
                    shown, out = step.run(scope)
                else:
                    shown, out = _TIMED.submit(step.run, dict(scope)).result(step.config.timeout)
            except FutureTimeout:
                trace.status = "timeout"
                trace.error = f"step '{step.id}' took longer than {step.config.timeout} s"
            except (StepFailed, NarrowtuneError) as exc:
                trace.status, trace.error = "failed", str(exc)
            except Exception as exc:  # a bug in a step must not lose the case: escalate it
                trace.status, trace.error = "failed", f"{type(exc).__name__}: {exc}"
            else:
                trace.input, trace.output = _clean(shown), _clean(out)
                confidence = out.get("confidence")
                if isinstance(confidence, int | float) and not isinstance(confidence, bool):
                    trace.confidence = float(confidence)
                scope[step.id] = out
            trace.latency_ms = round((time.perf_counter() - began) * 1000, 3)
            result.steps.append(trace)
            if trace.status != "ok":
                if step.config.on_error == "continue":
                    continue
                error = str(trace.error).removeprefix(f"step '{step.id}': ")
                _escalate(pipeline, result, f"step '{step.id}' {trace.status}: {error}")
                break
            if step.escalates():
                _escalate(pipeline, result, str(out.get("reason") or f"escalated by '{step.id}'"))
                break
            if step.routes():
                result.route, result.reason = out.get("route"), str(out.get("reason") or "")
    result.outputs = _clean(render(pipeline.spec.outputs, scope)) if not problems else {}
    result.review_text = (
        _review_text(pipeline, scope)
        if not problems
        else json.dumps(result.inputs, ensure_ascii=False)
    )
    if result.escalated and not problems and pipeline.spec.escalation.fields:
        fields = render(pipeline.spec.escalation.fields, scope)
        check = (
            render(pipeline.spec.escalation.check, scope)
            if pipeline.spec.escalation.check
            else None
        )
        if isinstance(fields, Mapping):
            names = [str(c) for c in check if str(c) in fields] if isinstance(check, list) else []
            result.review = {"fields": _clean(dict(fields)), "check": names}
    result.latency_ms = round((time.perf_counter() - start) * 1000, 3)
    return result


def _escalate(pipeline: Pipeline, result: CaseResult, reason: str) -> None:
    result.status = ESCALATED
    result.route = pipeline.spec.escalation.route
    result.reason = reason
