"""The kinds registry: built-ins, kinds installed by entry point, kinds registered at run time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds import (
    BUILTIN,
    UnknownKind,
    get_kind,
    kind_names,
    register_kind,
    registered,
)

ROOT = Path(__file__).resolve().parent.parent

PLUGIN = """
from narrowtune.kinds import Kind

KIND = Kind(
    name="echo",
    summary="an installed kind",
    metrics=("accuracy",),
    trainer="echo_kind.model:train",
    loader="echo_kind.model:load",
    evaluator="echo_kind.model:evaluate",
)
"""


def test_builtin_kinds_are_there_with_what_they_declare() -> None:
    assert kind_names()[: len(BUILTIN)] == list(BUILTIN)
    for name in BUILTIN:
        kind = get_kind(name)
        assert kind.name == name and kind.metrics and kind.summary
    assert get_kind("classify").audit.rewritable and not get_kind("extract").audit.rewritable
    assert get_kind("generate").section == "generate"
    assert get_kind("classify").section == "moderation"  # options of a moderation task


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UnknownKind, match=r"unknown kind 'clasify'; did you mean 'classify'\?"):
        get_kind("clasify")


def test_a_kind_installed_by_entry_point_is_found(tmp_path: Path) -> None:
    """A package that declares `[project.entry-points."narrowtune.kinds"] echo = ...` is found;
    installed here as a real distribution (a dist-info folder) on the path."""
    (tmp_path / "echo_kind").mkdir()
    (tmp_path / "echo_kind" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "echo_kind-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-kind\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[narrowtune.kinds]\necho = echo_kind:KIND\n")
    code = (
        "from narrowtune.kinds import get_kind, kind_names\n"
        "print(kind_names()[-1], get_kind('echo').summary)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "echo an installed kind"


def test_run_time_registration_is_undone_and_names_stay_unique() -> None:
    classify = get_kind("classify")
    twin = type(classify)(**{**vars(classify), "name": "classify-twin"})
    with registered(twin):
        assert get_kind("classify-twin") is twin
        with pytest.raises(NarrowtuneError, match="already registered"):
            register_kind(twin)
    assert "classify-twin" not in kind_names()
    with pytest.raises(NarrowtuneError, match="built in or installed"):
        from narrowtune.kinds import unregister_kind

        unregister_kind("classify")


def test_a_kind_must_declare_metrics_and_a_whole_section() -> None:
    from pydantic import BaseModel

    from narrowtune.kinds import Kind

    with pytest.raises(ValueError, match="declares no metrics"):
        Kind(name="x", summary="", metrics=(), trainer="a:b", loader="a:b", evaluator="a:b")
    with pytest.raises(ValueError, match="both `section` and `spec`"):
        Kind(
            name="x", summary="", metrics=("accuracy",), trainer="a:b", loader="a:b",
            evaluator="a:b", spec=BaseModel,
        )  # fmt: skip
