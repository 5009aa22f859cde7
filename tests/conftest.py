"""Shared fixtures: small, learnable data sets written by the tests, and task files over them."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import yaml

INTENTS = {
    "refund": [
        "I want my money back for order {n}",
        "please refund the payment {n}",
        "refund request for invoice {n}",
        "can I get a refund on {n}",
        "give me my money back, order {n}",
        "charge {n} should be refunded",
    ],
    "shipping": [
        "where is my parcel {n}",
        "package {n} has not arrived yet",
        "tracking for shipment {n} shows nothing",
        "delivery {n} is late",
        "my order {n} is still in transit",
        "when will parcel {n} be delivered",
    ],
    "login": [
        "I cannot log in to account {n}",
        "password reset for user {n} fails",
        "account {n} is locked after login attempts",
        "two factor code for {n} never arrives",
        "sign in keeps failing for {n}",
        "locked out of my account {n}",
    ],
}


def make_rows(per_label: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for label, templates in INTENTS.items():
        for i in range(per_label):
            rows.append((templates[i % len(templates)].format(n=rng.randint(100, 999)), label))
    rng.shuffle(rows)
    return rows


def write_csv(
    path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("text", "label")
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_task(folder: Path, **overrides: object) -> Path:
    task: dict[str, object] = {
        "name": "tiny",
        "kind": "classify",
        "data": {"train": "data.csv", "text_column": "text", "label_column": "label"},
        "labels": {
            "refund": "wants money back",
            "shipping": "parcel delivery",
            "login": "cannot sign in",
        },
        "split": {"validation": 0.2, "test": 0.2},
        "train": {"epochs": 2, "batch_size": 8},
        "seed": 3,
    }
    for key, value in overrides.items():
        node = task
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[parts[-1]] = value  # type: ignore[index]
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory of a real tiny model, trained once for every test that only serves it.

    Tests that change a run must copy it first (shutil.copytree)."""
    from narrowtune import api
    from narrowtune.task import load_task

    folder = tmp_path_factory.mktemp("tiny-run")
    write_csv(folder / "data.csv", make_rows(20))
    return api.train(load_task(write_task(folder, **{"train.epochs": 1})), force=True)


@pytest.fixture
def tiny_task(tmp_path: Path) -> Path:
    """A 3-intent task with 20 examples per intent, ready to train in seconds."""
    write_csv(tmp_path / "data.csv", make_rows(20))
    return write_task(tmp_path)
