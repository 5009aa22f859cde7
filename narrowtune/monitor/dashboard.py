"""The offline HTML dashboard of a monitoring report: one self-contained file, the plots as
inline SVG drawn by matplotlib (no script, no CDN), every text escaped."""

from __future__ import annotations

import html
import io
from typing import Any

TITLES = {
    "input": "input drift (MMD, permutation p)",
    "labels": "predicted-label drift (chi-square p)",
    "confidence": "lower confidence (Mann-Whitney p)",
    "abstention": "more abstentions (Fisher p)",
    "new_cluster": "far-from-training texts (binomial p)",
}


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def _plots(report: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = list(report["days"])
    if not days:
        return []
    out = []
    x = list(range(len(days)))
    ticks = (x, [d[5:] for d in days])
    alpha = report["alpha"]

    figure, axis = plt.subplots(figsize=(8, 3.2))
    for name in ("input", "labels", "confidence", "abstention", "new_cluster"):
        values = [report["days"][d]["tests"][name]["p_value"] for d in days]
        points = [(i, max(v, 1e-4)) for i, v in zip(x, values) if v is not None]
        if points:
            axis.plot(*zip(*points), marker="o", label=TITLES[name].split(" (")[0])
    axis.axhline(alpha, color="red", linestyle="--", label=f"alpha = {alpha}")
    axis.set_yscale("log")
    axis.set_ylabel("p-value (log)")
    axis.set_xticks(*ticks, rotation=45, fontsize=7)
    axis.legend(fontsize=7, loc="lower left")
    out.append(("Drift tests per day (below the red line: significant)", _svg(figure)))

    figure, axis = plt.subplots(figsize=(8, 3.2))
    for key, label in (
        ("abstention_rate", "abstention rate"),
        ("mean_confidence", "mean confidence"),
        ("far_rate", "far-from-training rate"),
    ):
        values = [report["days"][d][key] for d in days]
        axis.plot(
            x, [v if v is not None else float("nan") for v in values], marker="o", label=label
        )
    axis.set_ylim(0, 1)
    axis.set_xticks(*ticks, rotation=45, fontsize=7)
    axis.legend(fontsize=7)
    out.append(("Confidence, abstention and far-from-training rate per day", _svg(figure)))

    labels = sorted({k for d in days for k in report["days"][d]["label_counts"]})
    figure, axis = plt.subplots(figsize=(8, 3.6))
    bottom = [0.0] * len(days)
    for label in labels:
        shares = []
        for d in days:
            counts = report["days"][d]["label_counts"]
            shares.append(counts.get(label, 0) / max(1, sum(counts.values())))
        axis.bar(x, shares, bottom=bottom, label=label)
        bottom = [b + s for b, s in zip(bottom, shares)]
    axis.set_ylabel("share of predictions")
    axis.set_xticks(*ticks, rotation=45, fontsize=7)
    axis.legend(fontsize=6, ncol=3, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    out.append(("Predicted labels per day", _svg(figure)))

    reviews = report["reviews"]["per_day"]
    if reviews:
        figure, axis = plt.subplots(figsize=(8, 3.2))
        review_days = list(reviews)
        rx = list(range(len(review_days)))
        for label in sorted({k for d in review_days for k in reviews[d]}):
            values = [reviews[d].get(label, {}).get("accuracy", float("nan")) for d in review_days]
            axis.plot(rx, values, marker="o", label=label)
        axis.set_ylim(-0.05, 1.05)
        axis.set_ylabel("reviewer-confirmed accuracy")
        axis.set_xticks(rx, [d[5:] for d in review_days], rotation=45, fontsize=7)
        axis.legend(fontsize=6, ncol=3, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        out.append(("Accuracy per predicted label from reviewer decisions", _svg(figure)))
    return out


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def dashboard_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page."""
    e = html.escape
    window = report["window"]
    verdict = (
        "Retrain recommended: " + "; ".join(window["reasons"])
        if report["retrain_recommended"]
        else "No drift found at alpha = " + str(report["alpha"])
    )
    rows = "".join(
        f"<tr><td>{e(TITLES[name])}</td><td>{_p(t['p_value'])}</td>"
        f"<td>{'yes' if t['significant'] else 'no'}</td>"
        f"<td>{e(t.get('skipped') or t.get('note') or '')}</td></tr>"
        for name, t in window["tests"].items()
    )
    clusters = "".join(
        f"<li><b>{c['size']} texts</b> ({c['distinct_texts']} distinct), predicted as "
        f"{e(c['predicted_as'])} "
        f"(mean confidence {c['mean_confidence']}):<ul>"
        + "".join(f"<li>{e(x)}</li>" for x in c["examples"])
        + "</ul></li>"
        for c in window["clusters"]
    )
    reviews = "".join(
        f"<tr><td>{e(label)}</td><td>{v['right']}/{v['reviewed']}</td><td>{v['accuracy']:.0%}</td></tr>"
        for label, v in report["reviews"]["per_label"].items()
    )
    ref = report["reference"]
    colour = "#fde2e1" if report["retrain_recommended"] else "#e3f6e3"
    review_table = (
        "<table><tr><th>predicted label</th><th>confirmed</th><th>accuracy</th></tr>"
        f"{reviews}</table>"
        if reviews
        else "<p>No decisions in this window.</p>"
    )
    plots = "".join(
        f"<h2>{e(title)}</h2><div class='plot'>{svg}</div>" for title, svg in _plots(report)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>narrowtune monitor: {e(report["task"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3em .6em; }}
.verdict {{ padding: .8em; background: {colour}; }}
.plot svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>Monitoring {e(report["task"])}</h1>
<p>Run {e(report["run_id"])}; window {e(str(report["since"]))} to {e(report["until"])};
{window["n"]} predictions. Reference: {ref["training_texts"]} training texts
({ref["sampled"]} sampled for MMD) and the run's {ref["validation_predictions"]}
predictions on the validation split.</p>
<p class="verdict">{e(verdict)}</p>
<h2>Tests on the whole window</h2>
<table><tr><th>test</th><th>p</th><th>significant</th><th>note</th></tr>{rows}</table>
<p>Abstention rate {_p(window["abstention_rate"])}
(validation {_p(ref["validation_abstention_rate"])});
mean confidence {_p(window["mean_confidence"])}
(validation {_p(ref["validation_mean_confidence"])});
far-from-training rate {_p(window["far_rate"])} (expected about 0.05).</p>
<h2>New clusters (texts far from every training text)</h2>
{f"<ul>{clusters}</ul>" if clusters else "<p>None.</p>"}
<h2>Reviewer decisions (reviewed items only)</h2>
{review_table}
{plots}
</body></html>
"""
