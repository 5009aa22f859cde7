"""The kind protocol: what every kind (classify, extract, generate, tool_call) implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from narrowtune.data import Example
    from narrowtune.task import Task

# (stage, done, total): kinds report progress through this; faces decide how to draw it.
ProgressFn = Callable[[str, int, int], None]


@dataclass
class Prediction:
    """One output: label name(s), a calibrated confidence, and whether a human should decide."""

    label: str | list[str]
    confidence: float
    abstain: bool
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Model(Protocol):
    """A trained model of some kind."""

    kind: str

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]: ...

    def save(self, directory: Path) -> None: ...


class Kind(Protocol):
    """A kind module: `train`, `load` and the Model it returns."""

    def train(
        self,
        task: Task,
        train: list[Example],
        validation: list[Example],
        *,
        progress: ProgressFn | None = None,
    ) -> Model: ...

    def load(self, directory: Path, *, backend: str = "torch") -> Model: ...
