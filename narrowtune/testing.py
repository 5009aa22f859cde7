"""The check-suite every kind passes, shipped with the library (as scikit-learn ships
`check_estimator`): a kind written in another package runs the same checks as the built-ins.

    from narrowtune.testing import check_kind

    def test_my_kind(tmp_path):
        check_kind(MY_KIND, write_task, tmp_path)

`write_task(folder) -> Path` writes a tiny task of the kind (data + task.yaml) into `folder`.
`check_kind` trains on it, then checks, each with an assertion that says what is wrong:

- the kind is registered under its name, the task validates as that kind;
- the trained model satisfies the `Model` protocol and predicts one `Prediction` per text, with a
  confidence in [0, 1], JSON-safe, `[]` for no texts and a TypeError for a bare string;
- save -> load gives identical predictions, and the saved weights hold no pickle;
- `evaluate` returns a valid `Evaluation` (the fine-tuned system first, the primary metric
  measured, a JSON-safe `to_dict()` that `Evaluation.from_dict` reads back unchanged);
- bad input raises `NarrowtuneError`: a missing or empty data file, a folder holding no model,
  a backend the kind does not run on.

Each check is also a function of its own (`CHECKS`) on the `Trained` result of `train_tiny`, so
a test module can train once and report each check separately.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from narrowtune.data import Splits, load_splits
from narrowtune.errors import NarrowtuneError
from narrowtune.evaluate.evaluation import Evaluation
from narrowtune.kinds import Kind, Model, Prediction, get_kind
from narrowtune.task import Task, load_task

PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"}


@dataclass
class Trained:
    """A kind trained on its tiny task, with what the checks need."""

    kind: Kind
    task: Task
    splits: Splits
    model: Model
    folder: Path

    @property
    def test_texts(self) -> list[str]:
        return [ex.text for ex in self.splits.test]


def train_tiny(kind: Kind | str, write_task: Callable[[Path], Path], folder: Path) -> Trained:
    """Write the tiny task into `folder`, load it and train the kind on it."""
    kind = get_kind(kind) if isinstance(kind, str) else kind
    task = load_task(write_task(Path(folder)))
    assert task.kind == kind.name, f"the task written is kind {task.kind!r}, not {kind.name!r}"
    splits = load_splits(task)
    assert splits.train and splits.validation and splits.test, (
        f"the tiny task needs train, validation and test rows: {splits.sizes()}"
    )
    model = kind.train(task, splits.train, splits.validation)
    return Trained(kind, task, splits, model, Path(folder))


def check_registered(trained: Trained) -> None:
    kind = trained.kind
    assert get_kind(kind.name) is kind, f"get_kind({kind.name!r}) is not this Kind object"
    assert trained.task.metric in kind.metrics, (trained.task.metric, kind.metrics)


def check_model_protocol(trained: Trained) -> None:
    model = trained.model
    assert isinstance(model, Model), f"{type(model).__name__} lacks kind, predict or save"
    assert model.kind == trained.kind.name, f"model.kind is {model.kind!r}"


def _same(before: Sequence[Prediction], after: Sequence[Prediction]) -> None:
    assert [p.label for p in before] == [p.label for p in after], "labels differ after reload"
    assert [p.output for p in before] == [p.output for p in after], "outputs differ after reload"
    for a, b in zip(before, after, strict=True):
        assert math.isclose(a.confidence, b.confidence, abs_tol=1e-5), (a, b)
        assert a.abstain == b.abstain, (a, b)


def check_predictions(trained: Trained) -> list[Prediction]:
    predictions = trained.model.predict(trained.test_texts)
    assert len(predictions) == len(trained.test_texts), "one prediction per text"
    for p in predictions:
        assert isinstance(p, Prediction), type(p)
        assert 0.0 <= p.confidence <= 1.0, p.confidence
        json.dumps(p.to_dict())
    assert trained.model.predict([]) == [], "no texts: no predictions"
    try:
        trained.model.predict("a single string is a mistake")  # type: ignore[arg-type]
    except TypeError:
        pass
    else:
        raise AssertionError("predict(str) must raise TypeError, not predict per character")
    return predictions


def check_save_load(trained: Trained) -> None:
    saved = trained.folder / "saved-model"
    before = trained.model.predict(trained.test_texts)
    trained.model.save(saved)
    files = [p for p in saved.rglob("*") if p.is_file()]
    assert files, "save() wrote nothing"
    pickled = sorted(str(p.relative_to(saved)) for p in files if p.suffix in PICKLE_SUFFIXES)
    assert not pickled, f"weights must not be pickles: {pickled}"
    _same(before, trained.kind.load(saved).predict(trained.test_texts))


def check_evaluation(trained: Trained) -> Evaluation:
    evaluation = trained.kind.evaluate(
        trained.task, trained.model, trained.splits, baselines=False, latency=False
    )
    assert isinstance(evaluation, Evaluation), type(evaluation)
    assert evaluation.kind == trained.kind.name and evaluation.task == trained.task.name
    assert evaluation.systems and evaluation.systems[0].role == "fine-tuned"
    assert evaluation.primary_metric == trained.task.metric
    assert evaluation.margin.metric == trained.task.metric
    assert evaluation.systems[0].metrics.get(trained.task.metric) is not None, (
        f"the fine-tuned system has no {trained.task.metric!r}"
    )
    assert evaluation.split.test == len(trained.splits.test)
    stored = json.loads(json.dumps(evaluation.to_dict()))
    assert Evaluation.from_dict(stored).to_dict() == stored, "to_dict/from_dict do not round-trip"
    return evaluation


def _raises(what: str, call: Callable[[], object]) -> None:
    try:
        call()
    except NarrowtuneError:
        return
    except Exception as exc:
        raise AssertionError(f"{what}: raised {type(exc).__name__}, not NarrowtuneError") from exc
    raise AssertionError(f"{what}: no error")


def check_bad_input(trained: Trained) -> None:
    kind, task, folder = trained.kind, trained.task, trained.folder
    _raises("a missing data file", lambda: kind.read_examples(task, folder / "missing.csv"))
    empty = folder / "empty.jsonl"
    empty.write_text("")
    _raises("an empty data file", lambda: kind.read_examples(task, empty))
    nothing = folder / "no-model"
    nothing.mkdir(exist_ok=True)
    _raises("a folder holding no model", lambda: kind.load(nothing))
    _raises("an unknown backend", lambda: kind.load(nothing, backend="no-such-backend"))


CHECKS: tuple[Callable[[Trained], object], ...] = (
    check_registered,
    check_model_protocol,
    check_predictions,
    check_save_load,
    check_evaluation,
    check_bad_input,
)


def check_kind(kind: Kind | str, write_task: Callable[[Path], Path], folder: Path | str) -> Trained:
    """Train `kind` on the tiny task `write_task` writes into `folder` and run every check."""
    trained = train_tiny(kind, write_task, Path(folder))
    for check in CHECKS:
        check(trained)
    return trained
