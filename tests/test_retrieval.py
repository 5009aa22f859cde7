"""narrowtune.retrieval: documents, chunking, build / update / delete / query, staleness, errors,
and the `narrowtune index` commands, with the real all-MiniLM-L6-v2 encoder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import narrowtune.retrieval.index as index_module
from narrowtune.cli import app
from narrowtune.errors import NarrowtuneError
from narrowtune.retrieval import (
    DocumentError,
    EmptyIndexError,
    IndexNotFoundError,
    QueryError,
    build_index,
    chunk_text,
    delete_documents,
    open_index,
    read_documents,
    update_index,
)

ROOT = Path(__file__).resolve().parent.parent
WALLET = ROOT / "examples" / "wallet_support"

REFUNDS = """---
id: refunds
title: Refund policy
updated_at: 2026-11-20
team: billing
---
# Refund policy
Refunds are never promised. Network fees go to validators and cannot be returned.

## Escalation
Every refund request goes to the billing-review queue; a human replies within 2 business days.
"""

ARBITRUM = """---
id: arbitrum
title: Arbitrum status
updated_at: 2026-01-02
max_age_days: 7
chain: arbitrum
---
Deposits from Ethereum to Arbitrum are delayed up to 40 minutes because of a sequencer backlog.
"""


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refunds.md").write_text(REFUNDS)
    (folder / "chains").mkdir(exist_ok=True)
    (folder / "chains" / "arbitrum.md").write_text(ARBITRUM)
    (folder / "ledger.txt").write_text(
        "Ledger needs the Ethereum app open and Blind signing enabled to sign swaps.\n"
    )
    (folder / "faq.jsonl").write_text(
        json.dumps(
            {
                "id": "unstake-solana",
                "text": "Unstaking SOL takes one epoch, about 2 to 3 days.",
                "updated_at": "2026-11-01T00:00:00Z",
                "chain": "solana",
            }
        )
        + "\n"
    )
    return folder


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts each build/update sent to the (real) encoder."""
    calls: list[int] = []
    real = index_module.embed_chunks

    def counting(config, texts, progress=None):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real(config, texts, progress)

    monkeypatch.setattr(index_module, "embed_chunks", counting)
    return calls


def test_importing_retrieval_does_not_import_torch() -> None:
    code = "import narrowtune.retrieval, sys; assert 'torch' not in sys.modules, 'torch'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_documents_ids_titles_dates_metadata(tmp_path: Path) -> None:
    docs = {d.doc_id: d for d in read_documents(write_docs(tmp_path / "docs"))}
    assert set(docs) == {"refunds", "arbitrum", "ledger.txt", "unstake-solana"}
    assert docs["refunds"].title == "Refund policy"
    assert docs["refunds"].metadata == {"team": "billing"}
    assert docs["refunds"].updated_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert docs["arbitrum"].max_age_days == 7
    assert docs["ledger.txt"].source == "ledger.txt" and docs["ledger.txt"].updated_at is None
    assert docs["unstake-solana"].source == "faq.jsonl:1"
    assert docs["unstake-solana"].metadata == {"chain": "solana"}


def test_chunking_overlaps_and_follows_headings() -> None:
    words = " ".join(f"w{i}" for i in range(50))
    chunks = chunk_text(f"# One\n{words}\n# Two\nshort section here", size=20, overlap=5)
    assert [c.heading for c in chunks] == ["One"] * 4 + ["Two"]  # 52 words in windows of 20
    assert all(len(c.text.split()) <= 20 for c in chunks)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    assert first[-5:] == second[:5]  # 5 words of overlap
    assert chunks[-1].text == "# Two\nshort section here"  # a heading starts a new chunk
    # Short sections are packed together while they fit.
    packed = chunk_text("# A\none two\n# B\nthree four", size=20, overlap=5)
    assert len(packed) == 1 and packed[0].heading == "A"
    with pytest.raises(ValueError):
        chunk_text("x", size=10, overlap=10)


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.md", "---\nid: x\ntitle: [unclosed\n---\ntext\n", "bad.md:3"),
        ("open.md", "---\nid: x\ntext without the closing line\n", "open.md:1"),
        ("empty.md", "---\nid: x\n---\n\n", "empty.md:4"),
        ("date.md", "---\nid: x\ntitle: t\nupdated_at: yesterday\n---\ntext\n", "date.md:4"),
        ("rows.jsonl", '{"id": "a", "text": "fine"}\n{"id": "b", "text": }\n', "rows.jsonl:2"),
        ("rows.jsonl", '{"id": "a", "text": "fine"}\n{"id": "b"}\n', "rows.jsonl:2"),
        ("rows.jsonl", '{"id": "a", "text": "t", "updated_at": "13/2026"}\n', "rows.jsonl:1"),
    ],
)
def test_a_malformed_document_names_file_and_line_and_leaves_the_index(
    tmp_path: Path, name: str, content: str, where: str
) -> None:
    docs = write_docs(tmp_path / "docs")
    index_dir = tmp_path / "index"
    (docs / name).write_text(content)
    with pytest.raises(DocumentError, match=rf"^{where}:"):
        build_index(docs, index_dir)
    assert not index_dir.exists() or not any(index_dir.iterdir())  # nothing written


