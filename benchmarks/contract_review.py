"""The contract-review copilot on its 48 held-out test contracts (examples/contract_review).

    python benchmarks/contract_review.py          # after the example README's steps

Runs the example's pipeline on every case of cases.jsonl (a pull request adding each test
contract, and four bad inputs) and scores, against the planted issues in expected.jsonl:

- the analyzer (Slither): recall of planted issues (its finding mapped to the same pattern on
  the same line; and, more leniently, anywhere in the same function) and its findings on lines
  with no planted issue;
- review comments that name the right pattern on the right line: the fine-tuned reviewer (its
  confident comments; the "possible" security flags of lines it is unsure of are counted
  apart), the copilot's whole output (reviewer and analyzer, flags included), the analyzer's raw
  messages (every finding as a comment), and the bundled Gemma 3 270M prompted
  with the style guide's pattern list and one example (a pretrained base model, not
  instruction-tuned: `--skip-base` leaves it out);
- routing: the share of contracts with a security-critical planted issue (and of bad inputs)
  that reached a human, and the share of the others that did;
- time per contract end to end (analyzer + reviewer) on this machine.

Writes benchmarks/results/contract_review.json and contract_review_outputs.jsonl (every
contract's planted issues and each system's comments).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import RESULTS, write_result

from narrowtune.pipeline import load_pipeline, read_cases, run_cases
from narrowtune.solidity.findings import pattern_of
from narrowtune.solidity.units import units

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "contract_review"
sys.path.insert(0, str(EXAMPLE))
from style import PATTERNS  # noqa: E402

Key = tuple[int, str]  # (line, pattern)

PROMPT_HEAD = (
    "You review Solidity code against a style guide. For each problem, write one line "
    "`L<line>: <pattern>`, using only these patterns: " + ", ".join(PATTERNS) + ". "
    "Write `none` when there is no problem.\n\n"
    "Code:\n"
    "L40     function setFee(uint256 newFee) external {\n"
    'L41         require(newFee <= 500, "fee too high");\n'
    "L42         fee = newFee;\n"
    "L43     }\n"
    "Review:\nL40: missing-access-control\nL40: missing-natspec\nL40: missing-event\n"
    "L41: magic-number\n\n"
)
REPLY_LINE = re.compile(r"L?(\d+)\s*:\s*([a-z-]+)")


def score(predicted: set[Key], planted: list[dict[str, Any]]) -> dict[str, Any]:
    truth = {(i["line"], i["pattern"]) for i in planted}
    return {
        "predicted": len(predicted),
        "right": len(predicted & truth),
        "planted": len(truth),
        "found": len(truth & predicted),
    }


def totals(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    predicted = sum(r["predicted"] for r in rows)
    right = sum(r["right"] for r in rows)
    planted = sum(r["planted"] for r in rows)
    found = sum(r["found"] for r in rows)
    return {
        "comments": predicted,
        "right_share": round(right / predicted, 4) if predicted else 0.0,
        "recall": round(found / planted, 4) if planted else 0.0,
    }


def per_pattern(hits: dict[str, list[bool]]) -> dict[str, float]:
    return {p: round(sum(v) / len(v), 3) for p, v in sorted(hits.items())}


def prompted_base(sources: dict[str, str]) -> tuple[dict[str, set[Key]], float, dict[str, str]]:
    """The bundled Gemma 3 270M base, prompted per contract; greedy, 96 new tokens."""
    import torch

    from narrowtune.kinds.lm.base import DEFAULT_GENERATE_BASE
    from narrowtune.kinds.lm.causal import load_base

    lm, tokenizer, _ = load_base(DEFAULT_GENERATE_BASE)
    lm.eval()
    out: dict[str, set[Key]] = {}
    raw: dict[str, str] = {}
    start = time.perf_counter()
    for name, text in sources.items():
        numbered = "\n".join(f"L{i} {line}" for i, line in enumerate(text.splitlines(), 1))
        prompt = PROMPT_HEAD + f"Code:\n{numbered}\nReview:\n"
        ids = tokenizer(prompt, return_tensors="pt")
        with torch.inference_mode():
            generated = lm.generate(
                **ids, max_new_tokens=96, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
        reply = tokenizer.decode(
            generated[0, ids["input_ids"].shape[1] :], skip_special_tokens=True
        )
        reply = reply.split("\n\n")[0]
        raw[name] = reply
        out[name] = {
            (int(m.group(1)), m.group(2))
            for m in REPLY_LINE.finditer(reply)
            if m.group(2) in PATTERNS
        }
        print(f"base {name}: {sorted(out[name])[:6]}", flush=True)
    return out, time.perf_counter() - start, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-base", action="store_true", help="leave out the prompted base")
    args = parser.parse_args()

    records = {
        r["contract"]: r
        for r in map(json.loads, (EXAMPLE / "expected.jsonl").read_text().splitlines())
        if r["split"] == "test"
    }
    pipeline = load_pipeline(EXAMPLE / "pipeline.yaml")
    cases = read_cases(EXAMPLE / "cases.jsonl", pipeline)
    pipeline.prepare()
    report = run_cases(
        pipeline, cases, on_case=lambda o: print(o.case.id, o.result.status, flush=True)
    )
    summary = report.summary()

    systems: dict[str, list[dict[str, Any]]] = {"reviewer": [], "copilot": [], "analyzer_raw": []}
    pattern_hits: dict[str, dict[str, list[bool]]] = {s: {} for s in systems}
    held_hits: dict[str, list[bool]] = {"held_out": [], "seen": []}
    lenient_found = 0
    uncertain_flags = 0
    analyzer_other = 0
    clean_comments = {s: 0 for s in systems}
    analyzer_seconds, review_ms, latencies = [], [], []
    critical_routed, critical_total, other_escalated, other_total = 0, 0, 0, 0
    bad_escalated, bad_total = 0, 0
    outputs = []
    sources: dict[str, str] = {}
    for outcome in report.outcomes:
        case_id, result = outcome.case.id, outcome.result
        if case_id not in records:
            bad_total += 1
            bad_escalated += result.escalated
            continue
        record = records[case_id]
        planted = record["issues"]
        latencies.append(result.latency_ms)
        analysis = result.step("analysis").output or {}
        reviewed = result.step("review").output or {}
        review_ms.append(result.step("review").latency_ms)
        analyzer_seconds.append(analysis.get("seconds", 0.0))
        path = f"contracts/{Path(record['file']).name}"
        sources[case_id] = analysis.get("sources", {}).get(path, "")
        findings = analysis.get("findings", [])
        comments = reviewed.get("comments", [])
        uncertain_flags += sum(bool(c.get("uncertain")) for c in comments)
        predicted = {
            "reviewer": {
                (c["line"], c["pattern"])
                for c in comments
                if c["source"] == "reviewer" and not c.get("uncertain")
            },
            "copilot": {(c["line"], c["pattern"]) for c in comments},
            "analyzer_raw": {(f["line"], pattern_of(f["detector"])) for f in findings},
        }
        for system, keys in predicted.items():
            systems[system].append(score(keys, planted))
            if not planted:
                clean_comments[system] += len(keys)
            for issue in planted:
                hit = (issue["line"], issue["pattern"]) in keys
                pattern_hits[system].setdefault(issue["pattern"], []).append(hit)
                if system == "reviewer":
                    held_hits["held_out" if issue["held_out"] else "seen"].append(hit)
        # The analyzer, leniently: the same pattern anywhere in the planted function.
        spans: dict[str, set[int]] = {}
        for unit in units({path: sources[case_id]}):
            spans.setdefault(unit.function.lstrip("_"), set()).add(unit.line)
        planted_lines = {i["line"] for i in planted}
        for issue in planted:
            lines = spans.get(issue["function"], {issue["line"]})
            lenient_found += any(
                pattern_of(f["detector"]) == issue["pattern"] and f["line"] in lines
                for f in findings
            )
        analyzer_other += sum(f["line"] not in planted_lines for f in findings)
        critical = any(i["security_critical"] for i in planted)
        if critical:
            critical_total += 1
            critical_routed += result.escalated
        else:
            other_total += 1
            other_escalated += result.escalated
        outputs.append(
            {
                "contract": case_id,
                "planted": [[i["line"], i["pattern"]] for i in planted],
                "escalated": result.escalated,
                "reason": result.reason,
                **{s: sorted(map(list, k)) for s, k in predicted.items()},
            }
        )

    values: dict[str, Any] = {
        "contracts": len(records),
        "clean_contracts": sum(not r["issues"] for r in records.values()),
        "planted_issues": sum(len(r["issues"]) for r in records.values()),
        "planted_held_out": sum(i["held_out"] for r in records.values() for i in r["issues"]),
        "training_comments": sum(
            len(json.loads(line)["issues"])
            for line in (EXAMPLE / "expected.jsonl").read_text().splitlines()
            if json.loads(line)["split"] == "train"
        ),
        "pipeline_pass_rate": summary["pass_rate"],
        "critical_contracts": critical_total,
        "critical_routed_to_human": round(critical_routed / critical_total, 4),
        "bad_inputs_routed_to_human": f"{bad_escalated}/{bad_total}",
        "other_contracts_escalated": round(other_escalated / other_total, 4),
        "analyzer_recall_same_line": totals(systems["analyzer_raw"])["recall"],
        "analyzer_recall_same_function": round(
            lenient_found / sum(len(r["issues"]) for r in records.values()), 4
        ),
        "analyzer_findings": sum(r["predicted"] for r in systems["analyzer_raw"]),
        "analyzer_findings_off_planted_lines": analyzer_other,
    }
    for system, rows in systems.items():
        for key, value in totals(rows).items():
            values[f"{system}_{key}"] = value
        values[f"{system}_comments_on_clean_contracts"] = clean_comments[system]
        values[f"{system}_recall_by_pattern"] = per_pattern(pattern_hits[system])
    for part, hits in held_hits.items():
        values[f"reviewer_recall_{part}"] = round(sum(hits) / len(hits), 4) if hits else None
    values["uncertain_security_flags"] = uncertain_flags
    values["security_threshold"] = json.loads((EXAMPLE / "runs" / "security.json").read_text())[
        "threshold"
    ]
    values["seconds_per_contract_p50"] = round(statistics.median(latencies) / 1000, 2)
    values["seconds_per_contract_p95"] = round(
        sorted(latencies)[max(0, round(0.95 * len(latencies)) - 1)] / 1000, 2
    )
    values["analyzer_seconds_p50"] = round(statistics.median(analyzer_seconds), 2)
    values["reviewer_ms_p50"] = round(statistics.median(review_ms), 1)

    if not args.skip_base:
        base, seconds, raw = prompted_base(sources)
        rows, hits = [], Counter()
        for item in outputs:
            keys = base[item["contract"]]
            planted = records[item["contract"]]["issues"]
            rows.append(score(keys, planted))
            item["prompted_base"] = sorted(map(list, keys))
            item["prompted_base_raw"] = raw[item["contract"]]
            hits.update(i["pattern"] for i in planted if (i["line"], i["pattern"]) in keys)
        for key, value in totals(rows).items():
            values[f"prompted_base_{key}"] = value
        values["prompted_base_comments_on_clean_contracts"] = sum(
            r["predicted"] for r, item in zip(rows, outputs, strict=True) if not item["planted"]
        )
        values["prompted_base_seconds_per_contract"] = round(seconds / len(outputs), 2)

    with (RESULTS / "contract_review_outputs.jsonl").open("w", encoding="utf-8") as handle:
        for item in outputs:
            handle.write(json.dumps(item) + "\n")
    write_result("contract_review", values)


if __name__ == "__main__":
    main()
