"""Run Slither on Solidity sources (compiled by solcjs through `solc_shim`) and normalise it.

Nothing here raises for a bad contract: a file that does not compile, an analyzer that crashes
or runs out of time, a missing tool all come back as `Analysis.errors`, and an analysis with
errors must go to a human (`Analysis.needs_human`).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from narrowtune.solidity.findings import Finding, normalise_slither
from narrowtune.solidity.solc_shim import SOLCJS_ENV, find_solcjs

SLITHER_ENV = "NARROWTUNE_SLITHER"
# Detectors about the compiler pragma or gas only: they say nothing about the change under review.
DEFAULT_EXCLUDE = ("solc-version", "pragma", "immutable-states", "constable-states")


@dataclass
class Analysis:
    """What the analyzer found in one set of sources, or why it could not say."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tool: str = "slither"

    @property
    def security_critical(self) -> bool:
        return any(f.security_critical for f in self.findings)

    @property
    def needs_human(self) -> bool:
        return bool(self.errors) or self.security_critical

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "errors": list(self.errors),
            "files": list(self.files),
            "security_critical": self.security_critical,
            "needs_human": self.needs_human,
            "seconds": round(self.seconds, 3),
            "tool": self.tool,
        }


def find_slither() -> str | None:
    """The slither executable: `NARROWTUNE_SLITHER`, beside this Python, or on PATH."""
    named = os.environ.get(SLITHER_ENV)
    if named:
        return named if Path(named).is_file() else None
    beside = Path(sys.executable).parent / "slither"
    return str(beside) if beside.is_file() else shutil.which("slither")


def missing_tools() -> list[str]:
    """What is missing to run the analyzer, as instructions; empty when it can run."""
    missing = []
    if find_slither() is None:
        missing.append("slither is not installed: pip install 'narrowtune[solidity]'")
    if find_solcjs() is None:
        missing.append(f"solcjs is not installed: npm install -g solc@0.8.28 (or set {SOLCJS_ENV})")
    return missing


def _shim(folder: Path) -> Path:
    """An executable `solc` in `folder` that runs the solcjs shim with this Python."""
    path = folder / "solc"
    path.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m narrowtune.solidity.solc_shim "$@"\n',
        encoding="utf-8",
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _compile_errors(text: str) -> list[str]:
    """The compiler's own error lines out of a crytic-compile traceback."""
    lines = [line.strip() for line in text.splitlines()]
    picked = [
        line
        for line in lines
        if "Error:" in line or line.startswith("-->") or "InvalidCompilation" in line
    ]
    return picked[:12]


def analyze_sources(
    sources: dict[str, str], *, timeout: float = 120.0, exclude: tuple[str, ...] = DEFAULT_EXCLUDE
) -> Analysis:
    """Write `sources` ({relative path: Solidity text}) to a scratch folder and analyze it.

    Files are analyzed folder by folder (one compilation each, as a pull request's
    `contracts/` is); the findings keep the paths as given."""
    start = time.perf_counter()
    folders: dict[str, list[str]] = {}
    for name in sources:
        parent = str(Path(name).parent)
        folders.setdefault("" if parent == "." else parent, []).append(name)
    merged = Analysis()
    with tempfile.TemporaryDirectory(prefix="nt-sol-") as scratch:
        root = Path(scratch) / "src"
        for name, text in sources.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for folder in sorted(folders):
            part = analyze_folder(root / folder, timeout=timeout, exclude=exclude)
            prefix = f"{folder}/" if folder else ""
            merged.files.extend(prefix + f for f in part.files)
            merged.findings.extend(replace(f, file=prefix + f.file) for f in part.findings)
            merged.errors.extend(
                e.replace(str(root / folder), folder or ".")
                for e in part.errors
                if folder or "only top-level" not in e
            )
    merged.seconds = time.perf_counter() - start
    return merged


def analyze_folder(
    folder: str | Path, *, timeout: float = 120.0, exclude: tuple[str, ...] = DEFAULT_EXCLUDE
) -> Analysis:
    """Run Slither on every `.sol` file under `folder` (one compilation, solcjs's version)."""
    start = time.perf_counter()
    root = Path(folder).resolve()
    if not root.is_dir():
        return Analysis(errors=[f"{folder}: not a folder"])
    # crytic-compile compiles the .sol files at the top of a folder target (not its subfolders).
    files = sorted(p.name for p in root.glob("*.sol"))
    nested = sorted(str(p.relative_to(root)) for p in root.rglob("*.sol") if p.parent != root)
    if not files:
        return Analysis(errors=[f"{folder}: no Solidity (.sol) files to analyze"])
    analysis = Analysis(files=files)
    if nested:
        analysis.errors.append(
            f"{folder}: only top-level .sol files are analyzed; not analyzed: {', '.join(nested)}"
        )
    missing = missing_tools()
    if missing:
        analysis.errors.extend(missing)
        return analysis
    with tempfile.TemporaryDirectory(prefix="nt-slither-") as scratch:
        work = Path(scratch)
        out = work / "slither.json"
        command = [
            str(find_slither()),
            ".",
            "--solc",
            str(_shim(work)),
            "--solc-standard-json",
            "--json",
            str(out),
            "--disable-color",
        ]
        if exclude:
            command += ["--exclude", ",".join(exclude)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            run = subprocess.run(
                command, cwd=root, capture_output=True, text=True, timeout=timeout, env=env
            )
        except subprocess.TimeoutExpired:
            analysis.errors.append(f"slither did not finish within {timeout:g} s on {folder}")
            analysis.seconds = time.perf_counter() - start
            return analysis
        except OSError as error:
            analysis.errors.append(f"slither could not start: {error}")
            return analysis
        report: dict[str, Any] = {}
        if out.is_file():
            try:
                report = json.loads(out.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                report = {}
        if not report.get("success"):
            detail = report.get("error") or run.stderr
            compile_lines = _compile_errors(str(detail))
            if "InvalidCompilation" in str(detail) or compile_lines:
                analysis.errors.append(
                    f"{folder}: the Solidity sources do not compile: "
                    + (" | ".join(compile_lines) or "see the compiler output")
                )
            else:
                tail = " ".join(str(detail).strip().splitlines()[-3:])[:400]
                analysis.errors.append(
                    f"slither failed on {folder} (exit {run.returncode}): {tail or 'no output'}"
                )
        else:
            analysis.findings = normalise_slither(report)
    analysis.seconds = time.perf_counter() - start
    return analysis
