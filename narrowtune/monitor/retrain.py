"""`narrowtune retrain`: reviewer feedback (and new labelled files) into the training set, a
challenger trained on it, and a champion/challenger comparison that decides what serves.

1. The feedback of the task (accepted items keep the model's label, corrected ones take the
   reviewer's) is checked against the task's labels (`--allow-label` admits a new one),
   deduplicated (normalised text, the newest decision wins; a text of the fixed validation or
   test split is dropped, so nothing leaks into the comparison) and split, seeded: a
   `monitor.feedback_holdout` share becomes the recent-feedback set, the rest joins training.
2. The merged training set is written next to the runs (`runs/<task>/retrain-data/<id>/`), with
   the task's validation and test splits written as they were, and audited like any data: a
   blocking finding refuses the retrain with the audit's reason and leaves nothing behind.
3. A challenger is trained on it. Champion (the serving run) and challenger are scored on the
   fixed test split plus the recent-feedback set; the challenger is promoted only when the lower
   end of the 95% paired-bootstrap interval of its margin on the primary metric is above
   `monitor.margin`, and no `monitor.protected_labels` label loses more than
   `monitor.protected_tolerance` of its test recall. Either way the decision, its reason and the
   figures go into the model registry table.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune import runs
from narrowtune.errors import NarrowtuneError
from narrowtune.monitor import registry

if TYPE_CHECKING:
    from narrowtune.data.load import Example
    from narrowtune.progress import ProgressFn
    from narrowtune.store import Store
    from narrowtune.task import Task

RETRAIN_DATA = "retrain-data"


class RetrainError(NarrowtuneError):
    """A retrain that cannot start or whose data was refused; nothing was changed."""


@dataclass
class Merged:
    train: list[tuple[str, tuple[str, ...]]]
    holdout: list[tuple[str, tuple[str, ...]]]
    stats: dict[str, int] = field(default_factory=dict)


def _labels_of(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(x) for x in value)


def merge(
    task: Task,
    train: Sequence[Example],
    fixed: Sequence[Example],
    feedback: Sequence[dict[str, Any]],
    extra: Sequence[Example],
    *,
    allowed: set[str],
) -> Merged:
    """The merged training rows and the recent-feedback holdout (see the module docstring)."""
    from narrowtune.data.audit.normalize import normalize

    unknown = []
    for row in feedback:
        bad = [x for x in _labels_of(row["label"]) if x not in allowed]
        if bad:
            unknown.append(f"prediction {row['prediction_id']}: {', '.join(map(repr, bad))}")
    for ex in extra:
        bad = [x for x in ex.labels if x not in allowed]
        if bad:
            unknown.append(f"{ex.where}: {', '.join(map(repr, bad))}")
    if unknown:
        shown = "; ".join(unknown[:5]) + (
            f"; and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise RetrainError(
            f"feedback with labels task '{task.name}' does not have ({shown}); add the label "
            "to `labels:` in the task file or pass --allow-label NAME; nothing changed"
        )
    held_out = {normalize(e.text) for e in fixed}
    latest: dict[str, tuple[str, tuple[str, ...]]] = {}
    dropped = 0
    for row in feedback:  # oldest first: a later decision on the same text wins
        key = normalize(str(row["text"]))
        if key in held_out:
            dropped += 1
            continue
        latest.pop(key, None)
        latest[key] = (str(row["text"]), _labels_of(row["label"]))
    items = list(latest.items())
    random.Random(task.seed).shuffle(items)
    n_holdout = round(len(items) * task.monitor.feedback_holdout) if len(items) >= 4 else 0
    holdout, learn = items[:n_holdout], items[n_holdout:]
    merged: dict[str, tuple[str, tuple[str, ...]]] = {}
    for ex in train:
        merged.setdefault(normalize(ex.text), (ex.text, ex.labels))
    relabelled = added = 0
    for source in ([(normalize(e.text), (e.text, e.labels)) for e in extra], learn):
        for key, value in source:
            if key in held_out:
                dropped += 1
                continue
            if key in merged:
                relabelled += int(merged[key][1] != value[1])
            else:
                added += 1
            merged[key] = value
    return Merged(
        train=list(merged.values()),
        holdout=[v for _, v in holdout],
        stats={
            "feedback_rows": len(feedback),
            "feedback_unique": len(items),
            "feedback_holdout": len(holdout),
            "extra_rows": len(extra),
            "added": added,
            "relabelled": relabelled,
            "dropped_in_fixed_splits": dropped,
            "train_before": len(train),
            "train_after": len(merged),
        },
    )


def _write(path: Path, rows: Sequence[tuple[str, tuple[str, ...]]], task: Task) -> None:
    from narrowtune.atomic import write_jsonl

    label = task.data.label_column
    write_jsonl(
        path,
        (
            {
                task.data.text_column: text,
                label: list(labels) if task.multi_label else labels[0],
            }
            for text, labels in rows
        ),
    )


def _derived_task(task: Task, folder: Path, new_labels: Sequence[str]) -> Task:
    from narrowtune.task import task_from_mapping

    raw = task.resolved()
    raw["data"] = {
        **raw["data"],
        "train": str((folder / "train.jsonl").resolve()),
        "validation": str((folder / "validation.jsonl").resolve()),
        "test": str((folder / "test.jsonl").resolve()),
    }
    raw["runs_dir"] = str(task.runs_path.parent.resolve())
    if raw.get("labels"):
        raw["labels"] = {**raw["labels"], **{x: "" for x in new_labels if x not in raw["labels"]}}
    return task_from_mapping(raw, source=str(folder), base_dir=task.base_dir)


def _score(model: Any, texts: Sequence[str]) -> list[str | list[str]]:
    if not texts:
        return []
    return [p.label for p in model.predict(list(texts))]


def compare(
    task: Task,
    champion: Any,
    challenger: Any,
    test: Sequence[tuple[str, tuple[str, ...]]],
    holdout: Sequence[tuple[str, tuple[str, ...]]],
) -> dict[str, Any]:
    """Champion vs challenger on the fixed test split plus the recent-feedback set: the primary
    metric of each, the challenger's margin with its paired-bootstrap interval (overall, test
    only, feedback only) and each label's test recall."""
    from narrowtune.evaluate.significance import classification_items, paired_interval

    metric = task.metric if task.metric in ("accuracy", "macro_f1", "micro_f1") else "accuracy"
    sets = {"test": list(test), "feedback": list(holdout)}
    sets["combined"] = sets["test"] + sets["feedback"]
    predictions = {
        name: {part: _score(model, [t for t, _ in sets[part]]) for part in ("test", "feedback")}
        for name, model in (("champion", champion), ("challenger", challenger))
    }
    for name in predictions:
        predictions[name]["combined"] = predictions[name]["test"] + predictions[name]["feedback"]
    labels = sorted(
        {x for rows in sets.values() for _, g in rows for x in g}
        | {
            x
            for parts in predictions.values()
            for preds in parts.values()
            for p in preds
            for x in ([p] if isinstance(p, str) else p)
        }
    )
    out: dict[str, Any] = {"metric": metric}
    for part, rows in sets.items():
        gold = [g for _, g in rows]
        if not gold:
            out[part] = {"items": 0}
            continue
        items = {
            name: classification_items(gold, predictions[name][part], labels=labels, metric=metric)
            for name in predictions
        }
        assert items["champion"] is not None and items["challenger"] is not None
        low, high = paired_interval(items["challenger"], items["champion"], seed=task.seed)
        out[part] = {
            "items": len(gold),
            "champion": items["champion"].observed(),
            "challenger": items["challenger"].observed(),
            "margin": items["challenger"].observed() - items["champion"].observed(),
            "interval": [low, high],
        }
    recall: dict[str, dict[str, float]] = {}
    for name in predictions:
        per: dict[str, list[int]] = {}
        for (_, gold), predicted in zip(sets["test"], predictions[name]["test"], strict=True):
            names = {predicted} if isinstance(predicted, str) else set(predicted)
            for x in gold:
                hit = per.setdefault(x, [0, 0])
                hit[0] += int(x in names)
                hit[1] += 1
        recall[name] = {x: r / n for x, (r, n) in sorted(per.items())}
    out["recall"] = recall
    return out


