"""`narrowtune monitor`: is the traffic a served model sees still the traffic it was built for?

A `Reference` is built once per task and run: embeddings of (a sample of) the training texts,
the run's predictions on the validation split (the predicted-label mix, confidences and
abstention rate of in-distribution traffic), and the "far from training" distance (chosen on the
validation split: its `FAR_QUANTILE` quantile of nearest-training-text distances). A window of
stored predictions is then tested against it (`check_window`): input drift (MMD, permutation
p-value), predicted-label drift (chi-square), lower confidence (Mann-Whitney), more abstentions
(Fisher) and more far-from-training texts than expected (binomial), each at `monitor.alpha`; the
far texts are grouped into clusters with examples. Any significant test recommends retraining.
Reviewer decisions on the window's predictions give accuracy per predicted label and per day.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune import runs
from narrowtune.errors import NarrowtuneError
from narrowtune.monitor import drift

if TYPE_CHECKING:
    from narrowtune.encoders import Encoder
    from narrowtune.store import Store
    from narrowtune.task import Task

FAR_QUANTILE = 0.95
# Far texts closer than this (cosine distance, average linkage) fall into one cluster.
CLUSTER_DISTANCE = 0.5
EXAMPLES_PER_CLUSTER = 3
# Exit code of `narrowtune monitor` when it recommends retraining (errors exit 2).
RETRAIN_RECOMMENDED = 1
TESTS = ("input", "labels", "confidence", "abstention", "new_cluster")


class MonitorError(NarrowtuneError):
    """The store cannot be monitored for this task (empty, another task's rows, no run)."""


@dataclass
class Reference:
    """What in-distribution traffic looks like for one task and run."""

    task: str
    run_id: str
    embeddings: np.ndarray  # sampled training texts, unit vectors
    train_embeddings: np.ndarray  # every training text, for nearest distances
    labels: list[str]  # the run's predicted labels on the validation split
    confidences: list[float]
    abstained: int
    far_threshold: float
    encoder: Encoder = field(repr=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embeddings.shape[1]), dtype=np.float32)
        return self.encoder.encode(list(texts))


def _check_task(task: Task) -> None:
    if not task.has_labels:
        raise MonitorError(
            f"task '{task.name}' is kind '{task.kind}', whose outputs have no labels; "
            "monitor and retrain work on labelled kinds (classify)"
        )


def build_reference(task: Task, run_dir: Path | None = None, *, model: Any = None) -> Reference:
    """The reference of `task` for its serving run (or `run_dir`; or an already loaded model)."""
    from narrowtune import api
    from narrowtune.data import load_splits
    from narrowtune.encoders import Encoder

    _check_task(task)
    if run_dir is None and model is None:
        try:
            run_dir = runs.find_run(task.runs_path)
        except NarrowtuneError as error:
            raise MonitorError(f"nothing to monitor against: {error}") from error
    if model is None:
        assert run_dir is not None
        model = api.load(run_dir)
    run_id = run_dir.name if run_dir is not None else str(getattr(model, "run_id", "model"))
    splits = load_splits(task)
    encoder = Encoder.from_pretrained(task.model.base, max_length=task.model.max_length)
    train_texts = [e.text for e in splits.train]
    train_embeddings = encoder.encode(train_texts)
    rng = random.Random(task.seed)
    sample = sorted(
        rng.sample(range(len(train_texts)), min(len(train_texts), task.monitor.reference_size))
    )
    validation = [e.text for e in splits.validation]
    predictions = model.predict(validation)
    far = drift.nearest_distance(encoder.encode(validation), train_embeddings)
    return Reference(
        task=task.name,
        run_id=run_id,
        embeddings=train_embeddings[sample],
        train_embeddings=train_embeddings,
        labels=[p.label if isinstance(p.label, str) else "|".join(p.label) for p in predictions],
        confidences=[float(p.confidence) for p in predictions],
        abstained=sum(bool(p.abstain) for p in predictions),
        far_threshold=float(np.quantile(far, FAR_QUANTILE)),
        encoder=encoder,
    )


