"""The evaluation of a run, typed: systems scored on one test split, the margin, the report.

Every kind's evaluation has the same envelope (task, kind, date, machine, split, primary metric,
systems, margin), built by `build_evaluation`; kinds add their summary `columns`, report
`sections` (as data, see `narrowtune.evaluate.blocks`) and a few facts of their own (`details`).
`Evaluation.to_dict()` is exactly what `metrics.json` holds, and `Evaluation.from_dict` reads a
stored one back (its sections stay the HTML they were stored as).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from narrowtune.evaluate.blocks import Block, Html
from narrowtune.evaluate.columns import Column

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.evaluate.significance import ItemScores

Role = Literal["fine-tuned", "baseline"]


@dataclass
class SystemResult:
    """One system (the fine-tuned model or a baseline) scored on the test split.

    `metrics` holds the kind's metrics (fractions in [0, 1] unless named otherwise) and may
    nest tables (per class, coverage curve); `latency` holds p50_ms, p95_ms, throughput_per_s
    and cost_per_1k_usd when measured. `items` (never stored) holds the per-test-item
    statistics the margin's interval is computed from."""

    name: str
    role: Role
    description: str
    metrics: dict[str, Any]
    train_seconds: float | None = None
    latency: dict[str, Any] | None = None
    items: ItemScores | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "description": self.description,
            "train_seconds": self.train_seconds,
            "metrics": self.metrics,
            "latency": self.latency,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SystemResult:
        return cls(
            name=str(data["name"]),
            role=data.get("role", "baseline"),
            description=str(data.get("description", "")),
            metrics=dict(data.get("metrics") or {}),
            train_seconds=data.get("train_seconds"),
            latency=data.get("latency"),
        )


@dataclass(frozen=True)
class Margin:
    """The fine-tuned model against the best baseline on the primary metric, and how sure it is.

    `interval_low`/`interval_high`: the paired bootstrap interval (at `level`, from `resamples`
    resamples of the `test_items` scored) on `delta`; `mcnemar`: McNemar's test on right/wrong
    per item (`a_only`: items only the fine-tuned model got right, `b_only`: only the baseline;
    exact and mid-p two-sided p-values). None when not measured (older runs, or a kind that
    gives no per-item scores)."""

    metric: str
    fine_tuned: float | None
    best_baseline: str | None = None
    best_baseline_value: float | None = None
    delta: float | None = None
    interval_low: float | None = None
    interval_high: float | None = None
    level: float | None = None
    resamples: int | None = None
    test_items: int | None = None
    mcnemar: dict[str, Any] | None = None

    @classmethod
    def between(cls, metric: str, systems: Sequence[SystemResult]) -> Margin:
        """The margin of `systems[0]` (the fine-tuned model) over the best of the rest; a
        baseline without the metric is left out, and no delta is given without a baseline.
        When both systems carry per-item scores, the margin gets its interval and McNemar's
        test (accuracy-like metrics)."""
        fine = systems[0].metrics.get(metric) if systems else None
        scored = [s for s in systems[1:] if s.metrics.get(metric) is not None]
        best = max(scored, key=lambda s: s.metrics[metric]) if scored else None
        if best is None:
            return cls(metric, fine)
        value = best.metrics[metric]
        margin = cls(metric, fine, best.name, value, None if fine is None else fine - value)
        a, b = systems[0].items, best.items
        if fine is None or a is None or b is None or len(a) != len(b) or len(a) == 0:
            return margin
        from narrowtune.evaluate import significance as sig

        low, high = sig.paired_interval(a, b)
        test = None
        if a.correct is not None and b.correct is not None:
            test = sig.mcnemar(a.correct, b.correct)
        return replace(
            margin,
            interval_low=low,
            interval_high=high,
            level=sig.LEVEL,
            resamples=sig.RESAMPLES,
            test_items=len(a),
            mcnemar=test,
        )

    @property
    def demonstrated(self) -> bool | None:
        """Whether the interval excludes zero (None: no interval measured)."""
        if self.interval_low is None or self.interval_high is None:
            return None
        return self.interval_low > 0 or self.interval_high < 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "metric": self.metric,
            "fine_tuned": self.fine_tuned,
            "best_baseline": self.best_baseline,
            "best_baseline_value": self.best_baseline_value,
            "delta": self.delta,
        }
        if self.interval_low is not None:
            out.update(
                interval_low=self.interval_low,
                interval_high=self.interval_high,
                level=self.level,
                resamples=self.resamples,
                test_items=self.test_items,
                demonstrated=self.demonstrated,
                mcnemar=self.mcnemar,
            )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Margin:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _points(value: float) -> str:
    return f"{100 * value:+.1f}".replace("-", "−")


