"""Turn the planted-issue contracts into the reviewer's rows: run the analyzer over each split,
cut every contract into review units (one per line of code, see `narrowtune.solidity.units`),
and label each unit with its planted pattern or `none`.

    python examples/contract_review/build_lines.py      # after make_contracts.py

Writes `lines/train.csv` (300 training contracts: every planted line and a seeded sample of
four `none` lines per planted one), `lines/validation.csv` (the other 60 training contracts,
every line: thresholds are chosen here) and `lines/test.csv` (the 48 test contracts, every line),
and `analysis/{train,test}.json` (the analyzer's normalised findings, reused by the benchmark).
Needs Slither and solcjs (see README.md).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

from narrowtune.solidity.analyzer import analyze_folder, missing_tools
from narrowtune.solidity.units import units

HERE = Path(__file__).parent
SEED = 7
VALIDATION_CONTRACTS = 60
NONE_PER_PLANTED = 4


def load_expected() -> list[dict]:
    return [json.loads(line) for line in (HERE / "expected.jsonl").read_text().splitlines()]


def analysis_for(split: str) -> dict:
    """The analyzer's findings over one split (one Slither run for the whole folder)."""
    result = analyze_folder(HERE / "contracts" / split, timeout=900).to_dict()
    if result["errors"]:
        raise SystemExit(f"the analyzer failed on contracts/{split}: {result['errors']}")
    (HERE / "analysis").mkdir(exist_ok=True)
    path = HERE / "analysis" / f"{split}.json"
    path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{split}: {len(result['findings'])} findings in {result['seconds']:.0f} s")
    return result


def labelled_rows(records: list[dict], findings: list[dict]) -> list[dict]:
    """One row per review unit of the given contracts: text, label, file, line."""
    rows = []
    for record in records:
        name = Path(record["file"]).name
        source = (HERE / record["file"]).read_text(encoding="utf-8")
        planted = {issue["line"]: issue["pattern"] for issue in record["issues"]}
        for unit in units({name: source}, findings):
            label = planted.pop(unit.line, "none")
            rows.append({"text": unit.text, "label": label, "file": name, "line": unit.line})
        if planted:
            raise SystemExit(f"{record['file']}: planted lines {sorted(planted)} are not units")
    return rows


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label", "file", "line"])
        writer.writeheader()
        writer.writerows(rows)
    positives = sum(r["label"] != "none" for r in rows)
    print(f"{path.relative_to(HERE)}: {len(rows)} rows, {positives} planted")


def main() -> None:
    missing = missing_tools()
    if missing:
        sys.exit("cannot run the analyzer: " + "; ".join(missing))
    expected = load_expected()
    rng = random.Random(SEED)
    train_records = [r for r in expected if r["split"] == "train"]
    rng.shuffle(train_records)
    validation_records = train_records[:VALIDATION_CONTRACTS]
    fit_records = train_records[VALIDATION_CONTRACTS:]
    test_records = [r for r in expected if r["split"] == "test"]

    train_findings = analysis_for("train")["findings"]
    test_findings = analysis_for("test")["findings"]

    fit = labelled_rows(fit_records, train_findings)
    positives = [r for r in fit if r["label"] != "none"]
    negatives = [r for r in fit if r["label"] == "none"]
    sample = rng.sample(negatives, min(len(negatives), NONE_PER_PLANTED * len(positives)))
    fit = sorted(positives + sample, key=lambda r: (r["file"], r["line"]))
    write(HERE / "lines" / "train.csv", fit)
    write(HERE / "lines" / "validation.csv", labelled_rows(validation_records, train_findings))
    write(HERE / "lines" / "test.csv", labelled_rows(test_records, test_findings))


if __name__ == "__main__":
    main()
