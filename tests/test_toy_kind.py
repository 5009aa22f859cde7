"""A kind defined right here, registered at run time, passes the shared check-suite and runs
through `train`, `eval`, `predict` and `serve`: no other file knows about it.

The toy kind counts words per label (multinomial naive Bayes) and has a task section of its
own (`keywords: {smoothing: ...}`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
import pytest
import yaml
from conftest import make_rows, write_csv
from live_server import live_server
from pydantic import BaseModel, ConfigDict, Field
from safetensors.numpy import load_file, save_file
from typer.testing import CliRunner

from narrowtune.errors import NarrowtuneError
from narrowtune.evaluate import Column, SystemResult, build_evaluation
from narrowtune.kinds import Kind, Prediction, registered
from narrowtune.store import SCOPES

# ---------------------------------------------------------------- the toy kind (~50 lines)


class KeywordSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    smoothing: float = Field(default=1.0, gt=0)


class KeywordModel:
    kind: ClassVar[str] = "keywords"

    def __init__(self, labels: list[str], vocab: list[str], counts: np.ndarray) -> None:
        self.labels, self.vocab, self.counts = labels, {w: i for i, w in enumerate(vocab)}, counts

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string")
        logp = np.log(self.counts / self.counts.sum(axis=1, keepdims=True))
        out = []
        for text in texts:
            scores = logp[:, [self.vocab[w] for w in text.lower().split() if w in self.vocab]]
            z = np.exp(scores.sum(axis=1) - scores.sum(axis=1).max())
            p = z / z.sum()
            best = int(p.argmax())
            out.append(Prediction(self.labels[best], float(p[best]), bool(p[best] < 0.5)))
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        save_file({"counts": self.counts}, str(directory / "counts.safetensors"))
        meta = {"labels": self.labels, "vocab": list(self.vocab)}
        (directory / "keywords.json").write_text(json.dumps(meta))


def load(directory: Path, *, backend: str = "torch") -> KeywordModel:
    if not (directory / "keywords.json").is_file():
        raise NarrowtuneError(f"{directory} holds no keywords model")
    meta = json.loads((directory / "keywords.json").read_text())
    counts = load_file(str(directory / "counts.safetensors"))["counts"]
    return KeywordModel(meta["labels"], meta["vocab"], counts)


def train(task: Any, train: list, validation: list, *, progress: Any = None) -> KeywordModel:
    labels = sorted({ex.label for ex in train})
    vocab = sorted({w for ex in train for w in ex.text.lower().split()})
    counts = np.full((len(labels), len(vocab)), task.keywords.smoothing)
    for ex in train:
        for w in ex.text.lower().split():
            counts[labels.index(ex.label), vocab.index(w)] += 1
    return KeywordModel(labels, vocab, counts)


def evaluate(task: Any, model: KeywordModel, splits: Any, **options: Any) -> Any:
    predicted = [p.label for p in model.predict([ex.text for ex in splits.test])]
    gold = [ex.label for ex in splits.test]
    accuracy = float(np.mean([p == g for p, g in zip(predicted, gold)]))
    systems = [SystemResult("fine-tuned (word counts)", "fine-tuned", "", {"accuracy": accuracy})]
    if options.get("baselines", True):
        majority = max(set(gold), key=gold.count)
        share = gold.count(majority) / len(gold)
        systems.append(SystemResult("majority label", "baseline", "", {"accuracy": share}))
    columns = [Column("accuracy", "acc %", "pct")]
    return build_evaluation(
        task.name, task.kind, splits, systems, primary_metric=task.metric, columns=columns
    )


KEYWORDS = Kind(
    name="keywords",
    summary="label texts by the words each label uses (a test kind)",
    metrics=("accuracy",),
    trainer=train,
    loader=load,
    evaluator=evaluate,
    section="keywords",
    spec=KeywordSpec,
)

# ---------------------------------------------------------------- the tests


def write_task(folder: Path) -> Path:
    write_csv(folder / "data.csv", make_rows(20))
    task = {
        "name": "toy",
        "kind": "keywords",
        "data": {"train": "data.csv"},
        "keywords": {"smoothing": 0.5},
        "split": {"validation": 0.2, "test": 0.2},
    }
    (folder / "task.yaml").write_text(yaml.safe_dump(task))
    return folder / "task.yaml"


@pytest.fixture
def toy() -> Iterator[Kind]:
    with registered(KEYWORDS) as kind:
        yield kind


def test_the_toy_kind_passes_the_check_suite(toy: Kind, tmp_path: Path) -> None:
    from narrowtune.testing import check_kind

    trained = check_kind(toy, write_task, tmp_path)
    assert trained.task.keywords.smoothing == 0.5  # its section, validated by its own model
    accuracy = np.mean([p.label == ex.label for p, ex in zip(
        trained.model.predict(trained.test_texts), trained.splits.test
    )])  # fmt: skip
    assert accuracy >= 0.8


def test_its_section_is_checked_and_it_leaves_no_trace(toy: Kind, tmp_path: Path) -> None:
    from narrowtune.task import TaskError, load_task

    task = write_task(tmp_path)
    with pytest.raises(TaskError, match=r"keywords\.smoothing"):
        load_task(task, ["keywords.smoothing=-1"])
    with pytest.raises(TaskError, match=r"unknown key 'keywords\.smoothin' — did you mean"):
        load_task(task, ["keywords.smoothin=1"])
    with registered(KEYWORDS.__class__(**{**vars(KEYWORDS), "name": "keywords2"})):
        pass
    from narrowtune.kinds import kind_names

    assert "keywords2" not in kind_names()


def test_the_toy_kind_goes_through_train_eval_predict_and_serve(toy: Kind, tmp_path: Path) -> None:
    from narrowtune.cli import app
    from narrowtune.serve import create_app
    from narrowtune.store import Store

    runner = CliRunner()
    task = write_task(tmp_path)
    trained = runner.invoke(app, ["train", str(task)])
    assert trained.exit_code == 0, trained.output
    (run_dir,) = [p for p in (tmp_path / "runs" / "toy").iterdir() if not p.name.startswith(".")]
    assert json.loads((run_dir / "run.json").read_text())["kind"] == "keywords"

    evaluated = runner.invoke(app, ["eval", str(task)])
    assert evaluated.exit_code == 0, evaluated.output
    assert "majority label" in evaluated.output and (run_dir / "report.html").is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["kind"] == "keywords" and metrics["margin"]["best_baseline"] == "majority label"

    write_csv(tmp_path / "in.csv", [("where is my parcel 123",), ("refund order 55",)], ("text",))
    out = tmp_path / "out.jsonl"
    predicted = runner.invoke(app, ["predict", str(task), str(tmp_path / "in.csv"), "-o", str(out)])
    assert predicted.exit_code == 0, predicted.output
    labels = [json.loads(line)["label"] for line in out.read_text().splitlines()]
    assert labels == ["shipping", "refund"]

    store = Store(str(tmp_path / "serve.db"))
    key = store.create_key("tester", scopes=SCOPES)
    with live_server(create_app(task, store=store)) as url:
        answer = httpx.post(
            f"{url}/v1/predict",
            json={"texts": ["my parcel has not arrived"]},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "keywords" and body["predictions"][0]["label"] == "shipping"
    store.close()