def margin_sentence(margin: Margin) -> str:
    """The margin in one plain sentence, never without its interval when one was measured: "no
    demonstrated margin" when the interval includes zero."""
    if margin.delta is None or margin.fine_tuned is None:
        return "no baseline measured: no evidence yet that fine-tuning beats the alternatives"
    ft, base = 100 * margin.fine_tuned, 100 * (margin.best_baseline_value or 0.0)
    versus = f"the best baseline ({margin.best_baseline}, {base:.1f})"
    if margin.interval_low is None or margin.interval_high is None:
        word = "above" if margin.delta >= 0 else "BELOW"
        return (
            f"fine-tuned {margin.metric} {ft:.1f} is {abs(100 * margin.delta):.1f} points {word} "
            f"{versus}; no interval measured (no per-item scores), so how sure this is is unknown"
        )
    level = round(100 * (margin.level or 0.95))
    interval = (
        f"{level}% interval {_points(margin.interval_low)} to {_points(margin.interval_high)}"
    )
    evidence = f"{margin.test_items} test items"
    if margin.mcnemar is not None:
        evidence += f", McNemar p = {margin.mcnemar['p_exact']:.3g}"
    if not margin.demonstrated:
        return (
            f"no demonstrated margin: fine-tuned {margin.metric} {ft:.1f} vs {versus}, "
            f"{_points(margin.delta)} points; the {interval} includes zero ({evidence})"
        )
    word = "above" if margin.delta > 0 else "BELOW"
    return (
        f"fine-tuned {margin.metric} {ft:.1f} is {abs(100 * margin.delta):.1f} points {word} "
        f"{versus}; {interval} points ({evidence})"
    )


@dataclass(frozen=True)
class SplitInfo:
    """The split sizes, which split was scored, its fingerprint and (when the kind scores
    fewer) how many of its examples were evaluated."""

    train: int
    validation: int
    test: int
    fingerprint: str
    name: str = "test"
    evaluated: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "train": self.train,
            "validation": self.validation,
            "test": self.test,
            "name": self.name,
        }
        if self.evaluated is not None:
            out["evaluated"] = self.evaluated
        out["fingerprint"] = self.fingerprint
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitInfo:
        return cls(
            train=int(data.get("train", 0)),
            validation=int(data.get("validation", 0)),
            test=int(data.get("test", 0)),
            fingerprint=str(data.get("fingerprint", "")),
            name=str(data.get("name", "test")),
            evaluated=data.get("evaluated"),
        )


@dataclass(frozen=True)
class Section:
    """An extra report section of a kind: `anchor` is its HTML id."""

    anchor: str
    title: str
    block: Block


# Keys of metrics.json that the envelope owns; everything else a kind adds is in `details`.
_ENVELOPE = (
    "task",
    "kind",
    "created",
    "machine",
    "split",
    "primary_metric",
    "systems",
    "margin",
    "columns",
    "sections",
    "notes",
    "run_id",
    "run_dir",
    "backend",
    "warnings",
)


