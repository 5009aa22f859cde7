"""The three `generate` example datasets: reproducible, and every approved output keeps its
task's contract (examples/wallet_support/replies, examples/brand_voice, examples/code_migration).

Fast and torch-free. The node-based checks of the code-migration snippets skip without `node`;
the one that runs node on all 480 snippets is marked slow.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REPLIES = EXAMPLES / "wallet_support" / "replies"
BRAND = EXAMPLES / "brand_voice"
CODE = EXAMPLES / "code_migration"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not on PATH; the JS syntax check needs Node.js"
)


def _module(path: Path) -> ModuleType:
    name = f"_nt_example_{path.parent.name}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _task(folder: Path, name: str = "task.yaml") -> dict:
    return yaml.safe_load((folder / name).read_text(encoding="utf-8"))


def _contract_problems(text: str, contract: dict) -> list[str]:
    """The checks of a generate contract that need no model: sections in order, forbidden
    phrases, whole-output regex and max_chars."""
    problems = []
    pos = 0
    for section in contract["sections"]:
        match = re.compile(section["pattern"], re.MULTILINE | re.IGNORECASE).search(text, pos)
        if match is None:
            problems.append(f"section {section['name']} missing or out of order")
        else:
            pos = match.end()
    lowered = text.lower()
    problems += [f"forbidden {p!r}" for p in contract["forbidden"] if p.lower() in lowered]
    if contract.get("regex") and not re.fullmatch(contract["regex"], text, re.DOTALL):
        problems.append("regex")
    if contract.get("max_chars") and len(text) > contract["max_chars"]:
        problems.append("too long")
    return problems


@pytest.fixture(scope="module")
def reply_rows() -> list[dict[str, str]]:
    return _rows(REPLIES / "pairs.jsonl")


@pytest.fixture(scope="module")
def brand_rows() -> list[dict[str, str]]:
    return _rows(BRAND / "pairs.jsonl")


@pytest.fixture(scope="module")
def code_rows() -> list[dict[str, str]]:
    return _rows(CODE / "pairs.jsonl")


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    return _module(CODE / "check.py")


# --------------------------------------------------------------------------------------------
# Shared: reproducible files, row shape, task files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "outputs"),
    [
        (REPLIES / "make_replies.py", {"--out": REPLIES / "pairs.jsonl"}),
        (
            BRAND / "make_pairs.py",
            {"--out": BRAND / "pairs.jsonl", "--style-out": BRAND / "style.csv"},
        ),
        (CODE / "make_pairs.py", {"--out": CODE / "pairs.jsonl"}),
    ],
    ids=["wallet-replies", "brand-voice", "ethers-v6"],
)
def test_generator_reproduces_committed_files(
    script: Path, outputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = []
    for flag, committed in outputs.items():
        argv += [flag, str(tmp_path / committed.name)]
    _module(script).main(argv)
    capsys.readouterr()
    for committed in outputs.values():
        fresh = (tmp_path / committed.name).read_bytes()
        assert fresh == committed.read_bytes(), f"{committed} is not what {script.name} writes"


@pytest.mark.parametrize(
    ("folder", "minimum"),
    [(REPLIES, 320), (BRAND, 220), (CODE, 220)],
    ids=["wallet-replies", "brand-voice", "ethers-v6"],
)
def test_rows_have_the_generate_shape(folder: Path, minimum: int) -> None:
    rows = _rows(folder / "pairs.jsonl")
    assert len(rows) >= minimum
    assert all(set(row) == {"id", "prompt", "completion"} for row in rows)
    assert all(row["prompt"].strip() and row["completion"].strip() for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({row["prompt"] for row in rows}) == len(rows)


@pytest.mark.parametrize(
    ("folder", "name"),
    [(REPLIES, "wallet-replies"), (BRAND, "brand-voice"), (CODE, "ethers-v6")],
    ids=["wallet-replies", "brand-voice", "ethers-v6"],
)
def test_task_files(folder: Path, name: str) -> None:
    task = _task(folder)
    assert task["name"] == name
    assert task["kind"] == "generate"
    assert task["data"] == {
        "train": "pairs.jsonl",
        "text_column": "prompt",
        "target_column": "completion",
    }
    contract = task["generate"]["contract"]
    for section in contract["sections"]:
        re.compile(section["pattern"])
    checker = contract["checker"]
    if checker:
        file, _, func = checker.partition(":")
        assert callable(getattr(_module(folder / file), func))
    (folder / "README.md").read_text(encoding="utf-8")


def test_task_files_validate_with_narrowtune() -> None:
    from narrowtune.task import load_task

    for path in (REPLIES / "task.yaml", BRAND / "task.yaml", CODE / "task.yaml"):
        assert load_task(path).kind == "generate"
    assert load_task(BRAND / "judge.yaml").kind == "classify"


# --------------------------------------------------------------------------------------------
# Wallet replies
# --------------------------------------------------------------------------------------------

SAFETY_LINE = "Reminder: we will never ask for your seed phrase or private keys."
ESCALATION = "I have escalated this to our accounts team, who will reply by email within 24 hours."
ACCOUNT_INTENTS = {"account_recovery", "refund_request", "kyc_verification"}
LOOKUP_INTENTS = {"stuck_transaction", "failed_swap", "bridge_delay"}
TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


def test_replies_keep_the_contract(reply_rows: list[dict[str, str]]) -> None:
    contract = _task(REPLIES)["generate"]["contract"]
    assert [s["name"] for s in contract["sections"]] == [
        "greeting",
        "diagnosis",
        "steps",
        "safety",
        "sign_off",
    ]
    for row in reply_rows:
        reply = row["completion"]
        assert _contract_problems(reply, contract) == [], row["id"]
        lines = reply.split("\n")
        assert SAFETY_LINE in lines, row["id"]
        assert lines[-1] == "— Wallet Support", row["id"]
        assert 40 <= len(reply.split()) <= 110, row["id"]
        assert 2 <= sum(bool(re.match(r"\d\. ", line)) for line in lines) <= 4, row["id"]
        assert re.match(r"(It looks like|This usually happens when) ", lines[2]), row["id"]


def test_replies_greet_the_signer(reply_rows: list[dict[str, str]]) -> None:
    greetings = Counter()
    for row in reply_rows:
        first = row["completion"].split("\n", 1)[0]
        name = re.fullmatch(r"Hi ([^,]+),", first).group(1)
        greetings[name == "there"] += 1
        if name != "there":
            # the name signs the ticket: it is on the ticket's last line
            assert name.lower() in row["prompt"].rsplit("\n", 1)[-1].lower(), row["id"]
    assert greetings[True] > 50 and greetings[False] > 50


def test_replies_escalate_exactly_the_account_specific_tickets(
    reply_rows: list[dict[str, str]],
) -> None:
    intents = Counter(row["id"].rsplit("-", 1)[0] for row in reply_rows)
    assert len(intents) >= 12 and min(intents.values()) >= 20
    lookups = 0
    for row in reply_rows:
        intent = row["id"].rsplit("-", 1)[0]
        has_hash = bool(TX_HASH.search(row["prompt"]))
        if has_hash:
            assert intent in LOOKUP_INTENTS, row["id"]
            lookups += 1
        expected = intent in ACCOUNT_INTENTS or has_hash
        assert (ESCALATION in row["completion"]) == expected, row["id"]
    assert lookups >= 10


def test_replies_never_ask_for_secrets_or_promise_outcomes(
    reply_rows: list[dict[str, str]],
) -> None:
    asks = re.compile(
        r"(send|share|tell|give|reply with|enter|type)\b[^.\n]{0,30}\b"
        r"(seed phrase|recovery phrase|private key|password)",
        re.IGNORECASE,
    )
    promises = re.compile(r"\b(we will|we'll|guarantee\w*)\b[^.\n]{0,30}\b(refund|recover)", re.I)
    for row in reply_rows:
        reply = row["completion"]
        assert not asks.search(reply.replace(SAFETY_LINE, "")), row["id"]
        assert not promises.search(reply), row["id"]


def test_replies_only_name_details_from_the_ticket(reply_rows: list[dict[str, str]]) -> None:
    """A reply never invents a network, token, device, collection or site the ticket did not
    mention (except a network's own fee coin and the cheaper network suggested for fees)."""
    gen = _module(REPLIES / "make_replies.py")
    names = [n for n in (*gen.CHAINS, *gen.DEVICES, *gen.NFTS, *gen.SITES) if n != "Ethereum"]
    tokens = {*gen.TOKENS, *gen.SWAP_TARGETS, *gen.NEW_TOKENS, *(t for t, _ in gen.STAKE)}
    for row in reply_rows:
        prompt = row["prompt"].lower()
        fee_coins = {coin for chain, coin in gen.GAS_TOKEN.items() if chain.lower() in prompt}
        for line in row["completion"].split("\n"):
            if "lower-cost network" in line:
                continue
            for name in names:
                if re.search(rf"\b{re.escape(name)}\b", line):
                    assert name.lower() in prompt, (row["id"], name)
            for token in tokens - fee_coins:
                if re.search(rf"\b{token}\b", line):
                    assert re.search(rf"\b{token.lower()}\b", prompt), (row["id"], token)


# --------------------------------------------------------------------------------------------
# Brand voice
# --------------------------------------------------------------------------------------------


def _house_problems(text: str, contract: dict, jargon: tuple[str, ...]) -> list[str]:
    problems = _contract_problems(text, contract)
    problems += [f"jargon {w}" for w in jargon if re.search(rf"\b{re.escape(w)}\b", text, re.I)]
    if re.search(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u203C]", text):
        problems.append("emoji")
    return problems


def test_brand_voice_outputs_keep_the_house_style(brand_rows: list[dict[str, str]]) -> None:
    contract = _task(BRAND)["generate"]["contract"]
    assert "!" in contract["forbidden"]
    jargon = _module(BRAND / "make_pairs.py").JARGON
    for row in brand_rows:
        text = row["completion"]
        assert _house_problems(text, contract, jargon) == [], row["id"]
        headline, blank1, means, blank2, todo = text.split("\n")
        assert blank1 == blank2 == ""
        assert headline.endswith(".") and ". " not in headline, row["id"]
        assert means.startswith("What this means for you: "), row["id"]
        assert means.count(". ") <= 1, row["id"]  # one or two sentences
        assert todo.startswith("What to do: ") and ". " not in todo, row["id"]  # one sentence
        assert re.search(r"\byou(r)?\b", text, re.I), row["id"]
    assert len({row["id"].rsplit("-", 1)[0] for row in brand_rows}) >= 20


def test_brand_voice_outputs_only_state_facts_from_the_note(
    brand_rows: list[dict[str, str]],
) -> None:
    """Every number in an output (times, minutes, percentages, versions, dates) and every
    region is in the note, so the model never learns to invent them."""
    regions = _module(BRAND / "make_pairs.py").REGIONS
    for row in brand_rows:
        for number in re.findall(r"\d+(?:[.:]\d+)*", row["completion"]):
            digits = number.lstrip("0") or number
            pattern = rf"(?<![\d.])0*{re.escape(digits)}(?![\d]|\.\d)"
            assert re.search(pattern, row["prompt"]), (row["id"], number)
        for code, plain in regions:
            if plain in row["completion"]:
                assert code in row["prompt"], (row["id"], plain)


def test_brand_voice_prompts_are_engineer_notes(brand_rows: list[dict[str, str]]) -> None:
    jargon = _module(BRAND / "make_pairs.py").JARGON
    with_jargon = sum(
        any(re.search(rf"\b{re.escape(w)}\b", row["prompt"], re.I) for w in jargon)
        for row in brand_rows
    )
    assert with_jargon / len(brand_rows) > 0.7
    assert sum("\n" in row["prompt"] for row in brand_rows) >= 10  # pasted log lines


def test_style_csv_is_balanced_and_labelled_by_the_rules() -> None:
    with (BRAND / "style.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["text", "label"]
        rows = list(reader)
    counts = Counter(row["label"] for row in rows)
    assert set(counts) == {"approved", "unapproved"}
    assert counts["approved"] >= 150 and counts["unapproved"] >= 150
    assert counts["approved"] == counts["unapproved"]
    assert len({row["text"] for row in rows}) == len(rows)
    contract = _task(BRAND)["generate"]["contract"]
    jargon = _module(BRAND / "make_pairs.py").JARGON
    for row in rows:
        problems = _house_problems(row["text"], contract, jargon)
        assert bool(problems) == (row["label"] == "unapproved"), row["text"]


# --------------------------------------------------------------------------------------------
# ethers v5 -> v6
# --------------------------------------------------------------------------------------------

FAST_SUBSET = 12


def test_code_snippets_are_short_modules(code_rows: list[dict[str, str]]) -> None:
    max_chars = _task(CODE)["generate"]["contract"]["max_chars"]
    for row in code_rows:
        for code in (row["prompt"], row["completion"]):
            assert 3 <= code.count("\n") <= 15, row["id"]
            assert code.startswith("import { ethers"), row["id"]
            assert len(code) <= max_chars, row["id"]
        assert row["prompt"] != row["completion"]


def test_v5_api_scan_flags_every_prompt_and_no_completion(
    code_rows: list[dict[str, str]], checker: ModuleType
) -> None:
    flagged = Counter()
    for row in code_rows:
        assert checker.find_v5_apis(row["completion"]) == [], row["id"]
        problems = checker.find_v5_apis(row["prompt"])
        assert problems, row["id"]
        assert all(re.match(r"line \d+: v5 API ", p) for p in problems)
        for problem in problems:
            flagged[problem.split("v5 API ", 1)[1].split(" (", 1)[0]] += 1
    for api in (
        "ethers.providers",
        "ethers.utils",
        "ethers.constants",
        "BigNumber",
        ".callStatic.",
        ".estimateGas.<fn>",
        ".populateTransaction.<fn>",
        "getGasPrice()",
        "solidityKeccak256",
        "arrayify()",
        "defaultAbiCoder",
        ".deployed()",
        "BigNumber method",
        ".toNumber()",
    ):
        assert flagged[api] >= 3, api


def test_v5_api_scan_names_api_and_line(checker: ModuleType) -> None:
    code = (
        'import { ethers } from "ethers";\n'
        "// ethers.utils in a comment is fine\n"
        "const p = new ethers.providers.JsonRpcProvider(URL);\n"
        "const g = await vault.estimateGas.deposit(1);\n"
        "const c = ethers.utils.defaultAbiCoder;\n"
        "const ok = ethers.AbiCoder.defaultAbiCoder();\n"
        "const e = await vault.deposit.estimateGas(1);\n"
    )
    problems = checker.find_v5_apis(code)
    assert [p.split(" (")[0] for p in problems] == [
        "line 3: v5 API ethers.providers",
        "line 4: v5 API .estimateGas.<fn>",
        "line 5: v5 API ethers.utils",
        "line 5: v5 API defaultAbiCoder",
    ]


@needs_node
def test_checker_passes_completions_and_fails_prompts_on_v5_only(
    code_rows: list[dict[str, str]], checker: ModuleType
) -> None:
    for row in code_rows[:FAST_SUBSET]:
        assert checker.check_snippet(row["completion"]) == [], row["id"]
        assert checker.node_syntax_problems(row["prompt"]) == [], row["id"]
        problems = checker.check_snippet(row["prompt"])
        # Only v5-era problems: the v5 scan, and (with NARROWTUNE_ETHERS_DIR) v5 names missing
        # from the installed ethers v6.
        assert any(" v5 API " in p for p in problems), row["id"]
        assert all(" v5 API " in p or "ethers v6 has no export" in p for p in problems), row["id"]


@needs_node
def test_checker_reports_node_syntax_errors(checker: ModuleType) -> None:
    code = 'import { ethers } from "ethers";\nconst a = 1;\nconst a = ethers.ZeroAddress;\n'
    (problem,) = checker.check_snippet(code)
    assert problem.startswith("node --check: line 3: SyntaxError"), problem
    assert "already been declared" in problem
    assert checker.check_snippet("const x = await fetchIt();\n") == []  # module: top-level await


@needs_node
def test_checker_cli_prints_pass_counts(
    tmp_path: Path, code_rows: list[dict[str, str]], checker: ModuleType, capsys
) -> None:
    path = tmp_path / "few.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in code_rows[:3]), encoding="utf-8")
    checker.main([str(path), "--field", "completion"])
    checker.main([str(path), "--field", "prompt"])
    out = capsys.readouterr().out
    assert "completion: 3/3 pass, 0 fail" in out
    assert "prompt: 0/3 pass, 3 fail" in out


@needs_node
@pytest.mark.slow
def test_checker_on_every_snippet(code_rows: list[dict[str, str]], checker: ModuleType) -> None:
    for row in code_rows:
        assert checker.check_snippet(row["completion"]) == [], row["id"]
        assert checker.node_syntax_problems(row["prompt"]) == [], row["id"]
        assert checker.find_v5_apis(row["prompt"]), row["id"]


@needs_node
def test_opt_in_ethers_symbol_check(code_rows: list[dict[str, str]], checker: ModuleType) -> None:
    ethers_dir = os.environ.get(checker.ETHERS_DIR_ENV)
    if not ethers_dir:
        pytest.skip(f"set {checker.ETHERS_DIR_ENV} to a node_modules folder with ethers v6")
    for row in code_rows[:FAST_SUBSET]:
        assert checker.ethers_symbol_problems(row["completion"], ethers_dir) == [], row["id"]
    missing = checker.ethers_symbol_problems(
        "const p = new ethers.providers.JsonRpcProvider(u);\n", ethers_dir
    )
    assert missing == ["ethers v6 has no export providers"]
