"""Write retrieval_queries.jsonl: labeled ticket-like queries over docs/ (seeded, reproducible).

    python examples/wallet_support/make_retrieval_queries.py

Each line: {"id", "query", "intent", "relevant": [doc ids]}. The phrasings are written by hand
here, in the voice of the tickets in narrowtune/demo/tickets.csv (some in non-native English);
chain-specific ones are filled with a chain drawn with a fixed seed, and list that chain's
status note as relevant too. `relevant` holds every document a good answer must draw on.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20261204
HERE = Path(__file__).resolve().parent

CHAINS = {
    "Ethereum": "status-ethereum",
    "Arbitrum": "status-arbitrum",
    "Optimism": "status-optimism",
    "Polygon": "status-polygon",
    "Base": "status-base",
    "BNB Chain": "status-bnb-chain",
    "Solana": "status-solana",
    "Avalanche": "status-avalanche",
}

# (intent, phrasing, relevant documents). {chain} phrasings also count that chain's status note.
FIXED: list[tuple[str, str, list[str]]] = [
    # refunds
    (
        "refund_request",
        "I want my money back, the swap failed and I paid gas for nothing",
        ["policy-refunds", "policy-failed-swaps"],
    ),
    (
        "refund_request",
        "please refund the fee you charged me, it was way too high",
        ["policy-refunds", "policy-fees"],
    ),
    (
        "refund_request",
        "can you reimburse me? I sent USDT to wrong address by mistake",
        ["policy-refunds"],
    ),
    (
        "refund_request",
        "I demand compensation for the lost funds, your app is responsible",
        ["policy-refunds"],
    ),
    (
        "refund_request",
        "how long does a refund take? opened a request 3 days ago",
        ["policy-refunds", "policy-escalation"],
    ),
    (
        "refund_request",
        "refund the 0.875% swap fee please, the trade reverted",
        ["policy-refunds", "policy-fees"],
    ),
    # account recovery
    (
        "account_recovery",
        "I lost my seed phrase, how do I get into my wallet",
        ["policy-account-recovery", "policy-lost-device"],
    ),
    (
        "account_recovery",
        "forgot my password and the app is locked, help me recover account",
        ["policy-account-recovery", "policy-app-lock"],
    ),
    (
        "account_recovery",
        "my phone broke, how to get my wallet back on the new phone",
        ["policy-lost-device"],
    ),
    (
        "account_recovery",
        "can support reset my recovery phrase? i only have 11 of the 12 words",
        ["policy-account-recovery"],
    ),
    (
        "account_recovery",
        "entered wrong passcode many times now it says wait 15 minutes",
        ["policy-app-lock"],
    ),
    (
        "account_recovery",
        "someone from support asked for my 24 words on telegram, is that you?",
        ["policy-seed-phrase-safety", "policy-phishing"],
    ),
    (
        "account_recovery",
        "where can I see my recovery phrase again in settings",
        ["policy-seed-phrase-safety"],
    ),
    (
        "account_recovery",
        "phone stolen, no backup of the words. can you restore my funds",
        ["policy-lost-device", "policy-account-recovery"],
    ),
    # phishing
    (
        "phishing_report",
        "I think I connected to a scam site, what should I do now",
        ["policy-phishing", "policy-token-approvals"],
    ),
    ("phishing_report", "how do I report a fake support account that DMed me", ["policy-phishing"]),
    (
        "phishing_report",
        "my wallet got drained after I signed something on a mint site",
        ["policy-phishing", "policy-token-approvals"],
    ),
    (
        "phishing_report",
        "weird 0 value transfers from an address that looks like mine",
        ["policy-address-poisoning"],
    ),
    (
        "phishing_report",
        "how to revoke approvals, a site has unlimited access to my USDC",
        ["policy-token-approvals", "policy-phishing"],
    ),
    (
        "phishing_report",
        "I typed my seed into a website that looked like yours",
        ["policy-seed-phrase-safety", "policy-phishing"],
    ),
    (
        "phishing_report",
        "got a tiny transfer from lookalike address, is my wallet hacked?",
        ["policy-address-poisoning"],
    ),
    (
        "phishing_report",
        "site asked me to sign a Permit request, is that safe",
        ["policy-connected-sites", "policy-token-approvals"],
    ),
    # fees
    (
        "gas_fee_question",
        "why is the gas fee so high today",
        ["policy-gas-fees", "status-ethereum"],
    ),
    ("gas_fee_question", "how much is your swap fee", ["policy-fees"]),
    ("gas_fee_question", "do you charge anything for sending tokens", ["policy-fees"]),
    (
        "gas_fee_question",
        "how do I set a custom gas price, max fee and priority fee",
        ["policy-fees"],
    ),
    (
        "gas_fee_question",
        "the app says the network fee is unusually high, what does that mean",
        ["policy-gas-fees"],
    ),
    ("gas_fee_question", "what fee do you take when I buy crypto with my card", ["policy-fees"]),
    (
        "gas_fee_question",
        "is there a cheaper network to send USDC, ethereum fees are crazy",
        ["policy-gas-fees"],
    ),
    ("gas_fee_question", "bridge fee seems high, what is the percentage", ["policy-fees"]),
    # stuck transactions
    (
        "stuck_transaction",
        "my transaction is pending for hours, how to speed it up",
        ["policy-stuck-transactions"],
    ),
    ("stuck_transaction", "can I cancel a pending transfer", ["policy-stuck-transactions"]),
    (
        "stuck_transaction",
        "tx says dropped, did I lose the fee?",
        ["policy-stuck-transactions", "policy-transaction-history"],
    ),
    (
        "stuck_transaction",
        "new transactions are all waiting behind one old stuck one",
        ["policy-stuck-transactions"],
    ),
    (
        "stuck_transaction",
        "sent with slow fee on ethereum and it is still pending after 40 min",
        ["policy-stuck-transactions", "status-ethereum"],
    ),
    (
        "stuck_transaction",
        "solana transfer shows expired, where did my SOL go",
        ["status-solana", "policy-stuck-transactions"],
    ),
    # swaps
    (
        "failed_swap",
        "swap failed with INSUFFICIENT_OUTPUT_AMOUNT",
        ["policy-failed-swaps", "policy-swap-slippage"],
    ),
    (
        "failed_swap",
        "what slippage should I set, my swap keeps reverting",
        ["policy-swap-slippage"],
    ),
    ("failed_swap", "swap error transaction expired after it was pending", ["policy-failed-swaps"]),
    (
        "failed_swap",
        "trying to swap a tax token and it always fails",
        ["policy-swap-slippage", "known-issues-app"],
    ),
    (
        "failed_swap",
        "swap says insufficient funds for gas but I have USDC",
        ["policy-failed-swaps"],
    ),
    (
        "failed_swap",
        "received less tokens than the quote showed for a tax token",
        ["known-issues-app", "policy-swap-slippage"],
    ),
    (
        "failed_swap",
        "how to change slippage tolerance in the swap screen",
        ["policy-swap-slippage"],
    ),
    ("failed_swap", "swap failed, were my tokens taken?", ["policy-failed-swaps"]),
    # wrong network
    (
        "wrong_network",
        "sent USDT on BEP20 instead of ERC20, where is it",
        ["policy-exchange-deposits", "policy-wrong-network"],
    ),
    (
        "wrong_network",
        "I sent ETH on Arbitrum but I wanted mainnet, can you move it",
        ["policy-wrong-network"],
    ),
    (
        "wrong_network",
        "do you support Tron? someone sent me TRC20 USDT",
        ["policy-supported-networks"],
    ),
    (
        "wrong_network",
        "withdrew from exchange on a network your wallet doesn't support",
        ["policy-supported-networks", "policy-wrong-network"],
    ),
    (
        "wrong_network",
        "sent tokens to my exchange on the wrong chain, help",
        ["policy-exchange-deposits", "policy-wrong-network"],
    ),
    ("wrong_network", "how to add a custom network with RPC url", ["policy-supported-networks"]),
    ("wrong_network", "is zkSync supported?", ["policy-supported-networks"]),
    (
        "wrong_network",
        "can I send from Solana address to my 0x address",
        ["policy-wrong-network", "policy-supported-networks"],
    ),
    # tokens
    ("token_not_showing", "my tokens are not showing in the wallet", ["policy-token-display"]),
    (
        "token_not_showing",
        "how to add a custom token by contract address",
        ["policy-token-display"],
    ),
    (
        "token_not_showing",
        "balance shows 0 but etherscan shows I have tokens",
        ["policy-token-display"],
    ),
    (
        "token_not_showing",
        "received USDC.e instead of USDC, what is the difference",
        ["policy-usdc-variants"],
    ),
    (
        "token_not_showing",
        "a token I bought disappeared, maybe hidden as spam?",
        ["policy-token-display"],
    ),
    (
        "token_not_showing",
        "after updating the iphone app my Base balance is zero",
        ["known-issues-app", "status-base"],
    ),
    (
        "token_not_showing",
        "my polygon balance shows 0 since yesterday",
        ["status-polygon", "policy-token-display"],
    ),
    ("token_not_showing", "the USD value of my tokens looks wrong", ["policy-token-display"]),
    # NFTs
    ("nft_not_showing", "my NFT does not show in the collectibles tab", ["policy-nft-display"]),
    ("nft_not_showing", "NFT image is blank", ["policy-nft-display"]),
    ("nft_not_showing", "NFT I minted on BNB Chain is not displayed", ["policy-nft-display"]),
    ("nft_not_showing", "collectibles tab crashes on android", ["known-issues-app"]),
    ("nft_not_showing", "base NFT images loading very slow", ["status-base", "policy-nft-display"]),
    ("nft_not_showing", "how to refresh nft metadata", ["policy-nft-display"]),
    # hardware
    (
        "hardware_wallet_connection",
        "ledger won't connect to the app",
        ["policy-hardware-troubleshooting", "policy-hardware-wallets"],
    ),
    (
        "hardware_wallet_connection",
        "trezor not detected on usb",
        ["policy-hardware-troubleshooting", "policy-hardware-wallets"],
    ),
    (
        "hardware_wallet_connection",
        "ledger says blind signing required when swapping",
        ["policy-hardware-troubleshooting", "policy-hardware-wallets"],
    ),
    (
        "hardware_wallet_connection",
        "is the old Ledger Nano S supported",
        ["policy-hardware-wallets"],
    ),
    (
        "hardware_wallet_connection",
        "chrome extension cannot find my ledger device not found",
        ["known-issues-app", "policy-hardware-troubleshooting"],
    ),
    (
        "hardware_wallet_connection",
        "pairing nano x over bluetooth fails on my phone",
        ["policy-hardware-troubleshooting"],
    ),
    (
        "hardware_wallet_connection",
        "forgot the PIN of my ledger, can you reset it",
        ["policy-hardware-wallets"],
    ),
    # staking
    ("staking_question", "how long does unstaking take", ["policy-staking"]),
    ("staking_question", "where are my staking rewards", ["policy-staking-rewards"]),
    ("staking_question", "how to claim polygon staking rewards", ["policy-staking-rewards"]),
    (
        "staking_question",
        "my validator is delinquent, how do I change validator",
        ["policy-staking-rewards"],
    ),
    ("staking_question", "do you take a commission on staking", ["policy-fees", "policy-staking"]),
    (
        "staking_question",
        "APR was 7% when I staked now it is lower, why",
        ["policy-staking-rewards"],
    ),
    ("staking_question", "can I move my tokens while they are unstaking", ["policy-staking"]),
    # bridges (generic)
    (
        "bridge_delay",
        "bridged funds not arrived yet, it says Sent",
        ["policy-bridge-troubleshooting", "policy-bridges"],
    ),
    ("bridge_delay", "how long does a bridge take normally", ["policy-bridges"]),
    (
        "bridge_delay",
        "bridge says completed but I don't see the USDC",
        ["policy-bridge-troubleshooting", "policy-usdc-variants"],
    ),
    ("bridge_delay", "native bridge withdrawal to ethereum says 7 days??", ["policy-bridges"]),
    # other
    (
        "stuck_transaction",
        "how do I export my transaction history for taxes",
        ["policy-transaction-history"],
    ),
    ("phishing_report", "how to disconnect a dapp from my wallet", ["policy-connected-sites"]),
    ("refund_request", "when will a human answer my ticket", ["policy-escalation"]),
]

CHAIN_TEMPLATES: list[tuple[str, str, list[str]]] = [
    (
        "bridge_delay",
        "bridged from ethereum to {chain} 1 hour ago and nothing arrived",
        ["policy-bridges"],
    ),
    (
        "bridge_delay",
        "my bridge to {chain} is stuck, is something wrong with the network",
        ["policy-bridges"],
    ),
    ("stuck_transaction", "deposit on {chain} still not confirmed, is {chain} down?", []),
    ("gas_fee_question", "what are fees like on {chain} right now", ["policy-gas-fees"]),
    ("staking_question", "how long is the unstaking period on {chain}", ["policy-staking"]),
    ("stuck_transaction", "is there any problem with {chain} today? my transfer is slow", []),
]


def main() -> None:
    rng = random.Random(SEED)
    rows = []
    for intent, text, relevant in FIXED:
        rows.append({"query": text, "intent": intent, "relevant": relevant})
    chains = list(CHAINS)
    for intent, template, relevant in CHAIN_TEMPLATES:
        for chain in rng.sample(chains, 4):
            if intent == "staking_question" and chain in ("Arbitrum", "Optimism", "Base"):
                chain = rng.choice(["Solana", "Polygon", "Avalanche"])
            rows.append(
                {
                    "query": template.format(chain=chain),
                    "intent": intent,
                    "relevant": [CHAINS[chain], *relevant],
                }
            )
    seen = set()
    out = []
    for row in rows:
        if row["query"] in seen:
            continue
        seen.add(row["query"])
        out.append({"id": f"q{len(out) + 1:03d}", **row})
    path = HERE / "retrieval_queries.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in out), encoding="utf-8")
    print(f"wrote {len(out)} queries to {path}")


if __name__ == "__main__":
    main()
