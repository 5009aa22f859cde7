"""Sharing the server: the model's calls are filled round-robin across keys, each key's requests
in flight are bounded, a full server answers 503, and answers are stored in group commits.
A real tiny model throughout."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import HTTPException
from live_server import live_server

from narrowtune.serve import create_app
from narrowtune.serve.admission import Admission
from narrowtune.serve.batching import MicroBatcher
from narrowtune.serve.models import ServedModel, load_target
from narrowtune.serve.records import GroupWriter, answers_record
from narrowtune.store import InvalidText, Store


class CallLog:
    """A served model whose calls are written down (the texts of each call, in order)."""

    def __init__(self, served: ServedModel) -> None:
        self.served = served
        self.calls: list[list[str]] = []

    def predict(self, texts: Sequence[str]) -> list[Any]:
        self.calls.append(list(texts))
        return self.served.predict(texts)


@pytest.fixture(scope="module")
def served(tiny_run: Path) -> ServedModel:
    return load_target(tiny_run, backend="torch")


def test_a_large_batch_does_not_hold_the_model(served: ServedModel) -> None:
    """Client a sends 20 texts, b and c one each, at once, to a model that takes 8 texts a
    call: b and c ride in the first call beside a's first chunk, and are answered before a's
    batch is done."""
    log = CallLog(served)
    batcher = MicroBatcher(max_wait=0, max_batch=8, chunk=4)
    finished: list[str] = []

    async def send(who: str, texts: list[str]) -> list[Any]:
        answers = await batcher.predict(log, texts, caller=who)  # type: ignore[arg-type]
        finished.append(who)
        return answers

    async def main() -> list[list[Any]]:
        return await asyncio.gather(
            send("a", [f"refund order {i}" for i in range(20)]),
            send("b", ["where is my parcel"]),
            send("c", ["cannot log in"]),
        )

    a, b, c = asyncio.run(main())
    a_texts = [f"refund order {i}" for i in range(20)]
    assert log.calls == [
        [*a_texts[:4], "where is my parcel", "cannot log in", *a_texts[4:6]],
        a_texts[6:14],
        a_texts[14:],
    ]
    assert finished.index("b") < finished.index("a") and finished.index("c") < finished.index("a")
    # Each caller gets its own answers, in its own order, the same as a direct call would give.
    assert [p.label for p in a] == [
        p.label for p in served.predict([f"refund order {i}" for i in range(20)])
    ]
    assert len(b) == 1 and len(c) == 1


def test_long_texts_split_calls_by_characters(served: ServedModel) -> None:
    log = CallLog(served)
    batcher = MicroBatcher(max_wait=0, max_batch=256, chunk=64, max_chars=5_000)
    texts = ["refund " * 400] * 10  # 2,800 characters each; each counts 2,000

    async def main() -> list[Any]:
        return await batcher.predict(log, texts, caller="a")  # type: ignore[arg-type]

    answers = asyncio.run(main())
    assert len(answers) == 10 and [len(c) for c in log.calls] == [3, 3, 3, 1]


def test_per_key_limits_and_a_full_server() -> None:
    admission = Admission(per_key=2, max_queue=3)
    with admission.enter("a"), admission.enter("a"):
        with pytest.raises(HTTPException) as raised, admission.enter("a"):
            pass
        assert raised.value.status_code == 429 and raised.value.headers["Retry-After"] == "1"
        with admission.enter("b"):  # another key still gets in ...
            with pytest.raises(HTTPException) as full, admission.enter("c"):
                pass  # ... until the server is full
            assert full.value.status_code == 503 and "capacity" in full.value.detail
    with admission.enter("a"):  # places are given back
        pass
    assert admission._inflight == {} and admission._total == 0
    assert admission.refused == {429: 1, 503: 1}


def test_rate_limit_answers_429_with_retry_after(tiny_run: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "rate.db") as store:
        key = store.create_key("bursty")
        other = store.create_key("calm")
        app = create_app(tiny_run, store=store, rate_per_key=0.5)  # bursts of 2
        with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as http:
            answers = [
                http.post(
                    "/v1/predict",
                    json={"text": "refund"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                for _ in range(3)
            ]
            assert [a.status_code for a in answers] == [200, 200, 429]
            assert answers[2].headers["Retry-After"] == "2" and "rate" in answers[2].text
            calm = http.post(
                "/v1/predict", json={"text": "refund"}, headers={"Authorization": f"Bearer {other}"}
            )
            assert calm.status_code == 200  # one key's limit is its own
            assert len(store.predictions(limit=10)) == 3  # refused requests stored nothing


def test_answers_finishing_together_share_a_commit(served: ServedModel, tmp_path: Path) -> None:
    with Store(tmp_path / "group.db") as store:
        writer = GroupWriter(store)
        prediction = {"label": "refund", "confidence": 0.9, "abstain": False, "scores": {}}

        async def main() -> list[list[int]]:
            records = [
                answers_record(
                    served, [prediction], texts=[f"t{i}"], request_id=f"r{i}", latency_ms=1
                )
                for i in range(50)
            ]
            return await asyncio.gather(*(writer.write(r) for r in records))

        ids = asyncio.run(main())
        assert sorted(i for one in ids for i in one) == list(range(1, 51))
        assert writer.groups < 50  # fewer transactions than requests
        stored = {p["request_id"]: p["id"] for p in store.predictions(limit=100)}
        assert all(stored[f"r{i}"] == ids[i][0] for i in range(50))

        async def bad() -> None:
            await writer.write(
                answers_record(
                    served, [prediction], texts=["a\x00b"], request_id="bad", latency_ms=1
                )
            )

        with pytest.raises(InvalidText):
            asyncio.run(bad())
        assert len(store.predictions(limit=100)) == 50


@pytest.fixture
def many_clients(tiny_run: Path, tmp_path: Path) -> Iterator[tuple[str, list[str], Store]]:
    with Store(tmp_path / "many.db") as store:
        keys = [store.create_key(f"client-{i}") for i in range(4)]
        with live_server(create_app(tiny_run, store=store)) as url:
            yield url, keys, store


def test_concurrent_clients_are_all_answered_and_stored(
    many_clients: tuple[str, list[str], Store],
) -> None:
    url, keys, store = many_clients

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            return await asyncio.gather(
                *(
                    http.post(
                        "/v1/predict",
                        json={"texts": [f"refund order {i}"] * (1 + i % 5)},
                        headers={"Authorization": f"Bearer {keys[i % 4]}"},
                    )
                    for i in range(40)
                )
            )

    answers = asyncio.run(main())
    assert all(a.status_code == 200 for a in answers)
    ids = {a.json()["request_id"] for a in answers}
    stored = store.predictions(limit=1000)
    assert {p["request_id"] for p in stored} == ids and len(stored) == sum(
        1 + i % 5 for i in range(40)
    )
