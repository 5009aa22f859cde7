"""Generate the synthetic community-moderation dataset (``messages.jsonl``).

The JSONL next to this file is committed; this script documents how it was made and reproduces
it byte for byte::

    python examples/moderation/make_messages.py

Every message fragment below was written by hand for this example; the brands (Lumen Wallet,
Harbor Swap, Kestrel Bridge) and every handle, domain and address are fictional. Each message is
drawn from a family of templates with slots (brand, look-alike domain, token, amount, ...) and
carries the policy labels of its family. Hard benign families (the real team's announcements,
legitimate airdrop news on the real domain, users quoting a scam to warn others) are there so
false positives can be measured; about one in eight abusive messages is written with the
disguises attackers use (look-alike letters, leetspeak, spaced letters, defanged links).

``messages.jsonl`` (train + validation) and ``messages_test.jsonl`` (test) use disjoint templates:
every fourth template of each family writes only test messages, so the test measures phrasings the
model never saw. Each row: ``text``, ``labels`` (a list), ``family`` (the template family) and
``hard`` (true for the hard benign cases).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

SEED = 20261204
HERE = Path(__file__).resolve().parent

BRANDS = {
    "Lumen Wallet": "lumenwallet.io",
    "Harbor Swap": "harborswap.org",
    "Kestrel Bridge": "kestrelbridge.xyz",
}
LOOKALIKES = {
    "Lumen Wallet": (
        "lumenwa11et.io",
        "lumenwallet-support.com",
        "lumenwallet.app",
        "lumen-wallet-verify.net",
        "lumenwalle.io",
        "secure-lumenwallet.co",
    ),
    "Harbor Swap": (
        "harb0rswap.org",
        "harborswap.claims",
        "harborswap-airdrop.xyz",
        "harbourswap.org",
        "app-harborswap.live",
    ),
    "Kestrel Bridge": (
        "kestrelbrigde.xyz",
        "kestrel-bridge.app",
        "kestrelbridge-refund.com",
        "kestrelbridge.site",
    ),
}
SHORT = ("bit.ly/3vQ9xZk", "tinyurl.com/ynx4k2pa", "cutt.ly/Lw7Rt0p", "rb.gy/h2k9qe", "t.ly/Qm4Zp")
SHADY = (
    "free-eth-drop.top",
    "mega-gem-launch.xyz",
    "claimrewards-now.online",
    "nft-mint-live.site",
)
TOKENS = ("ETH", "USDC", "ARB", "SOL", "OP", "LUM", "HRB")
CHAINS = ("Ethereum", "Arbitrum", "Base", "Solana", "Optimism", "Polygon")
HANDLES = (
    "moss_otter",
    "quietfalcon",
    "tidepool_dev",
    "nina_k",
    "block_barista",
    "gasless_gary",
    "orchid.eth",
    "pebble_node",
    "vela_ops",
    "ricky_r",
    "lowtide",
    "sunnycircuit",
)
SCAM_HANDLES = (
    "LumenSupport_Desk",
    "HarborSwap_Admin1",
    "kestrel_helpcenter",
    "Official_Lumen_Team",
    "support.desk.247",
)
EMOJI = ("🚀", "🔥", "💰", "✅", "🎁", "⚠️", "👇", "💎", "🙏", "😂", "👀", "gm", "lol")
ADDRESSES = (
    "0x7a3B9c21D04e5F6a78b9C0d1E2f3A4b5C6d7E8f9",
    "0x1F2e3D4c5B6a79880A9b8C7d6E5f4A3b2C1d0E9f",
    "0x9c8B7a6F5e4D3c2B1a0F9e8D7c6B5a4F3e2D1c0b",
)


def fill(template: str, rng: random.Random) -> str:
    brand = rng.choice(list(BRANDS))
    chains = rng.sample(CHAINS, 2)
    values = {
        "brand": brand,
        "official": BRANDS[brand],
        "fake": rng.choice(LOOKALIKES[brand]),
        "short": rng.choice(SHORT),
        "shady": rng.choice(SHADY),
        "token": rng.choice(TOKENS),
        "chain": chains[0],
        "chain2": chains[1],
        "user": rng.choice(HANDLES),
        "scammer": rng.choice(SCAM_HANDLES),
        "amount": rng.choice(("500", "1,000", "2,500", "0.5", "3", "250", "10,000")),
        "mult": rng.choice(("10x", "50x", "100x", "1000x")),
        "hours": rng.choice(("24 hours", "2 hours", "48h", "12 hours", "today")),
        "address": rng.choice(ADDRESSES),
        "version": rng.choice(("2.14", "2.15.1", "3.0", "3.1.2")),
        "date": rng.choice(("March 3", "next Tuesday", "Friday 14:00 UTC", "the 21st")),
    }
    return template.format(**values)


# family -> (labels, hard, templates)
FAMILIES: dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]] = {
    "phishing_seed": (
        ("phishing",),
        False,
        (
            "Your {brand} account has been flagged. Verify your recovery phrase within {hours} "
            "or your funds will be frozen.",
            "To receive the {token} refund you must confirm your 12-word seed phrase in the form.",
            "Wallet sync error detected. Re-enter your secret phrase to restore your balance.",
            "Security notice: unusual activity on your wallet. Validate your seed words now to "
            "keep access.",
            "We are migrating {brand} wallets to a new contract, import your private key to "
            "migrate before {date}.",
            "your wallet is not whitelisted for the upgrade, send your phrase so we can add it "
            "manually",
            "Final warning: unverified wallets will be deleted in {hours}. Complete KYC by "
            "entering your mnemonic.",
        ),
    ),
    "phishing_link": (
        ("phishing", "scam_link"),
        False,
        (
            "Your {brand} wallet needs re-validation, connect it at https://{fake}/verify "
            "within {hours}.",
            "⚠️ Wallet compromised? Secure it now: {fake}/secure — enter your phrase to lock funds.",
            "Claim your pending {token} rewards before they expire: https://{fake}/claim "
            "(connect wallet + sign).",
            "{brand} is upgrading to v3, migrate your funds at {fake} or lose them.",
            "Login session expired. Reconnect your wallet at https://{fake} to continue.",
            "Gas refund program live! Check eligibility at {fake}/refund 👇",
        ),
    ),
    "impersonation": (
        ("impersonation",),
        False,
        (
            "Hi, I'm one of the {brand} founders. I can whitelist you personally for the "
            "presale, just DM me.",
            "This is the official {brand} team account, our old one was hacked. Follow this one "
            "for updates.",
            "[ANNOUNCEMENT] {brand} core team here: we are doing a private round for loyal "
            "members, reply to join.",
            "I am the lead dev of {brand}. We are quietly selling {token} at a discount to early "
            "holders.",
            "Message from {brand} CEO: due to a bug, all holders must send {token} to the "
            "treasury for a 2x return.",
            "admin here (new account). The {brand} team asked me to collect wallet addresses "
            "for the bonus",
        ),
    ),
    "impersonation_link": (
        ("impersonation", "phishing", "scam_link"),
        False,
        (
            "Official {brand} announcement: the airdrop snapshot is done. Claim at "
            "https://{fake} before {date}. — The {brand} Team",
            "📢 {brand} team: we've partnered with a new validator. Restake your {token} at "
            "{fake}/stake to keep rewards.",
            "From the {brand} developers: emergency migration due to an exploit. Move funds "
            "via {fake} now.",
        ),
    ),
    "fake_support": (
        ("fake_support",),
        False,
        (
            "Hey, I saw your question about the stuck swap. I'm from {brand} support, DM me and "
            "I'll fix it.",
            "Having issues? Contact our 24/7 support desk on WhatsApp +1 (415) 555-0142 for "
            "instant help.",
            "@{user} please open a ticket with our agent @{scammer}, they handle all {brand} "
            "problems.",
            "{brand} support here 👋 we can't see your issue in the channel, check your DMs, "
            "I just messaged you.",
            "For faster resolution message our live support team directly, they are online now "
            "(not the mods here)",
            "I had the same problem, {scammer} from the help center fixed it in 5 minutes, "
            "message them!",
        ),
    ),
    "fake_support_seed": (
        ("fake_support", "phishing"),
        False,
        (
            "Support agent here. To sync your wallet I need your recovery phrase, it is safe "
            "with us.",
            "Hello from the {brand} help desk, please share your seed words so we can restore "
            "your missing {token}.",
            "I'm {brand} staff, I can reverse your transaction if you send me your private key "
            "over DM.",
        ),
    ),
    "fake_support_link": (
        ("fake_support", "scam_link"),
        False,
        (
            "Submit a support ticket here: https://{fake}/ticket and an agent will connect to "
            "your wallet.",
            "Our helpdesk moved: {short} — log in with your wallet to open a case.",
            "For refunds of failed {chain} bridge transfers use the support portal {fake}/help",
        ),
    ),
    "scam_link": (
        ("scam_link",),
        False,
        (
            "Free {token} drop for the first 500 wallets 🎁 {shady}",
            "{mult} presale is LIVE, connect and buy now: https://{shady}",
            "mint is open for 2 more hours only → {short}",
            "Surprise airdrop for {chain} users, check {short} quickly before it ends",
            "Double your {token}! Send 0.1 and receive 0.2 back instantly at {shady}",
            "limited NFT drop for holders, claim yours: {short} 🔥",
            "Claim {amount} {token} free at https://{shady}/claim, no gas needed!",
        ),
    ),
    "spam": (
        ("spam",),
        False,
        (
            "🚀🚀 {mult} GEM launching on {chain} in {hours}!! join t.me/gemcallsvip for early "
            "entry 🚀🚀",
            "Make $3000 a week trading with my signals, message me to join the VIP group 💰",
            "Best crypto trading bot, {mult} returns guaranteed, ask me how",
            "Buy followers and members for your crypto project, cheap and fast, DM for prices",
            "PUMP ALERT 🔥 next coin announced in our channel, don't miss it",
            "Looking for investors, I can turn {amount} USDT into {mult} in a week, serious "
            "people only",
            "check my profile for the best presale deals of the month 💎💎💎",
            "Earn passive income with our staking pool 40% APY, DM me for the invite",
        ),
    ),
    "scam_address": (
        ("scam_link",),
        False,
        (
            "Giveaway! Send any amount of {token} to {address} and get double back in {hours}.",
            "Donate to the {brand} relief fund: {address} (official, trust me)",
        ),
    ),
    "harassment": (
        ("harassment",),
        False,
        (
            "@{user} you are an idiot, nobody wants you here, get lost",
            "shut up {user}, you clueless clown, go back to your mom's basement",
            "mods are useless trash, do your job or quit you lazy losers",
            "@{user} I know where you live, keep talking and see what happens",
            "everyone who bought {token} is a brainless moron and deserves to lose it all",
            "@{user} kill yourself, seriously, you're worthless",
            "what a pathetic loser, {user} should be banned for being this dumb",
        ),
    ),
    # ---- benign ----
    "benign_chat": (
        ("benign",),
        False,
        (
            "gm everyone, anyone else seeing slow confirmations on {chain} this morning?",
            "Thanks @{user}, that fixed it! I had the wrong network selected.",
            "What's the best way to move {token} from {chain} to {chain2}? first time bridging",
            "Is the {token} pool on {brand} still paying rewards after the update?",
            "Just swapped for the first time on {brand}, super smooth 👌",
            "anyone know why my {token} balance shows 0 after the update? the tx is confirmed",
            "lol the gas on {chain} today is wild",
            "How do I add a custom token to {brand}? I can't find the option",
            "Great AMA yesterday, thanks team 🙏",
            "My swap failed with slippage error, should I raise the slippage or wait?",
            "Is there a testnet faucet for {chain} that still works?",
            "Any devs here who have integrated the {brand} SDK with Next.js?",
            "The new dark mode looks great",
            "how long does a {chain} withdrawal usually take?",
            "Does the hardware wallet integration support Trezor yet?",
            "I think the docs page for staking is outdated, the screenshots show the old UI",
        ),
    ),
    "benign_announcement": (
        ("benign",),
        True,
        (
            "📢 {brand} v{version} is out: faster swaps and a new fee screen. Update from "
            "https://{official} or your app store.",
            "Reminder from the mods: the {brand} team will NEVER DM you first and will never "
            "ask for your seed phrase.",
            "Scheduled maintenance on {date}: the bridge UI will be down for about an hour. "
            "Funds are safe. Status at {official}/status",
            "Support is only available through the help center at https://{official}/support. "
            "Please ignore anyone offering help in DMs.",
            "The team is hiring a support engineer, details on {official}/careers",
            "AMA with the {brand} core team on {date} in the voice channel, bring your questions!",
            "Official: the {token} staking rewards for last week have been distributed, check "
            "your wallet on {official}.",
            "New in {brand}: you can now see pending bridge transfers in the activity tab. "
            "Release notes on {official}/changelog",
            "Weekly community call is moved to {date}, same link as always in #events.",
            "We fixed the bug that showed a zero {token} balance after the update. Restart the "
            "app if you still see it.",
            "Security tip from the team: bookmark {official} and only use that link to reach us.",
        ),
    ),
    "benign_airdrop_news": (
        ("benign",),
        True,
        (
            "The {brand} governance token airdrop is confirmed. Eligibility is checked only on "
            "https://{official}/airdrop — no other links.",
            "Airdrop update from the team: claims open {date} on {official}. There is no "
            "presale and no fee to claim.",
            "Snapshot for the community airdrop was taken on {date}; full details in the blog "
            "at {official}/blog",
            "Did anyone claim the {brand} airdrop on the official site yet? how long did it take?",
            "I got the {token} airdrop through {official}, took 2 minutes, no issues",
            "Is the {brand} airdrop real? I only see it announced on {official}, nowhere else",
            "Claimed my airdrop on the official site, the {token} showed up after one block",
            "The team confirmed on the blog that the airdrop needs no deposit, nice",
            "Airdrop eligibility checker on {official} says I'm not eligible, anyone know why?",
        ),
    ),
    "benign_warning": (
        ("benign",),
        True,
        (
            "PSA: someone DM'd me saying 'verify your recovery phrase or your funds will be "
            "frozen'. It's a scam, don't reply to them.",
            "Be careful, there's a fake site {fake} going around. The real one is {official}. "
            "Reported it.",
            "Got a message from '{scammer}' claiming to be support and asking for my seed. "
            "Blocked and reported, watch out.",
            "Heads up: the 'double your {token}' giveaway posted earlier is a scam, never send "
            "funds to get more back.",
            "Scam alert ⚠️ a fake {brand} founder account is offering a private presale in DMs. "
            "The team does not do presales.",
            "Someone posted a {short} link saying free airdrop, it's a drainer. Mods please "
            "remove it.",
            "If anyone asks you to 'sync' or 'validate' your wallet by entering your phrase, "
            "it's phishing. Real support never asks.",
            "Reporting {scammer}: they DM'd me pretending to be an admin. Screenshots sent to "
            "the mods.",
            "My friend lost everything to a fake 'support agent' on WhatsApp. Please never "
            "share your seed words with anyone.",
            "Beware of the fake giveaway asking you to send {token} to an address, it's a scam",
            "lol someone just tried the 'I'm the founder, DM me for presale' trick on me. nice try",
        ),
    ),
    "benign_support": (
        ("benign",),
        True,
        (
            "@{user} sorry you're having trouble! Please open a ticket at "
            "https://{official}/support, we never ask for your seed phrase.",
            "Mod here: I've forwarded your bridge issue to the team. They'll reply on the "
            "ticket, not in DMs.",
            "@{user} that tx is still pending on {chain}, it usually clears within an hour. If "
            "not, open a ticket on {official}.",
            "Moderator note: please don't share your wallet address publicly if you're not "
            "comfortable, but it is not a secret like your phrase.",
            "Mod here: @{user} your ticket is escalated, the team will answer by email from "
            "@{official}.",
            "Thanks for reporting, the fake account is banned. Remember: mods never DM first.",
            "@{user} you can check the bridge status yourself at {official}/status, no need to "
            "share anything",
        ),
    ),
    "benign_heated": (
        ("benign",),
        True,
        (
            "honestly the fees on this bridge are killing me, this is ridiculous",
            "I'm so frustrated, third failed swap today. Fix this please!!",
            "this update is terrible, bring back the old layout",
            "lost 200 bucks on that trade, I'm such an idiot lol",
            "That {mult} gem talk is how people get rekt, do your own research",
            "this bridge is a joke today, 3 hours and nothing, come on team",
            "I hate gas fees so much, why is it 40 gwei again",
            "the chart is brutal, my {token} bag is down 30%",
        ),
    ),
}

# How many messages each family contributes.
COUNTS: dict[str, int] = {
    "phishing_seed": 60,
    "phishing_link": 60,
    "impersonation": 50,
    "impersonation_link": 30,
    "fake_support": 55,
    "fake_support_seed": 25,
    "fake_support_link": 25,
    "scam_link": 65,
    "scam_address": 20,
    "spam": 75,
    "harassment": 60,
    "benign_chat": 190,
    "benign_announcement": 55,
    "benign_airdrop_news": 40,
    "benign_warning": 55,
    "benign_support": 30,
    "benign_heated": 30,
}

_TWINS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "i": "і"}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"}


def disguise(text: str, rng: random.Random) -> str:
    """One disguise an attacker would use on a whole message."""
    style = rng.choice(("twins", "leet", "spaced", "defang"))
    words = text.split(" ")
    if style == "twins":
        return " ".join(
            "".join(_TWINS.get(c, c) if rng.random() < 0.4 else c for c in w) for w in words
        )
    if style == "leet":
        return " ".join(
            "".join(_LEET.get(c, c) for c in w) if rng.random() < 0.5 and w.isalpha() else w
            for w in words
        )
    if style == "spaced":
        picks = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 4]
        for i in rng.sample(picks, k=min(2, len(picks))):
            words[i] = " ".join(words[i])
        return " ".join(words)
    return text.replace("https://", "hxxps://").replace(".com", "[.]com").replace(".io", "[.]io")


OPENERS = ("", "", "", "hey all, ", "guys ", "hi, ", "@{user} ", "quick one: ", "ok so ", "btw ")
CLOSERS = ("", "", "", " thanks", " 🙏", " !!", " pls", " asap", " cheers", " 👀")


def dedupe_key(text: str) -> str:
    """What the audit treats as the same text: case, spacing and punctuation aside."""
    return re.sub(r"\W+", "", text.lower())


def noise(text: str, rng: random.Random) -> str:
    text = fill(rng.choice(OPENERS), rng) + text + rng.choice(CLOSERS)
    roll = rng.random()
    if roll < 0.12:
        text = text.lower()
    elif roll < 0.18:
        text = text.upper()
    if rng.random() < 0.2:
        text = f"{text} {rng.choice(EMOJI)}"
    if rng.random() < 0.08:
        text = text.rstrip(".!")
    return text


def held_out(templates: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(training templates, novel templates): every fourth template (at least one) writes only
    test messages, so half the test measures new phrasings, not new fillings of known ones."""
    novel = tuple(t for i, t in enumerate(templates) if i % 4 == 3) or templates[-1:]
    return tuple(t for t in templates if t not in novel), novel


