"""Generate the ethers.js v5 -> v6 migration dataset (``pairs.jsonl``).

Each row pairs a short ethers v5 snippet (ES module, 3 to 15 lines) with the same code migrated
to ethers v6. The JSONL next to this file is committed; this script reproduces it byte for
byte::

    python examples/code_migration/make_pairs.py

Snippets are assembled from hand-written "units", each one a small piece of realistic code that
exercises one migration (``ethers.providers.JsonRpcProvider`` -> ``ethers.JsonRpcProvider``,
``BigNumber`` maths -> ``bigint`` operators, ``contract.callStatic.fn()`` ->
``contract.fn.staticCall()``, ...). A snippet combines 1 to 3 migrations, optionally wrapped in
an ``export async function``, with varied variable names, quote style, indentation and comments.
Providers, signers and contracts the units need are declared on demand (or taken as function
parameters). Lines that need no change are identical in prompt and completion.

Every prompt is checked to contain a v5-only API and every completion to contain none (with
``check.py``'s regexes); ``tests/test_generate_examples.py`` also runs ``node --check`` on both.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check import find_v5_apis  # noqa: E402  (sibling module, stdlib only)

SEED = 6060
DEFAULT_OUT = HERE / "pairs.jsonl"
N_PAIRS = 240
MIN_LINES, MAX_LINES = 3, 15

# --------------------------------------------------------------------------------------------
# Names and values
# --------------------------------------------------------------------------------------------

PROVIDER_NAMES = ("provider", "rpcProvider", "l1Provider", "client", "mainnet", "chainProvider")
SIGNER_NAMES = ("signer", "wallet", "owner", "account", "deployer", "operator")
TX_NAMES = ("tx", "sent", "pending", "response", "txResponse")
RECEIPT_NAMES = ("receipt", "rcpt", "txReceipt")
RPC_URLS = (
    "process.env.RPC_URL",
    "RPC_URL",
    "config.rpcUrl",
    "{q}http://127.0.0.1:8545{q}",
    "{q}http://localhost:8545{q}",
    "process.env.SEPOLIA_RPC",
)
ADDRESS_INPUTS = (
    "process.env.RECIPIENT",
    "args.to",
    "config.treasury",
    "process.argv[2]",
    "input.address",
)
AMOUNT_INPUTS = ("{q}0.05{q}", "{q}1.5{q}", "{q}0.25{q}", "{q}250{q}", "args.amount", "form.amount")
ADDRESS_PARAMS = ("to", "recipient", "account", "user", "spender", "target", "holder")
AMOUNT_PARAMS = ("amount", "value", "qty", "amountText")
# Amounts already in base units (wei), valid as uint256 arguments in both versions.
WEI_INPUTS = ("{q}1000000{q}", "{q}250000000000000000{q}", "args.amountWei", "order.amount")
WEI_PARAMS = ("amountWei", "rawAmount", "shares", "baseAmount")
BONUS_INPUTS = ("args.bonusWei", "order.fee", "{q}5000{q}", "{q}120000000000000000{q}")


class Role:
    def __init__(
        self,
        names: tuple[str, ...],
        addresses: tuple[str, ...],
        abis: tuple[str, ...],
        writes: tuple[tuple[str, str], ...],
        reads: tuple[tuple[str, str], ...],
    ) -> None:
        self.names, self.addresses, self.abis = names, addresses, abis
        self.writes, self.reads = writes, reads


# writes/reads: (method, argument template); {to} = an address, {amt} = an amount, {id} = a
# token id, {name} = a string literal.
ROLES: dict[str, Role] = {
    "token": Role(
        ("token", "usdc", "dai", "erc20", "tokenContract", "pebl"),
        ("TOKEN_ADDRESS", "process.env.TOKEN", "addresses.token", "config.token"),
        ("erc20Abi", "ERC20_ABI", "tokenAbi"),
        (("transfer", "{to}, {amt}"), ("approve", "{to}, {amt}")),
        (("balanceOf", "{to}"), ("totalSupply", ""), ("decimals", "")),
    ),
    "vault": Role(
        ("vault", "savings", "pool", "strategy"),
        ("VAULT_ADDRESS", "addresses.vault", "config.vault"),
        ("vaultAbi", "VAULT_ABI", "abi"),
        (("deposit", "{amt}"), ("withdraw", "{amt}"), ("harvest", "")),
        (("totalAssets", ""), ("totalSupply", ""), ("balanceOf", "{to}")),
    ),
    "nft": Role(
        ("nft", "collection", "badges", "passes"),
        ("NFT_ADDRESS", "addresses.nft", "process.env.COLLECTION"),
        ("nftAbi", "ERC721_ABI", "collectionAbi"),
        (("mint", "{to}"), ("safeMint", "{to}, {id}"), ("burn", "{id}")),
        (("totalSupply", ""), ("maxSupply", ""), ("balanceOf", "{to}")),
    ),
    "staking": Role(
        ("staking", "farm", "rewards", "stakingPool"),
        ("STAKING_ADDRESS", "addresses.staking", "config.farm"),
        ("stakingAbi", "STAKING_ABI", "farmAbi"),
        (("stake", "{amt}"), ("claim", ""), ("unstake", "{amt}")),
        (("earned", "{to}"), ("totalStaked", ""), ("rewardRate", "")),
    ),
    "registry": Role(
        ("registry", "names", "directory"),
        ("REGISTRY_ADDRESS", "addresses.registry"),
        ("registryAbi", "REGISTRY_ABI"),
        (("register", "{name}, {to}"), ("renew", "{name}")),
        (("fee", ""), ("totalSupply", ""), ("ownerOf", "{id}")),
    ),
}
SUPPLY_ROLES = ("token", "vault", "nft", "registry")  # roles with totalSupply()

COMMENTS: dict[str, tuple[str, ...]] = {
    "provider": ("// connect to the node", "// read-only connection", "// set up the connection"),
    "browser": ("// ask the browser wallet for an account", "// use the injected wallet"),
    "format_ether": ("// show the balance in ETH", "// human-readable balance"),
    "address": ("// validate before sending anything", "// normalise the address"),
    "solidity_keccak": ("// leaf for the allowlist tree", "// packed hash, same as Solidity"),
    "call_static": ("// simulate first so we don't waste gas", "// dry run"),
    "estimate_gas": ("// add a 20% buffer to the estimate", "// estimate before sending"),
    "populate": ("// build the transaction without sending it", "// unsigned tx for the relayer"),
    "gas_price": ("// current gas price", "// legacy gas price for the fallback path"),
    "receipt": ("// wait for one confirmation", "// log the result"),
    "deploy": ("// deploy and wait", "// deploy a fresh copy"),
    "contract_address": ("// the vault pulls tokens, so approve it", "// where is it deployed?"),
    "interface": ("// encode calldata by hand", "// selector for the allowlist"),
    "verify_message": ("// check who signed it", "// recover the signer"),
    "signature": ("// split for the permit call", "// v, r, s for the contract"),
    "utils_destructure": ("// helpers", "// shorthands"),
}

FN_NAMES: dict[str, tuple[str, ...]] = {
    "json_rpc_provider": ("connect", "getClient", "latestBlock"),
    "browser_provider": ("connectWallet", "getSigner", "initWallet"),
    "parse_ether": ("sendTip", "payInvoice", "toWei"),
    "format_ether": ("showBalance", "getBalanceText", "printBalance"),
    "units": ("tokenAmount", "sendTokens", "readBalance"),
    "hashing": ("hashLabel", "roleId", "topicFor"),
    "address": ("normalizeAddress", "checkRecipient", "parseAddress"),
    "bytes": ("signDigest", "makeSalt", "toBytes"),
    "solidity_keccak": ("leafFor", "claimHash", "packedHash"),
    "abi_coder": ("encodeArgs", "decodePayload", "buildCalldata"),
    "constants": ("approveAll", "isUnclaimed", "resolveOwner"),
    "bignumber": ("computeFee", "hasEnough", "splitAmount"),
    "call_static": ("simulate", "dryRun", "previewCall"),
    "estimate_gas": ("sendWithBuffer", "estimateCost", "safeSend"),
    "populate": ("buildTx", "prepareCall", "unsignedTx"),
    "gas_price": ("currentGasPrice", "legacyFees", "gasQuote"),
    "receipt": ("sendAndWait", "confirm", "execute"),
    "deploy": ("deploy", "deployVault", "launch"),
    "contract_address": ("wire", "describe", "setup"),
    "interface": ("encodeTransfer", "selectorFor", "calldata"),
    "bytes32": ("toLabel", "readName", "encodeName"),
    "verify_message": ("verifyLogin", "checkSignature", "recoverSigner"),
    "signature": ("permitWithSig", "splitSig", "submitPermit"),
    "utils_destructure": ("helpers", "format", "quote"),
}

WORDS = ("alice", "vault-v2", "gm", "kestrel", "season-3", "treasury", "drop:42", "beta")
EVENT_SIGS = (
    "Transfer(address,address,uint256)",
    "Approval(address,address,uint256)",
    "Deposit(address,uint256)",
    "RoleGranted(bytes32,address,address)",
    "Claimed(address,uint256)",
)
ROLE_LABELS = ("MINTER_ROLE", "PAUSER_ROLE", "UPGRADER_ROLE", "OPERATOR_ROLE")
TYPE_LISTS = (
    ("address", "uint256"),
    ("uint256", "address"),
    ("address", "uint256", "bytes32"),
    ("string", "uint256"),
    ("bytes32", "address"),
)


def _hex(rng: random.Random, n: int) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(n))


# --------------------------------------------------------------------------------------------
# Snippet builder
# --------------------------------------------------------------------------------------------


class Snip:
    """A snippet under construction: parallel (v5, v6) lines plus what is declared."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.q = rng.choice(('"', '"', "'"))
        self.ind = rng.choice(("  ", "  ", "    "))
        self.in_fn = rng.random() < 0.45
        self.setup_outside = self.in_fn and rng.random() < 0.4
        self.bn = rng.choice(("ethers.BigNumber", "BigNumber"))
        self.used: set[str] = {
            "ethers",
            "r",
            "s",
            "v",
            "args",
            "config",
            "input",
            "form",
            "order",
            "request",
        }
        self.extra_imports: list[str] = []
        self.setup: list[tuple[str, str]] = []
        self.body: list[tuple[str, str]] = []
        self.kinds: list[str] = []
        self.params: list[str] = []
        self.provider: str | None = None
        self.provider_kind: str | None = None
        self.signer: str | None = None
        self.contracts: dict[str, str] = {}
        self.vars: dict[str, str] = {}
        self.ret: tuple[str, str] | None = None
        self.bn_import = False

    # -- helpers ---------------------------------------------------------------------------
    def s(self, text: str) -> str:
        return f"{self.q}{text}{self.q}"

    def fmt(self, template: str) -> str:
        return template.replace("{q}", self.q)

    def fresh(self, *names: str) -> str:
        pool = list(names)
        self.rng.shuffle(pool)
        for name in pool:
            if name not in self.used:
                self.used.add(name)
                return name
        i = 2
        while f"{names[0]}{i}" in self.used:
            i += 1
        self.used.add(f"{names[0]}{i}")
        return f"{names[0]}{i}"

    def kind(self, name: str) -> None:
        if name not in self.kinds:
            self.kinds.append(name)

    def line(self, v5: str, v6: str | None = None) -> None:
        self.body.append((v5, v5 if v6 is None else v6))

    def comment(self, key: str | tuple[str, ...], p: float = 0.3) -> None:
        """Maybe add a comment line (same in both versions): a COMMENTS key or the texts."""
        if self.rng.random() < p:
            text = self.rng.choice(COMMENTS[key] if isinstance(key, str) else key)
            self.body.append((text, text))

    def call(self, v5_head: str, v6_head: str, args: list[str], tail: str = ");") -> None:
        """``head + args + tail`` on one line, or one argument per line when it is long."""
        one = v5_head + ", ".join(args) + tail
        if len(self.ind) * self.in_fn + len(one) <= 90:
            self.line(one, v6_head + ", ".join(args) + tail)
            return
        self.line(v5_head, v6_head)
        for arg in args:
            self.line(f"{self.ind}{arg},")
        self.line(tail)

    def big(self, expr: str) -> str:
        """v5 BigNumber.from(...) spelling (records the named import when needed)."""
        if self.bn == "BigNumber":
            self.bn_import = True
        return f"{self.bn}.from({expr})"

    def addr_input(self) -> str:
        if self.in_fn:
            name = self.fresh(*ADDRESS_PARAMS)
            self.params.append(name)
            return name
        choice = self.rng.random()
        if choice < 0.25:
            return self.s(_hex(self.rng, 40))
        return self.rng.choice(ADDRESS_INPUTS)

    def amount_input(self) -> str:
        if self.in_fn:
            name = self.fresh(*AMOUNT_PARAMS)
            self.params.append(name)
            return name
        return self.fmt(self.rng.choice(AMOUNT_INPUTS))

    def wei_amount(self) -> str:
        """An amount already in base units: one made earlier, else an input."""
        if "wei" in self.vars:
            return self.vars["wei"]
        if self.in_fn:
            name = self.fresh(*WEI_PARAMS)
            self.params.append(name)
            return name
        return self.fmt(self.rng.choice(WEI_INPUTS))

    def fill(self, template: str) -> str:
        out = template
        if "{to}" in out:
            out = out.replace("{to}", self.addr_input())
        if "{amt}" in out:
            out = out.replace("{amt}", self.wei_amount())
        if "{id}" in out:
            out = out.replace("{id}", self.vars.get("id") or str(self.rng.randint(1, 900)))
        if "{name}" in out:
            out = out.replace("{name}", self.s(self.rng.choice(WORDS)))
        return out

    # -- resources -------------------------------------------------------------------------
    def need_provider(self, browser_ok: bool = True, param_ok: bool = True) -> str:
        if self.provider:
            return self.provider
        r = self.rng.random()
        if self.in_fn and param_ok and r < 0.3:
            self.provider = self.fresh(*PROVIDER_NAMES)
            self.params.insert(0, self.provider)
            self.provider_kind = "param"
        elif r < 0.72 or not browser_ok:
            p = self.provider = self.fresh(*PROVIDER_NAMES)
            url = self.fmt(self.rng.choice(RPC_URLS))
            if self.rng.random() < 0.2:
                self.setup.append((COMMENTS["provider"][0], COMMENTS["provider"][0]))
            self.setup.append(
                (
                    f"const {p} = new ethers.providers.JsonRpcProvider({url});",
                    f"const {p} = new ethers.JsonRpcProvider({url});",
                )
            )
            self.provider_kind = "json"
            self.kind("json_rpc_provider")
        else:
            self._browser()
        return self.provider

    def _browser(self) -> None:
        p = self.provider = self.fresh("provider", "browserProvider", "web3Provider", "injected")
        self.provider_kind = "browser"
        self.kind("browser_provider")
        if self.rng.random() < 0.25:
            self.setup.append((COMMENTS["browser"][1], COMMENTS["browser"][1]))
        src = self.rng.choice(
            ("window.ethereum", "window.ethereum", "ethereum", "injectedProvider")
        )
        self.setup.append(
            (
                f"const {p} = new ethers.providers.Web3Provider({src});",
                f"const {p} = new ethers.BrowserProvider({src});",
            )
        )

    def need_signer(self) -> str:
        if self.signer:
            return self.signer
        if self.provider is None and self.rng.random() < 0.4:
            self._browser()
        if self.provider_kind == "browser":
            s = self.signer = self.fresh(*SIGNER_NAMES)
            p = self.provider
            if self.rng.random() < 0.35:
                if self.rng.random() < 0.4:
                    self.setup.append((COMMENTS["browser"][0], COMMENTS["browser"][0]))
                line = f"await {p}.send({self.s('eth_requestAccounts')}, []);"
                self.setup.append((line, line))
            self.setup.append(
                (f"const {s} = {p}.getSigner();", f"const {s} = await {p}.getSigner();")
            )
        elif self.in_fn and self.provider is None and self.rng.random() < 0.6:
            self.signer = self.fresh(*SIGNER_NAMES)
            self.params.insert(0, self.signer)
        else:
            p = self.need_provider(browser_ok=False)
            s = self.signer = self.fresh(*SIGNER_NAMES)
            key = self.rng.choice(("process.env.PRIVATE_KEY", "PRIVATE_KEY", "config.deployerKey"))
            line = f"const {s} = new ethers.Wallet({key}, {p});"
            self.setup.append((line, line))
        return self.signer

    def need_contract(self, role: str, write: bool) -> str:
        if role in self.contracts:
            return self.contracts[role]
        spec = ROLES[role]
        name = self.fresh(*spec.names)
        self.contracts[role] = name
        if self.in_fn and self.rng.random() < 0.3:
            self.params.append(name)
            return name
        runner = self.need_signer() if write or self.rng.random() < 0.4 else self.need_provider()
        abi = self.rng.choice(spec.abis)
        if abi not in self.used and abi != "abi" and self.rng.random() < 0.3:
            self.extra_imports.append(f"import {{ {abi} }} from {self.s('./abis.js')};")
        self.used.add(abi)
        address = self.rng.choice(spec.addresses)
        line = f"const {name} = new ethers.Contract({address}, {abi}, {runner});"
        self.setup.append((line, line))
        return name

    def write_call(self, roles: tuple[str, ...] = tuple(ROLES)) -> tuple[str, str, str]:
        role = self.rng.choice(roles)
        c = self.need_contract(role, write=True)
        fn, args = self.rng.choice(ROLES[role].writes)
        return c, fn, self.fill(args)

    # -- rendering -------------------------------------------------------------------------
    def render(self) -> tuple[str, str]:
        outs = []
        for version in (0, 1):
            header = ["import { ethers } from " + self.s("ethers") + ";"]
            if version == 0 and self.bn_import:
                header = ["import { ethers, BigNumber } from " + self.s("ethers") + ";"]
            header += self.extra_imports
            lines = [*header, ""]
            setup = [pair[version] for pair in self.setup]
            body = [pair[version] for pair in self.body]
            if self.in_fn:
                fname = self.fn_name
                resource_params = {self.provider, self.signer, *self.contracts.values()}
                if self.setup_outside and setup and not resource_params & set(self.params):
                    lines += [*setup, ""]
                    setup = []
                params = ", ".join(self.params)
                lines.append(f"export async function {fname}({params}) {{")
                inner = setup + body
                if self.ret:
                    inner.append(f"return {self.ret[version]};")
                lines += [self.ind + ln if ln else ln for ln in inner]
                lines.append("}")
            else:
                lines += setup + body
            outs.append("\n".join(lines) + "\n")
        return outs[0], outs[1]

    @property
    def n_lines(self) -> int:
        return self.render()[0].count("\n")