def parse_since(value: str) -> timedelta:
    """`7d`, `12h`, `30m` or `2w` as a duration; MonitorError for anything else."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    text = value.strip().lower()
    try:
        amount = float(text[:-1])
        unit = units[text[-1]]
    except (ValueError, KeyError, IndexError):
        raise MonitorError(
            f"--since '{value}' is not a duration; use a number and m, h, d or w (e.g. 7d)"
        ) from None
    if amount <= 0:
        raise MonitorError(f"--since '{value}' must be positive")
    return timedelta(**{unit: amount})


def window_rows(
    store: Store, task: Task, *, since: datetime | None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """The task's stored predictions in the window; MonitorError (naming what the store does
    hold) when there are none."""
    rows = store.prediction_window(task.name, since=since, until=until)
    if rows:
        return rows
    counts = store.task_counts()
    if not counts:
        raise MonitorError(
            f"the store at {store.url} holds no predictions; serve the task "
            "(`narrowtune serve task.yaml`) and let it answer requests first"
        )
    if task.name not in counts:
        others = ", ".join(f"'{name}' ({n})" for name, n in counts.items() if name is not None)
        untagged = counts.get(None, 0)
        extra = f", {untagged} without a task" if untagged else ""
        raise MonitorError(
            f"the store at {store.url} holds no predictions of task '{task.name}', only of "
            f"{others or 'no named task'}{extra}; is this the store of another task? "
            "(pass --db with this task's store)"
        )
    start = f"{since:%Y-%m-%d %H:%M}" if since is not None else "the start"
    end = f"{until:%Y-%m-%d %H:%M}" if until is not None else "now"
    raise MonitorError(
        f"task '{task.name}' has {counts[task.name]} stored predictions but none from {start} "
        f"to {end} UTC; widen --since"
    )


def _test(result: drift.TestResult, alpha: float, skipped: str | None = None) -> dict[str, Any]:
    if skipped:
        return {"statistic": None, "p_value": None, "significant": False, "skipped": skipped}
    p = result.p_value
    finite = bool(np.isfinite(result.statistic))
    return {
        "statistic": round(result.statistic, 6) if finite else None,
        "p_value": None if np.isnan(p) else float(p),
        "significant": bool(not np.isnan(p) and p < alpha),
    }


def check_window(
    reference: Reference,
    rows: Sequence[dict[str, Any]],
    *,
    alpha: float,
    min_window: int,
    permutations: int,
    min_cluster: int,
    seed: int = 0,
    embeddings: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every drift test on one window of stored predictions (see the module's docstring)."""
    texts = [r["text"] for r in rows]
    n = len(rows)
    vectors = reference.embed(texts) if embeddings is None else embeddings
    too_few = (
        f"{n} predictions, fewer than monitor.min_window={min_window}" if n < min_window else None
    )
    tests: dict[str, dict[str, Any]] = {}
    tests["input"] = _test(
        drift.mmd_test(reference.embeddings, vectors, permutations=permutations, seed=seed)
        if not too_few
        else drift.TestResult(0, 1),
        alpha,
        too_few,
    )
    labels = [r["label"] for r in rows]
    tests["labels"] = _test(drift.label_shift(reference.labels, labels), alpha, too_few)
    confidences = [float(r["confidence"]) for r in rows]
    tests["confidence"] = _test(
        drift.lower_confidence(reference.confidences, confidences), alpha, too_few
    )
    abstained = sum(bool(r["abstain"]) for r in rows)
    tests["abstention"] = _test(
        drift.more_abstentions(reference.abstained, len(reference.labels), abstained, n),
        alpha,
        too_few,
    )
    distances = drift.nearest_distance(vectors, reference.train_embeddings)
    far_index = [i for i, d in enumerate(distances) if d > reference.far_threshold]
    far_test = drift.far_rate(len(far_index), n, 1 - FAR_QUANTILE)
    clusters = []
    for group in drift.group_far(vectors[far_index], threshold=CLUSTER_DISTANCE):
        members = [far_index[i] for i in group]
        if len(members) < min_cluster:
            continue
        predicted = Counter(labels[i] for i in members).most_common(1)[0][0]
        closest = sorted(members, key=lambda i: -distances[i])
        clusters.append(
            {
                "size": len(members),
                "predicted_as": predicted,
                "mean_confidence": round(float(np.mean([confidences[i] for i in members])), 3),
                "distinct_texts": len({texts[i] for i in members}),
                "examples": list(dict.fromkeys(texts[i] for i in closest))[:EXAMPLES_PER_CLUSTER],
            }
        )
    tests["new_cluster"] = _test(far_test, alpha, too_few)
    if tests["new_cluster"]["significant"] and not clusters:
        tests["new_cluster"]["significant"] = False
        tests["new_cluster"]["note"] = f"far texts are scattered (no group of {min_cluster})"
    reasons = [_reason(name, tests[name]) for name in TESTS if tests[name]["significant"]]
    return {
        "n": n,
        "abstention_rate": abstained / n if n else None,
        "mean_confidence": float(np.mean(confidences)) if confidences else None,
        "far_rate": len(far_index) / n if n else None,
        "label_counts": dict(Counter(labels)),
        "tests": tests,
        "clusters": clusters,
        "retrain_recommended": bool(reasons),
        "reasons": reasons,
    }