def generate(
    seed: int = SEED, *, part: str = "train", avoid: frozenset[str] = frozenset()
) -> list[dict[str, object]]:
    """The rows of `part`: "train" (split into train and validation by narrowtune) or "test"
    (a quarter of each family's count: half from the novel templates, half new fillings of the
    training ones; `novel` marks which). `avoid`: texts of the other part (no text is in both)."""
    rng = random.Random(f"{seed}:{part}")
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for family, total in COUNTS.items():
        labels, hard, all_templates = FAMILIES[family]
        train_templates, novel_templates = held_out(all_templates)
        count = total - total // 4 if part == "train" else total // 4
        made, tries = 0, 0
        while made < count and tries < count * 50:
            tries += 1
            novel = part == "test" and made % 2 == 0
            templates = novel_templates if novel else train_templates
            text = noise(fill(rng.choice(templates), rng), rng)
            if labels != ("benign",) and rng.random() < 0.125:
                text = disguise(text, rng)
            if dedupe_key(text) in seen or dedupe_key(text) in avoid:
                continue
            seen.add(dedupe_key(text))
            row = {"text": text, "labels": list(labels), "family": family, "hard": hard}
            if part == "test":
                row["novel"] = novel
            rows.append(row)
            made += 1
    rng.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    avoid: frozenset[str] = frozenset()
    for part, name in (("train", "messages.jsonl"), ("test", "messages_test.jsonl")):
        rows = generate(args.seed, part=part, avoid=avoid)
        avoid = frozenset(dedupe_key(str(r["text"])) for r in rows)
        path = args.out / name
        with path.open("w", encoding="utf-8", newline="\n") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        hard = sum(bool(r["hard"]) for r in rows)
        print(f"wrote {len(rows)} messages ({hard} hard benign) to {path}")


if __name__ == "__main__":
    main()