# --------------------------------------------------------------------------------------------
# Units: each writes a few parallel lines exercising one (sometimes two) migrations
# --------------------------------------------------------------------------------------------


def u_json_rpc_provider(sn: Snip) -> None:
    p = sn.need_provider(browser_ok=False, param_ok=False)
    block = sn.fresh("block", "head", "latest", "blockNumber")
    sn.line(f"const {block} = await {p}.getBlockNumber();")
    if sn.rng.random() < 0.5:
        net = sn.fresh("network", "net")
        sn.line(f"const {net} = await {p}.getNetwork();")
        sn.line(f"console.log({sn.s('chain')}, {net}.chainId, {sn.s('block')}, {block});")
    sn.ret = (block, block)


def u_browser_provider(sn: Snip) -> None:
    if sn.provider is None:
        sn._browser()
    if sn.provider_kind != "browser":
        raise Retry
    s = sn.need_signer()
    who = sn.fresh("address", "me", "from", "userAddress")
    sn.line(f"const {who} = await {s}.getAddress();")
    if sn.rng.random() < 0.4:
        sn.line(f"console.log({sn.s('connected as')}, {who});")
    sn.ret = (s, s)


def u_parse_ether(sn: Snip) -> None:
    sn.kind("parse_ether")
    amt = sn.amount_input()
    if sn.rng.random() < 0.5:
        sn.comment(("// convert the user input to wei", "// amount the user typed, in ETH"))
        v = sn.fresh("value", "amountWei", "wei", "tipWei", "depositValue")
        sn.line(
            f"const {v} = ethers.utils.parseEther({amt});",
            f"const {v} = ethers.parseEther({amt});",
        )
        sn.vars["wei"] = v
        sn.ret = (v, v)
    else:
        sn.comment(("// plain ETH transfer", "// send ETH straight to the recipient"))
        s = sn.need_signer()
        to = sn.addr_input()
        tx = sn.fresh(*TX_NAMES)
        sn.line(f"const {tx} = await {s}.sendTransaction({{")
        sn.line(f"{sn.ind}to: {to},")
        sn.line(
            f"{sn.ind}value: ethers.utils.parseEther({amt}),",
            f"{sn.ind}value: ethers.parseEther({amt}),",
        )
        sn.line("});")
        sn.vars["tx"] = tx
        sn.ret = (f"{tx}.hash", f"{tx}.hash")


