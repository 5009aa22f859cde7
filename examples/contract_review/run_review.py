"""Review a Solidity diff or folder: `python examples/contract_review/run_review.py PATH`
(PATH: a .diff/.patch file or a folder of .sol files). Prints the Markdown review, writes
review.json (a GitHub pull-request review body) in the current directory, and exits 1 when a
human must decide (anything security-critical, or an analysis that could not run). Without a
trained reviewer (`narrowtune train task.yaml` here) it comments with the analyzer alone."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from steps import analyze, review_analysis, to_json  # noqa: E402

from narrowtune import runs  # noqa: E402
from narrowtune.task import load_task  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    target = Path(sys.argv[1])
    if target.is_dir():
        analysis = analyze(folder=str(target))
    else:
        analysis = analyze(diff=target.read_text(encoding="utf-8", errors="replace"))
    trained = bool(runs.list_runs(load_task(HERE / "task.yaml").runs_path))
    if not trained:
        print("(no trained reviewer here: analyzer comments only)", file=sys.stderr)
    try:
        result = review_analysis(analysis, run="task.yaml" if trained else None)
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None
    Path("review.json").write_text(to_json(result), encoding="utf-8")
    print(result["markdown"])
    raise SystemExit(1 if result["needs_human"] else 0)