@dataclass
class Evaluation:
    """One evaluation of a run: every system on the same test split.

    `columns` is None for evaluations in the classification format (the CLI, card and report
    then show the classification columns and plots); `details` holds the kind's own top-level
    facts (classify: labels, multi_label, target_precision, errors; extract: per_field,
    threshold, ...), written to metrics.json as they are. `run_id`, `run_dir`, `backend` and
    `warnings` are filled in by whoever evaluated a stored run."""

    task: str
    kind: str
    created: str
    machine: str
    split: SplitInfo
    primary_metric: str
    systems: list[SystemResult]
    margin: Margin
    columns: list[Column] | None = None
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    run_dir: str | None = None
    backend: str | None = None
    warnings: list[str] | None = None

    @property
    def fine_tuned(self) -> SystemResult:
        return self.systems[0]

    def system(self, name: str) -> SystemResult:
        """The system called `name` (KeyError naming the ones there are)."""
        for system in self.systems:
            if system.name == name:
                return system
        raise KeyError(f"no system {name!r}; systems: {', '.join(s.name for s in self.systems)}")

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as metrics.json holds it (sections rendered to escaped HTML)."""
        from narrowtune.evaluate.report import render_block

        out: dict[str, Any] = {
            "task": self.task,
            "kind": self.kind,
            "created": self.created,
            "machine": self.machine,
            "split": self.split.to_dict(),
            "primary_metric": self.primary_metric,
            "systems": [s.to_dict() for s in self.systems],
            "margin": self.margin.to_dict(),
        }
        if self.columns is not None:
            out["columns"] = [c.to_dict() for c in self.columns]
        if self.sections:
            out["sections"] = [[s.anchor, s.title, render_block(s.block)] for s in self.sections]
        out.update(self.details)
        out["notes"] = list(self.notes)
        for key in ("run_id", "run_dir", "backend", "warnings"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """An evaluation read back from metrics.json (or any dict of that shape)."""
        columns = data.get("columns")
        systems = [SystemResult.from_dict(s) for s in data.get("systems") or []]
        margin = data.get("margin")
        return cls(
            task=str(data.get("task", "")),
            kind=str(data.get("kind", "")),
            created=str(data.get("created", "")),
            machine=str(data.get("machine", "")),
            split=SplitInfo.from_dict(data.get("split") or {}),
            primary_metric=str(data.get("primary_metric", "")),
            systems=systems,
            margin=Margin.from_dict(margin)
            if isinstance(margin, Mapping)
            else Margin.between(str(data.get("primary_metric", "")), systems),
            columns=None if columns is None else [Column.from_dict(c) for c in columns],
            sections=[
                Section(str(a), str(t), Html(str(h))) for a, t, h in data.get("sections") or []
            ],
            notes=list(data.get("notes") or []),
            details={k: v for k, v in data.items() if k not in _ENVELOPE},
            run_id=data.get("run_id"),
            run_dir=data.get("run_dir"),
            backend=data.get("backend"),
            warnings=data.get("warnings"),
        )


def machine_description() -> str:
    """Cores, CPU model, OS and Python: where a figure was measured."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system, python = platform.system(), platform.python_version()
    return f"{os.cpu_count()} CPU cores ({cpu}), {system}, Python {python}"


def build_evaluation(
    task_name: str,
    kind: str,
    splits: Splits,
    systems: list[SystemResult],
    *,
    primary_metric: str,
    evaluated: Sequence[Example] | None = None,
    columns: list[Column] | None = None,
    sections: list[Section] | None = None,
    notes: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> Evaluation:
    """The common envelope around a kind's scored systems: date, machine, split sizes and
    fingerprint, and the margin of `systems[0]` over the best baseline. `evaluated`: the test
    examples actually scored, when a kind scores fewer than the whole test split."""
    from narrowtune.data import fingerprint
    from narrowtune.evaluate.significance import FEW_TEST_ITEMS

    notes = list(notes or [])
    scored = len(splits.test) if evaluated is None else len(evaluated)
    if scored < FEW_TEST_ITEMS:
        notes.append(
            f"only {scored} test examples: one example moves {primary_metric} by "
            f"{100 / max(scored, 1):.1f} points, too few for a margin to mean much. "
            "Measure on more labelled data before deciding."
        )
    if len(splits.validation) < FEW_TEST_ITEMS:
        notes.append(
            f"only {len(splits.validation)} validation examples: the thresholds and "
            "temperatures chosen on so few are rough guesses."
        )
    return Evaluation(
        task=task_name,
        kind=kind,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine_description(),
        split=SplitInfo(
            train=len(splits.train),
            validation=len(splits.validation),
            test=len(splits.test),
            fingerprint=fingerprint(splits.test),
            evaluated=None if evaluated is None else len(evaluated),
        ),
        primary_metric=primary_metric,
        systems=systems,
        margin=Margin.between(primary_metric, systems),
        columns=columns,
        sections=list(sections or []),
        notes=notes,
        details=dict(details or {}),
    )
