"""Kind `extract` without training: reading data, normalisers, alignment, outputs, metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from narrowtune.data import DataError, load_splits
from narrowtune.errors import NarrowtuneError
from narrowtune.evaluate.extract_baselines import Gazetteer, UserRules, load_function
from narrowtune.kinds.extract.align import (
    allowed_transitions,
    entities,
    locate,
    tag_names,
    tags_from_spans,
    viterbi,
    word_offsets,
)
from narrowtune.kinds.extract.data import UnlocatedValues, read_examples
from narrowtune.kinds.extract.fields import relaxed_schema, schema_fields, validation_errors
from narrowtune.kinds.extract.metrics import field_table, span_scores
from narrowtune.kinds.extract.normalize import comparable, normalize
from narrowtune.kinds.extract.output import Finalizer, Guess
from narrowtune.kinds.extract.schema import SchemaProblem
from narrowtune.task import TaskError, load_task

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "amount", "category"],
    "properties": {
        "title": {"type": "string"},
        "amount": {"type": "number", "minimum": 0, "x-narrowtune-normalize": "amount"},
        "recipient": {
            "type": "string",
            "pattern": "^0x[0-9a-f]{40}$",
            "x-narrowtune-normalize": "address",
        },
        "milestones": {"type": "array", "items": {"type": "string"}},
        "category": {"enum": ["grants", "treasury"]},
        "urgent": {"type": ["boolean", "null"]},
    },
}
ADDRESS = "0x" + "ab" * 20


def write(folder: Path, rows: list[dict[str, Any]], *, schema: Any = SCHEMA) -> Path:
    with (folder / "data.jsonl").open("w") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    (folder / "schema.json").write_text(json.dumps(schema))
    task = {
        "name": "t",
        "kind": "extract",
        "data": {"train": "data.jsonl"},
        "schema": "schema.json",
        "split": {"validation": 0.2, "test": 0.2},
    }
    (folder / "task.yaml").write_text(yaml.safe_dump(task))
    return folder / "task.yaml"


def row(text: str = "Fund the docs: 5,000 USDC to " + ADDRESS, **output: Any) -> dict[str, Any]:
    base = {"title": "Fund the docs", "amount": 5000.0, "recipient": ADDRESS, "category": "grants"}
    return {"text": text, "output": {**base, **output}}


def read(task_path: Path) -> list:
    task = load_task(task_path)
    return read_examples(task, task.path(task.data.train))


# ----------------------------------------------------------------------------- bad input


def test_schema_that_is_not_json_schema_fails_at_task_load(tmp_path: Path) -> None:
    path = write(tmp_path, [row()], schema={"type": "object", "properties": {"a": {"type": 3}}})
    with pytest.raises(TaskError, match=r"task.yaml.*not valid JSON Schema at properties/a/type"):
        load_task(path)


def test_unsupported_field_type_is_named(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"who": {"type": "object"}}}
    with pytest.raises(SchemaProblem, match="field 'who': type 'object' is not supported"):
        read(write(tmp_path, [row()], schema=schema))


def test_output_that_breaks_the_schema_names_row_and_field(tmp_path: Path) -> None:
    rows = [row(), row(amount="lots")]
    with pytest.raises(DataError, match=r"data.jsonl:2: field 'amount' does not match"):
        read(write(tmp_path, rows))
    rows = [row(category="marketing")]
    with pytest.raises(DataError, match=r"data.jsonl:1: field 'category'"):
        read(write(tmp_path, rows))


def test_span_outside_the_text(tmp_path: Path) -> None:
    bad = {**row(), "spans": {"title": [[0, 500]]}}
    with pytest.raises(DataError, match=r"data.jsonl:1: span \[0, 500\] of field 'title' lies"):
        read(write(tmp_path, [bad]))


def test_overlapping_spans(tmp_path: Path) -> None:
    bad = {**row(), "spans": {"title": [[0, 13]], "amount": [[9, 20]]}}
    with pytest.raises(DataError, match=r"data.jsonl:1: spans overlap: 'title' \[0, 13\]"):
        read(write(tmp_path, [bad]))


def test_spans_on_an_enum_field_or_unknown_field(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="field 'category' is an enum"):
        read(write(tmp_path, [{**row(), "spans": {"category": [[0, 4]]}}]))
    with pytest.raises(DataError, match="names field 'nope'"):
        read(write(tmp_path, [{**row(), "spans": {"nope": [[0, 4]]}}]))


def test_empty_document(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data.jsonl:2: empty document"):
        read(write(tmp_path, [row(), {**row(), "text": "   "}]))


def test_bad_json_in_the_output_column(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text('text,output\nhello,"{""title"": ""x"", }"\n')
    task_path = write(tmp_path, [row()])
    task = load_task(task_path, ["data.train=data.csv"])
    with pytest.raises(DataError, match=r"data.csv:2: column 'output' is not valid JSON"):
        read_examples(task, task.path("data.csv"))
    (tmp_path / "data.jsonl").write_text(json.dumps({"text": "x", "output": [1]}) + "\n")
    with pytest.raises(DataError, match=r"data.jsonl:1: column 'output' must hold a JSON object"):
        read(task_path)


def test_bad_data_leaves_no_run_directory(tmp_path: Path) -> None:
    from narrowtune import api

    task_path = write(tmp_path, [row() for _ in range(5)] + [row(amount=-3.0)])
    task = load_task(task_path)
    with pytest.raises(DataError, match=r"data.jsonl:6: field 'amount'"):
        api.train(task, force=True)
    assert not task.runs_path.exists() or not any(task.runs_path.iterdir())


def test_values_are_located_and_the_unlocated_counted(tmp_path: Path) -> None:
    rows = [
        row(),
        row(text="FUND THE DOCS with 5,000 usdc", recipient=None),  # case-insensitive match
        row(title="Something never written", recipient=None),
    ]
    with pytest.warns(UnlocatedValues, match=r"1 of 7 values without spans could not be located"):
        examples = read(write(tmp_path, rows))
    assert examples[0].target["spans"]["title"] == [[0, 13]]
    assert examples[0].target["spans"]["amount"] == [[15, 20]]  # 5000.0 written as 5,000
    assert examples[0].target["spans"]["recipient"] == [[29, 71]]
    assert examples[1].target["spans"]["title"] == [[0, 13]]
    assert "title" not in examples[2].target["spans"]


def test_intent_column_is_required_when_the_task_has_intents(tmp_path: Path) -> None:
    task_path = write(tmp_path, [{**row(), "label": "fund"}, row()])
    task = load_task(task_path, ["extract.intent=true"])
    with pytest.raises(DataError, match=r"data.jsonl:2: no intent in column 'label'"):
        read_examples(task, task.path("data.jsonl"))


def test_load_splits_uses_the_reader(tmp_path: Path) -> None:
    rows = [row(text=f"Fund the docs: {i},000 USDC", amount=i * 1000.0) for i in range(1, 11)]
    task = load_task(
        write(tmp_path, [{**r, "output": {**r["output"], "recipient": None}} for r in rows])
    )
    splits = load_splits(task)
    assert sum(splits.sizes().values()) == 10
    assert all(ex.target["spans"]["amount"] for ex in splits.train)


# ----------------------------------------------------------------------------- normalisers


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("amount", "250,000 USDC", 250000.0),
        ("amount", "$1.5M", 1500000.0),
        ("amount", "12k", 12000.0),
        ("token", "250,000 usdc", "USDC"),
        ("token", "$", "USD"),
        ("token", "$ENS", "ENS"),
        (
            "address",
            "to 0xAbCdEf0123456789abcdef0123456789ABCDEF01.",
            "0xAbCdEf0123456789abcdef0123456789ABCDEF01",
        ),
        ("amount", "a total of 40 000 DAI", 40000.0),
        ("address", "Vitalik.eth", "vitalik.eth"),
        ("url", "Forum.Example.org/t/123.", "https://forum.example.org/t/123"),
        ("date", "March 3rd, 2024", "2024-03-03"),
        ("percentage", "12.5 %", 12.5),
        ("integer", "7", 7),
    ],
)
def test_normalisers(name: str, text: str, expected: Any) -> None:
    assert normalize(name, text) == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [("amount", "a lot"), ("address", "0x123"), ("url", "not a url"), ("date", "whenever")],
)
def test_normalisers_refuse_what_they_cannot_read(name: str, text: str) -> None:
    with pytest.raises(ValueError):
        normalize(name, text)


def test_comparable_folds_case_and_format() -> None:
    assert comparable("text", "  The  Title. ") == comparable("text", "the title")
    assert comparable("amount", "250k") == comparable("amount", 250000)


# ----------------------------------------------------------------------------- alignment


def test_entities_follow_conlleval_conventions() -> None:
    tags = ["B-a", "I-a", "O", "I-b", "I-b", "B-a", "I-b"]
    assert entities(tags) == [("a", 0, 2), ("b", 3, 5), ("a", 5, 6), ("b", 6, 7)]


def test_viterbi_never_continues_a_field_it_did_not_begin() -> None:
    tags = tag_names(["a", "b"])  # O B-a I-a B-b I-b
    # word 1 alone would pick I-b after B-a: not allowed, so the best legal path is taken
    probs = np.array([[0.1, 0.8, 0.05, 0.03, 0.02], [0.2, 0.05, 0.3, 0.05, 0.4]])
    path = viterbi(np.log(probs), allowed_transitions(tags), tags)
    assert [tags[i] for i in path] == ["B-a", "I-a"]
    assert [tags[i] for i in viterbi(np.log(probs[1:]), allowed_transitions(tags), tags)] in (
        ["O"],
        ["B-a"],
        ["B-b"],
    )


def test_tags_from_spans_widens_spans_cut_inside_a_word() -> None:
    text = "pay 250k USDC now"
    words = word_offsets(text)
    index = {t: i for i, t in enumerate(tag_names(["amount"]))}
    tags, ragged = tags_from_spans(words, {"amount": [[5, 13]]}, index)
    assert tags == [0, 1, 2, 0] and ragged == 1


def test_locate_does_not_match_inside_a_word() -> None:
    assert locate("in 2012 we paid 12 DAI", 12, []) == (16, 18)
    assert locate("in 2012 we paid 12 DAI", 12, [(16, 18)]) is None


# ----------------------------------------------------------------------------- outputs


def test_finalize_validity_missing_and_problems() -> None:
    finalizer = Finalizer(SCHEMA, schema_fields(SCHEMA))
    pred = finalizer.finalize(
        {
            "title": Guess(None, 0.9),
            "amount": Guess("-5 DAI", 0.8),  # fails minimum: 0 after normalisation
            "recipient": Guess("0x12", 0.7),  # not an address at all
            "milestones": Guess(["design", "launch"], 0.6),
            "category": Guess("grants", 0.95),
        }
    )
    assert pred.output == {
        "title": None,
        "amount": None,
        "milestones": ["design", "launch"],
        "category": "grants",
        "urgent": None,  # optional and nullable in the schema: null rather than absent
    }
    assert pred.missing == ["title", "amount"]
    assert any(p.startswith("amount: -5.0 fails the schema") for p in pred.problems)
    assert any(p.startswith("recipient: '0x12' is not a 0x") for p in pred.problems)
    assert pred.valid and pred.abstain and pred.confidence == 0.6
    # valid means: valid against the schema with exactly the missing fields made nullable
    assert validation_errors(SCHEMA, pred.output, pred.missing) == []
    assert validation_errors(SCHEMA, pred.output, []) != []  # not strictly valid
    assert validation_errors(SCHEMA, pred.output, ["title"]) != []  # amount null, not missing
    assert relaxed_schema(SCHEMA, []) is SCHEMA


def test_finalize_complete_output_is_strictly_valid() -> None:
    finalizer = Finalizer(SCHEMA, schema_fields(SCHEMA))
    pred = finalizer.finalize(
        {
            "title": Guess("Fund the docs", 0.9),
            "amount": Guess("5k", 0.9),
            "recipient": Guess(f"to {ADDRESS}.", 0.9),
            "category": Guess("treasury", 0.9),
        },
        threshold=0.5,
    )
    assert pred.output["amount"] == 5000.0 and pred.output["recipient"] == ADDRESS
    assert not pred.missing and not pred.problems and not pred.abstain
    assert validation_errors(SCHEMA, pred.output, []) == []


# ----------------------------------------------------------------------------- metrics


def test_field_table_counts() -> None:
    fields = schema_fields(SCHEMA)
    gold = [{"title": "A", "amount": 5.0, "milestones": ["x", "y"], "category": "grants"}]
    pred = [{"title": "a.", "amount": 6.0, "milestones": ["y"], "category": "grants"}]
    table = field_table(fields, gold, pred)
    assert table["title"]["f1"] == 1.0 and table["title"]["f1_exact"] == 0.0
    assert table["amount"]["precision"] == 0.0 and table["amount"]["recall"] == 0.0
    assert table["milestones"]["precision"] == 1.0 and table["milestones"]["recall"] == 0.5
    # all: tp = title, milestone y, category = 3; fp = amount = 1; fn = amount, milestone x = 2
    assert table["all"]["precision"] == pytest.approx(3 / 4)
    assert table["all"]["recall"] == pytest.approx(3 / 5)


def test_span_scores() -> None:
    gold = [{("a", 0, 3), ("b", 5, 9)}]
    pred = [{("a", 0, 3), ("b", 5, 8)}]
    assert span_scores(gold, pred) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}


# ----------------------------------------------------------------------------- baselines


def test_gazetteer_matches_training_values(tmp_path: Path) -> None:
    rows = [row(), row(text="Fund the docs: 7 DAI", amount=7.0, recipient=None)]
    examples = read(write(tmp_path, rows))
    fields = schema_fields(SCHEMA)
    gazetteer = Gazetteer(fields, Finalizer(SCHEMA, fields), examples)
    (pred,), (spans,) = gazetteer.predict(["Please fund the docs now"])
    assert pred.output["title"] == "fund the docs"  # as written in the new text
    assert pred.output["category"] == "grants"
    assert ("title", 7, 20) in spans
    assert pred.missing == ["amount"] and pred.valid


def test_user_rules_baseline(tmp_path: Path) -> None:
    (tmp_path / "rules.py").write_text(
        "import re\n"
        "def extract(text):\n"
        "    m = re.search(r'([\\d,]+) USDC', text)\n"
        "    return {'amount': m.group(1) if m else None, 'category': 'grants', 'x': 1}\n"
    )
    fields = schema_fields(SCHEMA)
    rules = UserRules(load_function(tmp_path, "rules.py:extract"), Finalizer(SCHEMA, fields), "r")
    (pred,), spans = rules.predict(["Pay 5,000 USDC"])
    assert pred.output["amount"] == 5000.0 and spans is None
    assert "fields not in the schema ignored: x" in pred.problems
    with pytest.raises(NarrowtuneError, match="has no function 'nope'"):
        load_function(tmp_path, "rules.py:nope")
    with pytest.raises(NarrowtuneError, match=r"must look like 'rules\.py:extract'"):
        load_function(tmp_path, "rules")


# ----------------------------------------------------------------------------- long texts


def test_sliding_windows_cover_every_word_of_a_long_text() -> None:
    from transformers import AutoTokenizer

    from narrowtune.encoders import resolve_base
    from narrowtune.kinds.extract.model import ExtractConfig, make_windows

    tokenizer = AutoTokenizer.from_pretrained(resolve_base("all-MiniLM-L6-v2"))
    config = ExtractConfig(output_schema=SCHEMA, tags=["O"], heads={}, max_length=32, stride=8)
    text = " ".join(f"word{i} costs {i},000 USDC." for i in range(60))
    words = word_offsets(text)
    windows = make_windows(tokenizer, [text, "short"], [words, word_offsets("short")], config)
    long_windows = [w for w in windows if w.doc == 0]
    assert len(long_windows) > 10 and all(len(w.ids) <= 32 for w in windows)
    seen = sorted({i for w in long_windows for i in w.word_at if i >= 0})
    assert seen == list(range(len(words)))  # every word's first sub-token lands in a window
    # consecutive windows share `stride` tokens
    assert long_windows[0].ids[-1 - 8 : -1] == long_windows[1].ids[1 : 1 + 8]
    assert [w.doc for w in windows][-1] == 1


def test_fields_of_a_pydantic_schema() -> None:
    from enum import StrEnum

    from pydantic import BaseModel

    class Kind(StrEnum):
        grant = "grant"
        swap = "swap"

    class Proposal(BaseModel):
        title: str
        note: str | None = None
        kind: Kind
        urgent: bool = False
        links: list[str] = []

    fields = {f.name: f for f in schema_fields(Proposal.model_json_schema())}
    assert (fields["title"].role, fields["title"].required) == ("span", True)
    assert (fields["note"].role, fields["note"].nullable) == ("span", True)
    assert (fields["kind"].role, fields["kind"].choices) == ("class", ("grant", "swap"))
    assert (fields["urgent"].role, fields["urgent"].choices) == ("class", (True, False))
    assert fields["links"].role == "list"


def test_small_data_gets_small_batches_and_enough_updates(tmp_path: Path) -> None:
    from narrowtune.kinds.extract.train import resolve_batch_size, resolve_epochs

    task = load_task(write(tmp_path, [row()]))
    assert resolve_batch_size(task, 300) == 8 and resolve_batch_size(task, 5_000) == 32
    assert resolve_epochs(task, 300, 8) == 10  # 3,000 windows' worth, 380 updates
    assert resolve_epochs(task, 30, 8) == 40  # 200 updates would need 50 epochs: capped
    assert resolve_epochs(task, 13_000, 32) == 3
    explicit = load_task(write(tmp_path, [row()]).parent, ["train.batch_size=16", "train.epochs=2"])
    assert resolve_batch_size(explicit, 300) == 16 and resolve_epochs(explicit, 300, 16) == 2
