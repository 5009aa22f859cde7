"""The contract-review copilot's pipeline steps (`python` steps of pipeline.yaml): keyword
arguments in, a JSON-serialisable dict out. Nothing here ever approves a change.

1. `analyze`: the static analyzer first (Slither, compiled by npm's solcjs), on a unified diff
   (new files, or changes applied to `folder`) or on a folder; its findings normalised.
2. `review`: the fine-tuned reviewer reads every changed line in its context (with the
   analyzer's findings on it) and names the STYLE.md pattern it breaks; each named pattern
   becomes a comment in the approved format (file:line, pattern, why it matters, suggested
   change). The analyzer's security-critical, high and medium findings are comments too, with
   their evidence. Anything security-critical, or an analysis that could not run, means a human
   decides.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from style import PATTERNS, SECURITY_CRITICAL, comment_text  # noqa: E402

from narrowtune.solidity.analyzer import Analysis, analyze_folder, analyze_sources  # noqa: E402
from narrowtune.solidity.comments import Comment, github_review, markdown, verdict  # noqa: E402
from narrowtune.solidity.diff import DiffError, apply_diff, parse_diff  # noqa: E402
from narrowtune.solidity.units import units  # noqa: E402

_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _failed(message: str) -> dict[str, Any]:
    """An analysis that could not run, in `analyze`'s shape (a human must decide)."""
    return {**Analysis(errors=[message]).to_dict(), "sources": {}, "changed": {}}


def analyze(
    diff: str | None = None, folder: str | None = None, timeout: float = 120.0
) -> dict[str, Any]:
    """Analyze a unified diff (new files, or changes applied to `folder`) or a folder. The
    result carries the sources after the change and the changed lines, for `review`."""
    try:
        if diff is not None:
            files = parse_diff(diff)
            sources = apply_diff(files, folder)
            if not sources:
                raise DiffError("the diff touches no Solidity (.sol) file")
            result = analyze_sources(sources, timeout=timeout).to_dict()
            changed = {f.path: sorted(f.added) for f in files if f.is_solidity}
        elif folder is not None:
            root = Path(folder)
            result = analyze_folder(root, timeout=timeout).to_dict()
            sources = {name: (root / name).read_text(encoding="utf-8") for name in result["files"]}
            changed = {
                name: list(range(1, len(text.splitlines()) + 1)) for name, text in sources.items()
            }
        else:
            raise DiffError("give a diff or a folder to review")
    except (DiffError, OSError, UnicodeDecodeError) as error:
        return _failed(str(error))
    result["sources"] = sources
    result["changed"] = changed
    return result


def reviewer(run: str | Path) -> tuple[Any, Path]:
    """The reviewer model and its run directory, from a run directory or a task file (its
    promoted run, else its newest); loaded once per process."""
    from narrowtune.api import load, resolve_run

    run_dir = resolve_run(Path(run).resolve())
    key = str(run_dir)
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = load(run_dir)
        return _MODELS[key], run_dir


class LineCall(NamedTuple):
    """The reviewer on one line: its prediction, and how likely any security-critical pattern
    is (the sum of their probabilities) with the likeliest of them."""

    prediction: Any
    security: float
    security_pattern: str


def read_lines(model: Any, texts: list[str]) -> list[LineCall]:
    logits = model.logits(texts)
    predictions = model.predictions_from_logits(logits)
    probabilities = model.probabilities(logits)
    critical = [i for i, name in enumerate(model.labels) if name in SECURITY_CRITICAL]
    calls = []
    for prediction, row in zip(predictions, probabilities, strict=True):
        best = max(critical, key=lambda i: row[i])
        calls.append(LineCall(prediction, float(sum(row[i] for i in critical)), model.labels[best]))
    return calls


