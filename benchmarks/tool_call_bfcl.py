"""BFCL (../shared/data/bfcl_function_calling): a seeded, recorded split of the single-turn
categories into train and test; the LoRA-tuned Gemma 3 270M tool caller vs the same base
prompted, BFCL-style AST accuracy per category on the test items.

    OMP_NUM_THREADS=1 python benchmarks/tool_call_bfcl.py --train-per-category 20 \
        --test-per-category 5

The split (seed 12; per category, the test items first, then the training items, drawn from
the rows offering at most 6 tools whose tools pass `check_schema` and whose first answer
validates) is written to
benchmarks/tool_call_bfcl_split.json (the ids), the rows themselves to a temporary folder:
the data is read in place and never copied into the repository. Not the leaderboard protocol:
the official one trains on no BFCL item. Writes benchmarks/results/tool_call_bfcl.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from lm_common import ROOT
from tool_call_common import run

from narrowtune.kinds.tool_call.tools import ToolError, Toolset, read_tools

DATA = ROOT.parent / "shared" / "data" / "bfcl_function_calling"
if not DATA.is_dir():
    DATA = Path("/work/shared/data/bfcl_function_calling")
CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
)
SEED = 12
MAX_TOOLS = 6  # rows offering more tools make prompts too long for a CPU run; counted as skipped
SPLIT_FILE = ROOT / "benchmarks" / "tool_call_bfcl_split.json"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _first_value(values: list[Any]) -> tuple[bool, Any]:
    for value in values:
        if value != "":
            return True, value
    return False, None


def rows_of(category: str) -> tuple[list[dict[str, Any]], int]:
    """Usable rows of one category as tool_call rows, and how many were left out."""
    questions = _jsonl(DATA / "question" / f"BFCL_v4_{category}.json")
    answers_file = DATA / "possible_answer" / f"BFCL_v4_{category}.json"
    answers = (
        {a["id"]: a["ground_truth"] for a in _jsonl(answers_file)} if answers_file.exists() else {}
    )
    out, skipped = [], 0
    for q in questions:
        messages = [
            {"role": m["role"], "content": m["content"]}
            for m in q["question"][0]
            if m.get("role") in ("user", "system") and isinstance(m.get("content"), str)
        ]
        if not any(m["role"] == "user" for m in messages):
            skipped += 1
            continue
        if len(q["function"]) > MAX_TOOLS:
            skipped += 1
            continue
        try:
            tools = Toolset(read_tools(q["function"], "function"))
        except ToolError:
            skipped += 1
            continue
        expected = answers.get(q["id"], [])
        calls = []
        for item in expected:
            ((name, arguments),) = item.items()
            chosen = {}
            for arg, allowed in arguments.items():
                present, value = _first_value(allowed)
                if present:
                    chosen[arg] = value
            calls.append({"name": name, "arguments": chosen})
        if any(tools.call_problems(c["name"], c["arguments"]) for c in calls):
            skipped += 1
            continue
        gold = [{"role": m["role"], "content": m["content"]} for m in messages]
        assistant = (
            {"role": "assistant", "tool_calls": calls}
            if calls
            else {
                "role": "assistant",
                "content": "None of the functions fits this request.",
            }
        )
        out.append(
            {
                "id": q["id"],
                "category": category,
                "tools": [t.openai() for t in tools.tools],
                "messages": [*gold, assistant],
                "expected": expected,
            }
        )
    return out, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-per-category", type=int, default=20)
    parser.add_argument("--test-per-category", type=int, default=5)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--setting")
    parser.add_argument("--save-model", type=Path)
    args = parser.parse_args()
    rng = random.Random(SEED)
    train, test, split = [], [], {"seed": SEED, "train": {}, "test": {}, "skipped": {}}
    for category in CATEGORIES:
        rows, skipped = rows_of(category)
        rng.shuffle(rows)
        chosen_test = rows[: args.test_per_category]
        chosen_train = rows[
            args.test_per_category : args.test_per_category + args.train_per_category
        ]
        test += chosen_test
        train += chosen_train
        split["test"][category] = [r["id"] for r in chosen_test]
        split["train"][category] = [r["id"] for r in chosen_train]
        split["skipped"][category] = skipped
    SPLIT_FILE.write_text(json.dumps(split, indent=1) + "\n")
    folder = Path(tempfile.mkdtemp(prefix="narrowtune-bfcl-"))
    for name, rows in (("train", train), ("test", test)):
        with (folder / f"{name}.jsonl").open("w") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in rows)
    task = {
        "name": "bfcl",
        "kind": "tool_call",
        "data": {"train": "train.jsonl", "test": "test.jsonl"},
        "split": {"validation": 0.15},
        "seed": SEED,
        "train": {"max_minutes": 12},
        "tool_call": {
            "system": "You are a function-calling assistant. Call the functions that answer the "
            "request with the right arguments, several if it asks for several; answer in text "
            "when no function fits.",
            "max_new_tokens": 96,
            "max_length": 1024,
            "epochs": 1,
            "batch_size": 2,
            "learning_rate": 0.0003,
            "validation_limit": 12,
            "few_shot": 0,
            "encoder_baseline": False,
        },
    }
    (folder / "task.yaml").write_text(yaml.safe_dump(task, sort_keys=False))
    print(f"{len(train)} train / {len(test)} test rows in {folder}", flush=True)
    ns = argparse.Namespace(set=args.set, setting=args.setting, save_model=args.save_model)
    sys.argv = [sys.argv[0], *sys.argv[1:]]
    run("tool_call_bfcl", folder / "task.yaml", [], ns)


if __name__ == "__main__":
    main()
