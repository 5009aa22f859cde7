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


def record_queue(store: Store) -> list[int]:
    """Nine queued items over two models, confidences 0.1 .. 0.9, labels cycling."""
    labels = ["refund", "login", "shipping"]
    ids = []
    for i in range(9):
        ids += store.record(
            [pred(labels[i % 3], (i + 1) / 10, True)],
            texts=[f"text {i}"],
            model=f"run-{i % 2}",
            request_id=f"q{i}",
            latency_ms=1,
            task="even" if i % 2 == 0 else "odd",
            kind="classify",
        )
    return ids


def test_queue_filters_count_and_pages_in_the_database(store: Store) -> None:
    record_queue(store)
    texts = [q["text"] for q in store.open_reviews(100)]
    assert texts == [f"text {i}" for i in range(9)]
    low = store.open_reviews(100, max_confidence=0.35)
    assert [q["confidence"] for q in low] == [0.1, 0.2, 0.3]
    assert store.count_reviews(max_confidence=0.35) == 3
    refunds = store.open_reviews(100, "refund", max_confidence=0.5)
    assert [q["text"] for q in refunds] == ["text 0", "text 3"]
    odd = store.open_reviews(100, model="odd")
    assert [q["text"] for q in odd] == ["text 1", "text 3", "text 5", "text 7"]
    assert {q["model"] for q in odd} == {"run-1"} and store.count_reviews(model="odd") == 4
    first_page = store.open_reviews(4)
    second_page = store.open_reviews(4, after=first_page[-1]["id"])
    assert [q["text"] for q in first_page + second_page] == texts[:8]
    assert store.count_reviews() == 9 and store.count_reviews("nope") == 0


def test_single_item_and_its_neighbours_under_filters(store: Store) -> None:
    ids = record_queue(store)
    item = store.review_item(ids[4])
    assert item is not None and item["text"] == "text 4" and item["task"] == "even"
    assert item["status"] == "open" and item["kind"] == "classify"
    assert store.review_item(10**12) is None
    assert store.adjacent_reviews(ids[4]) == (ids[3], ids[5])
    assert store.adjacent_reviews(ids[4], model="even") == (ids[2], ids[6])
    assert store.adjacent_reviews(ids[0]) == (None, ids[1])
    assert store.adjacent_reviews(ids[8], max_confidence=0.5) == (ids[4], None)
    store.decide(ids[5], "ana", "accept")
    assert store.adjacent_reviews(ids[4]) == (ids[3], ids[6])
    decided = store.review_item(ids[5])
    assert decided is not None and decided["status"] == "accepted"
    store.decide(ids[6], "ana", "escalate")
    assert store.adjacent_reviews(ids[4]) == (ids[3], ids[7])
    assert store.adjacent_reviews(ids[4], include_escalated=True) == (ids[3], ids[6])


def test_structured_outputs_are_stored_and_queued_whole(store: Store) -> None:
    extracted = {
        "label": "",
        "confidence": 0.4,
        "abstain": True,
        "scores": {"order_id": 0.9, "amount": 0.2},
        "output": {"order_id": "A-17", "amount": None, "items": [{"sku": "x", "qty": 2}]},
        "valid": True,
        "missing": ["amount"],
        "problems": ["amount: not found"],
    }
    (pid,) = store.record(
        [extracted], texts=["order A-17"], model="run-x", request_id="e", latency_ms=2
    )
    (row,) = store.predictions(request_id="e")
    assert row["output"] == extracted
    (item,) = store.open_reviews()
    assert item["prediction_id"] == pid and item["output"] == extracted["output"]
    assert item["missing"] == ["amount"] and item["problems"] == ["amount: not found"]


