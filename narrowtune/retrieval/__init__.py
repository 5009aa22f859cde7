"""Retrieval: index a folder of documents and fetch the passages a drafter should quote.

    from narrowtune.retrieval import open_index, build_index, update_index
    build_index("docs/", "index/", config={"max_age_days": 30})
    index = open_index("index/")
    hits = index.query("deposit on Arbitrum not arrived", k=5)   # hybrid: BM25 + vector, RRF
    print(index.context(hits))                                  # passages with id, date, stale mark

Importing this package loads neither torch nor the encoder: the encoder is loaded on the first
build, update or vector query. See docs/RETRIEVAL.md.
"""

from narrowtune.retrieval.chunking import Chunk, chunk_text
from narrowtune.retrieval.documents import Document, DocumentError, read_documents
from narrowtune.retrieval.index import (
    MODES,
    EmptyIndexError,
    Hit,
    Index,
    IndexConfig,
    IndexCorruptError,
    IndexNotFoundError,
    QueryError,
    RetrievalError,
    Summary,
    build_index,
    delete_documents,
    open_index,
    update_index,
)
from narrowtune.retrieval.stores import StoreError

__all__ = [
    "MODES",
    "Chunk",
    "Document",
    "DocumentError",
    "EmptyIndexError",
    "Hit",
    "Index",
    "IndexConfig",
    "IndexCorruptError",
    "IndexNotFoundError",
    "QueryError",
    "RetrievalError",
    "StoreError",
    "Summary",
    "build_index",
    "chunk_text",
    "delete_documents",
    "open_index",
    "read_documents",
    "update_index",
]
