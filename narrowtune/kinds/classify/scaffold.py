"""The `narrowtune init --kind classify` starter: three intents, eight examples each, and a few
requests that belong to none of them (out_of_scope.csv). The starter does not wire those in:
on 24 examples no threshold separates them from the intents, so every request would go to
review; the description says how to turn them on once the data is real."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

STARTER = {
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


# Requests the router was never meant to answer: half choose the threshold, half measure it.
OUT_OF_SCOPE = [
    "the weather is lovely",
    "tell me a joke",
    "what is the capital of Peru",
    "recommend a good book",
    "who won the match yesterday",
    "write a poem about the sea",
    "how do I boil an egg",
    "play some music",
]


def scaffold(directory: Path, name: str) -> dict[str, Any]:
    """Write data.csv (text,label) into `directory`; return the task mapping over it."""
    with (directory / "data.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, texts in STARTER.items():
            writer.writerows([text, label] for text in texts)
    with (directory / "out_of_scope.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([text] for text in OUT_OF_SCOPE)
    return {
        "name": name,
        "kind": "classify",
        "description": "Replace data.csv with your own examples (text,label). With real data, "
        "add requests your router must not answer to out_of_scope.csv and set abstain."
        "out_of_scope: {examples: out_of_scope.csv, target_recall: 0.9}, so that the "
        "abstention threshold catches them too.",
        "data": {"train": "data.csv", "text_column": "text", "label_column": "label"},
        "labels": {label: "" for label in STARTER},
        "split": {"validation": 0.25, "test": 0.25},
        "abstain": {"target_precision": 0.95},
        "seed": 13,
    }
