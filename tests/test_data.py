"""Loading CSV/JSONL/Parquet, splitting, fingerprints, and bad data named by file and row."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune.data import DataError, fingerprint, load_examples, load_splits, make_splits
from narrowtune.task import load_task


def test_csv_jsonl_parquet_give_the_same_examples(tmp_path: Path) -> None:
    rows = make_rows(4)
    write_csv(tmp_path / "d.csv", rows)
    (tmp_path / "d.jsonl").write_text(
        "".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows)
    )
    pq.write_table(
        pa.table({"text": [t for t, _ in rows], "label": [lab for _, lab in rows]}),
        tmp_path / "d.parquet",
    )
    loaded = [load_examples(tmp_path / f"d.{ext}") for ext in ("csv", "jsonl", "parquet")]
    assert [e.text for e in loaded[0]] == [t for t, _ in rows]
    assert fingerprint(loaded[0]) == fingerprint(loaded[1]) == fingerprint(loaded[2])
    assert loaded[0][0].row == 2 and loaded[1][0].row == 1  # CSV line / JSONL line


def test_column_mapping_and_multi_label(tmp_path: Path) -> None:
    write_csv(tmp_path / "d.csv", [("hello", "a|b"), ("bye", "b")], header=("body", "tags"))
    examples = load_examples(
        tmp_path / "d.csv", text_column="body", label_column="tags", multi_label=True
    )
    assert examples[0].labels == ("a", "b") and examples[1].labels == ("b",)
    (tmp_path / "d.jsonl").write_text('{"text": "hi", "label": ["a", "b"]}\n')
    with pytest.raises(DataError, match=r"d.jsonl:1: 2 labels in a single-label task"):
        load_examples(tmp_path / "d.jsonl")


def test_wrong_column_suggests(tmp_path: Path) -> None:
    write_csv(tmp_path / "d.csv", [("hi", "a")], header=("texts", "label"))
    with pytest.raises(DataError, match=r"no text column 'text'.*did you mean 'texts'"):
        load_examples(tmp_path / "d.csv")


def test_empty_text_and_missing_label_name_the_row(tmp_path: Path) -> None:
    write_csv(tmp_path / "d.csv", [("fine", "a"), ("   ", "b")])
    with pytest.raises(DataError, match=r"d.csv:3: empty text"):
        load_examples(tmp_path / "d.csv")
    write_csv(tmp_path / "e.csv", [("fine", "a"), ("no label", "")])
    with pytest.raises(DataError, match=r"e.csv:3: no label"):
        load_examples(tmp_path / "e.csv")


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_bytes(b"text,label\nok,a\ncaf\xe9 bad,b\n")
    with pytest.raises(DataError, match=r"d.csv:3: not UTF-8 \(byte 0xe9"):
        load_examples(tmp_path / "d.csv")


def test_malformed_jsonl_line(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": "b", "label"\n')
    with pytest.raises(DataError, match=r"d.jsonl:2: not valid JSON"):
        load_examples(tmp_path / "d.jsonl")


def test_missing_empty_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data file not found"):
        load_examples(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("text,label\n")
    with pytest.raises(DataError, match="holds no examples"):
        load_examples(tmp_path / "empty.csv")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        load_examples(tmp_path / "d.xlsx")


def test_split_is_stratified_and_deterministic() -> None:
    from narrowtune.data import Example

    examples = [Example(f"t{i}", (lab,)) for i, lab in enumerate(["a"] * 50 + ["b"] * 10)]
    first = make_splits(examples, validation=0.1, test=0.2, seed=1)
    again = make_splits(examples, validation=0.1, test=0.2, seed=1)
    other = make_splits(examples, validation=0.1, test=0.2, seed=2)
    assert [e.text for e in first.test] == [e.text for e in again.test]
    assert [e.text for e in first.test] != [e.text for e in other.test]
    assert sum(e.label == "b" for e in first.test) == 2
    assert sum(e.label == "a" for e in first.test) == 10
    seen = {e.text for part in (first.train, first.validation, first.test) for e in part}
    assert len(seen) == 60


def test_label_in_test_not_in_train(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", make_rows(10))
    write_csv(tmp_path / "test.csv", [("something odd", "refund"), ("brand new", "cancel")])
    task = load_task(write_task(tmp_path, **{"data.test": "test.csv", "labels": None}))
    with pytest.raises(DataError, match=r"test.csv:3: test label 'cancel' never occurs"):
        load_splits(task)


def test_one_example_for_a_class(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", [*make_rows(10), ("only one of these", "lonely")])
    task = load_task(write_task(tmp_path, labels=None))
    with pytest.raises(DataError, match="label 'lonely' has only one training example"):
        load_splits(task)


def test_label_not_declared(tmp_path: Path) -> None:
    write_csv(tmp_path / "data.csv", [*make_rows(10), ("x", "other"), ("y", "other")])
    task = load_task(write_task(tmp_path))
    with pytest.raises(DataError, match="label 'other' is not in the task's `labels` list"):
        load_splits(task)
