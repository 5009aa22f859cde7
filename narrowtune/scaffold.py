"""`narrowtune init` and the demo: write a task folder a user can start from."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import yaml

from narrowtune.errors import NarrowtuneError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

_STARTER = {
    "refund": [
        "I want my money back",
        "please refund the last payment",
        "refund my order",
        "can I get a refund for this",
        "charge me back, I never got it",
        "return the fee you took",
        "I need a refund asap",
        "money back please",
    ],
    "shipping": [
        "where is my parcel",
        "the package has not arrived",
        "tracking shows nothing",
        "when will my order ship",
        "delivery is late again",
        "parcel stuck in transit",
        "my order never showed up",
        "how long does shipping take",
    ],
    "account": [
        "I cannot log in",
        "reset my password",
        "my account is locked",
        "change the email on my account",
        "two factor code never arrives",
        "delete my account",
        "login page keeps failing",
        "how do I update my profile",
    ],
}


KINDS = ("classify", "extract", "generate")

# Starter rows for `init --kind extract`: payment requests -> {amount, token, recipient}.
_PAYERS = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"]
_AMOUNTS = ["250", "1,200", "75.5", "40", "3,000", "12", "600", "90"]
_TOKENS = ["USDC", "ETH", "DAI", "ARB"]
_PHRASES = [
    "Please send {amount} {token} to {address} for the design work. — {name}",
    "{name} here: invoice for {amount} {token}, wallet {address}.",
    "Can you pay {amount} {token}? My address is {address}. Thanks, {name}",
]

# Starter rows for `init --kind generate`: a question -> a reply in one fixed format.
_QUESTIONS = [
    ("where is my parcel", "tracking"),
    ("my package has not arrived", "tracking"),
    ("I want my money back", "refunds"),
    ("please refund the last payment", "refunds"),
    ("I cannot log in", "account help"),
    ("reset my password please", "account help"),
]


def _extract_rows() -> list[dict[str, object]]:
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


_EXTRACT_SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": ["number", "null"], "x-narrowtune-normalize": "amount"},
        "token": {"type": ["string", "null"], "x-narrowtune-normalize": "token"},
        "recipient": {"type": ["string", "null"], "pattern": "^0x[0-9a-fA-F]{40}$"},
    },
    "required": ["amount", "token", "recipient"],
}


def _generate_rows() -> list[dict[str, object]]:
    rows = []
    for i in range(24):
        question, team = _QUESTIONS[i % len(_QUESTIONS)]
        name = _PAYERS[i % 8]
        rows.append(
            {
                "prompt": f"{question} — {name}",
                "completion": f"Hi {name},\nThanks for writing. Our {team} team will reply "
                "within one day.\n— Support",
            }
        )
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def scaffold(name: str, *, kind: str, directory: Path) -> Path:
    """Create `directory` with a task.yaml and starter data; refuses to overwrite."""
    if kind not in KINDS:
        raise NarrowtuneError(f"unknown kind '{kind}'; `init` knows {', '.join(KINDS)}")
    if directory.exists() and any(directory.iterdir()):
        raise NarrowtuneError(f"{directory} exists and is not empty; choose another --directory")
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "extract":
        _write_jsonl(directory / "data.jsonl", _extract_rows())
        (directory / "schema.json").write_text(json.dumps(_EXTRACT_SCHEMA, indent=2) + "\n")
        task: dict[str, object] = {
            "name": name,
            "kind": kind,
            "description": "Replace data.jsonl (text, output JSON, optional spans) with yours.",
            "schema": "schema.json",
            "data": {"train": "data.jsonl", "text_column": "text", "target_column": "output"},
            "split": {"validation": 0.2, "test": 0.2},
            "seed": 13,
        }
    elif kind == "generate":
        _write_jsonl(directory / "data.jsonl", _generate_rows())
        task = {
            "name": name,
            "kind": kind,
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
    else:
        _write_classify(directory)
        task = {
            "name": name,
            "kind": kind,
            "description": "Replace data.csv with your own examples (text,label).",
            "data": {"train": "data.csv", "text_column": "text", "label_column": "label"},
            "labels": {label: "" for label in _STARTER},
            "split": {"validation": 0.25, "test": 0.25},
            "abstain": {"target_precision": 0.95},
            "seed": 13,
        }
    (directory / "task.yaml").write_text(yaml.safe_dump(task, sort_keys=False))
    return directory


def _write_classify(directory: Path) -> None:
    with (directory / "data.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, texts in _STARTER.items():
            writer.writerows([text, label] for text in texts)


def demo_folder(directory: Path) -> Path:
    """Copy the bundled wallet-support example into `directory`; returns its task file."""
    source = EXAMPLES / "wallet_support"
    if not (source / "task.yaml").is_file():
        raise NarrowtuneError(
            f"the demo data was not found at {source}; run the demo from a checkout of the "
            "narrowtune repository (pip install -e .)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("task.yaml", "tickets.csv"):
        shutil.copy2(source / name, directory / name)
    return directory / "task.yaml"
