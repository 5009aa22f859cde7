"""Route extracted DAO proposals to reviewers, or back to their authors.

Reads the JSONL written by ``narrowtune predict task.yaml new.jsonl -o predicted.jsonl`` and
writes one routing decision per row to stdout, as JSONL::

    python route.py predicted.jsonl                      # uses routing.yaml next to this file
    python route.py predicted.jsonl --routing my-routing.yaml > decisions.jsonl
    cat predicted.jsonl | python route.py -

Each input row is the original record plus three fields added by ``narrowtune predict``:

* ``output``: the extracted object (see ``schema.json``), including ``category``;
* ``missing``: the required fields that could not be filled (empty when the proposal is complete);
* ``valid``: whether ``output`` validates against the schema.

Each output row is ``{"id", "route", "missing", "reason"}``. A proposal with missing sections
goes back to its author (``incomplete:`` in the routing file); a complete one goes to the
reviewer group of its category. ``id`` is the row's ``id`` field, or its line number if the row
has none.

Bad input (unreadable file, a line that is not a JSON object, fields of the wrong type, a
category the routing file does not know) stops the script before anything is written, with a
message naming the file and line, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_ROUTING = HERE / "routing.yaml"


class RouteError(Exception):
    """Bad input or configuration; the message names the file (and line) at fault."""


@dataclass(frozen=True)
class Routing:
    """Category -> reviewer group, plus where incomplete proposals go."""

    categories: dict[str, str]
    incomplete: str


@dataclass(frozen=True)
class Prediction:
    """One row of ``narrowtune predict`` output, reduced to what routing needs."""

    id: Any
    category: str | None
    missing: list[str]
    valid: bool
    where: str  # "file:line", for error messages


@dataclass(frozen=True)
class Decision:
    id: Any
    route: str
    missing: list[str]
    reason: str

    def to_json(self) -> str:
        row = {"id": self.id, "route": self.route, "missing": self.missing, "reason": self.reason}
        return json.dumps(row, ensure_ascii=False)


def load_routing(path: Path) -> Routing:
    """Read and check a routing file (see routing.yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RouteError(f"{path}: cannot read routing file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RouteError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RouteError(f"{path}: expected a mapping with 'categories' and 'incomplete'")
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise RouteError(f"{path}: 'categories' must map each category to a reviewer group")
    for category, group in categories.items():
        if not isinstance(group, str) or not group.strip():
            raise RouteError(f"{path}: category {category!r} needs a reviewer group name")
    incomplete = data.get("incomplete")
    if not isinstance(incomplete, str) or not incomplete.strip():
        raise RouteError(f"{path}: 'incomplete' must name where incomplete proposals go")
    return Routing({str(k): v for k, v in categories.items()}, incomplete)


def parse_row(line: str, source: str, line_no: int) -> Prediction:
    """Parse one JSONL line of predictions; ``source`` and ``line_no`` go into errors."""
    where = f"{source}:{line_no}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RouteError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(row, dict):
        raise RouteError(f"{where}: expected a JSON object, got {type(row).__name__}")
    output = row.get("output")
    if not isinstance(output, dict):
        raise RouteError(f"{where}: 'output' must be an object (the extracted proposal)")
    missing = row.get("missing")
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise RouteError(f"{where}: 'missing' must be a list of field names")
    valid = row.get("valid")
    if not isinstance(valid, bool):
        raise RouteError(f"{where}: 'valid' must be true or false")
    category = output.get("category")
    if category is not None and not isinstance(category, str):
        raise RouteError(f"{where}: 'output.category' must be a string")
    return Prediction(row.get("id", line_no), category, list(missing), valid, where)


def read_predictions(lines: Iterable[str], source: str) -> list[Prediction]:
    """Parse every non-blank line; the first bad one raises RouteError."""
    rows = []
    for line_no, line in enumerate(lines, 1):
        if line.strip():
            rows.append(parse_row(line, source, line_no))
    return rows


def decide(pred: Prediction, routing: Routing, routing_name: str = "routing.yaml") -> Decision:
    """Route one prediction: incomplete -> author, complete -> its category's reviewers."""
    if pred.missing:
        reason = "incomplete: missing " + ", ".join(pred.missing) + "; sent back to the author"
        return Decision(pred.id, routing.incomplete, pred.missing, reason)
    group = routing.categories.get(pred.category or "")
    if group is None:
        known = ", ".join(sorted(routing.categories))
        what = f"category {pred.category!r}" if pred.category else "a row with no category"
        raise RouteError(
            f"{pred.where}: {what} has no reviewer group in {routing_name} (known: {known})"
        )
    reason = f"complete {pred.category} proposal"
    if not pred.valid:
        reason += ", but the output does not validate against the schema; reviewers should check"
    return Decision(pred.id, group, [], reason)


def route(lines: Iterable[str], source: str, routing: Routing, routing_name: str) -> list[Decision]:
    preds = read_predictions(lines, source)
    return [decide(p, routing, routing_name) for p in preds]


def run(argv: Sequence[str] | None, stdin: TextIO, stdout: TextIO) -> None:
    parser = argparse.ArgumentParser(
        prog="route.py", description="Route extracted DAO proposals to reviewers or authors."
    )
    parser.add_argument("predictions", help="JSONL from `narrowtune predict` ('-' for stdin)")
    parser.add_argument(
        "--routing", type=Path, default=DEFAULT_ROUTING, help="routing file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    routing = load_routing(args.routing)
    if args.predictions == "-":
        decisions = route(stdin, "<stdin>", routing, args.routing.name)
    else:
        path = Path(args.predictions)
        try:
            with path.open(encoding="utf-8") as fh:
                decisions = route(fh, str(path), routing, args.routing.name)
        except OSError as exc:
            raise RouteError(f"{path}: cannot read predictions: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise RouteError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    for decision in decisions:
        stdout.write(decision.to_json() + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        run(argv, sys.stdin, sys.stdout)
    except RouteError as exc:
        print(f"route.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
