"""Time and peak memory of the model-free duplicate and secret checks at 10k, 100k and 1M rows.

Reproduces benchmarks/results/audit_scaling.json:

    python benchmarks/audit_scaling.py                       # 10k, 100k, 1M (about 5 min)
    python benchmarks/audit_scaling.py --sizes 10000 100000

Recipe, top to bottom:
1. each size runs in a fresh child process (so peak RSS belongs to that size alone);
2. the child generates `n` synthetic support messages (numpy default_rng(seed)): 8-30 words
   drawn Zipf-like from a 5,000-word vocabulary; 5% are exact copies of an earlier row with
   changed case/spacing/end punctuation, 5% near copies (one or two words changed), 1% carry an
   e-mail address or phone number, 0.1% a seed phrase;
3. it times `exact_groups` + `exact_duplicates`, `near_groups` + `near_duplicates` (MinHash LSH)
   and `secrets`, and reads peak RSS (`resource.getrusage`) before and after;
4. the parent writes flat keys per size, and the growth exponent of near-duplicate time
   between sizes (1 = linear, 2 = quadratic).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import write_result

VOCAB = 5000


def generate(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    shapes = rng.integers(2, 10, size=VOCAB)
    words = np.array(["".join(rng.choice(letters, size=k)) for k in shapes])
    weights = 1.0 / np.arange(1, VOCAB + 1)
    weights /= weights.sum()
    lengths = rng.integers(8, 31, size=n)
    tokens = rng.choice(VOCAB, size=int(lengths.sum()), p=weights)
    texts: list[str] = []
    start = 0
    from mnemonic import Mnemonic

    seed_words = Mnemonic("english").wordlist
    kind = rng.random(n)
    for i, length in enumerate(lengths):
        row = list(words[tokens[start : start + length]])
        start += length
        if i > 0 and kind[i] < 0.05:  # exact copy up to case, spacing and end punctuation
            text = "  " + texts[int(rng.integers(i))].upper() + " !"
        elif i > 0 and kind[i] < 0.10:  # near copy: one or two words changed
            base = texts[int(rng.integers(i))].split()
            for _ in range(int(rng.integers(1, 3))):
                base[int(rng.integers(len(base)))] = str(words[int(rng.integers(VOCAB))])
            text = " ".join(base)
        elif kind[i] < 0.105:
            text = " ".join(row) + f" mail me at user{i}@example.com"
        elif kind[i] < 0.11:
            text = " ".join(row) + f" call +44 20 {int(rng.integers(1000, 9999))} 0958"
        elif kind[i] < 0.111:
            phrase = [seed_words[int(j)] for j in rng.integers(2048, size=12)]
            text = "my seed " + " ".join(phrase) + " " + " ".join(row[:3])
        else:
            text = " ".join(row)
        texts.append(text)
    return texts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def one(n: int, seed: int) -> dict:
    from narrowtune.data.audit.checks.exact_duplicates import exact_duplicates
    from narrowtune.data.audit.checks.near_duplicates import near_duplicates
    from narrowtune.data.audit.checks.secrets import secrets
    from narrowtune.data.audit.duplicates import exact_groups, near_groups
    from narrowtune.data.audit.registry import AuditContext
    from narrowtune.data.load import Example

    began = time.perf_counter()
    texts = generate(n, seed)
    examples = [Example(t, ("a",), "synthetic.jsonl", i + 1) for i, t in enumerate(texts)]
    out: dict = {"generate_seconds": round(time.perf_counter() - began, 1)}
    out["rss_before_checks_mb"] = round(peak_rss_mb())
    began = time.perf_counter()
    groups = exact_groups(texts)
    exact = exact_duplicates(examples, AuditContext(exact=tuple(map(tuple, groups))))
    out["exact_seconds"] = round(time.perf_counter() - began, 2)
    out["exact_duplicate_rows"] = exact[0].evidence["duplicate_rows"] if exact else 0
    began = time.perf_counter()
    clusters = near_groups(texts, seed=seed)
    near = near_duplicates(examples, AuditContext(near=tuple(map(tuple, clusters))))
    out["near_seconds"] = round(time.perf_counter() - began, 2)
    out["near_clusters"] = len(near[0].evidence["clusters"]) if near else 0
    began = time.perf_counter()
    found = secrets(examples, AuditContext())
    out["secrets_seconds"] = round(time.perf_counter() - began, 2)
    out["secret_rows"] = {f.evidence["kind"]: len(f.rows) for f in found}
    out["total_seconds"] = round(
        out["exact_seconds"] + out["near_seconds"] + out["secrets_seconds"], 2
    )
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return
    result: dict = {"checks": "exact_duplicates, near_duplicates (MinHash LSH), secrets"}
    previous: tuple[int, float] | None = None
    for n in args.sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
            check=True,
            capture_output=True,
            text=True,
        )
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
        for key, value in measured.items():
            result[f"{label}_{key}"] = value
        print(label, measured, flush=True)
        if previous is not None:
            slope = math.log(measured["near_seconds"] / previous[1]) / math.log(n / previous[0])
            result[f"near_growth_exponent_to_{label}"] = round(slope, 2)
        previous = (n, measured["near_seconds"])
    result["seed"] = args.seed
    write_result("audit_scaling", result)


if __name__ == "__main__":
    main()
