"""Write the contract-review example's Solidity contracts with planted issues (seeded; the same
files byte for byte on every run).

    python examples/contract_review/make_contracts.py

Each contract is a small ether pool (a vault, a treasury, a tip jar...) assembled from function
templates. Most functions are written the way the project's style guide (STYLE.md) wants; in a
contract with planted issues, one to three functions carry exactly one issue each, at a known
line. Writes:

- `contracts/train/*.sol` (360 contracts) and `contracts/test/*.sol` (48: 12 clean, 36 with
  issues); the test contracts use other names, and half of their planted issues come from
  templates held out of training (`held_out: true` in `expected.jsonl`);
- `expected.jsonl`: one line per contract: its file, split, and planted issues (line, pattern,
  function, security-critical, the comment the reviewer should write).

`build_lines.py` then runs the analyzer and turns the contracts into the reviewer's training rows.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from style import PATTERNS, comment_text

HERE = Path(__file__).parent
SEED = 20261205
TRAIN_CONTRACTS = 180
EXTRA_TRAIN_CONTRACTS = 180
TEST_CONTRACTS = 48
TEST_CLEAN = 12

# Placeholders: <L> ledger mapping, <O> owner, <F> fee (basis points), <T> running total,
# <M> member list, <fn> the function's name. A line ending in `@@pattern` is the planted issue.
NAMES = {
    "<L>": ["balances", "deposits", "credits", "stakes", "contributions"],
    "<O>": ["owner", "admin", "governor", "treasurer"],
    "<F>": ["feeBps", "protocolFeeBps", "serviceFeeBps"],
    "<T>": ["totalDeposited", "totalHeld", "poolTotal"],
    "<M>": ["members", "holders", "participants", "payees"],
}
THEMES = [
    ("Vault", "An ether vault with per-account balances."),
    ("Treasury", "A community treasury that pays its members."),
    ("StakingPool", "A pool that records each staker's ether."),
    ("TipJar", "A tip jar whose owner pays out contributors."),
    ("Escrow", "An escrow that holds deposits until they are withdrawn."),
    ("Crowdfund", "A crowdfund that records contributions."),
    ("RewardPool", "A reward pool shared by its participants."),
    ("Payroll", "A payroll account that credits payees."),
    ("Savings", "A savings box with a protocol fee."),
    ("Splitter", "A splitter that shares incoming ether."),
    ("GrantPool", "A grant pool run by a governor."),
    ("MembershipFund", "A membership fund with equal shares."),
]


@dataclass
class Slot:
    """One function role: its possible names, clean bodies, and bodies with one planted issue.
    A body is (text, held_out): held-out bodies appear only in the test contracts."""

    names: list[str]
    clean: list[str]
    planted: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)


SLOTS: dict[str, Slot] = {
    "deposit": Slot(
        ["deposit", "fund", "contribute"],
        [
            """/// @notice Add the ether sent to the caller's balance.
function <fn>() external payable {
    require(!paused, "paused");
    require(msg.value >= MIN_DEPOSIT, "below minimum");
    <L>[msg.sender] += msg.value;
    <T> += msg.value;
    emit Deposited(msg.sender, msg.value);
}""",
        ],
        {
            "magic-number": [
                (
                    """/// @notice Add the ether sent to the caller's balance.
function <fn>() external payable {
    require(!paused, "paused");
    require(msg.value >= 10000000000000000, "below minimum"); @@magic-number
    <L>[msg.sender] += msg.value;
    <T> += msg.value;
    emit Deposited(msg.sender, msg.value);
}""",
                    False,
                ),
                (
                    """/// @notice Add the ether sent to the caller's balance, up to a cap.
function <fn>() external payable {
    require(!paused, "paused");
    require(<L>[msg.sender] + msg.value <= 250 ether, "over the cap"); @@magic-number
    <L>[msg.sender] += msg.value;
    <T> += msg.value;
    emit Deposited(msg.sender, msg.value);
}""",
                    True,
                ),
            ],
        },
    ),
    "withdraw": Slot(
        ["withdraw", "redeem", "takeOut"],
        [
            """/// @notice Send `amount` of the caller's balance back to the caller.
