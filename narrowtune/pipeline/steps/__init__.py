"""Step types, registered by name (`STEP_TYPES`); importing this package registers the
built-in ones. A new type subclasses `Step` and is decorated with `register_step`."""

from narrowtune.pipeline.steps import http, model, python, retrieve, route, validate
from narrowtune.pipeline.steps.base import (
    STEP_TYPES,
    Step,
    StepConfig,
    StepFailed,
    register_step,
    step_type,
)

__all__ = [
    "STEP_TYPES",
    "Step",
    "StepConfig",
    "StepFailed",
    "http",
    "model",
    "python",
    "register_step",
    "retrieve",
    "route",
    "step_type",
    "validate",
]
