"""Workflows: a pipeline file chains trained models, retrieval, checks, routing and human
escalation (see docs/PIPELINES.md).

    pipeline = load_pipeline("examples/wallet_support/pipeline.yaml")
    result = run_case(pipeline, {"ticket": "my bridge transfer is stuck"})
    result.route, result.escalated, result.outputs, result.steps  # the trace
"""

from narrowtune.pipeline.cases import Case, CasesReport, read_cases, run_cases
from narrowtune.pipeline.refs import PipelineError
from narrowtune.pipeline.runner import CaseResult, StepTrace, check_inputs, run_case
from narrowtune.pipeline.spec import Pipeline, load_pipeline
from narrowtune.pipeline.steps import STEP_TYPES, Step, StepConfig, StepFailed, register_step

__all__ = [
    "STEP_TYPES",
    "Case",
    "CaseResult",
    "CasesReport",
    "Pipeline",
    "PipelineError",
    "Step",
    "StepConfig",
    "StepFailed",
    "StepTrace",
    "check_inputs",
    "load_pipeline",
    "read_cases",
    "register_step",
    "run_case",
    "run_cases",
]
