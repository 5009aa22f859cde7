"""Regenerate the figure tables of BENCHMARKS.md from benchmarks/results/*.json.

    python benchmarks/render.py          # rewrite BENCHMARKS.md between the GENERATED markers
    python benchmarks/render.py --check  # exit 1 if BENCHMARKS.md is out of date

Hand-written prose lives outside the markers; every figure inside them comes from a results file,
with that file's command, date and machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "BENCHMARKS.md"
BEGIN = "<!-- GENERATED: do not edit below; run python benchmarks/render.py -->"
END = "<!-- END GENERATED -->"


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def render_file(path: Path) -> str:
    data = json.loads(path.read_text())
    meta = {k: data.pop(k, None) for k in ("command", "date", "machine")}
    lines = [
        f"### `{path.name}`",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        "",
        "| key | value |",
        "|---|---|",
    ]
    for key, value in data.items():
        if isinstance(value, dict):
            value = json.dumps(value)
        lines.append(f"| {key} | {_value(value)} |")
    return "\n".join(lines) + "\n"


def generated() -> str:
    files = sorted(RESULTS.glob("*.json"))
    return "\n".join(render_file(p) for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOC} lacks the GENERATED markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n\n{generated()}\n{END}{tail}"
    if args.check:
        if new != text:
            sys.exit("BENCHMARKS.md is out of date: run python benchmarks/render.py")
        print("BENCHMARKS.md matches benchmarks/results/")
        return
    DOC.write_text(new)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
