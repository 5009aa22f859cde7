"""Write the ops agent's synthetic data (seeded; the same bytes every run).

    python examples/ops_agent/make_data.py

writes `tools.json` (the tools, OpenAI format) and `trajectories.jsonl`: requests to a
node-operations / treasury assistant, each a trajectory (request, calls, the fake tools'
results, the next call or the final answer) marked successful or failed. Kinds of rows:
lookups (one call, or two in parallel, then an answer from the results), requests that need no
call (the assistant answers in text), requests that must go to a person for confirmation
(open_incident, restart_service), escalations, and failed trajectories (a wrong call, marked
`"success": false`: evaluated, never trained on).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from fake_tools import (  # noqa: E402
    CHAINS,
    SERVICES,
    SEVERITIES,
    SINCE,
    TOOLS,
    TOPICS,
    run_tool,
)

SEED = 20261204
ALIASES = {
    "ethereum": ["ethereum", "Ethereum", "eth mainnet", "ETH"],
    "solana": ["solana", "Solana", "SOL"],
    "polygon": ["polygon", "Polygon", "MATIC chain"],
    "arbitrum": ["arbitrum", "Arbitrum", "arb one"],
    "base": ["base", "Base chain", "the Base L2"],
}
SINCE_WORDS = {
    "15m": ["the last 15 minutes", "15m"],
    "1h": ["the last hour", "1h"],
    "6h": ["the last 6 hours", "6h"],
    "24h": ["the last day", "24h"],
}
NO_CALL = [
    "what does gwei mean?",
    "thanks, that's all for now",
    "can you explain what a nonce is",
    "good morning!",
    "write me a poem about validators",
    "what's the difference between a hot and a cold wallet?",
    "who are you?",
    "how do I become a better engineer",
    "what is an L2 rollup, briefly",
    "is it going to rain tomorrow",
    "recommend a good book on distributed systems",
    "translate 'node' into French",
    "what's 17 times 23",
    "tell me a fun fact about Solana",
    "how are you today",
    "why do gas prices go up during NFT mints?",
]
NO_CALL_ANSWER = "No tool needed."
# Openers and closers make each request a different text (no duplicates across the splits).
OPENERS = [
    "",
    "hey, ",
    "quick one: ",
    "pls ",
    "ops question - ",
    "hi team, ",
    "urgent-ish: ",
    "fyi ",
]
CLOSERS = ["", " thanks", " asap", " please", " when you can", " ty", " (for the standup)"]


def _addr(rng: random.Random) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(8))


def _tx(rng: random.Random) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(10))


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _lookup(rng: random.Random) -> tuple[str, list[dict[str, Any]]]:
    chain = rng.choice(CHAINS)
    said = rng.choice(ALIASES[chain])
    pick = rng.randrange(5)
    if pick == 0:
        a = _addr(rng)
        text = rng.choice(
            [
                "what's the balance of {a} on {c}?",
                "balance check: {a} ({c})",
                "how much is in {a} on {c}",
            ]
        ).format(a=a, c=said)
        return text, [_call("get_balance", chain=chain, address=a)]
    if pick == 1:
        t = _tx(rng)
        text = rng.choice(
            ["did {t} go through on {c}?", "status of tx {t} on {c}", "is {t} confirmed yet ({c})"]
        ).format(t=t, c=said)
        return text, [_call("get_tx_status", chain=chain, tx_hash=t)]
    if pick == 2:
        text = rng.choice(
            ["gas price on {c} right now?", "how expensive is gas on {c}", "current gwei on {c}"]
        ).format(c=said)
        return text, [_call("get_gas_price", chain=chain)]
    if pick == 3:
        service, since = rng.choice(SERVICES), rng.choice(SINCE)
        text = rng.choice(
            ["any errors in {s} over {w}?", "pull the {s} logs for {w}", "check {s} logs since {w}"]
        ).format(s=service, w=rng.choice(SINCE_WORDS[since]))
        return text, [_call("query_logs", service=service, since=since)]
    topic = rng.choice(TOPICS)
    text = rng.choice(
        ["what's our policy on {p}?", "remind me of the {p} policy", "look up the {p} rules"]
    ).format(p=topic.replace("-", " "))
    return text, [_call("lookup_policy", topic=topic)]


def _answer(results: list[dict[str, Any]]) -> str:
    return "Done: " + "; ".join(json.dumps(r, separators=(",", ":")) for r in results)


def _trajectory(text: str, calls: list[dict[str, Any]], *, success: bool = True) -> dict:
    results = [run_tool(c["name"], c["arguments"]) for c in calls]
    return {
        "request": text,  # the first user turn again: what the data audit reads
        "messages": [
            {"role": "user", "content": text},
            {"role": "assistant", "tool_calls": calls},
            *[
                {"role": "tool", "name": c["name"], "content": json.dumps(r)}
                for c, r in zip(calls, results)
            ],
            {"role": "assistant", "content": _answer(results)},
        ],
        "success": success,
    }


def rows(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()

    def fresh(make: Any) -> Any:
        """A (text, ...) from `make` whose text, dressed with an opener and a closer, is new."""
        while True:
            made = make()
            text = rng.choice(OPENERS) + made[0] + rng.choice(CLOSERS)
            if text not in seen:
                seen.add(text)
                return (text, *made[1:])

    for _ in range(200):  # single lookups
        text, calls = fresh(lambda: _lookup(rng))
        out.append({**_trajectory(text, calls), "category": "lookup"})
    for _ in range(40):  # two lookups at once (parallel calls)
        (t1, c1), (t2, c2) = _lookup(rng), _lookup(rng)
        (text,) = fresh(lambda t1=t1, t2=t2: (f"{t1.rstrip('?')} and also {t2}",))
        out.append({**_trajectory(text, c1 + c2), "category": "parallel"})
    for _ in range(90):  # no call
        (text,) = fresh(lambda: (rng.choice(NO_CALL),))
        out.append(
            {
                "request": text,
                "calls": [],
                "answer": NO_CALL_ANSWER,
                "category": "no_call",
            }
        )

    def confirm() -> tuple[str, list[dict[str, Any]]]:
        if rng.random() < 0.5:
            service = rng.choice(SERVICES)
            text = rng.choice(
                ["restart {s}", "please bounce the {s} service", "{s} is stuck, restart it"]
            ).format(s=service)
            return text, [_call("restart_service", service=service)]
        severity = rng.choice(SEVERITIES)
        issue = rng.choice(
            ["rpc latency spike", "signer rejecting txs", "indexer lagging", "price feed stale"]
        )
        text = f"open a {severity} incident: {issue}"
        return text, [_call("open_incident", severity=severity, summary=issue)]

    def escalation() -> tuple[str, list[dict[str, Any]]]:
        reason = rng.choice(
            [
                "possible key compromise",
                "user reports stolen funds",
                "legal request",
                "regulator inquiry",
            ]
        )
        text = rng.choice(
            ["I think we have a {r}, get a human", "urgent: {r}", "{r} - who do I talk to?"]
        ).format(r=reason)
        return text, [_call("escalate", reason=reason)]

    for _ in range(50):  # must be confirmed by a person
        text, calls = fresh(confirm)
        out.append({"request": text, "calls": calls, "category": "confirm"})
    for _ in range(30):  # escalations
        text, calls = fresh(escalation)
        out.append({"request": text, "calls": calls, "category": "escalate"})
    for _ in range(40):  # failed trajectories: a wrong first call, kept for evaluation only
        text, calls = fresh(lambda: _lookup(rng))
        wrong = dict(calls[0])
        wrong_args = dict(wrong["arguments"])
        if "chain" in wrong_args:
            wrong_args["chain"] = rng.choice([c for c in CHAINS if c != wrong_args["chain"]])
            wrong = _call(wrong["name"], **wrong_args)
        else:
            wrong = _call("escalate", reason="could not find the right tool")
        row = _trajectory(text, [wrong], success=False)
        row["expected"] = [{c["name"]: {k: [v] for k, v in c["arguments"].items()}} for c in calls]
        out.append({**row, "category": "lookup"})
    rng.shuffle(out)
    for i, row in enumerate(out):
        row["id"] = f"ops-{i:04d}"
    return out


def main() -> None:
    rng = random.Random(SEED)
    data = rows(rng)
    (HERE / "tools.json").write_text(json.dumps(TOOLS, indent=1) + "\n")
    with (HERE / "trajectories.jsonl").open("w") as handle:
        for row in data:
            handle.write(json.dumps(row, sort_keys=True) + "\n")
    counts: dict[str, int] = {}
    for row in data:
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    failed = sum(not row.get("success", True) for row in data)
    print(f"{len(data)} trajectories {counts}, {failed} failed -> {HERE / 'trajectories.jsonl'}")


if __name__ == "__main__":
    main()
