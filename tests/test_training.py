"""The training pieces every kind shares: every process gets work, every loop over steps ends."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from conftest import make_rows, write_csv, write_task

from narrowtune import api
from narrowtune.kinds.training import (
    TimeBudget,
    TrainingError,
    bucketed_batches,
    check_processes,
    count_batches,
    epoch_loop,
    shard,
)
from narrowtune.task import load_task


@pytest.mark.parametrize("n, size", [(0, 8), (1, 8), (7, 8), (8, 8), (9, 8), (401, 8), (1000, 3)])
def test_count_batches_matches_the_batches_made(n: int, size: int) -> None:
    assert count_batches(n, size) == len(bucketed_batches([1] * n, size, random.Random(0)))


def test_every_process_gets_the_same_share() -> None:
    batches = [[i] for i in range(7)]
    shares = [shard(batches, 3, rank) for rank in range(3)]
    assert [len(s) for s in shares] == [2, 2, 2]
    assert sorted(i for s in shares for b in s for i in b) == list(range(6))
    with pytest.raises(TrainingError, match="cannot be shared by 3 processes"):
        shard(batches[:2], 3, 0)


def test_fewer_batches_than_processes_is_refused_at_once(tmp_path: Path) -> None:
    """The `init` starter case: 12 training rows, batch 32, two processes. It used to spin for
    ever, each worker's history growing without bound; now nothing is launched."""
    write_csv(tmp_path / "data.csv", make_rows(6))
    task = load_task(write_task(tmp_path, **{"train.batch_size": 32, "train.processes": 2}))
    began = time.monotonic()
    with pytest.raises(TrainingError, match=r"make 1 batch\(es\) of up to 32, fewer than the 2"):
        api.train(task, force=True)
    assert time.monotonic() - began < 30
    runs = tmp_path / "runs" / "tiny"
    assert not runs.exists() or not any(runs.iterdir())  # no run, no staging folder left
    check_processes(12, 6, 2)  # the fix it proposes works


def test_epoch_loop_ends_even_when_an_epoch_is_empty() -> None:
    epochs = list(epoch_loop(5, lambda: [[0], [1]], TimeBudget(None)))
    assert [len(e) for e in epochs] == [2, 2, 1]  # the last epoch is cut to what is left
    with pytest.raises(TrainingError, match="no training batch"):
        list(epoch_loop(5, lambda: [], TimeBudget(None)))


def test_time_budget_stops_the_loop() -> None:
    budget = TimeBudget(1e-9)  # 60 ns: spent before the first epoch is handed out
    time.sleep(0.01)
    assert budget.expired() and list(epoch_loop(10, lambda: [[0]], budget)) == []
    assert not TimeBudget(None).expired()
