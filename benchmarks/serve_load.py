"""Serving under load: 100 concurrent clients against `narrowtune serve`, then a restart mid-load.

    python benchmarks/serve_load.py                          # trains the demo classifier, 1 epoch
    python benchmarks/serve_load.py --run runs/wallet-support/<id> --requests 10000
    python benchmarks/serve_load.py --workers 2 --name serve_load_2workers
    python benchmarks/serve_load.py --hostile-only --name serve_hostile   # hostile clients only

The server (`narrowtune serve` itself, in its own process, `--workers N`, the access log off,
SQLite store in a temp dir) and the clients (one asyncio loop, a lean keep-alive HTTP/1.1 client
per connection) share the same CPU cores: on a 2-core box they compete with each other, which is
the real setting of a small self-hosted deployment. Latency is measured by the client, so it
includes queueing behind the 99 other clients. A warm-up of 4 x concurrency requests comes first.

Phase 1: `--requests` POST /v1/predict (one text each) from `--concurrency` clients; errors must
be 0 and the store must hold exactly one row per acknowledged request. The in-process figures are
`model.predict` on a sample of the same texts, one text per call and in batches of 64 (the
server's ceiling: what the model alone can do), same backend, no HTTP and no store.

Phase 2: the same load against a fresh server; once half of `--restart-requests` are acknowledged
the server's process group gets kill -9, is started again on the same DB file, and the clients
carry on. Every acknowledged request_id must be in the store, and every open review item that
existed when the server died must still be open after the restart and the rest of the load.

Concurrent requests always share model calls (narrowtune/serve/batching.py); `--batch-wait-ms`
> 0 also makes an idle model wait that long for company.

Writes benchmarks/results/<--name, default serve_load>.json (flat keys + command, date, machine).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "narrowtune" / "demo"
RESULTS = ROOT / "benchmarks" / "results"


def demo_texts() -> list[str]:
    with (DEMO / "tickets.csv").open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def train_demo(folder: Path, epochs: int) -> Path:
    """The bundled wallet-support classifier, trained for `epochs` (a short, real training)."""
    from narrowtune import api
    from narrowtune.task import load_task

    task = yaml.safe_load((DEMO / "task.yaml").read_text())
    task["data"]["train"] = str(DEMO / "tickets.csv")
    task["runs_dir"] = str(folder / "runs")
    task.setdefault("train", {})["epochs"] = epochs
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return api.train(load_task(path), evaluate_after=False, force=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    run_dir: Path, db: Path, port: int, backend: str, batch_wait_ms: float = 0.0, workers: int = 1
) -> subprocess.Popen[bytes]:
    """`narrowtune serve` itself, in its own process (SIGTERM: graceful stop), without the
    access log (one log line per request would be measured too)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from narrowtune.cli import main; main()",
            "serve",
            str(run_dir),
            "--db",
            str(db),
            "--port",
            str(port),
            "--backend",
            backend,
            "--batch-wait-ms",
            str(batch_wait_ms),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start within 120 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Load:
    """Shared state of the client tasks: a bounded request counter and what came back."""

    def __init__(self, texts: list[str], total: int, deadline: float) -> None:
        self.texts, self.total, self.deadline = texts, total, deadline
        self.issued = 0
        self.latencies: list[float] = []
        self.acknowledged: list[str] = []  # request ids of HTTP 200 answers
        self.abstained: list[str] = []  # request ids whose prediction abstained
        self.errors: list[str] = []
        self.paused = asyncio.Event()
        self.paused.set()

    def next_text(self) -> str | None:
        if self.issued >= self.total or time.monotonic() > self.deadline:
            return None
        self.issued += 1
        return self.texts[self.issued % len(self.texts)]


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the answer: a lean client
    (a few dozen microseconds a request), so that on a shared 2-core box the clients leave the
    CPU to the server they measure."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.head = (
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: dict) -> tuple[int, dict]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        body = json.dumps(payload).encode()
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.head, len(body), body)
        )
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            lower = head.lower()
            at = lower.index(b"content-length:") + 15
            length = int(lower[at : lower.index(b"\r\n", at)])
            answer = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if b"connection: close" in lower:
            self.close()
        return int(head[9:12]), json.loads(answer)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


