"""An index directory: build, update, delete and query it.

Layout: `INDEX_DIR/current` is a symbolic link to a generation folder (`gen-...`) that holds
`config.json`, the BM25 index (`bm25/`) and, for the embedded store, `chunks.sqlite` and
`vectors.faiss`. A build or an update writes a new generation (a copy of the current one,
changed) and then replaces the link in one step, so a reader sees the old index or the whole
new one, and a failure (a malformed document, a full disk) leaves the old one untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from narrowtune.atomic import write_json
from narrowtune.errors import NarrowtuneError
from narrowtune.progress import ProgressFn
from narrowtune.retrieval.chunking import Chunk, chunk_text
from narrowtune.retrieval.documents import Document, parse_date, read_documents
from narrowtune.retrieval.lexical import Lexical
from narrowtune.retrieval.stores import DocRow, EmbeddedStore, PgvectorStore, Store, StoreError

FORMAT = 1
MODES = ("hybrid", "vector", "bm25")
RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009's value)
Mode = Literal["hybrid", "vector", "bm25"]


class RetrievalError(NarrowtuneError):
    """Base class of the retrieval errors a user can cause."""


class IndexNotFoundError(RetrievalError):
    """The index directory is missing, empty, or not an index."""


class IndexCorruptError(RetrievalError):
    """The index directory exists but its files cannot be read."""


class EmptyIndexError(RetrievalError):
    """A query on an index that holds no chunks."""


class QueryError(RetrievalError):
    """A query that cannot be answered as asked (empty text, bad mode, bad filter)."""


@dataclass(frozen=True)
class IndexConfig:
    """What an index directory records so `update` and `query` need nothing else."""

    store: Literal["embedded", "pgvector"] = "embedded"
    encoder: str = "all-MiniLM-L6-v2"
    dim: int = 384
    max_length: int = 256  # encoder tokens per chunk
    chunk_words: int = 160
    overlap_words: int = 32
    max_age_days: float | None = None
    docs_dir: str | None = None
    dsn: str | None = None  # pgvector only
    table: str | None = None  # pgvector only: tables <table>_documents and <table>_chunks
    format: int = FORMAT

    def __post_init__(self) -> None:
        if self.store not in ("embedded", "pgvector"):
            raise RetrievalError(f"store must be 'embedded' or 'pgvector', not {self.store!r}")
        if self.store == "pgvector" and not self.dsn:
            raise RetrievalError(
                "the pgvector store needs a PostgreSQL DSN (--dsn or $NARROWTUNE_PGVECTOR_DSN)"
            )
        if self.chunk_words < 8:
            raise RetrievalError("chunk_words must be at least 8")
        if not 0 <= self.overlap_words < self.chunk_words:
            raise RetrievalError("overlap_words must be >= 0 and smaller than chunk_words")
        if self.max_age_days is not None and self.max_age_days <= 0:
            raise RetrievalError("max_age_days must be > 0")

    @classmethod
    def from_json(cls, path: Path) -> IndexConfig:
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(values, dict):
                raise ValueError("not a JSON object")
            return cls(**values)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(f"{path}: unreadable index config: {exc}") from None


@dataclass
class Hit:
    """One retrieved chunk."""

    doc_id: str
    chunk_id: str  # "<doc_id>#<chunk index>"
    text: str
    score: float  # cosine similarity (vector), BM25 score (bm25) or fused RRF score (hybrid)
    title: str
    metadata: dict[str, Any]
    updated_at: datetime | None
    stale: bool
    source: str
    heading: str = ""
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return data


@dataclass
class Summary:
    """What a build, update or delete changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks: int = 0  # chunks in the index afterwards
    embedded: int = 0  # chunk texts sent to the encoder (0 when nothing changed)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    changed_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def _encoder(name: str, max_length: int) -> Any:
    from narrowtune.encoders import Encoder

    return Encoder.from_pretrained(name, max_length=max_length)


