"""The DAO-proposals `extract` example: reproducible data, consistent spans and outputs, a valid
schema, and a pipeline file that routes complete proposals to reviewers and incomplete ones back.

Fast and torch-free: it reads the committed files, reruns the stdlib generator and the cases
script, and loads the pipeline file (its models load only when a case runs).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dao_proposals"
DATA = EXAMPLE / "proposals.jsonl"
SCHEMA = EXAMPLE / "schema.json"

SPAN_FIELDS = (
    "title",
    "summary",
    "motivation",
    "requested_amount",
    "token",
    "recipient",
    "milestones",
    "voting_options",
)
TEXT_FIELDS = ("title", "summary", "motivation", "recipient")
CATEGORIES = ("grants", "treasury", "governance", "technical", "partnerships", "community")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def _error_fields(schema: dict[str, Any], instance: dict[str, Any]) -> set[str]:
    """Top-level properties that fail validation ("<root>" for object-level errors).

    Uses ``jsonschema`` when it is installed, otherwise ``jsonschema_rs``.
    """
    try:
        import jsonschema
    except ImportError:
        jsonschema_rs = pytest.importorskip("jsonschema_rs")
        errors = jsonschema_rs.validator_for(schema).iter_errors(instance)
        return {str(e.instance_path[0]) if e.instance_path else "<root>" for e in errors}
    validator = jsonschema.Draft202012Validator(schema)
    return {
        str(e.absolute_path[0]) if e.absolute_path else "<root>"
        for e in validator.iter_errors(instance)
    }


def _check_schema(schema: dict[str, Any]) -> None:
    try:
        import jsonschema
    except ImportError:
        jsonschema_rs = pytest.importorskip("jsonschema_rs")
        assert jsonschema_rs.meta.is_valid(schema)
        return
    jsonschema.Draft202012Validator.check_schema(schema)


def _amount(surface: str) -> float:
    """Independent re-implementation of the amount normalisation."""
    s = surface.replace(",", "").replace(" ", "")
    mult = {"k": 1000, "m": 1_000_000}.get(s[-1].lower(), 1)
    if mult != 1:
        s = s[:-1]
    return float(Decimal(s) * mult)


# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------


def test_regenerating_gives_identical_bytes(tmp_path: Path) -> None:
    generator = _load("make_proposals", EXAMPLE / "make_proposals.py")
    out = tmp_path / "proposals.jsonl"
    generator.main(["--out", str(out)])
    assert out.read_bytes() == DATA.read_bytes()


def test_ids_and_keys(rows: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("prop-") for i in ids)
    for r in rows:
        assert set(r) == {"id", "text", "output", "spans"}
        assert set(r["spans"]) == set(SPAN_FIELDS)  # category is inferred, never a span
        assert set(r["output"]) == {*SPAN_FIELDS, "category"}


def test_spans_are_in_bounds_non_empty_and_disjoint(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        text = r["text"]
        flat = sorted((s, e, f) for f, spans in r["spans"].items() for s, e in spans)
        prev_end = 0
        for s, e, f in flat:
            assert 0 <= s < e <= len(text), (r["id"], f, s, e)
            assert text[s:e].strip(), (r["id"], f)
            assert s >= prev_end, f"{r['id']}: span {f} {s}:{e} overlaps the one before"
            prev_end = e


def test_spans_match_output(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        text, out, spans = r["text"], r["output"], r["spans"]
        for f in (*TEXT_FIELDS, "requested_amount", "token"):
            assert len(spans[f]) <= 1, (r["id"], f)
            assert (out[f] is None) == (not spans[f]), (r["id"], f)
        for f in TEXT_FIELDS:
            if spans[f]:
                ((s, e),) = spans[f]
                assert text[s:e] == out[f], (r["id"], f)
        if spans["requested_amount"]:
            ((s, e),) = spans["requested_amount"]
            assert _amount(text[s:e]) == out["requested_amount"], r["id"]
        if spans["token"]:
            ((s, e),) = spans["token"]
            assert text[s:e].upper() == out["token"], r["id"]
        for f in ("milestones", "voting_options"):
            assert [text[s:e].strip() for s, e in spans[f]] == out[f], (r["id"], f)


def test_outputs_validate_except_the_missing_fields(
    rows: list[dict[str, Any]], schema: dict[str, Any]
) -> None:
    _check_schema(schema)
    required = set(schema["required"])
    for r in rows:
        nulls = {f for f in required if r["output"][f] is None}
        assert _error_fields(schema, r["output"]) == nulls, r["id"]


def test_schema_shape(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == [
        "title",
        "summary",
        "requested_amount",
        "token",
        "recipient",
        "category",
    ]
    props = schema["properties"]
    assert set(props) == {*SPAN_FIELDS, "category"}
    assert all(p.get("description") for p in props.values())
    assert props["category"]["enum"] == list(CATEGORIES)
    assert props["recipient"]["pattern"] == "^0x[0-9a-fA-F]{40}$"
    assert props["requested_amount"]["minimum"] == 0
    hints = {k: p.get("x-narrowtune-normalize") for k, p in props.items()}
    assert hints["requested_amount"] == "amount"
    assert hints["token"] == "token"
    assert hints["recipient"] == "address"
    assert props["motivation"]["type"] == ["string", "null"]


def test_dataset_size_and_mix(rows: list[dict[str, Any]], schema: dict[str, Any]) -> None:
    required = [f for f in schema["required"] if f != "category"]
    n = len(rows)
    assert n >= 220
    incomplete = sum(any(r["output"][f] is None for f in required) for r in rows)
    assert incomplete >= 0.2 * n
    assert incomplete <= 0.35 * n
    per_category = Counter(r["output"]["category"] for r in rows)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 25
    assert sum(len(r["text"]) > 2500 for r in rows) >= 0.15 * n
    assert sum(len(r["text"].split()) <= 120 for r in rows) >= 0.1 * n


def test_pipeline_routes_every_category() -> None:
    from narrowtune.pipeline import load_pipeline

    pipeline = load_pipeline(EXAMPLE / "pipeline.yaml")
    route = next(s for s in pipeline.steps if s.id == "route")
    categories = {
        rule.when["extract.output.category"]: rule.route
        for rule in route.config.rules  # type: ignore[attr-defined]
        if rule.when and "extract.output.category" in rule.when
    }
    assert set(categories) == set(CATEGORIES)
    assert len(set(categories.values())) == len(CATEGORIES)


def test_cases_are_the_test_split_with_gold_routes(tmp_path: Path) -> None:
    """make_cases.py reproduces cases.jsonl: the test split's proposals and their gold routes."""
    committed = (EXAMPLE / "cases.jsonl").read_bytes()
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "make_cases.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (EXAMPLE / "cases.jsonl").read_bytes() == committed
    cases = [json.loads(line) for line in committed.decode().splitlines()]
    assert len(cases) == 60
    routes = Counter(c["expect"]["route"][0] for c in cases)
    assert routes["author"] >= 10 and len(routes) == 7
