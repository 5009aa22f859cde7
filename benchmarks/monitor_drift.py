"""Drift simulation for `narrowtune monitor` and `retrain`: days until a new intent is detected,
false alarms on no-drift days, and accuracy on the new traffic before and after one retrain
cycle from simulated reviewer feedback.

    nice -n 10 python benchmarks/monitor_drift.py wallet      # the bundled wallet-support data
    nice -n 10 python benchmarks/monitor_drift.py banking77   # BANKING77, some intents held back

How it runs (everything seeded):
1. One or more intents are held back; the remaining rows are split into the task's data (the
   model is trained on it; the task carves its validation and test splits) and a traffic pool
   it never sees.
2. No-drift days: each simulated day, DAY_SIZE tickets drawn from the traffic pool are answered
   by the model and recorded in a real store with that day's timestamp; the monitor tests the
   day against the reference (training texts + the run's validation predictions). A flagged
   no-drift day is a false alarm.
3. Drift days: the held-back intent(s) arrive, a growing share of each day (DRIFT_SHARES), and
   for wallet-support the vocabulary shifts too (chain and bridge names the training data never
   used). Days until detection: the first drift day the monitor flags.
4. Reviewers decide every item the model abstained on during the drift days with its true label
   (a new intent's label is admitted with --allow-label); `retrain` merges that feedback, trains
   a challenger, compares it with the champion and promotes or refuses it.
5. Accuracy on new traffic before/after: the champion and the run serving after the retrain
   cycle, on held-out drift traffic no reviewer saw (new-intent rows plus shifted in-distribution
   rows in the drift days' proportions).
The dashboard of the whole simulation is written to benchmarks/results/monitor_drift_<name>.html.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import write_result
from banking77 import DATA as BANKING77

from narrowtune import api, runs
from narrowtune.data.audit.normalize import normalize
from narrowtune.data.audit.secrets import SEVERITY, find_secrets
from narrowtune.monitor.check import build_reference, check_window, monitor
from narrowtune.monitor.dashboard import dashboard_html
from narrowtune.monitor.retrain import RetrainError, retrain
from narrowtune.store import Store
from narrowtune.task import load_task

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WALLET = ROOT / "narrowtune" / "demo" / "tickets.csv"
START = datetime(2026, 1, 5, tzinfo=UTC)
DAY_SIZE = 60
NO_DRIFT_DAYS = 40
DRIFT_SHARES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
# Invented names the wallet training data never uses: the vocabulary shift.
NEW_CHAINS = ("Zorvex", "Quillnet", "Halcyon L2", "Mirabel Chain")
OLD_CHAINS = re.compile(r"\b(Ethereum|Arbitrum|Optimism|Polygon|BNB Chain|Solana|Avalanche)\b")

SETTINGS = {
    "wallet": {"held_back": ["staking_question"], "epochs": 4},
    "banking77": {
        "held_back": ["card_swallowed", "lost_or_stolen_phone", "virtual_card_not_working"],
        "epochs": 2,
        "train_share": 0.2,
    },
}


def read_rows(name: str) -> list[tuple[str, str]]:
    path, label = (WALLET, "intent") if name == "wallet" else (BANKING77 / "train.csv", "category")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r[label]) for r in csv.DictReader(handle)]
    # Rows the fast audit would block (pasted keys, seed phrases) and exact duplicates out.
    seen, clean = set(), []
    for text, lab in rows:
        key = normalize(text)
        if key in seen or any(SEVERITY[s.kind] == "blocking" for s in find_secrets(text)):
            continue
        seen.add(key)
        clean.append((text, lab))
    return clean


def shift(text: str, rng: random.Random) -> str:
    return OLD_CHAINS.sub(lambda _: rng.choice(NEW_CHAINS), text)


def write_task(folder: Path, rows: list[tuple[str, str]], epochs: int) -> Path:
    with (folder / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    task = {
        "name": "drift-sim",
        "kind": "classify",
        "data": {"train": "data.csv"},
        "split": {"validation": 0.15, "test": 0.2},
        "model": {"max_length": 64},
        "train": {"epochs": epochs, "batch_size": 32},
        "abstain": {"target_precision": 0.95},
        "seed": 13,
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def record_day(store: Store, model: object, day: int, texts: list[str], run_id: str) -> None:
    predictions = model.predict(texts)  # type: ignore[attr-defined]
    store.record(
        [p.to_dict() for p in predictions],
        texts=texts,
        model=run_id,
        request_id=f"day-{day}",
        latency_ms=0.0,
        task="drift-sim",
        kind="classify",
        created=START + timedelta(days=day, hours=12),
    )


def accuracy(model: object, rows: list[tuple[str, str]]) -> float:
    predictions = model.predict([t for t, _ in rows])  # type: ignore[attr-defined]
    return sum(p.label == g for p, (_, g) in zip(predictions, rows)) / len(rows)


class Traffic:
    """Where each simulated day's tickets come from.

    wallet: fresh tickets from the generator that wrote the training data
    (examples/wallet_support/make_tickets.py), with another seed: in-distribution traffic the
    model never saw, as much as needed. BANKING77: rows of its training file left out of the
    task's training set (20% of each intent), so the traffic keeps the training class mix."""

    def __init__(self, name: str, rows: list[tuple[str, str]], held_back: list[str]) -> None:
        self.rng = random.Random(2026)
        self.name = name
        self.held_back = held_back
        old_rows = [r for r in rows if r[1] not in held_back]
        new_rows = [r for r in rows if r[1] in held_back]
        self.rng.shuffle(old_rows)
        self.rng.shuffle(new_rows)
        if name == "wallet":
            sys.path.insert(0, str(ROOT / "examples" / "wallet_support"))
            import make_tickets

            self.make = make_tickets.make_ticket
            self.weights = {k: v for k, v in make_tickets.TARGETS.items() if k not in held_back}
            self.train = old_rows
        else:
            # The same share of every intent trains, so the pool keeps the training class mix
            # (a fixed count per intent would make the no-drift traffic a class-prior shift).
            by_label: dict[str, list[tuple[str, str]]] = {}
            for r in old_rows:
                by_label.setdefault(r[1], []).append(r)
            self.train, self.pool = [], []
            for group in by_label.values():
                cut = round(SETTINGS[name]["train_share"] * len(group))
                self.train += group[:cut]
                self.pool += group[cut:]
            self.rng.shuffle(self.train)
            self.rng.shuffle(self.pool)
            half = len(new_rows) // 2
            self.new_pool, self.new_held = new_rows[:half], new_rows[half:]
            self.old_held = self.pool[: len(self.pool) // 5]
            self.pool = self.pool[len(self.pool) // 5 :]

    def old(self, n: int) -> list[tuple[str, str]]:
        if self.name == "wallet":
            intents = self.rng.choices(list(self.weights), weights=list(self.weights.values()), k=n)
            return [(self.make(self.rng, i)[0], i) for i in intents]
        return self.rng.sample(self.pool, n)

    def new(self, n: int) -> list[tuple[str, str]]:
        if self.name == "wallet":
            intents = [self.rng.choice(self.held_back) for _ in range(n)]
            return [(self.make(self.rng, i)[0], i) for i in intents]
        return self.rng.sample(self.new_pool, min(n, len(self.new_pool)))

    def evaluation(self, share: float) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Held-out new traffic: new-intent rows, and in-distribution rows in proportion."""
        if self.name == "wallet":
            new = self.new(60)
            old = self.old(round(len(new) * (1 - share) / share))
            return new, [(shift(t, self.rng), g) for t, g in old]
        n_old = min(len(self.old_held), round(len(self.new_held) * (1 - share) / share))
        return self.new_held, self.old_held[:n_old]


def simulate(name: str, spot_check: float = 0.0) -> dict[str, object]:
    settings = SETTINGS[name]
    rng = random.Random(7)
    held_back = settings["held_back"]
    traffic = Traffic(name, read_rows(name), held_back)
    train_rows = traffic.train
    shifting = name == "wallet"

    folder = Path(tempfile.mkdtemp(prefix=f"monitor-drift-{name}-"))
    task = load_task(write_task(folder, train_rows, settings["epochs"]))
    started = time.perf_counter()
    champion_dir = api.train(task, evaluate_after=False)
    train_seconds = time.perf_counter() - started
    champion = api.load(champion_dir)
    reference = build_reference(task, champion_dir, model=champion)
    spec = task.monitor
    options = {
        "alpha": spec.alpha,
        "min_window": spec.min_window,
        "permutations": spec.permutations,
        "min_cluster": spec.min_cluster,
    }
    store = Store(folder / "runs" / "drift-sim" / "narrowtune.db")
    flags: list[bool] = []
    alarms: dict[str, int] = {}
    day = 0
    for day in range(NO_DRIFT_DAYS):
        texts = [t for t, _ in traffic.old(DAY_SIZE)]
        record_day(store, champion, day, texts, champion_dir.name)
        result = check_window(reference, _day_rows(store, day), seed=day, **options)
        flags.append(result["retrain_recommended"])
        for test, outcome in result["tests"].items():
            alarms[test] = alarms.get(test, 0) + int(outcome["significant"])
    detected_on = None
    drift_flags: list[bool] = []
    truth: dict[str, str] = {}
    for index, share in enumerate(DRIFT_SHARES):
        day = NO_DRIFT_DAYS + index
        n_new = round(share * DAY_SIZE)
        chosen = traffic.new(n_new)
        chosen += traffic.old(DAY_SIZE - len(chosen))
        texts = []
        for text, label in chosen:
            if shifting and label not in held_back and rng.random() < share:
                text = shift(text, rng)
            texts.append(text)
            truth[text] = label
        record_day(store, champion, day, texts, champion_dir.name)
        result = check_window(reference, _day_rows(store, day), seed=day, **options)
        drift_flags.append(result["retrain_recommended"])
        if result["retrain_recommended"] and detected_on is None:
            detected_on = index + 1
    end = START + timedelta(days=day + 1)
    report = monitor(task, store, since=None, now=end, reference=reference)
    # A spot check: reviewers also see a seeded share of the drift days' confident answers.
    if spot_check > 0:
        drift_rows = store.prediction_window(
            "drift-sim", since=START + timedelta(days=NO_DRIFT_DAYS), until=end
        )
        confident = [int(r["id"]) for r in drift_rows if not r["abstain"]]
        store.queue_reviews(rng.sample(confident, round(spot_check * len(confident))))
    # Reviewers settle the queue of the drift days with the true labels.
    reviewed = corrected = 0
    for item in store.open_reviews(limit=100_000, model="drift-sim"):
        label = truth.get(item["text"])
        if label is None:
            continue  # a no-drift day's item: left in the queue
        reviewed += 1
        if item["label"] == label:
            store.decide(item["id"], "sim-reviewer", "accept")
        else:
            corrected += 1
            store.decide(item["id"], "sim-reviewer", "correct", label)
    report = monitor(task, store, since=None, now=end, reference=reference)
    suffix = f"_spot{round(100 * spot_check)}" if spot_check else ""
    (RESULTS / f"monitor_drift_{name}{suffix}.html").write_text(dashboard_html(report))
    started = time.perf_counter()
    try:
        outcome = retrain(task, store, allow_labels=held_back)
    except RetrainError as error:  # e.g. the audit refuses too few examples of a new label
        outcome = {
            "promoted": False,
            "reason": " ".join(str(error).split()),
            "challenger": None,
            "data": {"added": None, "feedback_holdout": None},
            "comparison": {"combined": None},
        }
    retrain_seconds = time.perf_counter() - started
    serving = api.load(runs.find_run(task.runs_path))
    challenger = api.load(task.runs_path / outcome["challenger"]) if outcome["challenger"] else None
    new_eval, old_eval = traffic.evaluation(DRIFT_SHARES[-1])
    new_traffic = new_eval + old_eval
    combined = outcome["comparison"]["combined"]
    return {
        "dataset": name,
        "held_back_intents": held_back,
        "train_rows": len(train_rows),
        "day_size": DAY_SIZE,
        "no_drift_days": NO_DRIFT_DAYS,
        "false_alarms": sum(flags),
        "false_alarm_rate": round(sum(flags) / len(flags), 4),
        "false_alarm_tests": alarms,
        "drift_days": len(DRIFT_SHARES),
        "drift_new_intent_shares": list(DRIFT_SHARES),
        "vocabulary_shift": shifting,
        "days_until_detection": detected_on,
        "drift_days_flagged": sum(drift_flags),
        "whole_window_clusters": len(report["window"]["clusters"]),
        "spot_check_share": spot_check,
        "reviewed_items": reviewed,
        "reviewer_corrections": corrected,
        "retrain_added_rows": outcome["data"]["added"],
        "retrain_feedback_holdout": outcome["data"]["feedback_holdout"],
        "retrain_promoted": outcome["promoted"],
        "retrain_margin_points": round(100 * combined["margin"], 2) if combined else None,
        "retrain_margin_interval_points": (
            [round(100 * x, 2) for x in combined["interval"]] if combined else None
        ),
        "retrain_reason": outcome["reason"],
        "new_traffic_items": len(new_traffic),
        "new_traffic_accuracy_before": round(accuracy(champion, new_traffic), 4),
        "new_traffic_accuracy_after": round(accuracy(serving, new_traffic), 4),
        "new_traffic_accuracy_challenger": (
            round(accuracy(challenger, new_traffic), 4) if challenger is not None else None
        ),
        "new_intent_recall_before": round(accuracy(champion, new_eval), 4),
        "new_intent_recall_after": round(accuracy(serving, new_eval), 4),
        "train_seconds": round(train_seconds, 1),
        "retrain_seconds": round(retrain_seconds, 1),
    }


def _day_rows(store: Store, day: int) -> list[dict[str, object]]:
    since = START + timedelta(days=day)
    return store.prediction_window("drift-sim", since=since, until=since + timedelta(days=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(SETTINGS))
    parser.add_argument(
        "--spot-check",
        type=float,
        default=0.0,
        help="Share of the drift days' confident answers reviewers also check (0: only the "
        "abstained ones the review queue gets by itself).",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    values = simulate(args.dataset, args.spot_check)
    values["wall_seconds"] = round(time.perf_counter() - started, 1)
    suffix = f"_spot{round(100 * args.spot_check)}" if args.spot_check else ""
    write_result(f"monitor_drift_{args.dataset}{suffix}", values)
    print(json.dumps(values, indent=2))


if __name__ == "__main__":
    main()