def test_build_query_update_delete(tmp_path: Path, counted: list[int]) -> None:
    docs = write_docs(tmp_path / "docs")
    index_dir = tmp_path / "index"
    summary = build_index(docs, index_dir, config={"max_age_days": 365})
    assert (summary.added, summary.chunks) == (4, 4)
    assert counted == [4]

    with open_index(index_dir) as index:
        assert len(index) == 4 and not index.is_empty()
        as_of = datetime(2026, 12, 4, tzinfo=UTC)
        for mode in ("hybrid", "vector", "bm25"):
            hits = index.query("arbitrum deposit delayed", k=2, mode=mode, as_of=as_of)
            assert hits[0].doc_id == "arbitrum", mode
        hit = index.query("Arbitrum deposits delayed", k=1, as_of=as_of)[0]
        assert hit.chunk_id == "arbitrum#0" and hit.source == "chains/arbitrum.md"
        assert hit.metadata == {"chain": "arbitrum"} and hit.title == "Arbitrum status"
        # The document's own max_age_days (7) makes it stale at 2026-12-04; not on 2026-01-05.
        assert hit.stale
        assert not index.query("Arbitrum deposits", k=1, as_of="2026-01-05")[0].stale
        refunds = index.query("can I get a refund", k=1, as_of=as_of)[0]
        assert refunds.doc_id == "refunds" and not refunds.stale  # 14 days < 365
        context = index.context([hit, refunds])
        assert (
            "[1] arbitrum | Arbitrum status | updated 2026-01-02 [stale: updated 2026-01-02]"
            in context
        )
        assert "[2] refunds | Refund policy | updated 2026-11-20\n" in context
        assert "40 minutes" in context
        outputs = index.retrieve("Arbitrum deposits delayed", k=2, as_of=as_of)
        assert json.loads(json.dumps(outputs)) == outputs  # a pipeline step's JSON outputs
        assert outputs["doc_ids"][0] == "arbitrum" and outputs["stale_ids"] == ["arbitrum"]
        assert outputs["stale"] and outputs["context"].startswith("[1] arbitrum |")
        # Filters on metadata narrow both halves of a hybrid query.
        only = index.query("how long", k=3, filters={"chain": ["solana"]})
        assert [h.doc_id for h in only] == ["unstake-solana"]
        assert index.query("how long", k=3, filters={"chain": "bitcoin"}) == []

    # Nothing changed: nothing is embedded again.
    again = update_index(index_dir)
    assert (again.unchanged, again.embedded, again.added) == (4, 0, 0)
    assert counted == [4, 0]

    # One document edited, one removed from the folder, one new.
    (docs / "refunds.md").write_text(REFUNDS.replace("2 business days", "5 business days"))
    (docs / "ledger.txt").unlink()
    (docs / "fees.md").write_text("# Fees\nSwaps cost a 0.875% service fee.\n")
    reader = open_index(index_dir)  # a long-lived reader (a server) opened before the update
    summary = update_index(index_dir)
    assert (summary.added, summary.updated, summary.unchanged, summary.deleted) == (1, 1, 2, 1)
    assert counted == [4, 0, 2]  # the edited and the new document only
    assert "ledger.txt" in reader.document_ids and reader.refresh()
    assert "ledger.txt" not in reader.document_ids and not reader.refresh()
    reader.close()
    with open_index(index_dir) as index:
        assert len(index) == 4
        assert "ledger.txt" not in index.document_ids
        text = index.context(index.query("refund request reply time", k=1))
        assert "5 business days" in text and "2 business days" not in text

    # An explicit delete, by id; an unknown id is an error.
    deleted = delete_documents(index_dir, ["fees.md"])
    assert (deleted.deleted, deleted.embedded, deleted.chunks) == (1, 0, 3)
    with pytest.raises(NarrowtuneError, match="no document 'nope'"):
        delete_documents(index_dir, ["nope"])
    with open_index(index_dir) as index:
        assert "fees.md" not in index.document_ids
        with pytest.raises(QueryError, match="mode"):
            index.query("x", mode="fuzzy")
        with pytest.raises(QueryError, match="empty"):
            index.query("  ")

    # A malformed document in an update: the error names it and the index is as it was.
    generation = (index_dir / "current").resolve()
    (docs / "broken.md").write_text("---\nupdated_at: not-a-date\n---\nbody\n")
    with pytest.raises(DocumentError, match=r"^broken.md:2:"):
        update_index(index_dir)
    assert (index_dir / "current").resolve() == generation
    assert sorted(p.name for p in index_dir.iterdir()) == ["current", generation.name]
    with open_index(index_dir) as index:
        assert len(index) == 3


