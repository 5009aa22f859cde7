"""Atomic file writes: readers see the old file or the whole new one, never half of it.

Everything narrowtune writes for a user (run files, reports, cleaned data, predictions,
exported models) goes through here: the content is written to a hidden temporary file in the
same folder, flushed to disk, then renamed over the target in one step. A crash or Ctrl-C
leaves the old file (or no file) and no temporary behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def replacing(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block ends without an error, the file
    written there replaces `path`. For writers that want a path of their own (a library
    writing a model file); `write_text` and friends use it too."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text(path: Path | str, text: str) -> Path:
    """Write `text` (UTF-8, newlines as given) to `path` atomically."""
    with replacing(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


def write_json(path: Path | str, data: Any) -> Path:
    """Write `data` as indented JSON (non-ASCII kept; dates and paths as strings)."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: Path | str, records: Iterable[Any]) -> Path:
    """Write one JSON value per line, streaming: `records` may be a generator."""
    with replacing(path) as temp, open(temp, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)
