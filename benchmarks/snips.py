"""SNIPS joint intent + slot filling (Goo et al. 2018 split) with kind `extract`.

Writes the split as narrowtune JSONL (text = the space-joined tokens, one array-of-strings field
per slot type, character spans from the official BIO tags, intent in `label`), trains through
`narrowtune.api.train`, and scores the test set two ways: narrowtune's own evaluation, and slot F1
over the official word-level BIO tags (entity level, conlleval/seqeval conventions: the predicted
character spans are projected onto the space-separated words), comparable to published figures.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/snips.py --epochs 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[2] / "shared/data/snips_nlu_benchmark/joint_split_goo2018"
RESULTS = Path(__file__).resolve().parent / "results"


def read_split(folder: Path) -> list[tuple[list[str], list[str], str]]:
    words = (folder / "seq.in").read_text(encoding="utf-8").splitlines()
    tags = (folder / "seq.out").read_text(encoding="utf-8").splitlines()
    labels = (folder / "label").read_text(encoding="utf-8").splitlines()
    out = []
    for line, (w, t, label) in enumerate(zip(words, tags, labels), start=1):
        w_list, t_list = w.split(), t.split()
        if len(w_list) != len(t_list):
            raise ValueError(f"{folder}/seq.in:{line}: {len(w_list)} words, {len(t_list)} tags")
        out.append((w_list, t_list, label.strip()))
    return out


def word_starts(words: list[str]) -> list[tuple[int, int]]:
    offsets, pos = [], 0
    for w in words:
        offsets.append((pos, pos + len(w)))
        pos += len(w) + 1
    return offsets


def record(words: list[str], tags: list[str], label: str) -> dict:
    from narrowtune.kinds.extract.align import entities

    text = " ".join(words)
    offsets = word_starts(words)
    output: dict[str, list[str]] = {}
    spans: dict[str, list[list[int]]] = {}
    for name, first, last in entities(tags):
        start, end = offsets[first][0], offsets[last - 1][1]
        output.setdefault(name, []).append(text[start:end])
        spans.setdefault(name, []).append([start, end])
    return {"text": text, "output": output, "spans": spans, "label": label}


def project(words: list[str], spans: set[tuple[str, int, int]]) -> list[str]:
    """Word-level BIO tags from predicted character spans (a word inside a span takes its
    field; the first word of each span is B-)."""
    offsets = word_starts(words)
    tags = ["O"] * len(words)
    for name, start, end in sorted(spans, key=lambda s: s[1]):
        inside = [i for i, (s, e) in enumerate(offsets) if s < end and e > start]
        for k, i in enumerate(inside):
            tags[i] = f"{'B' if k == 0 else 'I'}-{name}"
    return tags


def seqeval_f1(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    from narrowtune.kinds.extract.align import entities
    from narrowtune.kinds.extract.metrics import span_scores

    return span_scores([set(entities(g)) for g in gold], [set(entities(p)) for p in pred])


def per_epoch(history: list[dict]) -> dict[str, float]:
    """Validation scores after each epoch (and seconds so far), as flat keys."""
    out = {}
    for record in history:
        n = int(record["epoch"])
        for key, value in record.items():
            if key in ("val_span_f1", "val_intent_accuracy", "seconds"):
                out[f"epoch{n}_{key}"] = round(100 * value, 2) if key.startswith("val_") else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=float, default=5)
    parser.add_argument("--lr", type=float, default=1.5e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--layer-decay", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N rows only")
    parser.add_argument("--setting", default="full")
    parser.add_argument("--work", type=Path, default=Path("/tmp/narrowtune-bench/snips"))
    args = parser.parse_args()

    from narrowtune import api
    from narrowtune.evaluate import machine_description
    from narrowtune.kinds.extract.model import ExtractModel
    from narrowtune.task import load_task

    splits = {name: read_split(DATA / name) for name in ("train", "valid", "test")}
    if args.limit:
        splits["train"] = splits["train"][: args.limit]
    args.work.mkdir(parents=True, exist_ok=True)
    slots = sorted(
        {t[2:] for part in splits.values() for _, tags, _ in part for t in tags if t != "O"}
    )
    schema = {
        "type": "object",
        "properties": {s: {"type": "array", "items": {"type": "string"}} for s in slots},
    }
    for name, rows in splits.items():
        with (args.work / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(record(*row)) + "\n" for row in rows)
    (args.work / "schema.json").write_text(json.dumps(schema, indent=1))
    task_file = args.work / "task.yaml"
    task_file.write_text(
        yaml.safe_dump(
            {
                "name": f"snips-{args.setting}",
                "kind": "extract",
                "data": {"train": "train.jsonl", "validation": "valid.jsonl", "test": "test.jsonl"},
                "schema": "schema.json",
                "extract": {"intent": True},
                "metric": "span_f1",
                "model": {"max_length": 64},
                "train": {
                    "epochs": args.epochs,
                    "batch_size": args.batch_size,
                    "learning_rate": args.lr,
                    "head_learning_rate": args.head_lr,
                    "layer_decay": args.layer_decay,
                },
                "seed": 13,
            },
            sort_keys=False,
        )
    )
    task = load_task(task_file)
    start = time.perf_counter()
    run_dir = api.train(task, force=True)
    wall = time.perf_counter() - start
    model = api.load(run_dir)
    assert isinstance(model, ExtractModel)
    evaluation = json.loads((run_dir / "metrics.json").read_text())
    info = json.loads((run_dir / "run.json").read_text())

    test = splits["test"]
    preds, spans = model.predict_with_spans([" ".join(w) for w, _, _ in test])
    gold_tags = [t for _, t, _ in test]
    pred_tags = [project(w, s) for (w, _, _), s in zip(test, spans)]
    slot = seqeval_f1(gold_tags, pred_tags)
    intent = sum(p.label == lab for p, (_, _, lab) in zip(preds, test)) / len(test)
    sentence = sum(
        p.label == lab and g == t for p, (_, g, lab), t in zip(preds, test, pred_tags)
    ) / len(test)
    fine = evaluation["systems"][0]["metrics"]
    result = {
        "benchmark": "snips_joint_goo2018",
        "setting": args.setting,
        "train_examples": len(splits["train"]),
        "test_examples": len(test),
        "slot_f1": round(100 * slot["f1"], 2),
        "slot_precision": round(100 * slot["precision"], 2),
        "slot_recall": round(100 * slot["recall"], 2),
        "intent_accuracy": round(100 * intent, 2),
        "sentence_accuracy": round(100 * sentence, 2),
        "span_f1_narrowtune": round(100 * fine["span_f1"], 2),
        "field_f1": round(100 * fine["field_f1"], 2),
        "schema_validity": round(100 * fine["schema_validity"], 2),
        "epochs": args.epochs,
        "best_epoch": info["model"]["best_epoch"],
        **per_epoch(info["model"]["history"]),
        "learning_rate": args.lr,
        "head_learning_rate": args.head_lr,
        "layer_decay": args.layer_decay,
        "train_seconds": info["train_seconds"],
        "wall_seconds": round(wall, 1),
        "base": task.model.base,
        "reference": "JointBERT (BERT-base): slot F1 97.0, intent 98.6",
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine_description(),
        "run_dir": str(run_dir),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"snips_{args.setting}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
