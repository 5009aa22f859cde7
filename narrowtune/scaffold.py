"""`narrowtune init` and the demo: write a task folder a user can start from."""

from __future__ import annotations

import csv
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


def scaffold(name: str, *, kind: str, directory: Path) -> Path:
    """Create `directory` with a task.yaml and a starter data.csv; refuses to overwrite."""
    if kind != "classify":
        raise NarrowtuneError(f"`init` knows kind 'classify' so far, not '{kind}'")
    if directory.exists() and any(directory.iterdir()):
        raise NarrowtuneError(f"{directory} exists and is not empty; choose another --directory")
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "data.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, texts in _STARTER.items():
            writer.writerows([text, label] for text in texts)
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
