"""Multi-label classification, mode selection, and multi-process training (gloo on CPU)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import INTENTS, make_rows, write_csv, write_task

from narrowtune.data import load_splits
from narrowtune.kinds import training
from narrowtune.kinds.classify import model as classify_model
from narrowtune.kinds.classify import train as classify
from narrowtune.task import load_task


def multi_label_rows(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    names = sorted(INTENTS)
    rows = []
    for i in range(n):
        chosen = sorted(rng.sample(names, 2 if i % 3 == 0 else 1))
        parts = [rng.choice(INTENTS[name]).format(n=rng.randint(100, 999)) for name in chosen]
        rows.append((" and also ".join(parts), "|".join(chosen)))
    return rows


def test_multi_label_predicts_label_sets(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", multi_label_rows(90))
    task = load_task(
        write_task(tmp_path, multi_label=True, metric="micro_f1", **{"train.epochs": 4})
    )
    splits = load_splits(task)
    model = classify.train(task, splits.train, splits.validation)
    preds = model.predict([ex.text for ex in splits.test])
    assert all(isinstance(p.label, list) for p in preds)
    exact = np.mean([set(p.label) == set(ex.labels) for p, ex in zip(preds, splits.test)])
    assert exact >= 0.7
    assert any(len(p.label) == 2 for p in preds)
    model.save(tmp_path / "m")
    again = classify_model.load(tmp_path / "m").predict([ex.text for ex in splits.test])
    assert [p.label for p in again] == [p.label for p in preds]


def test_mode_is_chosen_from_examples_per_label(tiny_task: Path) -> None:
    task = load_task(tiny_task)
    splits = load_splits(task)
    assert classify.resolve_mode(task.train, splits.train) == "fewshot"
    forced = load_task(tiny_task, ["train.mode=full"])
    assert classify.resolve_mode(forced.train, splits.train) == "full"
    low = load_task(tiny_task, ["train.fewshot_max_per_class=4"])
    assert classify.resolve_mode(low.train, splits.train) == "full"


def test_bucketed_batches_cover_every_example_once() -> None:
    lengths = [random.Random(i).randint(3, 60) for i in range(203)]
    batches = training.bucketed_batches(lengths, 16, random.Random(0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(203))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 20  # similar lengths share a batch: little padding


def test_layerwise_groups_decay_towards_the_embeddings(tiny_task: Path) -> None:
    from torch import nn

    from narrowtune.encoders import Encoder

    task = load_task(tiny_task, ["train.learning_rate=1e-4", "train.layer_decay=0.5"])
    encoder = Encoder.from_pretrained("all-MiniLM-L6-v2")
    groups = training.layerwise_groups(
        classify._Net(encoder, nn.Linear(encoder.dim, 3)), task.train
    )
    rates = sorted({g["lr"] for g in groups[:-1]})
    assert max(rates) == pytest.approx(1e-4)
    assert min(rates) == pytest.approx(1e-4 * 0.5**6)  # embeddings: 6 layers below the top
    assert groups[-1]["lr"] == task.train.head_learning_rate
    n_params = sum(len(g["params"]) for g in groups)
    assert n_params == len([p for p in encoder.parameters() if p.requires_grad]) + 2
    assert not encoder.transformer.pooler.dense.weight.requires_grad  # unused by mean pooling


@pytest.mark.slow
def test_two_gloo_processes_match_one(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", make_rows(24))
    results = {}
    for processes in (1, 2):
        task = load_task(write_task(tmp_path, **{"train.epochs": 3, "train.processes": processes}))
        splits = load_splits(task)
        seen: list[tuple[str, int, int]] = []
        model = classify.train(
            task, splits.train, splits.validation, progress=lambda *a, seen=seen: seen.append(a)
        )
        preds = model.predict([ex.text for ex in splits.test])
        results[processes] = np.mean([p.label == ex.label for p, ex in zip(preds, splits.test)])
        assert any(stage == "fine-tune" for stage, _, _ in seen)
    assert results[1] >= 0.85 and results[2] >= 0.85
    assert abs(results[1] - results[2]) <= 0.1