def u_format_ether(sn: Snip) -> None:
    sn.kind("format_ether")
    p = sn.need_provider()
    who = f"await {sn.signer}.getAddress()" if sn.signer else sn.addr_input()
    bal = sn.fresh("balance", "bal", "weiBalance", "raw")
    sn.comment("format_ether")
    sn.line(f"const {bal} = await {p}.getBalance({who});")
    if sn.rng.random() < 0.5:
        sn.line(
            f"console.log(`balance: ${{ethers.utils.formatEther({bal})}} ETH`);",
            f"console.log(`balance: ${{ethers.formatEther({bal})}} ETH`);",
        )
    else:
        eth = sn.fresh("eth", "balanceEth", "inEth", "display")
        sn.line(
            f"const {eth} = ethers.utils.formatEther({bal});",
            f"const {eth} = ethers.formatEther({bal});",
        )
        sn.ret = (eth, eth)


def u_units(sn: Snip) -> None:
    sn.kind("units")
    variant = sn.rng.randrange(3)
    if variant == 0:
        sn.comment(("// scale by decimals", "// human amount to base units"))
        amt = sn.amount_input()
        dec = sn.rng.choice(("6", "8", "18", "6"))
        v = sn.fresh("units", "rawAmount", "scaled", "baseUnits")
        sn.line(
            f"const {v} = ethers.utils.parseUnits({amt}, {dec});",
            f"const {v} = ethers.parseUnits({amt}, {dec});",
        )
        sn.vars["wei"] = v
        sn.ret = (v, v)
    elif variant == 1:
        sn.comment(("// token amounts use the token's decimals", "// readable token balance"))
        tok = sn.need_contract("token", write=False)
        who = sn.addr_input()
        dec = sn.fresh("decimals", "dec", "tokenDecimals")
        raw = sn.fresh("rawBalance", "balanceRaw", "held")
        human = sn.fresh("readable", "pretty", "formatted")
        sn.line(f"const {dec} = await {tok}.decimals();")
        sn.line(f"const {raw} = await {tok}.balanceOf({who});")
        sn.line(
            f"const {human} = ethers.utils.formatUnits({raw}, {dec});",
            f"const {human} = ethers.formatUnits({raw}, {dec});",
        )
        sn.ret = (human, human)
    else:
        sn.comment(("// send tokens, amount in base units", "// USDC-style 6 or 18 decimals"))
        tok = sn.need_contract("token", write=True)
        amt = sn.amount_input()
        to = sn.addr_input()
        v = sn.fresh("amount", "units", "scaled")
        tx = sn.fresh(*TX_NAMES)
        dec = sn.rng.choice(("6", "18"))
        sn.line(
            f"const {v} = ethers.utils.parseUnits({amt}, {dec});",
            f"const {v} = ethers.parseUnits({amt}, {dec});",
        )
        sn.line(f"const {tx} = await {tok}.transfer({to}, {v});")
        sn.vars["tx"] = tx
        sn.ret = (f"{tx}.hash", f"{tx}.hash")