def security_threshold(path: Path, model_dir: Path) -> float:
    """The threshold `calibrate.py` chose on validation for this reviewer run."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run `python calibrate.py` after training the reviewer"
        )
    chosen = json.loads(path.read_text(encoding="utf-8"))
    if chosen.get("run") != model_dir.name:
        raise ValueError(
            f"{path} was chosen for run {chosen.get('run')}, not {model_dir.name}: "
            "run `python calibrate.py` again"
        )
    return float(chosen["threshold"])


def reviewer_comments(
    analysis: dict[str, Any], model: Any, threshold: float | None = None
) -> list[Comment]:
    """The reviewer's comments on the changed lines: one per line it names a pattern on with a
    confidence over its threshold (chosen on validation; under it the line gets no comment).
    With `threshold`, a line whose security-critical probability reaches it but whose named
    pattern is another (or none) gets an uncertain security-critical comment: a human decides."""
    findings = analysis.get("findings", [])
    changed = {path: set(lines) for path, lines in analysis.get("changed", {}).items()}
    todo = [
        u for u in units(analysis.get("sources", {}), findings) if u.line in changed.get(u.file, ())
    ]
    if not todo:
        return []
    comments = []
    for unit, call in zip(todo, read_lines(model, [u.text for u in todo]), strict=True):
        prediction = call.prediction
        label = prediction.label
        confident = not prediction.abstain and label in PATTERNS
        evidence = [
            f["message"] for f in findings if f["file"] == unit.file and f["line"] == unit.line
        ]
        if confident:
            why, suggestion = comment_text(label, unit.function)
            comments.append(
                Comment(
                    path=unit.file,
                    line=unit.line,
                    pattern=label,
                    why=why,
                    suggestion=suggestion,
                    security_critical=PATTERNS[label].security_critical,
                    source="reviewer",
                    evidence=evidence,
                    confidence=round(float(prediction.confidence), 4),
                )
            )
        flagged = threshold is not None and call.security >= threshold
        if flagged and not (confident and PATTERNS[label].security_critical):
            why, suggestion = comment_text(call.security_pattern, unit.function)
            comments.append(
                Comment(
                    path=unit.file,
                    line=unit.line,
                    pattern=call.security_pattern,
                    why=f"Possibly (the reviewer is unsure, {call.security:.0%}): {why}",
                    suggestion=suggestion,
                    security_critical=True,
                    source="reviewer",
                    evidence=evidence,
                    confidence=round(call.security, 4),
                    uncertain=True,
                )
            )
    return comments


def analyzer_comments(analysis: dict[str, Any]) -> list[Comment]:
    """The analyzer's findings a human must see: security-critical, high and medium."""
    out = []
    for f in analysis.get("findings", []):
        if not (f["security_critical"] or f["severity"] in ("high", "medium")):
            continue
        known = PATTERNS.get(f["pattern"])
        suggestion = known.suggestion if known else "See the analyzer's message."
        out.append(
            Comment(
                path=f["file"],
                line=f["line"],
                pattern=f["pattern"],
                why=f"{f['detector']} ({f['severity']}): {f['message']}",
                suggestion=suggestion,
                security_critical=bool(f["security_critical"]),
                source="analyzer",
                evidence=[f["message"]],
            )
        )
    return out


def merge(reviewer: list[Comment], analyzer: list[Comment]) -> list[Comment]:
    """One comment per (file, line, pattern): the reviewer's wording, the analyzer's evidence,
    and security-critical when either says so."""
    by_key: dict[tuple[str, int, str], Comment] = {}
    for comment in [*reviewer, *analyzer]:
        key = (comment.path, comment.line, comment.pattern)
        if key not in by_key:
            by_key[key] = comment
            continue
        kept = by_key[key]
        kept.evidence = sorted(set(kept.evidence) | set(comment.evidence))
        kept.security_critical = kept.security_critical or comment.security_critical
        kept.uncertain = kept.uncertain and comment.uncertain
    return sorted(by_key.values(), key=lambda c: (c.path, c.line, c.pattern))


def review(
    findings: list[dict[str, Any]] | None = None,
    errors: list[str] | None = None,
    sources: dict[str, str] | None = None,
    changed: dict[str, list[int]] | None = None,
    run: str | None = None,
    security: str = "runs/security.json",
) -> dict[str, Any]:
    """Comments from the reviewer (when `run` names a trained reviewer: a run directory or its
    task file, relative to this folder) and the analyzer, on `analyze`'s outputs.

    `needs_human` is true when anything is security-critical or the analysis failed; the review
    event is then REQUEST_CHANGES, otherwise COMMENT: never APPROVE."""
    analysis = {
        "findings": findings or [],
        "errors": list(errors or []),
        "sources": sources or {},
        "changed": changed or {},
    }
    errors = analysis["errors"]
    found = []
    if run is not None and not errors:
        model, run_dir = reviewer(HERE / run)
        threshold = security_threshold(HERE / security, run_dir)
        found = reviewer_comments(analysis, model, threshold)
    comments = merge(found, analyzer_comments(analysis))
    decision = verdict(comments, errors)
    critical = sorted({c.pattern for c in comments if c.security_critical})
    return {
        "comments": [c.to_dict() for c in comments],
        "review": github_review(comments, errors),
        "markdown": markdown(comments, errors),
        "verdict": decision,
        "needs_human": decision == "needs_human",
        "critical": critical,
        "reason": (
            "the analysis could not complete: " + "; ".join(errors)
            if errors
            else ("security-critical: " + ", ".join(critical) if critical else "comments only")
        ),
    }


def review_analysis(
    analysis: dict[str, Any], run: str | None = None, security: str = "runs/security.json"
) -> dict[str, Any]:
    """`review` on a whole `analyze` result."""
    keys = ("findings", "errors", "sources", "changed")
    return review(**{k: analysis.get(k) for k in keys}, run=run, security=security)


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(result["review"], indent=2) + "\n"
