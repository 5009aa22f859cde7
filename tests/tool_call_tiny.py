"""A tiny tool_call task for the tests: three ops tools (one confirm-only), single-turn requests,
no-call requests and two-step trajectories (one in eight marked failed), and a tiny Llama built
from a config as its base (see test_generate_tiny.build_tiny_lm)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_balance",
            "description": "Balance of an address",
            "parameters": {
                "type": "object",
                "properties": {
                    "chain": {"type": "string", "enum": ["eth", "sol"]},
                    "address": {"type": "string"},
                },
                "required": ["chain", "address"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_gas_price",
            "description": "Current gas price",
            "parameters": {
                "type": "object",
                "properties": {"chain": {"type": "string", "enum": ["eth", "sol"]}},
                "required": ["chain"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "restart_node",
            "description": "Restart a node",
            "parameters": {
                "type": "object",
                "properties": {"node": {"type": "string"}},
                "required": ["node"],
                "additionalProperties": False,
            },
        },
    },
]
NO_CALL = ["tell me a joke", "what is your name", "say hello", "who won the game"]


def tiny_rows(n: int = 48, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        chain = rng.choice(["eth", "sol"])
        kind = i % 4
        if kind == 0:
            address = f"a{rng.randint(10, 99)}"
            arguments = {"chain": chain, "address": address}
            row: dict[str, Any] = {
                "request": f"balance of {address} on {chain}",
                "calls": [{"name": "get_balance", "arguments": arguments}],
            }
        elif kind == 1:
            row = {
                "request": f"gas on {chain}",  # the first user turn, for the data audit
                "messages": [
                    {"role": "user", "content": f"gas on {chain}"},
                    {
                        "role": "assistant",
                        "tool_calls": [{"name": "get_gas_price", "arguments": {"chain": chain}}],
                    },
                    {"role": "tool", "name": "get_gas_price", "content": '{"gwei": 12}'},
                    {"role": "assistant", "content": "Gas is 12 gwei."},
                ],
                "success": i % 8 != 1,
            }
        elif kind == 2:
            node = f"n{rng.randint(1, 9)}"
            row = {
                "request": f"restart node {node}",
                "calls": [{"name": "restart_node", "arguments": {"node": node}}],
            }
        else:
            row = {"request": rng.choice(NO_CALL), "calls": []}
        rows.append(row)
    return rows


def texts_for_tokenizer(rows: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in rows] + [json.dumps(TOOLS)]


def write_tool_task(folder: Path, *, build_lm: bool = True, **section: Any) -> Path:
    from test_generate_tiny import build_tiny_lm

    folder.mkdir(parents=True, exist_ok=True)
    rows = tiny_rows()
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if build_lm and not (folder / "tiny-lm").is_dir():
        build_tiny_lm(folder / "tiny-lm", texts_for_tokenizer(rows))
        # the tools in the system prompt make prompts longer than the generate tests' ones
        config_file = folder / "tiny-lm" / "config.json"
        config = json.loads(config_file.read_text())
        config["max_position_embeddings"] = 1024
        config_file.write_text(json.dumps(config))
    raw = {
        "name": "tiny-tool-call",
        "kind": "tool_call",
        "data": {"train": "rows.jsonl"},
        "model": {"base": "tiny-lm"},
        "split": {"validation": 0.2, "test": 0.2},
        "tool_call": {
            "tools": TOOLS,
            "policy": {"confirm": ["restart_node"]},
            "system": "Ops.",
            "max_new_tokens": 96,  # a free string may run to 120 characters (tools.bounded)
            "max_length": 1024,
            "epochs": 6,
            "learning_rate": 0.01,
            "batch_size": 8,
            "lora": {"r": 8, "targets": "all"},
            "early_stopping_patience": None,
            "few_shot": 1,
            "encoder_baseline": False,
            **section,
        },
        "seed": 3,
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path
