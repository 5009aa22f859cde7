"""Deterministic local fakes of the ops agent's tools, for this example only.

Each tool answers from a hash of its arguments, so the same call always gets the same result
(the generator writes those results into the trajectories, and the runner gets them again).
Nothing here touches a network, a chain or a pager. `TOOLS` is the OpenAI function-calling
declaration the task reads (written to tools.json by make_data.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

CHAINS = ["ethereum", "solana", "polygon", "arbitrum", "base"]
SERVICES = ["rpc-gateway", "indexer", "signer", "relayer", "price-feed"]
SINCE = ["15m", "1h", "6h", "24h"]
TOPICS = ["withdrawals", "key-rotation", "gas-limits", "incident-response", "hot-wallet-limits"]
SEVERITIES = ["sev1", "sev2", "sev3"]
CONFIRM = ["open_incident", "restart_service"]


def _fn(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


CHAIN = {"type": "string", "enum": CHAINS}
TOOLS = [
    _fn(
        "get_balance",
        "Native-token balance of an address",
        {"chain": CHAIN, "address": {"type": "string", "pattern": "^0x[0-9a-f]{8}$"}},
    ),
    _fn(
        "get_tx_status",
        "Status of a transaction",
        {"chain": CHAIN, "tx_hash": {"type": "string", "pattern": "^0x[0-9a-f]{10}$"}},
    ),
    _fn("get_gas_price", "Current gas price in gwei", {"chain": CHAIN}),
    _fn(
        "query_logs",
        "Error log lines of a service",
        {
            "service": {"type": "string", "enum": SERVICES},
            "since": {"type": "string", "enum": SINCE},
        },
    ),
    _fn(
        "lookup_policy",
        "The treasury / ops policy on a topic",
        {"topic": {"type": "string", "enum": TOPICS}},
    ),
    _fn(
        "open_incident",
        "Open an incident (needs confirmation)",
        {
            "severity": {"type": "string", "enum": SEVERITIES},
            "summary": {"type": "string", "maxLength": 80},
        },
    ),
    _fn(
        "restart_service",
        "Restart a service (needs confirmation)",
        {"service": {"type": "string", "enum": SERVICES}},
    ),
    _fn(
        "escalate",
        "Hand the request to the on-call human",
        {"reason": {"type": "string", "maxLength": 80}},
    ),
]


def _h(*parts: Any) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def get_balance(chain: str, address: str) -> dict[str, Any]:
    return {
        "chain": chain,
        "address": address,
        "balance": round(_h(chain, address) % 100000 / 1000, 3),
    }


def get_tx_status(chain: str, tx_hash: str) -> dict[str, Any]:
    status = ["confirmed", "pending", "failed"][_h(chain, tx_hash) % 3]
    return {"chain": chain, "tx_hash": tx_hash, "status": status}


def get_gas_price(chain: str) -> dict[str, Any]:
    return {"chain": chain, "gwei": 1 + _h(chain, "gas") % 60}


def query_logs(service: str, since: str) -> dict[str, Any]:
    return {"service": service, "since": since, "errors": _h(service, since) % 7}


def lookup_policy(topic: str) -> dict[str, Any]:
    return {"topic": topic, "policy": f"See runbook section {1 + _h(topic) % 9} for {topic}."}


def open_incident(severity: str, summary: str) -> dict[str, Any]:
    return {"incident": f"INC-{_h(severity, summary) % 9000 + 1000}", "severity": severity}


def restart_service(service: str) -> dict[str, Any]:
    return {"service": service, "restarted": True}


def escalate(reason: str) -> dict[str, Any]:
    return {"ticket": f"ESC-{_h(reason) % 9000 + 1000}"}


FAKES = {
    "get_balance": get_balance,
    "get_tx_status": get_tx_status,
    "get_gas_price": get_gas_price,
    "query_logs": query_logs,
    "lookup_policy": lookup_policy,
    "open_incident": open_incident,
    "restart_service": restart_service,
    "escalate": escalate,
}


def run_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The fake's result for one call (KeyError for an unknown tool)."""
    return FAKES[name](**arguments)
