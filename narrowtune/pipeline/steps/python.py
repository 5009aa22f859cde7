"""`python`: call a function by reference — this runs code named in the pipeline file."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from narrowtune.pipeline.refs import PipelineError, render
from narrowtune.pipeline.steps.base import Step, StepConfig, StepFailed, register_step, resolve_path


class PythonConfig(StepConfig):
    function: str = Field(
        pattern=r"^[^:]+:[A-Za-z_][A-Za-z0-9_]*$",
        description="'file.py:function' (relative to the pipeline file) or "
        "'package.module:function'.",
    )
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    outputs: list[str] | None = Field(
        default=None, description="The keys the function returns, when known (checked)."
    )


def import_function(reference: str, base_dir: Path, where: str) -> Callable[..., Any]:
    """The function named by 'file.py:function' or 'package.module:function'."""
    target, _, name = reference.rpartition(":")
    if target.endswith(".py"):
        path = resolve_path(base_dir, target)
        if not path.is_file():
            raise PipelineError(f"{where}: file {path} not found")
        module_name = f"narrowtune_pipeline_{path.stem}_{abs(hash(str(path.resolve())))}"
        module = sys.modules.get(module_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise PipelineError(f"{where}: {path} is not a Python file")
            module = importlib.util.module_from_spec(spec)
            # Registered before it runs, as `import` does: dataclasses and pickling look the
            # module up by name while it is executing.
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:  # the user's code: report what it raised
                sys.modules.pop(module_name, None)
                raise PipelineError(f"{where}: importing {path} failed: {exc!r}") from None
    else:
        try:
            module = importlib.import_module(target)
        except Exception as exc:  # the user's code: report what it raised
            raise PipelineError(f"{where}: importing {target} failed: {exc!r}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise PipelineError(f"{where}: {target} has no function '{name}'")
    return fn


def _json_safe(value: Any, where: str) -> Any:
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StepFailed(f"{where} returned something that is not plain JSON: {exc}") from None
    return json.loads(text)


@register_step
class PythonStep(Step):
    type = "python"
    Config = PythonConfig
    config: PythonConfig

    def __init__(self, config: StepConfig, base_dir: Path) -> None:
        super().__init__(config, base_dir)
        self.function: Callable[..., Any] | None = None

    def outputs(self) -> dict[str, str] | None:
        if self.config.outputs is None:
            return None
        return {name: "any" for name in self.config.outputs}

    def templates(self) -> list[Any]:
        return [self.config.with_]

    def prepare(self) -> None:
        if self.function is None:
            self.function = import_function(
                self.config.function, self.base_dir, f"step '{self.id}'"
            )

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        self.prepare()
        assert self.function is not None
        kwargs = render(self.config.with_, scope)
        where = f"step '{self.id}' ({self.config.function})"
        try:
            result = self.function(**kwargs)
        except StepFailed:
            raise
        except Exception as exc:  # the user's code: the case goes to a human with the reason
            raise StepFailed(f"{where} raised {type(exc).__name__}: {exc}") from None
        if not isinstance(result, Mapping):
            raise StepFailed(f"{where} returned {type(result).__name__}, not a dict of outputs")
        out = _json_safe(dict(result), where)
        confidence = out.get("confidence")
        if confidence is not None and (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not math.isfinite(confidence)
        ):
            raise StepFailed(f"{where} returned a confidence that is not a number")
        return kwargs, out
