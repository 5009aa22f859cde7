"""Duplicates in the SMS Spam Collection: the audit's count against an independent count.

Reproduces benchmarks/results/audit_sms_spam.json:

    python benchmarks/audit_sms_spam.py              # full audit (encodes 5,574 texts; 1-3 min)
    python benchmarks/audit_sms_spam.py --fast       # model-free checks only (seconds)

Recipe, top to bottom:
1. read ../shared/data/sms_spam_collection/SMSSpamCollection.tsv (label<TAB>text, no header,
   no quoting) and write it as JSONL to a temporary folder, texts byte for byte;
2. run `narrowtune.data.audit` on a task over that file;
3. count duplicates independently with pandas: raw identical texts (`duplicated()`, the
   5,574 - 5,171 = 403 that SOURCE.md states) and texts identical after the audit's documented
   normalisation, re-implemented here with pandas string methods (case-fold, collapse
   whitespace, strip punctuation at both ends); the audit's count must equal the latter;
4. record near-duplicate clusters (word-bigram MinHash LSH, Jaccard >= 0.7), conflicts and
   the other findings.
"""

from __future__ import annotations

import argparse
import csv
import json
import string
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import SHARED_DATA, Timer, write_result

from narrowtune.data.audit import audit
from narrowtune.task import task_from_mapping

SOURCE = SHARED_DATA / "sms_spam_collection" / "SMSSpamCollection.tsv"
EDGE_PUNCT = string.punctuation + "¡¿“”‘’«»…–—"


def independent_counts(path: Path) -> dict[str, int]:
    frame = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=["label", "text"],
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
    )
    normalised = (
        frame["text"]
        .str.casefold()
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
        .str.strip(EDGE_PUNCT)
        .str.strip()
    )
    groups = normalised[normalised.duplicated(keep=False)].nunique()
    return {
        "rows": len(frame),
        "raw_duplicate_rows": int(frame["text"].duplicated().sum()),
        "raw_unique_texts": int(frame["text"].nunique()),
        "normalised_duplicate_rows": int(normalised.duplicated().sum()),
        "normalised_duplicate_groups": int(groups),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="model-free checks only")
    args = parser.parse_args()
    independent = independent_counts(SOURCE)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sms.jsonl"
        with SOURCE.open(encoding="utf-8") as source, data.open("w", encoding="utf-8") as out:
            for line in source.read().split("\n"):
                if line:
                    label, text = line.split("\t", 1)
                    out.write(json.dumps({"text": text, "label": label}) + "\n")
        task = task_from_mapping(
            {"name": "sms-spam", "data": {"train": str(data)}, "split": {"test": 0.0}},
            base_dir=tmp,
        )
        with Timer() as timer:
            report = audit(task, fast=args.fast)
    exact = report.by_check("exact_duplicates")
    near = report.by_check("near_duplicates")
    clusters = near[0].evidence["clusters"] if near else []
    conflicts = report.by_check("conflicting_labels")
    secrets = {f.evidence["kind"]: len(f.rows) for f in report.by_check("secrets")}
    audit_dups = exact[0].evidence["duplicate_rows"] if exact else 0
    label_issues = report.by_check("label_issues")
    result = {
        "dataset": "SMS Spam Collection v.1 (5,574 rows)",
        "fast": args.fast,
        "audit_exact_duplicate_rows": audit_dups,
        "audit_exact_duplicate_groups": len(exact[0].evidence["groups"]) if exact else 0,
        "independent_normalised_duplicate_rows": independent["normalised_duplicate_rows"],
        "independent_normalised_duplicate_groups": independent["normalised_duplicate_groups"],
        "counts_match": audit_dups == independent["normalised_duplicate_rows"],
        "independent_raw_duplicate_rows": independent["raw_duplicate_rows"],
        "independent_raw_unique_texts": independent["raw_unique_texts"],
        "near_duplicate_clusters": len(clusters),
        "near_duplicate_rows_beyond_one_per_cluster": sum(len(c["rows"]) - 1 for c in clusters),
        "near_duplicate_largest_cluster": max((len(c["rows"]) for c in clusters), default=0),
        "near_duplicate_cluster_labels": dict(
            Counter("/".join(sorted(set(c["labels"]))) for c in clusters)
        ),
        "near_duplicate_examples": [[t[:80] for t in c["texts"][:2]] for c in clusters[:5]],
        "conflicting_label_groups": sum(len(f.evidence["groups"]) for f in conflicts),
        "label_issue_rows": len(label_issues[0].rows) if label_issues else None,
        "secret_rows_by_kind": secrets,
        "findings": [f"{f.severity}: {f.check}: {len(f.rows)} row(s)" for f in report.findings],
        "audit_seconds": round(timer.seconds, 1),
        "audit_cpu_seconds": round(timer.cpu, 1),
        "audit_seconds_per_step": report.stats["seconds_per_step"],
    }
    write_result("audit_sms_spam" + ("_fast" if args.fast else ""), result)
    if not result["counts_match"]:
        raise SystemExit("the audit's exact-duplicate count differs from the independent count")


if __name__ == "__main__":
    main()
