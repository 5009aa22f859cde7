"""The typed evaluation: it reads a stored metrics.json back and writes it out unchanged.

`tests/data/stored_metrics/` holds the metrics.json of one tiny run of each built-in kind, written
by narrowtune before evaluations were typed (commit b2ba7f3): the format users' run folders hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrowtune.evaluate.blocks import Cell, Html, Notes, Table
from narrowtune.evaluate.evaluation import Evaluation, Margin, SystemResult
from narrowtune.evaluate.report import render_block, render_report

STORED = Path(__file__).parent / "data" / "stored_metrics"
KINDS = ("classify", "extract", "generate")


def stored(kind: str) -> dict:
    return json.loads((STORED / f"metrics_{kind}.json").read_text())


@pytest.mark.parametrize("kind", KINDS)
def test_a_stored_evaluation_round_trips_exactly(kind: str) -> None:
    data = stored(kind)
    evaluation = Evaluation.from_dict(data)
    assert evaluation.to_dict() == data
    assert evaluation.kind == kind and evaluation.systems[0].role == "fine-tuned"
    assert evaluation.margin == Margin(**data["margin"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_stored_evaluation_still_renders(kind: str) -> None:
    page = render_report(stored(kind))
    assert page.startswith("<!DOCTYPE html>") and stored(kind)["task"] in page
    for anchor, _, _ in stored(kind).get("sections", []):
        assert f'id="{anchor}"' in page


def test_the_margin_skips_baselines_without_the_metric() -> None:
    systems = [
        SystemResult("ft", "fine-tuned", "", {"f1": 0.8}),
        SystemResult("rules", "baseline", "", {"f1": None}),
        SystemResult("gazetteer", "baseline", "", {"f1": 0.75}),
    ]
    margin = Margin.between("f1", systems)
    assert margin.best_baseline == "gazetteer" and margin.delta == pytest.approx(0.05)
    assert Margin.between("f1", systems[:2]).delta is None


def test_blocks_render_escaped() -> None:
    table = Table(
        headers=("text", "n", "why"),
        rows=(("<script>x</script>", 3, Cell(style="list", items=("a<b",))),),
        lead="lead & more",
        numeric=frozenset({1}),
    )
    html = render_block(table)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a&lt;b" in html
    assert "<td class='num'>3</td>" in html and "lead &amp; more" in html
    assert render_block(Table(("a",), (), empty="nothing <here>")) == "<p>nothing &lt;here&gt;</p>"
    assert render_block(Notes(("x & y",))) == "<ul><li>x &amp; y</li></ul>"
    assert render_block(Html("<b>kept</b>")) == "<b>kept</b>"
    assert "<pre" in render_block(Table(("p",), ((Cell("line\nbreak", style="pre"),),)))
