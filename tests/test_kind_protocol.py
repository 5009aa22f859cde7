"""The shared check-suite every kind passes: train tiny -> save -> load -> same predictions.

Add a kind by adding a `KindCase` to KIND_CASES (how to write its tiny task, and how good its
predictions must be); the checks stay the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune.data import Example, load_splits
from narrowtune.kinds import Model, Prediction, get_kind
from narrowtune.task import Task, load_task


@dataclass(frozen=True)
class KindCase:
    write: Callable[[Path], Path]  # writes data + task.yaml into a folder, returns the task path
    # Checks the predictions on the test split in the kind's own terms.
    check: Callable[[Task, Any, list[Prediction], list[Example]], None]


def _write_classify(folder: Path) -> Path:
    write_csv(folder / "data.csv", make_rows(20))
    return write_task(folder, kind="classify", **{"train.epochs": 2, "train.batch_size": 8})


def _check_classify(task: Task, model: Any, preds: list[Prediction], test: list[Example]) -> None:
    for p in preds:
        assert p.label in (task.labels or {})
        assert p.abstain == (p.confidence < model.config.threshold)
    accuracy = np.mean([p.label == ex.label for p, ex in zip(preds, test)])
    assert accuracy >= 0.8  # three easily separable intents


KIND_CASES: dict[str, KindCase] = {
    "classify": KindCase(_write_classify, _check_classify),
}


@pytest.fixture(scope="module", params=sorted(KIND_CASES))
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(request.param)
    case = KIND_CASES[request.param]
    task = load_task(case.write(folder))
    assert task.kind == request.param
    splits = load_splits(task)
    kind = get_kind(task.kind)
    model = kind.train(task, splits.train, splits.validation)
    return task, splits, kind, model, folder, case


def test_model_satisfies_protocol(trained) -> None:
    model = trained[3]
    assert isinstance(model, Model)
    assert model.kind == trained[0].kind


def test_save_load_gives_identical_predictions(trained) -> None:
    _, splits, kind, model, folder, _ = trained
    texts = [ex.text for ex in splits.test]
    before = model.predict(texts)
    model.save(folder / "saved")
    weights = sorted(p.suffix for p in (folder / "saved").rglob("*") if p.is_file())
    assert ".safetensors" in weights
    assert not {".bin", ".pt", ".pkl", ".pickle"} & set(weights)
    after = kind.load(folder / "saved").predict(texts)
    assert [p.label for p in before] == [p.label for p in after]
    assert [p.output for p in before] == [p.output for p in after]
    np.testing.assert_allclose(
        [p.confidence for p in before], [p.confidence for p in after], atol=1e-5
    )


def test_predictions_have_confidence_and_meet_the_kind_bar(trained) -> None:
    task, splits, _, model, _, case = trained
    preds = model.predict([ex.text for ex in splits.test])
    assert len(preds) == len(splits.test)
    for p in preds:
        assert isinstance(p, Prediction)
        assert 0.0 <= p.confidence <= 1.0
        assert isinstance(p.to_dict(), dict)
    case.check(task, model, preds, splits.test)


def test_bad_predict_input(trained) -> None:
    model = trained[3]
    assert model.predict([]) == []
    with pytest.raises(TypeError):
        model.predict("a single string is a mistake")
