"""One self-contained, offline `report.html` from an evaluation: tables plus inline SVG plots.

The only module that writes the evaluation's HTML: the page, and the kinds' report sections
(`render_block`, which `Evaluation.to_dict` uses for the sections stored in metrics.json).
It renders a typed `Evaluation` or its stored form (metrics.json, any age), tolerating missing
keys. An evaluation without summary `columns` is in the classification format and gets the
classification tables and plots (coverage, calibration, confusion, per class, errors).

The page references nothing outside itself (no CDN, fonts or scripts), so it can be mailed,
archived in a run directory and opened years later. Every string that came from the user's data
(texts, labels, task and system names) is HTML-escaped; only `evaluation["audit_html"]`, which the
audit module renders and escapes itself, and sections stored as HTML (escaped when rendered)
are inserted as-is.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.atomic import write_text
from narrowtune.evaluate.blocks import Block, Cell, Html, Notes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from narrowtune.evaluate.evaluation import Evaluation

__all__ = ["render_block", "render_report", "write_report"]

DASH = "—"
METRIC_NAMES = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "micro_f1": "micro-F1",
    "field_f1": "field F1",
    "span_f1": "span F1",
    "exact_match": "document exact match",
    "intent_accuracy": "intent accuracy",
    "contract_rate": "contract compliance",
    "chrf": "chrF",
    "rouge_l": "ROUGE-L",
}
# Fine-tuned model in a strong colour; baselines muted and with distinct dashes so the plot
# still reads when printed in black and white.
FINE_TUNED_COLOR = "#1f5fbf"
BASELINE_STYLES = [
    ("#d9822b", "--"),
    ("#5a8f29", "-."),
    ("#8e44ad", ":"),
    ("#7f7f7f", (0, (5, 1, 1, 1))),
    ("#b03a2e", (0, (1, 1))),
]
CONFUSION_ANNOTATE_MAX = 20  # above this many labels, cell counts stop being legible

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: #1d232a; max-width: 1180px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem;
  border-bottom: 1px solid #d8dde3; }
.muted { color: #5b6670; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem;
  margin: .8rem 0; }
dl.meta dt { color: #5b6670; }
dl.meta dd { margin: 0; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.headline { font-size: 1.1rem; padding: .8rem 1rem; border-left: 4px solid #7f7f7f;
  background: #f5f7f9; }
.headline.above { border-left-color: #2e7d32; }
.headline.below { border-left-color: #c62828; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #e3e7eb; text-align: left;
  vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
table.systems td:first-child { min-width: 18rem; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.fine-tuned td { background: #eef4fc; font-weight: 600; }
td.text { max-width: 520px; white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figure.natural svg { max-width: none; }
figcaption { color: #5b6670; font-size: .9rem; }
nav a { margin-right: .8rem; color: #1f5fbf; }
footer { margin-top: 3rem; color: #8a949d; font-size: .85rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  .scroll { overflow: visible; }
  figure.natural svg { max-width: 100%; }
}
"""


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if not isinstance(value, Cell):
        return escape("" if value is None else str(value))
    if value.style == "list":
        body = "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in value.items) + "</ul>"
    elif value.style == "pre":
        body = f"<pre style='white-space:pre-wrap'>{escape(value.value)}</pre>"
    elif value.style == "code":
        body = f"<code>{escape(value.value)}</code>"
    else:
        body = escape(value.value)
    return body + (f"<small>{escape(value.note)}</small>" if value.note else "")


