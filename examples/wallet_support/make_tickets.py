"""Generate the synthetic wallet-support ticket dataset (``tickets.csv``).

The CSV next to this file is committed; this script documents exactly how it was made and
reproduces it byte for byte::

    python examples/wallet_support/make_tickets.py

Every sentence fragment below was written by hand for this demo. Tickets are composed from an
optional opening, optional context sentences, one core phrasing of the intent (the main ask),
optional intent details, an optional "side" sentence that mentions a *different* intent's topic
(the hard cases), and an optional sign-off. Slots such as ``{chain}`` or ``{tx}`` are filled
with fictional values, and noise (typos, casing, missing punctuation) is injected afterwards.

A handful of deliberate data problems (duplicates, a near-duplicate, a label conflict and some
secrets / personal data) are then inserted for the data-audit demo; the script prints where
they ended up, and README.md lists the same row numbers.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

SEED = 20240611
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent.parent / "narrowtune" / "demo" / "tickets.csv"

# Final number of rows per intent, deliberate problem rows included.
TARGETS: dict[str, int] = {
    "stuck_transaction": 63,
    "wrong_network": 58,
    "gas_fee_question": 55,
    "failed_swap": 66,
    "bridge_delay": 53,
    "phishing_report": 49,
    "account_recovery": 60,
    "refund_request": 51,
    "token_not_showing": 62,
    "staking_question": 52,
    "nft_not_showing": 48,
    "hardware_wallet_connection": 57,
}

# Rows per intent that are added by ``add_deliberate_problems`` (not drawn by the generator).
EXTRA_ROWS: dict[str, int] = {
    "failed_swap": 2,  # exact duplicate copy + one side of the label conflict
    "token_not_showing": 1,  # exact duplicate copy
    "gas_fee_question": 1,  # duplicate differing only by case/whitespace
    "bridge_delay": 2,  # near-duplicate + ticket with an email address
    "refund_request": 2,  # other side of the label conflict + ticket with a phone number
    "account_recovery": 1,  # ticket with a pasted seed phrase
    "stuck_transaction": 1,  # ticket with a pasted private key
}

# --------------------------------------------------------------------------------------------
# Slot fillers
# --------------------------------------------------------------------------------------------

CHAINS = (
    "Ethereum",
    "Arbitrum",
    "Optimism",
    "Polygon",
    "Base",
    "BNB Chain",
    "Solana",
    "Avalanche",
)
TOKENS = ("ETH", "USDC", "USDT", "DAI", "WBTC", "ARB", "OP", "MATIC", "SOL")
STAKE_TOKENS = ("ETH", "SOL", "MATIC")
DEXES = ("Uniswap", "a DEX", "the in-app swap", "PancakeSwap", "Curve", "Jupiter")
BRIDGES = (
    "the bridge",
    "a bridge",
    "the in-app bridge",
    "the official bridge",
    "a third-party bridge",
    "Stargate",
    "Hop",
)
MARKETS = ("an NFT marketplace", "OpenSea", "Magic Eden", "Blur", "the marketplace")
HARDWARE = (
    "Ledger",
    "Trezor",
    "Ledger Nano X",
    "Ledger Nano S Plus",
    "Trezor Model T",
    "Trezor Safe 3",
)
DURATIONS = (
    "2 hours",
    "3 hours",
    "40 minutes",
    "about an hour",
    "6 hours",
    "12 hours",
    "a day",
    "two days",
    "3 days",
    "almost a week",
    "20 mins",
    "over 10 hours",
    "5 days",
    "90 minutes",
)
SINCE = (
    "since yesterday",
    "since this morning",
    "since last night",
    "since Monday",
    "since the weekend",
    "since 9am",
)
SLIPPAGES = ("0.5%", "1%", "2%", "3%", "5%", "12%")
PERCENTS = ("2%", "0.85%", "1.5%", "3%", "0.5%")
HANDLES = (
    "moonfrog",
    "degen_otter",
    "pixelwhale",
    "cryptonoodle",
    "ser_pancake",
    "bluefinch_88",
    "lunar_toast",
    "vaultkitten",
    "hodl_turnip",
    "zkpotato",
    "satsquirrel",
    "gm_walrus",
)
SCAM_HANDLES = (
    "wallet_support_desk",
    "helpdesk_official22",
    "support_team_wallet",
    "walletcare_admin",
)
HEX = "0123456789abcdef"

# --------------------------------------------------------------------------------------------
# Core phrasings: the main ask of each intent
# --------------------------------------------------------------------------------------------

CORE: dict[str, tuple[str, ...]] = {
    "stuck_transaction": (
        "I sent {amount} {token} to {addr} {dur} ago and it's still pending.",
        "My transaction has been stuck on pending {since}.",
        "tx not confirming, it's been {dur}",
        "How do I speed up or cancel a pending transaction?",
        "the transfer shows 'pending' forever and nothing happens",
        "I have a transaction that won't go through on {chain}. It's been sitting there for {dur}.",
        "All my new transactions are queued behind one that is stuck, I can't send anything.",
        "Sent {token} to my exchange {dur} ago, still unconfirmed in the wallet and the exchange "
        "shows nothing.",
        "my send is stuck and the block explorer says the tx is not even found",
        "is there a way to push a stuck tx? I think I set the fee too low",
        "Transaction pending {since}, and the speed up button is greyed out.",
        "I tried to cancel the pending transaction but now there are two pending ones.",
        "Why is my transfer still processing? It normally takes a minute.",
        "The withdrawal to {addr} never confirmed, it just spins.",
        "my transaction is not going, it stay in pending status, please check",
        "Nonce problem? every tx after the first one says pending",
        "payment to a friend hasn't arrived, the wallet says submitted but not confirmed",
        "Sent {amount} {token} on {chain}, it's been {dur} and still 0 confirmations.",
        "Stuck transaction, I need help clearing it so I can use my wallet again.",
        "I approved a token {dur} ago and the approval is still pending, now everything else is "
        "stuck behind it.",
        "can you tell me if my transaction {tx} will ever confirm?",
        "Clicked send, got a hash, but nothing on the explorer after {dur}.",
        "My {token} transfer is hanging in 'pending' and I need the funds today.",
        "how long can a tx stay pending before it fails? mine is at {dur}",
        "the activity tab has a pending tx from {dur} ago that never clears",
        "I reinstalled the extension and the pending transaction is still there blocking "
        "everything.",
        "my {amount} {token} is not arrive yet, transaction say pending from long time",
        "How do I replace a stuck transaction with a higher fee? The nonce is {nonce}.",
    ),
    "wrong_network": (
        "I sent {token} on {chain} but the receiving address is on {chain2}. Can I get it back?",
        "Accidentally used the {chain} network instead of {chain2} when withdrawing from my "
        "exchange.",
        "I picked the wrong network when sending {amount} {token} and the funds are not showing "
        "on {chain2}.",
        "Sent {token} to my {chain2} address via {chain}, help!!",
        "Exchange withdrawal went out on {chain} but my wallet is set to {chain2}. Where did my "
        "{token} go?",
        "I didn't bridge anything, I just sent directly on {chain} to an address I use on "
        "{chain2}. Is it lost?",
        "wrong chain. sent {token} on {chain} to a {chain2} address",
        "can I recover tokens sent to the right address but on the wrong network?",
        "The exchange only supports {chain2} deposits and I sent on {chain}.",
        "I think I selected {chain} instead of {chain2} in the dropdown. The tx confirmed but the "
        "money isn't where I expected.",
        "my friend sent me {token} on {chain} but I only use {chain2}, I don't see anything",
        "Sent {amount} {token} to the same address but on {chain}. The same address should work "
        "on both, right?",
        "Is my {token} gone forever if I sent it over the wrong network?",
        "I sent {token} to a {chain2} address from the {chain} network. My mistake, please help "
        "me recover it.",
        "I am withdraw {token} with wrong network selected, exchange say it is on {chain}, how I "
        "get it back",
        "the wallet was on {chain} when I thought it was on {chain2}, and I sent the whole balance",
        "The deposit address was for {chain2} and I used {chain}. It's confirmed on the explorer.",
        "how do i get my coins back when they were sent on the wrong blockchain",
        "I used the {chain} option by mistake. The tokens are visible on the explorer but not in "
        "my wallet on {chain2}.",
        "Wrong network selected during a transfer, I need to know if recovery is possible.",
        "I sent {token} to a contract address on {chain}, it was meant for {chain2}.",
        "your app switched the network to {chain} by itself right before I hit send",
        "Sent {token} over {chain} to my hardware wallet address, but I only ever added {chain2} "
        "to it.",
        "Do you support recovering funds from a chain mismatch?",
        "deposited to the right address on the wrong chain, and the exchange support told me to "
        "ask the wallet team",
        "I chose {chain} network but the platform I sent to is {chain2} only, now what",
        "can you move my {token} from {chain} to {chain2}? I sent it on the wrong one by accident",
    ),
    "gas_fee_question": (
        "Why is gas so high right now? It wants {fee} to send {token}.",
        "How are network fees calculated in the wallet?",
        "The fee estimate for a simple transfer on {chain} is {fee}, that can't be right?",
        "What's the difference between base fee and priority fee?",
        "Can I set a custom gas limit? The default seems too high.",
        "Why do I need ETH just to move my {token}?",
        "gas fees are crazy, is there a cheaper time of day to send?",
        "Do I pay gas even if a transaction fails?",
        "The wallet charged me more gas than the estimate, why?",
        "what does 'max fee' mean and will I actually pay all of it",
        "Is the fee going to you or to the network?",
        "the fee on {chain} is way cheaper than on Ethereum, why is that",
        "Can I pay gas in {token} instead of the native coin?",
        "There are 'slow', 'market' and 'aggressive' fee options, which one should I pick?",
        "Why does approving a token cost gas? I haven't even swapped yet.",
        "I have {amount} {token} but it says insufficient funds for gas, how much do I need?",
        "Why is the network fee higher than the amount I'm sending??",
        "How much gas should I keep in my wallet for a few transfers on {chain}?",
        "what is gwei and why is it {gwei} today",
        "Does the wallet add its own service fee on top of gas?",
        "the gas estimate changes every time I open the confirm screen, which one is real",
        "is it normal that a swap on {dex} costs {fee} in gas?",
        "please explain me why the fee is so expensive, yesterday it was much less",
        "Why does sending to an exchange cost more gas than sending to a friend?",
        "The gas fee shows {fee} but my balance is only dust, what's the minimum?",
        "Why do transactions on {chain} still include an L1 data fee?",
        "where can I see how much I spent on gas this month",
        "how do you estimate the gas, it is always higher then what other wallets show",
    ),
    "failed_swap": (
        "My swap from {token} to {token2} failed with 'execution reverted'.",
        "Tried to swap on {dex} three times and every time it fails.",
        "Swap says 'price impact too high' and won't go through.",
        "I keep getting slippage errors when swapping {token} for {token2}.",
        "The swap failed but I still paid gas, what went wrong?",
        "Swapped {amount} {token} but received nothing, the tx shows failed on the explorer.",
        "in-app swap gives an 'insufficient output amount' error",
        "I get a 'quote expired' error when I click confirm on the swap.",
        "why does my swap keep reverting? I already increased slippage to {slip}",
        "The swap to {token2} shows as failed but my {token} is gone from the balance.",
        "{dex} swap failed, error code UNPREDICTABLE_GAS_LIMIT",
        "The approval went through but the actual swap failed.",
        "the trade fails every time for this new token, is something wrong with it?",
        "swap button is stuck on 'fetching quote' and then shows an error",
        "I can't swap {token} to {token2}, it says 'transaction will likely fail'.",
        "swaps are failing on {chain}, the same swap works fine on Ethereum",
        "After the swap failed my {token} balance is lower, did the swap partially happen?",
        "Getting TRANSFER_FROM_FAILED when I try to swap",
        "Swap didn't complete, the explorer says 'Fail' with a red icon.",
        "the swap keeps failing with 'no route found' for {token2}",
        "I try to change {token} to {token2} but it always fail, please fix",
        "my swaps have been failing since the last app update",
        "Swapping {amount} {token} gives an error about the deadline being exceeded",
        "Failed swap on {dex}. Out of gas? I used the default settings.",
        "why did my swap fail when the quote looked fine",
        "every swap attempt errors out right after I sign it on my {hw}",
        "the swap from {token} into {token2} reverted twice in a row, slippage was {slip}",
        "swap error 'K' on {dex}, no idea what that means",
    ),
    "bridge_delay": (
        "I bridged {amount} {token} from {chain} to {chain2} {dur} ago and it hasn't arrived.",
        "Bridge transfer still pending after {dur}.",
        "The bridge says 'in progress' but the source tx confirmed long ago.",
        "How long does bridging from {chain} to {chain2} usually take? Mine's been {dur}.",
        "funds left {chain} but never showed up on {chain2}",
        "My withdrawal from {chain} back to Ethereum says there is a 7 day challenge period, is "
        "that normal?",
        "bridge is stuck at step 2 of 3",
        "I used {bridge} to move {token} to {chain2}, the explorer shows it sent but nothing "
        "received.",
        "My bridged {token} is missing on the destination chain.",
        "Is the bridge down? Transfers from {chain} seem to be taking forever.",
        "Where can I track a bridge transfer? It's been {dur}.",
        "the bridge page says 'waiting for relayer' {since}",
        "The claim button never appeared after bridging back to Ethereum.",
        "I moved {token} across chains and it's still in transit",
        "Bridge tx {tx} is done on the source chain, nothing on the destination",
        "bridging is taking much longer than the estimated 15 minutes",
        "cross chain transfer to {chain2} pending {since}, please check",
        "I did a bridge from {chain} and the money is not coming, it is normal?",
        "The bridge shows completed but my {chain2} balance didn't change.",
        "When will my bridged funds arrive? I need them for a trade.",
        "the {chain} to {chain2} bridge has my {token} in limbo",
        "Bridge transfer delayed, do I need to do anything manually to finish it?",
        "It's been {dur} since I bridged and the status page still shows pending confirmations.",
        "Did the bridge lose my funds? I sent {amount} {token} and nothing is on the other side.",
        "how many confirmations does the bridge wait for before releasing on {chain2}",
        "{bridge} says 'delivered' but the wallet on {chain2} is empty",
        "i use {bridge} for send {token} to {chain2}, already {dur} and nothing come",
    ),
    "phishing_report": (
        "I think I just connected my wallet to a scam site that looked like {dex}.",
        "Got a DM from someone claiming to be your support asking for my seed phrase. Reporting "
        "it.",
        "There's a fake version of your app in the app store, please take it down.",
        "I signed something on a fake airdrop site and now tokens are leaving my wallet.",
        "Random tokens appeared in my wallet with a link to claim rewards, is this a scam?",
        "Someone emailed me saying my wallet will be suspended unless I verify. Is that really "
        "you?",
        "there is a phishing link in your discord announcements channel right now!!",
        "A site asked me to approve unlimited spending of my {token}, I think it's malicious.",
        "Reporting a scam website that copies your logo and asks people to 'validate' their "
        "wallet.",
        "I received an NFT I didn't buy with a website in its name, should I interact with it?",
        "Somebody is impersonating your team on Telegram, the handle is @{scam_handle}.",
        "I typed my recovery phrase into a site that said my wallet needed syncing. What do I "
        "do now?",
        "a drainer got me, all my {token} was sent to {addr} after I signed a permit",
        "Is {addr} a known scam address? It keeps sending me tiny amounts.",
        "There's an address that looks almost like mine in my history, I think it's address "
        "poisoning.",
        "a fake support agent on twitter asked me to fill in a form with my keys",
        "A popup in the browser asked me to re-enter my seed words, that's not from you right?",
        "scam alert: a site is running a fake {token} giveaway using your name",
        "I clicked a link in a 'wallet upgrade' email and typed my password in",
        "pls warn other users, there is a fake {dex} clone with a very similar domain",
        "someone called me pretending to be wallet security and they knew my address",
        "I think I got scammed, a guy on discord said he'd fix my failed swap and sent me a link",
        "Suspicious approval request from a site I never visited, is it dangerous?",
        "How do I report a phishing site that stole funds from my friend?",
        "This sounds like a scam but the message says it's from your team: 'claim your airdrop "
        "before it expires'",
        "a weird signature request popped up asking for setApprovalForAll on my NFTs",
        "the search ad for your wallet goes to a fake download page",
        "Someone in a telegram group sent me a 'support form' that wants my private key.",
    ),
    "account_recovery": (
        "I lost my seed phrase and can't get into my wallet anymore.",
        "Got a new phone and my recovery phrase is missing. How do I get my funds back?",
        "Forgot my password and I never wrote down the 12 words.",
        "Locked out of my account after too many password attempts.",
        "my phone was stolen and i only had the wallet on there, no backup",
        "Is there any way to recover my wallet without the seed phrase?",
        "I have my seed phrase but one word seems to be wrong, can you help me get back in?",
        "The app says my recovery phrase is invalid but I copied it exactly.",
        "I uninstalled the app and now I can't log back in.",
        "Lost access to my account because the 2FA device is gone.",
        "A family member passed away and left a wallet, we have the phone but no phrase. What are "
        "our options?",
        "Can you reset my wallet password? I still have the phone.",
        "my recovery phrase paper got wet and half the words are unreadable",
        "I imported my seed and it opened a completely empty wallet, I had {amount} {token} in "
        "the old one.",
        "I need to recover my account, I only remember the first 8 words",
        "pls help cannot open wallet, forget my pin code and the phrase",
        "Lost my {hw} and I'm not sure I still have the recovery sheet.",
        "The verification code for my account goes to an old number I don't have anymore.",
        "Locked out, the app keeps asking for a password I never set",
        "can support restore my account if I prove it's mine?",
        "My laptop died and the browser extension went with it. I have no backup of the phrase.",
        "I restored from my phrase and I see a different address than before",
        "I lost access to my wallet and need my funds, urgent please",
        "Face ID stopped working and I don't remember the fallback password.",
        "I wrote down the phrase in the wrong order, can the correct order be figured out?",
        "Need to get back into my account. I lost everything in a phone reset.",
        "account got locked after an update, can't sign in with my usual password",
        "how can I get back my wallet, the phone is broken and I never saved the words",
    ),
    "refund_request": (
        "I'd like a refund for the gas I paid on a failed swap.",
        "Please refund the fee you charged, the transaction never went through.",
        "I was charged twice for the same swap, I want my money back.",
        "Can I get a refund for the premium subscription? I cancelled but got billed again.",
        "refund please, the swap fee was way more than the app showed",
        "Your app took a {pct} fee I didn't agree to. Refund it.",
        "Bought crypto with my card through your on-ramp, it failed but my bank was charged.",
        "How do I request a refund for a purchase that never arrived in my wallet?",
        "I want a refund of the {amount} {token} I lost because of your bug.",
        "Card payment of {usd} went through but no {token} was received, can I get a refund?",
        "Your support promised me a refund two weeks ago and I still have nothing.",
        "please return my money, the swap was failed and you keep the fee",
        "I was charged a network fee for a transaction that got cancelled and I want it back.",
        "I accidentally bought the wrong token with the buy feature, can you reverse it and "
        "refund me?",
        "Requesting reimbursement for my losses from the outage last week.",
        "refund for a failed on-ramp purchase, order id {order}",
        "Is there a refund policy for failed swaps? I lost {fee} in fees.",
        "The app store charged me for the pro version twice, please refund one.",
        "I want to cancel my buy order and get refunded",
        "Who do I contact to get a refund for a failed NFT purchase?",
        "I was promised compensation for the stuck bridge, where is it?",
        "pls give refund, I never authorized this purchase",
        "Can you refund the gas from my three failed attempts? That's {fee} total.",
        "Money was taken from my bank for a crypto buy and the order shows cancelled, refund "
        "please.",
        "I need a refund for the subscription renewal I forgot to cancel.",
        "Your swap routed through a bad pool and I got way less, I want the difference refunded.",
        "how long do refunds take to show up on my card?",
        "I want my {usd} back, the purchase of {token} did not complete",
    ),
    "token_not_showing": (
        "I received {token} but it doesn't show in my wallet balance.",
        "My {token} balance shows 0 even though the explorer says I have {amount}.",
        "How do I add a custom token? {token} isn't in the list.",
        "Tokens from an airdrop are not visible in the app.",
        "After the update my {token} disappeared from the assets tab.",
        "The transaction confirmed but the token is not appearing in my wallet.",
        "I swapped {token2} to {token}, the swap succeeded, but I can't see {token} anywhere.",
        "missing token in my wallet, the explorer shows it",
        "Why doesn't the wallet show the USD value of my {token}?",
        "I have {token} on {chain} but the app only shows my Ethereum balance.",
        "How do I import a token by contract address?",
        "my token balance is wrong, it shows less than the explorer",
        "{token} is hidden and I can't find the setting to unhide it",
        "Received a transfer from my friend, explorer says success, but the wallet shows nothing "
        "new.",
        "the token I got as staking rewards is not showing",
        "The LP token from {dex} doesn't appear in my wallet.",
        "balance not updating after a deposit on {chain}",
        "I can see my {token} on the web version but not on mobile.",
        "I claimed {token} tokens but they are not display in the wallet",
        "The wallet shows my {token} with a warning sign and no balance.",
        "please add support for showing {token}, it's not displayed at all",
        "Why is my {token} showing as 'unknown token'?",
        "The portfolio page is missing several tokens I definitely own.",
        "I withdrew {token} from an exchange to here, the explorer shows it landed but the "
        "wallet doesn't show it.",
        "The token shows up on the {chain} explorer at my address but the app balance is zero, "
        "and yes I'm on {chain}.",
        "where is my {token}? the tx {tx} shows it arrived",
        "my {token} is gone from the list but I never sent it anywhere",
        "the assets screen only shows {token} and nothing else, I have more coins than that",
    ),
    "staking_question": (
        "How do I stake my {stake}?",
        "When will my staking rewards be paid out?",
        "What's the unbonding period if I unstake {stake}?",
        "I staked {stake_amount} {stake} but don't see any rewards yet.",
        "What APY should I expect from staking in the app?",
        "Can I unstake early? I need the funds.",
        "Is liquid staking safer than native staking?",
        "My staking position shows 'deactivating', what does that mean?",
        "how do I choose a validator",
        "Does staking through the wallet lock my tokens?",
        "the validator I delegated to got slashed?? what happens to my stake",
        "My staking rewards dropped a lot this week, why?",
        "I unstaked {dur} ago and the {stake} still isn't back in my balance.",
        "Can I stake ETH if I have less than 32?",
        "Do staking rewards count as income in the transaction history export?",
        "How do I compound my staking rewards?",
        "is there a minimum amount to stake {stake}",
        "the stake button is greyed out, do I need more tokens?",
        "Is staking a one-time transaction or do I pay gas every time rewards come in?",
        "what happens to my staked tokens if your company shuts down?",
        "I want to move my stake from one validator to another",
        "how is the staking reward calculated, daily or per epoch?",
        "staking rewards are not claimable, the button says 'nothing to claim'",
        "Can I stake from a hardware wallet through the app?",
        "please explain me the staking, I am new and want passive income",
        "What's the difference between stETH and ETH in the staking tab?",
        "How long until my {stake} stake becomes active?",
        "is it worth to stake {stake} now or wait, what is the risk",
    ),
    "nft_not_showing": (
        "I bought an NFT on {market} but it doesn't show in my wallet.",
        "My NFT collection tab is empty even though I own several.",
        "NFTs on {chain} are not showing up.",
        "I minted an NFT {dur} ago and it's still not in the gallery.",
        "The NFT image is broken, it just shows a grey box.",
        "transferred an NFT from my other wallet and it's not appearing",
        "how do I get my NFTs to show, the collectibles section is blank",
        "My NFT shows on {market} under my profile but not in the app.",
        "nft missing after the update",
        "I can see the token ID on the explorer but the wallet doesn't list the NFT.",
        "Collectibles tab says 'no NFTs yet' but I have a bunch",
        "how do I manually add an NFT by contract address and ID?",
        "I won an NFT in a raffle, the explorer confirms it, the wallet shows nothing.",
        "The NFT I bought is marked as hidden/spam and I can't unhide it.",
        "Some of my NFTs disappeared, others still show.",
        "ERC-1155 items are not displayed in the wallet",
        "I bridged my NFT to {chain2} and now it's not showing",
        "NFT metadata isn't loading, just the name with no picture",
        "Is there a way to refresh NFT metadata in the app?",
        "my pfp nft is gone from the wallet?? it's still on {market}",
        "Bought a domain name NFT and the wallet doesn't show it",
        "The NFT I minted shows as 'unknown collection'",
        "Can't see my nft after buying, please help where it is",
        "NFTs show on the desktop extension but not on mobile.",
        "I received an NFT as a gift, the sender says it's sent but I see nothing",
        "the gallery only shows NFTs from Ethereum, not from {chain}",
        "the art on my nft changed to a placeholder image",
    ),
    "hardware_wallet_connection": (
        "My {hw} won't connect to the app.",
        "The wallet doesn't detect my {hw} over USB.",
        "Bluetooth pairing with my {hw} fails every time.",
        "{hw} is connected but the app says 'device locked' even though it's unlocked.",
        "How do I connect a hardware wallet to the browser extension?",
        "Signing on the {hw} times out.",
        "I get 'blind signing not enabled' when I use my {hw}.",
        "The {hw} shows up in the device list but then disconnects.",
        "the app can't find the Ethereum app on my {hw}",
        "After a firmware update my {hw} won't pair anymore.",
        "Which cable do I need? My {hw} isn't recognized on my laptop.",
        "hardware wallet not connecting, I tried 3 browsers",
        "My {hw} accounts show a different address in the app than before.",
        "The transaction was sent to the {hw} for confirmation but nothing appears on the device "
        "screen.",
        "Is the {hw} supported on the mobile app?",
        "Error 0x6e00 when connecting my {hw}",
        "connecting the {hw} via WebUSB gives 'permission denied'",
        "My {hw} works with its own app but not with yours.",
        "I can't get the wallet to see my {hw} on Linux.",
        "The hardware wallet connection keeps dropping mid-transaction.",
        "how do I pair my {hw} with my phone",
        "The extension asks me to 'open the app on your device' but it is open",
        "Can I use my {hw} with {chain}? It doesn't show the option.",
        "{hw} plugged in, unlocked, app open, still 'no device found'",
        "i connect my {hw} but the wallet say unknown error, please help",
        "the QR code pairing with my {hw} doesn't scan.",
        "the hardware wallet is connected but the balance never loads",
        "every time I plug in the {hw} the extension freezes",
    ),
}

SHORT: dict[str, tuple[str, ...]] = {
    "stuck_transaction": (
        "tx stuck pending",
        "transaction still pending",
        "stuck tx help",
        "send not confirming",
        "pending for hours??",
        "my transfer is stuck",
    ),
    "wrong_network": (
        "sent on wrong network",
        "wrong chain help",
        "wrong network pls help",
        "picked the wrong network",
        "sent to wrong chain",
    ),
    "gas_fee_question": (
        "why gas so high",
        "gas fee question",
        "fees too high??",
        "how is gas calculated",
        "what is priority fee",
        "why do fees change so much",
    ),
    "failed_swap": (
        "swap failed again",
        "swap not working",
        "swap keeps failing",
        "swap error again",
        "cant swap anything",
    ),
    "bridge_delay": (
        "bridge still pending",
        "bridge taking forever",
        "bridged funds not arrived",
        "bridge stuck again",
        "where are my bridged funds",
    ),
    "phishing_report": (
        "scam site report",
        "reporting a phishing link",
        "fake support dm",
        "is this a scam??",
        "got drained by scammers",
    ),
    "account_recovery": (
        "lost seed phrase",
        "locked out of wallet",
        "forgot my password help",
        "lost access to account",
        "cant log in anymore",
    ),
    "refund_request": (
        "refund please asap",
        "want my money back",
        "refund request here",
        "need refund for fees",
        "please refund me",
    ),
    "token_not_showing": (
        "token not showing",
        "balance shows zero",
        "cant see my tokens",
        "token missing from wallet",
        "coins not visible",
    ),
    "staking_question": (
        "how to stake",
        "staking rewards question",
        "unstake how long",
        "whats the staking apy",
        "question about staking",
    ),
    "nft_not_showing": (
        "nft not showing",
        "where is my nft",
        "nfts missing again",
        "nft not visible",
        "collectibles tab empty",
    ),
    "hardware_wallet_connection": (
        "ledger not connecting",
        "trezor not detected",
        "hardware wallet wont connect",
        "cant pair my ledger",
        "device not found error",
    ),
}

# Follow-up detail sentences that fit one intent (optional, 0-2 per ticket).
DETAILS: dict[str, tuple[str, ...]] = {
    "stuck_transaction": (
        "Tx hash: {tx}",
        "The nonce on it is {nonce}.",
        "It shows 'pending' in the activity tab.",
        "I sent it to {addr}.",
        "The explorer still shows it waiting in the mempool.",
        "I didn't change any fee settings.",
    ),
    "wrong_network": (
        "The address I sent to is {addr}.",
        "Here is the tx: {tx}",
        "The explorer on {chain} shows it as successful.",
        "I realize this was my mistake.",
        "It was {amount} {token}.",
    ),
    "gas_fee_question": (
        "I'm on {chain}.",
        "I only want to send {amount} {token}.",
        "My balance is {balance} {token}.",
        "The estimate earlier today was much lower.",
        "I'm just trying to understand before I send anything.",
    ),
    "failed_swap": (
        "Tx: {tx}",
        "Slippage was set to {slip}.",
        "I was swapping about {amount} {token}.",
        "The quote said I'd get about {amount2} {token2}.",
        "This was on {chain}.",
    ),
    "bridge_delay": (
        "Source tx: {tx}",
        "I used {bridge}.",
        "The amount was {amount} {token}.",
        "The destination address is {addr}, same as my wallet.",
        "The estimate said about 15 minutes.",
    ),
    "phishing_report": (
        "I have screenshots if you need them.",
        "Please warn other users.",
        "I'm not sure what to do next.",
        "I'm reporting it so nobody else falls for it.",
        "Can you look into this quickly?",
    ),
    "account_recovery": (
        "I still know my wallet address, it's {addr}.",
        "There was about {amount} {token} in it.",
        "I don't have any other backup.",
        "I already reinstalled the app twice.",
        "I can prove ownership with old transactions.",
    ),
    "refund_request": (
        "The order number is {order}.",
        "Tx: {tx}",
        "It was about {fee} in total.",
        "I have the bank statement if needed.",
        "This is the second time I am asking.",
    ),
    "token_not_showing": (
        "The explorer shows the balance at {addr}.",
        "Tx hash: {tx}",
        "I'm on {chain}.",
        "I already tried pulling down to refresh.",
        "It's about {amount} {token}.",
    ),
    "staking_question": (
        "I have about {stake_amount} {stake}.",
        "I'm staking from the mobile app.",
        "The validator shows as active.",
        "I'm planning to hold for at least a year.",
        "I haven't staked before.",
    ),
    "nft_not_showing": (
        "The collection is on {chain}.",
        "The token ID is #{nftid}.",
        "My address is {addr}.",
        "I already tried the 'refresh metadata' button.",
        "I paid {eth_price} ETH for it.",
    ),
    "hardware_wallet_connection": (
        "Firmware is up to date.",
        "I'm using the original USB cable.",
        "I'm on Windows 11 with Chrome.",
        "I'm on a Mac with the latest browser.",
        "Bluetooth is on and the device is charged.",
    ),
}

# Sentences that mention an intent's topic *without* being the main ask. They are added to
# tickets of other, confusable intents to make the hard cases.
SIDE: dict[str, tuple[str, ...]] = {
    "stuck_transaction": (
        "There was also a pending transaction earlier but it cleared on its own.",
        "(this is not about the stuck tx from last week, that one got sorted)",
        "My previous transfer sat on pending for an hour, so maybe the network is slow.",
    ),
    "wrong_network": (
        "I checked and I'm definitely on the right network.",
        "The network is set to {chain}, I double checked.",
        "At first I thought I had picked the wrong chain but no.",
    ),
    "gas_fee_question": (
        "Gas was pretty high but that's not the issue.",
        "I paid around {fee} in gas for this.",
        "I have enough ETH for the fees.",
    ),
    "failed_swap": (
        "I also had a swap fail this morning but that's a separate thing.",
        "This happened right after a failed swap, not sure if related.",
        "Earlier a swap errored out on me too, maybe it is the same problem.",
    ),
    "bridge_delay": (
        "Last time I bridged it took forever but it eventually arrived.",
        "The funds came in through a bridge a few days ago.",
        "I used to bridge a lot without problems.",
    ),
    "phishing_report": (
        "I'm a bit worried it could be a scam.",
        "I haven't clicked any weird links as far as I know.",
        "Could this be some kind of hack?",
    ),
    "account_recovery": (
        "I still have my seed phrase, so that's not the issue.",
        "I was locked out last month too but got back in.",
        "I recently restored the wallet on a new phone.",
    ),
    "refund_request": (
        "I'm not asking for a refund, I just want to understand.",
        "If it can't be fixed I'd like my fees back.",
        "Do I get the fee back in cases like this?",
    ),
    "token_not_showing": (
        "My other tokens show up fine.",
        "The balance on the main screen looks right otherwise.",
        "Also my balance looked wrong for a minute but it fixed itself.",
    ),
    "staking_question": (
        "Most of my {token} is staked so I don't have much available.",
        "I also have some funds staked through the app.",
        "I was about to stake it afterwards.",
    ),
    "nft_not_showing": (
        "My NFTs all show fine, this is only about coins.",
        "I mostly use the wallet for NFTs.",
        "I'm trying to buy an NFT with it later.",
    ),
    "hardware_wallet_connection": (
        "I sign everything with a {hw}.",
        "My {hw} is connected and working fine.",
        "Not sure if it matters but my {hw} was plugged in at the time.",
    ),
}

CONFUSABLE: dict[str, tuple[str, ...]] = {
    "stuck_transaction": (
        "gas_fee_question",
        "bridge_delay",
        "failed_swap",
        "hardware_wallet_connection",
    ),
    "wrong_network": ("token_not_showing", "bridge_delay", "stuck_transaction"),
    "gas_fee_question": ("failed_swap", "stuck_transaction", "refund_request", "staking_question"),
    "failed_swap": (
        "gas_fee_question",
        "refund_request",
        "token_not_showing",
        "hardware_wallet_connection",
    ),
    "bridge_delay": ("stuck_transaction", "wrong_network", "token_not_showing"),
    "phishing_report": (
        "account_recovery",
        "token_not_showing",
        "nft_not_showing",
        "failed_swap",
    ),
    "account_recovery": ("phishing_report", "hardware_wallet_connection", "token_not_showing"),
    "refund_request": ("failed_swap", "gas_fee_question", "bridge_delay"),
    "token_not_showing": (
        "wrong_network",
        "nft_not_showing",
        "failed_swap",
        "staking_question",
    ),
    "staking_question": ("gas_fee_question", "token_not_showing", "hardware_wallet_connection"),
    "nft_not_showing": ("token_not_showing", "phishing_report", "bridge_delay"),
    "hardware_wallet_connection": ("account_recovery", "failed_swap", "stuck_transaction"),
}

# --------------------------------------------------------------------------------------------
# Intent-neutral parts
# --------------------------------------------------------------------------------------------

OPENINGS = (
    "hi",
    "Hi,",
    "hello team",
    "Hello,",
    "hey",
    "gm",
    "gm team,",
    "URGENT:",
    "URGENT!!!",
    "Good morning,",
    "Dear support,",
    "yo",
    "help!",
    "Hi there,",
    "hey guys",
    "Hello support team,",
    "Hi support,",
    "hello?",
    "Hey, quick question.",
    "Good evening.",
)

PLATFORMS = (
    "I'm using the mobile app on Android.",
    "I'm on iOS with the latest version of the app.",
    "I'm using the Chrome extension.",
    "I'm using the Brave browser extension.",
)

CONTEXT = (
    "I've been using this wallet for about two years and never had an issue.",
    "Sorry if this is a dumb question, I'm new to crypto.",
    "I already checked the FAQ.",
    "I already restarted the app and cleared the cache.",
    "This is the first time this has happened.",
    "A friend recommended your wallet.",
    "I'm not very technical.",
    "I've tried this on both my phone and my laptop.",
    "I read the help center but it didn't answer my question.",
    "i have been waiting on the chat for a while so trying here",
    "Long time user here.",
    "This is my main wallet so it's kind of important.",
    "I updated the app yesterday.",
    "english is not my first language, sorry.",
)

RAMBLE = (
    "I need these funds to pay rent this week so this is really stressing me out.",
    "I've tried everything I could think of, including reinstalling the app twice and switching "
    "between wifi and mobile data.",
    "Honestly I'm close to moving to another wallet if this keeps happening.",
    "The last time I contacted support it took four days to hear back, so I hope this is faster.",
    "I'm writing this from my work computer so I can't send screenshots right now, but I can "
    "send them later tonight.",
    "For context I mostly just hold and rarely make transactions, so I'm not super familiar "
    "with how all of this works.",
    "I asked in the community chat and got three different answers, none of which worked.",
    "My brother set this wallet up for me a while ago and he is travelling, so I can't ask him.",
    "I watched a couple of videos about it but they all seem to use an older version of the app "
    "that looks different.",
)

SIGNOFFS = (
    "thanks",
    "Thanks!",
    "thx",
    "Thank you in advance.",
    "pls help",
    "Any help appreciated.",
    "Cheers, {handle}",
    "- {handle}",
    "Regards",
    "please respond asap",
    "ty",
    "Waiting for your reply.",
    "Thanks a lot, {handle}",
    "help me please",
    "Best, {handle}",
)

SHORT_SUFFIXES = ("", "", "", " again", " pls", "!!", "??", " help", " urgent")

# Words replaced when building the deliberate near-duplicate (first one found is swapped).
NEAR_DUP_SWAPS = (
    ("hours", "hrs"),
    ("funds", "money"),
    ("pls help", "please help"),
    ("Hello", "Hi"),
    ("still", "yet"),
)

SEED_WORDS = "avocado arrow castle ocean tiger album pencil river anchor guitar autumn zoo"


@dataclass
class Row:
    text: str
    intent: str
    tag: str = ""


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def hex_string(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HEX) for _ in range(n))


def amount(rng: random.Random, token: str) -> str:
    if token in ("ETH", "WBTC"):  # keep amounts of the pricey coins plausible
        if rng.random() < 0.5:
            return f"0.{rng.randrange(1, 100):02d}"
        return f"{rng.randrange(1, 10)}.{rng.randrange(1, 10)}"
    style = rng.randrange(5)
    if style == 0:
        return f"0.{rng.randrange(1, 100):02d}"
    if style == 1:
        return str(rng.randrange(5, 1000))
    if style == 2:
        return f"{rng.randrange(1, 20)},{rng.randrange(0, 1000):03d}"
    if style == 3:
        return f"{rng.randrange(1, 50)}.{rng.randrange(1, 10)}"
    return str(rng.choice((50, 100, 200, 250, 500, 1000, 1500, 3000)))


def fee(rng: random.Random) -> str:
    if rng.random() < 0.7:
        cents = f".{rng.randrange(10, 100)}" if rng.random() < 0.4 else ""
        return f"${rng.randrange(2, 120)}{cents}"
    return f"0.00{rng.randrange(1, 10)} ETH"


def make_slots(rng: random.Random) -> dict[str, str]:
    chain, chain2 = rng.sample(CHAINS, 2)
    token, token2 = rng.sample(TOKENS, 2)
    stake = rng.choice(STAKE_TOKENS)
    dur = rng.choice(DURATIONS)
    since = rng.choice(SINCE) if rng.random() < 0.5 else f"for {rng.choice(DURATIONS)}"
    return {
        "chain": chain,
        "chain2": chain2,
        "token": token,
        "token2": token2,
        "stake": stake,
        "amount": amount(rng, token),
        "amount2": amount(rng, token2),
        "balance": amount(rng, token),
        "stake_amount": amount(rng, stake),
        "usd": f"${rng.choice((50, 75, 100, 150, 200, 300, 500))}",
        "dur": dur,
        "since": since,
        "dex": rng.choice(DEXES),
        "bridge": rng.choice(BRIDGES),
        "market": rng.choice(MARKETS),
        "hw": rng.choice(HARDWARE),
        "fee": fee(rng),
        "gwei": f"{rng.randrange(8, 180)} gwei",
        "slip": rng.choice(SLIPPAGES),
        "pct": rng.choice(PERCENTS),
        "nonce": str(rng.randrange(3, 400)),
        "nftid": str(rng.randrange(1, 10000)),
        "eth_price": f"0.{rng.randrange(1, 100):02d}",
        "order": f"ORD-{rng.randrange(100000, 1000000)}",
        "tx": "0x" + hex_string(rng, 64),
        "addr": "0x" + hex_string(rng, 40),
        "handle": rng.choice(HANDLES),
        "scam_handle": rng.choice(SCAM_HANDLES),
    }


REPEATABLE = frozenset({"tx", "addr", "amount"})


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def shout(text: str) -> str:
    """Upper-case the words of a fragment, leaving hashes and addresses alone."""
    return " ".join(w if w.lower().startswith("0x") else w.upper() for w in text.split(" "))


def typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swap adjacent letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # doubled letter


WORD_RE = re.compile(r"^([A-Za-z]{4,})([^A-Za-z0-9]*)$")


def add_typos(rng: random.Random, text: str, n: int) -> str:
    words = text.split(" ")
    eligible = [i for i, w in enumerate(words) if WORD_RE.match(w)]
    for i in rng.sample(eligible, min(n, len(eligible))):
        m = WORD_RE.match(words[i])
        assert m is not None
        words[i] = typo(rng, m.group(1)) + m.group(2)
    return " ".join(words)


def strip_punctuation(rng: random.Random, text: str) -> str:
    text = re.sub(r"[.,](?=\s|$)", "", text)
    if rng.random() < 0.5:
        text = re.sub(r"(?<=[a-z])'(?=[a-z])", "", text)
    return text


def add_noise(rng: random.Random, text: str) -> str:
    if rng.random() < 0.15:
        text = add_typos(rng, text, 1 if rng.random() < 0.7 else 2)
    if rng.random() < 0.15:
        text = strip_punctuation(rng, text)
    if rng.random() < 0.18:
        text = text.lower()
    if rng.random() < 0.06:
        text = text.rstrip(".!? ") + rng.choice(("!!!", "??", "!!", "???"))
    return text


def make_ticket(rng: random.Random, intent: str) -> tuple[str, str]:
    """Return ``(ticket text, core sentence before noise)`` for one ticket of ``intent``."""
    slots = make_slots(rng)
    if rng.random() < 0.09:
        text = rng.choice(SHORT[intent])
        if text[-1].isalpha():
            text += rng.choice(SHORT_SUFFIXES)
        return add_noise(rng, text), text

    rambling = rng.random() < 0.10
    template = rng.choice(CORE[intent])
    core = template.format(**slots)
    if rng.random() < 0.03:
        core = shout(core)

    before: list[str] = []
    after: list[str] = []
    if rng.random() < 0.5:
        before.append(rng.choice(OPENINGS))
    if rng.random() < 0.25:
        before.append(rng.choice(PLATFORMS))
    n_context = rng.choices((0, 1, 2), weights=(60, 32, 8))[0] + (1 if rambling else 0)
    before.extend(rng.sample(CONTEXT, n_context))
    if rambling:
        before.append(rng.choice(RAMBLE))
    n_details = rng.choices((0, 1, 2), weights=(50, 38, 12))[0] + (1 if rambling else 0)
    # Skip details that would repeat a hash, address or amount already in the core sentence.
    details = [d for d in DETAILS[intent] if not fields(d) & fields(template) & REPEATABLE]
    after.extend(d.format(**slots) for d in rng.sample(details, n_details))
    if rambling:
        after.append(rng.choice([r for r in RAMBLE if r not in before]))
    if rng.random() < 0.15:  # hard case: mention a confusable intent's topic too
        other = rng.choice(CONFUSABLE[intent])
        side = rng.choice(SIDE[other]).format(**slots)
        after.append(side)
    if rng.random() < 0.4:
        after.append(rng.choice(SIGNOFFS).format(**slots))

    parts = [*before, capitalize_first(core) if rng.random() < 0.6 else core, *after]
    return add_noise(rng, " ".join(parts)), core


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def similarity_words(text: str) -> set[str]:
    """Word set used for near-duplicate checks; hashes, addresses and numbers are masked."""
    text = re.sub(r"0x[0-9a-fA-F]+", " hexvalue ", text)
    return set(re.sub(r"[0-9]+", "0", normalize(text)).split())


def too_similar(words: set[str], seen: list[set[str]]) -> bool:
    """True if ``words`` overlaps an earlier ticket enough to look like a near-duplicate.

    Rejects a word-set Jaccard of 0.6 or more, and (for tickets of six or more distinct words)
    80% containment of the smaller set in the larger, so that the same core sentence re-used
    with only a greeting or sign-off changed is not accepted twice.
    """
    for other in seen:
        shared = len(words & other)
        if shared / len(words | other) >= 0.6:
            return True
        smaller = min(len(words), len(other))
        if smaller >= 6 and shared / smaller >= 0.8:
            return True
    return False


def generate_base(rng: random.Random) -> list[Row]:
    labels = [
        intent
        for intent, target in TARGETS.items()
        for _ in range(target - EXTRA_ROWS.get(intent, 0))
    ]
    rng.shuffle(labels)
    rows: list[Row] = []
    cores: set[str] = set()
    word_sets: list[set[str]] = []
    for intent in labels:
        for _ in range(10_000):
            text, core = make_ticket(rng, intent)
            core_key = " ".join(sorted(similarity_words(core)))
            words = similarity_words(text)
            # Each filled-in core sentence is used once, and no ticket may closely resemble an
            # earlier one; the only near-duplicates are the deliberate ones added later.
            if core_key in cores or too_similar(words, word_sets):
                continue
            cores.add(core_key)
            word_sets.append(words)
            rows.append(Row(text, intent))
            break
        else:
            raise RuntimeError(f"could not draw another distinct ticket for {intent}")
    return rows


# --------------------------------------------------------------------------------------------
# Deliberate problems for the data-audit demo
# --------------------------------------------------------------------------------------------


def pick_source(rows: list[Row], intent: str) -> Row:
    """First untagged row of ``intent`` with 8-40 words, mixed case and no hex strings."""
    for row in rows:
        n = len(row.text.split())
        if row.tag or row.intent != intent or not 8 <= n <= 40:
            continue
        if "0x" in row.text or row.text.lower() == row.text:
            continue
        return row
    raise RuntimeError(f"no duplicate source found for {intent}")


def insert_away(rng: random.Random, rows: list[Row], new: Row, anchor: Row | None) -> None:
    """Insert ``new`` at a random position at least 40 rows away from ``anchor``."""
    while True:
        pos = rng.randrange(len(rows) + 1)
        if anchor is None or abs(pos - rows.index(anchor)) > 40:
            rows.insert(pos, new)
            return


def add_deliberate_problems(rng: random.Random, rows: list[Row]) -> None:
    # Three exact duplicate pairs; the third differs only by case and whitespace.
    for n, intent in ((1, "failed_swap"), (2, "token_not_showing")):
        src = pick_source(rows, intent)
        src.tag = f"duplicate_{n}"
        insert_away(rng, rows, Row(src.text, src.intent, f"duplicate_{n}"), src)
    src = pick_source(rows, "gas_fee_question")
    src.tag = "duplicate_3_case_whitespace"
    words = src.text.lower().split(" ")
    variant = " ".join(words[:3]) + "  " + " ".join(words[3:])
    insert_away(rng, rows, Row(variant, src.intent, "duplicate_3_case_whitespace"), src)

    # One near-duplicate pair: a single word swapped.
    for row in rows:
        if row.tag or row.intent != "bridge_delay" or "0x" in row.text:
            continue
        swap = next(((a, b) for a, b in NEAR_DUP_SWAPS if re.search(rf"\b{a}\b", row.text)), None)
        if swap is None or not 10 <= len(row.text.split()) <= 40:
            continue
        row.tag = "near_duplicate"
        text = re.sub(rf"\b{swap[0]}\b", swap[1], row.text, count=1)
        insert_away(rng, rows, Row(text, row.intent, "near_duplicate"), row)
        break
    else:
        raise RuntimeError("no near-duplicate source found")

    # One conflicting pair: identical text, two different labels.
    conflict = "my swap failed and I still paid the gas fee, can I get that back?"
    first = Row(conflict, "failed_swap", "label_conflict")
    insert_away(rng, rows, first, None)
    insert_away(rng, rows, Row(conflict, "refund_request", "label_conflict"), first)

    # Secrets and personal data.
    specials = (
        Row(
            "I reinstalled the app and now it says my recovery phrase is invalid. I typed it "
            f"exactly: {SEED_WORDS}. Please restore my wallet, I can't get in.",
            "account_recovery",
            "seed_phrase",
        ),
        Row(
            "my transaction has been pending for 3 days and I cant cancel it. can your team push "
            f"it through for me? my private key is {hex_string(rng, 64)} if you need it",
            "stuck_transaction",
            "private_key",
        ),
        Row(
            "Hello, I bridged 420 USDC from Arbitrum to Base 6 hours ago and still nothing on "
            "Base. Please email me back at lunar.toast@example.com, I don't check this chat "
            "often.",
            "bridge_delay",
            "email",
        ),
        Row(
            "I was charged twice for the same card purchase of 150 USDC and I want one of them "
            "refunded. You can call me on +1 555 0100 234 any time after 5pm.",
            "refund_request",
            "phone",
        ),
    )
    for row in specials:
        insert_away(rng, rows, row, None)


def write_csv(rows: list[Row], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(["text", "intent"])
        for row in rows:
            writer.writerow([row.text, row.intent])


def build(seed: int = SEED) -> list[Row]:
    rng = random.Random(seed)
    rows = generate_base(rng)
    add_deliberate_problems(rng, rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    rows = build(args.seed)
    write_csv(rows, args.out)
    print(f"wrote {len(rows)} rows to {args.out}")
    for tag in sorted({r.tag for r in rows if r.tag}):
        numbers = [str(i) for i, r in enumerate(rows, start=1) if r.tag == tag]
        print(f"  {tag}: rows {', '.join(numbers)}")


if __name__ == "__main__":
    main()
