"""Retrieval quality on the wallet-support knowledge base: vector vs BM25 vs hybrid.

    python benchmarks/retrieval_wallet.py

Builds an embedded index (default settings: 160-word chunks, 32 overlap, all-MiniLM-L6-v2) of
examples/wallet_support/docs and runs the 110 labeled queries of
examples/wallet_support/retrieval_queries.jsonl in each mode, with k=5 chunks. recall@5: the
share of a query's relevant documents found in its 5 hits, averaged over queries; MRR: the mean
of 1/rank of the first relevant document (0 when none is in the 5). Also run with the ticket's
intent label appended to the query, as the wallet-support pipeline queries. Nothing was tuned
on these queries (RRF's constant is the usual 60; chunk sizes are the defaults). Writes
benchmarks/results/retrieval_wallet.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_common import write_result

from narrowtune.retrieval import build_index, open_index

ROOT = Path(__file__).resolve().parent.parent
WALLET = ROOT / "examples" / "wallet_support"
K = 5


def score(ranked: list[str], relevant: list[str]) -> tuple[float, float]:
    found = len(set(ranked[:K]) & set(relevant)) / len(relevant)
    first = next((n for n, doc in enumerate(ranked[:K], 1) if doc in relevant), None)
    return found, 0.0 if first is None else 1.0 / first


def main() -> None:
    queries = [json.loads(line) for line in (WALLET / "retrieval_queries.jsonl").open()]
    record: dict[str, object] = {"queries": len(queries), "k": K}
    with tempfile.TemporaryDirectory() as tmp:
        summary = build_index(WALLET / "docs", Path(tmp) / "index")
        record["documents"] = summary.added
        record["chunks"] = summary.chunks
        record["build_seconds"] = summary.seconds
        with open_index(Path(tmp) / "index") as index:
            index.query("warm up the encoder", k=1)
            for suffix, with_intent in (("", False), ("_with_intent", True)):
                for mode in ("vector", "bm25", "hybrid"):
                    recalls, ranks, times = [], [], []
                    for query in queries:
                        text = query["query"]
                        if with_intent:
                            text = f"{text} {query['intent'].replace('_', ' ')}"
                        start = time.perf_counter()
                        hits = index.query(text, k=K, mode=mode)
                        times.append(time.perf_counter() - start)
                        ranked = list(dict.fromkeys(hit.doc_id for hit in hits))
                        recall, reciprocal = score(ranked, query["relevant"])
                        recalls.append(recall)
                        ranks.append(reciprocal)
                    record[f"{mode}{suffix}_recall_at_5"] = round(statistics.mean(recalls), 4)
                    record[f"{mode}{suffix}_mrr"] = round(statistics.mean(ranks), 4)
                    if not with_intent:
                        ms = sorted(1000 * t for t in times)
                        record[f"{mode}_query_p50_ms"] = round(statistics.median(ms), 2)
                        record[f"{mode}_query_p95_ms"] = round(ms[int(0.95 * (len(ms) - 1))], 2)
    write_result("retrieval_wallet", record)


if __name__ == "__main__":
    main()
