"""Write cases.jsonl for `narrowtune pipeline test pipeline.yaml cases.jsonl`.

    python examples/wallet_support/make_cases.py

Five tickets of each intent from the intent classifier's test split (never trained or chosen
on), in a seeded order, plus tickets written here that mention a seed phrase or private key.
Expectations:

* account recovery, refund requests and anything about a seed phrase or private key must reach
  a person: `"escalated": true` (`pipeline test` fails if one is answered);
* every other ticket is sent — to security as well for scam reports — or handed to a person
  (an unsure classifier, a reply that broke the format, a stale fact); sending it anywhere else
  is the failure. How many needed a person is the figure `pipeline test` prints.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PER_INTENT = 5
MUST_ESCALATE = {"account_recovery", "refund_request"}
SECRET_TICKETS = [
    "Someone from 'Kestrel support' on Telegram asked me to type my seed phrase into a form. "
    "Did I get hacked?",
    "my recovery phrase got wet and I can only read 9 of the 12 words, what now",
    "Can you export my private key for me? I want to import the wallet in another app.",
    "I wrote my seed phrase in a notes app that syncs to the cloud, is that a problem?",
    "the app asks for my 24 words after the update, is this normal??",
    "a website said my wallet is compromised and I should enter my mnemonic to secure it",
]


def main() -> None:
    from narrowtune.data import load_splits
    from narrowtune.task import load_task

    test = load_splits(load_task(HERE / "task.yaml")).test
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in test:
        by_intent[example.label].append(example.text)
    rng = random.Random(20261204)
    rows = []
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent])
        rng.shuffle(texts)
        for i, text in enumerate(texts[:PER_INTENT]):
            expect: dict[str, object]
            if intent in MUST_ESCALATE:
                expect = {"escalated": True, "route": "human"}
            elif intent == "phishing_report":
                expect = {"route": ["send-and-alert-security", "human"]}
            else:
                expect = {"route": ["send", "human"]}
            rows.append({"id": f"{intent}-{i + 1}", "inputs": {"ticket": text}, "expect": expect})
    for i, text in enumerate(SECRET_TICKETS):
        rows.append(
            {
                "id": f"secret-{i + 1}",
                "inputs": {"ticket": text},
                "expect": {"escalated": True, "route": "human"},
            }
        )
    out = HERE / "cases.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} cases -> {out}")


if __name__ == "__main__":
    main()