def render_block(block: Block) -> str:
    """A kind's report section as escaped HTML."""
    if isinstance(block, Html):
        return block.html
    if isinstance(block, Notes):
        return "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in block.items) + "</ul>"
    lead = f"<p>{escape(block.lead)}</p>" if block.lead else ""
    if not block.rows and block.empty:
        return f"<p>{escape(block.empty)}</p>"

    def klass(i: int) -> str:
        return " class='num'" if i in block.numeric else ""

    head = "".join(f"<th{klass(i)}>{escape(h)}</th>" for i, h in enumerate(block.headers))
    rows = "".join(
        "<tr>" + "".join(f"<td{klass(i)}>{_cell(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in block.rows
    )
    return f"{lead}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def render_report(evaluation: Evaluation | Mapping[str, Any]) -> str:
    """Return the report as one HTML document (inline CSS and SVG, nothing fetched)."""
    if not isinstance(evaluation, Mapping):
        evaluation = evaluation.to_dict()
    task = str(evaluation.get("task") or "untitled task")
    systems = list(evaluation.get("systems") or [])
    fine_tuned = _fine_tuned(systems)
    multi_label = bool(evaluation.get("multi_label"))
    if evaluation.get("columns"):
        return _page(task, _column_sections(evaluation, systems, fine_tuned))
    sections = [
        ("header", None, _header(evaluation)),
        ("headline", "Headline", _headline(evaluation, systems, fine_tuned)),
        ("systems", "All systems, same test split", _systems_table(evaluation, systems)),
        ("coverage", "Coverage vs accuracy", _coverage_section(evaluation, systems, fine_tuned)),
        ("reliability", "Calibration", _reliability_section(fine_tuned)),
    ]
    if not multi_label:
        sections.append(("confusion", "Confusion matrix", _confusion_section(fine_tuned)))
    from narrowtune.evaluate.scope import scope_lines

    scope = scope_lines(dict(evaluation))
    if scope:
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in scope[1:])
        sections.insert(
            sections.index(next(s for s in sections if s[0] == "coverage")) + 1,
            (
                "out-of-scope",
                "Out-of-scope requests",
                f"<p>{escape(scope[0])}</p><ul>{items}</ul>",
            ),
        )
    if evaluation.get("costs"):
        sections.append(("costs", "Cost of mistakes", _costs_section(evaluation, systems)))
    # A kind's own sections (e.g. moderation's outcomes and robustness), rendered by to_dict.
    sections += [(str(a), str(t), str(h)) for a, t, h in evaluation.get("sections") or []]
    if evaluation.get("advice"):
        sections.append((ADVICE_ANCHOR, ADVICE_TITLE, advice_section(evaluation["advice"])))
    sections += [
        ("per-class", "Per-class results (worst first)", _per_class_section(fine_tuned)),
        ("errors", "Errors", _errors_section(evaluation)),
    ]
    if evaluation.get("audit_html"):
        # Produced and escaped by the audit module; inserting it as-is is the contract.
        sections.append(("audit", "Data audit", str(evaluation["audit_html"])))
    return _page(task, sections)


def _column_sections(
    evaluation: Mapping[str, Any], systems: list[dict], fine_tuned: dict | None
) -> list[tuple[str, str | None, str]]:
    """An evaluation that names its summary columns: those, then its own sections."""
    from narrowtune.evaluate.columns import cells, summary_columns

    columns = summary_columns(evaluation)
    head = "".join(f'<th class="num">{escape(c.header)}</th>' for c in columns)
    rows = "\n".join(
        f"<tr><td>{escape(str(s.get('name')))}</td><td>{escape(str(s.get('role', '')))}</td>"
        + "".join(f'<td class="num">{escape(v)}</td>' for v in cells(s, columns))
        + "</tr>"
        for s in systems
    )
    table = (
        f'<div class="scroll"><table>\n<thead><tr><th>System</th><th>Role</th>{head}</tr></thead>'
        f"\n<tbody>\n{rows}\n</tbody></table></div>"
    )
    sections: list[tuple[str, str | None, str]] = [
        ("header", None, _header(evaluation)),
        ("headline", "Headline", _headline(evaluation, systems, fine_tuned)),
        ("systems", "All systems, same test split", table),
    ]
    # Stored as HTML rendered (and escaped) by render_block; inserting it as-is is the contract.
    sections += [(str(a), str(t), str(h)) for a, t, h in evaluation.get("sections") or []]
    if evaluation.get("costs"):
        sections.append(("costs", "Cost of mistakes", _costs_section(evaluation, systems)))
    if evaluation.get("advice"):
        sections.append((ADVICE_ANCHOR, ADVICE_TITLE, advice_section(evaluation["advice"])))
    if evaluation.get("audit_html"):
        sections.append(("audit", "Data audit", str(evaluation["audit_html"])))
    return sections


