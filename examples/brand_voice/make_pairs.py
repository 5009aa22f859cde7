"""Generate the brand-voice rewriting dataset (``pairs.jsonl``) and its style-judge CSV.

Each pair turns a terse engineering note (jargon, abbreviations, sometimes a pasted log line)
about a fictional self-custody wallet into plain help text in one house style::

    <short headline sentence in plain words, ending with a period>

    What this means for you: <one or two sentences>

    What to do: <one sentence>

House rules: second person, calm, no exclamation marks, no emoji, and no engineering jargon
(the words in ``JARGON`` never appear in an approved text; they are explained or avoided).

``style.csv`` holds the same kind of content twice, once in the house style (``approved``) and
once off-brand (``unapproved``: jargon-heavy, shouty, emoji, slang, exclamation marks, or a
near miss that keeps the layout but breaks one rule). It trains a style-judge classifier.

Both files are committed; this script reproduces them byte for byte::

    python examples/brand_voice/make_pairs.py

Every fragment below was written by hand for this example. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

SEED = 2718
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "pairs.jsonl"
DEFAULT_STYLE_OUT = HERE / "style.csv"
PER_TOPIC = 9
STYLE_PER_LABEL = 170

MEANS_LABEL = "What this means for you:"
TODO_LABEL = "What to do:"

# Engineering terms that never appear (as whole words) in an approved text.
JARGON = (
    "RPC",
    "mempool",
    "reorg",
    "finality",
    "finalized",
    "CID",
    "nonce",
    "IPFS",
    "gwei",
    "EVM",
    "epoch",
    "checkpoint",
    "attestation",
    "attestations",
    "relayer",
    "websocket",
    "oracle",
    "indexer",
    "endpoint",
    "endpoints",
    "p95",
    "429",
    "failover",
    "RPS",
    "API",
    "hard fork",
    "hardfork",
    "EIP",
    "slashed",
    "node",
    "nodes",
    "ASAP",
    "lol",
    "chainId",
    "baseFee",
    "TTL",
    "LB",
    "infra",
    "deprecated",
    "ETA",
    "tx",
    "txs",
    "msgs",
    "ws",
    "5xx",
    "backfill",
    "latency",
    "hotfix",
    "sequencer",
    "validator",
    "validators",
    "upstream",
    "postmortem",
    "FoT",
    "conns",
    "gw",
)

# --------------------------------------------------------------------------------------------
# Slot values (engineer spelling, plain spelling)
# --------------------------------------------------------------------------------------------

REGIONS = (
    ("eu-west-1", "western Europe"),
    ("us-east-1", "the eastern United States"),
    ("ap-southeast-1", "Southeast Asia"),
    ("eu-central-1", "central Europe"),
    ("us-west-2", "the western United States"),
    ("ap-northeast-1", "East Asia"),
    ("sa-east-1", "South America"),
)
CHAINS = (
    ("eth mainnet", "Ethereum"),
    ("arb1", "Arbitrum"),
    ("op mainnet", "Optimism"),
    ("polygon pos", "Polygon"),
    ("base", "Base"),
    ("avax c-chain", "Avalanche"),
    ("bsc", "BNB Chain"),
)
TOKENS = ("PEBL", "MOSS", "KRILL", "ORBT", "LUMA", "TIDE", "USDC", "DAI")
EVENTS = ("Salt Monks", "Neon Foxes", "Paper Cranes", "Quiet Lanterns", "Tidepool Kids")
DEVICES = ("Tessera X", "Cobalt One", "Northkey Pro", "Ridgeline S")
MONTHS = ("March", "April", "May", "June", "July", "September", "October", "November")
MONTH_NUM = {
    "March": 3,
    "April": 4,
    "May": 5,
    "June": 6,
    "July": 7,
    "September": 9,
    "October": 10,
    "November": 11,
}

# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    key: str
    notes: tuple[str, ...]  # engineer voice; may contain "\n" before a log line
    headlines: tuple[str, ...]
    means: tuple[str, ...]  # first sentence
    means2: tuple[str, ...]  # optional second sentence
    todo: tuple[str, ...]  # exactly one sentence
    jargon: tuple[str, ...]  # off-brand sentences for style.csv


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="rpc_outage",
        notes=(
            "RPC {region_code} down, LB health checks failing since {t0}Z. failover to backup "
            "region in progress",
            "rpc-gw {region_code}: upstream timeouts, 5xx rate ~{pct}%. investigating\n"
            "[ERR] {t0}:14 rpc-gw upstream_timeout=5000ms region={region_code}",
            "sev2: {region_code} rpc cluster unhealthy from {t0} UTC, clients seeing "
            "getBalance/eth_call failures",
            "{region_code} RPC nodes OOM-looping since {t0}Z, traffic partially drained",
        ),
        headlines=(
            "Some people in {region} cannot load their wallet right now.",
            "The app is having trouble loading for some people in {region}.",
            "Balances may not load for some people in {region}.",
        ),
        means=(
            "Since {t0} UTC, you may see loading errors or out-of-date balances if you are in "
            "or near {region}.",
            "If you are in {region}, the app may show errors or old balances since about {t0} UTC.",
            "From {t0} UTC, opening your wallet in {region} may fail or show older numbers.",
        ),
        means2=(
            "Your funds are safe and nothing has been lost.",
            "This affects what you see, not what you own.",
            "We are moving traffic to other servers to fix it.",
        ),
        todo=(
            "If the app will not load, wait a few minutes and try again.",
            "Please hold off on new transfers until balances load normally again.",
            "Try again in a little while; we will post an update on this page within the hour.",
        ),
        jargon=(
            "RPC cluster in {region_code} is down, LB health checks failing since {t0}Z.",
            "Seeing 5xx on getBalance and eth_call, failover in progress.",
            "Clients may get stale state from the fallback nodes.",
        ),
    ),
    Topic(
        key="rpc_resolved",
        notes=(
            "resolved: {region_code} rpc restored {t1}Z after rollback of gw config. incident "
            "window {t0}-{t1}Z",
            "{region_code} gw healthy again ({t1} UTC) after 5xx from {t0}. root cause bad deploy, "
            "rolled back. postmortem tbd",
            "all clear on {region_code} RPC as of {t1}Z (degraded since {t0}Z), error rate back "
            "to baseline",
        ),
        headlines=(
            "The loading problem in {region} is fixed.",
            "Wallets in {region} are loading normally again.",
            "The earlier issue for people in {region} has been resolved.",
        ),
        means=(
            "Between {t0} and {t1} UTC, you may have seen errors or old balances in {region}.",
            "If you are in {region}, the app may have failed to load between {t0} and {t1} UTC.",
            "From {t0} to {t1} UTC, some balances in {region} did not load or showed older "
            "numbers.",
        ),
        means2=(
            "Your funds were never at risk.",
            "Everything is back to normal now and no funds were affected.",
            "",
        ),
        todo=(
            "If something still looks wrong, close the app fully and open it again.",
            "You do not need to do anything, but a refresh will show your latest balance.",
            "If a transfer you sent in that window is missing, contact support before sending it "
            "again.",
        ),
        jargon=(
            "{region_code} RPC restored at {t1}Z after gw config rollback.",
            "Error rate back to baseline, postmortem to follow.",
        ),
    ),
    Topic(
        key="rate_limit",
        notes=(
            "public RPC returning 429 for free-tier keys above {rps} rps, limiter tightened after "
            "abuse",
            "rate limiter change: free tier capped at {rps} req/s per key, burst removed. expect "
            "429s for heavy clients",
            "[WARN] rpc-gw key_tier=free status=429 rps={rps2} limit={rps}\nlimits enforced "
            "from {t0}Z",
        ),
        headlines=(
            "Free developer access now has a lower request limit.",
            "Busy apps on our free plan may be asked to slow down.",
            "We have lowered how often free-plan apps can contact us.",
        ),
        means=(
            "If your app sends more than {rps} requests a second on the free plan, some of them "
            "will be turned away.",
            "Apps on the free plan can now make up to {rps} requests a second, and extra "
            "requests will fail.",
            "If you build on our free plan, your app is limited to {rps} requests a second from "
            "today.",
        ),
        means2=(
            "We made this change to keep the service fast for everyone.",
            "Paid plans are not affected.",
            "",
        ),
        todo=(
            "Spread your requests out over time or move to a paid plan for a higher limit.",
            "Add a short pause and retry when a request is turned away.",
            "Check your usage on the developer dashboard and upgrade if you need more.",
        ),
        jargon=(
            "Free-tier keys now get 429s above {rps} rps.",
            "Limiter tightened after abuse, burst removed.",
            "Add exponential backoff on 429.",
        ),
    ),
    Topic(
        key="ipfs_pinning",
        notes=(
            "pinning svc backlog ~{n}k jobs, new mints not pinned, CIDs 404 on gateway for "
            "~{hours}h",
            "IPFS pin queue stuck since {t0}Z. NFT metadata for fresh mints unresolvable via our "
            "gateway",
            "gateway returns 404 for new CIDs (pin lag). ETA to drain {hours}h\n"
            "[WARN] pinner queue_depth={n}012 oldest_job_age=3h12m",
        ),
        headlines=(
            "Some new NFT images are not showing yet.",
            "Pictures for recently created NFTs may be missing.",
            "New collectibles may show a blank image for now.",
        ),
        means=(
            "Images for NFTs created in the last {hours} hours may appear as blank squares in "
            "your gallery.",
            "If you minted or received a new NFT recently, its picture may not load yet.",
            "Your newest collectibles may show a grey box instead of their picture for a few "
            "hours.",
        ),
        means2=(
            "The NFTs themselves are safe in your wallet.",
            "Only the picture is delayed; you still own the item.",
            "",
        ),
        todo=(
            "Check back in a few hours, as the images will appear once our storage catches up.",
            "You do not need to do anything; the pictures will load on their own.",
            "If an image is still missing tomorrow, tap the item and choose Refresh Metadata.",
        ),
        jargon=(
            "IPFS pinning backlog, CIDs for new mints 404 on our gateway.",
            "Metadata unresolvable until the pin queue drains.",
            "ETA {hours}h.",
        ),
    ),
    Topic(
        key="ipfs_gateway_slow",
        notes=(
            "ipfs gateway p95 latency {secs}s (normal <1s), thumbnails timing out",
            "gw cache miss storm after purge, ipfs fetches slow, image TTL misconfigured",
            "NFT media via gateway slow, p95 {secs}s, retries hammering origin",
        ),
        headlines=(
            "NFT pictures are loading slowly.",
            "Your gallery may take longer than usual to load.",
            "Collectible images are slow to appear right now.",
        ),
        means=(
            "Pictures in your gallery may take up to {secs} seconds to appear or may not load on "
            "the first try.",
            "You may see placeholders in your gallery for a while before the pictures appear.",
        ),
        means2=(
            "Nothing about your NFTs has changed.",
            "We are working on speeding this up.",
            "",
        ),
        todo=(
            "Give the gallery a moment, or pull down to refresh it.",
            "If a picture does not appear, leave the page and come back in a few minutes.",
        ),
        jargon=(
            "IPFS gateway p95 is {secs}s, thumbnails timing out.",
            "Cache purge caused a miss storm, TTL misconfigured.",
        ),
    ),
    Topic(
        key="gas_spike",
        notes=(
            "L1 baseFee spiked to {gwei} gwei due to {event} mint, mempool congested",
            "gas {gwei}+ gwei on mainnet, mint frenzy ({event}). fee estimator maxing out",
            "[INFO] feeoracle chain=1 baseFee={gwei}gwei priority=4gwei\ncongestion from "
            "{event} drop",
        ),
        headlines=(
            "Network fees on Ethereum are very high right now.",
            "Sending on Ethereum costs more than usual at the moment.",
            "Ethereum is very busy and fees have gone up.",
        ),
        means=(
            "A popular NFT launch is causing heavy traffic, so sending or swapping costs more "
            "than usual.",
            "Fees on Ethereum are several times higher than normal because of a busy NFT launch.",
            "Transfers and swaps on Ethereum may cost much more than you are used to and take "
            "longer.",
        ),
        means2=(
            "These fees go to the network, not to us.",
            "Your funds are not affected.",
            "",
        ),
        todo=(
            "If your transfer can wait, try again in a few hours when fees usually drop.",
            "Choose the Slow fee option if you are not in a hurry.",
            "Check the fee on the confirm screen before you approve anything.",
        ),
        jargon=(
            "baseFee at {gwei} gwei, mempool is congested from the {event} mint.",
            "Fee estimator maxing out, expect underpriced txs to stick.",
        ),
    ),
    Topic(
        key="node_sync_lag",
        notes=(
            "{chain_code} nodes {n} blocks behind head after client upgrade, balances stale",
            "indexer lag on {chain_code}: head-{n}. resync in progress, ETA {mins}m",
            "[WARN] sync chain={chain_code} local_head=lagging behind={n} peers=11\nbalances "
            "served from stale state",
        ),
        headlines=(
            "Balances on {chain} may be a few minutes out of date.",
            "Recent {chain} activity may not show yet.",
            "Your {chain} balance may be running behind.",
        ),
        means=(
            "Our systems are catching up with the {chain} network, so transfers from the last "
            "few minutes may not appear yet.",
            "Recent {chain} transfers may be missing from your activity list for a short time.",
            "You may see an older {chain} balance while our systems catch up.",
        ),
        means2=(
            "Nothing is lost, and they will show once we are up to date.",
            "Your funds are safe.",
            "",
        ),
        todo=(
            "Wait about {mins} minutes before checking again.",
            "Please do not resend a transfer just because it is not listed yet.",
            "Refresh your activity list in {mins} minutes.",
        ),
        jargon=(
            "{chain_code} nodes are {n} blocks behind head, balances served from stale state.",
            "Resync in progress, ETA {mins}m.",
        ),
    ),
    Topic(
        key="finality_delay",
        notes=(
            "{chain_code} finality delayed, checkpoints not finalizing for {n} epochs; deposits "
            "held until finalized",
            "finality stall on {chain_code}, credit policy requires finalized blocks so "
            "deposits queue",
            "deposits pending: waiting on finality ({chain_code}), participation dropped to {pct}%",
        ),
        headlines=(
            "Deposits from {chain} are taking longer to arrive.",
            "{chain} deposits are being credited more slowly than usual.",
            "Money sent in from {chain} is delayed.",
        ),
        means=(
            "For your safety we wait until a transfer is fully settled on {chain}, and that is "
            "taking longer than normal today.",
            "We only credit a deposit once {chain} has fully settled it, and settling is slow "
            "right now.",
        ),
        means2=(
            "Your deposit is not lost.",
            "It will appear automatically once it is settled.",
            "",
        ),
        todo=(
            "You do not need to do anything; your deposit will be credited automatically.",
            "Please do not send the deposit a second time.",
        ),
        jargon=(
            "Finality stalled on {chain_code}, checkpoints not finalizing.",
            "Deposits are held until finalized, participation at {pct}%.",
        ),
    ),
    Topic(
        key="reorg",
        notes=(
            "{depth}-block reorg on {chain_code} at ~{t0}Z, {n} user txs dropped and re-included",
            "reorg depth {depth} on {chain_code} around {t0}Z. some txs showed confirmed then "
            "reverted to pending",
            "[WARN] {t0}:07 chain={chain_code} reorg depth={depth} dropped_txs={n}\nconfirmations "
            "reset for affected txs",
        ),
        headlines=(
            "A few recent {chain} transactions briefly disappeared and then came back.",
            "Some {chain} transfers showed as confirmed and then went back to pending.",
            "Some recent {chain} activity changed status unexpectedly.",
        ),
        means=(
            "Around {t0} UTC the {chain} network briefly replaced a few moments of its recent "
            "history, so some transfers had to be confirmed again.",
            "A short hiccup on the {chain} network around {t0} UTC sent some confirmed transfers "
            "back to pending.",
        ),
        means2=(
            "Almost all of them have already gone through again.",
            "This is a network event, not a problem with your wallet.",
            "",
        ),
        todo=(
            "If a transfer is still missing after {mins} minutes, contact support before "
            "sending it again.",
            "Check your activity list, and wait before resending anything that looks missing.",
        ),
        jargon=(
            "{depth}-block reorg on {chain_code}, {n} txs dropped and re-included.",
            "Confirmations reset for affected txs.",
        ),
    ),
    Topic(
        key="nonce_gap",
        notes=(
            "nonce gap bug in tx builder {appver_prev}: after a dropped tx subsequent txs stuck "
            "pending. fix in {appver}",
            "{appver_prev} assigns nonce from local cache, gaps when a tx is dropped -> queue "
            "stuck. fixed in {appver}",
            "stuck pending txs traced to nonce mgmt regression ({appver_prev}), hotfix {appver} "
            "shipped",
        ),
        headlines=(
            "Some transactions are stuck behind one that never went through.",
            "A bug could leave your new transactions waiting in line.",
            "Some transfers stay pending because of an app bug, now fixed.",
        ),
        means=(
            "A problem in app version {appver_prev} could leave new transactions waiting behind "
            "an earlier one that was dropped.",
            "On version {appver_prev}, if one transaction failed to send, the ones after it "
            "could stay pending.",
        ),
        means2=(
            "Your funds have not moved.",
            "Version {appver} fixes this.",
            "",
        ),
        todo=(
            "Update the app to version {appver}, then tap Speed Up on the oldest pending "
            "transaction.",
            "Install version {appver} from the official store and your queue will clear.",
        ),
        jargon=(
            "Nonce gap regression in {appver_prev}, subsequent txs stuck pending.",
            "Hotfix {appver} shipped, bump the nonce manually if needed.",
        ),
    ),
    Topic(
        key="congestion_l2",
        notes=(
            "{chain_code} sequencer backlog, mempool {n}k txs, inclusion latency ~{mins}m",
            "{chain_code} congested (airdrop claims), txs sitting in mempool {mins}m+",
            "[INFO] chain={chain_code} pending_pool={n}k median_inclusion={mins}m",
        ),
        headlines=(
            "Transactions on {chain} are slower than usual.",
            "{chain} is busy and transfers are taking longer.",
            "Expect delays when sending on {chain} right now.",
        ),
        means=(
            "Because of very high traffic, your {chain} transfers may take around {mins} minutes "
            "to confirm.",
            "Transfers and swaps on {chain} are waiting in a long queue, often for {mins} minutes "
            "or more.",
        ),
        means2=(
            "Your funds stay in your wallet until a transfer goes through.",
            "",
        ),
        todo=(
            "Wait for pending transfers to finish before sending new ones.",
            "If it is urgent, use Speed Up to pay a slightly higher fee.",
        ),
        jargon=(
            "{chain_code} sequencer backlog, {n}k txs in mempool.",
            "Inclusion latency ~{mins}m.",
        ),
    ),
    Topic(
        key="validator_downtime",
        notes=(
            "{stoken} validator {vid} offline {hours}h (disk full), missed attestations, est "
            "reward impact -{pct}% for the period",
            "staking: our {stoken} validator set partially down {hours}h, missed duties, no "
            "slashing",
            "[ALERT] validator={vid} asset={stoken} status=offline duration={hours}h "
            "missed_attestations=many"
            "\ncause: disk full on host",
        ),
        headlines=(
            "One of our staking servers was offline for a few hours.",
            "Staking rewards for today may be a little lower.",
            "A staking outage may reduce this week's rewards slightly.",
        ),
        means=(
            "If you stake {stoken} with us, your rewards for this period may be about {pct}% "
            "lower than usual.",
            "Our staking service for {stoken} missed some work for {hours} hours, which slightly "
            "lowers rewards.",
        ),
        means2=(
            "Your staked amount is safe and was not reduced.",
            "No penalty was applied to your stake itself.",
            "",
        ),
        todo=(
            "You do not need to do anything; rewards will return to normal with the next payout.",
            "No action is needed, and you can see your rewards under Earn.",
        ),
        jargon=(
            "Validator {vid} offline {hours}h, missed attestations.",
            "Est reward impact -{pct}%, no slashing.",
        ),
    ),
    Topic(
        key="slashing",
        notes=(
            "partner validator slashed (double-sign) on {stoken}, ~{pct}% of delegated stake "
            "burned. treasury to reimburse",
            "slashing event {stoken}: operator key used on two hosts, ~{pct}% of stake burned. "
            "affected delegators reimbursed from treasury",
        ),
        headlines=(
            "A staking partner broke a network rule and was penalised.",
            "Some {stoken} stakes were reduced by a network penalty.",
        ),
        means=(
            "If your {stoken} was staked with that partner, about {pct}% of it was taken by the "
            "network as a penalty.",
            "The network removed about {pct}% of the {stoken} staked with one of our partners.",
        ),
        means2=(
            "We will repay the lost amount to everyone affected.",
            "We are covering the loss in full for affected users.",
        ),
        todo=(
            "You do not need to do anything; the repayment will appear under Earn.",
            "Check Earn, then Your Stakes, to see whether your stake was affected.",
        ),
        jargon=(
            "Partner validator got slashed for double-signing.",
            "{pct}% of delegated stake burned, treasury reimbursing.",
        ),
    ),
    Topic(
        key="exit_queue",
        notes=(
            "{stoken} exit queue ~{n}k validators, withdrawal ETA ~{days}d",
            "{stoken} unstake requests piling up, exit churn limit, ETA {days}d for new requests",
        ),
        headlines=(
            "Unstaking is taking longer than usual.",
            "{stoken} withdrawals from staking are slower right now.",
        ),
        means=(
            "If you unstake {stoken} today, it may take about {days} days before you can "
            "withdraw it.",
            "The network limits how many people can leave staking at once, so new {stoken} "
            "requests wait about {days} days.",
        ),
        means2=(
            "Rewards stop once you ask to unstake.",
            "This wait is set by the network, not by us.",
            "",
        ),
        todo=(
            "Plan ahead if you will need these funds soon.",
            "You can follow the countdown under Earn, then Your Stakes.",
        ),
        jargon=(
            "{stoken} exit queue is ~{n}k validators deep.",
            "Churn limit means withdrawal ETA ~{days}d.",
        ),
    ),
    Topic(
        key="bridge_relayer",
        notes=(
            "relayer for {chain_code}->{chain2_code} lagging, msgs queued, ETA {mins}m",
            "bridge relayer wallet out of gas on {chain2_code}, refilled {t0}Z, backlog draining",
            "[WARN] relayer route={chain_code}>{chain2_code} queued_msgs={n}0 oldest={mins}m",
        ),
        headlines=(
            "Transfers from {chain} to {chain2} are delayed.",
            "Bridged funds to {chain2} are arriving late.",
            "Moving funds between {chain} and {chain2} is slower than normal.",
        ),
        means=(
            "If you moved funds from {chain} to {chain2}, they may take up to {mins} minutes "
            "longer to arrive.",
            "Transfers to {chain2} are waiting in a queue and will arrive in the order they were "
            "sent.",
        ),
        means2=(
            "Your funds are safe while they wait.",
            "Nothing needs to be sent again.",
            "",
        ),
        todo=(
            "Keep the transfer open in Activity and wait for it to complete.",
            "Please do not repeat the transfer while it is on its way.",
        ),
        jargon=(
            "Relayer for {chain_code}->{chain2_code} lagging, msgs queued.",
            "Backlog draining, ETA {mins}m.",
        ),
    ),
    Topic(
        key="price_feed",
        notes=(
            "ws price feed dropping conns, clients fell back to 60s polling",
            "websocket disconnect storm on prices svc, fallback polling active",
            "[ERR] prices-ws close code=1006 reconnects/min={n}00",
        ),
        headlines=(
            "Prices in the app may update more slowly.",
            "Token prices may lag behind for a little while.",
        ),
        means=(
            "The prices you see may be up to a minute old, so totals may look slightly off.",
            "Your balance totals may change a little later than the market does.",
        ),
        means2=(
            "Swap quotes are checked again before you confirm.",
            "Your token amounts are not affected.",
            "",
        ),
        todo=(
            "Check the final amount on the confirm screen before you swap.",
            "Pull down to refresh if a price looks out of date.",
        ),
        jargon=(
            "Price websocket dropping conns, clients on 60s polling.",
            "Expect stale quotes until ws is back.",
        ),
    ),
    Topic(
        key="oracle_stale",
        notes=(
            "oracle feed for {token} stale >{mins}m, swaps for {token} paused by circuit breaker",
            "{token}/USD oracle heartbeat missed, trading disabled for {token} pairs",
        ),
        headlines=(
            "Swaps for {token} are paused for now.",
            "You cannot swap {token} at the moment.",
        ),
        means=(
            "We could not get a reliable price for {token}, so we paused swaps to protect you "
            "from a bad rate.",
            "Swaps involving {token} are turned off until we have an up-to-date price again.",
        ),
        means2=(
            "You can still send and receive {token} as normal.",
            "Your {token} balance is not affected.",
            "",
        ),
        todo=(
            "Try your swap again later, once it is available.",
            "Check the swap screen later today, where {token} will show as available again.",
        ),
        jargon=(
            "{token} oracle stale >{mins}m, circuit breaker tripped.",
            "Trading disabled for {token} pairs.",
        ),
    ),
    Topic(
        key="network_upgrade",
        notes=(
            "{chain_code} hardfork at block ~{block} ({date_iso}), deposits/withdrawals paused "
            "+-{hours}h around activation",
            "planned maint: {chain_code} network upgrade {date_iso} ~{t0}Z. pause sends for "
            "~{hours}h during upgrade window",
        ),
        headlines=(
            "Transfers on {chain} will pause briefly on {date} for a network upgrade.",
            "{chain} is upgrading on {date}, and sending will pause for a short time.",
        ),
        means=(
            "For about {hours} hours around {t0} UTC on {date}, you will not be able to send or "
            "receive on {chain} in the app.",
            "On {date}, sending and receiving on {chain} will be paused for around {hours} hours "
            "while the network upgrades.",
        ),
        means2=(
            "Your funds stay safe and will be available right after.",
            "Other networks will keep working as normal.",
            "",
        ),
        todo=(
            "If you need to move funds on {chain}, do it before {date}.",
            "You do not need to do anything; the app will update itself.",
        ),
        jargon=(
            "{chain_code} hardfork at block {block} on {date_iso}.",
            "Deposits/withdrawals paused +-{hours}h around activation.",
        ),
    ),
    Topic(
        key="api_sunset",
        notes=(
            "v1 REST endpoints deprecated, sunset {date_iso}. migrate to v2 / SDK 3.x (breaking: "
            "cursor pagination)",
            "reminder: /v1/* returns 410 after {date_iso}. v2 required, SDK >= 3.0",
        ),
        headlines=(
            "The first version of our developer tools stops working on {date}.",
            "Apps built on our older developer tools need an update before {date}.",
        ),
        means=(
            "If you built something on version 1 of our developer access, it will stop "
            "responding after {date}.",
            "Anything you built on version 1 will start failing on {date}.",
        ),
        means2=(
            "Version 2 pages through long lists a little differently.",
            "The wallet app itself is not affected.",
            "",
        ),
        todo=(
            "Move to version 2 before {date} using the upgrade guide in our developer docs.",
            "Update to version 3 or later of our developer kit before {date}.",
        ),
        jargon=(
            "v1 REST endpoints are deprecated, sunset {date_iso}.",
            "Migrate to v2, breaking change: cursor pagination.",
        ),
    ),
    Topic(
        key="fee_estimate",
        notes=(
            "EIP-1559 fee est using stale baseFee on {chain_code}, txs underpriced -> stuck "
            "pending. fix deployed {t1}Z",
            "fee estimator bug ({chain_code}): maxFeePerGas too low under spikes, ~{pct}% of "
            "txs stuck",
        ),
        headlines=(
            "Some {chain} transactions were sent with fees that were too low.",
            "A fee bug left some {chain} transfers waiting.",
        ),
        means=(
            "Our fee suggestion on {chain} was too low during busy moments, so some transfers "
            "got stuck waiting.",
            "If you sent on {chain} today, your transfer may still be waiting because the "
            "suggested fee was too low.",
        ),
        means2=(
            "We have fixed the fee suggestion.",
            "Your funds have not left your wallet.",
            "",
        ),
        todo=(
            "Open the waiting transfer in Activity and tap Speed Up.",
            "Tap Speed Up on any pending {chain} transfer to send it with the corrected fee.",
        ),
        jargon=(
            "Fee estimator used a stale baseFee on {chain_code}, maxFeePerGas underpriced.",
            "Stuck txs need a replacement with a higher tip.",
        ),
    ),
    Topic(
        key="history_gap",
        notes=(
            "token transfer indexer dropped ERC-20 Transfer events on {chain_code} for ~{hours}h, "
            "backfill running",
            "activity feed gap ({chain_code}): indexer missed logs, backfill ETA {hours}h",
            "[ERR] indexer chain={chain_code} log_fetch failed range_too_large\nmissing "
            "transfers in activity, backfill queued",
        ),
        headlines=(
            "Some past token transfers are missing from your activity list.",
            "Your {chain} activity list may have gaps.",
        ),
        means=(
            "Token transfers on {chain} from a {hours}-hour window may not show in your activity "
            "list yet.",
            "Your activity list may be missing some {chain} token transfers, even though they "
            "went through.",
        ),
        means2=(
            "Your balances are correct.",
            "Only the history is affected, not your funds.",
            "",
        ),
        todo=(
            "Check again in about {hours} hours, when the missing entries will be filled in.",
            "You do not need to do anything; the history will fill in on its own.",
        ),
        jargon=(
            "Indexer dropped ERC-20 Transfer events on {chain_code}.",
            "Backfill running, ETA {hours}h.",
        ),
    ),
    Topic(
        key="name_lookup",
        notes=(
            "name resolution failing, resolver upstream timeouts, sends to .eth names erroring",
            "ENS lookups timing out (upstream), send-to-name disabled temporarily",
        ),
        headlines=(
            "Sending to wallet names is not working right now.",
            "You cannot send to a name like alex.eth at the moment.",
        ),
        means=(
            "Payments to wallet names may fail to find the right address.",
            "The app cannot look up wallet names right now, so sending to one will show an error.",
        ),
        means2=(
            "Sending to a full address still works.",
            "",
        ),
        todo=(
            "Ask the person for their full address and check it carefully before sending.",
            "Use the full wallet address instead of the name for now.",
        ),
        jargon=("ENS resolver timing out upstream, send-to-name disabled.",),
    ),
    Topic(
        key="chain_switch_signing",
        notes=(
            "sign fails w/ chainId mismatch after network switch in extension, needs reload",
            "bug: dapp requests signed against stale chainId after switching; rejected by provider",
        ),
        headlines=(
            "Signing can fail right after you switch networks.",
            "Approving a request may fail just after a network change.",
        ),
        means=(
            "If you switch networks in the browser extension, the next request you approve may "
            "show an error.",
            "After changing networks, the extension may still think you are on the old one for "
            "a moment.",
        ),
        means2=(
            "Nothing is sent when this happens.",
            "A fix is on its way.",
            "",
        ),
        todo=(
            "Reload the page after switching networks, then try again.",
            "Refresh the site you are using and approve the request again.",
        ),
        jargon=(
            "chainId mismatch after network switch, signature rejected by provider.",
            "Reload the dapp to re-init the provider.",
        ),
    ),
    Topic(
        key="transfer_tax_swaps",
        notes=(
            "swaps of fee-on-transfer tokens revert ({token}), router doesn't support FoT",
            "{token} has a {pct}% transfer tax, router quote ignores it -> execution reverted",
        ),
        headlines=(
            "Swaps for some tokens that charge a transfer tax are failing.",
            "Swapping {token} is not working in the app right now.",
        ),
        means=(
            "{token} takes a small cut every time it moves, and our swap does not support that "
            "yet, so your swap may fail.",
            "Because {token} charges a fee on every transfer, swaps may fail and still use a "
            "network fee.",
        ),
        means2=(
            "Your tokens stay in your wallet when a swap fails.",
            "",
        ),
        todo=(
            "Avoid swapping {token} in the app until we add support.",
            "Hold off on {token} swaps for now to avoid paying fees for a failed swap.",
        ),
        jargon=("{token} is fee-on-transfer, router doesn't support FoT so it reverts.",),
    ),
    Topic(
        key="hw_firmware",
        notes=(
            "{device} fw {fw} breaks typed-data (EIP-712) signing, vendor aware",
            "{device} firmware {fw}: signTypedData returns error 0x6a80, downgrade not possible",
        ),
        headlines=(
            "Some {device} devices cannot approve certain requests after the latest update.",
            "The latest {device} update is causing signing errors.",
        ),
        means=(
            "If your {device} is on firmware {fw}, some approvals such as swap permissions may "
            "fail.",
            "With firmware {fw}, your {device} may reject some requests from the app.",
        ),
        means2=(
            "Simple transfers still work.",
            "Your funds on the device are safe.",
            "",
        ),
        todo=(
            "Wait for the next {device} update before approving swap permissions.",
            "Use simple transfers for now and check the {device} maker's site for a fix.",
        ),
        jargon=(
            "{device} fw {fw} breaks EIP-712 signTypedData.",
            "Vendor aware, error 0x6a80.",
        ),
    ),
    Topic(
        key="push_delay",
        notes=(
            "push notif queue backlog {n}k, notifications delayed ~{mins}m",
            "notif svc consumer lag, pushes delivered late (~{mins}m)",
        ),
        headlines=(
            "Notifications are arriving late.",
            "Alerts from the app may be delayed.",
        ),
        means=(
            "Alerts about received funds and finished transfers may reach you up to {mins} "
            "minutes late.",
            "You may get notifications well after the event they describe.",
        ),
        means2=(
            "Your transfers themselves are not delayed.",
            "",
        ),
        todo=(
            "Open the app to see the latest status instead of waiting for an alert.",
            "Check Activity in the app if you are expecting a payment.",
        ),
        jargon=("Push notif queue backlog {n}k, consumer lag ~{mins}m.",),
    ),
)

# --------------------------------------------------------------------------------------------
# Note framing and off-brand decoration
# --------------------------------------------------------------------------------------------

NOTE_PREFIXES = (
    "",
    "",
    "",
    "FYI: ",
    "status: ",
    "ops note - ",
    "#incident ",
    "[internal] ",
    "heads up, ",
    "update: ",
)
NOTE_SUFFIXES = (
    "",
    "",
    "",
    " cc @oncall",
    ". will update",
    ". pls draft user comms",
    ". need a status page blurb",
    " - comms needed",
    ". ETA unknown",
)
SHOUT_OPENERS = ("🚨 HEADS UP!!! ", "⚠️ ATTENTION ", "🔥 BIG NEWS: ", "‼️ ", "📢 ALERT: ")
SHOUT_CLOSERS = (
    " We're ON IT!!! 💪",
    " Stay tuned!!! 🚀",
    " Hang tight, fam!! 🙏",
    " DON'T PANIC!!! 😱",
    " More soon!!! 👀",
)
CASUAL_OPENERS = ("lol ok so ", "ngl ", "yo, ", "oof. ", "so uh, ", "tbh ")
CASUAL_CLOSERS = (
    " lol 😅",
    " sorry fam 🙃",
    " we're on it, ASAP 🤞",
    " tbh not our fault 🤷",
    " lmk if it's still borked",
)
JARGON_TODOS = (
    "Retry ASAP.",
    "Bump your gas and resubmit.",
    "Ping us on Discord if still borked.",
    "Clear cache and re-init the provider.",
    "Check the explorer for tx status.",
)
NEAR_MISS_JARGON = (
    ("transfer", "tx"),
    ("network", "chain"),
    ("servers", "nodes"),
    ("waiting", "sitting in the mempool"),
    ("fee", "gas (gwei)"),
)


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def _slots(rng: random.Random) -> dict[str, str]:
    region_code, region = rng.choice(REGIONS)
    (chain_code, chain), (chain2_code, chain2) = rng.sample(CHAINS, 2)
    h0, m0 = rng.randrange(0, 22), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50))
    dur = rng.choice((25, 40, 55, 70, 95))
    h1, m1 = divmod(h0 * 60 + m0 + dur, 60)
    month = rng.choice(MONTHS)
    day = rng.randrange(2, 28)
    major, minor = rng.choice((4, 5)), rng.randrange(2, 30)
    return {
        "region_code": region_code,
        "region": region,
        "chain_code": chain_code,
        "chain": chain,
        "chain2_code": chain2_code,
        "chain2": chain2,
        "t0": f"{h0:02d}:{m0:02d}",
        "t1": f"{h1 % 24:02d}:{m1:02d}",
        "pct": str(rng.choice((2, 3, 4, 5, 7, 8, 12, 15))),
        "n": str(rng.randrange(3, 60)),
        "mins": str(rng.choice((10, 15, 20, 30, 45))),
        "hours": str(rng.choice((2, 3, 4, 6))),
        "days": str(rng.choice((4, 6, 9, 12, 18))),
        "secs": str(rng.choice((6, 9, 12, 20))),
        "rps": str(rng.choice((10, 25, 50))),
        "rps2": str(rng.choice((80, 140, 260))),
        "gwei": str(rng.choice((180, 240, 320, 410))),
        "depth": str(rng.choice((2, 3, 4, 7))),
        "block": f"{rng.randrange(18, 24)},{rng.randrange(100, 999)},000",
        "event": rng.choice(EVENTS),
        "token": rng.choice(TOKENS),
        "stoken": rng.choice(("ETH", "SOL", "ATOM", "DOT")),
        "vid": f"val-{rng.randrange(10, 99)}",
        "device": rng.choice(DEVICES),
        "fw": f"2.{rng.randrange(1, 9)}.{rng.randrange(0, 5)}",
        "appver_prev": f"{major}.{minor}.0",
        "appver": f"{major}.{minor}.1",
        "date": f"{day} {month}",
        "date_iso": f"2025-{MONTH_NUM[month]:02d}-{day:02d}",
    }


# Plain slots an output may use when the note gives the engineer's spelling.
PLAIN_OF = {
    "region": "region_code",
    "chain": "chain_code",
    "chain2": "chain2_code",
    "date": "date_iso",
}


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def make_note(topic: Topic, slots: dict[str, str], rng: random.Random) -> tuple[str, set[str]]:
    """The engineering note and the slots it mentions (plain spellings included)."""
    template = rng.choice(topic.notes)
    known = _fields(template)
    known |= {plain for plain, code in PLAIN_OF.items() if code in known}
    note = template.format(**slots)
    head, sep, log = note.partition("\n")
    head = rng.choice(NOTE_PREFIXES) + head + rng.choice(NOTE_SUFFIXES)
    if rng.random() < 0.15:
        head = head.lower()
    return head + sep + log, known


def make_house(
    topic: Topic, slots: dict[str, str], rng: random.Random, known: set[str] | None = None
) -> str:
    """House-style text. With ``known`` (the note's slots) it only states details the note
    gave, so the model never learns to invent a time, network or number."""

    def pick(variants: tuple[str, ...]) -> str:
        fit = [v for v in variants if known is None or _fields(v) <= known]
        if not fit:
            raise ValueError(f"{topic.key}: no variant of {variants[0]!r} fits {sorted(known)}")
        return rng.choice(fit).format(**slots)

    headline = pick(topic.headlines)
    means = pick(topic.means)
    extra = pick(topic.means2)
    if extra:
        means = f"{means} {extra}"
    todo = pick(topic.todo)
    text = f"{headline}\n\n{MEANS_LABEL} {means}\n\n{TODO_LABEL} {todo}"
    validate_house(text)
    return text


def validate_house(text: str) -> None:
    lines = text.split("\n")
    assert len(lines) == 5 and lines[1] == lines[3] == "", text
    headline, means, todo = lines[0], lines[2], lines[4]
    assert headline[0].isupper() and headline.endswith(".") and ". " not in headline, text
    assert len(headline.split()) <= 16, text
    assert means.startswith(MEANS_LABEL + " ") and means.endswith("."), text
    assert means.count(". ") <= 1, text
    assert todo.startswith(TODO_LABEL + " ") and todo.endswith(".") and ". " not in todo, text
    assert "!" not in text and "**" not in text, text
    assert re.search(r"\byou(r)?\b", text, re.IGNORECASE), text
    assert not _has_jargon(text), text


def _has_jargon(text: str) -> bool:
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE) for w in JARGON)


def make_offbrand(topic: Topic, slots: dict[str, str], rng: random.Random, house: str) -> str:
    """The same content in an off-brand voice (one of four styles)."""
    headline, _, means, _, todo = house.split("\n")
    means = means.removeprefix(MEANS_LABEL + " ")
    todo = todo.removeprefix(TODO_LABEL + " ")
    jargon = [s.format(**slots) for s in topic.jargon]
    style = rng.randrange(4)
    if style == 0:  # engineer voice: jargon-heavy
        picked = rng.sample(jargon, min(len(jargon), rng.choice((1, 2, 3))))
        return " ".join([*picked, rng.choice(JARGON_TODOS)])
    if style == 1:  # shouty, emoji, exclamation marks
        head = headline.rstrip(".").upper() + "!!!"
        body = means.split(". ")[0].rstrip(".") + "!"
        return rng.choice(SHOUT_OPENERS) + head + " " + body + rng.choice(SHOUT_CLOSERS)
    if style == 2:  # casual slang with jargon
        first = rng.choice(jargon)
        if first[1:2].islower():
            first = first[0].lower() + first[1:]
        return (
            rng.choice(CASUAL_OPENERS) + first + " " + todo.rstrip(".") + rng.choice(CASUAL_CLOSERS)
        )
    # near miss: house layout, but breaks one rule
    flaw = rng.randrange(4)
    if flaw == 0:
        headline = headline.rstrip(".") + "!"
    elif flaw == 1:
        todo = todo.rstrip(".") + rng.choice((" ASAP.", " ASAP!", " 🙏"))
    elif flaw == 2 and any(_has_jargon(j) for j in jargon):
        means = means + " " + rng.choice([j for j in jargon if _has_jargon(j)])
    elif flaw == 2:
        headline = headline.rstrip(".") + "!"
    else:
        plain, jargony = rng.choice(NEAR_MISS_JARGON)
        swapped = re.sub(rf"\b{plain}\b", jargony, means, count=1)
        means = swapped if swapped != means else means + " " + rng.choice(jargon)
        headline = headline + " 😬"
    return f"{headline}\n\n{MEANS_LABEL} {means}\n\n{TODO_LABEL} {todo}"


def build_pairs(seed: int = SEED) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for topic in TOPICS:
        made = 0
        while made < PER_TOPIC:
            slots = _slots(rng)
            prompt, known = make_note(topic, slots, rng)
            if prompt in seen:
                continue
            seen.add(prompt)
            made += 1
            completion = make_house(topic, slots, rng, known)
            rows.append(
                {"id": f"{topic.key}-{made:02d}", "prompt": prompt, "completion": completion}
            )
    rng.shuffle(rows)
    return rows


def build_style(seed: int = SEED) -> list[tuple[str, str]]:
    rng = random.Random(seed + 1)
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(rows) < 2 * STYLE_PER_LABEL:
        topic = rng.choice(TOPICS)
        slots = _slots(rng)
        house = make_house(topic, slots, rng)
        off = make_offbrand(topic, slots, rng, house)
        if house in seen or off in seen:
            continue
        seen.update((house, off))
        rows += [(house, "approved"), (off, "unapproved")]
    rng.shuffle(rows)
    return rows


def write_pairs(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_style(rows: list[tuple[str, str]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="pairs JSONL to write")
    parser.add_argument(
        "--style-out", type=Path, default=DEFAULT_STYLE_OUT, help="style-judge CSV to write"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    pairs = build_pairs(args.seed)
    write_pairs(pairs, args.out)
    style = build_style(args.seed)
    write_style(style, args.style_out)
    print(f"wrote {len(pairs)} pairs ({len(TOPICS)} topics) to {args.out}")
    print(f"wrote {len(style)} style rows ({STYLE_PER_LABEL} per label) to {args.style_out}")


if __name__ == "__main__":
    main()
