"""Contract checker for the ethers v5 -> v6 migration task.

``check_snippet(code)`` returns a list of problem strings (empty = the snippet passes):

1. **Syntax**: the code is written to a temporary ``.mjs`` file and checked with
   ``node --check`` (ES module rules, so top-level ``await`` is allowed; 10 s timeout). The
   problem names node's first error line. If ``node`` is not on ``PATH`` the syntax check is
   skipped with a warning (the API scan still runs).
2. **Leftover v5 APIs**: regexes for ethers v5-only names (``ethers.providers.``,
   ``ethers.utils.``, ``ethers.constants.``, ``BigNumber``, ``.callStatic.``, ``.estimateGas.foo``
   and ``.populateTransaction.foo`` used as namespaces, ``getGasPrice(``, BigNumber methods,
   receipt fields that changed, ...). Each problem names the API and the line. Full-line
   ``//`` comments are ignored.
3. **Optional, opt-in**: if ``NARROWTUNE_ETHERS_DIR`` points at a ``node_modules`` folder (or a
   project folder) holding ethers v6, every ``ethers.X`` / ``ethers.X.Y`` and every named import
   from ``"ethers"`` is checked to exist in that installed ethers.

The task file uses it as ``checker: check.py:check_snippet``. From the command line::

    python check.py pairs.jsonl --field completion   # every completion should pass
    python check.py pairs.jsonl --field prompt       # every prompt should fail (v5 code)

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

NODE_TIMEOUT_S = 10
ETHERS_DIR_ENV = "NARROWTUNE_ETHERS_DIR"

# (name shown in the problem, regex, v6 replacement hint)
V5_APIS: tuple[tuple[str, str, str], ...] = (
    ("ethers.providers", r"\bethers\.providers\b", "use ethers.JsonRpcProvider / BrowserProvider"),
    ("ethers.utils", r"\bethers\.utils\b", "utils live on the top-level ethers object"),
    (
        "ethers.constants",
        r"\bethers\.constants\b",
        "use ethers.ZeroAddress / MaxUint256 / ZeroHash",
    ),
    ("Web3Provider", r"\bWeb3Provider\b", "use ethers.BrowserProvider"),
    ("BigNumber", r"\bBigNumber\b", "use native bigint: BigInt(x)"),
    (".callStatic.", r"\.callStatic\.", "use contract.fn.staticCall(...)"),
    (".estimateGas.<fn>", r"\.estimateGas\.[A-Za-z_$]", "use contract.fn.estimateGas(...)"),
    (
        ".populateTransaction.<fn>",
        r"\.populateTransaction\.[A-Za-z_$]",
        "use contract.fn.populateTransaction(...)",
    ),
    ("getGasPrice()", r"\bgetGasPrice\s*\(", "use (await provider.getFeeData()).gasPrice"),
    ("solidityKeccak256", r"\bsolidityKeccak256\b", "use ethers.solidityPackedKeccak256"),
    ("solidityPack", r"\bsolidityPack\b", "use ethers.solidityPacked"),
    ("arrayify()", r"\barrayify\s*\(", "use ethers.getBytes"),
    ("defaultAbiCoder", r"(?<!AbiCoder\.)\bdefaultAbiCoder\b", "use AbiCoder.defaultAbiCoder()"),
    ("formatBytes32String", r"\bformatBytes32String\b", "use ethers.encodeBytes32String"),
    ("parseBytes32String", r"\bparseBytes32String\b", "use ethers.decodeBytes32String"),
    ("splitSignature", r"\bsplitSignature\b", "use ethers.Signature.from"),
    ("hexZeroPad", r"\bhexZeroPad\b", "use ethers.zeroPadValue"),
    ("getSighash()", r"\.getSighash\s*\(", "use iface.getFunction(name).selector"),
    (".deployed()", r"\.deployed\s*\(\s*\)", "use await contract.waitForDeployment()"),
    ("effectiveGasPrice", r"\beffectiveGasPrice\b", "the v6 receipt field is receipt.gasPrice"),
    (
        "receipt.transactionHash",
        r"\b(?:receipt|rcpt|txReceipt)\.transactionHash\b",
        "the v6 receipt field is receipt.hash",
    ),
    (
        "receipt.confirmations",
        r"\b(?:receipt|rcpt|txReceipt)\.confirmations\b(?!\s*\()",
        "in v6 it is a method: await receipt.confirmations()",
    ),
    (".toNumber()", r"\.toNumber\s*\(\s*\)", "use Number(x) on a bigint"),
    (".toHexString()", r"\.toHexString\s*\(\s*\)", "use ethers.toBeHex(x)"),
    (".isZero()", r"\.isZero\s*\(\s*\)", "compare with 0n"),
    (
        "BigNumber method",
        r"\.(?:sub|mul|div|eq|gt|gte|lt|lte)\s*\(",
        "use bigint operators (- * / === > >= < <=)",
    ),
)
_COMPILED = tuple((name, re.compile(rx), hint) for name, rx, hint in V5_APIS)
_COMMENT_LINE = re.compile(r"^\s*//")


def find_v5_apis(code: str) -> list[str]:
    """Problems for every v5-only API found, one per (API, line)."""
    problems = []
    for lineno, line in enumerate(code.splitlines(), start=1):
        if _COMMENT_LINE.match(line):
            continue
        for name, rx, hint in _COMPILED:
            if rx.search(line):
                problems.append(f"line {lineno}: v5 API {name} ({hint})")
    return problems


def node_syntax_problems(code: str, node: str | None = None) -> list[str]:
    """``node --check`` on the code as an ES module; [] when it parses."""
    node = node or shutil.which("node")
    if node is None:
        warnings.warn("node is not on PATH; skipping the syntax check", stacklevel=2)
        return []
    with tempfile.TemporaryDirectory(prefix="nt-ethers-") as tmp:
        path = Path(tmp) / "snippet.mjs"
        path.write_text(code, encoding="utf-8")
        try:
            proc = subprocess.run(
                [node, "--check", str(path)],
                capture_output=True,
                text=True,
                timeout=NODE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return [f"node --check: timed out after {NODE_TIMEOUT_S} s"]
    if proc.returncode == 0:
        return []
    err = proc.stderr
    where = re.search(r"snippet\.mjs:(\d+)", err)
    first = next(
        (ln.strip() for ln in err.splitlines() if re.match(r"\s*\w*Error\b", ln)),
        next((ln.strip() for ln in err.splitlines() if ln.strip()), "unknown error"),
    )
    line = f"line {where.group(1)}: " if where else ""
    return [f"node --check: {line}{first}"]


_ETHERS_REF = re.compile(r"\bethers\.([A-Za-z_$][\w$]*)(?:\.([A-Za-z_$][\w$]*))?")
_NAMED_IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*[\"']ethers[\"']")

_SYMBOL_SCRIPT = r"""
const path = require("path");
const { createRequire } = require("module");
const [dir, refsJson] = process.argv.slice(1);
const req = createRequire(path.join(path.resolve(dir), "__narrowtune__.js"));
const mod = req("ethers");
const ns = mod.ethers || mod;
const missing = [];
for (const [top, sub] of JSON.parse(refsJson)) {
  const value = ns[top];
  if (value === undefined) { missing.push(top); continue; }
  if (sub && Object(value)[sub] === undefined) missing.push(top + "." + sub);
}
process.stdout.write(JSON.stringify(missing));
"""


def ethers_symbol_problems(code: str, ethers_dir: str, node: str | None = None) -> list[str]:
    """Names used as ``ethers.X`` (or imported from "ethers") that the installed ethers lacks."""
    node = node or shutil.which("node")
    if node is None:
        return []
    refs: list[tuple[str, str | None]] = []
    for line in code.splitlines():
        if _COMMENT_LINE.match(line):
            continue
        refs += [(m.group(1), m.group(2)) for m in _ETHERS_REF.finditer(line)]
        for m in _NAMED_IMPORT.finditer(line):
            for part in m.group(1).split(","):
                name = part.split(" as ")[0].strip()
                if name and name != "ethers":
                    refs.append((name, None))
    refs = sorted(set(refs), key=lambda r: (r[0], r[1] or ""))
    if not refs:
        return []
    try:
        proc = subprocess.run(
            [node, "-e", _SYMBOL_SCRIPT, ethers_dir, json.dumps(refs)],
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return [f"ethers symbol check: timed out after {NODE_TIMEOUT_S} s"]
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "Error" in ln), proc.stderr[:200])
        return [f"ethers symbol check failed to run: {first.strip()}"]
    missing = dict.fromkeys(json.loads(proc.stdout))
    return [f"ethers v6 has no export {name}" for name in missing]


def check_snippet(code: str) -> list[str]:
    """All problems with one migrated snippet; [] means it passes."""
    problems = node_syntax_problems(code) + find_v5_apis(code)
    ethers_dir = os.environ.get(ETHERS_DIR_ENV)
    if ethers_dir:
        problems += ethers_symbol_problems(code, ethers_dir)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check ethers v6 snippets in a JSONL file.")
    parser.add_argument("jsonl", type=Path)
    parser.add_argument("--field", default="completion", help="JSON field holding the code")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every problem")
    args = parser.parse_args(argv)

    total = passed = 0
    with args.jsonl.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            problems = check_snippet(row[args.field])
            total += 1
            passed += not problems
            if problems and args.verbose:
                print(f"{row.get('id', total)}:")
                for problem in problems:
                    print(f"  {problem}")
    print(f"{args.field}: {passed}/{total} pass, {total - passed} fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
