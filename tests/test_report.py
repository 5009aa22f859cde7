"""The HTML report: self-contained, escaped, honest about the margin, one SVG per plot."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from narrowtune.evaluate.report import render_report, write_report

LABELS = ("stuck_transaction", "refund_request", "account_locked")
VOID = {"meta", "br", "img", "hr", "input", "link", "col", "area", "base", "source", "wbr"}


def _system(name: str, role: str, accuracy: float, *, abstention: bool) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "n": 100,
        "accuracy": accuracy,
        "macro_f1": accuracy - 0.01,
        "per_class": {
            "stuck_transaction": {"precision": 0.95, "recall": 0.9, "f1": 0.925, "support": 40},
            "refund_request": {"precision": 0.8, "recall": 0.7, "f1": 0.745, "support": 30},
            "account_locked": {"precision": 0.99, "recall": 1.0, "f1": 0.995, "support": 30},
        },
        "confusion": {
            "labels": list(LABELS),
            "matrix": [[36, 3, 1], [9, 21, 0], [0, 0, 30]],
        },
        "ece": 0.021,
        "reliability": [
            {"lower": 0.4, "upper": 0.6, "confidence": 0.52, "accuracy": 0.5, "count": 8},
            {"lower": 0.6, "upper": 0.8, "confidence": 0.71, "accuracy": 0.75, "count": 20},
            {"lower": 0.8, "upper": 1.0, "confidence": 0.93, "accuracy": 0.95, "count": 72},
        ],
        "coverage_curve": [
            {"coverage": c, "accuracy": min(1.0, accuracy + (1 - c) * 0.1), "threshold": 1 - c / 2}
            for c in (0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
        ],
        "coverage_at_99_precision_on_test": 0.4,
    }
    if abstention:
        metrics["abstention"] = {
            "threshold": 0.61,
            "target_precision": 0.95,
            "coverage": 0.88,
            "precision_kept": 0.964,
        }
    return {
        "name": name,
        "role": role,
        "description": f"{name} on the wallet-support split",
        "train_seconds": 42.13 if role == "fine-tuned" else None,
        "metrics": metrics,
        "latency": {
            "p50_ms": 8.14,
            "p95_ms": 12.06,
            "throughput_per_s": 250.0,
            "cost_per_1k_usd": 0.00011,
        },
    }


@pytest.fixture
def evaluation() -> dict[str, Any]:
    return {
        "task": "wallet-support",
        "kind": "classify",
        "run_id": "20261125-110512-ab12",
        "run_dir": "runs/wallet-support/20261125-110512-ab12",
        "created": "2026-11-25T11:05:12Z",
        "machine": "2 CPU cores, Linux x86_64, Python 3.11",
        "split": {
            "train": 420,
            "validation": 60,
            "test": 100,
            "fingerprint": "3f2a9c0d11",
            "name": "test",
        },
        "labels": list(LABELS),
        "multi_label": False,
        "target_precision": 0.95,
        "primary_metric": "accuracy",
        "systems": [
            _system("fine-tuned (all-MiniLM-L6-v2)", "fine-tuned", 0.93, abstention=True),
            _system("frozen embeddings + logistic regression", "baseline", 0.91, abstention=False),
        ],
        "margin": {
            "metric": "accuracy",
            "fine_tuned": 0.93,
            "best_baseline": "frozen embeddings + logistic regression",
            "best_baseline_value": 0.91,
            "delta": 0.02,
        },
        "errors": [
            {
                "text": "my tx has been pending for 3 hours",
                "gold": "stuck_transaction",
                "predicted": "refund_request",
                "confidence": 0.55,
                "abstain": True,
            },
            {
                "text": "<script>alert('x')</script> refund me & fast",
                "gold": "refund_request",
                "predicted": "stuck_transaction",
                "confidence": 0.812,
                "abstain": False,
            },
        ],
    }


@pytest.fixture
def multi_label(evaluation: dict[str, Any]) -> dict[str, Any]:
    ev = copy.deepcopy(evaluation)
    ev["multi_label"] = True
    for system in ev["systems"]:
        del system["metrics"]["confusion"]
        system["metrics"]["micro_f1"] = 0.947
    ev["errors"] = [
        {
            "text": "pending and I want my money back",
            "gold": ["stuck_transaction", "refund_request"],
            "predicted": ["stuck_transaction"],
            "confidence": 0.7,
            "abstain": False,
        }
    ]
    return ev


class _TagBalance(HTMLParser):
    """Counts unclosed tags and collects every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.mismatches: list[tuple[str, str | None]] = []
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "xlink:href", "action", "poster"} and value:
                self.urls.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "xlink:href"} and value:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.mismatches.append((tag, self.stack[-1] if self.stack else None))


def _parse(html: str) -> _TagBalance:
    parser = _TagBalance()
    parser.feed(html)
    parser.close()
    return parser


