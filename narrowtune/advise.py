"""`narrowtune advise`: fine-tune, prompt, retrieve or orchestrate — decided from measurements.

The task's `profile:` says what cannot be measured (volume, latency budget, how often facts
change, risk, whether the process is settled, prices); every value it does not give is printed
as an assumption. Measured here, on the task's own data and this machine:
- examples per label and label consistency (the fast audit's conflicting labels);
- a learning curve at 10/25/50/100% of the training data (frozen embeddings + logistic
  regression, the probe every fine-tune starts from, scored on validation): is more data
  still helping?
- the cheap alternatives on validation: zero-shot similarity, frozen embeddings + LR, TF-IDF + LR;
- the newest evaluated run, when there is one: the fine-tuned margin and its interval, costs;
- the small model's throughput and latency on this machine, and the prompt's length in tokens
  (for the cost per 1,000 calls of each option and the break-even volume);
- with NARROWTUNE_LLM_BASE_URL set, the prompted LLM on a sample of validation rows: its
  accuracy, its latency and how often its answer breaks the asked-for format;
- how much of the traffic quotes facts the training data cannot hold: of the validation texts
  quoting a figure (a percentage, a price, a decimal), the share quoting one no training text
  quotes (evidence beside the profile's `facts_change`; it does not decide alone).
The decision rules are in `decide` and in README.md ("Deciding with `advise`").
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from narrowtune import runs
from narrowtune.errors import NarrowtuneError
from narrowtune.progress import ProgressFn
from narrowtune.task import Task

CURVE_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
FEW_PER_LABEL = 8  # below this median per label, a trained model has too little to learn from
ENOUGH_PER_LABEL = 20  # at or above, fine-tuning has the labelled examples it needs
# Kinds without labels (extract, generate): each training row is one worked example of the job.
FEW_EXAMPLES = 50
ENOUGH_EXAMPLES = 200
CONSISTENT = 0.95  # share of training rows without a conflicting label
STILL_LEARNING = 0.01  # accuracy gained from 50% to 100% of the data that means "more helps"
FEW_EVAL = 30  # fewer validation rows than this: measure more before deciding
OUTPUT_TOKENS = 8  # a label name answered by a prompted LLM
LLM_SAMPLE = 20  # validation rows the prompted-LLM probe asks about, when an endpoint is set
UNSTABLE_FORMAT = 0.1  # share of answers that are not exactly a label name: prompting is unstable
HOURS_PER_MONTH = 24 * 30
FIX_DATA = "fix data first"
MEASURE_MORE = "measure more before deciding"
DECISIONS = (
    "fine-tune",
    "prompt",
    "retrieve",
    "fine-tuned router + retrieve",
    "orchestrate",
    "orchestrate + fine-tuned step",
    FIX_DATA,
    MEASURE_MORE,
)


@dataclass
class Criterion:
    """One fit or avoid criterion: met or not (None: not measured), and the measurement."""

    name: str
    met: bool | None
    evidence: str
    favours: str  # the option it argues for (or against, when `met` is False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "met": self.met,
            "evidence": self.evidence,
            "favours": self.favours,
        }


@dataclass
class Advice:
    task: str
    decision: str
    reasons: list[str]
    criteria: list[Criterion]
    measure_first: list[str]
    assumptions: dict[str, Any]
    signals: dict[str, Any]
    options: dict[str, dict[str, Any]]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "decision": self.decision,
            "reasons": self.reasons,
            "criteria": [c.to_dict() for c in self.criteria],
            "measure_first": self.measure_first,
            "assumptions": self.assumptions,
            "signals": self.signals,
            "options": self.options,
            "seconds": round(self.seconds, 2),
            "notes": self.notes,
        }


# ----------------------------------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------------------------------


FIGURE = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\d+(?:\.\d+)?\s?%|\d+\.\d+")


def unseen_figures(splits: Any) -> dict[str, Any]:
    """Of the validation texts that quote a figure (a percentage, a price, a decimal), the share
    quoting one that no training text quotes: facts the training data cannot hold."""
    seen = {f for ex in splits.train for f in FIGURE.findall(ex.text)}
    quoting = [FIGURE.findall(ex.text) for ex in splits.validation]
    quoting = [q for q in quoting if q]
    unseen = sum(any(f not in seen for f in q) for q in quoting)
    return {
        "texts_quoting_figures": len(quoting),
        "share_unseen": unseen / len(quoting) if quoting else None,
    }


def _label_signals(task: Task, splits: Any) -> dict[str, Any]:
    from narrowtune.data.audit import audit as run_audit

    counts: dict[str, int] = {}
    for ex in splits.train:
        for name in ex.labels:
            counts[name] = counts.get(name, 0) + 1
    report = run_audit(task, fast=True, checks=["conflicting_labels"])
    conflicting = {row for f in report.by_check("conflicting_labels") for row in f.rows}
    rows = max(len(splits.train) + len(splits.validation) + len(splits.test), 1)
    return {
        "labels": len(counts),
        "train": len(splits.train),
        "validation": len(splits.validation),
        "test": len(splits.test),
        "per_label_min": min(counts.values()) if counts else 0,
        "per_label_median": float(np.median(list(counts.values()))) if counts else 0.0,
        "label_consistency": 1.0 - len(conflicting) / rows,
    }


def _accuracy(predicted: list[Any], examples: list[Any]) -> float:
    from narrowtune.data.labels import is_correct

    return float(is_correct(predicted, examples).mean()) if examples else float("nan")


def _baselines_and_curve(
    task: Task, splits: Any, progress: ProgressFn | None
) -> tuple[dict[str, float], list[dict[str, float]], dict[str, float]]:
    """Validation accuracy of the cheap alternatives, the learning curve, and the encoder's
    throughput and latency on this machine."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from narrowtune.encoders import Encoder
    from narrowtune.evaluate import baselines as bl

    labels = sorted({n for ex in splits.train for n in ex.labels})
    target = task.abstain.target_precision
    encoder = Encoder.from_pretrained(task.model.base, max_length=task.model.max_length)
    train_texts = [ex.text for ex in splits.train]
    train_emb = encoder.encode(train_texts, progress=progress)
    val_texts = [ex.text for ex in splits.validation]
    start = time.perf_counter()
    val_emb = encoder.encode(val_texts)
    batched = len(val_texts) / max(time.perf_counter() - start, 1e-9)
    single = []
    for text in val_texts[:20]:
        start = time.perf_counter()
        encoder.encode([text])
        single.append(1000 * (time.perf_counter() - start))
    speed = {
        "throughput_per_s": float(batched),
        "p50_ms": float(np.percentile(single, 50)) if single else float("nan"),
    }
    scores: dict[str, float] = {}
    zero = bl.zero_shot(
        encoder,
        labels,
        task.labels or {},
        val_emb,
        splits.validation,
        multi_label=task.multi_label,
        target_precision=target,
    )
    scores["zero-shot similarity"] = _accuracy(
        zero.decide(zero.predict_proba(val_emb))[0], splits.validation
    )
    if task.multi_label:  # the curve and TF-IDF probe are single-label
        return scores, [], speed
    curve = []
    rng = np.random.default_rng(task.seed)
    order = rng.permutation(len(splits.train))
    for fraction in CURVE_FRACTIONS:
        take = order[: max(len(labels), math.ceil(fraction * len(order)))]
        y = [splits.train[i].labels[0] for i in take]
        if len(set(y)) < 2:
            continue
        model = LogisticRegression(C=10.0, max_iter=2000, random_state=task.seed)
        model.fit(train_emb[take], y)
        accuracy = _accuracy(list(model.predict(val_emb)), splits.validation)
        curve.append({"fraction": fraction, "train": len(take), "accuracy": accuracy})
    if curve:
        scores["frozen embeddings + logistic regression"] = curve[-1]["accuracy"]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x = vectorizer.fit_transform(train_texts)
    tfidf = LogisticRegression(C=10.0, max_iter=2000, random_state=task.seed)
    tfidf.fit(x, [ex.labels[0] for ex in splits.train])
    scores["TF-IDF + logistic regression"] = _accuracy(
        list(tfidf.predict(vectorizer.transform(val_texts))), splits.validation
    )
    return scores, curve, speed


