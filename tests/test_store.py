"""The store on a real SQLite file: hashed keys, one transaction per request, the review queue."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from narrowtune.errors import NarrowtuneError
from narrowtune.store import ReviewConflict, ReviewNotFound, Store, resolve_url


def pred(label: str, confidence: float, abstain: bool) -> dict:
    return {"label": label, "confidence": confidence, "abstain": abstain, "scores": {label: 0.5}}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "nt.db") as opened:
        yield opened


def record_three(store: Store, request_id: str = "req-1") -> list[int]:
    return store.record(
        [pred("refund", 0.99, False), pred("login", 0.41, True), pred("shipping", 0.52, True)],
        texts=["refund order 1", "strange text", "where is it"],
        model="run-a",
        request_id=request_id,
        latency_ms=12.5,
    )


def test_url_from_argument_environment_or_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NARROWTUNE_DB", raising=False)
    assert resolve_url() == "sqlite:///narrowtune.db"
    monkeypatch.setenv("NARROWTUNE_DB", "sqlite:///elsewhere.db")
    assert resolve_url() == "sqlite:///elsewhere.db"
    assert resolve_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"


def test_sqlite_file_is_in_wal_mode(tmp_path: Path, store: Store) -> None:
    with sqlite3.connect(tmp_path / "nt.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NarrowtuneError, match="does not exist"):
        Store(tmp_path / "nope" / "nt.db")


def test_keys_are_hashed_never_stored_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    with Store(path) as store:
        key = store.create_key("ci")
        assert key.startswith("nt_") and len(key) > 40
        assert store.check_key(key)
        assert not store.check_key(key + "x")
        assert not store.check_key("")
        listed = store.list_keys()
        assert [k["name"] for k in listed] == ["ci"] and listed[0]["revoked"] is None
        assert key not in repr(listed)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("keys.db"))
    assert key.encode() not in raw
    assert key[3:].encode() not in raw


def test_revoke_stops_a_key_and_frees_its_name(store: Store) -> None:
    key = store.create_key("app")
    with pytest.raises(NarrowtuneError, match="already exists"):
        store.create_key("app")
    store.revoke_key("app")
    assert not store.check_key(key)
    assert store.list_keys()[0]["revoked"] is not None
    with pytest.raises(NarrowtuneError, match="no active key named 'app'"):
        store.revoke_key("app")
    new_key = store.create_key("app")
    assert store.check_key(new_key) and not store.check_key(key)


def test_record_stores_every_row_and_queues_the_abstained(store: Store) -> None:
    ids = record_three(store)
    assert len(ids) == 3
    rows = store.predictions(request_id="req-1")
    assert sorted(r["id"] for r in rows) == sorted(ids)
    assert {r["model"] for r in rows} == {"run-a"}
    assert all(len(r["input_hash"]) == 64 and r["latency_ms"] == 12.5 for r in rows)
    queue = store.open_reviews()
    assert [q["text"] for q in queue] == ["strange text", "where is it"]
    assert [q["label"] for q in store.open_reviews(label="login")] == ["login"]
    assert len(store.open_reviews(limit=1)) == 1


def test_record_refuses_mismatched_lengths_and_stores_nothing(store: Store) -> None:
    with pytest.raises(NarrowtuneError, match="2 predictions for 1 texts"):
        store.record(
            [pred("a", 0.1, True), pred("b", 0.1, True)],
            texts=["one"],
            model="m",
            request_id="r",
            latency_ms=1,
        )
    assert store.predictions() == [] and store.open_reviews() == []


def test_review_decide_and_export_round_trip(store: Store) -> None:
    record_three(store)
    first, second = store.open_reviews()
    escalated = store.decide(first["id"], "ana", "escalate")
    assert escalated["status"] == "escalated"
    assert [q["id"] for q in store.open_reviews()] == [second["id"]]
    assert len(store.open_reviews(include_escalated=True)) == 2
    store.decide(first["id"], "lead", "correct", label="refund")  # escalated items settle later
    store.decide(second["id"], "ana", "accept")
    assert store.open_reviews(include_escalated=True) == []
    feedback = store.export_feedback()
    assert [(f["text"], f["label"], f["reviewer"]) for f in feedback] == [
        ("strange text", "refund", "lead"),
        ("where is it", "shipping", "ana"),
    ]
    assert feedback[0]["predicted"] == "login" and feedback[0]["action"] == "correct"


def test_bad_decisions_are_clear_errors(store: Store) -> None:
    record_three(store)
    item = store.open_reviews()[0]["id"]
    with pytest.raises(ReviewNotFound, match="no review item 999"):
        store.decide(999, "ana", "accept")
    with pytest.raises(NarrowtuneError, match="needs the right label"):
        store.decide(item, "ana", "correct")
    with pytest.raises(NarrowtuneError, match="unknown review action 'approve'"):
        store.decide(item, "ana", "approve")
    with pytest.raises(NarrowtuneError, match="reviewer"):
        store.decide(item, " ", "accept")
    store.decide(item, "ana", "accept")
    with pytest.raises(ReviewConflict, match=f"review item {item} is already accepted"):
        store.decide(item, "bob", "correct", label="login")
    assert len(store.export_feedback()) == 1


def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    with Store(path) as store:
        key = store.create_key("ci")
        record_three(store)
        store.decide(store.open_reviews()[0]["id"], "ana", "correct", label="refund")
    with Store(f"sqlite:///{path}") as store:
        assert store.check_key(key)
        assert len(store.predictions()) == 3
        assert len(store.open_reviews()) == 1
        assert store.export_feedback()[0]["label"] == "refund"
