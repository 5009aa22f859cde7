"""Task files of the extract and generate kinds: schema checks, per-kind metrics, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from narrowtune.data.audit import audit
from narrowtune.data.audit.fix import measure_impact, write_fixed
from narrowtune.data.load import DataError
from narrowtune.task import TaskError, load_task

SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": ["number", "null"]}, "token": {"type": ["string", "null"]}},
    "required": ["amount"],
}


def _task(folder: Path, **fields: object) -> Path:
    raw = {"name": "t", "data": {"train": "rows.jsonl"}, **fields}
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_extract_needs_a_schema(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"task.yaml.*needs a `schema:`"):
        load_task(_task(tmp_path, kind="extract"))


def test_extract_schema_inline_or_file(tmp_path: Path) -> None:
    inline = load_task(_task(tmp_path, kind="extract", schema=SCHEMA))
    assert inline.output_schema == SCHEMA
    assert inline.metric == "field_f1"  # the kind's default metric
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    from_file = load_task(_task(tmp_path, kind="extract", schema="schema.json"))
    assert from_file.resolved()["schema"] == "schema.json"


def test_invalid_schema_is_named(tmp_path: Path) -> None:
    bad = {"type": "object", "properties": {"amount": {"type": "money"}}}
    with pytest.raises(TaskError, match=r"not valid JSON Schema at properties/amount/type"):
        load_task(_task(tmp_path, kind="extract", schema=bad))
    (tmp_path / "schema.json").write_text('{"type": "object",\n "properties": }')
    with pytest.raises(TaskError, match=r"schema.json:2:.*not valid JSON"):
        load_task(_task(tmp_path, kind="extract", schema="schema.json"))
    with pytest.raises(TaskError, match="does not exist"):
        load_task(_task(tmp_path, kind="extract", schema="missing.json"))


def test_schema_belongs_to_extract_only(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="`schema` is for kind 'extract'"):
        load_task(_task(tmp_path, kind="classify", schema=SCHEMA))


def test_metric_must_fit_the_kind(tmp_path: Path) -> None:
    assert load_task(_task(tmp_path, kind="generate")).metric == "contract_rate"
    with pytest.raises(TaskError, match="metric 'accuracy' is not one of kind 'generate'"):
        load_task(_task(tmp_path, kind="generate", metric="accuracy"))
    with pytest.raises(TaskError, match="metric 'chrf' is not one of kind 'classify'"):
        load_task(_task(tmp_path, metric="chrf"))


def test_audit_of_unlabeled_kind_skips_label_checks(tmp_path: Path) -> None:
    rows = [{"prompt": f"ticket {i} about fees", "completion": f"reply {i}"} for i in range(30)]
    rows.append(rows[0])  # an exact duplicate must still be found
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_task(
        _task(tmp_path, kind="generate", data={"train": "rows.jsonl", "text_column": "prompt"})
    )
    report = audit(task, fast=True)
    assert not report.blocking()
    assert "class_balance" not in report.stats["checks"]
    assert any(f.check == "exact_duplicates" for f in report.findings)
    # The cleaner only knows text + label rows: it refuses rather than drop the completions.
    with pytest.raises(DataError, match="--fix works on classify tasks"):
        write_fixed(task, report, tmp_path / "clean.jsonl")
    with pytest.raises(DataError, match="--impact works on classify tasks"):
        measure_impact(task, report, seed=1)
    assert not (tmp_path / "clean.jsonl").exists()