def _reason(name: str, test: dict[str, Any]) -> str:
    what = {
        "input": "the inputs drifted from the training texts (MMD)",
        "labels": "the predicted-label mix changed (chi-square)",
        "confidence": "confidence fell (Mann-Whitney)",
        "abstention": "the model abstains more often (Fisher)",
        "new_cluster": "a new cluster of texts far from every training text appeared",
    }[name]
    return f"{what}, p = {test['p_value']:.2g}"


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def reviewer_accuracy(
    store: Store, task: Task, *, since: datetime | None, until: datetime | None = None
) -> dict[str, Any]:
    """Accuracy from reviewer decisions (accept: right, correct: wrong) on the window's
    predictions, per predicted label and per day. Only reviewed items count (by default the
    abstained ones), so these are accuracies on the hard cases, not on all traffic."""
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_day: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in store.export_feedback():
        if row.get("task") != task.name or row.get("predicted_at") is None:
            continue
        made = datetime.fromisoformat(str(row["predicted_at"]).replace("Z", "+00:00"))
        if (since is not None and made < since) or (until is not None and made >= until):
            continue
        predicted = (
            row["predicted"] if isinstance(row["predicted"], str) else "|".join(row["predicted"])
        )
        right = int(row["action"] == "accept")
        for bucket in (per_label[predicted], per_day[_day(made)][predicted]):
            bucket[0] += right
            bucket[1] += 1
    return {
        "per_label": {
            k: {"right": v[0], "reviewed": v[1], "accuracy": v[0] / v[1]}
            for k, v in sorted(per_label.items())
        },
        "per_day": {
            day: {
                k: {"right": v[0], "reviewed": v[1], "accuracy": v[0] / v[1]}
                for k, v in sorted(labels.items())
            }
            for day, labels in sorted(per_day.items())
        },
    }


def monitor(
    task: Task,
    store: Store,
    *,
    since: timedelta | None = timedelta(days=7),
    now: datetime | None = None,
    reference: Reference | None = None,
) -> dict[str, Any]:
    """The monitoring report of `task` over the last `since` (None: everything stored): the
    window's tests, the same figures per day, and reviewer accuracy."""
    _check_task(task)
    now = now or datetime.now(UTC)
    start = now - since if since is not None else None
    rows = window_rows(store, task, since=start, until=now)
    reference = reference or build_reference(task)
    spec = task.monitor
    options = {
        "alpha": spec.alpha,
        "min_window": spec.min_window,
        "permutations": spec.permutations,
        "min_cluster": spec.min_cluster,
        "seed": task.seed,
    }
    vectors = reference.embed([r["text"] for r in rows])
    window = check_window(reference, rows, embeddings=vectors, **options)
    by_day: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_day[_day(row["created"])].append(index)
    days = {}
    for day, indices in sorted(by_day.items()):
        result = check_window(
            reference, [rows[i] for i in indices], embeddings=vectors[indices], **options
        )
        result.pop("clusters")
        days[day] = result
    return {
        "task": task.name,
        "run_id": reference.run_id,
        "since": start.isoformat() if start else None,
        "until": now.isoformat(),
        "alpha": spec.alpha,
        "reference": {
            "training_texts": len(reference.train_embeddings),
            "sampled": len(reference.embeddings),
            "validation_predictions": len(reference.labels),
            "validation_abstention_rate": reference.abstained / max(1, len(reference.labels)),
            "validation_mean_confidence": float(np.mean(reference.confidences))
            if reference.confidences
            else None,
            "far_threshold": round(reference.far_threshold, 4),
        },
        "window": window,
        "days": days,
        "reviews": reviewer_accuracy(store, task, since=start, until=now),
        "retrain_recommended": window["retrain_recommended"],
    }
