"""Generate the synthetic DAO-proposal extraction dataset (``proposals.jsonl``).

The JSONL file next to this script is committed; this script documents exactly how it was made
and reproduces it byte for byte::

    python examples/dao_proposals/make_proposals.py            # writes proposals.jsonl
    python examples/dao_proposals/make_proposals.py --out /tmp/p.jsonl

Every DAO, team, partner protocol, person and address is invented, and every sentence fragment
below was written by hand for this project. A proposal is built in two steps:

1. a *spec* is drawn: category and sub-topic, DAO, title, summary, motivation, requested amount
   and token, recipient address, milestones, voting options, and which required fields are
   deliberately left out (about a quarter of the proposals are incomplete);
2. the spec is *rendered* in one of three styles (markdown sections, a plain-prose forum post or a
   terse bullet list), in one of three lengths (short, medium, long with several paragraphs of
   background filler), with sections in varying order and many phrasings per slot.

Rendering works on *segments*: ``(text, field)`` pairs where ``field`` names the output field the
segment is the surface form of (or ``None``). Character offsets for ``spans`` are computed while
the segments are concatenated, never by searching the finished text, and ``output`` is derived
from the span texts (amounts and tokens normalised) and cross-checked against the spec.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

SEED = 20250213
N_PROPOSALS = 240
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "proposals.jsonl"

CATEGORIES = ("grants", "treasury", "governance", "technical", "partnerships", "community")
SPAN_FIELDS = (
    "title",
    "summary",
    "motivation",
    "requested_amount",
    "token",
    "recipient",
    "milestones",
    "voting_options",
)
SCALAR_FIELDS = SPAN_FIELDS[:6]
# Required by schema.json (besides ``category``, which is inferred and never missing).
REQUIRED_SPAN_FIELDS = ("title", "summary", "requested_amount", "token", "recipient")

INCOMPLETE_RATE = 0.26
LENGTH_WEIGHTS = (("short", 0.2), ("medium", 0.58), ("long", 0.22))
WORD_BANDS = {"short": (60, 120), "medium": (130, 480), "long": (500, 900)}

Seg = tuple[str, str | None]
Block = list[Seg]


def plain(text: str) -> Seg:
    return (text, None)


def tag(name: str, text: str) -> Seg:
    return (text, name)


# --------------------------------------------------------------------------------------------
# Invented entities
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dao:
    name: str
    slug: str
    token: str
    prefix: str


DAOS = (
    Dao("Lumenfold DAO", "lumenfold", "LMF", "LIP"),
    Dao("Kestrelmoor", "kestrelmoor", "KSTM", "KMP"),
    Dao("Orchardline Finance", "orchardline", "ORLN", "OFP"),
    Dao("Tidewell", "tidewell", "TDW", "TWP"),
    Dao("Nimbrook Lend", "nimbrook", "NMBK", "NLP"),
    Dao("Halverd Swap", "halverd", "HLV", "HIP"),
    Dao("Brightwell DAO", "brightwell", "BRW", "BWP"),
    Dao("Quarrystone Protocol", "quarrystone", "QRS", "QSP"),
    Dao("Marrowfin Markets", "marrowfin", "MRF", "MFP"),
    Dao("Fernhollow", "fernhollow", "FERN", "FHP"),
    Dao("Cobalt Harbor", "cobaltharbor", "CBH", "CHP"),
    Dao("Willowgate", "willowgate", "WLG", "WGP"),
    Dao("Saffreen Vaults", "saffreen", "SFV", "SVP"),
    Dao("Ironbark Collective", "ironbark", "IRB", "ICP"),
    Dao("Glasswing", "glasswing", "GLW", "GIP"),
)

TEAMS = (
    "Oakfield Labs",
    "Lanternfish Studio",
    "Two Rivers Engineering",
    "Parallax Collective",
    "Northbeam Dev",
    "Tinker & Vale",
    "Mossgrove Labs",
    "Redshank Research",
    "Quillwork",
    "Blue Heron Builders",
    "Copperkettle",
    "Wrenfield Systems",
)
HANDLES = (
    "mossdev",
    "tern_ops",
    "juniper_k",
    "alder.builds",
    "rook_and_ivy",
    "quillwright",
    "fenwick",
    "halyard",
    "saltpine",
    "m_okafor",
    "lin_research",
    "pelicanpete",
    "ashgrove",
    "tovah_v",
    "b_ramirez",
    "kiri_writes",
    "nadia_builds",
)
# (name, feature, what users get from it)
PARTNERS = (
    (
        "Pinegate Bridge",
        "cross-chain messaging",
        "move funds between chains without leaving the app",
    ),
    ("Vellumark Oracle", "price feeds", "rely on a second, independent price source"),
    ("Corvidae Lend", "lending markets", "borrow against their positions"),
    ("Amberline DEX", "swap routing", "get better execution on large swaps"),
    ("Driftmere Perps", "perpetual markets", "hedge their exposure in one place"),
    ("Saltmarsh Staking", "liquid staking", "earn staking yield on idle deposits"),
    ("Glimmerfold Vaults", "automated vaults", "put deposits to work with one click"),
    ("Heronwatch Options", "options vaults", "sell covered calls on their holdings"),
    ("Tallgrass Restaking", "restaking", "reuse staked collateral for extra rewards"),
    ("Moorhaven Aggregator", "yield aggregation", "compare yields across markets"),
)
COLLATERAL_FEATURES = ("lending markets", "perpetual markets", "options vaults")
AUDITORS = (
    "Halden Security",
    "Greyfell Audits",
    "Sparrowhawk Labs",
    "Cinderbrook Security",
    "Obsidian Ledger Review",
    "Kettlewell Assurance",
)
PRODUCTS = (
    "delegate analytics dashboard",
    "open-source subgraph indexer",
    "mobile voting client",
    "gasless voting relayer",
    "vault integration SDK",
    "Rust client library",
    "proposal simulation tool",
    "liquidity position tracker",
    "on-chain payroll module",
    "governance notification bot",
    "transaction decoder for multisig signers",
    "testnet faucet and explorer",
    "risk monitoring service",
    "self-hosted archive of governance votes",
)
COMPONENTS = (
    "vault contracts",
    "liquidation module",
    "oracle adapter",
    "swap router",
    "governor contract",
    "staking contracts",
    "fee switch",
    "bridge adapter",
    "interest rate model",
    "rewards distributor",
)
FEATURES = (
    "support for {chain}",
    "gas-optimised batch deposits",
    "a fallback oracle path",
    "an emergency pause guardian",
    "permit-based approvals",
    "per-market supply caps",
    "upgradeable fee parameters",
)
CHAINS = ("Arbitrum", "Optimism", "Base", "Ethereum mainnet", "Gnosis Chain", "Polygon", "Scroll")
CITIES = (
    "Lisbon",
    "Nairobi",
    "Seoul",
    "Buenos Aires",
    "Lagos",
    "Berlin",
    "Bangkok",
    "Mexico City",
    "Istanbul",
    "Bogotá",
    "Taipei",
    "Prague",
)
REGIONS = (
    "Latin America",
    "West Africa",
    "Southeast Asia",
    "Eastern Europe",
    "East Africa",
    "South Asia",
    "the Nordics",
    "the Iberian peninsula",
)
VENUES = (
    "a TWAP over {days} days",
    "an OTC desk with a signed quote",
    "a sealed batch auction",
    "a limit-order ladder",
    "daily market orders split across two venues",
)
COMMITTEES = {
    "grants": "grants committee",
    "treasury": "treasury council",
    "governance": "governance working group",
    "technical": "technical committee",
    "partnerships": "partnerships team",
    "community": "community council",
}
STABLES = ("USDC", "USDT", "DAI")
TOKEN_SURFACES = {
    "USDC": ("USDC", "USDC", "USDC", "usdc"),
    "USDT": ("USDT", "USDT", "usdt"),
    "DAI": ("DAI", "DAI", "Dai"),
    "ETH": ("ETH", "ETH", "ETH", "eth"),
    "WETH": ("WETH", "wETH"),
    "ARB": ("ARB",),
    "OP": ("OP",),
}
HEX = "0123456789abcdef"


# --------------------------------------------------------------------------------------------
# Category content. Templates use {placeholders} filled from a per-proposal context.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    titles: tuple[str, ...]
    summaries: tuple[str, ...]
    motivations: tuple[str, ...]
    milestones: tuple[str, ...] = ()
    options: tuple[tuple[str, ...], ...] = ()


TOPICS: dict[str, dict[str, Topic]] = {
    "grants": {
        "tooling": Topic(
            titles=(
                "Grant request: {Product} by {team}",
                "{team} funding for the {product}",
                "Builder grant for a {product}",
                "Fund {team} to build the {product}",
                "Support development of an open {product}",
                "{Product}: a {months}-month builder grant",
            ),
            summaries=(
                "{team} asks {dao} for a grant to build a {product} over the next {months} months.",
                "This proposal funds a team of {n} engineers from {team} to design, build and "
                "maintain a {product} for {dao}.",
                "We would like to build an open-source {product} that any {dao} delegate or "
                "integrator can use for free.",
                "{team} proposes a {months}-month grant covering development, hosting and "
                "maintenance of a {product}.",
                "A grant to {team} so they can ship a production-ready {product} and hand it over "
                "to the community.",
                "We propose funding {team}, a small builder team, to deliver a {product} tailored "
                "to {dao}.",
            ),
            motivations=(
                "Today there is no maintained {product} for {dao}, so delegates stitch together "
                "spreadsheets and block explorers.",
                "Builders integrating with {dao} keep asking for better tooling, and the existing "
                "options are closed source or abandoned.",
                "Without a {product}, new contributors spend days working out what the core team "
                "already knows.",
                "The previous tool stopped being updated after its maintainer left, and it no "
                "longer works with the current contracts.",
                "A shared, open-source {product} saves every integrator from building a private "
                "version of the same thing.",
            ),
        ),
        "continuation": Topic(
            titles=(
                "Continuation grant for the {product}",
                "{team}: phase two funding",
                "Renew the {team} maintenance grant",
                "Follow-up grant to keep the {product} alive",
            ),
            summaries=(
                "{team} built the first version of the {product} under an earlier grant and now "
                "asks for {months} more months of funding.",
                "This is a follow-up grant so {team} can keep maintaining the {product} and add "
                "the features delegates asked for.",
                "We request a second, smaller grant to move the {product} from beta to a stable "
                "release.",
            ),
            motivations=(
                "The {product} now has regular users, and without maintenance it will break at "
                "the next contract upgrade.",
                "The first grant delivered every milestone on time, which the public reports show.",
                "Usage of the beta has grown every month, and support requests now take most of "
                "the team's time.",
            ),
        ),
    },
    "treasury": {
        "diversify": Topic(
            titles=(
                "Diversify {pct}% of the treasury into stablecoins",
                "Treasury rebalancing plan for {quarter}",
                "Swap part of the {tok} reserves for {asset}",
                "Reduce treasury concentration in {tok}",
                "Gradual diversification of the {dao} treasury",
            ),
            summaries=(
                "This proposal diversifies the treasury by selling part of the {tok} holdings for "
                "{asset} through {venue}.",
                "The treasury council would execute a gradual swap from {tok} to {asset} using "
                "{venue}, with a price floor to limit slippage.",
                "The goal is to reduce the share of the treasury held in {tok} from roughly "
                "{pct_hi}% to {pct_lo}%.",
                "We propose selling a fixed slice of {tok} every week until {pct}% of the "
                "treasury sits in {asset}.",
            ),
            motivations=(
                "Almost all of the treasury is denominated in {tok}, so a market drawdown directly "
                "cuts the budget for contributors.",
                "Other DAOs that kept a single-asset treasury had to stop funding work during the "
                "last bear market.",
                "Diversifying slowly through {venue} avoids signalling a large sale to the market.",
                "Operating costs are paid in stablecoins, and selling {tok} in a hurry during a "
                "downturn would hurt holders.",
            ),
            options=(
                ("Diversify {pct}% now", "Diversify in two steps", "Keep the current allocation"),
            ),
        ),
        "runway": Topic(
            titles=(
                "Build a {months}-month runway reserve",
                "Create a stablecoin operating reserve",
                "Fund the operating reserve for {quarter} and beyond",
            ),
            summaries=(
                "We propose converting a portion of {dao}'s native-token reserves into {asset} to "
                "secure {months} months of operating runway.",
                "A dedicated operating reserve in {asset} would cover contributor pay and "
                "service costs for the next {months} months.",
                "The treasury council would move funds into a separate reserve Safe that only "
                "pays recurring, already-approved costs.",
            ),
            motivations=(
                "A predictable runway lets working groups plan hiring and audits without waiting "
                "for every price move.",
                "Twice last year the DAO had to sell {tok} at a poor price to cover salaries.",
                "Working groups cannot commit to contracts longer than a month while every "
                "payment depends on the {tok} price.",
            ),
        ),
        "yield": Topic(
            titles=(
                "Move idle {asset} into a conservative yield strategy",
                "Put idle treasury stablecoins to work",
                "Low-risk yield allocation for treasury reserves",
            ),
            summaries=(
                "Idle {asset} sitting in the main Safe would be allocated to a low-risk lending "
                "strategy with daily liquidity.",
                "The treasury council proposes depositing part of the stable reserves into "
                "audited lending markets, capped at {pct}% of the treasury.",
                "This proposal allocates treasury assets to a conservative, fully withdrawable "
                "strategy managed by the council.",
            ),
            motivations=(
                "Idle assets earn nothing today, while a conservative strategy could cover part of "
                "the monthly operating costs.",
                "Inflation of the {tok} supply means an idle treasury slowly loses value relative "
                "to holders.",
                "The reserve has sat untouched for {n} months and nobody has a plan for it.",
            ),
        ),
    },
    "governance": {
        "quorum": Topic(
            titles=(
                "Lower the quorum from {q_old}% to {q_new}%",
                "Change the quorum requirement for on-chain votes",
                "Quorum reform for {dao} governance",
                "Adjust quorum to match active voting power",
            ),
            summaries=(
                "This proposal changes the quorum for on-chain votes from {q_old}% to {q_new}% of "
                "the circulating {tok} supply.",
                "We suggest basing quorum on the voting power that actually took part in the last "
                "{n} votes instead of on total supply.",
                "Quorum would drop to {q_new}% for ordinary proposals and stay at {q_old}% for "
                "changes to the governor itself.",
            ),
            motivations=(
                "Over the last {n} votes, turnout barely cleared the current quorum, and two "
                "proposals failed despite clear support.",
                "Participation has fallen as the token supply grew, so the quorum no longer "
                "reflects active voting power.",
                "A large share of {tok} sits in exchange wallets that never vote, which makes a "
                "{q_old}% quorum hard to reach.",
            ),
            options=(
                ("Lower quorum to {q_new}%", "Keep quorum at {q_old}%", "Abstain"),
                ("Adopt the new quorum", "Keep the current rules"),
            ),
        ),
        "voting_period": Topic(
            titles=(
                "Extend the voting period to {days} days",
                "Longer voting windows for on-chain proposals",
                "Change the voting delay and voting period",
            ),
            summaries=(
                "We suggest extending the voting window from {d_old} to {days} days so that "
                "delegates in every time zone can take part.",
                "The voting period would grow to {days} days and the voting delay to two days, "
                "giving delegates time to read before votes open.",
                "This proposal updates two governor parameters: the voting delay and the voting "
                "period, now {d_old} days.",
            ),
            motivations=(
                "A {d_old}-day window is too short for delegates who review proposals in their "
                "spare time.",
                "Several votes in the last quarter closed over a weekend with less than half the "
                "usual turnout.",
                "Delegates in Asia-Pacific time zones regularly miss votes that open and close "
                "during their night.",
            ),
            options=(("Extend to {days} days", "Keep {d_old} days", "Abstain"),),
        ),
        "timelock": Topic(
            titles=(
                "Introduce a {tl}-day execution timelock",
                "Add a timelock between vote and execution",
                "Governance safety: delay execution of passed proposals",
            ),
            summaries=(
                "Executed proposals would wait {tl} days in a timelock before taking effect, "
                "giving holders time to react if they disagree.",
                "This proposal routes every passed vote through a timelock contract with a "
                "{tl}-day delay and a guardian that can cancel malicious actions.",
            ),
            motivations=(
                "Without a timelock, a malicious proposal could be executed before anyone has a "
                "chance to react.",
                "A governance attack on another protocol last year was only stopped because its "
                "timelock gave people time to respond.",
                "Integrators have told us they cannot list {tok} as collateral while governance "
                "can change parameters instantly.",
            ),
        ),
        "process": Topic(
            titles=(
                "Require a temperature check before every on-chain vote",
                "Adopt optimistic approval for small grants",
                "Raise the proposal threshold",
                "Governance process update: drafts, checks and votes",
            ),
            summaries=(
                "Every on-chain proposal would first need a {tc}-day temperature check on the "
                "forum with a simple majority in favour.",
                "Small grant requests would pass automatically unless at least {veto}% of voting "
                "power objects during a {days}-day window.",
                "The proposal threshold, the voting power needed to submit a vote, would go up to "
                "stop spam proposals.",
            ),
            motivations=(
                "Several recent votes were submitted without any forum discussion, which left "
                "delegates guessing.",
                "The {committee} spends weeks on tiny requests that nobody objects to.",
                "Spam proposals have cost delegates time and gas in the last quarter.",
            ),
            options=(("Adopt the new process", "Keep the current process"),),
        ),
    },
    "technical": {
        "audit": Topic(
            titles=(
                "Audit of the v{ver} {component}",
                "Fund an external review of the {component}",
                "Security audit before the v{ver} release",
                "Fund formal verification of the {component}",
            ),
            summaries=(
                "We propose an external audit of the {component} before the v{ver} release, "
                "performed by {auditor}.",
                "{auditor} would review the {component} over {weeks} weeks, followed by a fix "
                "review of any findings.",
                "We want to formally verify the core invariants of the {component} and publish "
                "the proofs.",
            ),
            motivations=(
                "The {component} holds most of the protocol's deposits and has not been reviewed "
                "since the last major change.",
                "Shipping unaudited code to mainnet is not acceptable for a protocol of this size.",
                "A recent incident at another protocol used a bug class that our {component} may "
                "share.",
            ),
            options=(("Approve audit and upgrade", "Approve the audit only", "Reject"),),
        ),
        "upgrade": Topic(
            titles=(
                "Upgrade the {component} to v{ver}",
                "Protocol upgrade: {feature}",
                "Migrate the {component} to a new proxy",
                "v{ver} upgrade of the {component}",
            ),
            summaries=(
                "This upgrade replaces the current {component} with version {ver}, adding "
                "{feature}.",
                "The engineering working group asks for funds to upgrade the {component} and "
                "cover the audit of the change.",
                "We propose deploying a new implementation of the {component} behind the existing "
                "proxy, adding {feature}.",
            ),
            motivations=(
                "Gas costs on the current {component} make small deposits uneconomical.",
                "The current oracle setup has a single point of failure that was flagged in the "
                "last incident review.",
                "Integrators on {chain} have been waiting for this upgrade for months.",
            ),
        ),
        "bounty": Topic(
            titles=(
                "Bug bounty top-up",
                "Expand the bug bounty to cover the {component}",
                "Security budget for {quarter}",
            ),
            summaries=(
                "This proposal tops up the bug bounty pool and extends its scope to the new "
                "{component}.",
                "We request funds for the {committee} to run a public bug bounty and a "
                "monitoring service for {months} months.",
            ),
            motivations=(
                "The bounty pool was drained by two valid critical reports, which is a good sign "
                "but leaves nothing for the next one.",
                "Researchers ignore programmes with small payouts, and ours is below what "
                "comparable protocols offer.",
            ),
        ),
    },
    "partnerships": {
        "integration": Topic(
            titles=(
                "Integrate {dao} into {partner}",
                "Partnership with {partner}",
                "{partner} integration proposal",
                "Bring {partner} {partner_feature} to {dao} users",
            ),
            summaries=(
                "{dao} and {partner} propose a joint integration that lets {partner} users "
                "deposit directly into {dao} markets.",
                "We propose integrating the {partner_feature} of {partner} so that {dao} users can "
                "{partner_benefit}.",
                "This proposal funds the engineering work to integrate {partner} and a short "
                "launch campaign on {chain}.",
            ),
            motivations=(
                "{partner} has a large user base on {chain} that {dao} has not been able to reach.",
                "{partner} already asked for this integration, and their team has agreed to share "
                "the engineering work.",
                "Our users keep asking to {partner_benefit}, and building it ourselves would take "
                "much longer.",
            ),
            options=(("Approve the partnership", "Approve with half the incentives", "Reject"),),
        ),
        "coincentive": Topic(
            titles=(
                "{partner} x {dao}: co-incentive program on {chain}",
                "Liquidity partnership with {partner} on {chain}",
                "Joint liquidity campaign with {partner}",
            ),
            summaries=(
                "This proposal sets up a {months}-month co-incentive program with {partner} on "
                "{chain}, matched one to one by their treasury.",
                "{dao} and {partner} would each fund rewards for a shared liquidity pool on "
                "{chain} for {months} months.",
            ),
            motivations=(
                "Integrations bring sticky liquidity, while pure emissions tend to leave as soon "
                "as rewards end.",
                "A joint program signals that both communities are aligned and splits the cost "
                "of incentives.",
                "Liquidity for {tok} on {chain} is thin, and large trades currently move the "
                "price by several percent.",
            ),
        ),
        "collateral": Topic(
            titles=(
                "List {tok} as collateral on {partner}",
                "{tok} collateral onboarding with {partner}",
            ),
            summaries=(
                "{partner} would add {tok} as collateral, and {dao} would fund the risk review "
                "and an initial liquidity incentive.",
                "This proposal covers the work needed for {partner} to accept {tok} as "
                "collateral with conservative caps.",
            ),
            motivations=(
                "Holders have no way to borrow against {tok} today without selling it.",
                "Collateral listings on established markets tend to deepen liquidity for the "
                "token over time.",
            ),
        ),
    },
    "community": {
        "ambassadors": Topic(
            titles=(
                "Ambassador program, season {season}",
                "{dao} ambassadors: season {season} budget",
                "Regional ambassador program for {region}",
            ),
            summaries=(
                "We propose running season {season} of the {dao} ambassador program with {n} "
                "ambassadors across {region}.",
                "Ambassadors in {region} would host local calls, answer newcomer questions and "
                "report back to the {committee} every month.",
            ),
            motivations=(
                "Ambassadors answered hundreds of support questions last season and brought in "
                "new contributors.",
                "Most {dao} holders in {region} never interact with governance, partly because "
                "everything happens in English.",
            ),
            options=(("Fund the full program", "Fund a smaller pilot", "Do not fund"),),
        ),
        "hackerhouse": Topic(
            titles=(
                "{dao} hacker house in {city}",
                "Sponsor a {dao} side event in {city}",
                "Builder week in {city}",
            ),
            summaries=(
                "This proposal funds a {days}-day hacker house in {city} where builders can work "
                "on {dao} integrations.",
                "The community team would host a side event in {city} during a major conference "
                "week, with workshops and a demo evening.",
            ),
            motivations=(
                "The last hacker house produced three integrations that are still live today.",
                "In-person events build trust in a way that chat threads do not.",
            ),
        ),
        "education": Topic(
            titles=(
                "Governance 101: an education series for new delegates",
                "Workshops on reading and voting on proposals",
                "Education program for {dao} holders",
            ),
            summaries=(
                "A series of {n} workshops would teach new delegates how to read proposals, vote "
                "and delegate.",
                "We want to record short video lessons and run live sessions explaining how "
                "{dao} governance works.",
            ),
            motivations=(
                "New delegates often tell us they do not know where to start.",
                "Education lowers the barrier for holders who want to vote but feel they lack "
                "context.",
            ),
        ),
        "meetups": Topic(
            titles=(
                "Community meetups in {region}",
                "Monthly {dao} meetups",
                "Translation and localisation program",
            ),
            summaries=(
                "We want to organise monthly meetups in {region} to bring local builders and "
                "holders together.",
                "Community translators would localise the docs and governance summaries into {n} "
                "languages.",
            ),
            motivations=(
                "Most of our community lives outside the time zones where calls are held.",
                "Localised docs were the most requested item in the last community survey.",
            ),
        ),
    },
}

# Extra summary / motivation sentences that fit any sub-topic of a category.
SUMMARY_EXTRAS: dict[str, tuple[str, ...]] = {
    "grants": (
        "All code will be released under a permissive licence.",
        "Payments are tied to milestones and can be stopped by the {committee} at any point.",
        "The team has already shipped a prototype that some delegates are testing.",
        "Progress reports will be posted to the forum every month.",
        "Nothing is paid upfront beyond the first milestone.",
    ),
    "treasury": (
        "Execution stays with the existing {committee} signers.",
        "No new contracts are deployed as part of this proposal.",
        "Every trade will be reported on the forum within a week.",
        "The allocation can be unwound by a simple majority vote.",
    ),
    "governance": (
        "The change only touches governor parameters, not the token contract.",
        "The new rules would apply to proposals submitted after the upgrade executes.",
        "A small budget covers the contract change, its review and interface updates.",
        "The {committee} would implement the change and report back after three months.",
    ),
    "technical": (
        "The audit report will be published in full, including acknowledged findings.",
        "The upgrade goes through the usual timelock before it takes effect.",
        "The budget covers auditor fees and a fix review.",
        "No user action is needed for existing positions.",
    ),
    "partnerships": (
        "Both teams will publish a joint report after the first month.",
        "Incentives are released weekly and can be stopped by either side.",
        "The integration contracts will be reviewed before launch.",
    ),
    "community": (
        "Receipts for all event spending will be shared with the {committee}.",
        "Anyone in the community can apply to take part.",
        "Unspent funds are returned to the treasury at the end of the season.",
        "Recordings and slides will be published for people who cannot attend.",
    ),
}
MOTIVATION_EXTRAS: dict[str, tuple[str, ...]] = {
    "grants": (
        "Grants are how {dao} grows its builder ecosystem, and several forum threads point at "
        "this gap.",
        "Competing ecosystems fund this kind of public good, and {dao} risks falling behind if it "
        "does not.",
        "Delegates mentioned this tool as a missing piece in the last two governance calls.",
    ),
    "treasury": (
        "The treasury is the DAO's only source of funding, so its volatility is everyone's "
        "problem.",
        "Holders asked for a written treasury policy in the last community survey.",
    ),
    "governance": (
        "The current parameters were set at launch, when the token had a fraction of today's "
        "holders.",
        "Governance rules should make it easy to pass uncontroversial changes and hard to pass "
        "harmful ones.",
    ),
    "technical": (
        "Security spending is small compared with the value the contracts hold.",
        "Every month the upgrade is delayed, users keep paying for the inefficiency.",
    ),
    "partnerships": (
        "Growth has stalled on our main chain, and new users mostly arrive through integrations.",
        "Shared incentives cost less than running the same campaign alone.",
    ),
    "community": (
        "A DAO is only as strong as the people who show up to vote and build.",
        "Community programs are the cheapest way we have found to bring in new contributors.",
    ),
}

MILESTONES: dict[str, tuple[str, ...]] = {
    "grants": (
        "publish the technical design and gather feedback from delegates",
        "ship a public beta of the {product}",
        "complete an external code review",
        "release version 1.0 with documentation",
        "hand over hosting to a community-run server",
        "run two onboarding calls for integrators",
        "open-source the repository under a permissive licence",
        "deliver a final report with usage metrics",
        "add support for {chain}",
    ),
    "treasury": (
        "execute the first tranche of the swap",
        "publish the execution report with average prices",
        "complete the remaining tranches",
        "rebalance once the target allocation is reached",
        "report the new treasury composition on the dashboard",
        "review the strategy with the {committee} after one quarter",
        "set up monitoring alerts for the strategy position",
        "move the reserve into a dedicated Safe",
    ),
    "governance": (
        "deploy the updated governor contract on testnet",
        "complete the review of the parameter change",
        "update the voting interface and documentation",
        "run a test vote with the new rules",
        "activate the new parameters on mainnet",
        "review participation after three months",
        "publish a short guide for delegates",
    ),
    "technical": (
        "freeze the code and hand it to the auditors",
        "receive the preliminary audit report",
        "fix all high and medium findings",
        "publish the final report and fix review",
        "deploy the upgrade to testnet",
        "deploy to mainnet through the timelock",
        "run a public bug bounty on the new code for four weeks",
        "write the migration guide for integrators",
    ),
    "partnerships": (
        "sign off the integration spec with the {partner} team",
        "deploy the integration contracts on {chain}",
        "launch the co-incentive campaign",
        "report liquidity and volume after the first month",
        "decide with {partner} whether to extend the program",
        "complete the security review of the integration",
        "publish a joint announcement with {partner}",
    ),
    "community": (
        "recruit and onboard the ambassadors",
        "publish the event schedule",
        "host the first workshop",
        "run the hacker house and demo day",
        "translate the core documentation",
        "publish a season report with attendance numbers",
        "collect feedback from participants",
        "set up a shared calendar for local organisers",
    ),
}
MILESTONE_TIMINGS = (
    "",
    "",
    " by week {w}",
    " within {d} days of approval",
    " in month {m}",
    " before the end of {quarter}",
    " (week {w})",
    " no later than day {d}",
)

GENERIC_OPTION_SETS: tuple[tuple[str, ...], ...] = (
    ("For", "Against", "Abstain"),
    ("For", "Against", "Abstain"),
    ("Yes", "No", "Abstain"),
    ("Yes", "No"),
    ("Approve", "Reject"),
    ("Approve", "Reject", "Abstain"),
    ("In favour", "Against", "Abstain"),
    ("Support", "Oppose"),
    ("Aye", "Nay", "Abstain"),
)
FUNDING_OPTION_SETS: tuple[tuple[str, ...], ...] = (
    ("Yes, fund it", "No"),
    ("Yes, proceed", "No, keep the status quo"),
    ("Fund the full amount", "Fund the first milestone only", "Do not fund"),
)

# --------------------------------------------------------------------------------------------
# Filler: background paragraphs assembled from many small pieces
# --------------------------------------------------------------------------------------------

OPENERS = (
    "Over the past {n} months",
    "Since the last governance cycle",
    "Earlier this year",
    "Across the last {n} votes",
    "Looking at on-chain data from the past {w} weeks",
    "When this idea first came up on the forum",
    "In the most recent community call",
    "Since {dao} launched on {chain}",
    "Compared with the same period last year",
    "Over the last two quarters",
    "During the previous season",
    "As a few delegates pointed out in the temperature check",
    "Since the {quarter} report",
)
SUBJECTS = (
    "the number of active delegates",
    "protocol revenue",
    "the size of the contributor team",
    "forum activity",
    "the total value deposited",
    "the share of votes cast by the ten largest delegates",
    "support volume in the community chat",
    "the number of live integrations",
    "average voter turnout",
    "the treasury's runway",
    "the gas cost of a typical vote",
    "the number of open proposals",
    "onboarding of new holders",
    "trading volume on {chain}",
)
PREDICATES = (
    "has grown steadily",
    "has stayed roughly flat",
    "dropped noticeably",
    "became harder to track",
    "roughly doubled",
    "moved in the wrong direction",
    "has been more volatile than expected",
    "improved only slightly",
    "fell below what most of us expected",
    "kept climbing",
    "has been uneven from month to month",
)
TAILS = (
    "",
    "",
    ", and that shapes the plan below",
    ", which is part of why we are posting this now",
    " according to the public dashboards",
    " based on our own tracking",
    ", if the numbers on the analytics page are right",
    ", and several contributors raised it independently",
    ", though the picture differs by chain",
)
CONTEXT_SENTENCES = (
    "This proposal went through a temperature check on the forum and was revised after the "
    "feedback.",
    "We have tried to keep the scope narrow so that it can be judged on its own merits.",
    "A draft of this text was shared in the {dao} governance channel two weeks ago.",
    "Thanks to everyone who left comments on the earlier version.",
    "Numbers in this post are rounded and come from public dashboards.",
    "Nothing here changes the core contracts unless stated otherwise.",
    "The {committee} reviewed an earlier draft and suggested splitting the budget into milestones.",
    "Some of the feedback asked for a smaller first phase, which we have tried to reflect.",
    "We looked at how three other DAOs handled a similar question before writing this.",
    "The discussion thread has more detail for anyone who wants to dig in.",
    "A few delegates asked us to spell out what happens if the plan fails, so there is a section "
    "on that below.",
    "This post replaces the version from {quarter}, which never went to a vote.",
)
CATEGORY_BACKGROUND: dict[str, tuple[str, ...]] = {
    "grants": (
        "{dao} has funded {n} builder grants so far, and most of them shipped what they promised.",
        "The grants program was paused for a quarter while the {committee} rewrote its guidelines.",
        "Several of the tools delegates rely on today started as small grants.",
        "Most grant recipients so far have been teams of two to five people.",
        "Grant applications have to show a public repository and a named maintainer.",
    ),
    "treasury": (
        "The treasury holds the DAO's own token, some ETH and a few stablecoins.",
        "The {committee} publishes a treasury report every quarter, and the last one flagged "
        "concentration risk.",
        "Treasury assets sit in a Safe whose signers are elected by token holders.",
        "Contributor pay and service costs are the largest recurring expenses.",
        "The DAO has never had a written policy on how much of the treasury may be sold.",
    ),
    "governance": (
        "The governor contract has not been changed since it was deployed.",
        "Votes happen on-chain, with an off-chain signal vote used for early feedback.",
        "Delegation is widespread, but a handful of delegates hold most of the voting power.",
        "Most proposals in the last year were parameter changes and budget requests.",
        "The current rules were copied from another protocol's governor at launch.",
    ),
    "technical": (
        "The {component} was written before the protocol expanded to {chain}.",
        "Two independent firms reviewed the original contracts at launch.",
        "The contracts are upgradeable through the timelock, which governance controls.",
        "A monitoring service watches the contracts and alerts the {committee} about anything "
        "unusual.",
        "The test suite covers most of the {component}, but several edge cases are untested.",
    ),
    "partnerships": (
        "{partner} launched on {chain} last year and has grown quickly since.",
        "Both teams talked informally for several months before writing this proposal.",
        "{dao} has run two incentive campaigns alone, with mixed results.",
        "Integrations with other protocols bring in a small share of our deposits today.",
        "{partner} has completed similar integrations with two other protocols.",
    ),
    "community": (
        "The community has grown to several thousand members across chat and the forum.",
        "Past events were organised by volunteers on a shoestring budget.",
        "Earlier community programs were paid for out of the operations budget.",
        "Community calls happen every two weeks, mostly in a single time zone.",
        "Newcomers often find the forum before they find the docs.",
    ),
}
PRIOR_WORK = (
    "the first version of the rewards dashboard",
    "the migration scripts for the last upgrade",
    "the community translations of the docs",
    "an open-source wallet plugin",
    "the analytics behind last year's retro report",
    "the keeper bots that run liquidations",
    "the delegate onboarding guide",
)
TEAM_SENTENCES = (
    "{handle} has contributed to {dao} since {year} and led {prior}.",
    "{team} previously built {prior} for another protocol.",
    "The team is {n} people working part-time, with one full-time engineer.",
    "Everyone involved has a public track record on the forum and in code repositories.",
    "We are happy to do a call with any delegate who wants to know more.",
    "{handle2} will be the main point of contact for the {committee}.",
    "Two of us worked on {prior}, so we know the codebase well.",
    "Nobody on the team holds a seat on the {committee}, so there is no conflict of interest.",
)
RISKS = (
    "delivery slips by a few weeks",
    "usage stays low after launch",
    "market conditions change during execution",
    "the partner team changes priorities",
    "a critical bug is found late",
    "volunteers lose interest halfway through",
    "costs come in higher than quoted",
    "a dependency we rely on is deprecated",
)
RISK_LEADS = (
    "The main risk is that",
    "Another risk is that",
    "It is possible that",
    "We might find that",
    "There is a chance that",
    "In the worst case,",
)
MITIGATIONS = (
    "payments are tied to milestones, so the DAO only pays for delivered work",
    "the {committee} can pause the stream at any time",
    "we will publish progress every two weeks",
    "the multisig signers can stop execution with a simple majority",
    "unspent funds return to the treasury",
    "the scope was cut to what we are confident we can ship",
    "a second reviewer signs off each milestone",
)
ALTERNATIVES = (
    "doing nothing",
    "hiring a single contractor",
    "waiting until next quarter",
    "asking another DAO to co-fund the work",
    "building this in-house",
    "using an off-the-shelf service",
    "a smaller pilot first",
)
ALT_REASONS = (
    "that would leave the underlying problem unsolved",
    "the cost would be similar with less transparency",
    "the delay would cost more than the budget asked here",
    "nobody on the core team has capacity right now",
    "the existing services do not support our contracts",
    "a pilot would not tell us much at this scale",
)
FAQ = (
    ("Why not pay everything upfront?", "Milestone payments protect the treasury if plans change."),
    ("What happens to unused funds?", "They go back to the treasury when the work ends."),
    ("Who reviews progress?", "The {committee} checks each milestone before the next payment."),
    ("Is any of this proprietary?", "No, everything is published under an open licence."),
    ("Can the scope change later?", "Only through a follow-up proposal."),
    ("How will success be measured?", "We will report the metrics listed above every month."),
    ("Does this affect token holders directly?", "Not beyond the cost itself."),
    ("Why now?", "Waiting another quarter makes the problem more expensive to fix."),
    ("Has this been tried before?", "Not in this form, as far as we know."),
)
REPORT_FREQ = ("every two weeks", "monthly", "after each milestone", "at the end of each quarter")
REPORT_PLACE = (
    "the forum thread",
    "the governance channel",
    "the community call",
    "a public tracker",
    "the {committee} notes",
)
OUT_OF_SCOPE = (
    "Changes to token emissions are out of scope.",
    "This proposal does not touch the fee switch.",
    "Marketing spend is not part of this request.",
    "Hiring permanent staff is not part of this request.",
    "Deployments on other chains would need a separate vote.",
    "Any follow-up work would be proposed separately.",
)
FILLER_HEADINGS = {
    "background": ("Background", "Context", "Where we are today"),
    "team": ("Team", "About us", "Who we are"),
    "risks": ("Risks", "Risks and mitigations", "What could go wrong"),
    "alternatives": ("Alternatives considered", "Other options"),
    "faq": ("FAQ", "Questions we expect"),
    "reporting": ("Reporting", "Accountability", "Transparency"),
    "scope": ("Out of scope", "Scope"),
}

# --------------------------------------------------------------------------------------------
# Surface forms: headings, lead-ins, amount and recipient phrasings
# --------------------------------------------------------------------------------------------

HEADS = {
    "summary": ("Summary", "TL;DR", "Abstract", "Overview", "Simple Summary", "Proposal summary"),
    "motivation": (
        "Motivation",
        "Rationale",
        "Why",
        "Why this matters",
        "Problem statement",
        "Motivation and rationale",
    ),
    "budget": ("Budget", "Funding request", "Ask", "Requested funds", "Financials", "Cost"),
    "recipient": ("Recipient", "Payment details", "Receiving address", "Where the funds go"),
    "milestones": ("Milestones", "Deliverables", "Timeline", "Roadmap", "Milestones and payments"),
    "voting": ("Voting options", "Vote", "Options", "How to vote", "Voting"),
}
SUMMARY_LEADS = ("TL;DR: ", "In short: ", "Short version: ", "Quick summary: ", "", "", "")
MOTIVATION_LEADS = (
    "Why: ",
    "Why are we asking? ",
    "Some context on why. ",
    "The problem: ",
    "Why this matters: ",
    "",
    "",
)
GREETINGS = (
    "Hi everyone,",
    "gm {dao} community,",
    "Hello all,",
    "Hey delegates,",
    "Dear {dao} holders,",
    "Hi all, first proposal from our side, so feedback is welcome.",
)
SIGNOFFS = (
    "Thanks for reading!",
    "Looking forward to your feedback.",
    "Happy to answer questions below.",
    "Thanks,",
    "Cheers,",
    "Questions welcome in the thread.",
)
BULLET_LABELS = {
    "summary": ("Summary: ", "TL;DR: ", "What: ", "In short: "),
    "motivation": ("Why: ", "Motivation: ", "Rationale: ", "Problem: "),
    "amount": ("Ask: ", "Amount: ", "Budget: ", "Requested: "),
    "recipient": ("Recipient: ", "To: ", "Pay to: ", "Address: "),
    "milestones": ("Milestones: ", "Deliverables: ", "Plan: "),
    "voting": ("Vote: ", "Options: ", "Voting: "),
}


@dataclass
class Amount:
    """The requested amount and token of a proposal; ``None`` where deliberately missing."""

    value: Decimal | None
    surface: str | None
    token: str | None
    token_surface: str | None

    @property
    def stable(self) -> bool:
        return self.token in STABLES


@dataclass
class Spec:
    """Everything a proposal says, before it is rendered into text."""

    idx: int
    category: str
    subtopic: str
    ctx: dict[str, Any]
    title: str | None
    summary: str | None
    motivation: str | None
    amount: Amount
    recipient: str | None
    milestones: list[str]
    options: list[str]
    options_lettered: bool
    length: str
    style: str
    missing: set[str] = field(default_factory=set)


def fill(template: str, ctx: dict[str, Any]) -> str:
    return template.format_map(ctx)


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def parse_amount(surface: str) -> float:
    """Normalise an amount as written ("250,000", "250k", "1.5M", "40 000") to a float."""
    s = surface.replace(",", "").replace(" ", "")
    mult = Decimal(1)
    if s[-1] in "kK":
        mult, s = Decimal(1000), s[:-1]
    elif s[-1] in "mM":
        mult, s = Decimal(1_000_000), s[:-1]
    return float(Decimal(s) * mult)


def normalize_token(surface: str) -> str:
    return surface.upper()


def dec_str(value: Decimal) -> str:
    """Shortest plain decimal form ("250", "12.5"), never scientific notation."""
    text = format(value.normalize(), "f")
    return text


def render_amount(rng: random.Random, value: Decimal) -> str:
    """Write ``value`` in one of several human styles; parse_amount() inverts every one."""
    styles = ["plain"]
    integral = value == value.to_integral_value()
    if value >= 1000 and integral:
        styles += ["comma", "comma", "comma", "space"]
        if value % 100 == 0:
            styles += ["k", "k"]
    if value >= 500_000 and value % 10_000 == 0:
        styles += ["M", "M"]
    style = rng.choice(styles)
    if style == "comma":
        out = f"{int(value):,}"
    elif style == "space":
        out = f"{int(value):,}".replace(",", " ")
    elif style == "k":
        out = dec_str(value / 1000) + rng.choice(("k", "k", "K"))
    elif style == "M":
        out = dec_str(value / 1_000_000) + rng.choice(("M", "M", "m"))
    else:
        out = dec_str(value)
    assert Decimal(str(parse_amount(out))) == value, (out, value)
    return out


def gen_address(rng: random.Random) -> str:
    body = "".join(rng.choice(HEX) for _ in range(40))
    if rng.random() < 0.3:  # checksum-looking mixed case
        body = "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in body)
    return "0x" + body


# Amount value pools (Decimal strings), by kind of token.
def _range(lo: int, hi: int, step: int) -> tuple[str, ...]:
    return tuple(str(v) for v in range(lo, hi + 1, step))


VALUE_POOLS: dict[str, tuple[str, ...]] = {
    "stable_small": (*_range(5_000, 60_000, 2_500), "7500", "12500", "18400", "43750"),
    "stable_mid": (*_range(40_000, 600_000, 10_000), "62500", "87500", "137500"),
    "stable_big": (*_range(250_000, 5_000_000, 250_000), "1500000", "2000000"),
    "eth_small": ("2.5", "4", "6", "7.5", "10", "12.5", "15", "18", "20", "24", "32.5", "45"),
    "eth_mid": ("30", "45", "60", "75", "80", "120", "150", "240", "320"),
    "eth_big": ("150", "240", "300", "420", "500", "750", "1000", "1250", "1600", "2000"),
    "gov_mid": _range(20_000, 1_000_000, 20_000),
    "gov_big": _range(500_000, 5_000_000, 100_000),
}
# (token kind, weight, value pool) per category. Token kind "dao" means the DAO's own token.
TOKEN_PLAN: dict[str, tuple[tuple[str, float, str], ...]] = {
    "grants": (("stable", 0.6, "stable_mid"), ("dao", 0.25, "gov_mid"), ("l2", 0.15, "gov_mid")),
    "treasury": (("dao", 0.45, "gov_big"), ("eth", 0.25, "eth_big"), ("stable", 0.3, "stable_big")),
    "governance": (("stable", 0.7, "stable_small"), ("dao", 0.3, "gov_mid")),
    "technical": (
        ("stable", 0.75, "stable_mid"),
        ("eth", 0.15, "eth_mid"),
        ("dao", 0.1, "gov_mid"),
    ),
    "partnerships": (
        ("dao", 0.4, "gov_big"),
        ("l2", 0.3, "gov_mid"),
        ("stable", 0.3, "stable_mid"),
    ),
    "community": (
        ("stable", 0.65, "stable_small"),
        ("dao", 0.25, "gov_mid"),
        ("eth", 0.1, "eth_small"),
    ),
}


def weighted(rng: random.Random, items: Sequence[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in items)
    x = rng.random() * total
    for item, w in items:
        x -= w
        if x < 0:
            return item
    return items[-1][0]


def draw_amount(rng: random.Random, category: str, dao: Dao, missing: set[str]) -> Amount:
    kind, pool = weighted(rng, [((k, p), w) for k, w, p in TOKEN_PLAN[category]])
    if kind == "stable":
        token = rng.choice(STABLES)
    elif kind == "eth":
        token = rng.choice(("ETH", "ETH", "ETH", "WETH"))
    elif kind == "l2":
        token = rng.choice(("ARB", "OP"))
    else:
        token = dao.token
    if "token" in missing and pool.startswith("eth"):
        pool = "stable_mid"  # an amount with no token reads as dollars, not as 2.5 (ETH)
    value = Decimal(rng.choice(VALUE_POOLS[pool]))
    surface = render_amount(rng, value)
    token_surface = rng.choice(TOKEN_SURFACES.get(token, (token,)))
    amount = Amount(value, surface, token, token_surface)
    if "requested_amount" in missing:
        amount.value = amount.surface = None
    if "token" in missing:
        amount.token = amount.token_surface = None
    return amount


# --------------------------------------------------------------------------------------------
# Drawing a spec
# --------------------------------------------------------------------------------------------


def draw_missing(rng: random.Random) -> set[str]:
    first = weighted(
        rng,
        [
            ("recipient", 0.32),
            ("requested_amount", 0.16),
            ("amount_and_token", 0.14),
            ("token", 0.1),
            ("title", 0.16),
            ("summary", 0.12),
        ],
    )
    missing = {"requested_amount", "token"} if first == "amount_and_token" else {first}
    if rng.random() < 0.25:
        missing.add(rng.choice(("recipient", "title", "summary", "requested_amount")))
    return missing


def make_ctx(rng: random.Random, category: str, dao: Dao) -> dict[str, Any]:
    partner, feature, benefit = rng.choice(PARTNERS)
    chain = rng.choice(CHAINS)
    q_old = rng.choice((4, 5, 6, 8, 10))
    handles = rng.sample(HANDLES, 2)
    product = rng.choice(PRODUCTS)
    stable_asset = rng.choice(("USDC", "DAI", "stablecoins", "a mix of USDC and DAI", "ETH"))
    ctx: dict[str, Any] = {
        "dao": dao.name,
        "tok": dao.token,
        "team": rng.choice(TEAMS),
        "handle": handles[0],
        "handle2": handles[1],
        "product": product,
        "Product": cap(product),
        "partner": partner,
        "partner_feature": feature,
        "partner_benefit": benefit,
        "chain": chain,
        "city": rng.choice(CITIES),
        "region": rng.choice(REGIONS),
        "n": rng.randint(3, 9),
        "months": rng.choice((3, 4, 6, 6, 9, 12)),
        "days": rng.choice((5, 7, 10, 14)),
        "weeks": rng.choice((3, 4, 5, 6, 8)),
        "w": rng.randint(2, 12),
        "d": rng.choice((14, 21, 30, 45, 60, 90)),
        "m": rng.randint(1, 6),
        "pct": rng.choice((10, 15, 20, 25, 30, 40)),
        "pct_hi": rng.choice((85, 90, 95)),
        "pct_lo": rng.choice((50, 60, 70)),
        "q_old": q_old,
        "q_new": q_old - rng.choice((1, 2)),
        "d_old": rng.choice((3, 4, 5)),
        "tl": rng.choice((2, 3, 5, 7)),
        "tc": rng.choice((3, 5, 7)),
        "veto": rng.choice((2, 3, 5)),
        "ver": rng.choice((2, 3, 4)),
        "component": rng.choice(COMPONENTS),
        "auditor": rng.choice(AUDITORS),
        "season": rng.choice(("2", "3", "4", "5")),
        "quarter": rng.choice(("Q1", "Q2", "Q3", "Q4")),
        "year": rng.choice((2021, 2022, 2023)),
        "asset": stable_asset,
        "committee": COMMITTEES[category],
        "prior": rng.choice(PRIOR_WORK),
    }
    ctx["feature"] = fill(rng.choice(FEATURES), ctx)
    ctx["venue"] = fill(rng.choice(VENUES), ctx)
    return ctx


def draw_milestones(rng: random.Random, category: str, ctx: dict[str, Any], k: int) -> list[str]:
    """k milestones in pool order (roughly chronological), with increasing deadlines."""
    pool = MILESTONES[category]
    picks = [pool[i] for i in sorted(rng.sample(range(len(pool)), k))]
    weeks = sorted(rng.sample(range(2, 17), k))
    days = sorted(rng.sample((14, 21, 30, 45, 60, 75, 90, 120), k))
    months = sorted(rng.sample(range(1, 10), k))
    out = []
    for i, p in enumerate(picks):
        timing = rng.choice(MILESTONE_TIMINGS)
        local = {**ctx, "w": weeks[i], "d": days[i], "m": months[i]}
        out.append(fill(p + timing, local))
    return out


def draw_options(
    rng: random.Random, category: str, topic: Topic, ctx: dict[str, Any]
) -> tuple[list[str], bool]:
    r = rng.random()
    if topic.options and r < 0.3:
        return [fill(o, ctx) for o in rng.choice(topic.options)], True
    if r < 0.5 and category in ("grants", "community", "technical", "partnerships"):
        sets = FUNDING_OPTION_SETS
        if category == "grants":
            sets += (("Yes, fund {team}", "No, do not fund"),)
        return [fill(o, ctx) for o in rng.choice(sets)], rng.random() < 0.2
    return list(rng.choice(GENERIC_OPTION_SETS)), False


TITLE_SUFFIXES = (" (revised)", " ({quarter})", ", phase one", " (second draft)", " at {dao}")


def draw_title(rng: random.Random, topic: Topic, ctx: dict[str, Any]) -> str:
    title = rng.choice(topic.titles)
    if "{" not in title or rng.random() < 0.2:
        title += rng.choice(TITLE_SUFFIXES) if rng.random() < 0.6 else ""
    return fill(title, ctx)


def draw_spec(rng: random.Random, idx: int, category: str, length: str, missing: set[str]) -> Spec:
    dao = rng.choice(DAOS)
    subtopic = rng.choice(sorted(TOPICS[category]))
    topic = TOPICS[category][subtopic]
    ctx = make_ctx(rng, category, dao)
    if subtopic == "collateral":  # only a lending-style partner can list collateral
        name, feature, benefit = rng.choice([p for p in PARTNERS if p[1] in COLLATERAL_FEATURES])
        ctx.update(partner=name, partner_feature=feature, partner_benefit=benefit)
    ctx["dao_obj"] = dao
    style = weighted(
        rng,
        {
            "short": (("bullets", 0.55), ("prose", 0.3), ("markdown", 0.15)),
            "medium": (("markdown", 0.45), ("prose", 0.35), ("bullets", 0.2)),
            "long": (("markdown", 0.55), ("prose", 0.45)),
        }[length],
    )
    summary_parts = [fill(rng.choice(topic.summaries), ctx)]
    n_extra = rng.choice((0, 1, 1, 2)) if length != "short" else rng.choice((0, 0, 1))
    summary_parts += [fill(s, ctx) for s in rng.sample(SUMMARY_EXTRAS[category], n_extra)]
    motivation_pool = [fill(s, ctx) for s in topic.motivations + MOTIVATION_EXTRAS[category]]
    n_mot = rng.choice((1, 2, 2, 3)) if length != "short" else 1
    motivation: str | None = " ".join(rng.sample(motivation_pool, n_mot))
    if rng.random() < (0.18 if length == "short" else 0.1):
        motivation = None  # optional section left out (not an incomplete proposal)

    n_milestones = rng.choice((0, 2, 3, 3, 4, 5)) if length != "short" else rng.choice((0, 0, 2))
    milestones = draw_milestones(rng, category, ctx, n_milestones)
    options, lettered = draw_options(rng, category, topic, ctx)
    if rng.random() < 0.15:
        options, lettered = [], False

    return Spec(
        idx=idx,
        category=category,
        subtopic=subtopic,
        ctx=ctx,
        title=None if "title" in missing else draw_title(rng, topic, ctx),
        summary=None if "summary" in missing else " ".join(summary_parts),
        motivation=motivation,
        amount=draw_amount(rng, category, dao, missing),
        recipient=None if "recipient" in missing else gen_address(rng),
        milestones=milestones,
        options=options,
        options_lettered=lettered,
        length=length,
        style=style,
        missing=missing,
    )


# --------------------------------------------------------------------------------------------
# Rendering pieces
# --------------------------------------------------------------------------------------------


def amount_segs(rng: random.Random, spec: Spec, mode: str) -> list[Seg]:
    """The amount + token phrase; ``mode`` is "np" (inside a sentence) or "label" (after ':')."""
    a = spec.amount
    ctx = spec.ctx
    if a.surface is not None and a.token_surface is not None:
        A, T = tag("requested_amount", a.surface), tag("token", a.token_surface)
        forms: list[list[Seg]] = [[A, plain(" "), T], [A, plain(" "), T], [T, plain(" "), A]]
        if a.stable:
            forms += [[plain("$"), A, plain(" in "), T], [plain("$"), A, plain(" worth of "), T]]
        elif a.token not in ("ETH", "WETH"):
            forms += [[A, plain(" $"), T]]
        if mode == "np":
            forms += [
                [plain("a total of "), A, plain(" "), T],
                [plain("up to "), A, plain(" "), T],
                [A, plain(" "), T, plain(" in total")],
            ]
        else:
            forms += [
                [A, plain(" "), T, plain(" (total)")],
                [A, plain(" "), T, plain(f" over {ctx['months']} months")],
            ]
        return rng.choice(forms)
    if a.surface is not None:  # token missing
        A = tag("requested_amount", a.surface)
        if mode == "np":
            forms = [
                [plain("$"), A],
                [plain("$"), A, plain(" in stablecoins")],
                [plain("about $"), A],
                [A, plain(" (payment asset to be agreed with the treasury council)")],
            ]
        else:
            forms = [
                [plain("$"), A],
                [plain("$"), A, plain(" (payment asset to be agreed with the treasury council)")],
                [plain("US$"), A],
                [A, plain(", denomination to be decided")],
            ]
        return rng.choice(forms)
    if a.token_surface is not None:  # amount missing
        T = tag("token", a.token_surface)
        if mode == "np":
            forms = [
                [plain("a budget in "), T, plain(" that we will size after the scoping call")],
                [plain("funding in "), T, plain(" (final figure pending quotes)")],
                [plain("an amount of "), T, plain(" to be confirmed")],
            ]
        else:
            forms = [
                [plain("TBD, paid in "), T],
                [plain("to be confirmed ("), T, plain(")")],
                [T, plain(", amount pending final quotes")],
            ]
        return rng.choice(forms)
    if mode == "np":
        forms = [
            [plain("a budget that we will finalise after the temperature check")],
            [plain(f"funding, with the exact figure to be agreed with the {ctx['committee']}")],
            [plain("a budget we will confirm before the on-chain vote")],
        ]
    else:
        forms = [
            [plain("TBD")],
            [plain("to be confirmed after the temperature check")],
            [plain("will be added before the on-chain vote")],
        ]
    return rng.choice(forms)


def recipient_segs(rng: random.Random, spec: Spec) -> list[Seg] | None:
    """A stand-alone recipient line/sentence, or a 'to be shared later' line, or None."""
    if spec.recipient is None:
        if rng.random() < 0.5:
            return None
        return [
            plain(
                rng.choice(
                    (
                        "Recipient: TBD",
                        "Recipient address: to be shared before the vote.",
                        "The receiving multisig is still being set up.",
                        "Payment address will follow in the comments.",
                    )
                )
            )
        ]
    R = tag("recipient", spec.recipient)
    forms: list[list[Seg]] = [
        [plain("Recipient: "), R],
        [plain("Recipient address: `"), R, plain("`")],
        [plain("Funds should be sent to the team multisig at "), R, plain(".")],
        [plain("Payee: "), R],
        [plain("Multisig: "), R, plain(" (2-of-3 Safe)")],
        [plain("Receiving address: "), R],
        [plain("Please send the funds to "), R, plain(".")],
    ]
    if spec.category == "treasury":
        forms += [
            [plain("Execution contract: "), R],
            [plain("Strategy vault: "), R],
        ]
    return rng.choice(forms)


def ask_sentence(rng: random.Random, spec: Spec) -> tuple[list[Seg], bool]:
    """A prose sentence stating the ask. Returns (segments, recipient_included)."""
    amt = amount_segs(rng, spec, "np")
    if spec.recipient is not None and rng.random() < 0.6:
        R = tag("recipient", spec.recipient)
        if spec.category == "treasury":
            forms = [
                [plain("The council would swap "), *amt, plain(" through the contract at "), R],
                [plain("We propose allocating "), *amt, plain(" to the strategy vault "), R],
                [plain("In total this covers "), *amt, plain(", executed from "), R],
            ]
        else:
            forms = [
                [plain("We are requesting "), *amt, plain(", to be sent to "), R],
                [plain("The total ask is "), *amt, plain(", paid to our multisig at "), R],
                [plain("If approved, "), *amt, plain(" would be transferred to "), R],
                [plain("We ask the DAO for "), *amt, plain(" sent to "), R],
            ]
        return [*rng.choice(forms), plain(".")], True
    forms = [
        [plain("We are requesting "), *amt, plain(".")],
        [plain("The ask is "), *amt, plain(" for the whole scope.")],
        [plain("To make this happen we need "), *amt, plain(".")],
        [plain("Our budget request: "), *amount_segs(rng, spec, "label")],
    ]
    if spec.category == "treasury":
        forms += [[plain("The size of the operation is "), *amt, plain(".")]]
    return rng.choice(forms), False


def milestone_list(rng: random.Random, milestones: list[str], indent: str = "") -> Block:
    marker = rng.choice(("num", "paren", "dash", "star", "check", "label"))
    show_share = rng.random() < 0.25
    share = 100 // len(milestones)
    block: Block = []
    for i, m in enumerate(milestones, 1):
        prefix = {
            "num": f"{i}. ",
            "paren": f"{i}) ",
            "dash": "- ",
            "star": "* ",
            "check": "- [ ] ",
            "label": f"Milestone {i}: ",
        }[marker]
        block += [plain(("\n" if i > 1 else "") + indent + prefix), tag("milestones", cap(m))]
        if show_share:
            block.append(plain(f" ({share}% of funds)"))
    return block


def milestone_inline(rng: random.Random, milestones: list[str]) -> list[Seg]:
    M = [tag("milestones", m) for m in milestones]
    k = len(M)
    form = rng.choice(("semi", "plan", "steps", "breakdown"))
    if form == "semi":
        segs: list[Seg] = [plain("Milestones: ")]
        for i, m in enumerate(M):
            segs += [m, plain("; " if i < k - 1 else ".")]
        return segs
    if form == "breakdown":
        segs = [plain(f"The work breaks down into {k} milestones: ")]
        for i, m in enumerate(M):
            segs += [m, plain("; " if i < k - 1 else ".")]
        return segs
    if form == "plan":
        segs = [plain("We plan to "), M[0]]
        for m in M[1:-1]:
            segs += [plain(", then "), m]
        segs += [plain(", and finally " if k > 2 else " and then "), M[-1], plain(".")]
        return segs
    words = ("First we will ", "Next we will ", "After that we will ", "Then we will ")
    segs = []
    for i, m in enumerate(M):
        lead = words[min(i, 3)] if i < k - 1 or k == 1 else "Finally we will "
        segs += [plain((" " if i else "") + lead), m, plain(".")]
    return segs


LETTERS = "ABCDE"


def options_segs(
    rng: random.Random, spec: Spec, allow_list: bool, indent: str = ""
) -> tuple[list[Seg], str]:
    """Voting options as segments, and the form used: "lettered", "list", "slash" or "prose".

    "lettered" and "list" forms contain newlines; "prose" is a whole sentence of its own.
    """
    opts = [tag("voting_options", o) for o in spec.options]
    segs: list[Seg] = []
    if spec.options_lettered:
        form = rng.choice(("opt", "letter", "num"))
        for i, o in enumerate(opts):
            prefix = {
                "opt": f"Option {LETTERS[i]}: ",
                "letter": f"{LETTERS[i]}) ",
                "num": f"Option {i + 1} - ",
            }[form]
            segs += [plain(("\n" if i else "") + indent + prefix), o]
        return segs, "lettered"
    forms = ["slash", "list"] if allow_list else ["slash"]
    if not any("," in o for o in spec.options):
        forms += ["prose", "prose"]
    form = rng.choice(forms)
    if form == "list":
        for i, o in enumerate(opts):
            segs += [plain(("\n" if i else "") + indent + "- "), o]
    elif form == "slash":
        for i, o in enumerate(opts):
            segs += [plain(" / " if i else ""), o]
    else:
        lead = rng.choice(("Voters can choose ", "Options on the ballot: ", "You can vote "))
        segs.append(plain(lead))
        for i, o in enumerate(opts):
            if i:
                segs.append(plain(" or " if i == len(opts) - 1 else ", "))
            segs.append(o)
        segs.append(plain("."))
    return segs, form


def title_segs(rng: random.Random, spec: Spec) -> list[Seg]:
    dao: Dao = spec.ctx["dao_obj"]
    num = 10 + (spec.idx * 37) % 290
    T = tag("title", spec.title or "")
    if spec.style == "markdown":
        forms: list[list[Seg]] = [
            [plain("# "), T],
            [plain("# "), T],
            [plain(f"# [{dao.prefix}-{num}] "), T],
            [plain("## "), T],
            [plain(f"# {dao.prefix}-{num}: "), T],
            [plain("**"), T, plain("**")],
        ]
    elif spec.style == "prose":
        forms = [
            [plain("[Proposal] "), T],
            [plain("Title: "), T],
            [T],
            [plain("Proposal: "), T],
            [plain("[RFC] "), T],
            [plain(f"{dao.prefix}-{num} | "), T],
        ]
    else:
        forms = [[plain("Title: "), T], [T], [plain("Proposal - "), T], [plain("*"), T, plain("*")]]
    return rng.choice(forms)


# --------------------------------------------------------------------------------------------
# Filler
# --------------------------------------------------------------------------------------------


def filler_sentence(rng: random.Random, kind: str, spec: Spec, used: set[str]) -> str:
    ctx = spec.ctx
    if kind == "background":
        r = rng.random()
        if r < 0.35:
            opener = fill(rng.choice(OPENERS), ctx)
            subject = fill(rng.choice(SUBJECTS), ctx)
            if opener in used or subject in used:
                return ""
            used.update((opener, subject))
            return f"{opener}, {subject} {rng.choice(PREDICATES)}{rng.choice(TAILS)}."
        if r < 0.6:
            return fill(rng.choice(CATEGORY_BACKGROUND[spec.category]), ctx)
        if r < 0.85:
            return fill(rng.choice(CONTEXT_SENTENCES), ctx)
        return distractor_sentence(rng, spec, used)
    if kind == "team":
        return fill(rng.choice(TEAM_SENTENCES), ctx)
    if kind == "risks":
        risk, mitigation = rng.choice(RISKS), rng.choice(MITIGATIONS)
        if risk in used or mitigation in used:
            return ""
        used.update((risk, mitigation))
        lead = rng.choice(RISK_LEADS)
        if lead in used:
            return ""
        used.add(lead)
        return fill(f"{lead} {risk}; {mitigation}.", ctx)
    if kind == "alternatives":
        alt, reason = rng.choice(ALTERNATIVES), rng.choice(ALT_REASONS)
        if alt in used or reason in used:
            return ""
        used.update((alt, reason))
        lead = rng.choice(("We considered", "We also looked at", "One option was"))
        return f"{lead} {alt}, but {reason}."
    if kind == "faq":
        q, a = rng.choice(FAQ)
        return fill(f"Q: {q}\nA: {a}", ctx)
    if kind == "reporting":
        if "reporting" in used:
            return ""
        used.add("reporting")
        return fill(
            f"{rng.choice(('Updates', 'Progress reports', 'Short written updates'))} will be "
            f"posted {rng.choice(REPORT_FREQ)} in {rng.choice(REPORT_PLACE)}.",
            ctx,
        )
    return rng.choice(OUT_OF_SCOPE)


def distractor_sentence(rng: random.Random, spec: Spec, used: set[str]) -> str:
    """Background that mentions an unrelated amount or address (never a span); <= 2 a text."""
    ctx = spec.ctx
    n_used = sum(1 for u in used if u.startswith("distractor:"))
    form_idx = rng.randrange(5)
    if n_used >= 2 or f"distractor:{form_idx}" in used:
        return ""
    used.add(f"distractor:{form_idx}")
    value = Decimal(rng.choice(VALUE_POOLS["stable_small"] + VALUE_POOLS["gov_mid"][:10]))
    amt = f"{render_amount(rng, value)} {rng.choice(('USDC', 'DAI', ctx['tok']))}"
    forms = (
        f"For reference, the last comparable request was {amt}, and it was delivered on time.",
        f"Monthly operating costs are currently around {amt}.",
        f"The main treasury Safe ({gen_address(rng)}) is not affected by this proposal.",
        f"Last season the {ctx['committee']} spent {amt} on similar work.",
        f"Earlier rewards were streamed from {gen_address(rng)}, which is now empty.",
    )
    return forms[form_idx]


FILLER_SIZES = {
    "background": (3, 6),
    "team": (2, 4),
    "risks": (1, 3),
    "alternatives": (1, 2),
    "faq": (2, 3),
    "reporting": (1, 2),
    "scope": (1, 3),
}


def filler_paragraph(rng: random.Random, kind: str, spec: Spec, used: set[str]) -> str:
    n = rng.randint(*FILLER_SIZES[kind])
    sentences: list[str] = []
    tries = 0
    while len(sentences) < n and tries < 40:
        tries += 1
        s = filler_sentence(rng, kind, spec, used)
        if not s or s in used:
            continue
        used.add(s)
        sentences.append(s)
    return ("\n\n" if kind == "faq" else " ").join(sentences)


# --------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------


def block_words(blocks: list[Block]) -> int:
    return len("\n\n".join("".join(s for s, _ in b) for b in blocks).split())


def meta_block(rng: random.Random, spec: Spec) -> Block:
    ctx = spec.ctx
    dao: Dao = ctx["dao_obj"]
    candidates = [
        f"Author: @{ctx['handle']}",
        f"Authors: {ctx['team']} ({ctx['handle']}, {ctx['handle2']})",
        rng.choice(("Status: Draft", "Status: Temperature check", "Status: Ready for vote")),
        f"Discussion: https://forum.{dao.slug}.example/t/{100 + spec.idx * 7}",
        f"Created: 2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    ]
    lines = [candidates[rng.choice((0, 1))], *rng.sample(candidates[2:], rng.randint(1, 3))]
    return [plain("\n".join(lines))]


def amount_token_lines(rng: random.Random, spec: Spec, bullet: str = "- ") -> list[Seg]:
    """ "Amount: 250,000" and "Token: USDC" on separate lines (TBD where missing)."""
    a = spec.amount
    amount = tag("requested_amount", a.surface) if a.surface else plain("TBD")
    token = tag("token", a.token_surface) if a.token_surface else plain("TBD")
    lab_a = rng.choice(("Amount: ", "Amount requested: ", "Quantity: "))
    lab_t = rng.choice(("Token: ", "Asset: ", "Currency: "))
    return [plain(bullet + lab_a), amount, plain("\n" + bullet + lab_t), token]


FILLER_KINDS = ("team", "risks", "alternatives", "faq", "reporting", "scope")


def add_filler(
    rng: random.Random,
    spec: Spec,
    front: list[list[Block]],
    back: list[list[Block]],
    fixed: list[Block],
    make_section: Any,
    target: int,
    hi: int,
) -> None:
    """Insert filler sections into ``front``/``back`` until the text reaches ``target`` words.

    Background paragraphs go before or between the summary and motivation; the other kinds go
    among the later sections. A kind that already has a section gets another paragraph in it.
    """
    used: set[str] = set()
    kinds = ["background"] * rng.randint(1, 3) + rng.sample(FILLER_KINDS, len(FILLER_KINDS))
    kinds += ["background"] * 4
    sections: dict[str, list[Block]] = {}

    def words() -> int:
        return block_words(fixed + [b for s in front + back for b in s])

    for kind in kinds:
        if words() >= target:
            return
        para = filler_paragraph(rng, kind, spec, used)
        if not para:
            continue
        if kind in sections:
            sections[kind].append([plain(para)])
            if words() > hi:
                sections[kind].pop()
            continue
        sec = make_section(kind, para)
        where = front if kind == "background" else back
        lo_pos = 0 if kind == "background" or not back else 1
        where.insert(rng.randint(lo_pos, len(where)), sec)
        if words() > hi:
            where.remove(sec)
        else:
            sections[kind] = sec


def render_markdown(rng: random.Random, spec: Spec) -> list[Block]:
    head_style = rng.choice(("h2", "h2", "h3", "bold"))

    def sec(key: str, body: list[Seg], multiline: bool = False, label: str = "") -> list[Block]:
        label = label or rng.choice(HEADS[key])
        if head_style == "bold":
            if not multiline and rng.random() < 0.7:
                return [[plain(f"**{label}:** "), *body]]
            return [[plain(f"**{label}**\n"), *body]]
        hashes = "##" if head_style == "h2" else "###"
        return [[plain(f"{hashes} {label}")], list(body)]

    def filler_sec(kind: str, para: str) -> list[Block]:
        label = rng.choice(FILLER_HEADINGS[kind])
        return sec(kind, [plain(para)], multiline="\n" in para, label=label)

    pre: list[Block] = []
    if spec.title is not None:
        pre.append(title_segs(rng, spec))
    if rng.random() < 0.35:
        pre.append(meta_block(rng, spec))

    front: list[list[Block]] = []
    if spec.summary is not None:
        front.append(sec("summary", [tag("summary", spec.summary)]))
    if spec.motivation is not None:
        front.append(sec("motivation", [tag("motivation", spec.motivation)]))
    if len(front) == 2 and rng.random() < 0.2:
        front.reverse()

    back: list[list[Block]] = []
    rec = recipient_segs(rng, spec)
    r = rng.random()
    if r < 0.4:
        lead = rng.choice(("Requested amount: ", "Amount: ", "Total: ", "Budget: ", ""))
        if head_style == "bold":
            lead = ""
        body = [plain(lead), *amount_segs(rng, spec, "label")]
        multiline = False
        if rec is not None and rng.random() < 0.6:
            body += [plain("\n"), *rec]
            rec, multiline = None, True
        back.append(sec("budget", body, multiline=multiline))
    elif r < 0.8:
        sentence, included = ask_sentence(rng, spec)
        if included:
            rec = None
        back.append(sec("budget", sentence))
    else:
        back.append(sec("budget", amount_token_lines(rng, spec), multiline=True))
    if rec is not None:
        back.append(sec("recipient", rec))
    if spec.milestones:
        if rng.random() < 0.7:
            back.append(sec("milestones", milestone_list(rng, spec.milestones), multiline=True))
        else:
            back.append(sec("milestones", milestone_inline(rng, spec.milestones)))
    if spec.options:
        segs, form = options_segs(rng, spec, allow_list=True)
        back.append(sec("voting", segs, multiline=form in ("list", "lettered")))
    if rng.random() < 0.35:
        rng.shuffle(back)

    tail: list[Block] = []
    if rng.random() < 0.3:
        tail.append([plain(fill(rng.choice(SIGNOFFS), spec.ctx))])
    hi = WORD_BANDS[spec.length][1]
    if spec.length == "long":
        add_filler(rng, spec, front, back, pre + tail, filler_sec, rng.randint(540, 860), hi)
    elif spec.length == "medium" and rng.random() < 0.4:
        kind = rng.choice(("background", "reporting", "risks", "team"))
        para = filler_paragraph(rng, kind, spec, set())
        back.insert(rng.randint(0, len(back)), filler_sec(kind, para))
    return pre + [b for s in front + back for b in s] + tail


def render_prose(rng: random.Random, spec: Spec) -> list[Block]:
    ctx = spec.ctx
    pre: list[Block] = []
    if spec.title is not None:
        pre.append(title_segs(rng, spec))
    if rng.random() < 0.6:
        pre.append([plain(fill(rng.choice(GREETINGS), ctx))])

    front: list[list[Block]] = []
    if spec.summary is not None:
        front.append([[plain(rng.choice(SUMMARY_LEADS)), tag("summary", spec.summary)]])
    if spec.motivation is not None:
        front.append([[plain(rng.choice(MOTIVATION_LEADS)), tag("motivation", spec.motivation)]])
    if len(front) == 2 and rng.random() < 0.25:
        front.reverse()

    back: list[list[Block]] = []
    sentence, included = ask_sentence(rng, spec)
    ask: Block = list(sentence)
    if not included:
        rec = recipient_segs(rng, spec)
        if rec is not None:
            if rng.random() < 0.5:
                ask += [plain(" "), *rec]
            else:
                back.append([rec])
    back.insert(0, [ask])
    if spec.milestones:
        if rng.random() < 0.6:
            back.append([milestone_inline(rng, spec.milestones)])
        else:
            lead = rng.choice(("Milestones:", "Planned milestones:", "Deliverables:"))
            back.append([[plain(lead + "\n"), *milestone_list(rng, spec.milestones)]])
    if len(back) > 1 and rng.random() < 0.3:
        rng.shuffle(back)
    if spec.options:
        segs, form = options_segs(rng, spec, allow_list=True)
        if form == "prose":
            back.append([segs])
        elif form == "slash":
            lead = rng.choice(
                ("Voting options: ", "On Snapshot the options will be ", "The vote will offer ")
            )
            back.append([[plain(lead), *segs]])
        else:
            lead = rng.choice(("The options will be:", "Voting options:", "Ballot:"))
            back.append([[plain(lead + "\n"), *segs]])

    tail: list[Block] = []
    if rng.random() < 0.6:
        sign = fill(rng.choice(SIGNOFFS), ctx)
        if rng.random() < 0.6:
            sign += "\n" + rng.choice(("", "- ", "— ")) + rng.choice((ctx["handle"], ctx["team"]))
        tail.append([plain(sign)])

    def filler_par(kind: str, para: str) -> list[Block]:
        if kind == "faq":
            para = "A few questions we expect:\n\n" + para
        return [[plain(para)]]

    hi = WORD_BANDS[spec.length][1]
    if spec.length == "long":
        add_filler(rng, spec, front, back, pre + tail, filler_par, rng.randint(540, 860), hi)
    elif spec.length == "medium" and rng.random() < 0.4:
        kind = rng.choice(("background", "reporting", "risks", "team"))
        para = filler_paragraph(rng, kind, spec, set())
        front.insert(rng.randint(0, len(front)), filler_par(kind, para))
    return pre + [b for s in front + back for b in s] + tail


def recipient_bullet(rng: random.Random, spec: Spec) -> list[Seg] | None:
    label = plain(rng.choice(BULLET_LABELS["recipient"]))
    if spec.recipient is None:
        if rng.random() < 0.5:
            return None
        return [label, plain(rng.choice(("TBD", "to follow", "multisig being set up")))]
    R = tag("recipient", spec.recipient)
    return rng.choice(
        ([label, R], [label, R], [label, plain("`"), R, plain("`")], [label, R, plain(" (Safe)")])
    )


def render_bullets(rng: random.Random, spec: Spec) -> list[Block]:
    bullet = rng.choice(("- ", "- ", "* ", "• "))
    items: list[list[Seg]] = []
    if spec.summary is not None:
        items.append([plain(rng.choice(BULLET_LABELS["summary"])), tag("summary", spec.summary)])
    if spec.motivation is not None:
        lab = rng.choice(BULLET_LABELS["motivation"])
        items.append([plain(lab), tag("motivation", spec.motivation)])
    if len(items) == 2 and rng.random() < 0.2:
        items.reverse()
    rest: list[list[Seg]] = []
    rec = recipient_bullet(rng, spec)
    if rng.random() < 0.75:
        amt = [plain(rng.choice(BULLET_LABELS["amount"])), *amount_segs(rng, spec, "label")]
        if spec.recipient is not None and rng.random() < 0.3:
            amt += [plain(rng.choice((" to ", " -> ", " → "))), tag("recipient", spec.recipient)]
            rec = None
        rest.append(amt)
    else:
        lines = amount_token_lines(rng, spec, bullet="")
        rest.append(lines[:2])
        rest.append([plain(lines[2][0].lstrip("\n")), lines[3]])
    if rec is not None:
        rest.append(rec)
    if spec.milestones:
        lab = rng.choice(BULLET_LABELS["milestones"])
        if rng.random() < 0.5:
            segs = milestone_inline(rng, spec.milestones)
            if segs[0][1] is None and segs[0][0] == "Milestones: ":
                segs = segs[1:]
            rest.append([plain(lab), *segs])
        else:
            rest.append([plain(lab.rstrip() + "\n"), *milestone_list(rng, spec.milestones, "  ")])
    if spec.options:
        segs, form = options_segs(rng, spec, allow_list=False, indent="  ")
        if form == "lettered":
            rest.append([plain(rng.choice(BULLET_LABELS["voting"]).rstrip() + "\n"), *segs])
        elif form == "prose":
            rest.append(segs)
        else:
            rest.append([plain(rng.choice(BULLET_LABELS["voting"])), *segs])
    if rng.random() < 0.4:
        rng.shuffle(rest)
    items += rest
    if spec.length != "short" and rng.random() < 0.5:
        items.append([plain("Notes: " + filler_paragraph(rng, "background", spec, set()))])
    body: Block = []
    for i, item in enumerate(items):
        body += [plain(("\n" if i else "") + bullet), *item]
    blocks: list[Block] = []
    if spec.title is not None:
        blocks.append(title_segs(rng, spec))
    blocks.append(body)
    if rng.random() < 0.3:
        blocks.append([plain(fill(rng.choice(SIGNOFFS), spec.ctx))])
    return blocks


RENDERERS = {"markdown": render_markdown, "prose": render_prose, "bullets": render_bullets}


# --------------------------------------------------------------------------------------------
# Assembly, checks and output
# --------------------------------------------------------------------------------------------


def assemble(blocks: list[Block]) -> tuple[str, dict[str, list[list[int]]]]:
    """Concatenate blocks (joined by blank lines), recording each tagged segment's offsets."""
    parts: list[str] = []
    spans: dict[str, list[list[int]]] = {f: [] for f in SPAN_FIELDS}
    pos = 0
    for bi, block in enumerate(blocks):
        if bi:
            parts.append("\n\n")
            pos += 2
        for text, name in block:
            if name is not None:
                spans[name].append([pos, pos + len(text)])
            parts.append(text)
            pos += len(text)
    return "".join(parts), spans