async def client(port: int, key: str, load: Load, *, retry_transport: bool) -> None:
    connection = Connection(port, key)
    text = load.next_text()
    while text is not None:
        await load.paused.wait()
        start = time.perf_counter()
        try:
            status, body = await connection.post("/v1/predict", {"text": text})
        except TRANSPORT_ERRORS as error:
            load.errors.append(f"{type(error).__name__}: {error}")
            if retry_transport:  # the server is restarting: wait, then send the same text again
                await asyncio.sleep(0.2)
            else:
                text = load.next_text()
            continue
        text = load.next_text()
        elapsed = time.perf_counter() - start
        if status != 200:
            load.errors.append(f"HTTP {status}: {json.dumps(body)[:200]}")
            continue
        load.latencies.append(elapsed)
        load.acknowledged.append(body["request_id"])
        if body["predictions"][0]["abstain"]:
            load.abstained.append(body["request_id"])
    connection.close()


async def run_load(port: int, key: str, load: Load, concurrency: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(
        *(client(port, key, load, retry_transport=False) for _ in range(concurrency))
    )
    return time.perf_counter() - start


def warm_up(port: int, key: str, texts: list[str], concurrency: int) -> None:
    """A few hundred requests first, so that every worker has loaded and run its model."""
    load = Load(texts, 4 * concurrency, time.monotonic() + 120)
    asyncio.run(run_load(port, key, load, concurrency))
    if load.errors:
        raise SystemExit(f"warm-up failed: {load.errors[:3]}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stored_request_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT request_id FROM predictions")]


def open_review_ids(db: Path) -> set[int]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id FROM review_items WHERE status = 'open'")
        return {row[0] for row in rows}


def make_key(db: Path, name: str) -> str:
    from narrowtune.store import Store

    with Store(db) as store:
        return store.create_key(name)


def phase_throughput(args: argparse.Namespace, run_dir: Path, tmp: Path, texts: list[str]) -> dict:
    db = tmp / "load.db"
    key = make_key(db, "load")
    port = free_port()
    server = start_server(run_dir, db, port, args.backend, args.batch_wait_ms, args.workers)
    try:
        warm_up(port, key, texts, args.concurrency)
        db_before = set(stored_request_ids(db))
        load = Load(texts, args.requests, time.monotonic() + args.time_limit)
        wall = asyncio.run(run_load(port, key, load, args.concurrency))
    finally:
        stop_server(server)
    stored = [r for r in stored_request_ids(db) if r not in db_before]
    acknowledged = set(load.acknowledged)
    ms = [1000 * x for x in load.latencies]
    return {
        "requests": load.issued,
        "concurrency": args.concurrency,
        "acknowledged": len(load.acknowledged),
        "errors": len(load.errors),
        "error_examples": sorted(set(load.errors))[:5],
        "stored_rows": len(stored),
        "lost_rows": len(acknowledged - set(stored)),
        "extra_rows": len(stored) - len(acknowledged),
        "load_seconds": round(wall, 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "requests_per_s": round(len(load.acknowledged) / wall, 1),
        "abstained": len(load.abstained),
    }


def phase_in_process(args: argparse.Namespace, run_dir: Path, texts: list[str]) -> dict:
    from narrowtune import api

    model = api.load(run_dir, backend=args.backend)
    sample = [texts[(i + 1) % len(texts)] for i in range(args.in_process_sample)]
    model.predict(sample[:8])  # warm-up, as the server's first requests are
    start = time.perf_counter()
    for text in sample:
        model.predict([text])
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(sample), 64):
        model.predict(sample[i : i + 64])
    batched = time.perf_counter() - start
    return {
        "in_process_calls": len(sample),
        "in_process_per_s": round(len(sample) / seconds, 1),
        "in_process_ms": round(1000 * seconds / len(sample), 2),
        "in_process_batched_per_s": round(len(sample) / batched, 1),
    }