def u_hashing(sn: Snip) -> None:
    sn.kind("hashing")
    variant = sn.rng.randrange(3)
    if variant == 0:
        sn.comment(("// hash the label", "// storage key for the label"))
        h = sn.fresh("hash", "digest", "labelHash", "key")
        text = sn.s(sn.rng.choice(WORDS))
        sn.line(
            f"const {h} = ethers.utils.keccak256(ethers.utils.toUtf8Bytes({text}));",
            f"const {h} = ethers.keccak256(ethers.toUtf8Bytes({text}));",
        )
    elif variant == 1:
        sn.comment(("// event topic", "// topic for the log filter"))
        h = sn.fresh("topic", "transferTopic", "eventTopic", "topic0")
        sig = sn.s(sn.rng.choice(EVENT_SIGS))
        sn.line(f"const {h} = ethers.utils.id({sig});", f"const {h} = ethers.id({sig});")
    else:
        sn.comment(("// role id used by the contract", "// same value as the Solidity constant"))
        label = sn.rng.choice(ROLE_LABELS)
        h = sn.fresh(label, "roleId", "role")
        sn.line(
            f"const {h} = ethers.utils.keccak256(ethers.utils.toUtf8Bytes({sn.s(label)}));",
            f"const {h} = ethers.keccak256(ethers.toUtf8Bytes({sn.s(label)}));",
        )
    sn.vars["hash"] = h
    sn.ret = (h, h)


def u_address(sn: Snip) -> None:
    sn.kind("address")
    sn.comment("address")
    inp = sn.addr_input()
    if sn.rng.random() < 0.6:
        sn.line(f"if (!ethers.utils.isAddress({inp})) {{", f"if (!ethers.isAddress({inp})) {{")
        sn.line(f"{sn.ind}throw new Error({sn.s('not an address: ')} + {inp});")
        sn.line("}")
    if sn.rng.random() < 0.7 or not sn.body or sn.body[-1][0] != "}":
        a = sn.fresh("checksummed", "normalized", "cleanAddress", "addr")
        sn.line(
            f"const {a} = ethers.utils.getAddress({inp});",
            f"const {a} = ethers.getAddress({inp});",
        )
        sn.ret = (a, a)


def u_bytes(sn: Snip) -> None:
    sn.kind("bytes")
    variant = sn.rng.randrange(3)
    if variant == 0:
        sn.comment(("// random salt", "// fresh random id"))
        salt = sn.fresh("salt", "nonceBytes", "randomId")
        n = sn.rng.choice(("16", "32"))
        sn.line(
            f"const {salt} = ethers.utils.hexlify(ethers.utils.randomBytes({n}));",
            f"const {salt} = ethers.hexlify(ethers.randomBytes({n}));",
        )
        sn.ret = (salt, salt)
    else:
        src = sn.vars.get("hash")
        if src is None:
            src = sn.fresh("digest", "messageHash", "payload")
            if sn.in_fn:
                sn.params.append(src)
            else:
                sn.line(f"const {src} = {sn.s(_hex(sn.rng, 64))};")
        if variant == 1:
            sn.comment(("// raw bytes of the digest", "// bytes, not the hex string"))
            b = sn.fresh("bytes", "raw", "digestBytes")
            sn.line(
                f"const {b} = ethers.utils.arrayify({src});",
                f"const {b} = ethers.getBytes({src});",
            )
            sn.ret = (f"{b}.length", f"{b}.length")
        else:
            sn.comment(("// sign the raw digest, not its hex string",))
            s = sn.need_signer()
            sig = sn.fresh("signature", "sig", "signed")
            sn.line(
                f"const {sig} = await {s}.signMessage(ethers.utils.arrayify({src}));",
                f"const {sig} = await {s}.signMessage(ethers.getBytes({src}));",
            )
            sn.vars["sig"] = sig
            sn.ret = (sig, sig)


