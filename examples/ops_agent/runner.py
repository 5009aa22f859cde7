"""Run multi-step ops trajectories: the trained tool caller decides, the local fake tools answer.

    python examples/ops_agent/runner.py [RUN_OR_TASK] [--requests N] [--steps 4]

For each request (the test rows of trajectories.jsonl by default, or `--ask "..."`), the model
is asked for an action; calls whose status is `execute` are run against the deterministic fakes
(fake_tools.py) and their results go back as tool messages; the loop ends on a text answer, on
a call held for a person (`confirm`: open_incident / restart_service; `escalate`: below the
confidence threshold; `invalid`), or after `--steps` actions. Nothing held is ever run: the
summary counts executions of confirm-only tools, which must be 0.
With a saved model folder (`--model DIR`, as written by `--save-model`) instead of a run, no
run directory is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from fake_tools import CONFIRM, run_tool  # noqa: E402


def run_request(model: Any, request: str, steps: int) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": request}]
    log: list[dict[str, Any]] = []
    executed_confirm_only = 0
    outcome = "max_steps"
    for _ in range(steps):
        reply = model.chat(messages)
        calls = reply.tool_calls or []
        if not calls:
            log.append({"answer": reply.text})
            outcome = "answered"
            break
        held = [c for c in calls if c["status"] != "execute"]
        runnable = [c for c in calls if c["status"] == "execute"]
        messages.append(
            {
                "role": "assistant",
                "tool_calls": [{"name": c["name"], "arguments": c["arguments"]} for c in calls],
            }
        )
        for call in runnable:
            executed_confirm_only += call["name"] in CONFIRM
            result = run_tool(call["name"], call["arguments"])
            log.append({"call": call["name"], "arguments": call["arguments"], "result": result})
            messages.append({"role": "tool", "name": call["name"], "content": json.dumps(result)})
        if held:
            log += [{"held": c["name"], "status": c["status"]} for c in held]
            outcome = "held for a person"
            break
    return {
        "request": request,
        "outcome": outcome,
        "steps": log,
        "executed_confirm_only": executed_confirm_only,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", default=str(HERE / "task.yaml"))
    parser.add_argument("--model", type=Path, help="a saved model folder instead of a run")
    parser.add_argument("--ask", action="append", help="a request of your own (repeatable)")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()

    if args.model:
        from narrowtune.kinds import get_kind

        model = get_kind("tool_call").load(args.model)
    else:
        from narrowtune.api import load

        model = load(args.run)
    if args.ask:
        requests = args.ask
    else:
        from narrowtune.data import load_splits
        from narrowtune.task import load_task

        splits = load_splits(load_task(HERE / "task.yaml"))
        requests = [ex.text for ex in splits.test[: args.requests]]
    results = [run_request(model, r, args.steps) for r in requests]
    for result in results:
        print(json.dumps(result))
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    unconfirmed = sum(r["executed_confirm_only"] for r in results)
    print(f"{len(results)} requests: {outcomes}; confirm-only tools executed: {unconfirmed}")


if __name__ == "__main__":
    main()