def decide(task: Task, comparison: dict[str, Any]) -> tuple[bool, str]:
    """Whether the challenger may serve, and why (the sentence the registry records)."""
    spec = task.monitor
    combined = comparison["combined"]
    low, high = combined["interval"]
    metric = comparison["metric"]
    regressed = []
    for label in spec.protected_labels:
        before = comparison["recall"]["champion"].get(label)
        after = comparison["recall"]["challenger"].get(label)
        if before is not None and after is not None and after < before - spec.protected_tolerance:
            regressed.append(f"{label} {before:.1%} -> {after:.1%}")
    margin = (
        f"challenger {metric} {combined['challenger']:.1%} vs champion {combined['champion']:.1%} "
        f"on {combined['items']} items (test + recent feedback): margin "
        f"{100 * combined['margin']:+.1f} points, "
        f"95% interval [{100 * low:+.1f}, {100 * high:+.1f}]"
    )
    if regressed:
        return False, (
            f"refused: protected label recall regressed on the test split ({'; '.join(regressed)}"
            f", tolerance {spec.protected_tolerance:.1%}); {margin}"
        )
    if not low > spec.margin:
        return False, (
            f"refused: the interval's lower end is not above the required margin "
            f"{100 * spec.margin:.1f} points; {margin}"
        )
    return True, f"promoted: {margin}"