def u_solidity_keccak(sn: Snip) -> None:
    sn.kind("solidity_keccak")
    sn.comment("solidity_keccak")
    types = sn.rng.choice(TYPE_LISTS)
    values = []
    for t in types:
        if t == "address":
            values.append(sn.addr_input())
        elif t == "uint256":
            values.append(sn.vars.get("wei") or sn.rng.choice(("amount", "1", "index", "epoch")))
            if values[-1] in ("amount", "index", "epoch"):
                if values[-1] in sn.used:
                    values[-1] = str(sn.rng.randint(1, 500))
                elif sn.in_fn:
                    sn.used.add(values[-1])
                    sn.params.append(values[-1])
                else:
                    values[-1] = str(sn.rng.randint(1, 500))
        elif t == "bytes32":
            values.append(sn.vars.get("hash") or sn.s(_hex(sn.rng, 64)))
        else:
            values.append(sn.s(sn.rng.choice(WORDS)))
    leaf = sn.fresh("leaf", "packedHash", "claimHash", "digest")
    tlist = "[" + ", ".join(sn.s(t) for t in types) + "]"
    vlist = "[" + ", ".join(values) + "]"
    sn.call(
        f"const {leaf} = ethers.utils.solidityKeccak256(",
        f"const {leaf} = ethers.solidityPackedKeccak256(",
        [tlist, vlist],
    )
    sn.vars["hash"] = leaf
    sn.ret = (leaf, leaf)


def u_abi_coder(sn: Snip) -> None:
    sn.kind("abi_coder")
    variant = sn.rng.randrange(3)
    types = "[" + ", ".join(sn.s(t) for t in ("uint256", "address")) + "]"
    if variant == 0:
        sn.comment(("// encode the call arguments", "// pack the arguments"))
        data = sn.fresh("encoded", "data", "payload")
        amt, to = sn.wei_amount(), sn.addr_input()
        sn.call(
            f"const {data} = ethers.utils.defaultAbiCoder.encode(",
            f"const {data} = ethers.AbiCoder.defaultAbiCoder().encode(",
            [types, f"[{amt}, {to}]"],
        )
        sn.ret = (data, data)
    elif variant == 1:
        sn.comment(("// encode the call arguments", "// reuse one coder"))
        coder = sn.fresh("coder", "abiCoder", "encoder")
        data = sn.fresh("encoded", "data", "calldataArgs")
        amt, to = sn.wei_amount(), sn.addr_input()
        sn.line(
            f"const {coder} = ethers.utils.defaultAbiCoder;",
            f"const {coder} = ethers.AbiCoder.defaultAbiCoder();",
        )
        sn.line(f"const {data} = {coder}.encode({types}, [{amt}, {to}]);")
        sn.ret = (data, data)
    else:
        sn.comment(("// decode the payload", "// unpack the return data"))
        payload = sn.fresh("payload", "returnData", "blob")
        if sn.in_fn:
            sn.params.append(payload)
        else:
            sn.line(f"const {payload} = await fetchPayload();")
            sn.used.add("fetchPayload")
        a, b = sn.fresh("amount", "value", "qty"), sn.fresh("recipient", "receiver", "dest")
        sn.call(
            f"const [{a}, {b}] = ethers.utils.defaultAbiCoder.decode(",
            f"const [{a}, {b}] = ethers.AbiCoder.defaultAbiCoder().decode(",
            [types, payload],
        )
        sn.line(f"console.log({a}.toString(), {b});")


def u_constants(sn: Snip) -> None:
    sn.kind("constants")
    variant = sn.rng.randrange(4)
    if variant == 0:
        sn.comment(("// unset owners come back as the zero address",))
        reg = sn.need_contract(sn.rng.choice(("nft", "registry")), write=False)
        owner = sn.fresh("currentOwner", "holder", "ownerAddress")
        tid = sn.fresh("tokenId", "id", "itemId")
        if sn.in_fn:
            sn.params.append(tid)
        else:
            sn.line(f"const {tid} = {sn.rng.randint(1, 5000)};")
        sn.line(f"const {owner} = await {reg}.ownerOf({tid});")
        sn.line(
            f"if ({owner} === ethers.constants.AddressZero) {{",
            f"if ({owner} === ethers.ZeroAddress) {{",
        )
        sn.line(f"{sn.ind}console.log({sn.s('not minted yet')});")
        sn.line("}")
    elif variant == 1:
        sn.comment(("// unlimited allowance", "// approve once, forever"))
        tok = sn.need_contract("token", write=True)
        spender = sn.addr_input()
        tx = sn.fresh(*TX_NAMES)
        sn.line(
            f"const {tx} = await {tok}.approve({spender}, ethers.constants.MaxUint256);",
            f"const {tx} = await {tok}.approve({spender}, ethers.MaxUint256);",
        )
        sn.vars["tx"] = tx
    elif variant == 2:
        sn.comment(("// empty salt", "// all-zero hash"))
        salt = sn.fresh("salt", "parentHash", "emptyRoot")
        sn.line(f"const {salt} = ethers.constants.HashZero;", f"const {salt} = ethers.ZeroHash;")
        sn.vars["hash"] = salt
        sn.ret = (salt, salt)
    else:
        sn.comment(("// no referrer means the zero address",))
        inp = sn.addr_input()
        ref = sn.fresh("referrer", "fallbackAddress", "beneficiary")
        sn.line(
            f"const {ref} = {inp} ?? ethers.constants.AddressZero;",
            f"const {ref} = {inp} ?? ethers.ZeroAddress;",
        )
        sn.ret = (ref, ref)


