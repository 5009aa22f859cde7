"""`narrowtune index ...`: build, update, query and delete from a retrieval index.

A typer sub-app registered by cli.py; NarrowtuneErrors raised here are printed by cli.py's
command group as `error: <message>` (exit 2).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from narrowtune.progress import LogProgress, ProgressFn

index_app = typer.Typer(
    help="Retrieval indexes over Markdown, text and JSONL documents (hybrid BM25 + vector).",
    no_args_is_help=True,
)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
out = Console(width=None if sys.stdout.isatty() else 120)


class StoreChoice(StrEnum):
    EMBEDDED = "embedded"
    PGVECTOR = "pgvector"


class ModeChoice(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    BM25 = "bm25"


IndexDir = Annotated[Path, typer.Argument(help="The index directory.")]


@contextmanager
def _progress() -> Iterator[ProgressFn]:
    """Rich bars on a terminal; a plain line per stage every 10 s otherwise."""
    if not console.is_terminal:
        yield LogProgress(sys.stderr, interval=10.0)
        return
    bars = Progress(
        TextColumn("[bold]{task.description:<8}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )
    ids: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in ids:
            ids[stage] = bars.add_task(stage, total=total)
        bars.update(ids[stage], completed=done, total=total)

    with bars:
        yield update


def _summary(action: str, summary: Any, index_dir: Path) -> None:
    out.print(
        f"[bold]{action}[/] {escape(str(index_dir))}: {summary.added} added, "
        f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.deleted} deleted; "
        f"{summary.chunks} chunks ({summary.embedded} embedded) in {summary.seconds:.1f}s"
    )


@index_app.command("build")
def build(
    docs_dir: Annotated[
        Path, typer.Argument(help="Folder of .md / .txt / .jsonl documents (searched recursively).")
    ],
    index_dir: IndexDir,
    store: Annotated[
        StoreChoice,
        typer.Option(
            help="embedded: SQLite + FAISS files in INDEX_DIR (no server); pgvector: "
            "PostgreSQL with the pgvector extension at --dsn."
        ),
    ] = StoreChoice.EMBEDDED,
    dsn: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL DSN for --store pgvector (default $NARROWTUNE_PGVECTOR_DSN)."
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(help="pgvector table prefix (default nt_<index folder name>)."),
    ] = None,
    chunk_words: Annotated[int, typer.Option(help="Words per chunk.")] = 160,
    overlap_words: Annotated[int, typer.Option(help="Words shared by consecutive chunks.")] = 32,
    max_age_days: Annotated[
        float | None,
        typer.Option(
            help="Hits from documents older than this are marked stale (a document's "
            "own max_age_days front matter overrides it)."
        ),
    ] = None,
    encoder: Annotated[
        str, typer.Option(help="Sentence encoder: all-MiniLM-L6-v2 or a local model folder.")
    ] = "all-MiniLM-L6-v2",
) -> None:
    """Index every document under DOCS_DIR into INDEX_DIR (replacing what is there)."""
    from narrowtune.retrieval import IndexConfig, build_index

    config = IndexConfig(
        store=store.value,
        encoder=encoder,
        chunk_words=chunk_words,
        overlap_words=overlap_words,
        max_age_days=max_age_days,
        dsn=dsn or (os.environ.get("NARROWTUNE_PGVECTOR_DSN") if store == "pgvector" else None),
        table=table,
    )
    with _progress() as progress:
        summary = build_index(docs_dir, index_dir, config=config, progress=progress)
    _summary("built", summary, index_dir)


@index_app.command("update")
def update(
    index_dir: IndexDir,
    docs_dir: Annotated[
        Path | None,
        typer.Argument(help="Documents folder (default: the one the index was built from)."),
    ] = None,
) -> None:
    """Re-index new and changed documents (by content hash) and drop removed ones."""
    from narrowtune.retrieval import update_index

    with _progress() as progress:
        summary = update_index(index_dir, docs_dir, progress=progress)
    _summary("updated", summary, index_dir)


@index_app.command("delete")
def delete(
    index_dir: IndexDir,
    doc_ids: Annotated[list[str], typer.Argument(help="Document id(s) to remove.")],
) -> None:
    """Remove documents by id (an update adds them back if they are still in the folder)."""
    from narrowtune.retrieval import delete_documents

    summary = delete_documents(index_dir, doc_ids)
    _summary("deleted from", summary, index_dir)


@index_app.command("query")
def query(
    index_dir: IndexDir,
    text: Annotated[str, typer.Argument(help="The query (a ticket, a question).")],
    k: Annotated[int, typer.Option("-k", "--k", help="How many passages.")] = 5,
    mode: Annotated[
        ModeChoice, typer.Option(help="hybrid (BM25 + vector, rank-fused), vector or bm25.")
    ] = ModeChoice.HYBRID,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter", help="field=value on doc_id, title, source or a metadata key; repeatable."
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Judge staleness at this date (ISO 8601; default now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON lines.")] = False,
    context: Annotated[
        bool, typer.Option("--context", help="Print the context block a drafter is given.")
    ] = False,
) -> None:
    """Retrieve the best passages for TEXT."""
    from narrowtune.retrieval import QueryError, open_index

    parsed: dict[str, list[str]] = {}
    for item in filters or []:
        if "=" not in item:
            raise QueryError(f"--filter {item!r} must be field=value")
        key, value = item.split("=", 1)
        parsed.setdefault(key.strip(), []).append(value)
    with open_index(index_dir) as index:
        hits = index.query(text, k=k, mode=mode.value, filters=parsed or None, as_of=as_of)
        if as_json:
            for hit in hits:
                sys.stdout.write(json.dumps(hit.to_dict(), ensure_ascii=False) + "\n")
            return
        if context:
            sys.stdout.write(index.context(hits) + "\n")
            return
        table = Table(title=f"{len(hits)} hit(s), {mode.value}, from {len(index)} chunks")
        for column in ("#", "doc", "score", "updated", "passage"):
            table.add_column(column, overflow="fold")
        for hit in hits:
            date = hit.updated_at.date().isoformat() if hit.updated_at else "—"
            if hit.stale:
                date = f"[red]{date} stale[/]"
            snippet = hit.text if len(hit.text) <= 160 else hit.text[:157] + "..."
            table.add_row(
                str(hit.rank), escape(hit.doc_id), f"{hit.score:.4f}", date, escape(snippet)
            )
        out.print(table)
