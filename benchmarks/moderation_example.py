"""The community-moderation example: per-label P/R/F1, outcomes, false positives on the hard
benign cases, new vs known phrasings, disguised text — fine-tuned vs the baselines.

    python benchmarks/moderation_example.py

Trains examples/moderation/task.yaml (runs in a temporary folder), evaluates it with every
baseline on messages_test.jsonl, and joins the test predictions with the generator's metadata
(`family`, `hard`, `novel`). Writes benchmarks/results/moderation_example.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from audit_common import Timer, write_result
from banking77 import short_name

from narrowtune import api
from narrowtune.data import load_splits
from narrowtune.encoders import Encoder
from narrowtune.evaluate import baselines as bl
from narrowtune.evaluate.classify import prepared_splits
from narrowtune.evaluate.moderation import policy_scores
from narrowtune.task import load_task

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "moderation"


def flagged(predicted: str | list[str], allow: str) -> bool:
    """Whether a system's labels put any policy label on the message."""
    names = [predicted] if isinstance(predicted, str) else predicted
    return any(n != allow for n in names)


def main() -> None:
    meta = [json.loads(line) for line in (EXAMPLE / "messages_test.jsonl").open()]
    with tempfile.TemporaryDirectory() as tmp:
        task = load_task(EXAMPLE / "task.yaml", overrides=[f"runs_dir={tmp}"])
        with Timer() as timer:
            run_dir = api.train(task, evaluate_after=False)
        evaluation, _ = api.evaluate(task, run=str(run_dir), baselines=True)
        model = api.load(run_dir)
        splits = load_splits(task)
        assert [ex.text for ex in splits.test] == [m["text"] for m in meta]
        predictions = model.predict([ex.text for ex in splits.test])
        # The frozen-embedding baseline's labels on the same (normalised) texts.
        seen = prepared_splits(model, splits)
        encoder = Encoder.from_pretrained(task.model.base, max_length=task.model.max_length)
        logreg = bl.logistic_regression(
            encoder.encode([ex.text for ex in seen.train]),
            seen.train,
            encoder.encode([ex.text for ex in seen.validation]),
            seen.validation,
            model.labels,
            multi_label=True,
            target_precision=task.abstain.target_precision,
            seed=task.seed,
        )
        lr_predicted, _ = logreg.decide(
            logreg.predict_proba(encoder.encode([ex.text for ex in seen.test]))
        )
    allow = task.moderation.allow_label
    hard = np.array([m["hard"] for m in meta], dtype=bool)
    novel = np.array([m.get("novel", False) for m in meta], dtype=bool)
    outcome = np.array([p.outcome for p in predictions])
    out: dict[str, object] = {
        "test_messages": len(meta),
        "hard_benign": int(hard.sum()),
        "novel_phrasings": int(novel.sum()),
        "train_seconds": round(timer.seconds, 1),
        "hard_benign_blocked_rate": round(float(np.mean(outcome[hard] == "block")), 4),
        "hard_benign_reviewed_rate": round(float(np.mean(outcome[hard] == "review")), 4),
        "hard_benign_flagged_fine_tuned": round(
            float(np.mean([flagged(predictions[i].label, allow) for i in np.flatnonzero(hard)])),
            4,
        ),
        "hard_benign_flagged_logreg": round(
            float(np.mean([flagged(lr_predicted[i], allow) for i in np.flatnonzero(hard)])), 4
        ),
    }
    details = evaluation.details["moderation"]
    outcomes = details["outcomes"]
    out.update(
        allow_rate=round(outcomes["allow"], 4),
        block_rate=round(outcomes["block"], 4),
        review_rate=round(outcomes["review"], 4),
        benign_blocked_rate=round(outcomes["benign_block"], 4),
        abuse_let_through_rate=round(outcomes["abusive_allow"], 4),
    )
    for system in evaluation.systems:
        key = short_name(system.name)
        out[f"{key}_micro_f1"] = round(system.metrics["micro_f1"], 4)
        for label, scores in system.metrics["per_class"].items():
            if label != allow and key in ("fine_tuned", "logreg"):
                out[f"{key}_{label}_precision"] = round(scores["precision"], 4)
                out[f"{key}_{label}_recall"] = round(scores["recall"], 4)
                out[f"{key}_{label}_f1"] = round(scores["f1"], 4)
    for subset, mask in (("novel", novel), ("known", ~novel)):
        rows = np.flatnonzero(mask)
        scores = policy_scores(
            [splits.test[i] for i in rows],
            [predictions[i].label for i in rows],
            model.moderator.policy_labels,
        )
        out[f"{subset}_phrasings_policy_f1"] = round(scores["harm_f1"] or 0.0, 4)
    for row in details["robustness"]:
        key = f"{row['test']}_norm_{row['normalization']}"
        out[f"{key}_policy_f1"] = round(row["harm_f1"], 4)
        out[f"{key}_policy_recall"] = round(row["harm_recall"], 4)
    write_result("moderation_example", out)


if __name__ == "__main__":
    sys.exit(main())
