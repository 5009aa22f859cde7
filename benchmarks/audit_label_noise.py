"""Label-error detection on BANKING77 with labels flipped at random, and what `--fix` buys.

Reproduces benchmarks/results/audit_banking77_noise5.json and audit_banking77_noise10.json:

    python benchmarks/audit_label_noise.py                 # both rates, seed 0 (about 5-8 min)
    python benchmarks/audit_label_noise.py --rates 0.05
    python benchmarks/audit_label_noise.py --ablation --rates 0.05   # -> *_ablation.json (~4 min)

Recipe, top to bottom:
1. read BANKING77 train and test (../shared/data/banking77); flip `rate` of the train labels,
   each to a different label drawn uniformly (numpy default_rng(seed)); write the noisy train
   file to a temporary folder;
2. a task with that train file and the real test file; run the whole `narrowtune.data.audit`
   (every check, encoding included) and time it; the first rate encodes, later rates reuse the
   embeddings (their audit time says so);
3. precision / recall of the `label_issues` finding's training rows against the flipped rows;
4. `write_fixed` to a temporary JSONL; frozen-embedding softmax regression (C=10, as the eval
   baseline) trained on the noisy train file vs on the fixed file, accuracy on the whole clean
   test file; also `measure_impact` (the `--impact` figure, test rows the audit suspects left
   out) and the same model on the original clean labels for reference.

`--ablation` instead scores variants of the label-issue recipe on the training rows alone (same
flips, same folds), from the plain one in the issue (scikit-learn logistic regression, cleanlab
defaults) to the one the audit ships (softmax regression + kNN, temperature, low self-confidence).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import SHARED_DATA, Timer, write_result

from narrowtune.data import load_examples
from narrowtune.data.audit import audit, embed, measure_impact, write_fixed
from narrowtune.data.audit.probe import fit_softmax
from narrowtune.task import task_from_mapping

DATA = SHARED_DATA / "banking77"


def read_csv(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def flip(labels: list[str], rate: float, seed: int) -> tuple[list[str], set[int]]:
    """`rate` of the labels, chosen without replacement, each moved to another label."""
    names = sorted(set(labels))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(labels), size=round(rate * len(labels)), replace=False)
    noisy = list(labels)
    for i in chosen:
        others = [n for n in names if n != labels[i]]
        noisy[i] = others[int(rng.integers(len(others)))]
    return noisy, {int(i) for i in chosen}


def accuracy(train_x, train_y, test_x, test_y, names) -> float:
    index = {n: i for i, n in enumerate(names)}
    probe = fit_softmax(train_x, np.array([index[y] for y in train_y]), len(names), l2=0.1)
    predicted = probe.predict_proba(test_x).argmax(axis=1)
    return float((predicted == np.array([index[y] for y in test_y])).mean())


def ablation(texts: list[str], labels: list[str], rate: float, seed: int, cache: dict) -> None:
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from narrowtune.data.audit.checks.label_issues import calibrate, out_of_fold_probabilities
    from narrowtune.data.audit.probe import knn_proba

    noisy, flipped = flip(labels, rate, seed)
    names = sorted(set(labels))
    y = np.array([names.index(n) for n in noisy])
    x = embed(texts, base="all-MiniLM-L6-v2", max_length=64, cache=cache)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y))
    sk = np.zeros((len(y), len(names)))
    linear = np.zeros_like(sk)
    knn = np.zeros_like(sk)
    for fit, held in folds:
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x[fit], y[fit])
        sk[held] = model.predict_proba(x[held])
        linear[held] = fit_softmax(x[fit], y[fit], len(names), l2=1.0).predict_proba(x[held])
        knn[held] = knn_proba(x[fit], y[fit], x[held], len(names))
    shipped = out_of_fold_probabilities(x, y, len(names), seed=seed)
    assert np.allclose(shipped, (linear + knn) / 2)

    def score(probs: np.ndarray, filter_by: str) -> dict[str, float]:
        found = set(np.flatnonzero(find_label_issues(y, probs, filter_by=filter_by)).tolist())
        hits = len(found & flipped)
        return {
            "precision": round(hits / max(1, len(found)), 4),
            "recall": round(hits / len(flipped), 4),
            "flagged": len(found),
        }

    variants = {
        "sklearn_lr_C1_cleanlab_default": (sk, "prune_by_noise_rate"),
        "sklearn_lr_C1_both": (sk, "both"),
        "sklearn_lr_C1_low_self_confidence": (sk, "low_self_confidence"),
        "softmax_l2_1_low_self_confidence": (linear, "low_self_confidence"),
        "softmax_l2_1_calibrated_low_self_confidence": (
            calibrate(linear, y)[0],
            "low_self_confidence",
        ),
        "knn20_calibrated_low_self_confidence": (calibrate(knn, y)[0], "low_self_confidence"),
        "ensemble_low_self_confidence": (shipped, "low_self_confidence"),
        "ensemble_calibrated_cleanlab_default": (calibrate(shipped, y)[0], "prune_by_noise_rate"),
        "ensemble_calibrated_both": (calibrate(shipped, y)[0], "both"),
        "ensemble_calibrated_low_self_confidence_SHIPPED": (
            calibrate(shipped, y)[0],
            "low_self_confidence",
        ),
    }
    result: dict = {"noise_rate": rate, "flip_seed": seed, "rows": len(y), "folds": 5}
    for name, (probs, filter_by) in variants.items():
        for key, value in score(probs, filter_by).items():
            result[f"{name}_{key}"] = value
    result["sklearn_lr_C1_oof_accuracy_vs_clean"] = round(
        float((sk.argmax(1) == np.array([names.index(n) for n in labels])).mean()), 4
    )
    result["ensemble_oof_accuracy_vs_clean"] = round(
        float((shipped.argmax(1) == np.array([names.index(n) for n in labels])).mean()), 4
    )
    write_result(f"audit_banking77_noise{round(rate * 100)}_ablation", result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.10])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ablation", action="store_true", help="score recipe variants")
    args = parser.parse_args()
    texts, labels = read_csv(DATA / "train.csv")
    if args.ablation:
        cache: dict[str, np.ndarray] = {}
        for rate in args.rates:
            ablation(texts, labels, rate, args.seed, cache)
        return
    test_texts, test_labels = read_csv(DATA / "test.csv")
    names = sorted(set(labels))
    cache = {}
    for rate in args.rates:
        noisy, flipped = flip(labels, rate, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            # JSONL, so that a row's line number is its index + 1 (CSV quoting can span lines).
            train_path = Path(tmp) / "train_noisy.jsonl"
            with train_path.open("w", encoding="utf-8") as handle:
                for text, label in zip(texts, noisy, strict=True):
                    handle.write(json.dumps({"text": text, "category": label}) + "\n")
            task = task_from_mapping(
                {
                    "name": "banking77-noisy",
                    "data": {
                        "train": str(train_path),
                        "test": str(DATA / "test.csv"),
                        "label_column": "category",
                    },
                    "split": {"validation": 0.0},
                    "seed": args.seed,
                },
                base_dir=tmp,
            )
            encoded_before = len(cache)
            with Timer() as timer:
                report = audit(task, embedding_cache=cache)
            finding = report.by_check("label_issues")[0]
            flagged_rows = [issue["row"] for issue in finding.evidence["issues"]]
            prefix = f"{train_path}:"
            flagged = {int(w[len(prefix) :]) - 1 for w in flagged_rows if w.startswith(prefix)}
            true_positives = len(flagged & flipped)
            fixed_path = Path(tmp) / "train_fixed.jsonl"
            counts = write_fixed(task, report, fixed_path)
            fixed = load_examples(fixed_path, text_column="text", label_column="category")
            impact = measure_impact(task, report, seed=args.seed, embedding_cache=cache)
        options = {"base": task.model.base, "max_length": task.model.max_length, "cache": cache}
        train_x = embed(texts, **options)
        test_x = embed(test_texts, **options)
        fixed_x = embed([ex.text for ex in fixed], **options)
        tag = f"{round(rate * 100)}"
        result = {
            "dataset": "BANKING77 train (10,003 rows) + test (3,080 rows)",
            "noise_rate": rate,
            "flip_seed": args.seed,
            "flipped_rows": len(flipped),
            "label_issue_method": finding.evidence["method"],
            "flagged_train_rows": len(flagged),
            "flagged_test_rows": len(flagged_rows) - len(flagged),
            "precision": round(true_positives / max(1, len(flagged)), 4),
            "recall": round(true_positives / len(flipped), 4),
            "true_positives": true_positives,
            "out_of_fold_accuracy_vs_given_labels": finding.evidence["out_of_fold_accuracy"],
            "audit_seconds": round(timer.seconds, 1),
            "audit_cpu_seconds": round(timer.cpu, 1),
            "audit_encoded_texts": len(cache) - encoded_before,
            "audit_seconds_per_step": report.stats["seconds_per_step"],
            "fix_written_rows": counts["written"],
            "fix_review_rows": counts["set_aside_for_review"],
            "fix_dropped_duplicates": counts["dropped_exact_duplicates"]
            + counts["dropped_near_duplicates"],
            "test_accuracy_noisy_train": round(
                accuracy(train_x, noisy, test_x, test_labels, names), 4
            ),
            "test_accuracy_fixed_train": round(
                accuracy(fixed_x, [ex.label for ex in fixed], test_x, test_labels, names), 4
            ),
            "test_accuracy_clean_train_reference": round(
                accuracy(train_x, labels, test_x, test_labels, names), 4
            ),
            "impact_model": impact["model"],
            "impact_raw_accuracy": impact["raw_accuracy"],
            "impact_clean_accuracy": impact["clean_accuracy"],
            "impact_test_rows": impact["test_rows"],
        }
        result["test_accuracy_gain_from_fix"] = round(
            result["test_accuracy_fixed_train"] - result["test_accuracy_noisy_train"], 4
        )
        write_result(f"audit_banking77_noise{tag}", result)


if __name__ == "__main__":
    main()
