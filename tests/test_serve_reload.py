"""Hot reload: a newer run of a served task replaces the model while requests keep coming.

Real models throughout: the session's tiny run, a second run trained here while the server is
under load, and copies of trained runs published the way narrowtune publishes runs (a staging
folder renamed into place).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import live_server

from narrowtune import api, runs
from narrowtune.serve import create_app
from narrowtune.store import SCOPES, Store
from narrowtune.task import load_task


@pytest.fixture
def task_copy(tiny_run: Path, tmp_path: Path) -> Path:
    """The tiny task's folder (task file, data and its one run), copied: runs get added to it."""
    folder = tmp_path / "task"
    shutil.copytree(tiny_run.parent.parent.parent, folder)
    return folder / "task.yaml"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "reload.db") as opened:
        yield opened


def publish_copy(run_dir: Path, *, break_it: bool = False) -> Path:
    """A copy of a trained run under a new (newer) run id, renamed into place when complete."""
    run_id = runs.new_run_id()
    time.sleep(0.01)
    staging = run_dir.parent / f"{runs.STAGING_PREFIX}{run_id}"
    shutil.copytree(run_dir, staging)
    info = runs.read_json(staging / runs.RUN_FILE)
    info["run_id"] = run_id
    runs.write_json(staging / runs.RUN_FILE, info)
    if break_it:
        (staging / runs.MODEL_DIR / "classify.json").write_text("{not json")
    final = run_dir.parent / run_id
    os.replace(staging, final)
    return final


def current_run(url: str) -> str:
    return httpx.get(f"{url}/healthz", timeout=30).json()["model"]


