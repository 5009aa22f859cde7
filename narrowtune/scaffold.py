"""`narrowtune init` and the demo: write a task folder a user can start from.

`init` asks the task's kind for its starter (`Kind.scaffold`: data files and the task mapping);
the demo copies the wallet-support task that ships inside the package (`narrowtune.demo`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds import get_kind, kind_names
from narrowtune.kinds.base import resolve


def scaffold(name: str, *, kind: str, directory: Path) -> Path:
    """Create `directory` with a task.yaml and starter data; refuses to overwrite."""
    plugin = get_kind(kind)
    if plugin.scaffold is None:
        able = [k for k in kind_names() if get_kind(k).scaffold is not None]
        raise NarrowtuneError(f"kind '{kind}' has no starter; `init` knows {', '.join(able)}")
    if directory.exists() and any(directory.iterdir()):
        raise NarrowtuneError(f"{directory} exists and is not empty; choose another --directory")
    directory.mkdir(parents=True, exist_ok=True)
    task = resolve(plugin.scaffold)(directory, name)
    (directory / "task.yaml").write_text(yaml.safe_dump(task, sort_keys=False))
    return directory


def demo_folder(directory: Path) -> Path:
    """Copy the bundled wallet-support task into `directory`; returns its task file."""
    from narrowtune.demo import FILES, demo_file

    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        source = demo_file(name)
        if not source.is_file():
            raise NarrowtuneError(
                f"the demo file {source} is missing from the installed package; reinstall "
                "narrowtune"
            )
        shutil.copy2(source, directory / name)
    return directory / "task.yaml"
