"""The `narrowtune init --kind extract` starter: payment requests -> {amount, token, recipient}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_PAYERS = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"]
_AMOUNTS = ["250", "1,200", "75.5", "40", "3,000", "12", "600", "90"]
_TOKENS = ["USDC", "ETH", "DAI", "ARB"]
_PHRASES = [
    "Please send {amount} {token} to {address} for the design work. — {name}",
    "{name} here: invoice for {amount} {token}, wallet {address}.",
    "Can you pay {amount} {token}? My address is {address}. Thanks, {name}",
]
SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": ["number", "null"], "x-narrowtune-normalize": "amount"},
        "token": {"type": ["string", "null"], "x-narrowtune-normalize": "token"},
        "recipient": {"type": ["string", "null"], "pattern": "^0x[0-9a-fA-F]{40}$"},
    },
    "required": ["amount", "token", "recipient"],
}


def starter_rows() -> list[dict[str, object]]:
    rows = []
    for i in range(24):
        name, amount = _PAYERS[i % 8], _AMOUNTS[(i * 3) % 8]
        token, address = _TOKENS[i % 4], "0x" + f"{(i + 1) * 2654435761:040x}"[-40:]
        text = _PHRASES[i % 3].format(name=name, amount=amount, token=token, address=address)
        spans = {
            key: [[text.index(value), text.index(value) + len(value)]]
            for key, value in (("amount", amount), ("token", token), ("recipient", address))
        }
        output = {"amount": float(amount.replace(",", "")), "token": token, "recipient": address}
        rows.append({"text": text, "output": output, "spans": spans})
    return rows


def scaffold(directory: Path, name: str) -> dict[str, Any]:
    """Write data.jsonl and schema.json into `directory`; return the task mapping over them."""
    rows = starter_rows()
    (directory / "data.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (directory / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n")
    return {
        "name": name,
        "kind": "extract",
        "description": "Replace data.jsonl (text, output JSON, optional spans) with yours.",
        "schema": "schema.json",
        "data": {"train": "data.jsonl", "text_column": "text", "target_column": "output"},
        "split": {"validation": 0.2, "test": 0.2},
        "seed": 13,
    }
