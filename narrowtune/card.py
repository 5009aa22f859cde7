"""The model card (README.md) written into every run directory.

The card's "Model" facts and its limits come from the task's kind (`Kind.card`); the systems
table uses the evaluation's summary columns (or the ones the kind picks for its card).
"""

from __future__ import annotations

from typing import Any

from narrowtune.evaluate.columns import cells, summary_columns
from narrowtune.evaluate.costs import cost_lines
from narrowtune.evaluate.evaluation import Column, Evaluation, margin_sentence
from narrowtune.evaluate.moderation import moderation_lines
from narrowtune.evaluate.scope import scope_lines
from narrowtune.task import Task


def model_card(task: Task, info: dict[str, Any], evaluation: Evaluation | None) -> str:
    kind = task.plugin
    model = info.get("model", {})
    if kind.card.model_lines is not None:
        facts = kind.card.model_lines(task, info)
    else:
        facts = [
            f"- Kind: `{task.kind}`; base `{model.get('base', task.model.base)}`; "
            f"seed {info['seed']}; {info['train_seconds']:.0f} s of training",
            *[f"- {k}: {v}" for k, v in model.items() if not isinstance(v, dict | list)],
            *[f"- {line}" for line in model.get("card_notes", [])],
        ]
    lines = [
        f"# {task.name} — narrowtune {task.kind} model",
        "",
        task.description or "A narrow model trained with narrowtune.",
        "",
        "## Model",
        *facts,
        "- Weights: safetensors only (`model/`); load with `narrowtune.load(path)`.",
        "",
        "## Data",
        f"- Examples: {info['sizes']}",
        f"- Fingerprints: {info['fingerprints']}",
        "",
        "## Evaluation (test split)",
    ]
    columns = summary_columns(evaluation) if evaluation else []
    if kind.card.columns is not None:
        columns = [c for c in columns if c.key in kind.card.columns]
    lines += _evaluation_lines(evaluation, columns)
    lines += [
        "",
        "## Intended use and limits",
        kind.card.limits,
        "",
        "## Reproduce",
        f"`{info.get('command', 'narrowtune train task.yaml')}` with library versions "
        f"{info['versions']}.",
        "",
    ]
    return "\n".join(lines)


def _evaluation_lines(evaluation: Evaluation | None, columns: list[Column]) -> list[str]:
    """The systems table (one row per system, the given summary columns) and the margin."""
    if not evaluation:
        return ["Not evaluated (no test split)."]
    lines = [
        "",
        "| system | " + " | ".join(c.header for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    lines += [f"| {s.name} | " + " | ".join(cells(s, columns)) + " |" for s in evaluation.systems]
    margin = evaluation.margin
    if margin.delta is not None:
        lines += [
            "",
            f"Margin over the best baseline ({margin.best_baseline}): "
            f"{100 * margin.delta:+.1f} points of {margin.metric}.",
        ]
        if margin.interval_low is not None:
            sentence = margin_sentence(margin)
            lines += ["", f"How sure: {sentence}."]
    else:
        lines += ["", "Baselines not yet measured: run `narrowtune eval`."]
    scope = scope_lines(evaluation)
    if scope:
        lines += ["", "Out-of-scope requests:", "", "```", *scope, "```"]
    costs = cost_lines(evaluation)
    if costs:
        lines += ["", "Cost of mistakes:", "", "```", *costs, "```"]
    moderation = moderation_lines(evaluation)
    if moderation:
        lines += ["", "Moderation:", "", "```", *moderation, "```"]
    return lines