def u_bignumber(sn: Snip) -> None:
    sn.kind("bignumber")
    variant = sn.rng.randrange(7)
    if variant == 0:
        sn.comment(("// fee maths", "// keep everything in wei"))
        x = sn.wei_amount()
        base = sn.fresh("total", "principal", "gross", "base")
        fee = sn.fresh("fee", "cut", "commission")
        pct = sn.rng.choice((1, 2, 3, 5, 10, 15, 25))
        sn.line(f"const {base} = {sn.big(x)};", f"const {base} = BigInt({x});")
        sn.line(
            f"const {fee} = {base}.mul({pct}).div(100);", f"const {fee} = {base} * {pct}n / 100n;"
        )
        if sn.rng.random() < 0.5:
            net = sn.fresh("net", "payout", "remainder")
            sn.line(f"const {net} = {base}.sub({fee});", f"const {net} = {base} - {fee};")
            sn.ret = (net, net)
        else:
            sn.ret = (fee, fee)
    elif variant == 1:
        sn.comment(("// check the balance first", "// bail out early on empty wallets"))
        p = sn.need_provider()
        who = f"await {sn.signer}.getAddress()" if sn.signer else sn.addr_input()
        bal = sn.fresh("balance", "bal", "funds")
        sn.kind("parse_ether")
        lim = sn.s(sn.rng.choice(("0.01", "0.05", "0.1")))
        sn.line(f"const {bal} = await {p}.getBalance({who});")
        sn.line(
            f"if ({bal}.lt(ethers.utils.parseEther({lim}))) {{",
            f"if ({bal} < ethers.parseEther({lim})) {{",
        )
        sn.line(f"{sn.ind}throw new Error({sn.s('not enough ETH for gas')});")
        sn.line("}")
    elif variant == 2:
        sn.comment(("// supply as a plain number",))
        c = sn.need_contract(sn.rng.choice(SUPPLY_ROLES), write=False)
        n = sn.fresh("count", "supply", "minted")
        sn.line(
            f"const {n} = (await {c}.totalSupply()).toNumber();",
            f"const {n} = Number(await {c}.totalSupply());",
        )
        sn.line(f"console.log(`${{{n}}} issued so far`);")
        sn.ret = (n, n)
    elif variant == 3:
        sn.comment(("// approve only when needed",))
        tok = sn.need_contract("token", write=True)
        owner = f"await {sn.signer}.getAddress()" if sn.signer else sn.addr_input()
        spender = sn.addr_input()
        al = sn.fresh("allowance", "allowed", "approved")
        sn.line(f"const {al} = await {tok}.allowance({owner}, {spender});")
        need = sn.vars.get("wei")
        if need:
            sn.line(f"if ({al}.lt({need})) {{", f"if ({al} < {need}) {{")
            sn.line(f"{sn.ind}await {tok}.approve({spender}, {need});")
        else:
            sn.line(f"if ({al}.eq(0)) {{", f"if ({al} === 0n) {{")
            sn.line(f"{sn.ind}console.log({sn.s('approval needed')});")
        sn.line("}")
    elif variant == 4:
        sn.comment(("// skip empty positions",))
        c = sn.need_contract(sn.rng.choice(("staking", "vault")), write=False)
        who = sn.addr_input()
        role = next(r for r, name in sn.contracts.items() if name == c)
        method = "earned" if role == "staking" else "balanceOf"
        amt = sn.fresh("pendingRewards", "owed", "shares")
        sn.line(f"const {amt} = await {c}.{method}({who});")
        sn.line(f"if ({amt}.isZero()) {{", f"if ({amt} === 0n) {{")
        sn.line(f"{sn.ind}console.log({sn.s('nothing to claim')});")
        sn.line("}")
    elif variant == 6:
        _bignumber_sum(sn)
    elif variant == 5:
        sn.comment(("// how many are left to mint",))
        c = sn.need_contract("nft", write=False)
        cap = sn.fresh("cap", "maxSupply", "limit")
        minted = sn.fresh("minted", "supply", "issued")
        left = sn.fresh("remaining", "left", "available")
        sn.line(f"const {cap} = await {c}.maxSupply();")
        sn.line(f"const {minted} = await {c}.totalSupply();")
        sn.line(f"const {left} = {cap}.sub({minted});", f"const {left} = {cap} - {minted};")
        if sn.rng.random() < 0.5:
            sn.line(f"const soldOut = {left}.lte(0);", f"const soldOut = {left} <= 0n;")
            sn.used.add("soldOut")
        sn.ret = (f"{left}.toString()", f"{left}.toString()")


def _bignumber_sum(sn: Snip) -> None:
    sn.comment(("// add up both parts", "// total in base units"))
    parts = [sn.fresh("principal", "deposit", "first"), sn.fresh("interest", "bonus", "second")]
    for name in parts:
        x = sn.wei_amount() if name == parts[0] else sn.fmt(sn.rng.choice(BONUS_INPUTS))
        if sn.in_fn and name == parts[1]:
            sn.params.append(sn.fresh(*WEI_PARAMS))
            x = sn.params[-1]
        sn.line(f"const {name} = {sn.big(x)};", f"const {name} = BigInt({x});")
    total = sn.fresh("total", "sum", "combined")
    sn.line(
        f"const {total} = {parts[0]}.add({parts[1]});", f"const {total} = {parts[0]} + {parts[1]};"
    )
    if sn.rng.random() < 0.6:
        cap = sn.big(sn.s(sn.rng.choice(("1000000000000000000", "5000000", "2500000000"))))
        cap6 = "BigInt(" + cap.split("(", 1)[1]
        op5, op6 = sn.rng.choice((("gt", ">"), ("gte", ">=")))
        sn.line(f"if ({total}.{op5}({cap})) {{", f"if ({total} {op6} {cap6}) {{")
        sn.line(f"{sn.ind}throw new Error({sn.s('over the limit')});")
        sn.line("}")
    sn.ret = (f"{total}.toString()", f"{total}.toString()")


def u_call_static(sn: Snip) -> None:
    sn.kind("call_static")
    sn.comment("call_static")
    c, fn, args = sn.write_call()
    if sn.rng.random() < 0.55:
        out = sn.fresh("result", "simulated", "preview", "out")
        sn.line(
            f"const {out} = await {c}.callStatic.{fn}({args});",
            f"const {out} = await {c}.{fn}.staticCall({args});",
        )
        sn.ret = (out, out)
    else:
        err = sn.fresh("err", "error", "e")
        sn.line("try {")
        sn.line(
            f"{sn.ind}await {c}.callStatic.{fn}({args});",
            f"{sn.ind}await {c}.{fn}.staticCall({args});",
        )
        sn.line(f"}} catch ({err}) {{")
        sn.line(f"{sn.ind}console.error({sn.s('would revert:')}, {err}.reason);")
        sn.line("}")


def u_estimate_gas(sn: Snip) -> None:
    sn.kind("estimate_gas")
    sn.comment("estimate_gas")
    c, fn, args = sn.write_call()
    gas = sn.fresh("gas", "gasEstimate", "estimated", "units")
    sn.line(
        f"const {gas} = await {c}.estimateGas.{fn}({args});",
        f"const {gas} = await {c}.{fn}.estimateGas({args});",
    )
    if sn.rng.random() < 0.5:
        tx = sn.fresh(*TX_NAMES)
        sep = ", " if args else ""
        sn.kind("bignumber")
        sn.line(
            f"const {tx} = await {c}.{fn}({args}{sep}{{ gasLimit: {gas}.mul(12).div(10) }});",
            f"const {tx} = await {c}.{fn}({args}{sep}{{ gasLimit: {gas} * 12n / 10n }});",
        )
        sn.vars["tx"] = tx
    else:
        sn.ret = (f"{gas}.toString()", f"{gas}.toString()")


def u_populate(sn: Snip) -> None:
    sn.kind("populate")
    sn.comment("populate")
    c, fn, args = sn.write_call()
    u = sn.fresh("unsigned", "populated", "draft", "request")
    sn.line(
        f"const {u} = await {c}.populateTransaction.{fn}({args});",
        f"const {u} = await {c}.{fn}.populateTransaction({args});",
    )
    if sn.rng.random() < 0.5:
        s = sn.need_signer()
        tx = sn.fresh(*TX_NAMES)
        sn.line(f"const {tx} = await {s}.sendTransaction({u});")
        sn.vars["tx"] = tx
    else:
        sn.line(f"console.log({sn.s('calldata')}, {u}.data);")
        sn.ret = (u, u)


def u_gas_price(sn: Snip) -> None:
    sn.kind("gas_price")
    sn.comment("gas_price")
    p = sn.need_provider()
    gp = sn.fresh("gasPrice", "price", "currentGasPrice", "legacyPrice")
    sn.line(
        f"const {gp} = await {p}.getGasPrice();",
        f"const {gp} = (await {p}.getFeeData()).gasPrice;",
    )
    if sn.rng.random() < 0.4:
        sn.kind("units")
        sn.line(
            f"console.log({sn.s('gas (gwei):')}, ethers.utils.formatUnits({gp}, {sn.s('gwei')}));",
            f"console.log({sn.s('gas (gwei):')}, ethers.formatUnits({gp}, {sn.s('gwei')}));",
        )
    sn.vars["gas_price"] = gp
    sn.ret = (gp, gp)