async def run_restart_load(
    args: argparse.Namespace, run_dir: Path, db: Path, key: str, texts: list[str]
) -> tuple[Load, dict]:
    port = free_port()
    server = start_server(run_dir, db, port, args.backend, args.batch_wait_ms, args.workers)
    load = Load(texts, args.restart_requests, time.monotonic() + args.time_limit)
    info: dict = {}
    tasks = [
        asyncio.create_task(client(port, key, load, retry_transport=True))
        for _ in range(args.concurrency)
    ]
    while len(load.acknowledged) < args.restart_requests // 2 and not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    # kill -9 with requests in flight: the server and its workers get no chance to finish
    # anything; what was acknowledged must already be in the store.
    info["restart_acknowledged_before"] = len(load.acknowledged)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    info["restart_reviews_ids"] = open_review_ids(db)
    info["restart_acknowledged_at_stop"] = len(load.acknowledged)
    load.paused.clear()  # clients wait instead of spinning on refused connections
    errors_before = len(load.errors)
    restart = time.perf_counter()
    server = await asyncio.to_thread(
        start_server, run_dir, db, port, args.backend, args.batch_wait_ms, args.workers
    )
    info["restart_seconds"] = round(time.perf_counter() - restart, 1)
    load.paused.set()
    await asyncio.gather(*tasks)
    info["restart_errors_during_restart"] = len(load.errors) - errors_before
    stop_server(server)
    return load, info