def fine_tune_curve(
    task: Task, splits: Any, *, minutes: float, progress: ProgressFn | None = None
) -> list[dict[str, float]]:
    """The learning curve of the fast fine-tune itself: the task's own trainer at 10/25/50/100%
    of the training rows (the same seeded order as the probe's curve), each capped at a quarter
    of `minutes` and one epoch, scored on validation accuracy."""
    labels = sorted({n for ex in splits.train for n in ex.labels})
    rng = np.random.default_rng(task.seed)
    order = rng.permutation(len(splits.train))
    fast = task.model_copy(deep=True)
    fast.train.epochs = 1
    fast.train.max_minutes = minutes / len(CURVE_FRACTIONS)
    texts = [ex.text for ex in splits.validation]
    curve = []
    for number, fraction in enumerate(CURVE_FRACTIONS):
        take = order[: max(len(labels), math.ceil(fraction * len(order)))]
        subset = [splits.train[i] for i in take]
        if len({n for ex in subset for n in ex.labels}) < 2:
            continue
        began = time.perf_counter()
        model = task.plugin.train(fast, subset, list(splits.validation))
        seconds = time.perf_counter() - began
        predicted = [p.label for p in model.predict(texts)]
        curve.append(
            {
                "fraction": fraction,
                "train": len(take),
                "accuracy": _accuracy(predicted, splits.validation),
                "seconds": seconds,
            }
        )
        if progress:
            progress("fine-tune curve", number + 1, len(CURVE_FRACTIONS))
    return curve


