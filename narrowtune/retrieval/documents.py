"""Reading a folder of documents: Markdown (with optional YAML front matter), text and JSONL.

Every document gets an id (front matter / JSONL `id`, else its path relative to the folder), a
title, an optional `updated_at`, metadata (the other front-matter or JSONL keys) and a content
hash. Any malformed document stops the whole read with a `DocumentError` naming file:line, so a
build or update never writes half a folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from narrowtune.errors import NarrowtuneError

SUFFIXES = (".md", ".markdown", ".txt", ".jsonl")
RESERVED = {"id", "title", "updated_at", "text", "max_age_days"}


class DocumentError(NarrowtuneError):
    """A document that cannot be read: bad front matter, a bad JSON line, no text, a bad date."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    source: str  # path relative to the documents folder (with :line for a JSONL row)
    title: str
    updated_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    max_age_days: float | None = None  # overrides the index's max_age_days for this document

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [
                self.text,
                self.title,
                self.source.split(".jsonl:")[0],  # a JSONL row that moves lines is unchanged
                self.updated_at.isoformat() if self.updated_at else None,
                self.metadata,
                self.max_age_days,
            ],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def parse_date(value: object) -> datetime:
    """A date or datetime (YAML's, or ISO 8601 text) as an aware UTC datetime; ValueError else."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    else:
        raise ValueError(f"{value!r} is not a date")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plain(value: Any) -> Any:
    """Metadata values as JSON: dates become ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _key_line(lines: list[str], key: str, first: int) -> int:
    """The 1-based line of `key:` inside front matter that starts on line `first`."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    for offset, line in enumerate(lines):
        if pattern.match(line):
            return first + offset
    return first


def _fields(
    values: dict[str, Any], where: str, line_of: Any
) -> tuple[str | None, str | None, datetime | None, float | None, dict[str, Any]]:
    """id, title, updated_at, max_age_days and metadata from a front matter or a JSONL row."""
    doc_id = values.get("id")
    if doc_id is not None and (not isinstance(doc_id, str | int) or not str(doc_id).strip()):
        raise DocumentError(f"{where}:{line_of('id')}: id must be non-empty text")
    title = values.get("title")
    if title is not None and not isinstance(title, str):
        raise DocumentError(f"{where}:{line_of('title')}: title must be text")
    updated = None
    if values.get("updated_at") is not None:
        try:
            updated = parse_date(values["updated_at"])
        except ValueError:
            raise DocumentError(
                f"{where}:{line_of('updated_at')}: updated_at {values['updated_at']!r} is not a "
                "date (use ISO 8601, e.g. 2026-11-30 or 2026-11-30T14:00:00Z)"
            ) from None
    max_age = values.get("max_age_days")
    if max_age is not None and (
        isinstance(max_age, bool) or not isinstance(max_age, int | float) or max_age <= 0
    ):
        raise DocumentError(f"{where}:{line_of('max_age_days')}: max_age_days must be > 0")
    metadata = {str(k): _plain(v) for k, v in values.items() if k not in RESERVED}
    return (
        None if doc_id is None else str(doc_id).strip(),
        title,
        updated,
        None if max_age is None else float(max_age),
        metadata,
    )


def _first_heading(text: str) -> str | None:
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
        if match:
            return match.group(1)
    return None


def read_markdown(path: Path, relative: str) -> Document:
    """A Markdown or text file, with optional YAML front matter between `---` lines."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{relative}:1: not UTF-8 text ({exc.reason})") from None
    lines = raw.splitlines()
    values: dict[str, Any] = {}
    body_start = 0
    front: list[str] = []
    if lines and lines[0].strip() == "---":
        for number in range(1, len(lines)):
            if lines[number].strip() in ("---", "..."):
                front = lines[1:number]
                body_start = number + 1
                break
        else:
            raise DocumentError(f"{relative}:1: front matter opened with --- is never closed")
        try:
            loaded = yaml.safe_load("\n".join(front)) if front else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = 2 + (mark.line if mark is not None else 0)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise DocumentError(f"{relative}:{line}: bad front matter: {problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise DocumentError(f"{relative}:2: front matter must be key: value pairs")
        values = loaded
    body = "\n".join(lines[body_start:]).strip()
    if not body:
        raise DocumentError(f"{relative}:{body_start + 1}: the document has no text")
    doc_id, title, updated, max_age, metadata = _fields(
        values, relative, lambda key: _key_line(front, key, 2)
    )
    return Document(
        doc_id=doc_id or relative,
        text=body,
        source=relative,
        title=title or _first_heading(body) or path.stem.replace("_", " ").replace("-", " "),
        updated_at=updated,
        metadata=metadata,
        max_age_days=max_age,
    )


def read_jsonl(path: Path, relative: str) -> list[Document]:
    """One document per line: `id` and `text` required; `title`, `updated_at`, other keys."""
    documents = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{relative}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DocumentError(f"{where}: bad JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(row, dict):
                raise DocumentError(f"{where}: each line must be a JSON object")
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                raise DocumentError(f"{where}: missing text (a non-empty 'text' field)")
            doc_id, title, updated, max_age, metadata = _fields(
                row, where.rsplit(":", 1)[0], lambda _k, n=number: n
            )
            if doc_id is None:
                raise DocumentError(f"{where}: missing id (each JSONL row needs an 'id')")
            documents.append(
                Document(
                    doc_id=doc_id,
                    text=text.strip(),
                    source=f"{relative}:{number}",
                    title=title or _first_heading(text) or doc_id,
                    updated_at=updated,
                    metadata=metadata,
                    max_age_days=max_age,
                )
            )
    return documents


def read_documents(folder: Path | str) -> list[Document]:
    """Every document under `folder` (recursively, hidden files skipped), sorted by path."""
    root = Path(folder)
    if not root.is_dir():
        raise DocumentError(f"documents folder {root} does not exist or is not a folder")
    documents: list[Document] = []
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        found = (
            read_jsonl(path, relative)
            if path.suffix.lower() == ".jsonl"
            else [read_markdown(path, relative)]
        )
        for document in found:
            if document.doc_id in seen:
                raise DocumentError(
                    f"{document.source}: document id {document.doc_id!r} is also used by "
                    f"{seen[document.doc_id]}; ids must be unique"
                )
            seen[document.doc_id] = document.source
            documents.append(document)
    return documents
