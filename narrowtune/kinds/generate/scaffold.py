"""The `narrowtune init --kind generate` starter: a question -> a reply in one fixed format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"]
_QUESTIONS = [
    ("where is my parcel", "tracking"),
    ("my package has not arrived", "tracking"),
    ("I want my money back", "refunds"),
    ("please refund the last payment", "refunds"),
    ("I cannot log in", "account help"),
    ("reset my password please", "account help"),
]


def starter_rows() -> list[dict[str, object]]:
    rows = []
    for i in range(24):
        question, team = _QUESTIONS[i % len(_QUESTIONS)]
        name = _NAMES[i % 8]
        rows.append(
            {
                "prompt": f"{question} — {name}",
                "completion": f"Hi {name},\nThanks for writing. Our {team} team will reply "
                "within one day.\n— Support",
            }
        )
    return rows


def scaffold(directory: Path, name: str) -> dict[str, Any]:
    """Write data.jsonl (prompt, completion) into `directory`; return the task mapping."""
    (directory / "data.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in starter_rows()),
        encoding="utf-8",
    )
    return {
        "name": name,
        "kind": "generate",
        "description": "Replace data.jsonl (prompt, completion) with your approved pairs.",
        "data": {"train": "data.jsonl", "text_column": "prompt", "target_column": "completion"},
        "generate": {
            "system": "Reply to the customer in the approved format.",
            "max_new_tokens": 64,
            "contract": {
                "sections": [
                    {"name": "greeting", "pattern": "^Hi "},
                    {"name": "sign-off", "pattern": "^— Support$"},
                ],
                "forbidden": ["password is"],
                "max_chars": 400,
            },
        },
        "split": {"validation": 0.2, "test": 0.2},
        "seed": 13,
    }