def _section(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', html, flags=re.DOTALL)
    assert match, f"section {anchor} missing"
    return match.group(1)


def test_write_report_is_atomic_and_well_formed(evaluation, tmp_path: Path):
    target = tmp_path / "run" / "report.html"
    written = write_report(evaluation, target)

    assert written == target
    assert not target.with_suffix(".tmp").exists()
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<html" in html and html.rstrip().endswith("</html>")
    assert "<title>narrowtune report — wallet-support</title>" in html
    parsed = _parse(html)
    assert parsed.mismatches == []
    assert parsed.stack == []
    # Rewriting over an existing file also goes through the temp file and leaves none behind.
    write_report(evaluation, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


def test_write_report_leaves_old_file_when_rendering_fails(evaluation, tmp_path: Path):
    target = tmp_path / "report.html"
    target.write_text("previous report", encoding="utf-8")
    evaluation["systems"][0]["metrics"]["reliability"] = [{"lower": "broken"}]
    with pytest.raises((KeyError, ValueError, TypeError)):
        write_report(evaluation, target)
    assert target.read_text(encoding="utf-8") == "previous report"
    assert not target.with_suffix(".tmp").exists()


def test_sections_in_order_with_one_svg_per_plot(evaluation):
    html = render_report(evaluation)
    order = ["headline", "systems", "coverage", "reliability", "confusion", "per-class", "errors"]
    positions = [html.index(f'<section id="{name}">') for name in order]
    assert positions == sorted(positions)
    assert html.index('<header id="header">') < positions[0]
    assert html.count("<svg") == 3
    for name in ("coverage", "reliability", "confusion"):
        assert _section(html, name).count("<svg") == 1
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert "Reliability — ECE 2.1%" in _section(html, "reliability")


def test_header_and_numbers_are_formatted(evaluation):
    html = render_report(evaluation)
    header = html[: html.index('<section id="headline">')]
    for expected in (
        "wallet-support",
        "classify",
        "20261125-110512-ab12",
        "2026-11-25T11:05:12Z",
        "2 CPU cores, Linux x86_64, Python 3.11",
        "train 420, validation 60, test 100",
        "3f2a9c0d11",
    ):
        assert expected in header

    table = _section(html, "systems")
    ft_row = re.search(r'<tr class="fine-tuned">(.*?)</tr>', table, flags=re.DOTALL).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', ft_row)
    # accuracy, macro-F1, ECE, coverage, precision kept, p50, p95, throughput, cost, train s
    assert cells == [
        "93.0%", "92.0%", "2.1%", "88.0%", "96.4%", "8.1", "12.1", "250", "$0.00011", "42.1",
    ]  # fmt: skip
    assert "Coverage at 95.0% target precision" in table
    baseline_row = table.split('<tr class="fine-tuned">')[1].split("</tr>", 1)[1]
    baseline_cells = re.findall(r'<td class="num">(.*?)</td>', baseline_row)
    assert baseline_cells[0] == "91.0%"
    assert baseline_cells[3] == "—"  # no abstention threshold
    assert baseline_cells[-1] == "—"  # no train time


def test_positive_margin_is_worded_above(evaluation):
    headline = _section(render_report(evaluation), "headline")
    assert "fine-tuning is 2.0 points ABOVE the best baseline" in headline
    assert "93.0%" in headline and "91.0%" in headline
    assert "frozen embeddings + logistic regression" in headline


def test_negative_margin_is_worded_below(evaluation):
    evaluation["margin"].update(fine_tuned=0.898, best_baseline_value=0.91, delta=-0.012)
    headline = _section(render_report(evaluation), "headline")
    assert "fine-tuning is 1.2 points BELOW the best baseline" in headline
    assert "ABOVE" not in headline
    assert 'class="headline below"' in headline


def test_margin_is_measured_when_the_evaluation_lacks_it(evaluation):
    del evaluation["margin"]
    evaluation["systems"][1]["metrics"]["accuracy"] = 0.955
    headline = _section(render_report(evaluation), "headline")
    assert "fine-tuning is 2.5 points BELOW the best baseline" in headline


def test_user_strings_are_escaped(evaluation):
    evaluation["task"] = "wallet<b>support"
    evaluation["labels"][0] = "<img src=x onerror=alert(1)>"
    per_class = evaluation["systems"][0]["metrics"]["per_class"]
    per_class["<img src=x onerror=alert(1)>"] = per_class.pop("stuck_transaction")
    html = render_report(evaluation)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; refund me &amp; fast" in html
    assert "<b>" not in html and "wallet&lt;b&gt;support" in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in _section(html, "per-class")


def test_nothing_is_fetched_from_the_network(evaluation):
    evaluation["audit_html"] = '<div class="audit"><p>2 duplicates</p></div>'
    html = render_report(evaluation)
    parsed = _parse(html)
    assert parsed.urls, "expected at least the in-page navigation links"
    for url in parsed.urls:
        assert url.startswith(("#", "data:")), url
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags


def test_errors_and_per_class_tables(evaluation):
    html = render_report(evaluation)
    errors = _section(html, "errors")
    body = errors.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.DOTALL)
    assert len(rows) == 2
    assert "my tx has been pending for 3 hours" in rows[0]
    assert '<td class="num">0.55</td><td>yes</td>' in rows[0]
    assert '<td class="num">0.81</td><td>no</td>' in rows[1]

    per_class = _section(html, "per-class")
    order = re.findall(r"<tr><td>(.*?)</td>", per_class)
    assert order == ["refund_request", "stuck_transaction", "account_locked"]  # worst F1 first
    assert "74.5%" in per_class
    assert "stuck_transaction (9)" in per_class  # refund_request most often predicted as this


def test_audit_fragment_is_inserted_as_is(evaluation):
    assert 'id="audit"' not in render_report(evaluation)
    evaluation["audit_html"] = '<div class="audit"><p>2 <em>duplicates</em></p></div>'
    html = render_report(evaluation)
    audit = _section(html, "audit")
    assert "<h2>Data audit</h2>" in audit
    assert '<div class="audit"><p>2 <em>duplicates</em></p></div>' in audit
    assert html.index('id="errors"') < html.index('id="audit"')


def test_multi_label_renders_without_confusion_matrix(multi_label):
    html = render_report(multi_label)
    assert 'id="confusion"' not in html
    assert html.count("<svg") == 2
    table = _section(html, "systems")
    assert "Micro-F1" in table and "94.7%" in table
    assert "stuck_transaction, refund_request" in _section(html, "errors")
    assert _parse(html).mismatches == []


def test_report_is_deterministic(evaluation):
    assert render_report(evaluation) == render_report(copy.deepcopy(evaluation))


def test_missing_optional_keys_render(evaluation):
    minimal = {
        "task": "bare",
        "systems": [
            {
                "name": "fine-tuned",
                "role": "fine-tuned",
                "metrics": {"accuracy": 0.8, "macro_f1": 0.7},
            }
        ],
    }
    html = render_report(minimal)
    assert "No baseline was measured" in html
    assert "<svg" not in html
    assert _parse(html).mismatches == []


def test_confusion_matrix_scales_to_many_labels(evaluation):
    labels = [f"intent_{i:02d}_with_a_longish_name" for i in range(80)]
    matrix = [
        [(5 if i == j else (1 if j == (i + 1) % 80 else 0)) for j in range(80)] for i in range(80)
    ]
    ft = evaluation["systems"][0]["metrics"]
    ft["confusion"] = {"labels": labels, "matrix": matrix}
    ft["per_class"] = {
        name: {"precision": 0.8, "recall": 0.83, "f1": 0.81, "support": 6} for name in labels
    }
    confusion = _section(render_report(evaluation), "confusion")
    width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', confusion).group(1))
    assert width_pt > 1000  # figure grew with the label count
    assert "intent_79_with_a_longish_na…" in confusion
    assert "rotate(-90" in confusion  # x tick labels are vertical


def test_llm_baseline_without_confidence_renders(evaluation: dict[str, Any]) -> None:
    llm = _system("prompted LLM (gemma)", "baseline", 0.62, abstention=False)
    llm["metrics"].update(ece=None, abstention=None, coverage_curve=None, reliability=None)
    llm["latency"] = {"p50_ms": 812.0, "p95_ms": 1500.0, "throughput_per_s": 1.2}
    evaluation["systems"].append(llm)
    evaluation["notes"] = []
    page = render_report(evaluation)
    assert "prompted LLM (gemma)" in page
    assert "62.0" in page


def test_other_kinds_render_their_columns_and_sections() -> None:
    system = {
        "name": "fine-tuned extractor",
        "role": "fine-tuned",
        "metrics": {"field_f1": 0.913, "schema_validity": 1.0},
        "latency": {"p50_ms": 14.2},
        "train_seconds": 61.0,
    }
    baseline = {
        "name": "gazetteer <b>",
        "role": "baseline",
        "metrics": {"field_f1": 0.55, "schema_validity": 1.0},
    }
    page = render_report(
        {
            "task": "dao",
            "kind": "extract",
            "primary_metric": "field_f1",
            "split": {"train": 10, "validation": 2, "test": 4, "name": "test"},
            "systems": [system, baseline],
            "margin": {
                "metric": "field_f1",
                "fine_tuned": 0.913,
                "best_baseline": "gazetteer <b>",
                "best_baseline_value": 0.55,
                "delta": 0.363,
            },
            "columns": [
                {"key": "field_f1", "header": "field F1 %", "format": "pct"},
                {"key": "schema_validity", "header": "valid %", "format": "pct"},
                {"key": "latency.p50_ms", "header": "p50 ms", "format": "ms"},
            ],
            "sections": [["per-field", "Per field", "<table><tr><td>title</td></tr></table>"]],
        }
    )
    assert "field F1 %" in page and "91.3" in page and "14.2" in page
    assert "gazetteer &lt;b&gt;" in page  # system names are escaped
    assert '<section id="per-field">' in page
    assert "36.3 points ABOVE" in page
    assert "Confusion matrix" not in page  # classify-only sections stay out
