"""Every built-in kind passes the shared check-suite (`narrowtune.testing`): train tiny -> save ->
load -> same predictions, a valid evaluation, clear errors on bad input.

A built-in kind adds a `KindCase` to KIND_CASES (how to write its tiny task, and how good its
predictions must be in its own terms); the checks themselves ship with the library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune.data import Example
from narrowtune.kinds import BUILTIN, Prediction
from narrowtune.task import Task
from narrowtune.testing import CHECKS, Trained, train_tiny


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


_VENDORS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell"]
_EXTRACT_SCHEMA = {
    "type": "object",
    "required": ["vendor", "amount", "priority"],
    "properties": {
        "vendor": {"type": "string"},
        "amount": {"type": "number", "x-narrowtune-normalize": "amount"},
        "token": {"type": "string", "x-narrowtune-normalize": "token"},
        "priority": {"enum": ["low", "high"]},
    },
}


def _write_extract(folder: Path) -> Path:
    """Invoices: vendor/amount/token are spans (located in the text: no spans column), the
    priority an enum read from the wording; one row in five names no token."""
    import json
    import random

    rng = random.Random(0)
    rows = []
    for i in range(40):
        vendor, amount = _VENDORS[i % len(_VENDORS)], rng.randint(1, 90) * 100
        token = rng.choice(["USDC", "DAI", "ETH"]) if i % 5 else None
        urgent = i % 2 == 0
        text = f"Invoice from {vendor} for {amount:,}{' ' + token if token else ''}."
        text += " Please pay this urgently today." if urgent else " No rush on this one."
        output = {"vendor": vendor, "amount": float(amount), "token": token}
        rows.append({"text": text, "output": {**output, "priority": "high" if urgent else "low"}})
    with (folder / "data.jsonl").open("w") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    (folder / "schema.json").write_text(json.dumps(_EXTRACT_SCHEMA))
    return write_task(
        folder,
        kind="extract",
        labels=None,
        schema="schema.json",
        **{"data": {"train": "data.jsonl"}, "train.epochs": 4, "train.learning_rate": 2e-4},
    )


def _check_extract(task: Task, model: Any, preds: list[Prediction], test: list[Example]) -> None:
    from jsonschema import Draft202012Validator

    hits = total = 0
    for p, ex in zip(preds, test):
        # valid = the schema with exactly the fields listed in `missing` allowed to be null
        relaxed = {**_EXTRACT_SCHEMA, "properties": dict(_EXTRACT_SCHEMA["properties"])}
        for name in p.missing:
            relaxed["properties"][name] = {"anyOf": [relaxed["properties"][name], {"type": "null"}]}
        assert not list(Draft202012Validator(relaxed).iter_errors(p.output)), p.output
        assert p.valid
        assert set(p.scores) == set(_EXTRACT_SCHEMA["properties"])
        assert p.abstain == (bool(p.missing) or p.confidence < model.config.threshold)
        gold = ex.target["output"]
        for name in ("vendor", "amount", "priority"):
            total += 1
            hits += p.output.get(name) == gold[name]
    assert hits / total >= 0.8  # vendor, amount and priority right on four of five fields


def _write_generate(folder: Path) -> Path:
    """Prompt -> reply pairs in a fixed format, and a tiny Llama built from a config as base."""
    from test_generate import _task
    from test_generate_tiny import build_tiny_lm, reply_rows, write_jsonl

    rows = reply_rows(16)
    write_jsonl(folder / "pairs.jsonl", rows)
    build_tiny_lm(folder / "tiny-lm", [r["prompt"] + "\n" + r["completion"] for r in rows])
    # The tiny task of test_generate.py, with a sign-off and a forbidden word in its contract.
    return _task(
        folder,
        contract={
            "sections": [
                {"name": "greeting", "pattern": "^Hello"},
                {"name": "topic", "pattern": "^Topic: (refund|shipping|login)$"},
                {"name": "sign-off", "pattern": "^Regards"},
            ],
            "forbidden": ["password"],
            "retries": 1,
        },
    )


def _check_generate(task: Task, model: Any, preds: list[Prediction], test: list[Example]) -> None:
    for p in preds:
        assert isinstance(p.output, str)
        assert p.valid == (not p.problems) and p.abstain == (not p.valid)
        assert p.label == ""
        if p.valid:  # a valid output really meets the contract
            assert model.contract.check(p.output) == []
    # Training on the reply tokens lowered validation loss (a random tiny base starts near
    # ln(vocab) and its small logits stay flat, so the drop is real but not large).
    assert model.config.validation_loss_after < model.config.validation_loss_before - 0.5
    # The format is trivially learnable: most outputs meet the contract.
    assert np.mean([p.valid for p in preds]) >= 0.5


def _write_tool_call(folder: Path) -> Path:
    """Ops requests -> calls of three tools (one confirm-only), no-call requests and two-step
    trajectories, and a tiny Llama built from a config as base (tests/tool_call_tiny.py)."""
    from tool_call_tiny import write_tool_task

    return write_tool_task(folder)


def _check_tool_call(task: Task, model: Any, preds: list[Prediction], test: list[Example]) -> None:
    for p in preds:
        assert p.label == ("+".join(c["name"] for c in p.output["tool_calls"]) or "no_call")
        for call in p.output["tool_calls"]:  # decoded in the grammar: declared, valid
            assert model.toolset.call_problems(call["name"], call["arguments"]) == []
            assert call["status"] != "execute" or call["name"] not in model.toolset.confirm
            assert p.abstain or call["status"] == "execute"
    assert model.config.validation_loss_after < model.config.validation_loss_before


KIND_CASES: dict[str, KindCase] = {
    "classify": KindCase(_write_classify, _check_classify),
    "extract": KindCase(_write_extract, _check_extract),
    "generate": KindCase(_write_generate, _check_generate),
    "tool_call": KindCase(_write_tool_call, _check_tool_call),
}


def test_every_builtin_kind_has_a_case() -> None:
    assert set(KIND_CASES) == set(BUILTIN)


@pytest.fixture(scope="module", params=sorted(KIND_CASES))
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    case = KIND_CASES[request.param]
    return train_tiny(request.param, case.write, tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_kind_passes_the_shared_check(trained: Trained, check) -> None:
    check(trained)


def test_predictions_meet_the_kind_bar(trained: Trained) -> None:
    preds = trained.model.predict(trained.test_texts)
    KIND_CASES[trained.kind.name].check(trained.task, trained.model, preds, trained.splits.test)


STORED = Path(__file__).parent / "data" / "stored_metrics"
RUN_KEYS = {"run_id", "run_dir", "backend", "warnings"}


def test_the_evaluation_keeps_the_stored_shape(trained: Trained) -> None:
    """A fresh evaluation has the keys a metrics.json written before evaluations were typed
    has (tests/test_evaluation.py), at every level that users read."""
    import json

    typed = trained.kind.evaluate(trained.task, trained.model, trained.splits, latency=False)
    for system in typed.systems:  # the per-item scores recompute the metric exactly
        assert system.items is not None, system.name
        assert system.items.observed() == pytest.approx(system.metrics[typed.primary_metric])
    fresh = typed.to_dict()
    old = json.loads((STORED / f"metrics_{trained.kind.name}.json").read_text())
    assert set(fresh) == set(old) - RUN_KEYS
    assert set(fresh["split"]) == set(old["split"]) and set(fresh["margin"]) >= set(old["margin"])
    # Every built-in kind gives per-item scores: its margin comes with an interval.
    assert fresh["margin"]["interval_low"] <= fresh["margin"]["delta"]
    assert fresh["margin"]["delta"] <= fresh["margin"]["interval_high"]
    # The stored systems come first, in order; baselines added since (classify's TF-IDF +
    # logistic regression, generate's retrieval) follow them.
    names = [s["name"] for s in old["systems"]]
    assert [s["name"] for s in fresh["systems"]][: len(names)] == names
    assert set(fresh["systems"][0]) == set(old["systems"][0])
    assert set(fresh["systems"][0]["metrics"]) == set(old["systems"][0]["metrics"])
    assert fresh.get("columns") == old.get("columns")
    assert [s[:2] for s in fresh.get("sections", [])] == [s[:2] for s in old.get("sections", [])]
