"""Generate the synthetic wallet-support reply dataset (``pairs.jsonl``).

Each row pairs a support ticket for "Kestrel", a fictional self-custody wallet, with the one
approved reply for it. The JSONL next to this file is committed; this script documents how it
was made and reproduces it byte for byte::

    python examples/wallet_support/replies/make_replies.py

Every sentence fragment below was written by hand for this example; names, products, sites and
NFT collections are invented. A ticket is composed from an optional opening, an optional
context sentence, one phrasing of the problem, optional details, an optional mood sentence and
an optional signature, then roughened with typos and casing noise. The reply reuses the same
slot values (chain, token, device, ...) and always follows the house format:

    Hi <name>,            ("Hi there," when the ticket is not signed with a name)
    <one-sentence diagnosis starting "It looks like" or "This usually happens when">
    Steps:
    1. ... (2 to 4 numbered steps)
    Reminder: we will never ask for your seed phrase or private keys.
    — Wallet Support

Account-specific requests (account recovery, refunds, identity checks and lookups of one
specific transaction hash) are escalated with the fixed escalation step and never promise an
outcome. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

SEED = 4417
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "pairs.jsonl"
PER_INTENT = 26

SAFETY_LINE = "Reminder: we will never ask for your seed phrase or private keys."
ESCALATION = "I have escalated this to our accounts team, who will reply by email within 24 hours."
SIGN_OFF = "— Wallet Support"
ESC = "<escalate>"  # placeholder step, replaced by ESCALATION

# Intents whose tickets are always about one user's account and so are always escalated.
ACCOUNT_INTENTS = ("account_recovery", "refund_request", "kyc_verification")

MIN_WORDS, MAX_WORDS, MAX_CHARS = 40, 110, 900

# --------------------------------------------------------------------------------------------
# Slot values (all fictional where they name a product, person, site or collection)
# --------------------------------------------------------------------------------------------

CHAINS = ("Ethereum", "Arbitrum", "Optimism", "Polygon", "Base", "BNB Chain", "Avalanche")
GAS_TOKEN = {
    "Ethereum": "ETH",
    "Arbitrum": "ETH",
    "Optimism": "ETH",
    "Polygon": "POL",
    "Base": "ETH",
    "BNB Chain": "BNB",
    "Avalanche": "AVAX",
}
L2S = ("Arbitrum", "Optimism", "Base")
CHEAP_CHAINS = ("Arbitrum", "Base", "Polygon", "Optimism")
TOKENS = ("ETH", "USDC", "USDT", "DAI", "WBTC")
SWAP_TARGETS = ("PEBL", "MOSS", "KRILL", "ORBT", "USDC", "DAI", "WBTC", "LUMA")
NEW_TOKENS = ("PEBL", "MOSS", "KRILL", "ORBT", "LUMA", "TIDE", "FERN", "QUILL")
STAKE = (
    ("ETH", "anywhere from a day to several weeks, depending on the network's exit queue"),
    ("SOL", "about two to three days"),
    ("ATOM", "21 days"),
    ("DOT", "28 days"),
    ("NEAR", "about two to three days"),
)
DEVICES = ("Cobalt One", "Cobalt Mini", "Tessera X", "Northkey Pro", "Ridgeline S")
NFTS = (
    "Moss Golems",
    "Tidepool Kids",
    "Paper Cranes",
    "Neon Foxes",
    "Quiet Lanterns",
    "Salt Monks",
    "Pixel Orchard",
)
SITES = (
    "claim-pebl-drop.xyz",
    "kestrel-bonus-portal.net",
    "mintpass-lanterns.app",
    "walletsync-center.io",
    "free-moss-airdrop.org",
    "fox-mint-live.com",
)
SOCIALS = ("Discord", "Telegram", "X", "Instagram", "Reddit")
AMOUNTS = ("0.05", "0.2", "0.75", "1.5", "3", "40", "120", "250", "600", "1,200")
DURATIONS = (
    "40 minutes",
    "two hours",
    "3 hours",
    "about 5 hours",
    "most of the day",
    "since last night",
    "over a day",
    "90 mins",
)
AGO = ("an hour ago", "this morning", "yesterday", "last night", "two days ago", "on Monday")
FEES = ("$14", "$22", "$38", "$9", "almost $60", "$31")
DAYS = ("3", "4", "5", "6", "9", "10")

FIRST_NAMES = (
    "Priya",
    "Marco",
    "Dana",
    "Tomasz",
    "Aiko",
    "Lerato",
    "Sven",
    "Inès",
    "Kwame",
    "Rosa",
    "Yusuf",
    "Mei",
    "Oskar",
    "Fatima",
    "Diego",
    "Hannah",
    "Nikhil",
    "Chloe",
    "Bao",
    "Imani",
    "Luca",
    "Sofia",
    "Emeka",
    "Greta",
    "Raf",
    "Jun",
)
SURNAMES = ("Nair", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Reyes", "Kowal")
OTHER_PEOPLE = ("my brother Sam", "my friend Ade", "my colleague Noor", "my cousin Pablo")

# --------------------------------------------------------------------------------------------
# Ticket framing
# --------------------------------------------------------------------------------------------

OPENINGS = (
    "",
    "",
    "",
    "Hi,",
    "Hello support,",
    "hey",
    "gm team",
    "URGENT:",
    "Dear Kestrel team,",
    "hello??",
    "Hi there.",
    "Good morning,",
    "Help please.",
)
CONTEXTS = (
    "",
    "",
    "",
    "I'm on the Android app.",
    "Using the browser extension.",
    "I'm on the iPhone app, latest version.",
    "I've been using Kestrel for about a year.",
    "I'm pretty new to crypto so sorry if this is basic.",
    "Desktop app on Windows.",
    "I set up the wallet last week.",
    "Long time user, first time writing in.",
)
MOODS = (
    "",
    "",
    "",
    "This is really stressful.",
    "No rush, just curious.",
    "please help asap",
    "I've already waited all day!!",
    "Thanks in advance.",
    "Would appreciate a quick answer.",
    "Honestly getting frustrated with this.",
    "Any help is appreciated :)",
    "I need this sorted today.",
)
SHORTHAND = (
    (r"\byou\b", "u"),
    (r"\bplease\b", "pls"),
    (r"\btransaction\b", "tx"),
    (r"\bbecause\b", "cuz"),
    (r"\bdon't\b", "dont"),
    (r"\bI'm\b", "im"),
    (r"\bthanks\b", "thx"),
)

# --------------------------------------------------------------------------------------------
# Scenarios: what the user writes and the approved reply for it
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    asks: tuple[str, ...]
    details: tuple[str, ...]
    diagnoses: tuple[str, ...]
    # Each step group: (variants, required). Optional groups are sampled; order is kept.
    steps: tuple[tuple[tuple[str, ...], bool], ...]
    escalate: bool = False


def req(*variants: str) -> tuple[tuple[str, ...], bool]:
    return (variants, True)


def opt(*variants: str) -> tuple[tuple[str, ...], bool]:
    return (variants, False)


SCENARIOS: dict[str, tuple[Scenario, ...]] = {
    "stuck_transaction": (
        Scenario(
            asks=(
                "My {token} transfer on {chain} has been pending for {dur} and won't go through.",
                "sent {amount} {token} to my friend {ago} and it still says pending",
                "Why is my transaction stuck? It's been {dur} on {chain}.",
                "tx still unconfirmed after {dur}, did I do something wrong?",
                "I tried sending {token} on {chain} but it's just sitting there as pending.",
                "How do I push through a transfer that has been pending for {dur}?",
            ),
            details=(
                "I picked the slow fee option to save a bit.",
                "Fees were really high so I lowered the gas myself.",
                "There's a little clock icon next to it in Activity.",
                "The amount already left my balance.",
            ),
            diagnoses=(
                "It looks like your {token} transfer on {chain} was sent with a fee below what "
                "the network is accepting right now, so it is waiting in line.",
                "This usually happens when a transaction is sent with a low fee during a busy "
                "period, so the network picks higher-paying transactions first.",
                "It looks like the fee on your {chain} transfer was set too low for current "
                "demand, so it has not been picked up yet.",
            ),
            steps=(
                req(
                    "Open the pending transaction in Activity and tap Speed Up to resend it with "
                    "a higher fee.",
                    "In Activity, open the pending transfer, choose Speed Up and pick the Fast "
                    "fee.",
                ),
                opt(
                    "If you would rather stop it, choose Cancel instead; this also needs a small "
                    "fee.",
                    "You can also choose Cancel, which replaces it with an empty transaction for "
                    "a small fee.",
                ),
                opt(
                    "Give it a few minutes, then pull down on Activity to refresh.",
                    "Keep the app open until the new fee confirms, then refresh your balance.",
                ),
                opt(
                    "Your funds stay in your wallet until it confirms, so nothing is lost while "
                    "it waits.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "I have {n} transactions pending and new ones won't send either.",
                "Everything after my first transfer is stuck in a queue on {chain}.",
                "none of my sends go through anymore, they all pile up as pending",
                "Every transaction I make on {chain} now just stacks up behind an old one.",
            ),
            details=(
                "The oldest one is from {ago}.",
                "I tried sending again three times, which probably made it worse.",
                "Smaller amounts are stuck too.",
            ),
            diagnoses=(
                "It looks like one earlier transaction on {chain} is still pending, and every "
                "transaction after it has to wait for it to finish first.",
                "This usually happens when the oldest transaction in a wallet is stuck, because "
                "the network processes each wallet's transactions strictly in order.",
            ),
            steps=(
                req(
                    "In Activity, find the oldest pending transaction and use Speed Up on that "
                    "one first.",
                    "Open the oldest pending item in Activity and tap Speed Up or Cancel on it.",
                ),
                req(
                    "Once it confirms, the ones after it should go through in order.",
                    "When that one clears, the rest of the queue will follow on its own.",
                ),
                opt(
                    "Avoid sending new transactions until the queue clears, as each one joins "
                    "the same line.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "The explorer says my transaction went through but the app still shows pending.",
                "Receiver says they got the {token} but my app says pending",
                "my {amount} {token} send shows confirmed on the explorer, app still spinning",
                "Why does Kestrel say pending when the transfer clearly arrived?",
            ),
            details=(
                "I already closed and reopened the app.",
                "It's been like this since {ago}.",
                "My balance looks right, just the status is wrong.",
            ),
            diagnoses=(
                "It looks like the transaction has already confirmed and the app has not "
                "refreshed its activity list yet.",
                "This usually happens when the app's activity list falls behind the network, "
                "so a finished transfer still shows as pending.",
            ),
            steps=(
                req(
                    "Pull down on the Activity screen to refresh it.",
                    "Refresh Activity by pulling down on the list.",
                ),
                opt(
                    "If it still shows pending, go to Settings, then Advanced, and tap Reset "
                    "Activity; this does not touch your funds.",
                ),
                opt(
                    "Check that you are on the latest app version from the official store.",
                    "Update the app from the official store if an update is waiting.",
                ),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "Can you look up this transaction for me? tx: {hash}",
                "Please check what happened with tx {hash}, it's been pending for {dur}.",
                "my transfer (tx {hash}) never arrived, can you see where it is",
                "Here is the hash: {hash}. Can your team tell me why it's stuck?",
            ),
            details=(
                "It was {amount} {token} on {chain}.",
                "I need to know if it will go through.",
            ),
            diagnoses=(
                "It looks like you would like us to check one specific transaction, which our "
                "accounts team needs to review directly.",
                "It looks like this needs a review of your own transaction, which is handled by "
                "our accounts team rather than general support.",
            ),
            steps=(
                opt(
                    "You can follow the hash yourself on the {chain} block explorer in the "
                    "meantime.",
                    "In the meantime, the {chain} block explorer shows the live status of the "
                    "hash.",
                ),
                req(ESC),
                opt(
                    "Please do not send the payment again until you hear back, to avoid paying "
                    "twice.",
                ),
            ),
        ),
    ),
    "wrong_network": (
        Scenario(
            asks=(
                "I sent {token} to my own wallet but picked {chain} instead of {dest}.",
                "Accidentally withdrew {amount} {token} from my exchange on {chain} instead of "
                "{dest}, where is my money?",
                "wrong network!! sent {token} on {chain} to my {dest} address",
                "Moved {token} to myself over {chain} by mistake, I only use {dest}. Is it gone?",
                "I chose {chain} in the dropdown instead of {dest}. The transfer confirmed but I "
                "can't see the money.",
            ),
            details=(
                "It's the same address I always use.",
                "The exchange says the withdrawal completed.",
                "I don't have any {gas} on {chain}.",
            ),
            diagnoses=(
                "It looks like the {token} arrived on {chain}, and because your wallet uses the "
                "same address on both networks, it should still be yours on that network.",
                "This usually happens when the network is picked by mistake, and since your "
                "address is the same on {chain} and {dest}, the funds are sitting on {chain}.",
            ),
            steps=(
                req(
                    "Switch the network selector at the top of the app to {chain}.",
                    "Change the network at the top of the home screen to {chain}.",
                ),
                opt(
                    "If the token does not appear, add it from Manage Tokens.",
                    "If the balance is not listed, add {token} under Manage Tokens.",
                ),
                opt(
                    "To move it to {dest}, use the in-app bridge once you hold a little {gas} on "
                    "{chain} for the fee.",
                    "When you are ready, bridge it to {dest} in the app; you will need a small "
                    "amount of {gas} on {chain} for the fee.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "I sent {token} to my exchange deposit address on {chain} but the exchange only "
                "supports {dest}. Can you get it back?",
                "deposited {amount} {token} to an exchange using {chain}, they say they don't "
                "support that network",
                "The exchange says my {chain} deposit can't be credited. What now?",
            ),
            details=(
                "The exchange support hasn't answered yet.",
                "It was most of my savings.",
                "The transaction shows as successful.",
            ),
            diagnoses=(
                "This usually happens when a deposit is sent on a network the receiving "
                "exchange does not support, so it lands at an address the exchange does not "
                "watch.",
                "It looks like the deposit went to the exchange on {chain}, a network they do "
                "not credit, so only the exchange can look into it.",
            ),
            steps=(
                req(
                    "Contact the exchange's own support with the transaction details, as only "
                    "they control that deposit address.",
                    "Reach out to the exchange with the transaction details; only they can "
                    "access that deposit address.",
                ),
                req(
                    "We cannot move funds held at another service's address, and on-chain "
                    "transfers cannot be reversed.",
                ),
                opt(
                    "Next time, send a small test amount first and check the network matches on "
                    "both sides.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "I moved my {token} and now my balance is zero, did I send it to the wrong "
                "network?",
                "balance shows nothing on {dest} after sending, where did it go",
                "After a transfer my wallet looks empty, I think the network is wrong?",
            ),
            details=(
                "The explorer shows the transfer on {chain}.",
                "I was on {dest} when I checked.",
            ),
            diagnoses=(
                "It looks like your funds are on {chain} while the app is showing {dest}, so the "
                "balance appears empty.",
                "This usually happens when the app is set to a different network from the one "
                "your transfer used, which was {chain}.",
                "It looks like your funds are on a different network from the one the app is "
                "showing, so the balance appears empty.",
            ),
            steps=(
                req(
                    "Switch the network selector to {chain} and refresh the home screen.",
                    "Switch the network selector to the network you sent on, then refresh the "
                    "home screen.",
                ),
                opt(
                    "Check the transaction on the {chain} explorer to confirm where it landed.",
                ),
                opt("Turn on Show All Networks in Settings to see every balance in one list."),
            ),
        ),
    ),
    "gas_fee_question": (
        Scenario(
            asks=(
                "Why is the fee {fee} just to send {token}??",
                "gas fees are insane right now, is this a bug?",
                "How come a swap costs more in fees than the swap itself?",
                "Why did the network fee jump to {fee} on {chain}?",
                "fee is {fee} for a tiny transfer. seriously?",
            ),
            details=(
                "Last week it was way cheaper.",
                "I'm only sending {amount} {token}.",
                "Is Kestrel taking a cut?",
            ),
            diagnoses=(
                "It looks like the network was busy when you checked, and fees on {chain} rise "
                "when many people are sending at once.",
                "This usually happens when {chain} is congested, because the fee is set by "
                "demand on the network at that moment.",
                "It looks like the network was busy when you checked, and fees rise when many "
                "people are sending at once.",
                "This usually happens when the network is congested, because the fee is set by "
                "demand at that moment.",
            ),
            steps=(
                req(
                    "Fees go to the network, not to us, and change minute by minute.",
                    "The fee is paid to the network rather than to Kestrel, and it moves with "
                    "demand.",
                ),
                opt(
                    "Try again at a quieter time, such as late evening UTC or at the weekend.",
                    "Waiting an hour or two often brings the fee down noticeably.",
                ),
                opt(
                    "Choose the Slow fee option if you are not in a hurry; it may take longer to "
                    "confirm.",
                ),
                opt(
                    "For small transfers, a lower-cost network such as {cheap} may suit you "
                    "better.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "How much will it cost to send {token}?",
                "Can you explain what gas is? New here.",
                "what decides the network fee, and can I set it myself?",
                "Is there a way to know the fee before I send?",
            ),
            details=(
                "I want to send {amount} {token} to family.",
                "The number changed twice before I confirmed.",
            ),
            diagnoses=(
                "It looks like you would like to know how network fees are set before you send.",
                "This usually happens when the fee estimate changes between screens, because "
                "gas is priced live by the network.",
            ),
            steps=(
                req(
                    "Gas is a small fee paid to the network for processing your transaction, and "
                    "it depends on how busy the network is.",
                ),
                req(
                    "The confirm screen shows the estimated fee before you approve anything.",
                    "You will always see the estimated fee on the confirm screen first.",
                ),
                opt("Tap Edit Fee there to choose Slow, Normal or Fast."),
            ),
        ),
        Scenario(
            asks=(
                "It says I don't have enough {gas} for gas but I have {amount} {token}.",
                "insufficient funds for gas?? my wallet has {token} in it",
                "Can't send my {token} on {chain}, error about gas even though I have a balance.",
            ),
            details=(
                "The send button stays grey.",
                "I only bought {token}, nothing else.",
            ),
            diagnoses=(
                "This usually happens when a wallet holds tokens but not the network's own coin, "
                "which is needed to pay the fee on {chain}.",
                "It looks like the wallet has no {gas} on {chain}, and the fee there can only be "
                "paid in {gas}.",
                "This usually happens when a wallet holds tokens but not the network's own coin, "
                "which is needed to pay the fee.",
                "It looks like the wallet has no {gas} on that network, and the fee there can "
                "only be paid in {gas}.",
            ),
            steps=(
                req(
                    "Add a small amount of {gas} to the same address on {chain}.",
                    "Top up a little {gas} on {chain}, to the same address.",
                    "Add a small amount of {gas} to the same address.",
                    "Add a small amount of the network's own coin, the one used for fees, to the "
                    "same address.",
                ),
                req(
                    "Then retry the transfer; the fee is paid in {gas}, not in {token}.",
                    "Once it arrives, send the {token} again.",
                ),
            ),
        ),
    ),
    "failed_swap": (
        Scenario(
            asks=(
                "My swap from {token} to {token2} failed with 'slippage tolerance exceeded'.",
                "swap keeps failing, something about price impact",
                "Tried swapping {amount} {token} for {token2} three times, it fails every time.",
                "Why does my {token2} swap revert? The quote looked fine.",
            ),
            details=(
                "{token2} is pretty new.",
                "My slippage is on the default setting.",
                "It worked yesterday with a smaller amount.",
            ),
            diagnoses=(
                "It looks like the price of {token2} moved more than your slippage setting "
                "allowed while the swap was waiting, so it was stopped to protect you.",
                "This usually happens when a token's price moves quickly between the quote and "
                "the swap, so the swap stops rather than fill at a worse price.",
            ),
            steps=(
                req("Refresh the quote and try again.", "Get a fresh quote, then retry."),
                opt(
                    "If it keeps failing, raise slippage slightly in swap settings, for example "
                    "from 0.5% to 1%.",
                ),
                opt(
                    "For thinly traded tokens, try a smaller amount first.",
                    "Splitting a large swap into smaller ones can also help.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "Swap failed but I still paid gas? Why?",
                "my swap didn't go through and I lost {fee} in fees",
                "The swap shows Failed in Activity but my {gas} went down.",
            ),
            details=(
                "The {token} is still there at least.",
                "This happened on {chain}.",
            ),
            diagnoses=(
                "This usually happens when a swap is rejected on-chain after it was submitted, "
                "and the network still charges for the work it did.",
                "It looks like the swap was submitted and then stopped by the network, which "
                "still uses up the fee.",
            ),
            steps=(
                req(
                    "Your {token} did not leave the wallet; only the network fee was used.",
                    "Only the network fee was spent; the {token} you tried to swap is still in "
                    "your wallet.",
                    "The tokens you tried to swap did not leave your wallet; only the network fee "
                    "was used.",
                ),
                opt("Open the failed swap in Activity to see the reason shown."),
                req("Refresh the quote before retrying so the price is current."),
            ),
        ),
        Scenario(
            asks=(
                "The swap button is grey and says Approve first.",
                "I approved {token} but the swap still fails",
                "why do I need to approve before swapping {token}?",
            ),
            details=(
                "The approval was {ago}.",
                "I'm swapping into {token2}.",
            ),
            diagnoses=(
                "It looks like the swap needs a one-time approval for {token} before it can go "
                "through, and that step has not confirmed yet.",
                "This usually happens when the approval for {token} is still pending, so the "
                "swap cannot use the tokens yet.",
                "It looks like the swap needs a one-time approval for your token before it can go "
                "through, and that step has not confirmed yet.",
            ),
            steps=(
                req(
                    "Wait for the approval to confirm in Activity.",
                    "Check Activity and let the approval finish first.",
                ),
                req("Then return to the swap screen and refresh the quote."),
                opt("If you prefer tighter limits, approve only the amount you plan to swap."),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "Swap failed, hash {hash}, can you tell me why?",
                "Can you check this failed swap, tx hash: {hash}",
                "what went wrong with tx {hash}? it was a {token} to {token2} swap",
            ),
            details=("It cost me a fee too.", "It was on {chain}."),
            diagnoses=(
                "It looks like you would like us to review one specific failed swap, which our "
                "accounts team handles directly.",
            ),
            steps=(
                opt("The failed swap in Activity shows the short reason the network gave."),
                req(ESC),
                opt("Refresh the quote before trying the swap again."),
            ),
        ),
    ),
    "bridge_delay": (
        Scenario(
            asks=(
                "Bridged {amount} {token} from {chain} to {dest} {ago} and it still hasn't "
                "arrived.",
                "my bridge transfer to {dest} is taking forever",
                "Used the in-app bridge {ago}, nothing on {dest} yet.",
                "Where is my {token}? Bridge says sent but {dest} balance is the same.",
            ),
            details=(
                "The {chain} side shows it as confirmed.",
                "It's {amount} {token}, not a small amount for me.",
                "Normally it takes minutes.",
            ),
            diagnoses=(
                "It looks like your bridge transfer from {chain} to {dest} is still within the "
                "normal waiting time, which can be up to two hours on busy days.",
                "This usually happens when the bridge is busy, and transfers to {dest} can take "
                "up to two hours to arrive.",
            ),
            steps=(
                req(
                    "Open the transfer in Activity to see which stage it has reached.",
                    "Tap the transfer in Activity to check its progress.",
                ),
                req(
                    "Make sure the network selector is set to {dest} when you check the balance.",
                ),
                opt(
                    "If it is not there after two hours, reply to this email with the time you "
                    "sent it.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "Withdrawing from {l2} to Ethereum says 7 days?? Is that right?",
                "why is my {l2} withdrawal locked for a week",
                "I bridged back to Ethereum from {l2} and it shows a countdown of days.",
            ),
            details=(
                "I used the official route.",
                "I need the {token} on Ethereum soon.",
            ),
            diagnoses=(
                "This usually happens when withdrawing from {l2} to Ethereum through the "
                "official route, which has a built-in waiting period of about seven days.",
                "It looks like you used the official {l2} withdrawal route, which always waits "
                "about seven days before the funds can be claimed.",
            ),
            steps=(
                req("Your funds are safe during the wait, and the timer is shown in Activity."),
                req(
                    "When it ends, come back and tap Claim to finish; this needs a small "
                    "Ethereum fee.",
                ),
                opt("For faster moves next time, the in-app bridge offers quicker routes."),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "Where is my bridge transfer? hash {hash}",
                "Please trace this bridge tx {hash}, still nothing on {dest}",
                "bridge from {chain} stuck, here's the hash {hash}. can you check",
            ),
            details=("It's been {dur}.", "I sent {amount} {token}."),
            diagnoses=(
                "It looks like you would like us to trace one specific bridge transfer, which "
                "our accounts team handles directly.",
            ),
            steps=(
                req(
                    "Keep the transfer visible in Activity and do not send it again.",
                    "Please do not repeat the transfer while it is being checked.",
                ),
                req(ESC),
            ),
        ),
    ),
    "phishing_report": (
        Scenario(
            asks=(
                "Someone on {social} said they were Kestrel support and asked for my recovery "
                "phrase.",
                "I got a DM on {social} from a 'support agent' offering to fix my wallet.",
                "is this account on {social} really your support team? they want my 12 words",
                "A person claiming to be from Kestrel messaged me on {social} first.",
            ),
            details=(
                "They said my wallet would be frozen.",
                "I didn't send anything yet.",
                "Their profile uses your logo.",
            ),
            diagnoses=(
                "It looks like you were contacted by an impersonator, because our team never "
                "messages users first or asks for recovery details.",
                "This usually happens when scammers copy our branding on {social} to trick "
                "people into sharing their recovery phrase.",
            ),
            steps=(
                req(
                    "Do not reply or click any links they sent.",
                    "Stop replying to them and ignore any links.",
                ),
                opt("Report and block the account on {social}."),
                opt(
                    "If you already shared your phrase, create a new wallet right away and move "
                    "your funds to it.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "My wallet got drained after I connected to {site}",
                "all my {token} is gone, I think {site} was a scam",
                "connected to a mint site ({site}) and now tokens are missing",
                "I signed something on {site} and my balance dropped to zero.",
            ),
            details=(
                "I found the link in a {social} post.",
                "It promised a free airdrop.",
                "It happened {ago}.",
            ),
            diagnoses=(
                "It looks like the site you connected to obtained a token approval, which lets "
                "it move those tokens without asking again.",
                "This usually happens when a fake site asks you to sign an approval that gives "
                "it permission to move your tokens.",
            ),
            steps=(
                req(
                    "Open Settings, then Connected Sites, and disconnect {site}.",
                    "Disconnect {site} under Settings, then Connected Sites.",
                ),
                opt("Revoke any approvals you do not recognise under Security, then Approvals."),
                req(
                    "Move your remaining funds to a newly created wallet, since this one may "
                    "still be at risk.",
                ),
                opt("Report the site under Settings, then Report a Scam, so we can warn others."),
            ),
        ),
        Scenario(
            asks=(
                "I see a tiny transfer from an address that looks almost like mine.",
                "weird 0 value transfers keep showing up in my history",
                "Someone sent me 0.00001 {token} from an address similar to one I use.",
            ),
            details=(
                "The first and last characters match my exchange address.",
                "I almost copied it yesterday.",
            ),
            diagnoses=(
                "It looks like this is address poisoning, where a scammer sends a tiny transfer "
                "from a look-alike address hoping you copy it later.",
            ),
            steps=(
                req(
                    "Do not copy addresses from your Activity list; use your address book instead.",
                ),
                opt(
                    "Check the full address, not just the first and last characters, before "
                    "sending."
                ),
                opt("You can hide the spam transfer by tapping it and choosing Hide."),
            ),
        ),
        Scenario(
            asks=(
                "Got an email saying my wallet will be suspended unless I verify it.",
                "is this email from you? it says verify my wallet within 24h",
                "I received a Kestrel 'security alert' email with a link to re-sync my wallet.",
            ),
            details=(
                "The sender address looks a bit off.",
                "I haven't clicked anything.",
            ),
            diagnoses=(
                "It looks like this is a phishing email, because we never suspend wallets or ask "
                "you to verify them by email.",
            ),
            steps=(
                req("Do not click the link or enter anything on the page it opens."),
                opt("Forward the email to the report address under Settings, then Report a Scam."),
                opt("Delete the message afterwards."),
            ),
        ),
    ),
    "account_recovery": (
        Scenario(
            escalate=True,
            asks=(
                "Lost my phone, how do I get my wallet back?",
                "my phone was stolen and Kestrel was on it. can I restore it?",
                "New phone, old one broke. How do I get into my wallet?",
            ),
            details=(
                "I think I wrote the words down somewhere.",
                "I had about {amount} {token} in it.",
            ),
            diagnoses=(
                "It looks like you need to restore your wallet on a new device, which works with "
                "the recovery phrase you wrote down at setup.",
            ),
            steps=(
                req(
                    "Install the app from the official store and choose Restore Wallet on the "
                    "welcome screen.",
                ),
                req(ESC),
                opt(
                    "Please ignore anyone who messages you offering recovery services, as they "
                    "are scammers.",
                ),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "I lost my seed phrase, can you recover it?",
                "can't find my 12 words anywhere. is there a backup on your side?",
                "My recovery phrase got thrown away during a move.",
            ),
            details=(
                "The app still opens on my laptop.",
                "I haven't used the wallet in a year.",
            ),
            diagnoses=(
                "It looks like the recovery phrase is missing, and because Kestrel is "
                "self-custody we do not hold a copy of it.",
            ),
            steps=(
                opt(
                    "If the app still opens on any device, back up the phrase now from Settings, "
                    "then Security.",
                ),
                req(ESC),
                req(
                    "Never type your phrase into a website or share it with anyone.",
                    "Anyone offering to recover a phrase for a fee is running a scam.",
                ),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "Forgot my app password and I'm locked out.",
                "locked out after too many password attempts",
                "I changed my password and now it won't accept the new one.",
            ),
            details=(
                "I still have my recovery phrase written down.",
                "I'm on the browser extension.",
            ),
            diagnoses=(
                "It looks like the app password is locked, and that password only protects the "
                "app on this one device.",
            ),
            steps=(
                req(
                    "Choose Forgot Password, which lets you restore the wallet with your recovery "
                    "phrase and set a new password.",
                ),
                req(ESC),
            ),
        ),
    ),
    "refund_request": (
        Scenario(
            escalate=True,
            asks=(
                "I want a refund for the gas I lost on a failed transaction.",
                "refund my fees please, the tx failed",
                "I paid {fee} in fees for nothing. Give it back.",
            ),
            details=("It happened on {chain}.", "It failed twice."),
            diagnoses=(
                "It looks like you are asking about the fee from a failed transaction, which is "
                "paid to the network rather than to us.",
            ),
            steps=(
                req(ESC),
                opt(
                    "The team will look at your request, but please note on-chain fees cannot be "
                    "reversed.",
                ),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "I bought {token} with my card {ago} and was charged but never got the crypto.",
                "card purchase of {amount} {token} charged, nothing in wallet",
                "I was charged for a purchase in the app but the {token} never arrived. Refund "
                "please.",
            ),
            details=(
                "My bank statement shows the charge.",
                "I got an order confirmation email.",
            ),
            diagnoses=(
                "It looks like your card purchase was charged but the {token} has not been "
                "delivered yet.",
            ),
            steps=(
                opt("Check Activity, then Purchases, for the order status."),
                req(ESC),
                opt("Keep your order confirmation handy in case the team asks for it."),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "I sent {token} to the wrong address, please refund me.",
                "typo in the address, {amount} {token} went to a stranger. can you reverse it?",
                "Can you undo my transfer from {ago}? It went to the wrong person.",
            ),
            details=("The address was one character off.", "It was on {chain}."),
            diagnoses=(
                "It looks like the funds went to an address you did not intend, and on-chain "
                "transfers cannot be reversed by us or anyone else.",
            ),
            steps=(
                opt("If you know who owns that address, contacting them is the fastest option."),
                req(ESC),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "I was charged twice for Kestrel Plus this month.",
                "double charge for my subscription, refund the second one",
                "Why did Kestrel Plus bill me again? I cancelled.",
            ),
            details=("Both charges are the same amount.", "I cancelled {ago}."),
            diagnoses=(
                "It looks like there may be a problem with your Kestrel Plus billing that needs "
                "a look at your account.",
            ),
            steps=(
                opt("Check your receipt emails for both charges."),
                req(ESC),
            ),
        ),
    ),
    "kyc_verification": (
        Scenario(
            escalate=True,
            asks=(
                "My ID verification for buying crypto has been pending for {days} days.",
                "identity check still under review after {days} days??",
                "How long does verification take? I uploaded my passport {days} days ago.",
            ),
            details=(
                "I want to buy {token} with my card.",
                "The status hasn't changed at all.",
            ),
            diagnoses=(
                "It looks like your identity check for card purchases is still under review.",
            ),
            steps=(
                opt(
                    "Make sure the photos are clear and all four corners of the document are "
                    "visible.",
                ),
                req(ESC),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "Verification got rejected, why?",
                "my ID was declined for the card purchase feature",
                "KYC failed again and I don't know what's wrong.",
            ),
            details=("I used my driving licence.", "It's the second try."),
            diagnoses=(
                "It looks like your verification was declined, and the reason is tied to your "
                "account.",
            ),
            steps=(
                opt("Check that the name on the document matches the name on your card."),
                req(ESC),
            ),
        ),
        Scenario(
            escalate=True,
            asks=(
                "Why is my purchase limit so low?",
                "can I raise my card buy limit? it's stuck at the minimum",
                "The app won't let me buy more than a small amount of {token}.",
            ),
            details=("I verified my email already.", "I want to buy {amount} {token}."),
            diagnoses=(
                "It looks like your account is on the starter purchase limit, which applies "
                "until verification is complete.",
            ),
            steps=(
                opt("Open Settings, then Verification, to see which step is still open."),
                req(ESC),
            ),
        ),
    ),
    "token_not_showing": (
        Scenario(
            asks=(
                "I bought {newtoken} but it doesn't show in my wallet.",
                "where is my {newtoken}?? explorer says I have it",
                "{newtoken} missing from my token list on {chain}",
                "Swapped into {newtoken} {ago} and the wallet doesn't list it.",
            ),
            details=(
                "The swap went through fine.",
                "Other tokens show up normally.",
            ),
            diagnoses=(
                "It looks like {newtoken} is not on the app's default token list yet, so it "
                "needs to be added by hand.",
                "This usually happens when a token is as new as {newtoken}, because the wallet "
                "does not list new tokens until you add them yourself.",
            ),
            steps=(
                req("Go to Manage Tokens and tap Add Custom Token."),
                req(
                    "Paste the contract address from the project's official site and check the "
                    "network is {chain}.",
                    "Paste the contract address from the project's official site and make sure "
                    "the network matches where you bought it.",
                ),
                opt(
                    "Be careful with tokens you did not buy yourself, as unknown airdropped "
                    "tokens are often scams.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "My {token} balance shows 0 but I definitely have {amount}.",
                "all my {token} vanished from the home screen",
                "Wallet says zero {token}, the explorer says otherwise.",
            ),
            details=("I just updated the app.", "It's on {chain}."),
            diagnoses=(
                "It looks like the app is showing a different network from the one holding your "
                "{token}.",
            ),
            steps=(
                req(
                    "Switch the network selector to {chain}.",
                    "Switch the network selector to the network that holds your {token}.",
                ),
                req(
                    "Pull down on the home screen to refresh balances.",
                    "Refresh the home screen by pulling down.",
                ),
                opt("If it is still zero, check Manage Tokens to make sure {token} is not hidden."),
            ),
        ),
        Scenario(
            asks=(
                "{newtoken} shows up but there's no dollar value next to it.",
                "my {newtoken} balance has no price, is it worthless?",
                "The app shows my {newtoken} amount but the total value ignores it.",
            ),
            details=("It's on {chain}.", "Other apps show a price for it."),
            diagnoses=(
                "This usually happens when a token is too new or too thinly traded for our price "
                "source to list a value.",
            ),
            steps=(
                req("Your tokens are still there; only the dollar value is missing."),
                req("Check again later, as prices appear once our price source lists the token."),
            ),
        ),
        Scenario(
            asks=(
                "I hid a token by mistake and can't get it back.",
                "accidentally swiped away {token} from my list",
                "How do I unhide {token}?",
            ),
            details=("It was on the home screen before.",),
            diagnoses=(
                "It looks like the token was hidden from your list, which only changes what the "
                "app shows.",
            ),
            steps=(
                req("Go to Manage Tokens, then Hidden."),
                req(
                    "Switch {token} back on and it will return to the home screen.",
                    "Switch it back on and it will return to the home screen.",
                ),
            ),
        ),
    ),
    "staking_question": (
        Scenario(
            asks=(
                "How long does it take to unstake {stoken}?",
                "if I unstake my {stoken} today when do I get it back?",
                "unstaking {stoken}, why is there a wait?",
            ),
            details=(
                "I staked through the Earn tab.",
                "I might need the money next month.",
            ),
            diagnoses=(
                "It looks like you would like to know the unstaking wait for {stoken}, which is "
                "set by the network rather than by us.",
            ),
            steps=(
                req(
                    "Unstaking {stoken} usually takes {unbond}, and rewards stop during that time.",
                ),
                opt("You can see the countdown under Earn, then Your Stakes."),
                req("Once it ends, tap Withdraw to move the {stoken} back to your balance."),
            ),
        ),
        Scenario(
            asks=(
                "My staking rewards dropped this week.",
                "why are my {stoken} rewards lower than the rate shown?",
                "rewards went down a lot, did something happen to my validator?",
            ),
            details=(
                "I haven't changed anything.",
                "I have {amount} {stoken} staked.",
            ),
            diagnoses=(
                "This usually happens when the network's overall reward rate changes or your "
                "validator was offline for part of the period.",
            ),
            steps=(
                req("Open Earn, then Your Stakes, to see the validator's recent uptime."),
                opt(
                    "Rates change with how much is staked overall, so small weekly swings are "
                    "normal."
                ),
                opt(
                    "You can switch to a different validator, but that may start a new waiting "
                    "period.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "Is staking safe? What happens if the validator misbehaves?",
                "thinking about staking my {stoken}, what are the risks",
                "Can I lose money staking {stoken}?",
            ),
            details=("I'm new to this.", "I'd stake about {amount} {stoken}."),
            diagnoses=(
                "It looks like you would like to understand the risks of staking before you start.",
            ),
            steps=(
                req(
                    "Staking locks your coins to help run the network in exchange for rewards.",
                ),
                req(
                    "If a validator breaks network rules, a small part of the stake can be cut, "
                    "so choose validators with a long track record.",
                ),
                opt("Start with a small amount until you are comfortable."),
            ),
        ),
        Scenario(
            asks=(
                "staked {stoken} {ago} and no rewards yet",
                "When do staking rewards start? Nothing after {days} days.",
                "My new {stoken} stake says Activating. What does that mean?",
            ),
            details=("It shows in Your Stakes.", "The amount is {amount} {stoken}."),
            diagnoses=(
                "This usually happens when a new stake is still in the network's activation "
                "queue, which can take a few days before rewards start.",
            ),
            steps=(
                req(
                    "Check Earn, then Your Stakes; the status will change from Activating to "
                    "Active."
                ),
                req("Rewards begin automatically once it is active."),
            ),
        ),
    ),
    "nft_not_showing": (
        Scenario(
            asks=(
                "I minted {nft} #{num} but it's not in my collectibles.",
                "my new {nft} NFT isn't showing up",
                "Bought a {nft} {ago}, gallery is empty.",
            ),
            details=(
                "The mint transaction succeeded.",
                "It's on {chain}.",
            ),
            diagnoses=(
                "It looks like the gallery has not picked up your new {nft} yet, which can take "
                "a little while after minting.",
            ),
            steps=(
                req("Pull down on the Collectibles tab to refresh."),
                opt(
                    "Make sure the network is set to {chain}, where the mint happened.",
                    "Make sure the network selector matches the network where you got it.",
                ),
                opt(
                    "If it is still missing, tap Import NFT and enter the contract address and "
                    "token ID {num}.",
                    "If it is still missing, tap Import NFT and enter the contract address and "
                    "token ID.",
                ),
            ),
        ),
        Scenario(
            asks=(
                "My NFT shows up but the picture is just a grey box.",
                "{nft} #{num} image won't load",
                "All my {nft} show as blank squares since {ago}.",
            ),
            details=("Other NFTs load fine.", "The name and number show correctly."),
            diagnoses=(
                "This usually happens when the image is stored on an outside server that is slow "
                "or offline, so only the placeholder loads.",
            ),
            steps=(
                req("Tap the NFT and choose Refresh Metadata."),
                opt("Try again later, as the image host may be busy."),
                req("Your ownership is not affected; only the picture is failing to load."),
            ),
        ),
        Scenario(
            asks=(
                "A random NFT appeared in my wallet, should I click it?",
                "got an NFT I never bought that says claim your reward",
                "Strange NFT from a collection I don't know showed up {ago}.",
            ),
            details=("It has a website in its name.", "It says I won something."),
            diagnoses=(
                "It looks like you received an unsolicited NFT, which scammers often send to "
                "lure people to fake websites.",
            ),
            steps=(
                req("Do not visit any link in its name or description."),
                req("Long-press it and choose Hide or Report as Spam."),
                opt("Never approve transactions on sites that promise a reward for it."),
            ),
        ),
    ),
    "hardware_wallet_connection": (
        Scenario(
            asks=(
                "My {device} isn't detected when I plug it in.",
                "kestrel can't find my {device} over usb",
                "The app keeps saying 'no device found' with my {device}.",
            ),
            details=(
                "It worked last month.",
                "The device screen turns on.",
                "I'm using the cable from a phone charger.",
            ),
            diagnoses=(
                "It looks like the app cannot see your {device}, which usually comes down to the "
                "cable, the device app or the firmware.",
            ),
            steps=(
                req("Unlock the {device} and open the Ethereum app on it before connecting."),
                opt("Try a different USB cable that carries data, not just charging."),
                opt("Update the firmware with the maker's official desktop tool."),
                opt("Close other wallet apps that may be holding the connection."),
            ),
        ),
        Scenario(
            asks=(
                "Can't pair my {device} over bluetooth with my phone.",
                "{device} bluetooth pairing fails every time",
                "Pairing code appears on the {device} but the app times out.",
            ),
            details=("I paired it before I changed phones.", "Bluetooth is on."),
            diagnoses=(
                "This usually happens when an older pairing is saved on the phone and blocks a "
                "new connection.",
            ),
            steps=(
                req("Remove the {device} from your phone's Bluetooth settings."),
                req(
                    "Restart the {device} and pair again from Settings, then Hardware Wallets, "
                    "in the app.",
                ),
                opt("Keep the device within a metre of the phone while pairing."),
            ),
        ),
        Scenario(
            asks=(
                "Transaction fails to sign on my {device}, it says data not allowed.",
                "{device} rejects the swap before I can even confirm",
                "Signing a contract call on {device} gives an error.",
            ),
            details=("Simple sends work fine.", "It's a swap on {chain}."),
            diagnoses=(
                "It looks like the transaction needs contract data turned on in the Ethereum app "
                "on your {device}.",
            ),
            steps=(
                req(
                    "On the {device}, open the Ethereum app's settings and turn on Contract Data.",
                ),
                req("Retry and review the details on the device screen before approving."),
                opt("You can turn the setting off again afterwards."),
            ),
        ),
        Scenario(
            asks=(
                "Connected my {device} but it shows an empty account.",
                "{device} connects fine but it's the wrong address",
                "After reconnecting the {device} my balance is zero.",
            ),
            details=("I used it with another app before.", "The address doesn't match."),
            diagnoses=(
                "This usually happens when the app reads a different account path from the one "
                "you used before.",
            ),
            steps=(
                req(
                    "In the connect screen, tap Show More Accounts and look for your usual address."
                ),
                opt("Try switching the path option between Standard and Legacy."),
                opt("Your funds are tied to the device, so they are not lost."),
            ),
        ),
    ),
}
INTENTS = tuple(SCENARIOS)

# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: str
    prompt: str
    completion: str
    intent: str
    escalated: bool


def _hash(rng: random.Random) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


def _slots(rng: random.Random) -> dict[str, str]:
    chain, dest = rng.sample(CHAINS, 2)
    stoken, unbond = rng.choice(STAKE)
    token = rng.choice(TOKENS)
    return {
        "chain": chain,
        "dest": dest,
        "gas": GAS_TOKEN[chain],
        "cheap": next(c for c in CHEAP_CHAINS if c != chain),
        "l2": rng.choice(L2S),
        "token": token,
        "token2": rng.choice([t for t in SWAP_TARGETS if t != token]),
        "newtoken": rng.choice(NEW_TOKENS),
        "stoken": stoken,
        "unbond": unbond,
        "amount": rng.choice(AMOUNTS),
        "dur": rng.choice(DURATIONS),
        "ago": rng.choice(AGO),
        "fee": rng.choice(FEES),
        "days": rng.choice(DAYS),
        "n": rng.choice(("3", "4", "5", "several")),
        "hash": _hash(rng),
        "site": rng.choice(SITES),
        "social": rng.choice(SOCIALS),
        "device": rng.choice(DEVICES),
        "nft": rng.choice(NFTS),
        "num": str(rng.randint(12, 9999)),
    }


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two letters
    return word[:i] + word[i + 1 :]  # drop one letter


def _noisy(text: str, rng: random.Random) -> str:
    """Typos, shorthand and casing noise; never touches hashes, numbers or all-caps tokens."""
    if rng.random() < 0.35:
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) > 5]
        for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2)))):
            words[i] = _typo(words[i], rng)
        text = " ".join(words)
    if rng.random() < 0.3:
        for pattern, short in rng.sample(SHORTHAND, 3):
            text = re.sub(pattern, short, text, flags=re.IGNORECASE)
    if rng.random() < 0.2:
        text = text.lower()
    if rng.random() < 0.25:
        text = text.rstrip(".")
    return text


def _signature(rng: random.Random) -> tuple[str, str | None]:
    """A signature and the first name to greet, or no signature (maybe a name in passing)."""
    if rng.random() < 0.45:
        mention = rng.choice(OTHER_PEOPLE) if rng.random() < 0.2 else ""
        return mention, None
    name = rng.choice(FIRST_NAMES)
    style = rng.randrange(7)
    if style == 0:
        return f"\n\nThanks,\n{name}", name
    if style == 1:
        return f"\n\n- {name}", name
    if style == 2:
        return f" Thanks, {name}", name
    if style == 3:
        return f"\n\nRegards,\n{name} {rng.choice(SURNAMES)}", name
    if style == 4:
        return f"\n\ncheers {name.lower()}", name
    if style == 5:
        return f"\n{name}", name
    return f"\n\nBest, {name}", name


# Reply slots that follow from a ticket slot (the network's own coin, the unstaking wait, a
# cheaper network to suggest): usable in a reply whenever the ticket names their source.
DERIVED_SLOTS = {"gas": "chain", "cheap": "chain", "unbond": "stoken"}


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def make_ticket(
    sc: Scenario, slots: dict[str, str], rng: random.Random
) -> tuple[str, str | None, set[str]]:
    """The ticket text, the name it is signed with (or None) and the slots it mentions."""
    parts: list[str] = []
    long_form = rng.random() < 0.55
    if long_form:
        parts.append(rng.choice(OPENINGS))
        parts.append(rng.choice(CONTEXTS))
    parts.append(rng.choice(sc.asks))
    if sc.details:
        k = rng.choice((0, 1, 1, 2)) if long_form else rng.choice((0, 0, 1))
        parts.extend(rng.sample(sc.details, min(k, len(sc.details))))
    if long_form or rng.random() < 0.3:
        parts.append(rng.choice(MOODS))
    signature, name = _signature(rng)
    if name is None and signature:  # a person mentioned in passing, not a signature
        parts.insert(len(parts) - 1, f"{signature[0].upper()}{signature[1:]} told me to write in.")
        signature = ""
    template = " ".join(p for p in parts if p)
    known = _fields(template)
    known |= {slot for slot, source in DERIVED_SLOTS.items() if source in known}
    return _noisy(template.format(**slots), rng) + signature, name, known


def make_reply(
    sc: Scenario, slots: dict[str, str], name: str | None, known: set[str], rng: random.Random
) -> str:
    """The approved reply. It only names details the ticket gave (``known`` slots), so the
    model never learns to invent a network, token or amount."""

    def fitting(variants: tuple[str, ...]) -> list[str]:
        return [v for v in variants if _fields(v) <= known]

    diagnoses = fitting(sc.diagnoses)
    if not diagnoses:
        raise ValueError(f"no diagnosis fits a ticket that mentions only {sorted(known)}")
    diagnosis = rng.choice(diagnoses).format(**slots)
    usable = []
    for variants, required in sc.steps:
        fit = fitting(variants)
        if fit:
            usable.append((tuple(fit), required))
        elif required:
            raise ValueError(f"no step of {variants[0]!r} fits slots {sorted(known)}")
    groups = [g for g in usable if g[1] or rng.random() < 0.6]
    while len(groups) > 4 or (len(groups) < 2 and len(groups) < len(usable)):
        if len(groups) > 4:
            optional = [g for g in groups if not g[1]]
            groups.remove(rng.choice(optional))
        else:
            missing = [g for g in usable if g not in groups]
            pick = rng.choice(missing)
            groups = [g for g in usable if g in groups or g is pick]
    steps = [rng.choice(variants) for variants, _ in groups]

    def render(step_texts: list[str]) -> str:
        lines = [f"Hi {name}," if name else "Hi there,", "", diagnosis, "", "Steps:"]
        for i, text in enumerate(step_texts, start=1):
            text = ESCALATION if text == ESC else text.format(**slots)
            lines.append(f"{i}. {text}")
        lines += ["", SAFETY_LINE, "", SIGN_OFF]
        return "\n".join(lines)

    reply = render(steps)
    # Keep replies short enough for a small model: drop optional steps while over the limit.
    while len(reply.split()) > MAX_WORDS and len(steps) > 2:
        droppable = [i for i, (_, required) in enumerate(groups) if not required]
        if not droppable:
            break
        i = droppable[-1]
        del groups[i], steps[i]
        reply = render(steps)
    return reply


def validate(reply: str, escalated: bool) -> None:
    words = len(reply.split())
    assert MIN_WORDS <= words <= MAX_WORDS, (words, reply)
    assert len(reply) <= MAX_CHARS, reply
    lines = reply.split("\n")
    assert re.fullmatch(r"Hi [^\n,]+,", lines[0]), reply
    assert re.match(r"(It looks like|This usually happens when) ", lines[2]), reply
    assert lines[2].endswith(".") and ". " not in lines[2], reply
    n_steps = sum(1 for line in lines if re.match(r"\d\. ", line))
    assert 2 <= n_steps <= 4, reply
    assert (ESCALATION in reply) == escalated, reply
    assert lines[-3:] == [SAFETY_LINE, "", SIGN_OFF], reply


def build(seed: int = SEED) -> list[Row]:
    assert all(sc.escalate for intent in ACCOUNT_INTENTS for sc in SCENARIOS[intent])
    rng = random.Random(seed)
    rows: list[Row] = []
    seen: set[str] = set()
    for intent in INTENTS:
        scenarios = SCENARIOS[intent]
        made = 0
        while made < PER_INTENT:
            sc = scenarios[made % len(scenarios)]
            slots = _slots(rng)
            prompt, name, known = make_ticket(sc, slots, rng)
            if prompt in seen:
                continue
            seen.add(prompt)
            completion = make_reply(sc, slots, name, known, rng)
            validate(completion, sc.escalate)
            made += 1
            rows.append(Row(f"{intent}-{made:03d}", prompt, completion, intent, sc.escalate))
    rng.shuffle(rows)
    return rows


def write_jsonl(rows: list[Row], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            record = {"id": row.id, "prompt": row.prompt, "completion": row.completion}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = build(args.seed)
    write_jsonl(rows, args.out)
    escalated = sum(r.escalated for r in rows)
    print(f"wrote {len(rows)} rows ({len(INTENTS)} intents, {escalated} escalated) to {args.out}")


if __name__ == "__main__":
    main()
