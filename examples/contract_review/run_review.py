"""Review a Solidity diff or folder: `python examples/contract_review/run_review.py PATH`
(PATH: a .diff/.patch file or a folder of .sol files). Prints the Markdown review, writes
review.json (GitHub review body) beside the current directory, exits 1 when a human must decide."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from steps import analyze, review

if __name__ == "__main__":
    target = Path(sys.argv[1])
    if target.is_dir():
        analysis = analyze(folder=str(target))
    else:
        analysis = analyze(diff=target.read_text(encoding="utf-8"))
    result = review(analysis)
    Path("review.json").write_text(json.dumps(result["review"], indent=2) + "\n")
    print(result["markdown"])
    raise SystemExit(1 if result["needs_human"] else 0)