def u_receipt(sn: Snip) -> None:
    sn.kind("receipt")
    tx = sn.vars.get("tx")
    if tx is None:
        c, fn, args = sn.write_call()
        tx = sn.fresh(*TX_NAMES)
        sn.line(f"const {tx} = await {c}.{fn}({args});")
    r = sn.fresh(*RECEIPT_NAMES)
    sn.comment("receipt")
    sn.line(f"const {r} = await {tx}.wait();")
    picks = sn.rng.sample(("hash", "cost", "conf"), sn.rng.choice((1, 1, 2)))
    for pick in picks:
        if pick == "hash":
            sn.line(
                f"console.log({sn.s('mined in')}, {r}.blockNumber, {r}.transactionHash);",
                f"console.log({sn.s('mined in')}, {r}.blockNumber, {r}.hash);",
            )
        elif pick == "cost":
            cost = sn.fresh("cost", "feePaid", "spent")
            sn.line(
                f"const {cost} = {r}.gasUsed.mul({r}.effectiveGasPrice);",
                f"const {cost} = {r}.gasUsed * {r}.gasPrice;",
            )
        else:
            sn.line(
                f"console.log({sn.s('confirmations:')}, {r}.confirmations);",
                f"console.log({sn.s('confirmations:')}, await {r}.confirmations());",
            )
    sn.ret = (f"{r}.transactionHash", f"{r}.hash")


def u_deploy(sn: Snip) -> None:
    sn.kind("deploy")
    sn.comment("deploy")
    s = sn.need_signer()
    factory = sn.fresh("factory", "contractFactory", "vaultFactory")
    c = sn.fresh("contract", "instance", "market", "pointsToken")
    abi = sn.rng.choice(("artifact.abi", "abi", "VAULT_ABI"))
    code = sn.rng.choice(("artifact.bytecode", "bytecode", "VAULT_BYTECODE"))
    sn.used.update(("abi", "bytecode"))
    sn.line(f"const {factory} = new ethers.ContractFactory({abi}, {code}, {s});")
    args = sn.rng.choice(("", "initialOwner", f"{sn.s('Kestrel Points')}, {sn.s('KPT')}"))
    if args == "initialOwner":
        args = sn.addr_input()
    sn.line(f"const {c} = await {factory}.deploy({args});")
    sn.line(f"await {c}.deployed();", f"await {c}.waitForDeployment();")
    if sn.rng.random() < 0.7:
        sn.line(
            f"console.log({sn.s('deployed at')}, {c}.address);",
            f"console.log({sn.s('deployed at')}, await {c}.getAddress());",
        )
    sn.ret = (c, c)


def u_contract_address(sn: Snip) -> None:
    """contract.address -> await contract.getAddress(); only flagged with a companion unit."""
    sn.kind("contract_address")
    variant = sn.rng.randrange(3)
    if variant == 0:
        tok = sn.need_contract("token", write=True)
        role = sn.rng.choice(("vault", "staking"))
        target = sn.need_contract(role, write=True)
        sn.comment("contract_address", p=0.5)
        amt = sn.vars.get("wei")
        if amt is None:
            sn.kind("constants")
            sn.line(
                f"await {tok}.approve({target}.address, ethers.constants.MaxUint256);",
                f"await {tok}.approve(await {target}.getAddress(), ethers.MaxUint256);",
            )
        else:
            sn.line(
                f"await {tok}.approve({target}.address, {amt});",
                f"await {tok}.approve(await {target}.getAddress(), {amt});",
            )
    else:
        role = sn.rng.choice(tuple(ROLES))
        c = sn.need_contract(role, write=False)
        if variant == 1:
            sn.line(
                f"console.log({sn.s(role + ' at')}, {c}.address);",
                f"console.log({sn.s(role + ' at')}, await {c}.getAddress());",
            )
        else:
            a = sn.fresh(f"{role}Address", "target", "contractAddress")
            sn.line(f"const {a} = {c}.address;", f"const {a} = await {c}.getAddress();")
            sn.ret = (a, a)


def u_interface(sn: Snip) -> None:
    sn.kind("interface")
    encode = sn.rng.random() < 0.5
    sn.comment(COMMENTS["interface"][:1] if encode else COMMENTS["interface"][1:])
    iface = sn.fresh("iface", "erc20Interface", "abiInterface", "tokenInterface")
    if sn.rng.random() < 0.5:
        abi = "[" + sn.s("function transfer(address to, uint256 amount) returns (bool)") + "]"
    else:
        abi = sn.rng.choice(("erc20Abi", "ERC20_ABI", "abi"))
        sn.used.add(abi)
    sn.line(
        f"const {iface} = new ethers.utils.Interface({abi});",
        f"const {iface} = new ethers.Interface({abi});",
    )
    if encode:
        data = sn.fresh("data", "calldata", "encoded")
        to, amt = sn.addr_input(), sn.wei_amount()
        sn.line(f"const {data} = {iface}.encodeFunctionData({sn.s('transfer')}, [{to}, {amt}]);")
        sn.ret = (data, data)
    else:
        sel = sn.fresh("selector", "sighash", "fnSelector")
        sn.line(
            f"const {sel} = {iface}.getSighash({sn.s('transfer')});",
            f"const {sel} = {iface}.getFunction({sn.s('transfer')}).selector;",
        )
        sn.ret = (sel, sel)


def u_bytes32(sn: Snip) -> None:
    sn.kind("bytes32")
    if sn.rng.random() < 0.55:
        sn.comment(("// fixed-size label", "// bytes32 key for the registry"))
        k = sn.fresh("label", "key", "slot", "tag")
        word = sn.s(sn.rng.choice(WORDS))
        sn.line(
            f"const {k} = ethers.utils.formatBytes32String({word});",
            f"const {k} = ethers.encodeBytes32String({word});",
        )
        sn.vars["hash"] = k
        sn.ret = (k, k)
    else:
        sn.comment(("// decode the stored name",))
        reg = sn.need_contract("registry", write=False)
        raw = sn.fresh("stored", "rawName", "nameBytes")
        name = sn.fresh("name", "label", "handle")
        sn.line(f"const {raw} = await {reg}.nameOf({sn.rng.randint(1, 300)});")
        sn.line(
            f"const {name} = ethers.utils.parseBytes32String({raw});",
            f"const {name} = ethers.decodeBytes32String({raw});",
        )
        sn.ret = (name, name)


