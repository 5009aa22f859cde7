"""The Python API behind every command: train, evaluate, load, predict."""

from __future__ import annotations

import csv
import io
import json
import platform
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from narrowtune import atomic, runs
from narrowtune.data import Splits, fingerprint, load_splits
from narrowtune.data.load import DataError, read_records
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds import Model, get_kind
from narrowtune.progress import ProgressFn
from narrowtune.task import Task, load_task

if TYPE_CHECKING:
    from narrowtune.data.audit import AuditReport
    from narrowtune.evaluate.evaluation import Evaluation


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in (
        "narrowtune",
        "torch",
        "transformers",
        "accelerate",
        "scikit-learn",
        "onnxruntime",
        "numpy",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def data_fingerprints(splits: Splits) -> dict[str, str]:
    return {
        "train": fingerprint(splits.train),
        "validation": fingerprint(splits.validation),
        "test": fingerprint(splits.test),
    }


def audit(
    task: Task,
    *,
    fast: bool = False,
    checks: list[str] | None = None,
    stop_on_error: bool = False,
    progress: ProgressFn | None = None,
) -> AuditReport:
    """Audit the task's data; writes `runs/<task>/audit.json` and returns the report."""
    from narrowtune.data.audit import audit as run_audit

    report = run_audit(
        task, fast=fast, checks=checks, stop_on_error=stop_on_error, progress=progress
    )
    task.runs_path.mkdir(parents=True, exist_ok=True)
    runs.write_json(task.runs_path / "audit.json", report.to_dict())
    return report


class BlockingDataError(NarrowtuneError):
    """The fast audit found problems that must not be trained on."""


def check_before_training(task: Task) -> AuditReport:
    """Run the fast audit checks; raise when any finding is blocking."""
    from narrowtune.data.audit import audit as run_audit

    report = run_audit(task, fast=True)
    blocking = report.blocking()
    if blocking:
        lines = [f"- {f.check}: {f.message}" for f in blocking[:10]]
        raise BlockingDataError(
            f"the data audit found {len(blocking)} blocking problem(s):\n"
            + "\n".join(lines)
            + "\nFix them (`narrowtune audit task.yaml --fix clean.jsonl` writes a cleaned copy) "
            "or train anyway with --force."
        )
    return report


def train(
    task: Task,
    *,
    splits: Splits | None = None,
    progress: ProgressFn | None = None,
    evaluate_after: bool = True,
    force: bool = False,
) -> Path:
    """Train a model for `task` and write a complete run directory; returns its path.

    The fast audit checks run first and refuse blocking problems (secrets, unusable rows)
    unless `force`. The run is assembled in a staging folder and renamed into place only when
    everything is written, so an error or Ctrl-C leaves no partial run.
    """
    if not force and splits is None:
        check_before_training(task)
    splits = splits or load_splits(task)
    kind = task.plugin
    run_id = runs.new_run_id()
    final = task.runs_path / run_id
    with runs.staged_run(task.runs_path, run_id) as staging:
        start = time.perf_counter()
        model = kind.train(task, splits.train, splits.validation, progress=progress)
        train_seconds = time.perf_counter() - start
        model.save(staging / runs.MODEL_DIR)
        (staging / runs.TASK_FILE).write_text(yaml.safe_dump(task.resolved(), sort_keys=False))
        config = getattr(model, "config", None)
        info = {
            "run_id": run_id,
            "task": task.name,
            "kind": task.kind,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": task.seed,
            "train_seconds": round(train_seconds, 2),
            "sizes": splits.sizes(),
            "fingerprints": data_fingerprints(splits),
            "versions": library_versions(),
            "command": " ".join(sys.argv),
            "model": {k: v for k, v in vars(config).items() if k != "labels"} if config else {},
        }
        runs.write_json(staging / runs.RUN_FILE, info)
        evaluation = None
        if evaluate_after and splits.test:
            from narrowtune.evaluate import evaluate_model

            evaluation = evaluate_model(
                task, model, splits, baselines=False, latency=False, train_seconds=train_seconds
            )
            evaluation.run_id, evaluation.run_dir = run_id, str(final)
            runs.write_json(staging / runs.METRICS_FILE, evaluation.to_dict())
        from narrowtune.card import model_card

        runs.write_text(staging / runs.CARD_FILE, model_card(task, info, evaluation))
    return final


def resolve_run(run_dir: str | Path) -> Path:
    """The run directory `run_dir` names: itself, or for a task file (or its folder) the task's
    promoted run, else its newest."""
    path = Path(run_dir)
    if path.is_file() or ((path / "task.yaml").is_file() and not runs.is_run_dir(path)):
        task = load_task(path)
        path = runs.find_run(task.runs_path)
    if not runs.is_run_dir(path):
        raise NarrowtuneError(f"{path} is not a run directory (no {runs.RUN_FILE} + model/)")
    return path


def load(run_dir: str | Path, *, backend: str = "torch") -> Model:
    """Load the model of a run directory (or a task's run: pass the task file; see
    `resolve_run`)."""
    path = resolve_run(run_dir)
    info = runs.read_json(path / runs.RUN_FILE)
    return get_kind(info["kind"]).load(path / runs.MODEL_DIR, backend=backend)


def evaluate(
    task: Task,
    *,
    run: str | None = None,
    baselines: bool = True,
    backend: str = "torch",
    progress: ProgressFn | None = None,
) -> tuple[Evaluation, Path]:
    """Evaluate a run and every baseline on the task's test split; writes metrics + report."""
    from narrowtune.evaluate import evaluate_model
    from narrowtune.evaluate.report import write_report

    run_dir = runs.find_run(task.runs_path, run)
    info = runs.read_json(run_dir / runs.RUN_FILE)
    splits = load_splits(task)
    evaluation_warnings = []
    if data_fingerprints(splits)["test"] != info["fingerprints"]["test"]:
        evaluation_warnings.append(
            "the test data differs from the data this run was trained with "
            f"(fingerprint {info['fingerprints']['test']} at training time)"
        )
    model = load(run_dir, backend=backend)
    evaluation = evaluate_model(
        task,
        model,
        splits,
        baselines=baselines,
        train_seconds=info.get("train_seconds"),
        progress=progress,
    )
    evaluation.run_id, evaluation.run_dir = info["run_id"], str(run_dir)
    evaluation.backend, evaluation.warnings = backend, evaluation_warnings
    from narrowtune.data.audit import audit as run_audit
    from narrowtune.data.audit import audit_html

    # The report shows the fast data checks too (they take well under a second).
    html = audit_html(run_audit(task, fast=True))
    stored = evaluation.to_dict()
    runs.write_json(run_dir / runs.METRICS_FILE, stored)
    advice = runs.read_advice(task.runs_path)  # `narrowtune advise`, when it has run
    write_report(
        {**stored, "audit_html": html, **({"advice": advice} if advice else {})},
        run_dir / runs.REPORT_FILE,
    )
    from narrowtune.card import model_card

    runs.write_text(run_dir / runs.CARD_FILE, model_card(task, info, evaluation))
    return evaluation, run_dir


def read_inputs(path: Path, text_column: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Texts to predict and their original records; every row must have a text."""
    columns, records = read_records(path)
    if not records:
        raise DataError(f"{path}: no rows to predict")
    if text_column not in columns:
        raise DataError(
            f"{path}: no text column '{text_column}' (columns: {', '.join(columns)}); "
            "pass --text-column"
        )
    texts = []
    for row, record in records:
        text = record.get(text_column)
        if text is None or not str(text).strip():
            raise DataError(f"{path}:{row}: empty text in column '{text_column}'")
        texts.append(str(text))
    return texts, [r for _, r in records]


PREDICTION_COLUMNS = (
    "label",
    "confidence",
    "abstain",
    "outcome",
    "reasons",
    "output",
    "valid",
    "missing",
    "problems",
)


def prediction_names(columns: Iterable[str]) -> dict[str, str]:
    """The name each of narrowtune's output columns gets beside the input's `columns`: its own
    name, or `predicted_<name>` (with more `predicted_` as needed) when the input already has a
    column of that name, so an input column (often a gold `label`) is never overwritten."""
    taken = set(columns)
    names: dict[str, str] = {}
    for name in PREDICTION_COLUMNS:
        new = name
        while new in taken:
            new = f"predicted_{new}"
        taken.add(new)
        names[name] = new
    return names


def renamed_columns_note(columns: Iterable[str]) -> str | None:
    """A plain sentence naming the output columns renamed to keep the input's, or None."""
    renamed = {k: v for k, v in prediction_names(columns).items() if k != v}
    if not renamed:
        return None
    pairs = ", ".join(f"'{v}' (input already has '{k}')" for k, v in renamed.items())
    return f"input columns kept as they were; predictions written as {pairs}"


def format_predictions(
    records: Iterable[dict[str, Any]],
    predictions: Iterable[Any],
    fmt: str,
    columns: Iterable[str] | None = None,
) -> str:
    """Input records, every input column as it was, with `label`, `confidence` and `abstain`
    added, as JSONL or CSV. An input column with one of those names keeps its values and the
    prediction's column is named `predicted_<name>` instead (`prediction_names`).

    Structured kinds add `output` (JSON, or text), `valid`, `missing` and `problems`; CSV cells
    hold them as JSON text. Moderation tasks add `outcome` and `reasons`.
    """
    records = list(records)
    if columns is None:
        columns = list(dict.fromkeys(k for r in records for k in r))
    names = prediction_names(columns)
    rows = []
    for record, pred in zip(records, predictions):
        label = pred.label if isinstance(pred.label, str) else "|".join(pred.label)
        out = dict(record)
        added: dict[str, Any] = {
            "label": pred.label if fmt == "jsonl" else label,
            "confidence": pred.confidence,
            "abstain": pred.abstain,
        }
        if pred.outcome is not None:  # moderation: allow / block / review, and why
            added["outcome"] = pred.outcome
            added["reasons"] = pred.reasons if fmt == "jsonl" else "; ".join(pred.reasons)
        if pred.output is not None or pred.problems or pred.missing or not pred.valid:
            extra = {
                "output": pred.output,
                "valid": pred.valid,
                "missing": pred.missing,
                "problems": pred.problems,
            }
            if fmt != "jsonl":
                extra = {
                    k: v if isinstance(v, str | bool) else json.dumps(v, ensure_ascii=False)
                    for k, v in extra.items()
                }
            added.update(extra)
        out.update({names[k]: v for k, v in added.items()})
        rows.append(out)
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    buffer = io.StringIO()
    fieldnames = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def predict_file(
    model: Model,
    input_path: Path,
    *,
    text_column: str = "text",
    output: Path | None = None,
    fmt: str | None = None,
    batch_size: int = 64,
    notes: list[str] | None = None,
) -> str:
    """Predict every row of a file; writes `output` atomically when given, returns the text.
    Every input column is kept as it was; `notes` (when given) receives a sentence naming the
    prediction columns renamed to make room for input columns of the same name."""
    texts, records = read_inputs(input_path, text_column)
    columns = list(dict.fromkeys(k for r in records for k in r))
    note = renamed_columns_note(columns)
    if note is not None and notes is not None:
        notes.append(note)
    fmt = fmt or ("csv" if output and output.suffix.lower() == ".csv" else "jsonl")
    predictions = model.predict(texts, batch_size=batch_size)
    if len(predictions) != len(texts):  # never drop a row silently
        raise NarrowtuneError(f"model returned {len(predictions)} predictions for {len(texts)}")
    text = format_predictions(records, predictions, fmt, columns)
    if output is not None:
        atomic.write_text(output, text)
    return text
