"""Unified diffs: which files a change touches, the lines it adds, and the files after it.

Review comments sit on the new side of the diff (GitHub's `side: RIGHT`), so what matters is
each file's path after the change and the new line numbers of the added lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from narrowtune.errors import NarrowtuneError

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class DiffError(NarrowtuneError):
    """A diff that cannot be read or applied."""


@dataclass
class FileDiff:
    """One file of a unified diff."""

    path: str  # the path after the change ("" when the file is deleted)
    old_path: str  # the path before ("" when the file is new)
    added: dict[int, str] = field(default_factory=dict)  # new line number -> text
    hunks: list[tuple[int, int, list[str]]] = field(default_factory=list)  # old start, new start

    @property
    def is_new(self) -> bool:
        return not self.old_path

    @property
    def is_deleted(self) -> bool:
        return not self.path

    @property
    def is_solidity(self) -> bool:
        return self.path.endswith(".sol")


def _strip(name: str) -> str:
    name = name.split("\t")[0].strip()
    if name == "/dev/null":
        return ""
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_diff(text: str) -> list[FileDiff]:
    """Read a unified diff (`git diff` or `diff -u`); raises `DiffError` naming the line."""
    if not text or not text.strip():
        raise DiffError("the diff is empty: nothing to review")
    files: list[FileDiff] = []
    lines = text.splitlines()
    current: FileDiff | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if (
            line.startswith("--- ")
            and index + 1 < len(lines)
            and lines[index + 1].startswith("+++ ")
        ):
            current = FileDiff(path=_strip(lines[index + 1][4:]), old_path=_strip(line[4:]))
            files.append(current)
            index += 2
            continue
        match = HUNK.match(line)
        if match:
            if current is None:
                raise DiffError(f"diff line {index + 1}: a hunk before any '---'/'+++' file header")
            old_left = int(match.group(2) or 1)
            new_left = int(match.group(4) or 1)
            new_line = int(match.group(3))
            body: list[str] = []
            current.hunks.append((int(match.group(1)), new_line, body))
            index += 1
            while index < len(lines) and (old_left > 0 or new_left > 0):
                row = lines[index]
                if row.startswith("\\"):  # "\ No newline at end of file"
                    index += 1
                    continue
                tag, content = (row[:1], row[1:]) if row else (" ", "")
                if tag == "+":
                    current.added[new_line] = content
                    new_line += 1
                    new_left -= 1
                elif tag == "-":
                    old_left -= 1
                elif tag == " ":
                    new_line += 1
                    new_left -= 1
                    old_left -= 1
                else:
                    raise DiffError(
                        f"diff line {index + 1}: expected ' ', '+' or '-' inside a hunk, "
                        f"got {row[:40]!r}"
                    )
                body.append(row)
                index += 1
            continue
        index += 1
    if not files:
        raise DiffError("no file headers ('--- a/x' / '+++ b/x') found: this is not a unified diff")
    return files


def apply_diff(files: list[FileDiff], base: str | Path | None = None) -> dict[str, str]:
    """The text of every Solidity file after the change ({path: text}).

    A new file is rebuilt from its added lines; a changed file needs `base` (the folder the
    diff applies to) and is patched hunk by hunk, checking every context and removed line."""
    result: dict[str, str] = {}
    for diff in files:
        if diff.is_deleted or not diff.is_solidity:
            continue
        if diff.is_new:
            result[diff.path] = "\n".join(diff.added[k] for k in sorted(diff.added)) + "\n"
            continue
        if base is None:
            raise DiffError(
                f"{diff.path}: the diff changes an existing file; give the folder it applies to"
            )
        source = Path(base) / diff.old_path
        if not source.is_file():
            raise DiffError(f"{diff.path}: {source} does not exist in the base folder")
        old = source.read_text(encoding="utf-8").splitlines()
        new: list[str] = []
        cursor = 0
        for old_start, _new_start, body in diff.hunks:
            start = max(old_start - 1, 0)
            new.extend(old[cursor:start])
            cursor = start
            for row in body:
                tag, content = row[:1], row[1:]
                if tag in (" ", "-"):
                    if cursor >= len(old) or old[cursor] != content:
                        raise DiffError(
                            f"{diff.path}: line {cursor + 1} of {source} does not match the diff"
                        )
                    cursor += 1
                    if tag == " ":
                        new.append(content)
                else:
                    new.append(content)
        new.extend(old[cursor:])
        result[diff.path] = "\n".join(new) + "\n"
    return result