def _page(task: str, sections: list[tuple[str, str | None, str]]) -> str:
    nav = " ".join(
        f'<a href="#{anchor}">{escape(title)}</a>' for anchor, title, _ in sections if title
    )
    body = [f"<nav>{nav}</nav>"] if nav else []
    for anchor, title, content in sections:
        if title is None:
            body.append(f'<header id="{anchor}">{content}</header>')
        else:
            body.append(f'<section id="{anchor}">\n<h2>{escape(title)}</h2>\n{content}\n</section>')
    body.append(f"<footer>Generated by narrowtune {escape(_version())}.</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>narrowtune report — {escape(task)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def write_report(evaluation: Evaluation | Mapping[str, Any], path: Path) -> Path:
    """Render the report and write it to `path` atomically (temp file, then rename)."""
    return write_text(path, render_report(evaluation))


# ----------------------------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------------------------


def _header(ev: dict[str, Any]) -> str:
    task = escape(str(ev.get("task") or "untitled task"))
    split = ev.get("split") or {}
    sizes = ", ".join(
        f"{escape(str(part))} {_int(split.get(part))}"
        for part in ("train", "validation", "test")
        if split.get(part) is not None
    )
    labels = ev.get("labels") or []
    rows = [
        ("Kind", escape(str(ev.get("kind") or DASH))),
        ("Run", f"<code>{escape(str(ev.get('run_id') or DASH))}</code>"),
        (
            "Run directory",
            f"<code>{escape(str(ev['run_dir']))}</code>" if ev.get("run_dir") else "",
        ),
        ("Date", escape(str(ev.get("created") or DASH))),
        ("Machine", escape(str(ev.get("machine") or DASH))),
        ("Split sizes", sizes or DASH),
        ("Evaluated on", escape(str(split.get("name") or "test")) + " split"),
        (
            "Data fingerprint",
            f"<code>{escape(str(split['fingerprint']))}</code>" if split.get("fingerprint") else "",
        ),
        (
            "Labels",
            f"{len(labels)} ({'multi-label' if ev.get('multi_label') else 'single-label'})"
            if labels
            else "",
        ),
        ("Target precision", _pct(ev.get("target_precision"))),
    ]
    always = {"Kind", "Run", "Date", "Machine", "Split sizes"}
    meta = "\n".join(
        f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if k in always or (v and v != DASH)
    )
    return f'<h1>narrowtune report — {task}</h1>\n<dl class="meta">\n{meta}\n</dl>'


def _headline(ev: dict[str, Any], systems: list[dict], fine_tuned: dict | None) -> str:
    margin = _margin(ev, systems, fine_tuned)
    if margin is None:
        return '<p class="headline">No fine-tuned model in this evaluation; nothing to compare.</p>'
    metric = METRIC_NAMES.get(margin["metric"], str(margin["metric"]))
    ft_name = escape(str(fine_tuned["name"])) if fine_tuned else "fine-tuned model"
    ft_value = margin.get("fine_tuned")
    if margin.get("best_baseline") is None or margin.get("best_baseline_value") is None:
        return (
            f'<p class="headline">{ft_name}: {escape(metric)} <strong>{_pct(ft_value)}</strong>. '
            "No baseline was measured, so there is no evidence yet that fine-tuning beats "
            "the alternatives.</p>"
        )
    baseline = escape(str(margin["best_baseline"]))
    points = round(float(margin["delta"]) * 100, 1)
    if points > 0:
        kind, verdict = "above", f"fine-tuning is {points:.1f} points ABOVE the best baseline"
    elif points < 0:
        kind, verdict = "below", f"fine-tuning is {-points:.1f} points BELOW the best baseline"
    else:
        kind, verdict = "level", "fine-tuning is level with the best baseline (within 0.1 points)"
    sure = ""
    low, high = margin.get("interval_low"), margin.get("interval_high")
    if low is not None and high is not None:
        level = round(100 * float(margin.get("level") or 0.95))
        sure = (
            f" {level}% paired bootstrap interval on the difference: "
            f"<strong>{100 * low:+.1f} to {100 * high:+.1f}</strong> points"
            f" ({_int(margin.get('test_items') or 0)} test items"
        )
        test = margin.get("mcnemar")
        if test:
            sure += (
                f"; McNemar exact p = {test['p_exact']:.3g}, mid-p = {test['p_mid']:.3g}: "
                f"{test['a_only']} items only the fine-tuned model got right, "
                f"{test['b_only']} only the baseline"
            )
        sure += ")."
        if low <= 0 <= high:
            kind = "level"
            verdict = (
                f"no demonstrated margin ({points:+.1f} points, but the interval includes zero)"
            )
    n = (fine_tuned or {}).get("metrics", {}).get("n")
    resolution = ""
    if n:
        resolution = (
            f' <span class="muted">Measured on {_int(n)} test examples; one example is '
            f"{100 / n:.1f} points of accuracy.</span>"
        )
    return (
        f'<p class="headline {kind}">{ft_name}: {escape(metric)} <strong>{_pct(ft_value)}</strong>'
        f" vs best baseline {baseline}: <strong>{_pct(margin['best_baseline_value'])}</strong>"
        f' — <strong class="verdict">{verdict}</strong> on {escape(metric)}.{sure}{resolution}</p>'
    )


ADVICE_ANCHOR, ADVICE_TITLE = "advice", "Advice: fine-tune, prompt, retrieve or orchestrate?"


def advice_section(advice: Mapping[str, Any]) -> str:
    """`narrowtune advise`'s decision (runs/<task>/advice.json): reasons, every criterion met or
    not with its measurement, the options' cost and latency, what to measure first, and the
    profile values that were assumed."""

    def money(value: Any) -> str:
        return DASH if value is None else f"${float(value):,.2f}"

    def met(value: Any) -> str:
        return "measured later" if value is None else ("met" if value else "not met")

    reasons = "".join(f"<li>{escape(str(r))}</li>" for r in advice.get("reasons") or [])
    out = [
        f"<p>Decision: <strong>{escape(str(advice.get('decision')))}</strong></p>",
        f"<ul>{reasons}</ul>" if reasons else "",
    ]
    criteria = "".join(
        f"<tr><td>{escape(str(c.get('name')))}</td><td>{met(c.get('met'))}</td>"
        f"<td>{escape(str(c.get('evidence')))}</td><td>{escape(str(c.get('favours')))}</td></tr>"
        for c in advice.get("criteria") or []
    )
    if criteria:
        out.append(
            '<div class="scroll"><table><thead><tr><th>criterion</th><th>met?</th>'
            "<th>measurement</th><th>argues for</th></tr></thead>"
            f"<tbody>{criteria}</tbody></table></div>"
        )
    options = advice.get("options") or {}
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td class='num'>{money(o.get('cost_per_1k'))}</td>"
        f"<td class='num'>{money(o.get('cost_per_month'))}</td>"
        f"<td class='num'>{_ms(o.get('latency_ms'))}</td><td>{escape(str(o.get('measured')))}</td>"
        "</tr>"
        for name, o in options.items()
        if isinstance(o, Mapping)
    )
    if rows:
        breakeven = options.get("break_even_calls_per_day")
        out.append(
            '<div class="scroll"><table><thead><tr><th>option</th><th class="num">per 1,000 '
            'calls</th><th class="num">per month</th><th class="num">latency (ms)</th>'
            f"<th>from</th></tr></thead><tbody>{rows}</tbody></table></div>"
            + (
                f"<p>Break-even volume: {float(breakeven):,.0f} calls a day.</p>"
                if isinstance(breakeven, int | float)
                else ""
            )
        )
    first = "".join(f"<li>{escape(str(m))}</li>" for m in advice.get("measure_first") or [])
    if first:
        out.append(f"<p>Measure first:</p><ul>{first}</ul>")
    assumed = [
        f"{escape(str(k))}={escape(str(v.get('value')))}"
        for k, v in (advice.get("assumptions") or {}).items()
        if isinstance(v, Mapping) and v.get("assumed")
    ]
    if assumed:
        out.append(
            '<p class="muted">Assumed (not in the task\'s <code>profile:</code>): '
            + ", ".join(assumed)
            + ".</p>"
        )
    return "".join(out)