def _prompt_tokens(task: Task, splits: Any) -> float:
    """Mean tokens of the prompted-LLM baseline's prompt on validation texts (counted with the
    base encoder's tokenizer, as a stand-in for the LLM's), plus the answer."""
    from narrowtune.encoders import Encoder
    from narrowtune.evaluate.llm import classify_prompt

    encoder = Encoder.from_pretrained(task.model.base, max_length=100_000)
    labels = {
        n: (task.labels or {}).get(n, "")
        for n in sorted({x for e in splits.train for x in e.labels})
    }
    sample = splits.validation[:50]
    prompts = [
        "\n".join(m["content"] for m in classify_prompt(ex.text, labels, task.multi_label))
        for ex in sample
    ]
    lengths = [len(encoder.tokenizer(p)["input_ids"]) for p in prompts]  # type: ignore[operator]
    return float(np.mean(lengths)) + OUTPUT_TOKENS if lengths else float("nan")


def _llm_probe(task: Task, splits: Any) -> dict[str, Any] | None:
    """The prompted LLM on a sample of validation rows, when NARROWTUNE_LLM_BASE_URL names an
    OpenAI-compatible endpoint: accuracy, how often its answer is not exactly a label name (or a
    comma-separated list of them, multi-label) — the format instability a parser must absorb —
    and its latency. None without an endpoint; {"error": ...} when the endpoint fails."""
    from narrowtune.data.labels import is_correct
    from narrowtune.evaluate.llm import (
        Endpoint,
        LLMError,
        classify_prompt,
        complete,
        parse_labels,
    )

    endpoint = Endpoint.from_env()
    if endpoint is None:
        return None
    names = sorted({n for ex in splits.train for n in ex.labels})
    labels = {n: (task.labels or {}).get(n, "") for n in names}
    sample = list(splits.validation[:LLM_SAMPLE])
    answers, millis = [], []
    try:
        client = endpoint.client()
        model = endpoint.model_name(client)
        for ex in sample:
            start = time.perf_counter()
            prompt = classify_prompt(ex.text, labels, task.multi_label)
            answers.append(complete(client, model, prompt, max_tokens=24))
            millis.append(1000 * (time.perf_counter() - start))
    except LLMError as exc:
        return {"error": str(exc), "endpoint": endpoint.base_url}

    def exact(answer: str) -> bool:
        parts = answer.split(",") if task.multi_label else [answer]
        return all(part.strip() in labels for part in parts) and bool(answer.strip())

    predicted = [parse_labels(a, names, task.multi_label) for a in answers]
    flat: list[Any] = predicted if task.multi_label else [p[0] if p else "" for p in predicted]
    return {
        "endpoint": endpoint.base_url,
        "model": model,
        "sample": len(sample),
        "accuracy": float(is_correct(flat, sample).mean()) if sample else float("nan"),
        "format_failures": float(np.mean([not exact(a) for a in answers])) if answers else 0.0,
        "p50_ms": float(np.percentile(millis, 50)) if millis else float("nan"),
    }


