"""The model card (README.md) written into every run directory."""

from __future__ import annotations

from typing import Any

from narrowtune.task import Task


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def model_card(task: Task, info: dict[str, Any], evaluation: dict[str, Any] | None) -> str:
    if task.kind != "classify":
        return _generic_card(task, info, evaluation)
    model = info.get("model", {})
    lines = [
        f"# {task.name} — narrowtune {task.kind} model",
        "",
        task.description or "A narrow model trained with narrowtune.",
        "",
        "## Model",
        f"- Kind: `{task.kind}`{' (multi-label)' if task.multi_label else ''}",
        f"- Base encoder: `{task.model.base}` (fine-tuned, linear head initialised from a probe)",
        f"- Training mode: {model.get('mode', '?')}; seed {info['seed']}; "
        f"{info['train_seconds']:.0f} s of training",
        f"- Calibration: temperature {model.get('temperature', 1.0):.3f} fitted on validation",
        f"- Abstention: confidence below {model.get('threshold', 0.0):.3f} goes to a human "
        f"(chosen on validation for {_pct(model.get('target_precision'))} precision; "
        f"{_pct(model.get('validation_coverage'))} of validation examples kept)",
        "- Weights: safetensors only (`model/`); load with `narrowtune.load(path)`.",
        "",
        "## Data",
        f"- Examples: {info['sizes']}",
        f"- Fingerprints: {info['fingerprints']}",
        "",
        "## Evaluation (test split)",
    ]
    from narrowtune.evaluate.columns import CLASSIFY_COLUMNS

    lines += _evaluation_lines(evaluation, CLASSIFY_COLUMNS[:4])  # acc, F1, ECE, coverage
    lines += _closing_lines(
        info,
        "A narrow model for the labels above only. Inputs outside them get a low confidence at "
        "best: route abstentions to a person, and retrain when the data drifts.",
    )
    return "\n".join(lines)


def _generic_card(task: Task, info: dict[str, Any], evaluation: dict[str, Any] | None) -> str:
    """The card of kinds other than classify: model facts from the run, the summary columns."""
    from narrowtune.evaluate.columns import summary_columns

    model = info.get("model", {})
    lines = [
        f"# {task.name} — narrowtune {task.kind} model",
        "",
        task.description or "A narrow model trained with narrowtune.",
        "",
        "## Model",
        f"- Kind: `{task.kind}`; base `{model.get('base', task.model.base)}`; seed {info['seed']}; "
        f"{info['train_seconds']:.0f} s of training",
        *[f"- {k}: {v}" for k, v in model.items() if not isinstance(v, dict | list)],
        *[f"- {line}" for line in model.get("card_notes", [])],
        "- Weights: safetensors only (`model/`); load with `narrowtune.load(path)`.",
        "",
        "## Data",
        f"- Examples: {info['sizes']}",
        f"- Fingerprints: {info['fingerprints']}",
        "",
        "## Evaluation (test split)",
    ]
    lines += _evaluation_lines(evaluation, summary_columns(evaluation) if evaluation else [])
    lines += _closing_lines(
        info,
        "A narrow model for this one job. Check its outputs (invalid or low-confidence ones go "
        "to a person) and retrain when the data drifts.",
    )
    return "\n".join(lines)


def _evaluation_lines(
    evaluation: dict[str, Any] | None, columns: list[dict[str, str]]
) -> list[str]:
    """The systems table (one row per system, the given summary columns) and the margin."""
    from narrowtune.evaluate.columns import cells

    if not evaluation:
        return ["Not evaluated (no test split)."]
    lines = [
        "",
        "| system | " + " | ".join(c["header"] for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    lines += [
        f"| {s['name']} | " + " | ".join(cells(s, columns)) + " |" for s in evaluation["systems"]
    ]
    margin = evaluation.get("margin", {})
    if margin.get("delta") is not None:
        lines += [
            "",
            f"Margin over the best baseline ({margin['best_baseline']}): "
            f"{100 * margin['delta']:+.1f} points of {margin['metric']}.",
        ]
    else:
        lines += ["", "Baselines not yet measured: run `narrowtune eval`."]
    return lines


def _closing_lines(info: dict[str, Any], limits: str) -> list[str]:
    return [
        "",
        "## Intended use and limits",
        limits,
        "",
        "## Reproduce",
        f"`{info.get('command', 'narrowtune train task.yaml')}` with library versions "
        f"{info['versions']}.",
        "",
    ]