def test_empty_missing_and_corrupt_indexes(tmp_path: Path) -> None:
    (tmp_path / "empty_docs").mkdir()
    build_index(tmp_path / "empty_docs", tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert index.is_empty() and len(index) == 0
        with pytest.raises(EmptyIndexError, match="holds no documents"):
            index.query("where is my deposit")
    with pytest.raises(IndexNotFoundError, match="does not exist"):
        open_index(tmp_path / "missing")
    (tmp_path / "blank").mkdir()
    with pytest.raises(IndexNotFoundError, match="is empty"):
        open_index(tmp_path / "blank")
    config = (tmp_path / "index" / "current").resolve() / "config.json"
    config.write_text("{not json")
    with pytest.raises(NarrowtuneError, match="unreadable index config"):
        open_index(tmp_path / "index")
    (tmp_path / "user_folder").mkdir()
    (tmp_path / "user_folder" / "notes.txt").write_text("mine")
    with pytest.raises(NarrowtuneError, match="not a narrowtune index"):
        build_index(tmp_path / "empty_docs", tmp_path / "user_folder")


def test_cli_index_commands(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs")
    index_dir = tmp_path / "index"
    runner = CliRunner()
    built = runner.invoke(
        app, ["index", "build", str(docs), str(index_dir), "--max-age-days", "30"]
    )
    assert built.exit_code == 0, built.output
    assert "4 added" in built.output
    found = runner.invoke(
        app, ["index", "query", str(index_dir), "ledger blind signing", "-k", "2", "--json"]
    )
    assert found.exit_code == 0, found.output
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits[0]["doc_id"] == "ledger.txt" and len(hits) == 2
    context = runner.invoke(
        app, ["index", "query", str(index_dir), "arbitrum", "-k", "1", "--context"]
    )
    assert "[stale: updated 2026-01-02]" in context.stdout
    (docs / "ledger.txt").unlink()
    updated = runner.invoke(app, ["index", "update", str(index_dir)])
    assert updated.exit_code == 0 and "1 deleted" in updated.output
    deleted = runner.invoke(app, ["index", "delete", str(index_dir), "refunds"])
    assert deleted.exit_code == 0 and "1 deleted" in deleted.output
    missing = runner.invoke(app, ["index", "query", str(tmp_path / "nope"), "x"])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad_mode = runner.invoke(app, ["index", "query", str(index_dir), "x", "--mode", "fuzzy"])
    assert bad_mode.exit_code == 2
    helped = runner.invoke(app, ["index", "build", "--help"])
    assert "--store" in helped.output and "pgvector" in helped.output


def test_wallet_support_documents_and_queries_agree() -> None:
    """The example knowledge base reads cleanly, and every labeled query names real documents."""
    docs = read_documents(WALLET / "docs")
    ids = {d.doc_id for d in docs}
    assert 30 <= len(docs) <= 60
    chains = [d for d in docs if d.metadata.get("category") == "chain_status"]
    assert len(chains) == 8 and all(d.updated_at for d in chains)
    queries = [json.loads(line) for line in (WALLET / "retrieval_queries.jsonl").open()]
    assert len(queries) >= 100
    assert all(q["relevant"] and set(q["relevant"]) <= ids for q in queries)
