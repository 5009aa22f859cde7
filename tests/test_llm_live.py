"""The prompted-LLM baselines against a live OpenAI-compatible server: narrowtune's own, serving
a real (tiny, random) generative model. The answers are mostly nonsense; what is tested is that
every test example makes a real call, nonsense is scored as wrong (never guessed) and reported
with its reason, and outputs stay valid."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import live_server
from test_serve_chat import TinyChatModel

from narrowtune import api
from narrowtune.evaluate.extract_baselines import LLMExtractor
from narrowtune.kinds.extract.fields import schema_fields
from narrowtune.kinds.extract.output import Finalizer
from narrowtune.serve import create_app
from narrowtune.store import Store
from narrowtune.task import load_task


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Store]]:
    """The server, with two real tiny models: "chat" (no response_format support) and
    "drafter", a generate-kind model on a tiny random Llama, which honours response_format."""
    from test_generate_grammar import _model
    from test_generate_tiny import build_tiny_lm, reply_rows

    rows = reply_rows(8)
    folder = tmp_path_factory.mktemp("drafter") / "tiny-lm"
    build_tiny_lm(folder, [r["prompt"] + "\n" + r["completion"] for r in rows], seed=5)
    models = {"chat": TinyChatModel(default_tokens=4), "drafter": _model(folder, {})}
    with Store(tmp_path_factory.mktemp("db") / "llm.db") as store:
        key = store.create_key("llm-baseline")
        app = create_app(store=store, models=models)
        with live_server(app) as url:
            yield f"{url}/v1", key, store


@pytest.fixture
def llm_env(endpoint: tuple[str, str, Store], monkeypatch: pytest.MonkeyPatch) -> Store:
    url, key, store = endpoint
    monkeypatch.setenv("NARROWTUNE_LLM_BASE_URL", url)
    monkeypatch.setenv("NARROWTUNE_LLM_API_KEY", key)
    return store


def test_classify_eval_scores_the_prompted_llm(
    tiny_run: Path, llm_env: Store, tmp_path: Path
) -> None:
    folder = tiny_run.parent.parent.parent  # the task folder: data.csv, runs/tiny/<run>
    run = tmp_path / "runs" / "tiny" / tiny_run.name  # eval writes into the run: use a copy
    shutil.copytree(tiny_run, run)
    shutil.copy(folder / "data.csv", tmp_path / "data.csv")
    task = load_task(run / "task.yaml")
    task.base_dir = str(tmp_path)
    before = len(llm_env.predictions())
    evaluation = api.evaluate(task, run=str(run))[0].to_dict()
    llm = next(s for s in evaluation["systems"] if s["name"] == "prompted LLM (chat)")
    n = evaluation["split"]["test"]
    assert llm["metrics"]["n"] == n and 0.0 <= llm["metrics"]["accuracy"] <= 1.0
    assert llm["metrics"]["ece"] is None  # no calibrated confidence claimed
    assert len(llm_env.predictions()) - before == n  # one real completion per test example
    # No note about the LLM (a failed call would leave one); the tiny task's small-split notes
    # are expected.
    small = ("only ", "safe defaults ")
    assert all(note.startswith(small) for note in evaluation["notes"]), evaluation["notes"]


def _extractor() -> tuple[LLMExtractor, dict]:
    from narrowtune.evaluate.llm import Endpoint

    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number"}, "token": {"enum": ["ETH", "USDC"]}},
        "required": ["amount"],
    }
    finalizer = Finalizer(schema, schema_fields(schema))
    extractor = LLMExtractor(
        Endpoint.from_env(), schema, finalizer, instructions="payments", examples=[]
    )
    return extractor, schema


def test_extract_llm_baseline_gets_schema_json_from_narrowtune_serve(
    llm_env: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """narrowtune serve honours the baseline's response_format: even a random model answers
    with JSON inside the answer schema, so every answer is scored, none dropped as unusable."""
    import jsonschema

    monkeypatch.setenv("NARROWTUNE_LLM_MODEL", "drafter")
    extractor, schema = _extractor()
    before = len(llm_env.predictions())
    preds, _ = extractor.predict(["pay 20 USDC to bob", "send 3 ETH"])
    assert len(llm_env.predictions()) - before == 2
    for pred in preds:
        assert not any("not a JSON object" in p for p in pred.problems), pred.problems
        jsonschema.validate(pred.output, {**schema, "required": []})


def test_extract_llm_baseline_stops_where_the_server_cannot_constrain(llm_env: Store) -> None:
    """A model that cannot honour response_format is refused by the server, by name; the
    baseline stops with that reason rather than scoring replies it could not constrain."""
    from narrowtune.evaluate.llm import LLMError

    extractor, _ = _extractor()  # the first listed model: "chat"
    with pytest.raises(LLMError, match="does not support response_format"):
        extractor.predict(["pay 20 USDC to bob"])


def test_generate_eval_asks_the_llm_judge_once_per_prompt_and_reports_unusable_votes(
    llm_env: Store, tmp_path: Path
) -> None:
    """The prompted-LLM baseline and the pairwise judge call the endpoint for every test prompt;
    a tiny random model never answers A, B or TIE, so no win rate is claimed and the note says
    how many were unusable."""
    from test_generate import _task
    from test_generate_tiny import build_tiny_lm, reply_rows, write_jsonl

    from narrowtune.data import load_splits
    from narrowtune.evaluate.generate import evaluate
    from narrowtune.kinds.generate.train import train

    folder = tmp_path
    rows = reply_rows(12)
    write_jsonl(folder / "pairs.jsonl", rows)
    build_tiny_lm(folder / "tiny-lm", [r["prompt"] + "\n" + r["completion"] for r in rows])
    task = load_task(_task(folder, epochs=2, few_shot=1))
    splits = load_splits(task)
    model = train(task, splits.train, splits.validation)
    before = len(llm_env.predictions())
    evaluation = evaluate(task, model, splits, latency=False).to_dict()
    n = len(splits.test)
    # One real call per test prompt for the prompted-LLM baseline, one for the judge.
    assert len(llm_env.predictions()) - before == 2 * n
    llm = next(s for s in evaluation["systems"] if s["name"] == "prompted LLM (chat)")
    assert llm["metrics"]["n"] == n and 0.0 <= llm["metrics"]["contract_rate"] <= 1.0
    assert "via http" in llm["description"]
    assert "judge_win_rate" not in evaluation["systems"][0]["metrics"]
    assert f"{n} of {n} answers named none of A, B or TIE" in " ".join(evaluation["notes"])


def test_judge_answers_are_read_strictly() -> None:
    from narrowtune.evaluate.generate import JUDGE_ANSWER

    votes = {
        t: (m.group(1) if (m := JUDGE_ANSWER.match(t)) else None)
        for t in ["A", "B.", "**A**", "Reply B", "TIE", '"B"', "a parcel", "About", "Both", "tie"]
    }
    assert votes == {
        "A": "A",
        "B.": "B",
        "**A**": "A",
        "Reply B": "B",
        "TIE": "TIE",
        '"B"': "B",
        "a parcel": None,
        "About": None,
        "Both": None,
        "tie": None,
    }


def test_advise_probes_the_prompted_llm_and_measures_its_format(
    llm_env: Store, tmp_path: Path
) -> None:
    """With an endpoint, advise asks the LLM about a sample of validation rows: one real call
    each, the answers that are not exactly a label name counted, its latency measured."""
    from conftest import make_rows, write_csv, write_task

    from narrowtune.advise import advise

    write_csv(tmp_path / "data.csv", make_rows(20))
    task = load_task(write_task(tmp_path))
    before = len(llm_env.predictions())
    advice = advise(task)
    probe = advice.signals["llm_probe"]
    assert probe["model"] == "chat" and probe["sample"] == advice.signals["validation"] == 12
    assert len(llm_env.predictions()) - before == 12
    assert 0.0 <= probe["accuracy"] <= 1.0 and 0.0 <= probe["format_failures"] <= 1.0
    assert advice.options["prompt"]["latency_ms"] == probe["p50_ms"] > 0
    unstable = next(c for c in advice.criteria if c.name == "prompting unstable")
    assert unstable.met is (probe["format_failures"] >= 0.1)
    assert "of 12 answers from chat" in unstable.evidence
