"""The shared check-suite every kind passes: train tiny -> save -> load -> same predictions.

Add a kind by adding a case to KIND_CASES; the checks stay the same.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune.data import load_splits
from narrowtune.kinds import Model, Prediction, get_kind
from narrowtune.task import load_task

KIND_CASES = {
    "classify": {"train.epochs": 2, "train.batch_size": 8},
}


@pytest.fixture(scope="module", params=sorted(KIND_CASES))
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(request.param)
    write_csv(folder / "data.csv", make_rows(20))
    task = load_task(write_task(folder, kind=request.param, **KIND_CASES[request.param]))
    splits = load_splits(task)
    kind = get_kind(task.kind)
    model = kind.train(task, splits.train, splits.validation)
    return task, splits, kind, model, folder


def test_model_satisfies_protocol(trained) -> None:
    _, _, _, model, _ = trained
    assert isinstance(model, Model)


def test_save_load_gives_identical_predictions(trained) -> None:
    _, splits, kind, model, folder = trained
    texts = [ex.text for ex in splits.test]
    before = model.predict(texts)
    model.save(folder / "saved")
    weights = sorted(p.suffix for p in (folder / "saved").rglob("*") if p.is_file())
    assert ".safetensors" in weights
    assert not {".bin", ".pt", ".pkl", ".pickle"} & set(weights)
    after = kind.load(folder / "saved").predict(texts)
    assert [p.label for p in before] == [p.label for p in after]
    np.testing.assert_allclose(
        [p.confidence for p in before], [p.confidence for p in after], atol=1e-5
    )


def test_predictions_are_label_names_with_confidence(trained) -> None:
    task, splits, _, model, _ = trained
    preds = model.predict([ex.text for ex in splits.test])
    assert len(preds) == len(splits.test)
    for p in preds:
        assert isinstance(p, Prediction)
        assert p.label in task.labels
        assert 0.0 <= p.confidence <= 1.0
        assert p.abstain == (p.confidence < model.config.threshold)
    accuracy = np.mean([p.label == ex.label for p, ex in zip(preds, splits.test)])
    assert accuracy >= 0.8  # three easily separable intents


def test_bad_predict_input(trained) -> None:
    _, _, _, model, _ = trained
    assert model.predict([]) == []
    with pytest.raises(TypeError):
        model.predict("a single string is a mistake")