def test_reload_under_load_drops_nothing_and_switches_runs(task_copy: Path, store: Store) -> None:
    key = store.create_key("reload", scopes=SCOPES)
    headers = {"Authorization": f"Bearer {key}"}
    (first_run,) = runs.list_runs(load_task(task_copy).runs_path)
    app = create_app(task_copy, store=store)
    answers: list[tuple[float, int, str | None, str | None]] = []  # (sent at, status, run, id)
    stop = threading.Event()

    def hammer(url: str, worker: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            i = 0
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    response = http.post(
                        "/v1/predict", json={"texts": [f"refund order {worker}-{i}", "xyzzy"]}
                    )
                except httpx.HTTPError as error:
                    answers.append((sent, -1, repr(error), None))
                else:
                    body = response.json() if response.status_code == 200 else {}
                    answers.append(
                        (sent, response.status_code, body.get("model"), body.get("request_id"))
                    )
                i += 1

    with live_server(app) as url:
        threads = [threading.Thread(target=hammer, args=(url, n)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            # A second real training of the same task, while the server answers.
            task = load_task(task_copy, ["seed=11", "train.epochs=1"])
            second_run = api.train(task, force=True, evaluate_after=False)
            assert current_run(url) == first_run.name  # nothing changes before a reload
            response = httpx.post(f"{url}/v1/admin/reload", headers=headers, timeout=120)
            reloaded_at = time.monotonic()
            assert response.status_code == 200, response.text
            assert response.json()["reloaded"] == [
                {"model": "tiny", "from": first_run.name, "to": second_run.name}
            ]
            time.sleep(1.5)  # keep the load on a while after the swap
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)

    assert answers, "the clients sent nothing"
    failures = [a for a in answers if a[1] != 200]
    assert failures == [], failures[:5]
    assert {a[2] for a in answers} == {first_run.name, second_run.name}
    after = [a for a in answers if a[0] > reloaded_at]
    assert after and {a[2] for a in after} == {second_run.name}
    assert any(a[2] == first_run.name for a in answers)
    # The store says which run answered each request, as the responses did.
    for _, _, run_id, request_id in answers[:: max(1, len(answers) // 20)]:
        rows = store.predictions(request_id=request_id)
        assert len(rows) == 2 and {(r["model"], r["task"]) for r in rows} == {(run_id, "tiny")}


def test_polling_swaps_in_a_newer_run_and_survives_a_broken_one(
    task_copy: Path, store: Store
) -> None:
    key = store.create_key("poll", scopes=SCOPES)
    headers = {"Authorization": f"Bearer {key}"}
    (first_run,) = runs.list_runs(load_task(task_copy).runs_path)
    app = create_app(task_copy, store=store, reload_interval=0.2)
    with live_server(app) as url:
        broken = publish_copy(first_run, break_it=True)
        time.sleep(1.5)  # several polls: the broken run is tried once, then left alone
        assert current_run(url) == first_run.name
        forced = httpx.post(f"{url}/v1/admin/reload", headers=headers, timeout=60)
        assert forced.status_code == 500
        (error,) = forced.json()["errors"]
        assert error["model"] == "tiny" and broken.name in error["error"]
        assert f"still serving {first_run.name}" in error["error"]
        ok = httpx.post(f"{url}/v1/predict", json={"text": "refund"}, headers=headers)
        assert ok.status_code == 200 and ok.json()["model"] == first_run.name

        newer = publish_copy(first_run)
        deadline = time.monotonic() + 60
        while current_run(url) != newer.name:
            assert time.monotonic() < deadline, "the poller never swapped in the newer run"
            time.sleep(0.1)
        answer = httpx.post(f"{url}/v1/predict", json={"text": "refund"}, headers=headers)
        assert answer.json()["model"] == newer.name
        listed = httpx.get(f"{url}/v1/models", headers=headers).json()["data"]
        assert [(m["id"], m["run_id"]) for m in listed] == [("tiny", newer.name)]
        metrics = httpx.get(f"{url}/metrics").text
        assert "narrowtune_reloads_total 1" in metrics
        assert f'narrowtune_model_info{{model="{newer.name}",task="tiny"' in metrics


def test_run_directories_and_pinned_runs_are_never_replaced(task_copy: Path, store: Store) -> None:
    key = store.create_key("pinned", scopes=SCOPES)
    headers = {"Authorization": f"Bearer {key}"}
    (first_run,) = runs.list_runs(load_task(task_copy).runs_path)
    publish_copy(first_run)
    for app in (
        create_app(first_run, store=store),
        create_app(task_copy, store=store, run=first_run.name),
    ):
        with TestClient(app) as http:
            answer = http.post("/v1/admin/reload", headers=headers)
            assert answer.status_code == 200
            assert answer.json()["reloaded"] == [] and answer.json()["unchanged"] == ["tiny"]
            assert http.get("/healthz").json()["model"] == first_run.name
            models = http.get("/v1/models", headers=headers).json()["data"]
            assert models[0]["follows_newest_run"] is False
    assert (
        TestClient(create_app(first_run, store=store)).post("/v1/admin/reload").status_code
        == httpx.codes.UNAUTHORIZED
    )


def test_admin_reload_of_one_model_by_name(task_copy: Path, tiny_run: Path, store: Store) -> None:
    """Two tasks served; reloading one by name leaves the other as it is."""
    key = store.create_key("two", scopes=SCOPES)
    headers = {"Authorization": f"Bearer {key}"}
    other = task_copy.parent.parent / "other"
    shutil.copytree(task_copy.parent, other)
    task_text = (other / "task.yaml").read_text().replace("name: tiny", "name: other")
    (other / "task.yaml").write_text(task_text)
    shutil.move(other / "runs" / "tiny", other / "runs" / "other")
    (other_run,) = runs.list_runs(other / "runs" / "other")
    info = json.loads((other_run / runs.RUN_FILE).read_text())
    (other_run / runs.RUN_FILE).write_text(json.dumps({**info, "task": "other"}))
    (first_run,) = runs.list_runs(load_task(task_copy).runs_path)
    app = create_app([task_copy, other / "task.yaml"], store=store)
    with TestClient(app) as http:
        newer_tiny, newer_other = publish_copy(first_run), publish_copy(other_run)
        answer = http.post("/v1/admin/reload", json={"model": "other"}, headers=headers)
        assert answer.json()["reloaded"] == [
            {"model": "other", "from": other_run.name, "to": newer_other.name}
        ]
        runs_now = {m["id"]: m["run_id"] for m in answer.json()["models"]}
        assert runs_now == {"tiny": first_run.name, "other": newer_other.name}
        predicted = http.post(
            "/v1/predict", json={"model": "other", "text": "refund"}, headers=headers
        ).json()
        assert (predicted["task"], predicted["model"]) == ("other", newer_other.name)
        missing = http.post("/v1/admin/reload", json={"model": "nope"}, headers=headers)
        assert missing.status_code == 404 and "tiny, other" in missing.text
        everything = http.post("/v1/admin/reload", headers=headers).json()
        assert everything["reloaded"] == [
            {"model": "tiny", "from": first_run.name, "to": newer_tiny.name}
        ]