def phase_restart(args: argparse.Namespace, run_dir: Path, tmp: Path, texts: list[str]) -> dict:
    db = tmp / "restart.db"
    key = make_key(db, "restart")
    load, info = asyncio.run(run_restart_load(args, run_dir, db, key, texts))
    stored = set(stored_request_ids(db))
    before = info.pop("restart_reviews_ids")
    after = open_review_ids(db)
    return {
        "restart_requests": load.issued,
        "restart_acknowledged": len(load.acknowledged),
        "restart_missing": len(set(load.acknowledged) - stored),
        "restart_errors": len(load.errors),
        "restart_error_examples": sorted(set(load.errors))[:5],
        "restart_reviews_before": len(before),
        "restart_reviews_after": len(before & after),
        "restart_reviews_open_total_after": len(after),
        "restart_abstained_acknowledged": len(load.abstained),
        **info,
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the workers), in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def chunked_without_key(port: int, total: int) -> dict:
    """POST /v1/predict with a chunked body of up to `total` bytes and no key; how much was
    sent before the answer came, and how long it took."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(
        b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"a" * (1 << 20)
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    start = time.perf_counter()
    sent = 0
    conn.setblocking(False)
    answer = b""
    while sent < total:
        try:
            answer += conn.recv(4096)
            if answer:
                break
        except BlockingIOError:
            pass
        try:
            conn.setblocking(True)
            conn.settimeout(10)
            conn.sendall(frame)
            conn.setblocking(False)
        except OSError:
            break
        sent += len(chunk)
    conn.settimeout(10)
    while b"\r\n\r\n" not in answer:
        try:
            more = conn.recv(4096)
        except OSError:
            break
        if not more:
            break
        answer += more
    conn.close()
    return {
        "status": int(answer.split(b" ", 2)[1]) if answer else 0,
        "sent_mb": round(sent / (1 << 20), 1),
        "seconds": round(time.perf_counter() - start, 3),
    }


def phase_hostile(args: argparse.Namespace, run_dir: Path, tmp: Path, texts: list[str]) -> dict:
    """What a hostile client costs the server: a 1 GB chunked body without a key, a 4 MB body
    of two million tiny values (health checks timed meanwhile), and the largest legal batch
    (256 texts of 10,000 characters) with a one-text request from another key behind it."""
    db = tmp / "hostile.db"
    key = make_key(db, "hostile")
    other = make_key(db, "small")
    port = free_port()
    server = start_server(run_dir, db, port, args.backend, args.batch_wait_ms, 1)
    out: dict[str, float | int] = {}
    try:
        warm_up(port, key, texts, 8)
        out["hostile_rss_start_mb"] = rss_mb(server.pid)
        big = chunked_without_key(port, 1 << 30)
        out["chunked_1gb_status"] = big["status"]
        out["chunked_1gb_sent_mb_before_answer"] = big["sent_mb"]
        out["chunked_1gb_seconds"] = big["seconds"]
        out["chunked_1gb_rss_after_mb"] = rss_mb(server.pid)

        body = b'{"texts": [' + b",".join([b"1"] * 2_000_000) + b"]}"
        result: dict = {}

        def hostile() -> None:
            start = time.perf_counter()
            answer = httpx.post(
                f"http://127.0.0.1:{port}/v1/predict",
                content=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                timeout=120,
            )
            result.update(
                status=answer.status_code,
                seconds=time.perf_counter() - start,
                size=len(answer.content),
            )

        worst = 0.0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            thread = threading.Thread(target=hostile)
            thread.start()
            while thread.is_alive():
                start = time.perf_counter()
                http.get("/healthz")
                worst = max(worst, time.perf_counter() - start)
                time.sleep(0.01)
            thread.join()
        out["values_4mb_status"] = result["status"]
        out["values_4mb_seconds"] = round(result["seconds"], 3)
        out["values_4mb_answer_bytes"] = result["size"]
        out["values_4mb_healthz_worst_ms"] = round(1000 * worst, 1)
        out["values_4mb_rss_after_mb"] = rss_mb(server.pid)

        long_texts = [(texts[i % len(texts)] + " ") * 200 for i in range(256)]
        long_texts = [t[:10_000] for t in long_texts]
        timings: dict[str, float] = {}

        def big_batch() -> None:
            start = time.perf_counter()
            answer = httpx.post(
                f"http://127.0.0.1:{port}/v1/predict",
                json={"texts": long_texts},
                headers={"Authorization": f"Bearer {key}"},
                timeout=600,
            )
            assert answer.status_code == 200, answer.text[:300]
            timings["big"] = time.perf_counter() - start

        thread = threading.Thread(target=big_batch)
        thread.start()
        time.sleep(0.3)  # the big batch is in the model
        start = time.perf_counter()
        small = httpx.post(
            f"http://127.0.0.1:{port}/v1/predict",
            json={"text": texts[0]},
            headers={"Authorization": f"Bearer {other}"},
            timeout=600,
        )
        timings["small"] = time.perf_counter() - start
        thread.join()
        out["largest_batch_seconds"] = round(timings["big"], 2)
        out["one_text_behind_largest_batch_seconds"] = round(timings["small"], 2)
        out["one_text_behind_largest_batch_status"] = small.status_code
    finally:
        stop_server(server)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, help="serve this run directory instead of training")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the demo training")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=600, help="seconds per load phase")
    parser.add_argument("--restart-requests", type=int, default=3_000)
    parser.add_argument("--in-process-sample", type=int, default=2_000)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument(
        "--batch-wait-ms", type=float, default=0.0, help="server micro-batching wait (0: off)"
    )
    parser.add_argument("--name", default="serve_load", help="results file name (no .json)")
    parser.add_argument(
        "--hostile", action="store_true", help="also time the hostile cases (1 worker)"
    )
    parser.add_argument(
        "--hostile-only", action="store_true", help="only the hostile cases (1 worker)"
    )
    args = parser.parse_args()

    texts = demo_texts()
    with tempfile.TemporaryDirectory(prefix="serve-load-") as folder:
        tmp = Path(folder)
        train_seconds = None
        if args.run is None:
            start = time.perf_counter()
            run_dir = train_demo(tmp, args.epochs)
            train_seconds = round(time.perf_counter() - start, 1)
        else:
            run_dir = args.run
        result: dict[str, object] = {
            "model_run": run_dir.name,
            "backend": args.backend,
            "batch_wait_ms": args.batch_wait_ms,
            "workers": args.workers,
        }
        if train_seconds is not None:
            result["train_seconds"] = train_seconds
            result["train_epochs"] = args.epochs
        if not args.hostile_only:
            result.update(phase_throughput(args, run_dir, tmp, texts))
            print(json.dumps(result, indent=2), flush=True)
            result.update(phase_in_process(args, run_dir, texts))
            result["overhead_ratio"] = round(
                float(result["in_process_per_s"]) / float(result["requests_per_s"]), 2
            )
            result["served_vs_batched_ratio"] = round(
                float(result["requests_per_s"]) / float(result["in_process_batched_per_s"]), 2
            )
            result.update(phase_restart(args, run_dir, tmp, texts))
        if args.hostile or args.hostile_only:
            result.update(phase_hostile(args, run_dir, tmp, texts))

    from narrowtune.evaluate import machine_description

    result["cpu_cores"] = os.cpu_count()
    result["command"] = "python " + " ".join(
        [str(Path(sys.argv[0]).resolve().relative_to(ROOT)), *sys.argv[1:]]
    )
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = machine_description()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
