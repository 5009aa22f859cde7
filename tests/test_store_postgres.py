"""The store on a real PostgreSQL server, started on loopback by the fixtures (see
postgres_server.py), and the Alembic migrations on both backends.

The backend-neutral tests of test_store.py run here again, unchanged, against a `store` fixture
that opens a fresh Postgres database per test; the tests below them cover what differs: how
"never stored in clear" is checked, reopening, concurrent decisions and the schema version.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from postgres_server import PostgresServer, PostgresUnavailable, create_database, find_bin_dir
from sqlalchemy import MetaData, create_engine, select
from test_store import (
    record_three,
    test_bad_decisions_are_clear_errors,
    test_ids_beyond_the_column_are_simply_absent,
    test_nul_characters_are_refused_naming_the_field,
    test_nul_characters_elsewhere_are_refused_too,
    test_queue_filters_count_and_pages_in_the_database,
    test_record_refuses_mismatched_lengths_and_stores_nothing,
    test_record_stores_every_row_and_queues_the_abstained,
    test_review_decide_and_export_round_trip,
    test_revoke_stops_a_key_and_frees_its_name,
    test_single_item_and_its_neighbours_under_filters,
    test_structured_outputs_are_stored_and_queued_whole,
)

from narrowtune.errors import NarrowtuneError
from narrowtune.migrations import alembic_config
from narrowtune.store import SCOPES, Base, ReviewConflict, Store, resolve_url

# Collected here too, so each runs against PostgreSQL through this module's `store` fixture.
REUSED = (
    test_bad_decisions_are_clear_errors,
    test_ids_beyond_the_column_are_simply_absent,
    test_nul_characters_are_refused_naming_the_field,
    test_nul_characters_elsewhere_are_refused_too,
    test_queue_filters_count_and_pages_in_the_database,
    test_single_item_and_its_neighbours_under_filters,
    test_structured_outputs_are_stored_and_queued_whole,
    test_record_refuses_mismatched_lengths_and_stores_nothing,
    test_record_stores_every_row_and_queues_the_abstained,
    test_review_decide_and_export_round_trip,
    test_revoke_stops_a_key_and_frees_its_name,
)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A URL to the `postgres` database of a server this session may create databases on."""
    external = os.environ.get("NARROWTUNE_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    try:
        server = PostgresServer(find_bin_dir()).start()
    except PostgresUnavailable as reason:
        if os.environ.get("NARROWTUNE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"NARROWTUNE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(str(reason))
    try:
        yield server.admin_url()
    finally:
        server.stop()


@pytest.fixture
def new_database(postgres_admin_url: str) -> Callable[[], str]:
    """Makes a fresh, empty database per call and returns its plain `postgresql://` URL."""
    return lambda: create_database(postgres_admin_url, f"nt_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def pg_url(new_database: Callable[[], str]) -> str:
    return new_database()


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    with Store(pg_url) as opened:
        assert opened.engine.dialect.name == "postgresql"
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nt.db'}"
    return request.getfixturevalue("new_database")()


def all_cells(store: Store) -> str:
    """Every value in every table of the store, as one string."""
    metadata = MetaData()
    metadata.reflect(store.engine)
    with store.engine.connect() as connection:
        return repr(
            [list(connection.execute(select(table)).all()) for table in metadata.sorted_tables]
        )


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_plain_postgres_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NARROWTUNE_DB", "postgresql://u:p@db:5432/nt")
    assert resolve_url() == "postgresql+psycopg://u:p@db:5432/nt"
    assert resolve_url("postgres://db/nt") == "postgresql+psycopg://db/nt"
    assert resolve_url("postgresql+psycopg://db/nt") == "postgresql+psycopg://db/nt"


def test_store_opens_postgres_from_the_environment(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NARROWTUNE_DB", pg_url)
    with Store() as store:
        assert store.url.startswith("postgresql+psycopg://")
        assert store.engine.dialect.driver == "psycopg"
        assert store.create_key("env")


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    port = __import__("postgres_server").free_port()  # nothing listens there
    with pytest.raises(NarrowtuneError, match="cannot open the store") as raised:
        Store(f"postgresql://nt:s3cret@127.0.0.1:{port}/nt?connect_timeout=2")
    assert "s3cret" not in str(raised.value)


def test_keys_are_hashed_never_stored_in_clear(store: Store) -> None:
    key = store.create_key("ci")
    assert store.check_key(key) and not store.check_key(key + "x")
    cells = all_cells(store)
    assert "key_hash" not in cells and "ci" in cells  # the dump really holds the rows
    assert key not in cells and key[3:] not in cells
    with store.engine.connect() as connection:
        dumped = connection.exec_driver_sql("SELECT row_to_json(k)::text FROM api_keys k").all()
    assert len(dumped) == 1 and key[3:] not in dumped[0][0]


def test_data_survives_closing_and_reopening(pg_url: str) -> None:
    with Store(pg_url) as store:
        key = store.create_key("ci")
        record_three(store)
        store.decide(store.open_reviews()[0]["id"], "ana", "correct", label=["refund", "vip"])
    with Store(pg_url.replace("postgresql://", "postgresql+psycopg://")) as store:
        assert store.check_key(key)
        assert len(store.predictions()) == 3
        assert len(store.open_reviews()) == 1
        assert store.export_feedback()[0]["label"] == ["refund", "vip"]
        assert store.predictions()[0]["created"].endswith("Z")


def test_concurrent_decisions_on_one_item_exactly_one_wins(store: Store) -> None:
    record_three(store)
    item = store.open_reviews()[0]["id"]
    reviewers = [f"reviewer-{i}" for i in range(8)]
    start = threading.Barrier(len(reviewers))
    won: list[str] = []
    lost: list[str] = []

    def decide(reviewer: str) -> None:
        start.wait()
        try:
            store.decide(item, reviewer, "correct", label=reviewer)
            won.append(reviewer)
        except ReviewConflict as conflict:
            assert "already corrected" in str(conflict)
            lost.append(reviewer)

    threads = [threading.Thread(target=decide, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == len(reviewers) - 1
    assert [(f["label"], f["reviewer"]) for f in store.export_feedback()] == [(won[0], won[0])]


def test_migrations_reach_head_and_match_the_models(any_url: str) -> None:
    with Store(any_url) as store:
        assert current_revision(store) == head_revision() is not None
        with store.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
    with Store(any_url) as store:  # reopening an up-to-date database changes nothing
        assert current_revision(store) == head_revision()


def schema_at(url: str, revision: str) -> None:
    """Bring an empty database to `revision` only (an older release's schema)."""
    from alembic import command

    engine = create_engine(resolve_url(url))
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_a_database_made_before_migrations_is_stamped_not_recreated(any_url: str) -> None:
    # What Store() did before migrations existed: create_all() of the 0001 schema, and no
    # alembic_version table.
    schema_at(any_url, "0001")
    engine = create_engine(resolve_url(any_url))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")
        connection.exec_driver_sql(
            "INSERT INTO api_keys (name, key_hash, created) VALUES ('old', 'x', CURRENT_TIMESTAMP)"
        )
    engine.dispose()
    with Store(any_url) as store:
        assert current_revision(store) == head_revision()
        assert [k["name"] for k in store.list_keys()] == ["old"]
        # Keys from before scopes existed keep every right they had.
        assert store.list_keys()[0]["scopes"] == list(SCOPES)
        record_three(store)
    with Store(any_url) as store:
        assert current_revision(store) == head_revision()
        assert [k["name"] for k in store.list_keys()] == ["old"]
        assert len(store.open_reviews()) == 2


def test_upgrading_from_0001_keeps_rows_and_adds_task_and_kind(any_url: str) -> None:
    schema_at(any_url, "0001")
    engine = create_engine(resolve_url(any_url))
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO predictions (request_id, model, input_hash, input_text, label, output, "
            "confidence, abstain, latency_ms, created) VALUES ('r', 'run-old', 'h', 'old text', "
            '\'refund\', \'{"label": "refund", "confidence": 0.3, "abstain": true}\', '
            "0.3, true, 1.0, CURRENT_TIMESTAMP)"
        )
        connection.exec_driver_sql(
            "INSERT INTO review_items (prediction_id, status, created) "
            "VALUES (1, 'open', CURRENT_TIMESTAMP)"
        )
    engine.dispose()
    with Store(any_url) as store:
        assert current_revision(store) == head_revision() == "0005"
        (old,) = store.predictions()
        assert (old["model"], old["task"], old["kind"], old["text"]) == (
            "run-old",
            None,
            None,
            "old text",
        )
        (item,) = store.open_reviews()
        assert item["label"] == "refund" and item["output"] is None and item["valid"] is True
        store.record(
            [{"label": "login", "confidence": 0.2, "abstain": True}],
            texts=["new text"],
            model="run-new",
            request_id="r2",
            latency_ms=1,
            task="tiny",
            kind="classify",
        )
        assert [i["task"] for i in store.open_reviews()] == [None, "tiny"]
        assert [i["task"] for i in store.open_reviews(model="tiny")] == ["tiny"]


def test_two_stores_opening_a_new_database_at_once_both_work(any_url: str) -> None:
    opened: list[Store] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_store() -> None:
        start.wait()
        try:
            opened.append(Store(any_url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert {current_revision(s) for s in opened} == {head_revision()}
        assert opened[0].create_key("race") and opened[1].list_keys()[0]["name"] == "race"
    finally:
        for store in opened:
            store.close()


OPEN_IN_A_PROCESS = """
import sys, time
from narrowtune.store import Store
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all open at the same moment
with Store(sys.argv[1]) as store:
    store.create_key(sys.argv[2])
"""


def test_processes_opening_a_new_database_at_once_all_work(any_url: str) -> None:
    # Threads take turns on a lock; separate processes rely on the database's own lock.
    names = [f"process-{i}" for i in range(3)]
    start_at = str(time.time() + 2)  # after every child has imported narrowtune
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_IN_A_PROCESS, any_url, name, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in names
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    with Store(any_url) as store:
        assert sorted(k["name"] for k in store.list_keys()) == names
        assert current_revision(store) == head_revision()


def test_sqlite_store_keeps_wal_after_migrating(tmp_path: Path) -> None:
    with Store(tmp_path / "wal.db") as store:
        assert current_revision(store) == head_revision()
    with sqlite3.connect(tmp_path / "wal.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_postgres_itself_refuses_nul_which_is_why_the_store_does(pg_url: str) -> None:
    engine = create_engine(resolve_url(pg_url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x text)")
        with pytest.raises(Exception, match="NUL"), engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (%(x)s)", {"x": "a\x00b"})
    finally:
        engine.dispose()


def test_the_server_on_postgres(pg_url: str, tiny_run: Path) -> None:
    """The app over a PostgreSQL store: predictions stored with their model, NUL refused with
    422, and ids past PostgreSQL's 32-bit column answered 404 rather than 500."""
    from fastapi.testclient import TestClient

    from narrowtune.serve import create_app

    with Store(pg_url) as store:
        headers = {"Authorization": f"Bearer {store.create_key('pg', scopes=SCOPES)}"}
        app = create_app(tiny_run, store=store)
        with TestClient(app) as http:
            ok = http.post(
                "/v1/predict", json={"texts": ["refund order 1", "xyzzy"]}, headers=headers
            )
            assert ok.status_code == 200, ok.text
            rows = store.predictions(request_id=ok.json()["request_id"])
            assert {(r["task"], r["kind"], r["model"]) for r in rows} == {
                ("tiny", "classify", tiny_run.name)
            }
            nul = http.post("/v1/predict", json={"text": "refund\x00"}, headers=headers)
            assert nul.status_code == 422 and "NUL" in nul.text
            label = http.get("/v1/review", params={"label": "a\x00"}, headers=headers)
            assert label.status_code == 422
            big = http.post(
                f"/v1/review/{2**40}", json={"reviewer": "a", "action": "accept"}, headers=headers
            )
            assert big.status_code == 404, big.text
            http.post("/login", data={"key": headers["Authorization"][7:], "reviewer": "a"})
            assert http.get(f"/review/{2**40}").status_code == 404
            assert http.get("/review", params={"label": "a\x00"}).status_code == 422
        assert len(store.predictions()) == 2


def test_monitoring_queries_and_the_registry_on_both_backends(any_url: str) -> None:
    """What `monitor`, `retrain`, `promote` and `rollback` ask of the store, on SQLite and on
    PostgreSQL alike: windows by time (dates set by a replay), counts per task, spot checks
    queued on top of the abstained answers, and registry events with their details."""
    from datetime import UTC, datetime, timedelta

    from test_store import pred

    day = datetime(2026, 11, 1, 12, tzinfo=UTC)
    with Store(any_url) as store:
        ids = []
        for offset, label in enumerate(("refund", "login", "refund")):
            ids += store.record(
                [pred(label, 0.97, False)],
                texts=[f"text on day {offset}"],
                model="run-a",
                request_id=f"r{offset}",
                latency_ms=1.0,
                task="support",
                kind="classify",
                created=day + timedelta(days=offset),
            )
        store.record(
            [pred("x", 0.3, True)],
            texts=["other task"],
            model="run-b",
            request_id="r9",
            latency_ms=1.0,
            task="other",
            kind="classify",
        )
        assert store.task_counts() == {"support": 3, "other": 1}
        window = store.prediction_window(
            "support", since=day + timedelta(days=1), until=day + timedelta(days=2)
        )
        assert [w["text"] for w in window] == ["text on day 1"]
        assert window[0]["created"] == day + timedelta(days=1)
        assert store.queue_reviews([ids[0], ids[0], ids[2]]) == 2
        assert store.queue_reviews([ids[0]]) == 0  # already queued
        with pytest.raises(NarrowtuneError, match="no stored prediction"):
            store.queue_reviews([10**9])
        queued = {item["text"] for item in store.open_reviews(100)}
        assert {"text on day 0", "text on day 2", "other task"} <= queued
        store.record_event(
            "support",
            "promote",
            run_id="run-b",
            previous_run_id="run-a",
            reason="better",
            details={"margin": 2.5, "interval": [0.7, 4.5]},
        )
        store.record_event(
            "support", "rollback", run_id="run-a", previous_run_id="run-b", reason="asked"
        )
        events = store.registry_events("support")
        assert [(e["action"], e["run_id"]) for e in events] == [
            ("promote", "run-b"),
            ("rollback", "run-a"),
        ]
        assert events[0]["details"] == {"margin": 2.5, "interval": [0.7, 4.5]}
        assert store.registry_events("other") == []
