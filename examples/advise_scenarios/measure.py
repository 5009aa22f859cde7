"""The measurement behind each scenario's expected decision (make_scenarios.SCENARIOS).

`justify(name, folder, advice)` measures, on the scenario's own files, what its expected
decision rests on, and says whether the measurement confirms it. Where the measurement is one
the advisor also takes (the frozen-embedding probe vs zero-shot on validation, the break-even
volume from measured throughput and prompt tokens, label counts), it is read from the advice;
the rest is measured here, independently of the advisor's rules:
- unseen facts: share of test questions quoting a fee figure that no training text quotes;
- labels still changing: labels of the newest fifth of the rows that the oldest three fifths
  never use;
- noisy labels: a frozen-embedding probe trained on the clean labels the generator knows
  (`clean_label`), scored on held-out rows against those clean labels and against the labels
  as given: the gap is how far any score measured on the given labels is off;
- too little to decide: validation / test rows, and how far one test row moves accuracy.
Used by benchmarks/advise_scenarios.py and tests/test_advise_scenarios.py.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

FEE = re.compile(r"\d+\.\d+%")
PROBE_MARGIN = 0.02  # probe over zero-shot, on validation, that makes training worth it
FEW_ROWS = 30


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _probe_and_volume(advice: Any) -> tuple[bool, str]:
    scores = advice.signals.get("baselines_validation_accuracy") or {}
    probe = scores.get("frozen embeddings + logistic regression", float("nan"))
    zero = scores.get("zero-shot similarity", float("nan"))
    breakeven = advice.options["break_even_calls_per_day"]
    volume = advice.assumptions["volume_per_day"]["value"]
    ok = probe - zero >= PROBE_MARGIN and volume >= breakeven
    return ok, (
        f"probe {100 * probe:.1f}% vs zero-shot {100 * zero:.1f}% on validation; "
        f"{volume:,.0f} calls/day vs break-even {breakeven:,.0f} (measured prompt tokens)"
    )


def unseen_facts(folder: Path) -> float:
    """Share of test questions quoting a fee figure no training text quotes."""
    seen = {f for r in _rows(folder / "data.csv") for f in FEE.findall(r["text"])}
    quoting = [FEE.findall(r["text"]) for r in _rows(folder / "test.csv")]
    quoting = [q for q in quoting if q]
    return sum(any(f not in seen for f in q) for q in quoting) / max(len(quoting), 1)


def late_labels(folder: Path) -> list[str]:
    """Labels of the newest fifth of data.csv (rows are in time order) that the oldest three
    fifths never use."""
    rows = _rows(folder / "data.csv")
    older = {r["label"] for r in rows[: len(rows) * 3 // 5]}
    return sorted({r["label"] for r in rows[len(rows) * 4 // 5 :]} - older)


def noisy_vs_clean(folder: Path, seed: int = 7) -> tuple[float, float]:
    """Accuracy of a frozen-embedding probe trained on the clean labels, on held-out rows (a
    seeded fifth of the distinct texts, every row of them), against the labels as given and
    against the clean labels."""
    import random

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from narrowtune.encoders import Encoder

    rows = _rows(folder / "data.csv")
    texts = sorted({r["text"] for r in rows})
    random.Random(seed).shuffle(texts)
    held = set(texts[: len(texts) // 5])
    train = [r for r in rows if r["text"] not in held]
    scored = [r for r in rows if r["text"] in held]
    encoder = Encoder.from_pretrained("all-MiniLM-L6-v2")
    probe = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    probe.fit(encoder.encode([r["text"] for r in train]), [r["clean_label"] for r in train])
    predicted = probe.predict(encoder.encode([r["text"] for r in scored]))
    given = float(np.mean(predicted == np.array([r["label"] for r in scored])))
    clean = float(np.mean(predicted == np.array([r["clean_label"] for r in scored])))
    return given, clean


def justify(name: str, folder: Path, advice: Any) -> dict[str, Any]:
    """{"confirmed": bool, "measurement": str} for the scenario's expected decision."""
    signals = advice.signals
    if name in ("router_20_high_volume", "router_12_high_volume"):
        ok, text = _probe_and_volume(advice)
        return {"confirmed": ok, "measurement": text}
    if name == "router_8_low_volume":
        breakeven = advice.options["break_even_calls_per_day"]
        volume = advice.assumptions["volume_per_day"]["value"]
        return {
            "confirmed": volume < breakeven,
            "measurement": f"{volume:,.0f} calls/day vs break-even {breakeven:,.0f} "
            "(measured prompt tokens)",
        }
    if name == "thin_labels_30_intents":
        median = signals["per_label_median"]
        return {
            "confirmed": median < 8,
            "measurement": f"median {median:g} training examples per intent",
        }
    if name == "fee_policy_weekly":
        share = unseen_facts(folder)
        return {
            "confirmed": share >= 0.5,
            "measurement": f"{100 * share:.0f}% of test questions quote a fee never in training",
        }
    if name == "fee_router_daily":
        share = unseen_facts(folder)
        ok, text = _probe_and_volume(advice)
        return {
            "confirmed": share >= 0.5 and ok,
            "measurement": f"{100 * share:.0f}% of test questions quote an unseen fee; {text}",
        }
    if name == "payout_approval_multistep":
        ok, text = _probe_and_volume(advice)
        return {"confirmed": ok, "measurement": f"multi_step (profile); routing step: {text}"}
    if name == "router_labels_changing":
        late = late_labels(folder)
        return {
            "confirmed": bool(late),
            "measurement": f"{len(late)} labels appear only in the newest fifth: {', '.join(late)}",
        }
    if name in ("noisy_labels_router", "noisy_two_intents"):
        given, clean = noisy_vs_clean(folder)
        consistency = signals["label_consistency"]
        return {
            "confirmed": consistency < 0.95 and clean - given >= 0.05,
            "measurement": f"{100 * consistency:.1f}% of rows free of conflicting labels; a "
            f"clean-trained probe scores {100 * clean:.1f}% on clean labels but "
            f"{100 * given:.1f}% on the labels as given",
        }
    if name in ("starter_tiny", "small_high_risk"):
        val, test = signals["validation"], signals["test"]
        return {
            "confirmed": val < FEW_ROWS or test < FEW_ROWS,
            "measurement": f"{val} validation and {test} test rows: one test row moves accuracy "
            f"by {100 / max(test, 1):.1f} points",
        }
    raise KeyError(name)
