"""`narrowtune serve --workers 2`: the real command, two uvicorn worker processes, one SQLite file.

Both workers write predictions to the same WAL database; an admin reload answered by one worker
reaches the other through the reload signal file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from test_serve_reload import publish_copy

from narrowtune import runs
from narrowtune.store import SCOPES, Store

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tiny_run: Path, tmp_path: Path) -> Iterator[tuple[str, str, Path, Path]]:
    """(base URL, key, database, the task's first run) of a 2-worker server; stopped after."""
    folder = tmp_path / "task"
    shutil.copytree(tiny_run.parent.parent.parent, folder)
    db = tmp_path / "workers.db"
    with Store(db) as store:
        key = store.create_key("workers", scopes=SCOPES)
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        str(Path(sys.executable).with_name("narrowtune")), "serve", str(folder / "task.yaml"),
        "--workers", "2", "--port", str(port), "--db", str(db),
    ]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the workers did not start within 180 s"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        (first_run,) = runs.list_runs(folder / "runs" / "tiny")
        yield url, key, db, first_run
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output = server.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert "Traceback" not in output, output[-3000:]


def healthz_from_fresh_connections(url: str, count: int) -> list[dict]:
    def one(_: int) -> dict:
        with httpx.Client(timeout=60) as http:  # a new connection each: any worker may take it
            return http.get(f"{url}/healthz").json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def test_two_workers_answer_store_and_reload_together(
    served: tuple[str, str, Path, Path],
) -> None:
    url, key, db, first_run = served
    headers = {"Authorization": f"Bearer {key}"}
    pids: set[int] = set()
    for _ in range(20):  # the kernel hands connections to either process; both show up
        pids |= {h["pid"] for h in healthz_from_fresh_connections(url, 16)}
        if len(pids) == 2:
            break
    assert len(pids) == 2, pids

    def predict(i: int) -> httpx.Response:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            return http.post("/v1/predict", json={"texts": [f"refund order {i}", "xyzzy"]})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(predict, range(40)))
    assert [r.status_code for r in responses] == [200] * 40
    with Store(db) as store:
        for response in responses:
            assert len(store.predictions(request_id=response.json()["request_id"])) == 2
        assert len(store.predictions(limit=1000)) == 80

    # /metrics sums both workers: whichever answers a scrape, it counts all 80 predictions
    # (each worker publishes its counts every second), and no counter goes backwards.
    time.sleep(1.5)
    seen = []
    for _ in range(12):
        with httpx.Client(timeout=60) as http:  # fresh connections: either worker answers
            text = http.get(f"{url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith("narrowtune_predictions_total"))
        seen.append(int(line.rsplit(" ", 1)[1]))
    assert seen == [80] * len(seen), seen

    newer = publish_copy(first_run)
    answer = httpx.post(f"{url}/v1/admin/reload", headers=headers, timeout=120)
    assert answer.status_code == 200 and answer.json()["reloaded"][0]["to"] == newer.name
    deadline = time.monotonic() + 90
    while True:  # the other worker sees the signal within a second, then loads the run
        runs_by_pid = {h["pid"]: h["model"] for h in healthz_from_fresh_connections(url, 16)}
        if len(runs_by_pid) == 2 and set(runs_by_pid.values()) == {newer.name}:
            break
        assert time.monotonic() < deadline, runs_by_pid
        time.sleep(0.5)
