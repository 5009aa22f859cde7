"""Write the twelve `narrowtune advise` validation scenarios (data + task + profile), seeded.

Every scenario is a small classify task a team might bring, written here from templates (no
outside data): wallet-support routers of several sizes and volumes, a fee-policy desk whose
facts change weekly, a payout approval process in several steps, a router whose labels are
still being redrawn, routers with noisy labels, thin data and too little data to decide.
`SCENARIOS` gives each one's expected decision and the measurement that justifies it
(benchmarks/advise_scenarios.py runs both). Standard library only; the same seed writes the
same bytes:

    python examples/advise_scenarios/make_scenarios.py            # into examples/advise_scenarios/
    python examples/advise_scenarios/make_scenarios.py --out DIR
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

SEED = 20261204
HERE = Path(__file__).resolve().parent

TOKENS = ["ETH", "USDC", "DAI", "WBTC", "SOL", "MATIC", "ARB", "OP", "USDT", "LINK"]
CHAINS = ["Ethereum", "Arbitrum", "Optimism", "Polygon", "Base", "Solana", "BNB Chain"]
APPS = ["Uniswap", "OpenSea", "Aave", "Curve", "1inch", "Lido", "a bridge", "a dapp"]
OPENERS = ["", "", "", "hi, ", "hello, ", "urgent: ", "please help: ", "hey team, ", "question: "]
CLOSERS = ["", "", "", " thanks", " please advise", " asap", " any idea?", " what now?"]

# Twenty intents of a wallet's support desk, each a handful of phrasings with slots.
INTENTS: dict[str, list[str]] = {
    "stuck_transaction": [
        "my transaction has been pending for {n} hours",
        "sent {amount} {token} and it is still unconfirmed",
        "the transfer is stuck in the mempool since yesterday",
        "tx shows pending forever on {chain}",
        "how do I speed up a pending transaction of {amount} {token}",
    ],
    "wrong_network": [
        "I sent {token} on {chain} but the exchange expected another network",
        "funds went to the wrong chain, can I get them back",
        "deposited {amount} {token} using the wrong network",
        "picked {chain} by mistake when withdrawing",
        "my {token} arrived on the wrong network",
    ],
    "gas_fee_question": [
        "why is gas so high on {chain} today",
        "how are network fees calculated for a {token} transfer",
        "the fee for sending {amount} {token} looks too expensive",
        "what gas limit should I set on {chain}",
        "is there a way to pay lower network fees",
    ],
    "seed_phrase_help": [
        "I lost my recovery phrase, what can I do",
        "where do I find my seed phrase backup",
        "is it safe to store my seed words in the cloud",
        "my 12 word phrase is not accepted on restore",
        "how do I back up my recovery words properly",
    ],
    "phishing_report": [
        "someone sent me a link asking for my seed phrase",
        "a fake support account on {app} messaged me",
        "I think I connected to a scam site pretending to be {app}",
        "got an email saying my wallet is suspended, is it phishing",
        "report a scam website copying your wallet",
    ],
    "token_not_showing": [
        "my {token} balance is not showing in the wallet",
        "received {amount} {token} but the token does not appear",
        "how do I add a custom token on {chain}",
        "tokens missing from my asset list after swap",
        "balance shows zero but explorer says I have {token}",
    ],
    "failed_swap": [
        "my swap of {amount} {token} failed but fees were taken",
        "swap on {app} reverted with an error",
        "exchange between {token} and ETH keeps failing",
        "the swap says slippage too high and fails",
        "lost gas on a failed swap on {chain}",
    ],
    "nft_missing": [
        "the NFT I bought on {app} is not in my wallet",
        "my collectibles tab is empty",
        "NFT transferred but I cannot see it on {chain}",
        "where did my NFT go after the mint",
        "how do I display NFTs from {chain}",
    ],
    "staking_rewards": [
        "when will I receive my staking rewards for {token}",
        "staking rewards stopped arriving after {n} days",
        "how is the APY for staking {token} calculated",
        "I staked {amount} {token} with {app}, where are the rewards",
        "can I unstake {token} early",
    ],
    "bridge_delay": [
        "my bridge transfer to {chain} is taking {n} hours",
        "bridged {amount} {token} and nothing arrived yet",
        "funds stuck on the bridge between chains",
        "how long does bridging to {chain} usually take",
        "bridge says completed but no {token} on the other side",
    ],
    "hardware_wallet": [
        "my ledger is not detected when I connect it",
        "how do I pair a hardware wallet with the app",
        "trezor signing fails for {token}",
        "hardware device firmware update stuck",
        "cannot confirm transactions on my hardware wallet",
    ],
    "account_recovery": [
        "I forgot my wallet password",
        "locked out of the app after {n} wrong attempts",
        "how do I restore my wallet on a new phone",
        "biometric unlock stopped working",
        "reset the app passcode without losing funds",
    ],
    "buy_crypto": [
        "how can I buy {token} with my card",
        "card purchase of {amount} {token} was declined",
        "which payment methods can I use to buy crypto",
        "bought {token} with bank transfer but it never arrived",
        "is there a limit on buying {token}",
    ],
    "sell_crypto": [
        "how do I cash out {token} to my bank",
        "selling {amount} {token} failed at the last step",
        "when will the money from my sale arrive",
        "can I sell {token} for euros in the app",
        "withdrawal to bank after selling is delayed",
    ],
    "approve_revoke": [
        "how do I revoke token approvals for {app}",
        "I approved unlimited {token} spending, how to undo it",
        "check which contracts can spend my {token}",
        "remove old allowances on {chain}",
        "what does approve mean before a swap on {app}",
    ],
    "address_book": [
        "how do I save an address in my contacts",
        "edit a saved address label",
        "my address book entries disappeared",
        "can I share contacts between devices",
        "delete an old address from the contact list",
    ],
    "app_crash": [
        "the app crashes when I open it",
        "wallet closes right after the splash screen",
        "app freezes on the send screen",
        "crash after updating to the latest version",
        "black screen when launching the wallet",
    ],
    "dapp_connection": [
        "cannot connect my wallet to {app}",
        "walletconnect QR code does not work with {app}",
        "dapp says wallet not detected on {chain}",
        "connection to {app} keeps dropping",
        "how do I disconnect a site from my wallet",
    ],
    "tax_report": [
        "can I export my transactions for taxes",
        "download a CSV of my {token} history",
        "do you provide a tax report for {n} trades",
        "how to get a statement of gains",
        "export history for my accountant",
    ],
    "feature_request": [
        "please add support for {chain}",
        "it would be great to have dark mode on the send screen",
        "can you list {token} in the app",
        "suggestion: show fiat value for {token} on {chain}",
        "feature idea: scheduled payments",
    ],
}

# The fee-policy desk: questions whose answers depend on fee facts that change weekly.
FEE_INTENTS: dict[str, list[str]] = {
    "withdrawal_fee": [
        "what is the withdrawal fee for {token} this week, is it still {fee}",
        "you charged me {fee} to withdraw {token}, why",
        "current fee to withdraw {amount} {token} to {chain}",
        "did the {token} withdrawal fee change from {fee}",
    ],
    "deposit_fee": [
        "is there a fee for depositing {token}, I saw {fee}",
        "deposit of {amount} {token} showed a {fee} charge",
        "do you still waive deposit fees on {chain}",
        "card deposit fee is {fee} now?",
    ],
    "trading_fee": [
        "maker fee for {token} trades is {fee}?",
        "what is the current trading fee tier for {amount} volume",
        "why did my trade cost {fee} in fees",
        "taker fee on {token} pairs today",
    ],
    "fee_promotion": [
        "is the zero fee promotion for {token} still running",
        "promo said fees drop to {fee} until Friday",
        "does the weekend fee discount apply on {chain}",
        "when does the {token} fee holiday end",
    ],
    "limit_change": [
        "daily withdrawal limit is {fee} now?",
        "why was my limit lowered to {amount} {token}",
        "new verification limits this week for {token}",
        "can I raise my {chain} withdrawal limit",
    ],
    "network_fee_pass_through": [
        "do you pass the {chain} network fee of {fee} to me",
        "network fee for {token} added {fee} to my withdrawal",
        "is the gas cost on {chain} included in the fee",
        "why is the {token} network fee higher than last week",
    ],
}

# Approval of partner payouts: one request goes through check, approve and pay.
PAYOUT_INTENTS: dict[str, list[str]] = {
    "check_documents": [
        "partner {n} sent the invoice for {amount} {token}, please verify the documents",
        "kyc file for payee {n} needs checking before payout",
        "invoice number {n} is missing a tax id",
        "verify bank details for partner {n}",
    ],
    "approve_payout": [
        "payout of {amount} {token} to partner {n} is ready for approval",
        "please approve the monthly payout batch {n}",
        "second approver needed for {amount} {token}",
        "manager sign-off for payout {n}",
    ],
    "reject_payout": [
        "payout {n} must be rejected, amount does not match the contract",
        "decline the transfer of {amount} {token}, duplicate invoice",
        "reject batch {n}, payee failed screening",
        "stop payout to partner {n}",
    ],
    "execute_payment": [
        "send the approved {amount} {token} to partner {n}",
        "release payment batch {n} on {chain}",
        "execute the transfer for invoice {n} now",
        "pay partner {n} from the treasury wallet",
    ],
}


def fill(template: str, rng: random.Random, fee_period: int = 0) -> str:
    """One text from a template: slots filled, an opener and a closer around it. `fee_period`
    shifts the fee amounts quoted (the fee schedule of that week)."""
    fee = f"{rng.choice([0.1, 0.2, 0.25, 0.5, 1, 2, 5]) + fee_period * 0.35:.2f}%"
    text = template.format(
        n=rng.randint(2, 999),
        amount=rng.choice(["0.5", "1", "2.5", "10", "75", "250", "1,200", "5,000"]),
        token=rng.choice(TOKENS),
        chain=rng.choice(CHAINS),
        app=rng.choice(APPS),
        fee=fee,
    )
    return f"{rng.choice(OPENERS)}{text}{rng.choice(CLOSERS)}".strip()


def rows_for(
    intents: dict[str, list[str]], per_label: int, rng: random.Random, fee_period: int = 0
) -> list[list[str]]:
    rows = []
    for label, templates in intents.items():
        for i in range(per_label):
            rows.append([fill(templates[i % len(templates)], rng, fee_period), label])
    return rows


def pick(intents: dict[str, list[str]], count: int) -> dict[str, list[str]]:
    return dict(list(intents.items())[:count])


def descriptions(intents: dict[str, list[str]]) -> dict[str, str]:
    return {name: name.replace("_", " ") for name in intents}


# name -> what is written, the profile, the expected decision and the measurement behind it.
SCENARIOS: dict[str, dict] = {
    "router_20_high_volume": {
        "story": "a settled 20-intent support router, 60 labelled tickets per intent, 200k "
        "tickets a day",
        "profile": {"volume_per_day": 200_000, "latency_budget_ms": 300},
        "expected": "fine-tune",
        "because": "trained probe beats zero-shot on validation; volume above measured break-even",
    },
    "router_12_high_volume": {
        "story": "a 12-intent router, 80 tickets per intent, 80k tickets a day, risk high",
        "profile": {"volume_per_day": 80_000, "risk": "high"},
        "expected": "fine-tune",
        "because": "trained probe beats zero-shot on validation; volume above measured break-even",
    },
    "router_8_low_volume": {
        "story": "an 8-intent router with plenty of labels but only 300 tickets a day",
        "profile": {"volume_per_day": 300},
        "expected": "prompt",
        "because": "volume below the break-even computed from measured throughput and tokens",
    },
    "thin_labels_30_intents": {
        "story": "30 intents (support, fees, payouts), 7 labelled examples each (about 4 left "
        "for training)",
        "profile": {"volume_per_day": 50_000},
        "expected": "prompt",
        "because": "median labelled examples per intent under 8",
    },
    "fee_policy_weekly": {
        "story": "a fee-policy desk: 6 question types, answers quote fees that change weekly",
        "profile": {"volume_per_day": 2_000, "facts_change": "weekly"},
        "expected": "retrieve",
        "because": "test questions quote fee figures never seen in training",
    },
    "fee_router_daily": {
        "story": "the fee desk at scale: 6 question types, 70 each, 300k a day, fees change daily",
        "profile": {"volume_per_day": 300_000, "facts_change": "daily"},
        "expected": "fine-tuned router + retrieve",
        "because": "test questions quote unseen fee figures; the router probe beats zero-shot "
        "and volume is above break-even",
    },
    "payout_approval_multistep": {
        "story": "partner payouts: check documents, approve, reject, pay, as one process",
        "profile": {"volume_per_day": 100_000, "multi_step": True},
        "expected": "orchestrate + fine-tuned step",
        "because": "the job is several steps (profile); the routing step's probe beats "
        "zero-shot and volume is above break-even",
    },
    "router_labels_changing": {
        "story": "a router whose intents are still being redrawn: newer tickets use labels the "
        "older ones never had",
        "profile": {"volume_per_day": 100_000, "process_stable": False},
        "expected": "orchestrate",
        "because": "labels absent from the older four fifths appear in the newest fifth",
    },
    "noisy_labels_router": {
        "story": "a 10-intent router where a quarter of the tickets were labelled twice, "
        "differently, by two teams",
        "profile": {"volume_per_day": 100_000},
        "expected": "fix data first",
        "because": "conflicting labels on many rows; a probe trained on the noisy labels scores "
        "below one trained on the clean labels",
    },
    "noisy_two_intents": {
        "story": "swap and bridge tickets labelled at random between failed_swap and "
        "bridge_delay by a rushed vendor",
        "profile": {"volume_per_day": 100_000},
        "expected": "fix data first",
        "because": "conflicting labels on many rows; a probe trained on the noisy labels scores "
        "below one trained on the clean labels",
    },
    "starter_tiny": {
        "story": "the `narrowtune init` starter size: 3 intents, 8 examples each",
        "profile": {},
        "expected": "measure more before deciding",
        "because": "fewer than 30 validation and test rows; the margin's interval is wide",
    },
    "small_high_risk": {
        "story": "5 intents, 10 examples each, and wrong answers are expensive",
        "profile": {"volume_per_day": 50_000, "risk": "high"},
        "expected": "measure more before deciding",
        "because": "fewer than 30 validation and test rows; the margin's interval is wide",
    },
}


def build(name: str, rng: random.Random) -> tuple[list[list[str]], dict[str, str], list[str]]:
    """The rows (text, label[, clean label]) and label descriptions of one scenario, and its
    extra column names."""
    extra: list[str] = []
    if name == "router_20_high_volume":
        rows, labels = rows_for(INTENTS, 60, rng), descriptions(INTENTS)
    elif name == "router_12_high_volume":
        chosen = dict(list(INTENTS.items())[8:20])
        rows, labels = rows_for(chosen, 80, rng), descriptions(chosen)
    elif name == "router_8_low_volume":
        chosen = pick(INTENTS, 8)
        rows, labels = rows_for(chosen, 60, rng), descriptions(chosen)
    elif name == "thin_labels_30_intents":
        chosen = {**INTENTS, **FEE_INTENTS, **PAYOUT_INTENTS}
        rows, labels = rows_for(chosen, 7, rng), descriptions(chosen)
    elif name in ("fee_policy_weekly", "fee_router_daily"):
        per_week = 6 if name == "fee_policy_weekly" else 14
        # Five weeks; each quotes that week's fees. Train on weeks 0-2, validate on week 3,
        # test on week 4 (write() splits by week).
        rows = []
        for week in range(5):
            batch = rows_for(FEE_INTENTS, per_week, rng, week)
            rng.shuffle(batch)
            rows += [[text, label, str(week)] for text, label in batch]
        return rows, descriptions(FEE_INTENTS), ["week"]
    elif name == "payout_approval_multistep":
        rows, labels = rows_for(PAYOUT_INTENTS, 60, rng), descriptions(PAYOUT_INTENTS)
    elif name == "router_labels_changing":
        old = pick(INTENTS, 6)
        new = dict(list(INTENTS.items())[6:9])
        rows = rows_for(old, 48, rng)
        rng.shuffle(rows)
        late = rows_for(new, 24, rng) + rows_for(old, 6, rng)
        rng.shuffle(late)
        return rows + late, descriptions({**old, **new}), []  # in time order: oldest first
    elif name in ("noisy_labels_router", "noisy_two_intents"):
        chosen = (
            pick(INTENTS, 10)
            if name == "noisy_labels_router"
            else {k: INTENTS[k] for k in ("failed_swap", "bridge_delay", "gas_fee_question")}
        )
        clean = rows_for(chosen, 50 if name == "noisy_labels_router" else 70, rng)
        names = list(chosen)
        rows = []
        for text, label in clean:
            rows.append([text, label, label])
            if name == "noisy_labels_router" and rng.random() < 0.25:
                rows.append([text, rng.choice([n for n in names if n != label]), label])
            swappable = label in ("failed_swap", "bridge_delay")
            if name == "noisy_two_intents" and swappable and rng.random() < 0.4:
                other = "bridge_delay" if label == "failed_swap" else "failed_swap"
                rows.append([text, other, label])
        rng.shuffle(rows)
        return rows, descriptions(chosen), ["clean_label"]
    elif name == "starter_tiny":
        chosen = {k: INTENTS[k] for k in ("stuck_transaction", "seed_phrase_help", "buy_crypto")}
        rows, labels = rows_for(chosen, 8, rng), descriptions(chosen)
    elif name == "small_high_risk":
        chosen = pick(INTENTS, 5)
        rows, labels = rows_for(chosen, 10, rng), descriptions(chosen)
    else:  # pragma: no cover - every name above is handled
        raise KeyError(name)
    rng.shuffle(rows)
    return rows, labels, extra


def write(out: Path) -> list[Path]:
    """Every scenario's folder (data.csv, task.yaml) under `out`, and scenarios.json."""
    import yaml  # narrowtune's own dependency, present wherever narrowtune is

    written = []
    for index, (name, spec) in enumerate(SCENARIOS.items()):
        rng = random.Random(SEED + index)
        rows, labels, extra = build(name, rng)
        columns = ["text", "label", *extra]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        data: dict[str, str] = {"train": "data.csv", "text_column": "text", "label_column": "label"}
        if extra == ["week"]:  # the past trains, the newest weeks validate and test
            parts = {
                "data.csv": [r for r in rows if int(r[2]) < 3],
                "validation.csv": [r for r in rows if r[2] == "3"],
                "test.csv": [r for r in rows if r[2] == "4"],
            }
            data.update(validation="validation.csv", test="test.csv")
        else:
            parts = {"data.csv": rows}
        for file, part in parts.items():
            with (folder / file).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows(part)
        task = {
            "name": name,
            "kind": "classify",
            "description": spec["story"],
            "data": data,
            "labels": labels,
            "split": {"validation": 0.2, "test": 0.2},
            "seed": 7,
        }
        if spec["profile"]:
            task["profile"] = spec["profile"]
        (folder / "task.yaml").write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")
        written.append(folder)
    summary = {name: {k: v for k, v in spec.items()} for name, spec in SCENARIOS.items()}
    (out / "scenarios.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for folder in write(args.out):
        print(folder)


if __name__ == "__main__":
    main()
