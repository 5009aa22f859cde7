"""`narrowtune audit`, model parts: label errors, outliers and --impact with the real MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_audit import rows

from narrowtune.data.audit import audit, measure_impact, write_fixed
from narrowtune.task import task_from_mapping

FLIPS = 6


@pytest.fixture(scope="module")
def cache() -> dict[str, np.ndarray]:
    """Embeddings shared by the tests of this module (the encoder is real, not mocked)."""
    return {}


def _noisy_task(folder: Path) -> tuple[object, set[str]]:
    """120 rows of 3 intents, FLIPS labels moved to another intent (seeded)."""
    data = rows(40, seed=2)
    rng = np.random.default_rng(7)
    flipped = rng.choice(len(data), size=FLIPS, replace=False)
    names = sorted({label for _, label in data})
    records = []
    for i, (text, label) in enumerate(data):
        if i in flipped:
            label = [n for n in names if n != label][int(rng.integers(2))]
        records.append(json.dumps({"text": text, "label": label}))
    path = folder / "train.jsonl"
    path.write_text("\n".join(records) + "\n")
    test = [json.dumps({"text": t, "label": lab}) for t, lab in rows(8, seed=11)]
    (folder / "test.jsonl").write_text("\n".join(test) + "\n")
    task = task_from_mapping(
        {
            "name": "noisy",
            "data": {"train": "train.jsonl", "test": "test.jsonl"},
            "split": {"validation": 0.0},
            "seed": 3,
        },
        base_dir=folder,
    )
    return task, {f"{path}:{i + 1}" for i in flipped}


def test_planted_label_flips_are_found_ranked_with_suggestions(
    tmp_path: Path, cache: dict[str, np.ndarray]
) -> None:
    task, flipped = _noisy_task(tmp_path)
    report = audit(task, checks=["label_issues"], embedding_cache=cache)
    (finding,) = report.by_check("label_issues")
    issues = finding.evidence["issues"]
    found = {i["row"] for i in issues}
    assert len(found & flipped) >= FLIPS - 1  # recall
    assert len(found - flipped) <= 3  # precision
    top = issues[0]
    assert top["row"] in flipped and top["suggested"] != top["given"]
    assert [i["given_probability"] for i in issues] == sorted(
        i["given_probability"] for i in issues
    )


def test_full_audit_fix_and_impact(tmp_path: Path, cache: dict[str, np.ndarray]) -> None:
    task, flipped = _noisy_task(tmp_path)
    report = audit(task, embedding_cache=cache)
    assert not report.blocking()
    json.dumps(report.to_dict())  # JSON-safe, model findings included
    assert set(report.stats["seconds_per_step"]) >= {"encode", "label_issues", "outliers"}
    counts = write_fixed(task, report, tmp_path / "out" / "fixed.jsonl")
    review = [json.loads(x) for x in (tmp_path / "out" / "fixed.review.jsonl").open()]
    assert counts["set_aside_for_review"] == len(review)
    assert len({r["row"] for r in review if r["reason"] == "label_issue"} & flipped) >= FLIPS - 1
    impact = measure_impact(task, report, seed=3, embedding_cache=cache)
    assert impact["clean_train_rows"] < impact["raw_train_rows"] == 120
    assert 0.0 <= impact["raw_accuracy"] <= 1.0 and 0.0 <= impact["clean_accuracy"] <= 1.0
    assert impact["clean_accuracy"] >= impact["raw_accuracy"] - 0.05
