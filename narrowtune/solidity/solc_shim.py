"""A `solc`-compatible command over solcjs, for Slither (crytic-compile) to call.

Slither runs `solc --version` and, with `--solc-standard-json`, `solc --standard-json` with the
sources given by path. solcjs (npm's `solc` package) speaks standard JSON but prints a banner
line before it, needs the sources inline, and fails on large input or output through a pipe,
so this command reads the files, hands solcjs its request and takes its output through files,
and prints only the JSON.

Run as `python -m narrowtune.solidity.solc_shim ARGS`; `NARROWTUNE_SOLCJS` names the solcjs
executable (default: `solcjs` on PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOLCJS_ENV = "NARROWTUNE_SOLCJS"


def find_solcjs() -> str | None:
    """The solcjs executable: `NARROWTUNE_SOLCJS`, else `solcjs` on PATH; None when absent."""
    named = os.environ.get(SOLCJS_ENV)
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("solcjs")


def solcjs_version(solcjs: str) -> str:
    out = subprocess.run([solcjs, "--version"], capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def compile_standard_json(solcjs: str, request: dict, *, base: Path) -> str:
    """Compile a standard-JSON request with solcjs; sources given by `urls` are read inline."""
    for name, source in request.get("sources", {}).items():
        if "content" not in source and source.get("urls"):
            path = Path(source["urls"][0])
            path = path if path.is_absolute() else base / path
            source["content"] = path.read_text(encoding="utf-8")
            del source["urls"]
        request["sources"][name] = source
    # Both ends go through files: solcjs reads its standard input in one synchronous call, which
    # fails with EAGAIN on a pipe once the request outgrows the pipe's buffer (a few dozen files).
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as source,
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
    ):
        json.dump(request, source)
        source.seek(0)
        subprocess.run(
            [solcjs, "--standard-json"],
            stdin=source,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        out.seek(0)
        text = out.read()
    start = text.find("{")  # skip solcjs's ">>> Cannot retry compilation with SMT ..." banner
    return text[start:] if start >= 0 else text


def main(argv: list[str]) -> int:
    solcjs = find_solcjs()
    if solcjs is None:
        sys.stderr.write(
            f"solcjs not found: install it (`npm install -g solc@0.8.28`) or set {SOLCJS_ENV}\n"
        )
        return 2
    if "--version" in argv:
        print("solc, the solidity compiler commandline interface")
        print(f"Version: {solcjs_version(solcjs)}")
        return 0
    if "--standard-json" in argv:
        request = json.loads(sys.stdin.read())
        sys.stdout.write(compile_standard_json(solcjs, request, base=Path.cwd()))
        return 0
    sys.stderr.write(f"unsupported solc arguments for the solcjs shim: {argv}\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