def u_verify_message(sn: Snip) -> None:
    sn.kind("verify_message")
    sn.comment("verify_message")
    msg = sn.fresh("message", "challenge", "loginText")
    sig = sn.vars.get("sig") or sn.fresh("signature", "sig", "signed")
    expected = sn.addr_input()
    if sn.in_fn:
        sn.params.insert(0, msg)
        if "sig" not in sn.vars:
            sn.params.insert(1, sig)
    else:
        sn.line(f"const {msg} = `Sign in to Kestrel: ${{Date.now()}}`;")
        if "sig" not in sn.vars:
            sn.line(f"const {sig} = await requestSignature({msg});")
            sn.used.add("requestSignature")
    rec = sn.fresh("recovered", "signerAddress", "who")
    sn.line(
        f"const {rec} = ethers.utils.verifyMessage({msg}, {sig});",
        f"const {rec} = ethers.verifyMessage({msg}, {sig});",
    )
    sn.line(f"if ({rec}.toLowerCase() !== {expected}.toLowerCase()) {{")
    sn.line(f"{sn.ind}throw new Error({sn.s('bad signature')});")
    sn.line("}")


def u_signature(sn: Snip) -> None:
    sn.kind("signature")
    sn.comment("signature")
    sig = sn.vars.get("sig")
    if sig is None:
        sig = sn.fresh("signature", "sig", "permitSig")
        if sn.in_fn:
            sn.params.append(sig)
        else:
            sn.line(f"const {sig} = request.signature;")
    sn.line(
        f"const {{ v, r, s }} = ethers.utils.splitSignature({sig});",
        f"const {{ v, r, s }} = ethers.Signature.from({sig});",
    )
    if sn.rng.random() < 0.6:
        tok = sn.need_contract("token", write=True)
        owner, spender = sn.addr_input(), sn.addr_input()
        deadline = sn.fresh("deadline", "expiry")
        if sn.in_fn:
            sn.params.append(deadline)
        else:
            sn.line(f"const {deadline} = Math.floor(Date.now() / 1000) + 3600;")
        amt = sn.wei_amount()
        sn.line(f"await {tok}.permit({owner}, {spender}, {amt}, {deadline}, v, r, s);")
    else:
        sn.line("console.log(v, r, s);")


UTIL_USES = {
    "parseEther": ("const {v} = parseEther({amt});", ("wei", "value", "amountWei")),
    "formatEther": ("const {v} = formatEther({wei});", ("eth", "display", "pretty")),
    "parseUnits": ("const {v} = parseUnits({amt}, 6);", ("units", "scaled", "raw")),
    "keccak256": ("const {v} = keccak256(toUtf8Bytes({word}));", ("hash", "digest", "key")),
    "getAddress": ("const {v} = getAddress({to});", ("checksummed", "normalized", "addr")),
}


def u_utils_destructure(sn: Snip) -> None:
    sn.kind("utils_destructure")
    sn.comment("utils_destructure")
    names = sn.rng.sample(sorted(UTIL_USES), sn.rng.choice((1, 2)))
    if "formatEther" in names:  # formats the value parseEther made
        names = ["parseEther", *[n for n in names if n not in ("parseEther", "formatEther")]]
        names.append("formatEther")
    imported = [*names, "toUtf8Bytes"] if "keccak256" in names else list(names)
    for fn in imported:
        if fn in sn.used:
            raise Retry
        sn.used.add(fn)
    listed = ", ".join(imported)
    sn.line(f"const {{ {listed} }} = ethers.utils;", f"const {{ {listed} }} = ethers;")
    last = None
    for fn in names:
        template, pool = UTIL_USES[fn]
        v = sn.fresh(*pool)
        code = template.replace("{v}", v)
        if "{amt}" in code:
            code = code.replace("{amt}", sn.amount_input())
        if "{wei}" in code:
            code = code.replace("{wei}", sn.vars["wei"])
        if "{word}" in code:
            code = code.replace("{word}", sn.s(sn.rng.choice(WORDS)))
        if "{to}" in code:
            code = code.replace("{to}", sn.addr_input())
        sn.line(code)
        if fn == "parseEther":
            sn.vars["wei"] = v
        last = v
    assert last is not None
    sn.ret = (last, last)


class Retry(Exception):
    """The random choices did not fit together; draw again."""


UNITS = {
    "json_rpc_provider": u_json_rpc_provider,
    "browser_provider": u_browser_provider,
    "parse_ether": u_parse_ether,
    "format_ether": u_format_ether,
    "units": u_units,
    "hashing": u_hashing,
    "address": u_address,
    "bytes": u_bytes,
    "solidity_keccak": u_solidity_keccak,
    "abi_coder": u_abi_coder,
    "constants": u_constants,
    "bignumber": u_bignumber,
    "call_static": u_call_static,
    "estimate_gas": u_estimate_gas,
    "populate": u_populate,
    "gas_price": u_gas_price,
    "receipt": u_receipt,
    "deploy": u_deploy,
    "contract_address": u_contract_address,
    "interface": u_interface,
    "bytes32": u_bytes32,
    "verify_message": u_verify_message,
    "signature": u_signature,
    "utils_destructure": u_utils_destructure,
}
# A unit that cannot stand alone (its v5 form is not detectable by itself).
COMPANION_ONLY = ("contract_address",)


def make_snippet(first: str, rng: random.Random) -> tuple[str, str, list[str]]:
    while True:
        sn = Snip(rng)
        sn.fn_name = rng.choice(FN_NAMES[first])
        sn.used.add(sn.fn_name)
        target = rng.choice((1, 1, 2, 2, 2, 3))
        order = [first]
        try:
            UNITS[first](sn)
            tries = 0
            while len(sn.kinds) < target and tries < 6:
                tries += 1
                extra = rng.choice([*sorted(UNITS), "bignumber"])
                if extra in sn.kinds or extra in order:
                    continue
                order.append(extra)
                UNITS[extra](sn)
        except Retry:
            continue
        if not 1 <= len(sn.kinds) <= 3:
            continue
        v5, v6 = sn.render()
        n = v5.count("\n")
        if not MIN_LINES <= n <= MAX_LINES or v6.count("\n") != n:
            continue
        if not find_v5_apis(v5):
            continue  # e.g. only contract.address changed: not detectable, draw again
        leftover = find_v5_apis(v6)
        assert not leftover, (leftover, v6)
        return v5, v6, sn.kinds


def build(seed: int = SEED, n: int = N_PAIRS) -> list[dict[str, str]]:
    rng = random.Random(seed)
    # BigNumber maths and receipts carry several API changes each, so they lead more often.
    firsts = [k for k in UNITS if k not in COMPANION_ONLY] + ["bignumber", "bignumber", "receipt"]
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    i = 0
    while len(rows) < n:
        first = firsts[i % len(firsts)]
        if i % len(firsts) == 0 and (i // len(firsts)) % 2 == 1:
            first = "contract_address"  # gets a companion unit automatically
        i += 1
        v5, v6, kinds = make_snippet(first, rng)
        if v5 in seen:
            continue
        seen.add(v5)
        rows.append({"id": f"mig-{len(rows) + 1:03d}-{kinds[0]}", "prompt": v5, "completion": v6})
    rng.shuffle(rows)
    return rows


def write_jsonl(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("-n", type=int, default=N_PAIRS, help="number of pairs")
    args = parser.parse_args(argv)
    rows = build(args.seed, args.n)
    write_jsonl(rows, args.out)
    kinds = Counter(row["id"].split("-", 2)[2] for row in rows)
    print(f"wrote {len(rows)} pairs to {args.out}")
    print("first migration per snippet: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
