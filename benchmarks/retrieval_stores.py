"""The embedded vector stores the retrieval layer could use, measured on the same vectors.

    python benchmarks/retrieval_stores.py

For 10,000 and 100,000 random unit vectors of 384 dimensions (all-MiniLM-L6-v2's size; the
stores do not care where vectors come from, so no embedding is timed here): build time, query
p50/p95 for k=5 (200 queries), a filtered query (a 10% subset of ids allowed), an incremental
update (delete 100 ids, add 100) and recall@5 against exact search, plus the installed size of
each package and what it pulls in. Candidates: FAISS (faiss-cpu, IndexIDMap2 over IndexFlatIP),
usearch (HNSW), LanceDB (a Lance table, brute-force search) and sqlite-vec (a SQLite extension).
Writes benchmarks/results/retrieval_stores.json.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import write_result

DIM = 384
K = 5
QUERIES = 200


def package_mb(*names: str) -> float:
    """Installed size of distributions (their RECORD files), in MB."""
    total = 0
    for name in names:
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return round(total / 1e6, 1)


def percentiles(times: list[float]) -> tuple[float, float]:
    ms = np.asarray(times) * 1000
    return round(float(np.percentile(ms, 50)), 3), round(float(np.percentile(ms, 95)), 3)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def exact_top(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.argsort(-(q @ x.T), axis=1)[:, :K]


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def bench_faiss(x: np.ndarray, q: np.ndarray, allowed: np.ndarray, tmp: Path) -> dict:
    import faiss

    faiss.omp_set_num_threads(1)
    ids = np.arange(len(x), dtype=np.int64)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    build = timed(lambda: (index.add_with_ids(x, ids), faiss.write_index(index, str(tmp / "f"))))
    times, found = [], []
    for row in q:
        start = time.perf_counter()
        _, got = index.search(row[None], K)
        times.append(time.perf_counter() - start)
        found.append(got[0].tolist())
    params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
    ftimes = []
    for row in q[:50]:
        start = time.perf_counter()
        index.search(row[None], K, params=params)
        ftimes.append(time.perf_counter() - start)
    update = timed(
        lambda: (
            index.remove_ids(np.arange(100, dtype=np.int64)),
            index.add_with_ids(x[:100], np.arange(100, dtype=np.int64)),
        )
    )
    return {"build_s": build, "times": times, "ftimes": ftimes, "found": found, "update_s": update}


def bench_usearch(x: np.ndarray, q: np.ndarray, allowed: np.ndarray, tmp: Path) -> dict:
    from usearch.index import Index

    ids = np.arange(len(x), dtype=np.uint64)
    index = Index(ndim=DIM, metric="cos")
    build = timed(lambda: (index.add(ids, x, threads=1), index.save(str(tmp / "u"))))
    times, found = [], []
    for row in q:
        start = time.perf_counter()
        got = index.search(row, K, threads=1)
        times.append(time.perf_counter() - start)
        found.append([int(k) for k in got.keys])
    # usearch's Python API has no predicate: filter by over-fetching and dropping.
    allowed_set = set(allowed.tolist())
    ftimes = []
    for row in q[:50]:
        start = time.perf_counter()
        got = index.search(row, K * 20, threads=1)
        [int(k) for k in got.keys if int(k) in allowed_set][:K]
        ftimes.append(time.perf_counter() - start)
    update = timed(lambda: (index.remove(ids[:100]), index.add(ids[:100], x[:100], threads=1)))
    return {"build_s": build, "times": times, "ftimes": ftimes, "found": found, "update_s": update}


def bench_lancedb(x: np.ndarray, q: np.ndarray, allowed: np.ndarray, tmp: Path) -> dict:
    import lancedb
    import pyarrow as pa

    db = lancedb.connect(str(tmp / "lance"))
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), DIM)
    table_data = pa.table({"id": pa.array(np.arange(len(x))), "vector": vectors})
    holder: dict = {}
    build = timed(lambda: holder.setdefault("t", db.create_table("chunks", table_data)))
    table = holder["t"]
    times, found = [], []
    for row in q:
        start = time.perf_counter()
        got = table.search(row).metric("cosine").limit(K).select(["id", "_distance"]).to_arrow()
        times.append(time.perf_counter() - start)
        found.append(got.column("id").to_pylist())
    where = f"id IN ({','.join(str(int(i)) for i in allowed[:500])})"
    ftimes = []
    for row in q[:50]:
        start = time.perf_counter()
        table.search(row).metric("cosine").where(where, prefilter=True).limit(K).to_arrow()
        ftimes.append(time.perf_counter() - start)
    update = timed(
        lambda: (
            table.delete("id < 100"),
            table.add(pa.table({"id": pa.array(np.arange(100)), "vector": vectors[:100]})),
        )
    )
    return {"build_s": build, "times": times, "ftimes": ftimes, "found": found, "update_s": update}


def sqlite_vec_status() -> str:
    connection = sqlite3.connect(":memory:")
    if not hasattr(connection, "enable_load_extension"):
        return "not loadable: this Python's sqlite3 is built without enable_load_extension"
    return "loadable"


def main() -> None:
    rng = np.random.default_rng(0)
    record: dict[str, object] = {
        "dim": DIM,
        "k": K,
        "queries": QUERIES,
        "threads": 1,
        "vectors": "random unit vectors (no embedding timed)",
        "faiss_package_mb": package_mb("faiss-cpu"),
        "usearch_package_mb": package_mb("usearch", "numkong"),
        "lancedb_package_mb": package_mb(
            "lancedb", "lance-namespace", "lance-namespace-urllib3-client"
        ),
        "lancedb_also_needs": "pyarrow (already a narrowtune dependency)",
        "sqlite_vec_package_mb": package_mb("sqlite-vec"),
        "sqlite_vec_status": sqlite_vec_status(),
    }
    sizes = [int(s) for s in sys.argv[1:]] or [10_000, 100_000]
    for n in sizes:
        x = rng.standard_normal((n, DIM)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        q = x[rng.choice(n, QUERIES, replace=False)] + 0.05 * rng.standard_normal(
            (QUERIES, DIM)
        ).astype(np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        truth = exact_top(x, q)
        allowed = np.sort(rng.choice(n, n // 10, replace=False)).astype(np.int64)
        tag = f"{n // 1000}k"
        for name, fn in (
            ("faiss", bench_faiss),
            ("usearch", bench_usearch),
            ("lancedb", bench_lancedb),
        ):
            tmp = Path(tempfile.mkdtemp())
            try:
                out = fn(x, q, allowed, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            p50, p95 = percentiles(out["times"])
            f50, _ = percentiles(out["ftimes"])
            record[f"{name}_{tag}_build_s"] = round(out["build_s"], 3)
            record[f"{name}_{tag}_query_p50_ms"] = p50
            record[f"{name}_{tag}_query_p95_ms"] = p95
            record[f"{name}_{tag}_filtered_query_p50_ms"] = f50
            record[f"{name}_{tag}_update_200_s"] = round(out["update_s"], 3)
            record[f"{name}_{tag}_recall_at_5"] = recall(out["found"], truth)
            print(name, tag, p50, p95, flush=True)
    write_result("retrieval_stores", record)


if __name__ == "__main__":
    main()