def retrain(
    task: Task,
    store: Store,
    *,
    data: Sequence[Path] = (),
    allow_labels: Sequence[str] = (),
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Merge feedback, audit, train a challenger, compare, and promote or refuse (recorded)."""
    import shutil

    from narrowtune import api
    from narrowtune.data import load_splits

    if not task.has_labels:
        raise RetrainError(
            f"retrain learns from reviewer labels; task '{task.name}' is kind '{task.kind}'"
        )
    unknown_protected = [
        x for x in task.monitor.protected_labels if task.labels and x not in task.labels
    ]
    if unknown_protected:
        raise RetrainError(
            f"monitor.protected_labels names {', '.join(map(repr, unknown_protected))}, not "
            f"labels of task '{task.name}'"
        )
    champion_id = registry.serving_run_id(task.runs_path)
    if champion_id is None:
        raise RetrainError(
            f"task '{task.name}' has no run to compare a challenger with; `narrowtune train` first"
        )
    splits = load_splits(task)
    feedback = [r for r in store.export_feedback() if r.get("task") == task.name]
    extra: list[Example] = []
    for path in data:
        extra += task.plugin.read_examples(task, Path(path))
    if not feedback and not extra:
        raise RetrainError(
            f"the store at {store.url} holds no reviewer decisions for task '{task.name}' and no "
            "--data file was given: nothing new to learn from"
        )
    known = set(task.labels) if task.labels else {x for e in splits.train for x in e.labels}
    allowed = known | set(allow_labels)
    merged = merge(
        task,
        splits.train,
        [*splits.validation, *splits.test],
        feedback,
        extra,
        allowed=allowed,
    )
    new_labels = sorted({x for _, g in merged.train for x in g} - known)
    folder = task.runs_path / RETRAIN_DATA / runs.new_run_id()
    folder.mkdir(parents=True)
    try:
        _write(folder / "train.jsonl", merged.train, task)
        _write(folder / "validation.jsonl", [(e.text, e.labels) for e in splits.validation], task)
        _write(folder / "test.jsonl", [(e.text, e.labels) for e in splits.test], task)
        _write(folder / "feedback_holdout.jsonl", merged.holdout, task)
        derived = _derived_task(task, folder, new_labels)
        try:
            api.check_before_training(derived)
        except NarrowtuneError as error:  # blocking findings, or rows that cannot be used
            raise RetrainError(
                f"retrain refused: the merged training data ({folder / 'train.jsonl'}) fails "
                f"the audit — {error}"
            ) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if runs.promoted_run(task.runs_path) is None:
        # Pin the champion first: the challenger will be the newest run, which would otherwise
        # serve whatever the comparison says.
        registry.promote(
            store,
            task.runs_path,
            task.name,
            champion_id,
            reason="champion pinned before its first retrain",
        )
    challenger_dir = api.train(derived, force=True, progress=progress)
    champion = api.load(task.runs_path / champion_id)
    challenger = api.load(challenger_dir)
    comparison = compare(
        task,
        champion,
        challenger,
        [(e.text, e.labels) for e in splits.test],
        merged.holdout,
    )
    promote, reason = decide(task, comparison)
    details = {"comparison": comparison, "data": merged.stats, "data_folder": str(folder)}
    if promote:
        event = registry.promote(
            store, task.runs_path, task.name, challenger_dir.name, reason=reason, details=details
        )
    else:
        event = store.record_event(
            task.name,
            "refuse",
            run_id=challenger_dir.name,
            previous_run_id=champion_id,
            reason=reason,
            details=details,
        )
    return {
        "promoted": promote,
        "reason": reason,
        "champion": champion_id,
        "challenger": challenger_dir.name,
        "comparison": comparison,
        "data": merged.stats,
        "new_labels": new_labels,
        "event": event,
    }
