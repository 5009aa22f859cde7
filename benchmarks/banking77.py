"""BANKING77: narrowtune's fine-tuned classifier vs every baseline, on the official test split.

    python benchmarks/banking77.py full                 # full training data
    python benchmarks/banking77.py 10shot --draws 5     # 10 examples per intent, 5 seeded draws

Writes benchmarks/results/banking77_<setting>.json (flat keys + command, date, machine).
Data: ../shared/data/banking77 (CC BY 4.0, Casanueva et al. 2020); read in place, never copied.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import yaml

from narrowtune import api
from narrowtune.data import Example, Splits, load_examples
from narrowtune.evaluate import evaluate_model, machine_description
from narrowtune.task import load_task

ROOT = Path(__file__).resolve().parent.parent
# ../shared/data beside the checkout (a git worktree one level deeper finds it a level up).
DATA = next(
    (
        p / "shared" / "data" / "banking77"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared" / "data" / "banking77").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "banking77",
)
RESULTS = ROOT / "benchmarks" / "results"
SHORT = {
    "frozen embeddings + logistic regression": "logreg",
    "zero-shot similarity": "zero_shot",
    "TF-IDF + logistic regression": "tfidf",
}


def short_name(name: str) -> str:
    if name.startswith("kNN"):
        return "knn"
    return SHORT.get(name, "fine_tuned" if name.startswith("fine-tuned") else name)


def write_task(folder: Path, overrides: dict[str, object]) -> Path:
    """BANKING77's task file in `folder`: its official train (5% carved for validation) and test
    files; `overrides` replace top-level keys."""
    task = {
        "name": "banking77",
        "kind": "classify",
        "data": {
            "train": str(DATA / "train.csv"),
            "test": str(DATA / "test.csv"),
            "text_column": "text",
            "label_column": "category",
        },
        "split": {"validation": 0.05, "test": 0.0},
        "abstain": {"target_precision": 0.99},
        "runs_dir": str(folder / "runs"),
        "seed": 13,
        **overrides,
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(task))
    return path


def flat_result(evaluation: dict, train_seconds: float) -> dict[str, object]:
    out: dict[str, object] = {"train_seconds": round(train_seconds, 1)}
    for system in evaluation["systems"]:
        key = short_name(system["name"])
        m = system["metrics"]
        out[f"{key}_accuracy"] = round(100 * m["accuracy"], 2)
        out[f"{key}_macro_f1"] = round(100 * m["macro_f1"], 2)
        out[f"{key}_ece"] = round(m["ece"], 4)
        if m.get("abstention"):
            out[f"{key}_coverage_at_99_precision"] = round(100 * m["abstention"]["coverage"], 1)
            kept = m["abstention"]["precision_kept"]
            out[f"{key}_precision_kept"] = None if kept is None else round(100 * kept, 2)
        lat = system.get("latency") or {}
        if lat:
            out[f"{key}_p50_ms"] = round(lat["p50_ms"], 1)
            out[f"{key}_p95_ms"] = round(lat["p95_ms"], 1)
            out[f"{key}_throughput_per_s"] = round(lat["throughput_per_s"], 1)
        if system.get("train_seconds") is not None and key != "fine_tuned":
            out[f"{key}_fit_seconds"] = round(system["train_seconds"], 1)
    margin = evaluation["margin"]
    if margin.get("interval_low") is not None:  # how sure: paired bootstrap + McNemar
        out["margin_best_baseline"] = margin["best_baseline"]
        out["margin_points"] = round(100 * margin["delta"], 2)
        out["margin_interval_low_points"] = round(100 * margin["interval_low"], 2)
        out["margin_interval_high_points"] = round(100 * margin["interval_high"], 2)
        out["margin_demonstrated"] = bool(margin["demonstrated"])
        if margin.get("mcnemar"):
            out["mcnemar_p_exact"] = float(f"{margin['mcnemar']['p_exact']:.3g}")
            out["mcnemar_p_mid"] = float(f"{margin['mcnemar']['p_mid']:.3g}")
    out["accuracy"] = out["fine_tuned_accuracy"]
    out["margin_over_logreg_points"] = round(
        float(out["fine_tuned_accuracy"]) - float(out["logreg_accuracy"]),
        2,  # type: ignore[arg-type]
    )
    return out


def run_once(task_path: Path, splits: Splits, overrides: list[str]) -> dict[str, object]:
    task = load_task(task_path, overrides)
    start = time.perf_counter()
    run_dir = api.train(task, splits=splits, evaluate_after=False)
    train_seconds = time.perf_counter() - start
    model = api.load(run_dir)
    evaluation = evaluate_model(task, model, splits, train_seconds=train_seconds).to_dict()
    result = flat_result(evaluation, train_seconds)
    result["mode"] = json.loads((run_dir / "run.json").read_text())["model"]["mode"]
    return result


def sample_shots(
    pool: list[Example], shots: int, calibration: int, seed: int
) -> tuple[list[Example], list[Example]]:
    """`shots` training and `calibration` held-out examples per intent, drawn with `seed`."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in pool:
        by_label[ex.label].append(ex)
    rng = random.Random(seed)
    train, held = [], []
    for label in sorted(by_label):
        picked = rng.sample(by_label[label], shots + calibration)
        train += picked[:shots]
        held += picked[shots:]
    rng.shuffle(train)
    return train, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", choices=["full", "10shot"])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        help="task override, e.g. train.epochs=3 (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    pool = load_examples(DATA / "train.csv", text_column="text", label_column="category")
    test = load_examples(DATA / "test.csv", text_column="text", label_column="category")
    record: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        task_path = write_task(Path(tmp), {})
        if args.setting == "full":
            from narrowtune.data import make_splits

            carved = make_splits(pool, validation=0.05, test=0.0, seed=13)
            splits = Splits(carved.train, carved.validation, test)
            record = run_once(task_path, splits, args.override)
            record["train_examples"] = len(splits.train)
            record["validation_examples"] = len(splits.validation)
        else:
            draws = []
            for draw in range(args.draws):
                train, held = sample_shots(pool, 10, 3, seed=1000 + draw)
                splits = Splits(train, held, test)
                result = run_once(task_path, splits, [*args.override, f"seed={draw}"])
                print(json.dumps(result), file=sys.stderr, flush=True)
                draws.append(result)
            # p-values are not averaged (a mean rounded to 2 decimals reads as 0): listed per draw
            keys = [
                k
                for k, v in draws[0].items()
                if isinstance(v, int | float) and not k.startswith("mcnemar")
            ]
            for key in [k for k in draws[0] if k.startswith("mcnemar")]:
                record[f"{key}_per_draw"] = [d[key] for d in draws]
            for key in keys:
                values = [float(d[key]) for d in draws]  # type: ignore[arg-type]
                record[key] = round(statistics.mean(values), 2)
                record[f"{key}_std"] = round(statistics.pstdev(values), 2)
            record["accuracy_per_draw"] = [d["accuracy"] for d in draws]
            record["draws"] = args.draws
            record["draw_seeds"] = [1000 + d for d in range(args.draws)]
            record["mode"] = draws[0]["mode"]
            record["calibration_examples_per_intent"] = 3
    record.update(
        test_examples=len(test),
        overrides=args.override,
        command="python " + " ".join(sys.argv),
        date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine_description(),
    )
    out = args.out or RESULTS / f"banking77_{args.setting}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