@pytest.mark.parametrize(
    ("texts", "output", "field"),
    [
        (["ok", "bad\x00text"], None, "texts[1]"),
        (["ok"], {"name": "a\x00b"}, "predictions[0].output.name"),
        (["ok"], ["fine", "nul\x00"], "predictions[0].output[1]"),
    ],
)
def test_nul_characters_are_refused_naming_the_field(
    store: Store, texts: list[str], output: object, field: str
) -> None:
    predictions = [{**pred("refund", 0.2, True), "output": output} for _ in texts]
    with pytest.raises(NarrowtuneError, match=rf"{field.replace('[', '.').replace(']', '.')}"):
        store.record(predictions, texts=texts, model="m", request_id="nul", latency_ms=1)
    assert store.predictions() == [] and store.open_reviews() == []


def test_nul_characters_elsewhere_are_refused_too(store: Store) -> None:
    record_three(store)
    item = store.open_reviews()[0]["id"]
    with pytest.raises(NarrowtuneError, match="reviewer contains a NUL"):
        store.decide(item, "ana\x00", "accept")
    with pytest.raises(NarrowtuneError, match="label contains a NUL"):
        store.decide(item, "ana", "correct", label="log\x00in")
    with pytest.raises(NarrowtuneError, match="key name contains a NUL"):
        store.create_key("ci\x00")
    with pytest.raises(NarrowtuneError, match="label contains a NUL"):
        store.open_reviews(label="a\x00")
    assert store.open_reviews()[0]["status"] == "open" and store.list_keys() == []


@pytest.mark.parametrize("item_id", [0, -5, 2**31, 2**63 - 1])
def test_ids_beyond_the_column_are_simply_absent(store: Store, item_id: int) -> None:
    """Regression: on PostgreSQL (32-bit ids) a bigger id overflowed the driver (a 500)."""
    ids = record_queue(store)
    assert store.review_item(item_id) is None
    with pytest.raises(ReviewNotFound):
        store.decide(item_id, "ana", "accept")
    expected = (ids[-1], None) if item_id > 0 else (None, ids[0])
    assert store.adjacent_reviews(item_id) == expected


def test_keys_carry_scopes_and_unknown_scopes_are_refused(store: Store) -> None:
    reader = store.create_key("reader")
    both = store.create_key("both", scopes=("review", "predict", "review"))
    assert store.key_info(reader) == ("reader", frozenset({"predict"}))
    assert store.key_info(both) == ("both", frozenset({"predict", "review"}))
    assert store.key_info("nt_not-a-key") is None
    with pytest.raises(NarrowtuneError, match="unknown key scope 'root'"):
        store.create_key("x", scopes=("predict", "root"))
    with pytest.raises(NarrowtuneError, match="no scope"):
        store.create_key("x", scopes=())
    with pytest.raises(NarrowtuneError, match="name"):
        store.create_key("n" * 201)
    listed = {k["name"]: k["scopes"] for k in store.list_keys()}
    assert listed == {"reader": ["predict"], "both": ["predict", "review"]}


def test_review_sessions_start_only_with_the_review_scope_and_end(store: Store) -> None:
    reviewer = store.create_key("ana", scopes=("review",))
    with pytest.raises(NarrowtuneError, match="'review' scope"):
        store.start_session(store.create_key("bot"))
    token, info = store.start_session(reviewer)
    assert info.name == "ana" and reviewer not in token
    session = store.session_info(token)
    assert session is not None and session.name == "ana" and len(session.csrf) >= 32
    assert store.session_info(token + "x") is None and store.session_info("") is None
    other, _ = store.start_session(reviewer)
    store.end_session(token)
    assert store.session_info(token) is None
    assert store.session_info(other) is not None  # only the one session ended
    store.revoke_key("ana")
    assert store.session_info(other) is None  # a revoked key's sessions are dead


def test_sessions_expire(store: Store) -> None:
    reviewer = store.create_key("ana", scopes=("review",))
    token, _ = store.start_session(reviewer, hours=-1)
    assert store.session_info(token) is None


def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    with Store(path) as opened:
        opened.create_key("x")
    assert path.stat().st_mode & 0o777 == 0o600