def _newest_evaluation(task: Task) -> dict[str, Any] | None:
    try:
        run_dir = runs.find_run(task.runs_path)
    except NarrowtuneError:
        return None
    path = run_dir / runs.METRICS_FILE
    if not path.is_file():
        return None
    data = runs.read_json(path)
    return data if isinstance(data, dict) else None


# ----------------------------------------------------------------------------------------------
# Decision
# ----------------------------------------------------------------------------------------------


def options_cost(task: Task, tokens: float, speed: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Cost per 1,000 calls and per month, and latency, of the fine-tuned model (one machine at
    `hosting_cost_per_hour`, running the measured throughput) and of a prompted LLM; break-even
    volume per day."""
    p = task.profile
    per_call_llm = tokens * p.llm_price_per_1m_tokens / 1e6
    monthly_machine = p.hosting_cost_per_hour * HOURS_PER_MONTH
    capacity_per_day = speed["throughput_per_s"] * 86_400
    machines = max(1, math.ceil(p.volume_per_day / max(capacity_per_day, 1e-9)))
    monthly_ft = machines * monthly_machine
    calls_per_month = p.volume_per_day * 30
    breakeven = monthly_machine / 30 / per_call_llm if per_call_llm > 0 else float("inf")
    return {
        "fine-tune": {
            "cost_per_1k": 1000 * monthly_ft / calls_per_month if calls_per_month else None,
            "cost_per_month": monthly_ft,
            "latency_ms": speed["p50_ms"],
            "machines": machines,
            "measured": "throughput and latency of the base encoder on this machine",
        },
        "prompt": {
            "cost_per_1k": 1000 * per_call_llm,
            "cost_per_month": per_call_llm * calls_per_month,
            "latency_ms": p.llm_latency_ms,
            "tokens_per_call": tokens,
            "measured": "prompt tokens of the task's own texts; price and latency from the profile",
        },
        "break_even_calls_per_day": breakeven,
    }


def _figures_evidence(signals: dict[str, Any]) -> str:
    figures = signals.get("unseen_figures") or {}
    if not figures.get("texts_quoting_figures"):
        return ""
    return (
        f"; {100 * figures['share_unseen']:.0f}% of the {figures['texts_quoting_figures']} "
        "validation texts quoting a figure quote one absent from training"
    )


def decide(
    task: Task,
    signals: dict[str, Any],
    options: dict[str, dict[str, Any]],
) -> tuple[str, list[str], list[Criterion], list[str]]:
    """The decision, its reasons, every criterion with its measurement, and what to measure
    first. The rules, in order (docs/ADVISE.md):
    1. process still changing -> orchestrate (a workflow of prompted steps), whatever else;
       a multi-step job -> orchestrate (with a fine-tuned step when that step qualifies);
    2. conflicting labels on more than 5% of rows -> fix data first;
    3. fewer than 30 validation or test rows -> measure more before deciding;
    4. median fewer than 8 examples per label -> prompt (and collect labels);
    5. facts change weekly or daily -> retrieve (a fine-tuned router + retrieval when the
       router qualifies);
    6. fine-tune when the labelled examples, the volume (at or above break-even) and the
       measured margin (when a run was evaluated) all hold;
    7. otherwise prompt."""
    p = task.profile
    if "per_label_median" in signals:  # labels: examples per label
        per_label = signals["per_label_median"]
        few, enough, unit = FEW_PER_LABEL, ENOUGH_PER_LABEL, "per label (median)"
    else:  # no labels: worked examples of the whole job
        per_label = float(signals.get("train", 0))
        few, enough, unit = FEW_EXAMPLES, ENOUGH_EXAMPLES, "in all"
    consistency = signals.get("label_consistency", 1.0)
    volume_ok = p.volume_per_day >= options["break_even_calls_per_day"]
    run = signals.get("run") or {}
    margin = run.get("margin") or {}
    demonstrated = margin.get("demonstrated")
    criteria = [
        Criterion(
            "narrow repeated task",
            signals.get("labels", 0) <= 200,
            f"{signals.get('labels', 0)} labels, {p.volume_per_day:g} calls/day",
            "fine-tune",
        ),
        Criterion(
            "clear success metric",
            signals.get("test", 0) >= FEW_EVAL,
            f"{task.metric} on {signals.get('test', 0)} held-out test rows",
            "fine-tune",
        ),
        Criterion(
            "labelled examples",
            per_label >= enough,
            f"{per_label:g} examples {unit} (fine-tune needs about {enough})",
            "fine-tune",
        ),
        Criterion(
            "label consistency",
            consistency >= CONSISTENT,
            f"{100 * consistency:.1f}% of rows without a conflicting label",
            "fine-tune",
        ),
        Criterion(
            "volume",
            volume_ok,
            f"{p.volume_per_day:g} calls/day vs break-even "
            f"{options['break_even_calls_per_day']:,.0f}",
            "fine-tune",
        ),
        Criterion(
            "latency budget",
            options["fine-tune"]["latency_ms"] <= p.latency_budget_ms,
            f"small model p50 {options['fine-tune']['latency_ms']:.1f} ms measured; prompted "
            f"LLM {options['prompt']['latency_ms']:g} ms; budget {p.latency_budget_ms:g} ms",
            "fine-tune",
        ),
        Criterion(
            "demonstrated margin over the baselines",
            None if demonstrated is None else bool(demonstrated and margin["delta"] > 0),
            run.get("margin_sentence") or "no evaluated run yet: `narrowtune train --evaluate`",
            "fine-tune",
        ),
        Criterion(
            "needs current knowledge",
            p.facts_change in ("weekly", "daily"),
            f"facts change {p.facts_change} (profile)" + _figures_evidence(signals),
            "retrieve",
        ),
        Criterion(
            "process still changing",
            not p.process_stable,
            f"process_stable: {p.process_stable} (profile)",
            "orchestrate",
        ),
        Criterion(
            "several steps", p.multi_step, f"multi_step: {p.multi_step} (profile)", "orchestrate"
        ),
        Criterion(
            "high risk and untestable",
            p.risk == "high"
            and (signals.get("test", 0) < FEW_EVAL or signals.get("validation", 0) < FEW_EVAL),
            f"risk {p.risk} (profile); {signals.get('validation', 0)} validation and "
            f"{signals.get('test', 0)} test rows",
            "measure more",
        ),
    ]
    probe = signals.get("llm_probe") or {}
    if probe and "error" not in probe:
        criteria.append(
            Criterion(
                "prompting unstable",
                probe["format_failures"] >= UNSTABLE_FORMAT,
                f"{100 * probe['format_failures']:.0f}% of {probe['sample']} answers from "
                f"{probe['model']} were not exactly a label name (accuracy "
                f"{100 * probe['accuracy']:.1f}% on the same validation rows)",
                "fine-tune",
            )
        )
    curve = signals.get("curve") or []
    if len(curve) >= 2:
        gain = curve[-1]["accuracy"] - curve[-2]["accuracy"]
        criteria.append(
            Criterion(
                "more data still helping",
                gain >= STILL_LEARNING,
                f"{signals.get('curve_source', 'frozen-embedding probe')} on validation: "
                f"{100 * curve[-2]['accuracy']:.1f} at "
                f"{curve[-2]['train']} rows → {100 * curve[-1]['accuracy']:.1f} at "
                f"{curve[-1]['train']}",
                "collect more labels",
            )
        )
    measure: list[str] = []
    if signals.get("validation", 0) < FEW_EVAL or signals.get("test", 0) < FEW_EVAL:
        measure.append(
            f"label more data: {signals.get('validation', 0)} validation and "
            f"{signals.get('test', 0)} test rows are too few to choose thresholds or trust a "
            f"margin (want {FEW_EVAL}+ each)"
        )
    if task.costs is None and p.risk != "low":
        measure.append(
            "declare what mistakes cost (`costs:` in the task): the expensive mistakes are not "
            "known yet, so the cheapest safe option cannot be priced"
        )
    if task.has_labels and task.abstain.out_of_scope is None:
        measure.append(
            "add examples of out-of-scope requests (`abstain.out_of_scope`): how often the "
            "model answers traffic it was never meant to is not measured"
        )
    if run and demonstrated is False:
        measure.append(
            "the fine-tuned margin's interval includes zero: evaluate on more test data before "
            "paying for fine-tuning"
        )
    if not run:
        measure.append(
            "train and evaluate once (`narrowtune train --evaluate`) to measure the margin"
        )

    ft_ok = (
        per_label >= enough
        and consistency >= CONSISTENT
        and volume_ok
        and demonstrated is not False
    )
    few_eval = signals.get("validation", 0) < FEW_EVAL or signals.get("test", 0) < FEW_EVAL
    reasons: list[str] = []
    if not p.process_stable or p.multi_step:
        decision = "orchestrate"
        reasons.append(
            "the process is still changing: keep the steps in a workflow of prompted calls"
            if not p.process_stable
            else "the job is several steps: orchestrate them as a workflow"
        )
        if p.process_stable and ft_ok and not few_eval:
            decision = "orchestrate + fine-tuned step"
            reasons.append("the classification step qualifies for fine-tuning")
    elif consistency < CONSISTENT:
        decision = FIX_DATA
        reasons.append(
            f"only {100 * consistency:.1f}% of rows are free of a conflicting label (want "
            f"{100 * CONSISTENT:.0f}%+): any model learns the contradictions; fix the labels, "
            "then advise again (prompt in the meantime)"
        )
    elif few_eval:
        decision = MEASURE_MORE
        reasons.append(
            f"{signals.get('validation', 0)} validation and {signals.get('test', 0)} test rows: "
            f"too few (want {FEW_EVAL}+ each) for a threshold, a temperature or a margin to "
            "mean anything, so no option can be shown to be better"
        )
        if p.risk == "high":
            reasons.append("the risk is high and the task cannot be tested on so few rows")
    elif per_label < few:
        decision = "prompt"
        reasons.append(
            f"{per_label:g} labelled examples {unit}: too few to fine-tune on; "
            "prompt now and collect labels"
        )
    elif p.facts_change in ("weekly", "daily"):
        decision = "fine-tuned router + retrieve" if ft_ok else "retrieve"
        reasons.append(f"facts change {p.facts_change}: answers must come from a current index")
        if ft_ok:
            reasons.append("the routing step qualifies for fine-tuning")
    elif ft_ok:
        decision = "fine-tune"
        reasons.append(
            f"{per_label:g} examples {unit}, consistent labels, and {p.volume_per_day:g} "
            f"calls/day at or above the break-even {options['break_even_calls_per_day']:,.0f}"
        )
        if demonstrated:
            reasons.append("the fine-tuned margin over the best baseline is demonstrated")
    else:
        decision = "prompt"
        if not volume_ok:
            reasons.append(
                f"{p.volume_per_day:g} calls/day is below the break-even "
                f"{options['break_even_calls_per_day']:,.0f}: a prompted LLM is cheaper"
            )
        if demonstrated is False:
            reasons.append("fine-tuning shows no demonstrated margin over the baselines")
        if per_label < enough:
            reasons.append(f"{per_label:g} examples {unit} is thin for fine-tuning")
        if probe and "error" not in probe and probe["format_failures"] >= UNSTABLE_FORMAT:
            reasons.append(
                f"but the prompted LLM broke the answer format on "
                f"{100 * probe['format_failures']:.0f}% of a sample: validate or constrain its "
                "output"
            )
    return decision, reasons, criteria, measure


def advise(
    task: Task, *, progress: ProgressFn | None = None, curve_minutes: float | None = None
) -> Advice:
    """Measure the task's signals and decide; writes runs/<task>/advice.json. With
    `curve_minutes`, the learning curve comes from the fast fine-tune itself (`fine_tune_curve`,
    at most that many minutes of training) instead of the frozen-embedding probe."""
    from narrowtune.data import load_splits
    from narrowtune.evaluate.evaluation import Margin, margin_sentence

    start = time.perf_counter()
    splits = load_splits(task)
    signals: dict[str, Any] = {}
    notes: list[str] = []
    if task.has_labels:
        signals.update(_label_signals(task, splits))
    else:
        signals.update(
            train=len(splits.train), validation=len(splits.validation), test=len(splits.test)
        )
        notes.append(f"kind {task.kind}: no labels, so no per-label counts or learning curve")
    signals["unseen_figures"] = unseen_figures(splits)
    speed = {"throughput_per_s": float("nan"), "p50_ms": float("nan")}
    tokens = float("nan")
    if task.has_labels and task.plugin.reader is None:  # rows of text + label(s)
        scores, curve, speed = _baselines_and_curve(task, splits, progress)
        signals.update(baselines_validation_accuracy=scores, curve=curve)
        if curve_minutes and not task.multi_label:
            signals["probe_curve"] = curve
            signals["curve"] = fine_tune_curve(
                task, splits, minutes=curve_minutes, progress=progress
            )
            signals["curve_source"] = "fast fine-tune (1 epoch)"
        tokens = _prompt_tokens(task, splits)
        probe = _llm_probe(task, splits)
        if probe is not None:
            signals["llm_probe"] = probe
            if "error" in probe:
                notes.append(f"prompted-LLM probe failed: {probe['error']}")
    else:
        notes.append("learning curve and cheap baselines are measured for classify tasks only")
    run = _newest_evaluation(task)
    if run is not None:
        margin = Margin.from_dict(run.get("margin") or {"metric": "", "fine_tuned": None})
        signals["run"] = {
            "run_id": run.get("run_id"),
            "margin": margin.to_dict() | {"demonstrated": margin.demonstrated},
            "margin_sentence": margin_sentence(margin),
            "costs": run.get("costs"),
        }
    if math.isnan(speed["throughput_per_s"]) and run:
        latency = (run.get("systems") or [{}])[0].get("latency") or {}
        speed = {
            "throughput_per_s": float(latency.get("throughput_per_s") or float("nan")),
            "p50_ms": float(latency.get("p50_ms") or float("nan")),
        }
    if math.isnan(tokens):
        tokens = float(np.mean([len(ex.text) for ex in splits.validation]) / 4 + 200)
        notes.append("prompt tokens estimated as characters / 4 + 200 (not counted)")
    if math.isnan(speed["throughput_per_s"]):
        speed = {"throughput_per_s": 1.0, "p50_ms": float("inf")}
        notes.append("no throughput measured (evaluate a run first): cost and latency unknown")
    options = options_cost(task, tokens, speed)
    probe = signals.get("llm_probe") or {}
    if probe.get("p50_ms") is not None and "error" not in probe:
        options["prompt"]["latency_ms"] = probe["p50_ms"]
        options["prompt"]["measured"] = (
            f"prompt tokens of the task's own texts; latency measured on {probe['sample']} calls "
            f"to {probe['model']}; price from the profile"
        )
    decision, reasons, criteria, measure = decide(task, signals, options)
    given = task.profile.model_fields_set
    assumptions = {
        name: {"value": getattr(task.profile, name), "assumed": name not in given}
        for name in type(task.profile).model_fields
    }
    advice = Advice(
        task=task.name,
        decision=decision,
        reasons=reasons,
        criteria=criteria,
        measure_first=measure,
        assumptions=assumptions,
        signals=signals,
        options=options,
        seconds=time.perf_counter() - start,
        notes=notes,
    )
    task.runs_path.mkdir(parents=True, exist_ok=True)
    stored = _json_safe(advice.to_dict())
    runs.write_json(task.runs_path / runs.ADVICE_FILE, stored)
    if run is not None:
        _add_to_report(task, run, stored)
    return advice


def _add_to_report(task: Task, run: dict[str, Any], advice: dict[str, Any]) -> None:
    """Rewrite the newest evaluated run's report.html with this advice in its section."""
    from narrowtune.data.audit import audit as run_audit
    from narrowtune.data.audit import audit_html
    from narrowtune.evaluate.report import write_report

    run_dir = runs.find_run(task.runs_path)
    html = audit_html(run_audit(task, fast=True))
    write_report({**run, "audit_html": html, "advice": advice}, run_dir / runs.REPORT_FILE)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
