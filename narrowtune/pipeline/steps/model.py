"""`model`: any trained run of any kind, reading one text built from a template."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import model_validator

from narrowtune.pipeline.refs import PipelineError, render
from narrowtune.pipeline.steps.base import Step, StepConfig, StepFailed, register_step, resolve_path

# What a model step outputs: the fields of a Prediction, whatever the kind, plus `text` (the
# output when it is text: a generated reply).
OUTPUTS = {
    "label": "any",
    "confidence": "number",
    "abstain": "boolean",
    "scores": "object",
    "output": "any",
    "text": "string",
    "valid": "boolean",
    "missing": "array",
    "problems": "array",
    "outcome": "string",
    "reasons": "array",
    "uncertain": "array",
    "run": "string",
}

# Models shared by the steps (and pipelines) of one process that name the same run.
_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()


class ModelConfig(StepConfig):
    task: str | None = None
    run: str | None = None
    text: str
    backend: str = "torch"

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        if (self.task is None) == (self.run is None):
            raise ValueError("a model step names either `task` (a task file) or `run` (a run)")
        return self


def shared_model(run_dir: Path, backend: str) -> Any:
    from narrowtune import api

    key = (str(run_dir.resolve()), backend)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = api.load(run_dir, backend=backend)
        return _MODELS[key]


@register_step
class ModelStep(Step):
    type = "model"
    Config = ModelConfig
    config: ModelConfig

    def __init__(self, config: StepConfig, base_dir: Path) -> None:
        super().__init__(config, base_dir)
        self.model: Any = None
        self.run_dir: Path | None = None

    def outputs(self) -> dict[str, str]:
        return dict(OUTPUTS)

    def templates(self) -> list[Any]:
        return [self.config.text]

    def locate(self) -> Path:
        from narrowtune import runs
        from narrowtune.task import load_task

        if self.config.run is not None:
            path = resolve_path(self.base_dir, self.config.run)
            if not runs.is_run_dir(path):
                raise PipelineError(f"step '{self.id}': {path} is not a run directory")
            return path
        assert self.config.task is not None
        task = load_task(resolve_path(self.base_dir, self.config.task))
        return runs.find_run(task.runs_path)

    def prepare(self) -> None:
        if self.model is None:
            self.run_dir = self.locate()
            self.model = shared_model(self.run_dir, self.config.backend)

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        self.prepare()
        text = render(self.config.text, scope)
        if not isinstance(text, str) or not text.strip():
            raise StepFailed(f"step '{self.id}': the text to read is empty")
        prediction = self.model.predict([text])[0].to_dict()
        out = {key: prediction.get(key) for key in OUTPUTS if key in prediction}
        out["text"] = prediction["output"] if isinstance(prediction.get("output"), str) else None
        out["uncertain"] = prediction.get("uncertain")
        assert self.run_dir is not None
        out["run"] = self.run_dir.name
        return {"text": text}, out