def embed(
    config: IndexConfig, texts: Sequence[str], progress: ProgressFn | None = None
) -> np.ndarray:
    """Unit vectors for `texts` with the index's encoder (loaded once per process)."""
    if not texts:
        return np.zeros((0, config.dim), dtype=np.float32)
    encoder = _encoder(config.encoder, config.max_length)
    vectors = encoder.encode(list(texts), batch_size=32, progress=progress)
    if vectors.shape[1] != config.dim:
        raise IndexCorruptError(
            f"encoder {config.encoder} gives {vectors.shape[1]}-d vectors, the index holds "
            f"{config.dim}-d ones"
        )
    return vectors


def embed_chunks(
    config: IndexConfig, texts: Sequence[str], progress: ProgressFn | None = None
) -> np.ndarray:
    """Embed chunk passages for a build or update (every text that reaches the encoder while
    indexing goes through here, so it can be counted)."""
    return embed(config, texts, progress)


def passage(title: str, heading: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its document's title, its heading and
    its words (the heading is left out when the chunk's text starts with it)."""
    head = (
        title
        if not heading or heading == title or text.startswith(heading)
        else f"{title}: {heading}"
    )
    return f"{head}\n{text}"


def _resolve(index_dir: Path) -> Path:
    """The current generation folder of an index directory."""
    index_dir = Path(index_dir)
    if not index_dir.exists():
        raise IndexNotFoundError(
            f"index directory {index_dir} does not exist; build it with "
            "`narrowtune index build DOCS_DIR INDEX_DIR`"
        )
    link = index_dir / "current"
    if not link.is_symlink() and not link.is_dir():
        what = "is empty" if not any(index_dir.iterdir()) else "is not a narrowtune index"
        raise IndexNotFoundError(
            f"index directory {index_dir} {what} (no 'current' generation); build it with "
            "`narrowtune index build DOCS_DIR INDEX_DIR`"
        )
    target = link.resolve()
    if not (target / "config.json").is_file():
        raise IndexCorruptError(f"index directory {index_dir}: {target} has no config.json")
    return target


def _open_store(config: IndexConfig, generation: Path, *, create: bool = False) -> Store:
    if config.store == "embedded":
        return EmbeddedStore(generation, config.dim)
    assert config.dsn is not None and config.table is not None
    return PgvectorStore(config.dsn, config.table, config.dim, create=create)


def _filter_docs(rows: dict[str, DocRow], filters: dict[str, Any]) -> list[str]:
    """Document ids whose fields match every filter: `doc_id`, `title`, `source` or a metadata
    key, equal to a value or one of a list of values."""

    def field_of(row: DocRow, key: str) -> Any:
        if key in ("doc_id", "title", "source"):
            return getattr(row, key)
        return row.metadata.get(key)

    def matches(value: Any, wanted: Any) -> bool:
        options = wanted if isinstance(wanted, list | tuple | set) else [wanted]
        if isinstance(value, list):
            return any(v in options for v in value)
        return value in options

    return [
        doc_id
        for doc_id, row in rows.items()
        if all(matches(field_of(row, key), wanted) for key, wanted in filters.items())
    ]


class Index:
    """An opened index: query it, format hits as context. Use `open_index(path)`."""

    def __init__(self, directory: Path, generation: Path, config: IndexConfig) -> None:
        self.directory = directory
        self.generation = generation
        self.config = config
        try:
            self.store = _open_store(config, generation)
            self.lexical = Lexical.load(generation / "bm25")
            self._docs = self.store.documents()
            self._count = self.store.chunk_count()
        except StoreError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"index directory {directory} is unreadable: {exc}") from None
        if len(self.lexical.ids) != self._count:
            raise IndexCorruptError(
                f"index directory {directory}: the BM25 index holds {len(self.lexical.ids)} "
                f"chunks and the store {self._count}; rebuild it with `narrowtune index build`"
            )

    def __len__(self) -> int:
        return self._count

    def is_empty(self) -> bool:
        return self._count == 0

    @property
    def document_ids(self) -> list[str]:
        return sorted(self._docs)

    def close(self) -> None:
        self.store.close()

    def refresh(self) -> bool:
        """Reopen the index if an update or build published a newer generation since it was
        opened (for long-lived readers such as a server); True when it changed."""
        current = _resolve(self.directory)
        if current == self.generation:
            return False
        fresh = open_index(self.directory)
        self.store.close()
        self.__dict__.update(fresh.__dict__)
        return True

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _stale(self, row: DocRow, updated: datetime | None, as_of: datetime) -> bool:
        limit = row.max_age_days if row.max_age_days is not None else self.config.max_age_days
        if limit is None or updated is None:
            return False
        return (as_of - updated).total_seconds() > limit * 86400

    def query(
        self,
        text: str,
        k: int = 5,
        mode: Mode | str = "hybrid",
        filters: dict[str, Any] | None = None,
        as_of: datetime | str | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `text`. `mode`: hybrid (BM25 and vector fused by reciprocal
        rank), vector or bm25. `filters`: {field: value or [values]} on doc_id, title, source
        or metadata keys. `as_of` (default now) decides which hits are stale."""
        if mode not in MODES:
            raise QueryError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not isinstance(text, str) or not text.strip():
            raise QueryError("the query text is empty")
        if k < 1:
            raise QueryError("k must be at least 1")
        if self.is_empty():
            raise EmptyIndexError(
                f"index {self.directory} holds no documents; add some to its documents folder "
                "and run `narrowtune index update`"
            )
        moment = datetime.now(UTC) if as_of is None else as_of
        if isinstance(moment, str):
            try:
                moment = parse_date(moment)
            except ValueError:
                raise QueryError(f"as_of {as_of!r} is not a date") from None
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        allowed: list[int] | None = None
        if filters:
            if not isinstance(filters, dict):
                raise QueryError("filters must be a mapping of field to value(s)")
            doc_ids = _filter_docs(self._docs, filters)
            allowed = self.store.chunk_ids(doc_ids) if doc_ids else []
            if not allowed:
                return []
        pool = max(4 * k, 20)
        ranked: list[tuple[int, float]]
        if mode == "bm25":
            ranked = self.lexical.top(text, k, allowed)
        elif mode == "vector":
            ranked = self.store.nearest(embed(self.config, [text])[0], k, allowed)
        else:
            lists = [
                self.store.nearest(embed(self.config, [text])[0], pool, allowed),
                self.lexical.top(text, pool, allowed),
            ]
            fused: dict[int, float] = {}
            for results in lists:
                for rank, (chunk, _) in enumerate(results, 1):
                    fused[chunk] = fused.get(chunk, 0.0) + 1.0 / (RRF_K + rank)
            ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        rows = self.store.chunks([chunk for chunk, _ in ranked])
        hits = []
        for rank, (chunk, score) in enumerate(ranked, 1):
            row = rows.get(chunk)
            if row is not None and row.doc_id not in self._docs:
                self._docs = self.store.documents()  # pgvector: changed by an update since
            if row is None or row.doc_id not in self._docs:
                # A pgvector index whose tables an update changed after this reader opened:
                # skip what is gone (refresh() reopens the whole index).
                continue
            doc = self._docs[row.doc_id]
            updated = parse_date(doc.updated_at) if doc.updated_at else None
            hits.append(
                Hit(
                    doc_id=row.doc_id,
                    chunk_id=f"{row.doc_id}#{row.chunk_index}",
                    text=row.text,
                    score=round(score, 6),
                    title=doc.title,
                    metadata=dict(doc.metadata),
                    updated_at=updated,
                    stale=self._stale(doc, updated, moment),
                    source=doc.source,
                    heading=row.heading,
                    rank=rank,
                )
            )
        return hits

    def retrieve(
        self,
        text: str,
        k: int = 5,
        mode: Mode | str = "hybrid",
        filters: dict[str, Any] | None = None,
        as_of: datetime | str | None = None,
    ) -> dict[str, Any]:
        """`query` plus `context`, as one JSON-serialisable dict (a pipeline step's outputs):
        context, hits (as dicts), doc_ids, stale (any hit stale) and stale_ids."""
        hits = self.query(text, k=k, mode=mode, filters=filters, as_of=as_of)
        stale_ids = list(dict.fromkeys(hit.doc_id for hit in hits if hit.stale))
        return {
            "context": self.context(hits),
            "hits": [hit.to_dict() for hit in hits],
            "doc_ids": list(dict.fromkeys(hit.doc_id for hit in hits)),
            "stale": bool(stale_ids),
            "stale_ids": stale_ids,
        }

    def context(self, hits: Sequence[Hit]) -> str:
        """The block of text a drafter is given: one numbered passage per hit, each headed by
        its document id, title and date, and marked `[stale: updated YYYY-MM-DD]` when stale."""
        if not hits:
            return "(no passages retrieved)"
        blocks = []
        for number, hit in enumerate(hits, 1):
            date = hit.updated_at.date().isoformat() if hit.updated_at else None
            head = f"[{number}] {hit.doc_id} | {hit.title}"
            head += f" | updated {date}" if date else " | date unknown"
            if hit.stale:
                head += f" [stale: updated {date}]"
            blocks.append(f"{head}\n{hit.text}")
        return "\n\n".join(blocks)


def open_index(path: Path | str) -> Index:
    """Open an index directory written by `build_index`; a clear error if it is missing,
    empty or unreadable."""
    directory = Path(path)
    generation = _resolve(directory)
    config = IndexConfig.from_json(generation / "config.json")
    if config.format != FORMAT:
        raise IndexCorruptError(
            f"index {directory} has format {config.format}; this narrowtune reads {FORMAT}: "
            "rebuild it"
        )
    return Index(directory, generation, config)


def _new_generation(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f".gen-{stamp}-", dir=index_dir))


def _publish(index_dir: Path, staged: Path) -> None:
    """Make `staged` the current generation in one step and remove the older ones."""
    final = index_dir / staged.name.lstrip(".")
    os.replace(staged, final)
    link = index_dir / f".current-{final.name}"
    link.unlink(missing_ok=True)
    os.symlink(final.name, link)
    os.replace(link, index_dir / "current")
    for old in index_dir.glob("gen-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)


def _sync(
    index_dir: Path,
    config: IndexConfig,
    documents: list[Document] | None,
    *,
    remove: Sequence[str] = (),
    base: Path | None,
    progress: ProgressFn | None,
) -> Summary:
    """Bring the index to exactly `documents` (None: keep the stored ones but `remove`): a new
    generation copied from `base` (None: a fresh build), changed documents re-chunked and
    re-embedded, then published."""
    started = datetime.now(UTC)
    staged = _new_generation(index_dir)
    try:
        if base is not None:
            for item in base.iterdir():
                if item.is_file():
                    shutil.copy2(item, staged / item.name)
        store = _open_store(config, staged, create=base is None)
        try:
            stored = {} if base is None else store.documents()
            summary = Summary()
            changed = []
            if documents is None:
                wanted = {doc_id for doc_id in stored if doc_id not in set(remove)}
                summary.unchanged = len(wanted)
                documents = []
            else:
                wanted = {doc.doc_id for doc in documents}
            for doc in documents:
                row = stored.get(doc.doc_id)
                if row is None:
                    summary.added += 1
                    changed.append(doc)
                elif row.content_hash != doc.content_hash:
                    summary.updated += 1
                    changed.append(doc)
                else:
                    summary.unchanged += 1
            gone = [doc_id for doc_id in stored if doc_id not in wanted]
            summary.deleted = len(gone)
            chunked: list[tuple[Document, list[Chunk]]] = [
                (doc, chunk_text(doc.text, size=config.chunk_words, overlap=config.overlap_words))
                for doc in changed
            ]
            texts = [
                passage(doc.title, c.heading, c.text) for doc, chunks in chunked for c in chunks
            ]
            clock = datetime.now(UTC)
            vectors = embed_chunks(config, texts, progress)
            summary.embed_seconds = round((datetime.now(UTC) - clock).total_seconds(), 3)
            summary.embedded = len(texts)
            with store.transaction():
                if base is None:
                    store.reset()
                else:
                    store.delete_documents(
                        gone + [doc.doc_id for doc in changed if doc.doc_id in stored]
                    )
                start = 0
                for number, (doc, chunks) in enumerate(chunked, 1):
                    store.add_document(doc, chunks, vectors[start : start + len(chunks)])
                    start += len(chunks)
                    if progress:
                        progress("store", number, len(chunked))
                rows = store.chunk_texts()
                if progress:
                    progress("bm25", 0, 1)
                lexical = Lexical.build([(i, passage(t, h, x)) for i, t, h, x in rows])
                shutil.rmtree(staged / "bm25", ignore_errors=True)
                lexical.save(staged / "bm25")
                if progress:
                    progress("bm25", 1, 1)
                write_json(staged / "config.json", asdict(config))
            summary.chunks = len(rows)
            summary.changed_ids = [doc.doc_id for doc in changed] + gone
        finally:
            store.close()
        _publish(index_dir, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    summary.seconds = round((datetime.now(UTC) - started).total_seconds(), 3)
    return summary


def _default_table(index_dir: Path) -> str:
    name = "".join(c if c.isalnum() else "_" for c in index_dir.resolve().name.lower())
    return f"nt_{name}"[:40]


def build_index(
    docs_dir: Path | str,
    index_dir: Path | str,
    *,
    config: IndexConfig | dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
) -> Summary:
    """Read every document under `docs_dir`, chunk, embed and index it into `index_dir`
    (replacing any index there). A malformed document raises a `DocumentError` (file:line) and
    nothing is written."""
    docs_dir, index_dir = Path(docs_dir), Path(index_dir)
    if isinstance(config, dict):
        config = IndexConfig(**config)
    config = config or IndexConfig()
    if index_dir.exists() and any(index_dir.iterdir()) and not (index_dir / "current").exists():
        raise RetrievalError(
            f"{index_dir} is a folder that is not a narrowtune index; choose an empty or new folder"
        )
    if config.store == "pgvector" and not config.table:
        config = replace(config, table=_default_table(index_dir))
    config = replace(config, docs_dir=str(docs_dir.resolve()))
    documents = read_documents(docs_dir)
    if progress:
        progress("read", len(documents), len(documents))
    return _sync(index_dir, config, documents, base=None, progress=progress)


def update_index(
    index_dir: Path | str,
    docs_dir: Path | str | None = None,
    *,
    progress: ProgressFn | None = None,
) -> Summary:
    """Bring the index up to date with its documents folder (the one it was built from unless
    `docs_dir` is given): new and changed documents (by content hash) are re-chunked and
    re-embedded, unchanged ones are left alone, and documents no longer there are removed."""
    index_dir = Path(index_dir)
    generation = _resolve(index_dir)
    config = IndexConfig.from_json(generation / "config.json")
    folder = Path(docs_dir) if docs_dir is not None else config.docs_dir
    if folder is None:
        raise RetrievalError(f"index {index_dir} records no documents folder; pass DOCS_DIR")
    config = replace(config, docs_dir=str(Path(folder).resolve()))
    documents = read_documents(folder)
    if progress:
        progress("read", len(documents), len(documents))
    return _sync(index_dir, config, documents, base=generation, progress=progress)


def delete_documents(
    index_dir: Path | str, doc_ids: Sequence[str], *, progress: ProgressFn | None = None
) -> Summary:
    """Remove documents from the index by id (an unknown id is an error). A later `update`
    adds them back if they are still in the documents folder."""
    index_dir = Path(index_dir)
    generation = _resolve(index_dir)
    config = IndexConfig.from_json(generation / "config.json")
    store = _open_store(config, generation)
    try:
        stored = store.documents()
    finally:
        store.close()
    unknown = [doc_id for doc_id in doc_ids if doc_id not in stored]
    if unknown:
        raise RetrievalError(f"index {index_dir} has no document {', '.join(map(repr, unknown))}")
    return _sync(index_dir, config, None, remove=doc_ids, base=generation, progress=progress)