def _costs_section(ev: Mapping[str, Any], systems: list[dict]) -> str:
    """Expected cost per 1,000 calls of every system, the thresholds, the costly confusions."""
    costs = ev.get("costs") or {}
    unit = escape(str(costs.get("unit", "")))

    def money(value: Any) -> str:
        return DASH if value is None else f"{float(value):,.2f}"

    rows = []
    for system in systems:
        cost = (system.get("metrics") or {}).get("cost")
        if not cost:
            continue
        threshold = cost.get("cost_threshold")
        coverage = cost.get("coverage_at_cost_threshold")
        rows.append(
            f"<tr><td>{escape(str(system.get('name')))}</td>"
            f'<td class="num">{money(cost.get("per_1k_answer_all"))}</td>'
            f'<td class="num">{money(cost.get("per_1k_at_target"))}</td>'
            f'<td class="num">{DASH if threshold is None else f"{threshold:.3f}"}</td>'
            f'<td class="num">{_pct(coverage)}</td>'
            f'<td class="num">{money(cost.get("per_1k_at_cost_threshold"))}</td></tr>'
        )
    lead = (
        f"<p>Expected cost per 1,000 calls on the test split, in {unit}: a mistake costs what the "
        f"task declares (unlisted mistakes {escape(str(costs.get('default')))}), a human review "
        f"of an abstained call {escape(str(costs.get('review')))}. The cost-optimal threshold is "
        "chosen on validation, like the target-precision one, and only measured here.</p>"
    )
    table = (
        '<div class="scroll"><table><thead><tr><th>System</th><th class="num">answer all</th>'
        '<th class="num">target-precision threshold</th><th class="num">cost-optimal threshold'
        '</th><th class="num">its coverage</th><th class="num">at cost-optimal threshold</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )
    cheapest = costs.get("cheapest")
    if cheapest:
        table += (
            f"<p>Cheapest on test: <strong>{escape(str(cheapest['system']))}</strong> "
            f"({escape(str(cheapest['setting']))}): {money(cheapest['per_1k'])} "
            "per 1,000 calls.</p>"
        )
    confusions = costs.get("confusions") or []
    if confusions:
        body = "".join(
            f"<tr><td>{escape(str(c['gold']))}</td><td>{escape(str(c['predicted']))}</td>"
            f'<td class="num">{c["count"]}</td><td class="num">{money(c["cost_each"])}</td>'
            f'<td class="num">{money(c["per_1k"])}</td></tr>'
            for c in confusions
        )
        table += (
            "<p>The fine-tuned model's most expensive mistakes (answered calls only):</p>"
            "<table><thead><tr><th>gold</th><th>predicted</th><th class='num'>count</th>"
            "<th class='num'>cost each</th><th class='num'>per 1,000 calls</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    notes = "".join(f"<li>{escape(str(n))}</li>" for n in costs.get("notes") or [])
    return lead + table + (f"<ul>{notes}</ul>" if notes else "")


def _systems_table(ev: dict[str, Any], systems: list[dict]) -> str:
    if not systems:
        return '<p class="muted">No systems were evaluated.</p>'
    multi = bool(ev.get("multi_label"))
    target = ev.get("target_precision")
    if target is None:
        target = next(
            (
                s["metrics"]["abstention"].get("target_precision")
                for s in systems
                if (s.get("metrics") or {}).get("abstention")
            ),
            None,
        )
    coverage_head = f"Coverage at {_pct(target)} target precision" if target else "Coverage kept"
    columns: list[tuple[str, bool]] = [
        ("System", False),
        ("Role", False),
        ("Accuracy (exact set)" if multi else "Accuracy", True),
    ]
    if multi:
        columns.append(("Micro-F1", True))
    columns += [
        ("Macro-F1", True),
        ("ECE", True),
        (coverage_head, True),
        ("Precision of kept", True),
        ("p50 ms", True),
        ("p95 ms", True),
        ("Throughput /s", True),
        ("Cost per 1,000 calls", True),
        ("Train s", True),
    ]
    rows = []
    for system in systems:
        m = system.get("metrics") or {}
        lat = system.get("latency") or {}
        abstention = m.get("abstention") or {}
        cells = [
            f"{escape(str(system.get('name') or DASH))}"
            + (
                f'<br><span class="muted">{escape(str(system["description"]))}</span>'
                if system.get("description")
                else ""
            ),
            escape(str(system.get("role") or DASH)),
            _pct(m.get("accuracy")),
        ]
        if multi:
            cells.append(_pct(m.get("micro_f1")))
        cells += [
            _pct(m.get("macro_f1")),
            _pct(m.get("ece")),
            _pct(abstention.get("coverage")),
            _pct(abstention.get("precision_kept")),
            _ms(lat.get("p50_ms")),
            _ms(lat.get("p95_ms")),
            _rate(lat.get("throughput_per_s")),
            _usd(lat.get("cost_per_1k_usd")),
            _seconds(system.get("train_seconds")),
        ]
        klass = ' class="fine-tuned"' if system.get("role") == "fine-tuned" else ""
        tds = "".join(
            f'<td class="num">{c}</td>' if numeric else f"<td>{c}</td>"
            for c, (_, numeric) in zip(cells, columns, strict=True)
        )
        rows.append(f"<tr{klass}>{tds}</tr>")
    head = "".join(
        f'<th class="num">{escape(name)}</th>' if numeric else f"<th>{escape(name)}</th>"
        for name, numeric in columns
    )
    note = (
        '<p class="muted">Coverage is the share of test examples kept (not handed to a human) at '
        "the confidence threshold chosen on validation data for the target precision; "
        f"{DASH} means the system has no abstention threshold. Cost assumes the machine is rented "
        "and kept busy at the measured throughput.</p>"
    )
    return (
        f'<div class="scroll"><table class="systems">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + f"\n</tbody></table></div>\n{note}"
    )


def _coverage_section(ev: dict[str, Any], systems: list[dict], fine_tuned: dict | None) -> str:
    if not any((s.get("metrics") or {}).get("coverage_curve") for s in systems):
        return '<p class="muted">No coverage curves in this evaluation.</p>'
    svg = _svg(_coverage_figure(systems, fine_tuned, ev.get("target_precision")), "coverage")
    return (
        f"<figure>{svg}<figcaption>Accuracy of the predictions each system keeps when it answers "
        "only its most confident share of the test set. The star marks the fine-tuned model's "
        "shipped abstention threshold.</figcaption></figure>"
    )


def _reliability_section(fine_tuned: dict | None) -> str:
    metrics = (fine_tuned or {}).get("metrics") or {}
    if not metrics.get("reliability"):
        return '<p class="muted">No reliability table for the fine-tuned model.</p>'
    svg = _svg(_reliability_figure(metrics), "reliability")
    return (
        f"<figure>{svg}<figcaption>Accuracy within each confidence bin of the fine-tuned model; "
        "bars on the diagonal mean its confidence can be taken at face value.</figcaption></figure>"
    )


def _confusion_section(fine_tuned: dict | None) -> str:
    confusion = ((fine_tuned or {}).get("metrics") or {}).get("confusion")
    if not confusion or not confusion.get("labels"):
        return '<p class="muted">No confusion matrix for the fine-tuned model.</p>'
    svg = _svg(_confusion_figure(confusion), "confusion")
    # Shown at its natural size (scrolling if wider than the page) so tick labels keep their
    # point size instead of being scaled down with the figure.
    return (
        f'<figure class="natural"><div class="scroll">{svg}</div>'
        "<figcaption>Rows are gold labels, columns predicted labels; colour is the share of "
        "each gold row, so small classes stay visible.</figcaption></figure>"
    )


def _per_class_section(fine_tuned: dict | None) -> str:
    metrics = (fine_tuned or {}).get("metrics") or {}
    per_class = metrics.get("per_class") or {}
    if not per_class:
        return '<p class="muted">No per-class results for the fine-tuned model.</p>'
    mistaken = _most_mistaken_for(metrics.get("confusion"))
    order = sorted(
        per_class.items(),
        key=lambda kv: (_num(kv[1].get("f1"), 0.0), -_num(kv[1].get("support"), 0)),
    )
    rows = []
    for label, row in order:
        cells = [
            f"<td>{escape(str(label))}</td>",
            f'<td class="num">{_pct(row.get("precision"))}</td>',
            f'<td class="num">{_pct(row.get("recall"))}</td>',
            f'<td class="num">{_pct(row.get("f1"))}</td>',
            f'<td class="num">{_int(row.get("support"))}</td>',
        ]
        if mistaken is not None:
            other = mistaken.get(str(label))
            cells.append(f"<td>{escape(f'{other[0]} ({other[1]})') if other else DASH}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    extra = "<th>Most often predicted instead</th>" if mistaken is not None else ""
    return (
        '<div class="scroll"><table>\n<thead><tr><th>Label</th><th class="num">Precision</th>'
        '<th class="num">Recall</th><th class="num">F1</th><th class="num">Support</th>'
        f"{extra}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table></div>"
    )


def _errors_section(ev: dict[str, Any]) -> str:
    errors = list(ev.get("errors") or [])
    if not errors:
        return '<p class="muted">No errors on the test split were recorded.</p>'
    rows = []
    for err in errors:
        abstain = err.get("abstain")
        rows.append(
            "<tr>"
            f'<td class="text">{escape(str(err.get("text", "")))}</td>'
            f"<td>{_labels(err.get('gold'))}</td>"
            f"<td>{_labels(err.get('predicted'))}</td>"
            f'<td class="num">{_prob(err.get("confidence"))}</td>'
            f"<td>{DASH if abstain is None else ('yes' if abstain else 'no')}</td>"
            "</tr>"
        )
    return (
        f'<p class="muted">Misclassified test examples from the fine-tuned model (showing '
        f"{len(errors)}). "
        "&ldquo;Abstained&rdquo; means the confidence was below the threshold, so in production "
        "the example would have gone to a human instead.</p>\n"
        '<div class="scroll"><table>\n<thead><tr><th>Text</th><th>Gold</th><th>Predicted</th>'
        '<th class="num">Confidence</th><th>Abstained</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


# ----------------------------------------------------------------------------------------------
# Plots (object-oriented matplotlib: no pyplot, so no global backend or figure registry touched)
# ----------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Figure, name: str) -> str:
    """Serialise a figure to a deterministic, inline-ready SVG fragment."""
    import matplotlib

    buffer = io.BytesIO()
    # A per-figure salt keeps element ids stable across runs and distinct between the plots that
    # share one HTML document; text stays text, so the SVG is small and uses the page's fonts.
    with matplotlib.rc_context(
        {"svg.hashsalt": f"narrowtune-{name}", "svg.fonttype": "none", "svg.image_inline": True}
    ):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.DOTALL)
    return text.strip()


def _coverage_figure(systems: list[dict], fine_tuned: dict | None, target: float | None) -> Figure:
    fig = _new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    baseline_index = 0
    for system in systems:
        curve = (system.get("metrics") or {}).get("coverage_curve") or []
        if not curve:
            continue
        xs = [float(p["coverage"]) * 100 for p in curve]
        ys = [float(p["accuracy"]) * 100 for p in curve]
        if system is fine_tuned:
            color, style, width, z = FINE_TUNED_COLOR, "-", 2.4, 3
        else:
            color, style = BASELINE_STYLES[baseline_index % len(BASELINE_STYLES)]
            width, z = 1.6, 2
            baseline_index += 1
        ax.plot(
            xs,
            ys,
            color=color,
            linestyle=style,
            linewidth=width,
            zorder=z,
            label=_plain(system.get("name") or "system"),
        )
    if target:
        ax.axhline(
            float(target) * 100,
            color="#c62828",
            linewidth=1.0,
            linestyle=(0, (2, 2)),
            alpha=0.7,
            zorder=1,
            label=f"target precision {float(target) * 100:.1f}%",
        )
    abstention = ((fine_tuned or {}).get("metrics") or {}).get("abstention") or {}
    point = _abstention_point(fine_tuned, abstention)
    if point is not None:
        ax.plot(
            [point[0]],
            [point[1]],
            marker="*",
            markersize=15,
            color=FINE_TUNED_COLOR,
            markeredgecolor="white",
            zorder=4,
            linestyle="none",
            label=f"shipped threshold {float(abstention['threshold']):.2f}"
            if abstention.get("threshold") is not None
            else "shipped threshold",
        )
    ax.set_xlabel("coverage: share of test examples answered (%)")
    ax.set_ylabel("accuracy of answered (%)")
    ax.set_xlim(0, 100)
    lows = [
        float(p["accuracy"]) * 100
        for s in systems
        for p in (s.get("metrics") or {}).get("coverage_curve") or []
    ]
    ax.set_ylim(max(0.0, min(lows, default=0.0) - 5), 101)
    ax.grid(True, color="#e3e7eb", linewidth=0.7)
    # Below the axes: inside, it would hide the low-coverage end of some curve.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    _tidy(ax)
    return fig


def _reliability_figure(metrics: dict[str, Any]) -> Figure:
    fig = _new_figure(5.2, 4.4)
    ax = fig.add_subplot()
    bins = metrics["reliability"]
    lowers = [float(b["lower"]) for b in bins]
    widths = [float(b["upper"]) - float(b["lower"]) for b in bins]
    accs = [float(b["accuracy"]) for b in bins]
    ax.bar(
        lowers,
        accs,
        width=widths,
        align="edge",
        color=FINE_TUNED_COLOR,
        alpha=0.85,
        edgecolor="white",
        linewidth=0.8,
        label="accuracy in bin",
    )
    confs = [float(b["confidence"]) for b in bins]
    ax.plot(
        confs,
        accs,
        linestyle="none",
        marker="o",
        markersize=3,
        color="#1d232a",
        label="(mean confidence, accuracy)",
    )
    ax.plot([0, 1], [0, 1], color="#c62828", linestyle="--", linewidth=1.1, label="perfect")
    for lower, width, acc, b in zip(lowers, widths, accs, bins, strict=True):
        ax.text(
            lower + width / 2,
            min(acc + 0.015, 1.0),
            str(int(b.get("count", 0))),
            ha="center",
            va="bottom",
            fontsize=6.5,
            color="#5b6670",
        )
    ece = metrics.get("ece")
    ax.set_title(
        f"Reliability — ECE {_pct(ece)}" if ece is not None else "Reliability", fontsize=11
    )
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.06)
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    _tidy(ax)
    return fig


def _confusion_figure(confusion: dict[str, Any]) -> Figure:
    labels = [str(x) for x in confusion["labels"]]
    matrix = [[int(v) for v in row] for row in confusion["matrix"]]
    n = len(labels)
    # Each cell gets a fixed pitch, so the figure grows with the label count and 80 labels keep
    # a readable tick each; the font follows the pitch (never below 5 pt, never above 9 pt).
    matrix_in = min(max(0.17 * n, 3.0), 24.0)
    pitch_pt = matrix_in * 72 / max(n, 1)
    tick_size = max(5.0, min(9.0, 0.6 * pitch_pt))
    short = [_plain(_shorten(label, 28)) for label in labels]
    label_in = max((len(label) for label in short), default=0) * tick_size * 0.6 / 72
    fig = _new_figure(matrix_in + label_in + 1.8, matrix_in + label_in + 0.8)
    ax = fig.add_subplot()
    shares = []
    for row in matrix:
        total = sum(row)
        shares.append([v / total if total else 0.0 for v in row])
    image = ax.imshow(
        shares, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal"
    )
    colorbar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
    colorbar.set_label("share of gold row", fontsize=8)
    colorbar.ax.tick_params(labelsize=7)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(
        short,
        rotation=90 if n > 8 else 45,
        ha="center" if n > 8 else "right",
        rotation_mode="default" if n > 8 else "anchor",
        fontsize=tick_size,
    )
    ax.set_yticklabels(short, fontsize=tick_size)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    if n <= CONFUSION_ANNOTATE_MAX:
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if value:
                    ax.text(
                        j,
                        i,
                        str(value),
                        ha="center",
                        va="center",
                        fontsize=max(5.0, tick_size - 1),
                        color="white" if shares[i][j] > 0.55 else "#1d232a",
                    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _fine_tuned(systems: list[dict]) -> dict | None:
    for system in systems:
        if system.get("role") == "fine-tuned":
            return system
    return systems[0] if systems else None


def _margin(ev: dict[str, Any], systems: list[dict], fine_tuned: dict | None) -> dict | None:
    """The evaluation's own margin when present; otherwise measured here from the systems."""
    if ev.get("margin") and ev["margin"].get("delta") is not None:
        return ev["margin"]
    if fine_tuned is None:
        return None
    metric = ev.get("primary_metric") or "accuracy"
    ft_value = (fine_tuned.get("metrics") or {}).get(metric)
    scored = [
        (s["metrics"][metric], s.get("name"))
        for s in systems
        if s is not fine_tuned and (s.get("metrics") or {}).get(metric) is not None
    ]
    if ft_value is None or not scored:
        return {
            "metric": metric,
            "fine_tuned": ft_value,
            "best_baseline": None,
            "best_baseline_value": None,
            "delta": None,
        }
    value, name = max(scored, key=lambda pair: pair[0])
    return {
        "metric": metric,
        "fine_tuned": ft_value,
        "best_baseline": name,
        "best_baseline_value": value,
        "delta": ft_value - value,
    }


def _abstention_point(fine_tuned: dict | None, abstention: dict) -> tuple[float, float] | None:
    coverage = abstention.get("coverage")
    if coverage is None:
        return None
    precision = abstention.get("precision_kept")
    if precision is None:
        curve = ((fine_tuned or {}).get("metrics") or {}).get("coverage_curve") or []
        if not curve:
            return None
        nearest = min(curve, key=lambda p: abs(float(p["coverage"]) - float(coverage)))
        precision = nearest["accuracy"]
    return float(coverage) * 100, float(precision) * 100


def _most_mistaken_for(confusion: dict | None) -> dict[str, tuple[str, int]] | None:
    if not confusion or not confusion.get("labels"):
        return None
    labels = [str(x) for x in confusion["labels"]]
    out: dict[str, tuple[str, int]] = {}
    for i, row in enumerate(confusion["matrix"]):
        best = max(((int(v), j) for j, v in enumerate(row) if j != i and int(v) > 0), default=None)
        if best is not None:
            out[labels[i]] = (labels[best[1]], best[0])
    return out


def _tidy(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def _plain(text: object) -> str:
    """Text for a matplotlib label: `$` would otherwise start mathtext and can raise."""
    return str(text).replace("$", r"\$")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _labels(value: object) -> str:
    if value is None:
        return DASH
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Iterable):
        items = [escape(str(v)) for v in value]
        return ", ".join(items) if items else "<em>(none)</em>"
    return escape(str(value))


def _num(value: object, default: float) -> float:
    if isinstance(value, int | float) and not math.isnan(value):
        return float(value)
    return default


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if math.isnan(value):
        return None
    return float(value)


def _pct(value: object) -> str:
    v = _finite(value)
    return DASH if v is None else f"{v * 100:.1f}%"


def _prob(value: object) -> str:
    v = _finite(value)
    return DASH if v is None else f"{v:.2f}"


def _ms(value: object) -> str:
    v = _finite(value)
    return DASH if v is None else f"{v:,.1f}"


def _seconds(value: object) -> str:
    v = _finite(value)
    return DASH if v is None else f"{v:,.1f}"


def _rate(value: object) -> str:
    v = _finite(value)
    if v is None:
        return DASH
    if math.isinf(v):
        return "∞"
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}"


def _usd(value: object) -> str:
    v = _finite(value)
    if v is None or math.isinf(v):
        return DASH
    if v == 0:
        return "$0"
    # Local models cost fractions of a cent per 1,000 calls; two significant figures keep that
    # visible instead of rounding it to $0.00.
    return f"${v:,.2f}" if v >= 0.01 else f"${v:.2g}"


def _int(value: object) -> str:
    v = _finite(value)
    return DASH if v is None else f"{int(v):,}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("narrowtune")
    except PackageNotFoundError:
        return "(unknown version)"
