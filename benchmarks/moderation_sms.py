"""SMS Spam Collection as a moderation task: spam F1, ham false-positive rate, and how much a
disguised copy of the test set costs with the normaliser on and off.

    python benchmarks/moderation_sms.py

1. Read ../shared/data/sms_spam_collection/SMSSpamCollection.tsv in place (label<TAB>text).
2. Drop repeated texts (first copy kept), then a seeded stratified 80/20 split (seed 0; the
   test rows' fingerprint is recorded). narrowtune carves 10% of the 80% for validation, where
   the thresholds are chosen; the test 20% is only scored.
3. Train narrowtune's moderation classifier (labels ham/spam, allow label ham) with the default
   encoder; evaluate it beside the baselines, and on the disguised test copy.

Writes benchmarks/results/moderation_sms.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import yaml
from audit_common import Timer, write_result
from banking77 import short_name
from sklearn.model_selection import train_test_split

from narrowtune import api
from narrowtune.task import load_task

ROOT = Path(__file__).resolve().parent.parent
SOURCE = next(
    (
        p / "shared" / "data" / "sms_spam_collection" / "SMSSpamCollection.tsv"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared" / "data" / "sms_spam_collection").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "sms_spam_collection" / "SMSSpamCollection.tsv",
)
SEED = 0


def read_deduplicated(path: Path) -> list[tuple[str, str]]:
    """(label, text) pairs, the first copy of each text only."""
    seen: set[str] = set()
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            label, text = line.rstrip("\n").split("\t", 1)
            if text in seen:
                continue
            seen.add(text)
            rows.append((label, text))
    return rows


def write_jsonl(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for label, text in rows:
            out.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")


def write_task(folder: Path) -> Path:
    task = {
        "name": "sms-spam",
        "kind": "classify",
        "data": {"train": "train.jsonl", "test": "test.jsonl"},
        "labels": {
            "ham": "A normal personal text message between people.",
            "spam": "Unsolicited advertising, a prize or lottery scam, or a premium-rate offer.",
        },
        "moderation": {"allow_label": "ham", "false_positive_budget": 0.005},
        "split": {"validation": 0.1, "test": 0.0},
        "model": {"max_length": 128},
        "metric": "accuracy",
        "runs_dir": str(folder / "runs"),
        "seed": 13,
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(task))
    return path


def main() -> None:
    rows = read_deduplicated(SOURCE)
    labels = [label for label, _ in rows]
    train, test = train_test_split(rows, test_size=0.2, stratify=labels, random_state=SEED)
    fingerprint = hashlib.sha256("\n".join(t for _, t in test).encode()).hexdigest()[:16]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_jsonl(folder / "train.jsonl", train)
        write_jsonl(folder / "test.jsonl", test)
        task = load_task(write_task(folder))
        with Timer() as timer:
            run_dir = api.train(task, evaluate_after=False)
        evaluation, _ = api.evaluate(task, run=str(run_dir), baselines=True)
    result = evaluation.to_dict()
    # Kept beside the figures' computation, so a slip below does not cost the whole run.
    Path(tempfile.gettempdir(), "moderation_sms_evaluation.json").write_text(
        json.dumps(result, default=str)
    )
    out: dict[str, object] = {
        "rows": len(rows) + 0,
        "rows_deduplicated_from": sum(1 for _ in SOURCE.open(encoding="utf-8")),
        "train_rows": len(train),
        "test_rows": len(test),
        "test_spam": sum(1 for label, _ in test if label == "spam"),
        "split": f"stratified 80/20, sklearn train_test_split random_state={SEED}",
        "test_fingerprint": fingerprint,
        "train_seconds": round(timer.seconds, 1),
    }
    for system in result["systems"]:
        key = short_name(system["name"])
        spam = system["metrics"]["per_class"]["spam"]
        out[f"{key}_spam_f1"] = round(spam["f1"], 4)
        out[f"{key}_spam_precision"] = round(spam["precision"], 4)
        out[f"{key}_spam_recall"] = round(spam["recall"], 4)
        out[f"{key}_accuracy"] = round(system["metrics"]["accuracy"], 4)
    moderation = evaluation.details["moderation"]
    outcomes = moderation["outcomes"]
    threshold = moderation["labels"]["spam"]
    out.update(
        spam_block_threshold=round(threshold["block"], 4),
        spam_review_threshold=round(threshold["review"], 4),
        ham_blocked_rate=round(outcomes["benign_block"], 4),
        ham_reviewed_rate=round(outcomes["benign_review"], 4),
        spam_blocked_rate=round(outcomes["abusive_block"], 4),
        spam_let_through_rate=round(outcomes["abusive_allow"], 4),
    )
    for row in moderation["robustness"]:
        key = f"{row['test']}_norm_{row['normalization']}"
        out[f"{key}_spam_f1"] = round(row["harm_f1"], 4)
        out[f"{key}_spam_recall"] = round(row["harm_recall"], 4)
        out[f"{key}_ham_blocked_rate"] = round(row["false_positive_rate"], 4)
    for state in ("on", "off"):
        clean, disguised = (
            out[f"clean_norm_{state}_spam_recall"],
            out[f"disguised_norm_{state}_spam_recall"],
        )
        out[f"recall_drop_points_norm_{state}"] = round(100 * (clean - disguised), 2)  # type: ignore[operator]
    write_result("moderation_sms", out)


if __name__ == "__main__":
    sys.exit(main())