def check_spans(text: str, spans: dict[str, list[list[int]]]) -> None:
    """Spans are in bounds, non-empty, stripped, non-overlapping; scalar fields have <= 1."""
    flat = sorted((s, e, name) for name, ss in spans.items() for s, e in ss)
    prev_end = 0
    for s, e, name in flat:
        assert 0 <= s < e <= len(text), (name, s, e)
        surface = text[s:e]
        assert surface.strip() and surface == surface.strip(), (name, surface)
        assert s >= prev_end, f"span {name} {s}:{e} overlaps the previous span"
        prev_end = e
    for name in SCALAR_FIELDS:
        assert len(spans[name]) <= 1, name


def derive_output(text: str, spans: dict[str, list[list[int]]], spec: Spec) -> dict[str, Any]:
    def one(name: str) -> str | None:
        return text[spans[name][0][0] : spans[name][0][1]] if spans[name] else None

    amount, token = one("requested_amount"), one("token")
    out: dict[str, Any] = {
        "title": one("title"),
        "summary": one("summary"),
        "motivation": one("motivation"),
        "requested_amount": parse_amount(amount) if amount is not None else None,
        "token": normalize_token(token) if token is not None else None,
        "recipient": one("recipient"),
        "milestones": [text[s:e].strip() for s, e in spans["milestones"]],
        "voting_options": [text[s:e].strip() for s, e in spans["voting_options"]],
        "category": spec.category,
    }
    # Cross-check the text against the spec it was rendered from.
    assert out["title"] == spec.title
    assert out["summary"] == spec.summary
    assert out["motivation"] == spec.motivation
    assert out["recipient"] == spec.recipient
    assert out["token"] == spec.amount.token
    value = spec.amount.value
    assert out["requested_amount"] == (float(value) if value is not None else None)
    assert [m.lower() for m in out["milestones"]] == [m.lower() for m in spec.milestones]
    assert out["voting_options"] == spec.options
    nulls = {name for name in REQUIRED_SPAN_FIELDS if out[name] is None}
    assert nulls == spec.missing, (nulls, spec.missing)
    return out


