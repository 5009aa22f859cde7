"""Brand voice: LoRA on Gemma 3 270M vs the base model zero- and few-shot, with a style judge.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/generate_brand_voice.py

Trains the style judge first when it has no run (a classify model on
examples/brand_voice/style.csv, approved vs unapproved help text), then the generator on
examples/brand_voice/pairs.jsonl (sized for one CPU core: at most 30 steps of 4 examples and
10 minutes of training, learning rate 1e-3), and evaluates on 24 held-out notes.
`style_approved` is the judge's share of outputs labelled approved.
Writes benchmarks/results/generate_brand_voice.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_common import run
from lm_common import ROOT

from narrowtune import api
from narrowtune.task import load_task

EXAMPLE = ROOT / "examples/brand_voice"
OVERRIDES = [
    "generate.max_steps=30",
    "generate.learning_rate=1e-3",  # a 10-minute CPU budget: few steps, so a higher rate
    "generate.eval_every=10",
    "generate.validation_limit=16",
    "generate.eval_limit=24",
    "train.max_minutes=10",
]

if __name__ == "__main__":
    judge = load_task(EXAMPLE / "judge.yaml")
    if not any((p / "run.json").is_file() for p in judge.runs_path.glob("*")):
        print("training the style judge:", api.train(judge, force=True), flush=True)
    run("brand_voice", EXAMPLE / "task.yaml", OVERRIDES)
