"""Wallet-support reply drafting: LoRA on Gemma 3 270M vs the base model zero- and few-shot.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/generate_wallet_replies.py

Trains on examples/wallet_support/replies (sized for one CPU core: at most 30 steps of 4
examples and 10 minutes of training, learning rate 1e-3) and evaluates on 24 held-out
tickets. Writes benchmarks/results/generate_wallet_replies.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_common import run
from lm_common import ROOT

OVERRIDES = [
    "generate.max_steps=30",
    # a 10-minute CPU budget allows ~17 steps: a higher LoRA rate than the default (2e-4,
    # meant for full epochs) so so few steps can learn the format
    "generate.learning_rate=1e-3",
    "generate.eval_every=10",
    "generate.validation_limit=16",
    "generate.eval_limit=24",
    "generate.max_length=512",
    "train.max_minutes=10",
]

if __name__ == "__main__":
    run("wallet_replies", ROOT / "examples/wallet_support/replies/task.yaml", OVERRIDES)
