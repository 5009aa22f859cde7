"""Kind `classify`: single- and multi-label text classification (routing, moderation, intents).

This module is the plug-in declaration only (light: no torch). The model is in `model.py`, the
training recipe in `train.py`, ONNX export in `onnx.py`, multi-process training in
`distributed.py` and `worker.py`, the `init` starter in `scaffold.py`; its evaluation against the
baselines is `narrowtune.evaluate.classify`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from narrowtune.kinds.base import AuditPolicy, CardSpec, Kind
from narrowtune.moderation.spec import ModerationSpec

if TYPE_CHECKING:
    from narrowtune.task import Task


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def card_lines(task: Task, info: dict[str, Any]) -> list[str]:
    """The model card's "Model" facts of a classifier run."""
    model = info.get("model", {})
    lines = [
        f"- Kind: `{task.kind}`{' (multi-label)' if task.multi_label else ''}",
        f"- Base encoder: `{task.model.base}` (fine-tuned, linear head initialised from a probe)",
        f"- Training mode: {model.get('mode', '?')}; seed {info['seed']}; "
        f"{info['train_seconds']:.0f} s of training",
        f"- Calibration: temperature {model.get('temperature', 1.0):.3f} fitted on validation",
        f"- Abstention: confidence below {model.get('threshold', 0.0):.3f} goes to a human "
        f"(chosen on validation for {_pct(model.get('target_precision'))} precision; "
        f"{_pct(model.get('validation_coverage'))} of validation examples kept)",
    ]
    moderation = model.get("moderation")
    if moderation:
        lines.append(
            f"- Moderation: allow label `{moderation['allow_label']}`; normalisation "
            f"{'on' if moderation['normalize'] else 'off'}; block thresholds per label chosen on "
            f"validation for a {moderation['false_positive_budget']:.1%} false-positive budget; "
            "reviewers see the original text"
        )
        for name, t in moderation.get("thresholds", {}).items():
            lines.append(
                f"  - `{name}`: block at ≥ {t['block']:.3f}, review at ≥ {t['review']:.3f}"
            )
    return lines


def settle(task: Task) -> None:
    if task.metric == "micro_f1" and not task.multi_label:
        raise ValueError("metric 'micro_f1' is for multi_label tasks; use 'accuracy'")
    moderation: ModerationSpec = task.moderation
    if moderation.enabled:
        if task.labels and moderation.allow_label not in task.labels:
            raise ValueError(
                f"moderation.allow_label {moderation.allow_label!r} is not one of the labels "
                f"({', '.join(task.labels)})"
            )
        if task.train.processes > 1:
            raise ValueError("moderation tasks train in one process: set train.processes: 1")
        if len(task.labels or {}) == 1:
            raise ValueError(
                "a moderation task needs at least one policy label besides the allow label"
            )


KIND = Kind(
    name="classify",
    summary="label each text with one label or a set of labels (routing, moderation, intents)",
    metrics=("accuracy", "macro_f1", "micro_f1"),
    trainer="narrowtune.kinds.classify.train:train",
    loader="narrowtune.kinds.classify.model:load",
    evaluator="narrowtune.evaluate.classify:evaluate",
    backends=("torch", "onnx", "onnx-int8"),
    settle=settle,
    section="moderation",
    spec=ModerationSpec,
    scaffold="narrowtune.kinds.classify.scaffold:scaffold",
    audit=AuditPolicy(rewritable=True),
    card=CardSpec(
        model_lines=card_lines,
        columns=("accuracy", "macro_f1", "ece", "abstention.coverage"),
        limits="A narrow model for the labels above only. Inputs outside them get a low "
        "confidence at best: route abstentions to a person, and retrain when the data drifts.",
    ),
)