def build_row(rng: random.Random, idx: int, category: str, length: str, missing: set[str]):
    lo, hi = WORD_BANDS[length]
    for _ in range(500):
        spec = draw_spec(rng, idx, category, length, set(missing))
        text, spans = assemble(RENDERERS[spec.style](rng, spec))
        if lo <= len(text.split()) <= hi:
            break
    else:  # pragma: no cover - the pools make this practically impossible
        raise RuntimeError(f"could not render proposal {idx} within {lo}-{hi} words")
    check_spans(text, spans)
    output = derive_output(text, spans, spec)
    return {"id": f"prop-{idx:04d}", "text": text, "output": output, "spans": spans}


def generate(seed: int = SEED, n: int = N_PROPOSALS) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    categories = [CATEGORIES[i % len(CATEGORIES)] for i in range(n)]
    rng.shuffle(categories)
    n_short = round(n * LENGTH_WEIGHTS[0][1])
    n_long = round(n * LENGTH_WEIGHTS[2][1])
    lengths = ["short"] * n_short + ["long"] * n_long + ["medium"] * (n - n_short - n_long)
    rng.shuffle(lengths)
    incomplete = set(rng.sample(range(n), round(n * INCOMPLETE_RATE)))
    rows = []
    for i in range(n):
        missing = draw_missing(rng) if i in incomplete else set()
        rows.append(build_row(rng, i + 1, categories[i], lengths[i], missing))
    return rows


def write_jsonl(rows: list[dict[str, Any]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def describe(rows: list[dict[str, Any]]) -> str:
    cats = Counter(r["output"]["category"] for r in rows)
    incomplete = sum(any(r["output"][f] is None for f in REQUIRED_SPAN_FIELDS) for r in rows)
    long_rows = sum(len(r["text"]) > 2500 for r in rows)
    words = sorted(len(r["text"].split()) for r in rows)
    return (
        f"{len(rows)} proposals, {incomplete} incomplete, {long_rows} longer than 2,500 chars; "
        f"words min/median/max {words[0]}/{words[len(words) // 2]}/{words[-1]}; "
        + ", ".join(f"{c}={cats[c]}" for c in CATEGORIES)
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSONL")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    rows = generate(args.seed)
    write_jsonl(rows, args.out)
    print(f"wrote {args.out}: {describe(rows)}")


if __name__ == "__main__":
    main()
