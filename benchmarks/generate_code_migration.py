"""ethers v5 -> v6 code migration: LoRA on Gemma 3 270M vs the base model zero- and few-shot.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/generate_code_migration.py

Trains on examples/code_migration/pairs.jsonl (sized for one CPU core: at most 24 steps and
10 minutes of training, learning rate 1e-3) and evaluates on 16 held-out snippets. The
contract's checker (check.py:check_snippet) runs `node --check` and scans for v5 APIs;
`checker_pass` is the share of outputs passing both.
Writes benchmarks/results/generate_code_migration.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_common import run
from lm_common import ROOT

OVERRIDES = [
    "generate.max_steps=24",
    "generate.learning_rate=1e-3",  # a 10-minute CPU budget: few steps, so a higher rate
    "generate.eval_every=8",
    "generate.validation_limit=12",
    "generate.eval_limit=16",
    "generate.max_length=1024",
    "generate.few_shot=2",
    "train.max_minutes=10",
]

if __name__ == "__main__":
    run("code_migration", ROOT / "examples/code_migration/task.yaml", OVERRIDES)