function <fn>(uint256 amount) external {
    require(<L>[msg.sender] >= amount, "insufficient balance");
    <L>[msg.sender] -= amount;
    <T> -= amount;
    (bool ok, ) = payable(msg.sender).call{value: amount}("");
    require(ok, "transfer failed");
    emit Withdrawn(msg.sender, amount);
}""",
            """/// @notice Send `amount` of the caller's balance back, \
less the protocol fee.
function <fn>(uint256 amount) external {
    require(<L>[msg.sender] >= amount, "insufficient balance");
    uint256 fee = amount * <F> / BPS_DENOMINATOR;
    <L>[msg.sender] -= amount;
    <T> -= amount - fee;
    (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
    require(ok, "transfer failed");
    emit Withdrawn(msg.sender, amount - fee);
}""",
        ],
        {
            "reentrancy": [
                (
                    """/// @notice Send `amount` of the caller's balance back to the caller.
function <fn>(uint256 amount) external {
    require(<L>[msg.sender] >= amount, "insufficient balance");
    (bool ok, ) = payable(msg.sender).call{value: amount}(""); @@reentrancy
    require(ok, "transfer failed");
    <L>[msg.sender] -= amount;
    <T> -= amount;
    emit Withdrawn(msg.sender, amount);
}""",
                    False,
                ),
                (
                    """/// @notice Send `amount` of the caller's balance back, \
less the protocol fee.
function <fn>(uint256 amount) external {
    uint256 available = <L>[msg.sender];
    require(available >= amount, "insufficient balance");
    uint256 fee = amount * <F> / BPS_DENOMINATOR;
    (bool sent, ) = msg.sender.call{value: amount - fee}(""); @@reentrancy
    require(sent, "transfer failed");
    <L>[msg.sender] = available - amount;
    <T> -= amount - fee;
}""",
                    True,
                ),
            ],
            "precision-loss": [
                (
                    """/// @notice Send `amount` of the caller's balance back, \
less the protocol fee.
function <fn>(uint256 amount) external {
    require(<L>[msg.sender] >= amount, "insufficient balance");
    uint256 fee = amount / BPS_DENOMINATOR * <F>; @@precision-loss
    <L>[msg.sender] -= amount;
    <T> -= amount - fee;
    (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
    require(ok, "transfer failed");
    emit Withdrawn(msg.sender, amount - fee);
}""",
                    False,
                ),
            ],
        },
    ),
    "claim": Slot(
        ["claim", "withdrawAll", "exitPool"],
        [
            """/// @notice Send the caller's whole balance back to the caller.
function <fn>() external {
    uint256 amount = <L>[msg.sender];
    require(amount > 0, "nothing to claim");
    <L>[msg.sender] = 0;
    <T> -= amount;
    (bool ok, ) = payable(msg.sender).call{value: amount}("");
    require(ok, "transfer failed");
    emit Withdrawn(msg.sender, amount);
}""",
        ],
        {
            "reentrancy": [
                (
                    """/// @notice Send the caller's whole balance back to the caller.
function <fn>() external {
    uint256 amount = <L>[msg.sender];
    require(amount > 0, "nothing to claim");
    (bool ok, ) = payable(msg.sender).call{value: amount}(""); @@reentrancy
    require(ok, "transfer failed");
    <L>[msg.sender] = 0;
    <T> -= amount;
    emit Withdrawn(msg.sender, amount);
}""",
                    False,
                ),
            ],
            "unchecked-call": [
                (
                    """/// @notice Send the caller's whole balance back to the caller.
function <fn>() external {
    uint256 amount = <L>[msg.sender];
    require(amount > 0, "nothing to claim");
    <L>[msg.sender] = 0;
    <T> -= amount;
    payable(msg.sender).send(amount); @@unchecked-call
    emit Withdrawn(msg.sender, amount);
}""",
                    False,
                ),
            ],
        },
    ),
    "setFee": Slot(
        ["setFee", "updateFee", "setFeeBps"],
        [
            """/// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
function <fn>(uint256 newFee) external onlyOwner {
    require(newFee <= MAX_FEE_BPS, "fee too high");
    emit FeeChanged(<F>, newFee);
    <F> = newFee;
}""",
        ],
        {
            "missing-access-control": [
                (
                    """/// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
function <fn>(uint256 newFee) external { @@missing-access-control
    require(newFee <= MAX_FEE_BPS, "fee too high");
    emit FeeChanged(<F>, newFee);
    <F> = newFee;
}""",
                    False,
                ),
            ],
            "tx-origin": [
                (
                    """/// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
function <fn>(uint256 newFee) external {
    require(tx.origin == <O>, "not owner"); @@tx-origin
    require(newFee <= MAX_FEE_BPS, "fee too high");
    emit FeeChanged(<F>, newFee);
    <F> = newFee;
}""",
                    False,
                ),
            ],
            "missing-event": [
                (
                    """/// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
function <fn>(uint256 newFee) external onlyOwner { @@missing-event
    require(newFee <= MAX_FEE_BPS, "fee too high");
    <F> = newFee;
}""",
                    False,
                ),
            ],
            "magic-number": [
                (
                    """/// @notice Set the protocol fee in basis points.
function <fn>(uint256 newFee) external onlyOwner {
    require(newFee <= 500, "fee too high"); @@magic-number
    emit FeeChanged(<F>, newFee);
    <F> = newFee;
}""",
                    False,
                ),
            ],
        },
    ),
    "transferOwnership": Slot(
        ["transferOwnership", "setOwner", "changeOwner"],
        [
            """/// @notice Hand the contract to `newOwner`.
function <fn>(address newOwner) external onlyOwner {
    require(newOwner != address(0), "zero address");
    emit OwnerChanged(<O>, newOwner);
    <O> = newOwner;
}""",
        ],
        {
            "missing-access-control": [
                (
                    """/// @notice Hand the contract to `newOwner`.
function <fn>(address newOwner) external { @@missing-access-control
    require(newOwner != address(0), "zero address");
    emit OwnerChanged(<O>, newOwner);
    <O> = newOwner;
}""",
                    True,
                ),
            ],
            "tx-origin": [
                (
                    """/// @notice Hand the contract to `newOwner`.
function <fn>(address newOwner) external {
    require(newOwner != address(0), "zero address");
    require(tx.origin == <O>, "caller is not the owner"); @@tx-origin
    emit OwnerChanged(<O>, newOwner);
    <O> = newOwner;
}""",
                    True,
                ),
            ],
            "missing-event": [
                (
                    """/// @notice Hand the contract to `newOwner`.
function <fn>(address newOwner) external onlyOwner { @@missing-event
    require(newOwner != address(0), "zero address");
    <O> = newOwner;
}""",
                    True,
                ),
            ],
            "shadowed-state": [
                (
                    """/// @notice Hand the contract to `newOwner`.
function <fn>(address newOwner) external onlyOwner {
    require(newOwner != address(0), "zero address");
    address <O> = newOwner; @@shadowed-state
    emit OwnerChanged(msg.sender, <O>);
}""",
                    False,
                ),
            ],
        },
    ),
    "sweep": Slot(
        ["sweep", "rescueEther", "collectFees"],
        [
            """/// @notice Send `amount` of ether the pool does not owe anyone to `to`.
function <fn>(address payable to, uint256 amount) external onlyOwner {
    require(to != address(0), "zero address");
    require(address(this).balance - <T> >= amount, "would touch deposits");
    (bool ok, ) = to.call{value: amount}("");
    require(ok, "sweep failed");
    emit Swept(to, amount);
}""",
            """/// @notice Send `amount` of ether the pool does not owe anyone to `to`.
function <fn>(address payable to, uint256 amount) external onlyOwner {
    require(address(this).balance - <T> >= amount, "would touch deposits");
    emit Swept(to, amount);
    to.transfer(amount);
}""",
        ],
        {
            "unchecked-call": [
                (
                    """/// @notice Send `amount` of ether the pool does not owe anyone to `to`.
function <fn>(address payable to, uint256 amount) external onlyOwner {
    require(to != address(0), "zero address");
    require(address(this).balance - <T> >= amount, "would touch deposits");
    to.send(amount); @@unchecked-call
    emit Swept(to, amount);
}""",
                    False,
                ),
                (
                    """/// @notice Send `amount` of ether the pool does not owe anyone to `to`.
function <fn>(address payable to, uint256 amount) external onlyOwner {
    require(address(this).balance - <T> >= amount, "would touch deposits");
    to.call{value: amount}(""); @@unchecked-call
    emit Swept(to, amount);
}""",
                    True,
                ),
            ],
            "missing-access-control": [
                (
                    """/// @notice Send `amount` of ether the pool does not owe anyone to `to`.
function <fn>(address payable to, uint256 amount) external { @@missing-access-control
    require(to != address(0), "zero address");
    require(address(this).balance - <T> >= amount, "would touch deposits");
    (bool ok, ) = to.call{value: amount}("");
    require(ok, "sweep failed");
    emit Swept(to, amount);
}""",
                    False,
                ),
            ],
            "tx-origin": [
                (
                    """/// @notice Send `amount` of ether the pool does not owe anyone to `to`.
function <fn>(address payable to, uint256 amount) external {
    require(tx.origin == <O>, "not owner"); @@tx-origin
    require(address(this).balance - <T> >= amount, "would touch deposits");
    (bool ok, ) = to.call{value: amount}("");
    require(ok, "sweep failed");
    emit Swept(to, amount);
}""",
                    True,
                ),
            ],
        },
    ),
    "distribute": Slot(
        ["distribute", "payMembers", "creditBatch"],
        [
            """/// @notice Credit `share` to members `start` .. `start + count` \
(at most MAX_BATCH).
function <fn>(uint256 start, uint256 count, uint256 share) external onlyOwner {
    require(count <= MAX_BATCH, "batch too large");
    uint256 end = start + count;
    require(end <= <M>.length, "past the end");
    for (uint256 i = start; i < end; i++) {
        <L>[<M>[i]] += share;
    }
    <T> += share * count;
}""",
        ],
        {
            "unbounded-loop": [
                (
                    """/// @notice Credit `share` to every member.
function <fn>(uint256 share) external onlyOwner {
    for (uint256 i = 0; i < <M>.length; i++) { @@unbounded-loop
        <L>[<M>[i]] += share;
    }
    <T> += share * <M>.length;
}""",
                    False,
                ),
                (
                    """/// @notice Split `amount` equally between all members.
function <fn>(uint256 amount) external onlyOwner {
    uint256 count = <M>.length;
    require(count > 0, "no members");
    uint256 share = amount / count;
    for (uint256 i = 0; i < count; i++) { @@unbounded-loop
        <L>[<M>[i]] += share;
    }
    <T> += share * count;
}""",
                    True,
                ),
            ],
            "missing-access-control": [
                (
                    """/// @notice Credit `share` to members `start` .. `start + count` \
(at most MAX_BATCH).
function <fn>(uint256 start, uint256 count, uint256 share) external { @@missing-access-control
    require(count <= MAX_BATCH, "batch too large");
    uint256 end = start + count;
    require(end <= <M>.length, "past the end");
    for (uint256 i = start; i < end; i++) {
        <L>[<M>[i]] += share;
    }
    <T> += share * count;
}""",
                    True,
                ),
            ],
            "magic-number": [
                (
                    """/// @notice Credit `share` to members `start` .. `start + count`.
function <fn>(uint256 start, uint256 count, uint256 share) external onlyOwner {
    require(count <= 50, "batch too large"); @@magic-number
    uint256 end = start + count;
    require(end <= <M>.length, "past the end");
    for (uint256 i = start; i < end; i++) {
        <L>[<M>[i]] += share;
    }
    <T> += share * count;
}""",
                    False,
                ),
            ],
        },
    ),
    "join": Slot(
        ["join", "register", "enroll"],
        [
            """/// @notice Add the caller to the member list once.
function <fn>() external {
    require(!isMember[msg.sender], "already a member");
    isMember[msg.sender] = true;
    <M>.push(msg.sender);
}""",
        ],
    ),
    "quoteFee": Slot(
        ["quoteFee", "feeFor", "previewFee"],
        [
            """/// @notice The protocol fee on `amount`, in wei.
function <fn>(uint256 amount) public view returns (uint256) {
    return amount * <F> / BPS_DENOMINATOR;
}""",
        ],
        {
            "precision-loss": [
                (
                    """/// @notice The protocol fee on `amount`, in wei.
function <fn>(uint256 amount) public view returns (uint256) {
    return amount / BPS_DENOMINATOR * <F>; @@precision-loss
}""",
                    False,
                ),
                (
                    """/// @notice What `amount` is worth after the protocol fee, in wei.
function <fn>(uint256 amount) public view returns (uint256) {
    uint256 perUnit = amount / BPS_DENOMINATOR;
    return perUnit * (BPS_DENOMINATOR - <F>); @@precision-loss
}""",
                    True,
                ),
            ],
            "magic-number": [
                (
                    """/// @notice The protocol fee on `amount`, in wei.
function <fn>(uint256 amount) public view returns (uint256) {
    return amount * <F> / 10000; @@magic-number
}""",
                    False,
                ),
            ],
            "shadowed-state": [
                (
                    """/// @notice The largest fee `amount` can be charged, in wei.
function <fn>(uint256 amount) public pure returns (uint256) {
    uint256 <F> = MAX_FEE_BPS; @@shadowed-state
    return amount * <F> / BPS_DENOMINATOR;
}""",
                    True,
                ),
            ],
        },
    ),
    "shareOf": Slot(
        ["shareOf", "poolShare", "sharePercent"],
        [
            """/// @notice `account`'s share of the pool, in basis points.
function <fn>(address account) external view returns (uint256) {
    if (<T> == 0) {
        return 0;
    }
    return <L>[account] * BPS_DENOMINATOR / <T>;
}""",
        ],
        {
            "shadowed-state": [
                (
                    """/// @notice `account`'s share of the pool, in basis points.
function <fn>(address account) external view returns (uint256) {
    uint256 <T> = address(this).balance; @@shadowed-state
    if (<T> == 0) {
        return 0;
    }
    return <L>[account] * BPS_DENOMINATOR / <T>;
}""",
                    False,
                ),
            ],
            "precision-loss": [
                (
                    """/// @notice `account`'s share of the pool, in basis points.
function <fn>(address account) external view returns (uint256) {
    if (<T> == 0) {
        return 0;
    }
    return <L>[account] / <T> * BPS_DENOMINATOR; @@precision-loss
}""",
                    False,
                ),
            ],
        },
    ),
    "totalHeld": Slot(
        ["heldBalance", "pooledEther", "accountedEther"],
        [
            """/// @notice The ether the pool owes its members.
function <fn>() external view returns (uint256) {
    return <T>;
}""",
        ],
        {
            "unbounded-loop": [
                (
                    """/// @notice The ether the pool owes its members.
function <fn>() external view returns (uint256 sum) {
    for (uint256 i = 0; i < <M>.length; i++) { @@unbounded-loop
        sum += <L>[<M>[i]];
    }
}""",
                    False,
                ),
            ],
        },
    ),
    "pause": Slot(
        ["setPaused", "pauseDeposits", "setHalted"],
        [
            """/// @notice Stop or resume deposits.
function <fn>(bool value) external onlyOwner {
    paused = value;
    emit PauseChanged(value);
}""",
        ],
        {
            "missing-access-control": [
                (
                    """/// @notice Stop or resume deposits.
function <fn>(bool value) external { @@missing-access-control
    paused = value;
    emit PauseChanged(value);
}""",
                    False,
                ),
            ],
            "missing-event": [
                (
                    """/// @notice Stop or resume deposits.
function <fn>(bool value) external onlyOwner { @@missing-event
    paused = value;
}""",
                    False,
                ),
            ],
            "tx-origin": [
                (
                    """/// @notice Stop or resume deposits.
function <fn>(bool value) external {
    require(tx.origin == <O>, "not owner"); @@tx-origin
    paused = value;
    emit PauseChanged(value);
}""",
                    False,
                ),
            ],
        },
    ),
    "refund": Slot(
        ["refund", "returnFunds", "repay"],
        [
            """/// @notice Return `account`'s whole balance to it.
function <fn>(address payable account) external onlyOwner {
    uint256 amount = <L>[account];
    <L>[account] = 0;
    <T> -= amount;
    (bool ok, ) = account.call{value: amount}("");
    require(ok, "refund failed");
    emit Withdrawn(account, amount);
}""",
        ],
        {
            "unchecked-call": [
                (
                    """/// @notice Return `account`'s whole balance to it.
function <fn>(address payable account) external onlyOwner {
    uint256 amount = <L>[account];
    <L>[account] = 0;
    <T> -= amount;
    account.call{value: amount}(""); @@unchecked-call
    emit Withdrawn(account, amount);
}""",
                    False,
                ),
            ],
            "reentrancy": [
                (
                    """/// @notice Return `account`'s whole balance to it.
function <fn>(address payable account) external onlyOwner {
    uint256 amount = <L>[account];
    (bool ok, ) = account.call{value: amount}(""); @@reentrancy
    require(ok, "refund failed");
    <L>[account] = 0;
    <T> -= amount;
}""",
                    True,
                ),
            ],
        },
    ),
}

# Issues made by changing any clean function: its NatSpec line removed, or its name out of style.
GENERIC = ("missing-natspec", "naming")

HEADER = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title <title>
/// @notice <notice>
contract <name> {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public <O>;
    uint256 public <F>;
    uint256 public <T>;
    bool public paused;
    mapping(address => uint256) public <L>;
    mapping(address => bool) public isMember;
    address[] public <M>;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == <O>, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        <O> = msg.sender;
        <F> = initialFee;
    }
"""

MARK = re.compile(r"\s*@@([a-z-]+)\s*$")


def bad_name(name: str, rng: random.Random, held_out: bool) -> str:
    """A function name out of the style guide's mixedCase rule."""
    if held_out:
        return "_" + name  # a leading underscore on a public function
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
    if snake != name and rng.random() < 0.5:
        return snake
    return name[0].upper() + name[1:]


@dataclass
class Planted:
    line: int
    pattern: str
    function: str
    held_out: bool


def render_function(
    body: str, fn: str, names: dict[str, str], pattern: str | None
) -> tuple[list[str], int | None]:
    """The function's lines (indented one level) and the 0-based index of its planted line."""
    text = body.replace("<fn>", fn)
    for key, value in names.items():
        text = text.replace(key, value)
    lines, planted = [], None
    for i, raw in enumerate(text.splitlines()):
        mark = MARK.search(raw)
        if mark:
            raw = raw[: mark.start()]
            planted = i
        lines.append("    " + raw)
    if pattern == "missing-natspec":
        lines = [ln for ln in lines if not ln.strip().startswith("///")]
        planted = next(i for i, ln in enumerate(lines) if ln.strip().startswith("function "))
    elif pattern == "naming":
        planted = next(i for i, ln in enumerate(lines) if ln.strip().startswith("function "))
    return lines, planted


def make_contract(
    rng: random.Random, index: int, split: str, issues: int
) -> tuple[str, str, list[Planted]]:
    theme, notice = THEMES[rng.randrange(len(THEMES))]
    name = f"{theme}{split.capitalize()}{index:03d}"
    names = {key: rng.choice(values) for key, values in NAMES.items()}
    # Every pool takes deposits, has members, can pause and pays out (so no state variable is
    # left unwritten and no ether is locked); three or four other functions vary.
    payout = rng.choice(["withdraw", "claim"])
    optional = [s for s in SLOTS if s not in ("deposit", "join", "pause", "withdraw", "claim")]
    chosen = ["deposit", payout, *rng.sample(optional, rng.randint(3, 4)), "join", "pause"]
    rng.shuffle(chosen)
    # Which functions carry an issue, and which.
    carriers = rng.sample(chosen, issues)
    lines = HEADER.replace("<name>", name).replace("<title>", theme).replace("<notice>", notice)
    for key, value in names.items():
        lines = lines.replace(key, value)
    out = lines.rstrip("\n").split("\n")
    planted: list[Planted] = []
    for slot_name in chosen:
        slot = SLOTS[slot_name]
        fn = rng.choice(slot.names)
        pattern, body, held_out = None, rng.choice(slot.clean), False
        if slot_name in carriers:
            # A pattern first (each of the slot's own equally, the two generic ones 0.3 as
            # often), then one of its bodies; held-out bodies only in the test contracts.
            own = {
                p: [(b, h) for b, h in bodies if split == "test" or not h]
                for p, bodies in slot.planted.items()
            }
            own = {p: bodies for p, bodies in own.items() if bodies}
            weights = [1.0] * len(own) + [0.3] * len(GENERIC)
            pattern = rng.choices([*own, *GENERIC], weights=weights)[0]
            if pattern in own:
                body, held_out = rng.choice(own[pattern])
            else:
                body, held_out = rng.choice(slot.clean), False
            if pattern == "naming":
                held_out = split == "test" and rng.random() < 0.5
                fn = bad_name(fn, rng, held_out)
        fn_lines, where = render_function(body, fn, names, pattern)
        out.append("")
        start = len(out)
        out.extend(fn_lines)
        if pattern is not None and where is not None:
            planted.append(Planted(start + where + 1, pattern, fn.lstrip("_"), held_out))
    out.append("}")
    return name, "\n".join(out) + "\n", planted


def issue_counts(rng: random.Random, count: int, clean: int) -> list[int]:
    counts = [0] * clean + [rng.choice([1, 2, 2, 3]) for _ in range(count - clean)]
    rng.shuffle(counts)
    return counts


def main(out: Path = HERE) -> None:
    """Write the contracts under `out/contracts` and `out/expected.jsonl`."""
    rng = random.Random(SEED)
    root = out / "contracts"
    if root.exists():
        shutil.rmtree(root)
    records = []
    # The second batch of training contracts comes after the test ones, so adding it left the
    # first 180 training contracts and the test contracts as they were, byte for byte.
    for split, count, clean, first in (
        ("train", TRAIN_CONTRACTS, TRAIN_CONTRACTS // 6, 0),
        ("test", TEST_CONTRACTS, TEST_CLEAN, 0),
        ("train", EXTRA_TRAIN_CONTRACTS, EXTRA_TRAIN_CONTRACTS // 6, TRAIN_CONTRACTS),
    ):
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        for offset, issues in enumerate(issue_counts(rng, count, clean)):
            index = first + offset
            name, source, planted = make_contract(rng, index, split, issues)
            path = folder / f"{name}.sol"
            path.write_text(source, encoding="utf-8")
            source_lines = source.splitlines()
            expected = []
            for p in planted:
                why, suggestion = comment_text(p.pattern, p.function)
                expected.append(
                    {
                        "line": p.line,
                        "pattern": p.pattern,
                        "function": p.function,
                        "security_critical": PATTERNS[p.pattern].security_critical,
                        "held_out": p.held_out,
                        "code": source_lines[p.line - 1].strip(),
                        "comment": {"why": why, "suggestion": suggestion},
                    }
                )
            records.append(
                {
                    "file": str(path.relative_to(out)),
                    "contract": name,
                    "split": split,
                    "issues": sorted(expected, key=lambda e: e["line"]),
                }
            )
    with (out / "expected.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
    for split in ("train", "test"):
        rows = [r for r in records if r["split"] == split]
        planted = sum(len(r["issues"]) for r in rows)
        print(f"{split}: {len(rows)} contracts, {planted} planted issues")


if __name__ == "__main__":
    main()
