"""The pipeline file: read, validate (with file:line), and check every reference before a case
runs — unknown step types, unknown names, cycles and type mismatches are load-time errors."""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from narrowtune.pipeline.refs import ORDERED, PipelineError, Ref, condition_refs
from narrowtune.pipeline.steps import Step, step_type
from narrowtune.task import key_lines

InputType = Literal["string", "number", "boolean", "object", "array"]


class EscalationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    route: str = Field(default="human", min_length=1, description="The route of escalated cases.")
    text: str | None = Field(
        default=None,
        description="What a reviewer reads in the queue (a template); "
        "default: the first text input.",
    )
    fields: str | None = Field(
        default=None,
        description="Per-field review: the object a reviewer checks, e.g. '{extract.output}'.",
    )
    check: str | None = Field(
        default=None,
        description="Per-field review: the fields the reviewer must check (the others are shown "
        "read-only), e.g. '{extract.uncertain}'.",
    )


class PipelineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str = ""
    inputs: dict[str, InputType] = Field(min_length=1)
    steps: list[dict[str, Any]] = Field(min_length=1)
    outputs: dict[str, Any] = Field(
        default_factory=dict, description="The case's answer: names -> templates."
    )
    escalation: EscalationSpec = EscalationSpec()


def _explain(error: ValidationError, source: str, lines: dict[tuple[str, ...], int], at=()) -> str:
    messages = []
    for item in error.errors():
        loc = (*at, *(str(p) for p in item["loc"]))
        line = None
        for cut in range(len(loc), -1, -1):
            line = lines.get(tuple(loc[:cut]))
            if line:
                break
        where = f"{source}:{line}" if line else source
        key = ".".join(loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            messages.append(f"{where}: unknown key '{key}'")
        elif item["type"] == "missing":
            messages.append(f"{where}: required key '{key}' is missing")
        else:
            messages.append(f"{where}: '{key}': {item['msg']}")
    return "invalid pipeline file\n  " + "\n  ".join(messages)


class Pipeline:
    """A loaded, checked pipeline: its steps in the order they run."""

    def __init__(self, spec: PipelineSpec, steps: list[Step], source: Path) -> None:
        self.spec = spec
        self.name = spec.name
        self.source = source
        self.steps = steps

    def prepare(self) -> None:
        """Load every model and index now (serving does this at start-up)."""
        for step in self.steps:
            step.prepare()


def _types(pipeline_inputs: dict[str, str], steps: dict[str, Step], ref: Ref) -> str | None:
    """The declared type of a reference; None when unknown (any)."""
    if ref.root in pipeline_inputs:
        return pipeline_inputs[ref.root] if not ref.path else None
    outputs = steps[ref.root].outputs()
    if outputs is None or len(ref.path) != 1:
        return None
    kind = outputs.get(ref.path[0])
    return None if kind == "any" else kind


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and check a pipeline file; PipelineError naming file:line for anything wrong."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"pipeline file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise PipelineError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise PipelineError(f"{path}: a pipeline file is a YAML mapping (name, inputs, steps)")
    lines = key_lines(text)
    try:
        spec = PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        raise PipelineError(_explain(exc, str(path), lines)) from None

    def where(*loc: Any) -> str:
        for cut in range(len(loc), -1, -1):
            line = lines.get(tuple(str(p) for p in loc[:cut]))
            if line:
                return f"{path}:{line}"
        return str(path)

    steps: dict[str, Step] = {}
    order: dict[str, int] = {}
    for i, raw_step in enumerate(spec.steps):
        kind = raw_step.get("type")
        if not isinstance(kind, str):
            raise PipelineError(f"{where('steps', i)}: step {i + 1} has no `type`")
        try:
            cls = step_type(kind)
        except PipelineError as exc:
            raise PipelineError(f"{where('steps', i, 'type')}: {exc}") from None
        try:
            config = cls.Config.model_validate(raw_step)
        except ValidationError as exc:
            raise PipelineError(_explain(exc, str(path), lines, ("steps", str(i)))) from None
        if config.id in steps:
            raise PipelineError(f"{where('steps', i, 'id')}: two steps are named '{config.id}'")
        if config.id in spec.inputs:
            raise PipelineError(
                f"{where('steps', i, 'id')}: step '{config.id}' has the name of an input"
            )
        try:
            steps[config.id] = cls(config, path.parent)
        except PipelineError as exc:
            raise PipelineError(f"{where('steps', i)}: {exc}") from None
        order[config.id] = i

    graph: dict[str, set[str]] = {}
    for step_id, step in steps.items():
        at = where("steps", order[step_id])
        try:
            refs = step.references()
        except PipelineError as exc:
            raise PipelineError(f"{at}: step '{step_id}': {exc}") from None
        graph[step_id] = set()
        for ref in refs:
            _check_ref(ref, spec.inputs, steps, at, f"step '{step_id}'")
            if ref.root in steps:
                if ref.root == step_id:
                    raise PipelineError(f"{at}: step '{step_id}' reads its own output '{ref}'")
                graph[step_id].add(ref.root)
        _check_types(step, spec.inputs, steps, at)
    for name, template in spec.outputs.items():
        from narrowtune.pipeline.refs import template_refs

        try:
            for ref in template_refs(template):
                _check_ref(ref, spec.inputs, steps, where("outputs", name), f"output '{name}'")
        except PipelineError as exc:
            raise PipelineError(str(exc)) from None
    from narrowtune.pipeline.refs import template_refs

    for key in ("text", "fields", "check"):
        for ref in template_refs(getattr(spec.escalation, key) or ""):
            _check_ref(ref, spec.inputs, steps, where("escalation", key), f"escalation.{key}")

    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise PipelineError(f"{path}: the steps form a cycle: {cycle}") from None
    # The file's order, except that a step runs after every step it reads.
    ordered: list[str] = []
    pending = sorted(steps, key=order.__getitem__)
    while pending:
        ready = next(s for s in pending if graph[s] <= set(ordered))
        ordered.append(ready)
        pending.remove(ready)
    return Pipeline(spec, [steps[s] for s in ordered], path)


def _check_ref(ref: Ref, inputs: dict[str, str], steps: dict[str, Step], at: str, who: str) -> None:
    if ref.root in inputs:
        return
    if ref.root not in steps:
        known = ", ".join([*inputs, *steps])
        raise PipelineError(
            f"{at}: {who} reads '{ref}', but no input or step is named "
            f"'{ref.root}' (known: {known})"
        )
    outputs = steps[ref.root].outputs()
    if outputs is not None:
        if not ref.path:
            return
        if ref.path[0] not in outputs:
            raise PipelineError(
                f"{at}: {who} reads '{ref}', but step '{ref.root}' ({steps[ref.root].type}) "
                f"outputs only {', '.join(sorted(outputs))}"
            )


def _check_types(step: Step, inputs: dict[str, str], steps: dict[str, Step], at: str) -> None:
    for ref, allowed, setting in step.typed_inputs():
        declared = _types(inputs, steps, ref)
        if declared is not None and declared not in allowed:
            raise PipelineError(
                f"{at}: step '{step.id}' {setting} needs {' or '.join(allowed)}, but '{ref}' "
                f"is {declared}"
            )
    conditions: list[tuple[dict[str, Any], str]] = []
    if step.config.when is not None:
        conditions.append((step.config.when, f"{step.id}.when"))
    conditions += getattr(step, "conditions", lambda: [])()
    for condition, label in conditions:
        for ref, op in condition_refs(condition, label):
            declared = _types(inputs, steps, ref)
            if declared is None:
                continue
            if op in ORDERED and declared != "number":
                raise PipelineError(
                    f"{at}: {label} compares '{ref}' ({declared}) with '{op}', which needs a number"
                )
            if op == "matches" and declared != "string":
                raise PipelineError(
                    f"{at}: {label} matches a pattern against '{ref}', which is {declared}"
                )
