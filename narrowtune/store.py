"""The durable store: API keys, every served prediction, the review queue and its decisions.

SQLAlchemy 2 over a SQLite file by default (WAL mode, zero setup); any SQLAlchemy URL (from the
argument or `NARROWTUNE_DB`) switches the database; `postgresql://...` uses psycopg 3. The
schema is versioned with Alembic (`narrowtune/migrations/`): opening a store upgrades it to the
newest revision, and a SQLite file made before migrations existed is adopted (stamped), not
recreated.

This is a foundation module: it takes and returns plain data (dicts of a prediction as
`Prediction.to_dict()` writes them), so it never imports a kind, the API or a face.

NUL characters: PostgreSQL cannot store U+0000 in text (nor `\\u0000` in JSON it has to read),
so the store refuses any text holding one, on every backend alike (a SQLite database stays
movable to PostgreSQL): writing raises `InvalidText` naming the field, and the server answers
422 before any model runs. Filters holding a NUL are refused the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import secrets
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from narrowtune.errors import NarrowtuneError

ENV_VAR = "NARROWTUNE_DB"
DEFAULT_URL = "sqlite:///narrowtune.db"
KEY_PREFIX = "nt_"
# What a key may do: `predict` (predictions and chat completions), `review` (read the review
# queue, with its raw customer text, and decide items), `admin` (reload models, read the
# protected operational routes).
SCOPES = ("predict", "review", "admin")
# How long a review-page session lasts after sign-in.
SESSION_HOURS = 12
ACTIONS = ("accept", "correct", "escalate")
Action = Literal["accept", "correct", "escalate"]
# An escalated item waits for someone else's accept/correct; accepted and corrected are final.
DECIDABLE = {
    "accept": ("open", "escalated"),
    "correct": ("open", "escalated"),
    "escalate": ("open",),
}
STATUS_AFTER = {"accept": "accepted", "correct": "corrected", "escalate": "escalated"}
# The Alembic revision whose schema `create_all()` made before migrations existed.
FIRST_REVISION = "0001"
# Postgres advisory-lock key: stores opening one database at once migrate it one at a time.
MIGRATION_LOCK = zlib.crc32(b"narrowtune.store.migrate")
_MIGRATION_THREAD_LOCK = threading.Lock()


class InvalidText(NarrowtuneError):
    """A value the store cannot keep on every backend (a NUL character); names the field."""


class ReviewNotFound(NarrowtuneError):
    """No review item with that id (the API answers 404)."""


class ReviewConflict(NarrowtuneError):
    """The review item was already decided (the API answers 409)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    """UTC timestamps as ISO text; SQLite hands them back without a zone, so add it here."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def find_nul(value: Any, path: str = "") -> str | None:
    """The path (`a.b[2]`) of the first string holding a NUL character in `value`, else None.

    Dict keys are checked as well as values; the path of a top-level string is "".
    """
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return here
            found = find_nul(item, here)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def refuse_nul(field: str, value: Any) -> None:
    """Raise InvalidText when `value` (text, or JSON-like data) holds a NUL character."""
    found = find_nul(value)
    if found is not None:
        where = f"{field}{'.' if found and not found.startswith('[') else ''}{found}"
        raise InvalidText(
            f"{where} contains a NUL character (\\x00), which the store cannot keep "
            "(PostgreSQL refuses it in text); remove it"
        )


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def label_text(label: Any) -> str:
    """A label as one string for filtering: multi-label sets are joined with '|'."""
    return label if isinstance(label, str) else "|".join(str(x) for x in label)


class Record(NamedTuple):
    """One request's answers, as `Store.record` stores them."""

    predictions: Sequence[Mapping[str, Any]]
    texts: Sequence[str]
    model: str
    request_id: str
    latency_ms: float
    task: str | None = None
    kind: str | None = None
    # When the predictions were made (default: now); a replay or a simulation sets it.
    created: datetime | None = None


def check_record(request: Record) -> None:
    """NarrowtuneError (InvalidText for a NUL) when `request` cannot be stored as it is."""
    if len(request.predictions) != len(request.texts):
        raise NarrowtuneError(
            f"{len(request.predictions)} predictions for {len(request.texts)} texts; nothing stored"
        )
    for index, (given, pred) in enumerate(zip(request.texts, request.predictions, strict=True)):
        refuse_nul(f"texts[{index}]", given)
        refuse_nul(f"predictions[{index}]", dict(pred))
    refuse_nul("model", request.model)
    refuse_nul("task", request.task)


class KeyInfo(NamedTuple):
    """Who an active key belongs to (its name) and what it may do."""

    name: str
    scopes: frozenset[str]


class SessionInfo(NamedTuple):
    """A signed-in review page: the key's name (the reviewer) and the session's CSRF token."""

    name: str
    csrf: str


def _scope_list(stored: str) -> list[str]:
    """A key's scopes as the database keeps them ("predict,review"), as a list."""
    return [s for s in stored.split(",") if s]


def check_scopes(scopes: Sequence[str]) -> list[str]:
    """`scopes` deduplicated in SCOPES order; NarrowtuneError naming an unknown one."""
    chosen = [s.strip() for s in scopes if s.strip()]
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        problem = f"unknown key scope {', '.join(map(repr, unknown))}" if unknown else "no scope"
        raise NarrowtuneError(f"{problem}; choose from {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in chosen]


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # sha256 of the key: the clear key is shown once at creation and never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Comma-separated, from SCOPES.
    scopes: Mapped[str] = mapped_column(String(100), default="predict")


class ReviewSession(Base):
    """A signed-in review page: the browser holds a random token; only its hash is stored."""

    __tablename__ = "review_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class PredictionRow(Base):
    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    # The run id that answered (a model passed in as an object: its served name).
    model: Mapped[str] = mapped_column(String(200), index=True)
    # The served model's name (its task), and its kind; None on rows older than revision 0002.
    task: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    kind: Mapped[str | None] = mapped_column(String(20), default=None)
    input_hash: Mapped[str] = mapped_column(String(64), index=True)
    input_text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(500), index=True)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    abstain: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Float)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ReviewItem(Base):
    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="open")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RegistryEvent(Base):
    """One decision about which run of a task serves: a promotion, a rollback, or a retrain
    whose challenger was refused (with the reason and the measurements behind it)."""

    __tablename__ = "model_registry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(200), index=True)
    # promote, rollback or refuse
    action: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[str | None] = mapped_column(String(200), default=None)
    previous_run_id: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[Any] = mapped_column(JSON, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PipelineTrace(Base):
    """One case a pipeline ran: its inputs, each step (input, output, latency, confidence,
    error), the route, and — when it was escalated — the prediction row its review item is on."""

    __tablename__ = "pipeline_traces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(64), unique=True)
    pipeline: Mapped[str] = mapped_column(String(200), index=True)
    # answered or escalated
    status: Mapped[str] = mapped_column(String(20))
    route: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str] = mapped_column(Text)
    inputs: Mapped[Any] = mapped_column(JSON)
    outputs: Mapped[Any] = mapped_column(JSON)
    steps: Mapped[Any] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float)
    prediction_id: Mapped[int | None] = mapped_column(
        ForeignKey("predictions.id"), index=True, default=None
    )
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    # JSON so a multi-label correction keeps its list; None for an escalation.
    label: Mapped[Any] = mapped_column(JSON, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def resolve_url(url: str | Path | None = None) -> str:
    """The database URL: the argument, else `NARROWTUNE_DB`, else `narrowtune.db` here.

    A plain path (no `://`) means a SQLite file at that path. A PostgreSQL URL without a
    driver (`postgresql://`, `postgres://`) gets psycopg 3 when it is installed.
    """
    value = str(url) if url is not None else os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in value:
        value = f"sqlite:///{Path(value).expanduser()}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgresql", "postgres") and importlib.util.find_spec("psycopg"):
        value = f"postgresql+psycopg://{rest}"
    return value


def _shown(url: str) -> str:
    """The URL for messages, password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _migrate(connection: Connection) -> None:
    """Bring the schema on `connection` to the newest Alembic revision, in its transaction."""
    from alembic import command
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from narrowtune.migrations import alembic_config

    config = alembic_config()
    config.attributes["connection"] = connection
    head = ScriptDirectory.from_config(config).get_current_head()
    if MigrationContext.configure(connection).get_current_revision() == head:
        return  # the usual case: already up to date
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and ApiKey.__tablename__ in tables:
        # Made by create_all() before migrations existed: that schema is revision 0001.
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")


def migrate(engine: Engine) -> None:
    """Upgrade the database behind `engine` to the newest schema (what `Store()` does on open).

    Stores opening one new database at once migrate it once: PostgreSQL runs the upgrade in one
    transaction under an advisory lock; SQLite under `BEGIN IMMEDIATE`, which holds the file's
    write lock until the commit. Alembic's `context`/`op` are process-wide proxies, so within
    one process migrations also take turns on a thread lock.
    """
    with _MIGRATION_THREAD_LOCK, engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        elif engine.dialect.name == "sqlite":
            # pysqlite would only BEGIN before the first INSERT; take the write lock now.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        _migrate(connection)


def _create_private(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (it holds customer text and key
    hashes); SQLite gives its -wal and -shm files the same mode. An existing file is left as
    it is."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise NarrowtuneError(f"cannot create the store at {path}: {error.strerror}") from error
    os.close(descriptor)


def _sqlite_engine(url: str) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        # The server calls the store from a thread pool; SQLite waits up to 30 s for a lock
        # instead of failing at once when two requests write together.
        connect_args={"check_same_thread": False, "timeout": 30},
        # An in-memory database lives in one connection; every session must share it.
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers (the review pages, exports) never block the writer (the predict path).
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


class Store:
    """One database: keys, predictions, review items and decisions. Thread-safe to share."""

    def __init__(self, url: str | Path | None = None) -> None:
        self.url = resolve_url(url)
        if self.url.startswith("sqlite"):
            database = self.url.split("///", 1)[1] if "///" in self.url else ""
            if database and database != ":memory:":
                parent = Path(database).parent
                if not parent.is_dir():
                    raise NarrowtuneError(
                        f"cannot open the store at {database}: folder {parent} does not exist"
                    )
                _create_private(Path(database))
            self.engine = _sqlite_engine(self.url)
        else:
            try:
                self.engine = create_engine(self.url, pool_pre_ping=True)
            except Exception as error:  # bad URL or missing driver: say which
                raise NarrowtuneError(
                    f"cannot open the store at {_shown(self.url)}: {error}"
                ) from error
        try:
            migrate(self.engine)
        except OperationalError as error:  # server down, wrong password, no such database
            self.engine.dispose()
            raise NarrowtuneError(
                f"cannot open the store at {_shown(self.url)}: {error.orig}"
            ) from error
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # -- API keys ---------------------------------------------------------------------------

    def create_key(self, name: str, scopes: Sequence[str] = ("predict",)) -> str:
        """Create a key named `name` allowed `scopes` (from SCOPES; by default only
        `predict`) and return it in clear: the only time it is ever shown."""
        name = name.strip()
        if not name:
            raise NarrowtuneError("a key needs a name (who or what will use it)")
        if len(name) > 200:
            raise NarrowtuneError(f"a key name has at most 200 characters, not {len(name)}")
        refuse_nul("key name", name)
        chosen = check_scopes(scopes)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._transaction() as session:
            active = session.scalar(
                select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked.is_(None))
            )
            if active is not None:
                raise NarrowtuneError(
                    f"an active key named '{name}' already exists; revoke it first or pick "
                    "another name"
                )
            session.add(ApiKey(name=name, key_hash=hash_text(key), scopes=",".join(chosen)))
        return key

    def key_info(self, key: str) -> KeyInfo | None:
        """The name and scopes of `key` when it is an active key, else None (see check_key)."""
        if not key:
            return None
        digest = hash_text(key)
        with self._sessions() as session:
            row = session.execute(
                select(ApiKey.name, ApiKey.key_hash, ApiKey.scopes).where(
                    ApiKey.key_hash == digest, ApiKey.revoked.is_(None)
                )
            ).first()
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        return KeyInfo(row.name, frozenset(_scope_list(row.scopes)))

    # -- review-page sessions ----------------------------------------------------------------

    def start_session(self, key: str, *, hours: float = SESSION_HOURS) -> tuple[str, KeyInfo]:
        """Sign a browser in with `key` (which needs the `review` scope): a new session's token
        (shown once, stored hashed) and the key's info. NarrowtuneError when the key is not an
        active key with that scope."""
        info = self.key_info(key)
        if info is None or "review" not in info.scopes:
            raise NarrowtuneError("not an active API key with the 'review' scope")
        token = secrets.token_urlsafe(32)
        now = _now()
        with self._transaction() as session:
            key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_text(key)))
            session.add(
                ReviewSession(
                    token_hash=hash_text(token),
                    csrf=secrets.token_urlsafe(24),
                    key_id=key_id,
                    created=now,
                    expires=now + timedelta(hours=hours),
                )
            )
        return token, info

    def session_info(self, token: str) -> SessionInfo | None:
        """The live session of `token` (not ended, not expired, its key still active and still
        allowed to review), else None."""
        if not token:
            return None
        with self._sessions() as session:
            row = session.execute(
                select(ReviewSession.csrf, ReviewSession.expires, ApiKey.name, ApiKey.scopes)
                .join(ApiKey, ApiKey.id == ReviewSession.key_id)
                .where(
                    ReviewSession.token_hash == hash_text(token),
                    ReviewSession.ended.is_(None),
                    ApiKey.revoked.is_(None),
                )
            ).first()
        if row is None or _aware(row.expires) <= _now():
            return None
        if "review" not in _scope_list(row.scopes):
            return None
        return SessionInfo(row.name, row.csrf)

    def end_session(self, token: str) -> None:
        """Sign the session of `token` out (nothing happens for an unknown token)."""
        if not token:
            return
        with self._transaction() as session:
            session.execute(
                update(ReviewSession)
                .where(ReviewSession.token_hash == hash_text(token), ReviewSession.ended.is_(None))
                .values(ended=_now())
            )

    def check_key(self, key: str) -> bool:
        """True when `key` is an active key.

        The lookup is by the key's sha256, so timing can reveal at most something about a hash,
        never about the key; the final comparison is constant-time all the same.
        """
        return self.key_info(key) is not None

    def list_keys(self) -> list[dict[str, Any]]:
        """Every key's name, scopes and dates (never the key or its hash), oldest first."""
        with self._sessions() as session:
            rows = session.scalars(select(ApiKey).order_by(ApiKey.id)).all()
        return [
            {
                "name": r.name,
                "scopes": _scope_list(r.scopes),
                "created": _iso(r.created),
                "revoked": _iso(r.revoked),
            }
            for r in rows
        ]

    def revoke_key(self, name: str) -> None:
        """Revoke the active key named `name`; it stops working on the next request."""
        refuse_nul("key name", name)
        with self._transaction() as session:
            result = session.execute(
                update(ApiKey)
                .where(ApiKey.name == name, ApiKey.revoked.is_(None))
                .values(revoked=_now())
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NarrowtuneError(f"no active key named '{name}' (see `narrowtune keys list`)")

    # -- predictions ------------------------------------------------------------------------

    def record(
        self,
        predictions: Sequence[Mapping[str, Any]],
        *,
        texts: Sequence[str],
        model: str,
        request_id: str,
        latency_ms: float,
        task: str | None = None,
        kind: str | None = None,
        created: datetime | None = None,
    ) -> list[int]:
        """Store one request's predictions, and an open review item for each abstained one.

        One transaction per request: either every row of the request is committed or none is,
        so an acknowledged request is never half stored. `predictions` are dicts as
        `Prediction.to_dict()` writes them; `model` is the run id that answered, `task` the
        served model's name and `kind` its kind; `latency_ms` is the request's model time;
        `created` when the predictions were made (default: now; a replay or simulation sets it).
        Returns the prediction ids, in input order. Raises InvalidText (nothing stored) when
        a text or an output holds a NUL character.
        """
        request = Record(predictions, texts, model, request_id, latency_ms, task, kind, created)
        return self.record_many([request])[0]

    def record_many(self, requests: Sequence[Record]) -> list[list[int]]:
        """Store several requests' predictions in one transaction (a group commit: the server
        gathers the requests that finish together). All or nothing: on any error nothing is
        stored, so check each request first with `check_record`. The prediction ids of each
        request, in order."""
        for request in requests:
            check_record(request)
        now = _now()
        rows: list[dict[str, Any]] = []
        for r in requests:
            for given, pred in zip(r.texts, r.predictions, strict=True):
                rows.append(
                    {
                        "request_id": r.request_id,
                        "model": r.model,
                        "task": r.task,
                        "kind": r.kind,
                        "input_hash": hash_text(given),
                        "input_text": given,
                        "label": label_text(pred["label"]),
                        "output": dict(pred),
                        "confidence": float(pred["confidence"]),
                        "abstain": bool(pred["abstain"]),
                        "latency_ms": float(r.latency_ms),
                        "created": r.created or now,
                    }
                )
        if not rows:
            return [[] for _ in requests]
        with self._transaction() as session:
            inserted = session.execute(
                insert(PredictionRow).returning(
                    PredictionRow.id, PredictionRow.abstain, sort_by_parameter_order=True
                ),
                rows,
            ).all()
            queued = [{"prediction_id": i, "created": now} for i, abstain in inserted if abstain]
            if queued:
                session.execute(insert(ReviewItem), queued)
        ids = [i for i, _ in inserted]
        out: list[list[int]] = []
        start = 0
        for r in requests:
            out.append(ids[start : start + len(r.texts)])
            start += len(r.texts)
        return out

    def predictions(self, *, request_id: str | None = None, limit: int = 100) -> list[dict]:
        """Stored predictions, newest first; all of one request when `request_id` is given."""
        query = select(PredictionRow).order_by(PredictionRow.id.desc()).limit(limit)
        if request_id is not None:
            refuse_nul("request_id", request_id)
            query = query.where(PredictionRow.request_id == request_id)
        with self._sessions() as session:
            rows = session.scalars(query).all()
        return [
            {
                "id": r.id,
                "request_id": r.request_id,
                "model": r.model,
                "task": r.task,
                "kind": r.kind,
                "input_hash": r.input_hash,
                "text": r.input_text,
                "output": r.output,
                "confidence": r.confidence,
                "abstain": r.abstain,
                "latency_ms": r.latency_ms,
                "created": _iso(r.created),
            }
            for r in rows
        ]

    # -- review queue -----------------------------------------------------------------------

    @staticmethod
    def _queue_filters(
        label: str | None,
        include_escalated: bool,
        max_confidence: float | None,
        task: str | None,
    ) -> list[Any]:
        """WHERE clauses of the review queue under the given filters."""
        refuse_nul("label", label)
        refuse_nul("model", task)
        statuses = ("open", "escalated") if include_escalated else ("open",)
        clauses: list[Any] = [ReviewItem.status.in_(statuses)]
        if label is not None:
            clauses.append(PredictionRow.label == label)
        if max_confidence is not None:
            clauses.append(PredictionRow.confidence <= float(max_confidence))
        if task is not None:
            clauses.append(PredictionRow.task == task)
        return clauses

    @staticmethod
    def _review_dict(item: ReviewItem, pred: PredictionRow) -> dict[str, Any]:
        output = pred.output or {}
        return {
            "id": item.id,
            "status": item.status,
            "created": _iso(item.created),
            "prediction_id": pred.id,
            "request_id": pred.request_id,
            "model": pred.model,
            "task": pred.task,
            "kind": pred.kind,
            "text": pred.input_text,
            "label": output.get("label"),
            "confidence": pred.confidence,
            "scores": output.get("scores", {}),
            # Structured outputs (extract: a JSON object; generate: the text) and their checks.
            "output": output.get("output"),
            "valid": output.get("valid", True),
            "missing": output.get("missing", []),
            "problems": output.get("problems", []),
            # Moderation tasks: allow / block / review and what decided it.
            "outcome": output.get("outcome"),
            "reasons": output.get("reasons", []),
            # Per-field review (pipelines): the object and the fields a person must check.
            "fields": output.get("fields"),
            "check": output.get("check", []),
        }

    def _joined(self) -> Any:
        return select(ReviewItem, PredictionRow).join(
            PredictionRow, ReviewItem.prediction_id == PredictionRow.id
        )

    def open_reviews(
        self,
        limit: int = 50,
        label: str | None = None,
        *,
        include_escalated: bool = False,
        max_confidence: float | None = None,
        model: str | None = None,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Items waiting for a person, oldest first, filtered and paged in SQL.

        `label`: the predicted label (multi-label sets joined with '|'); `max_confidence`: at
        or under it; `model`: the served model's name (its task); `after`: only items with a
        larger id (the next page starts after the last id of this one).
        """
        query = (
            self._joined()
            .where(*self._queue_filters(label, include_escalated, max_confidence, model))
            .order_by(ReviewItem.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(ReviewItem.id > after)
        with self._sessions() as session:
            pairs = session.execute(query).all()
        return [self._review_dict(item, pred) for item, pred in pairs]

    def count_reviews(
        self,
        label: str | None = None,
        *,
        include_escalated: bool = False,
        max_confidence: float | None = None,
        model: str | None = None,
    ) -> int:
        """How many items `open_reviews` would list under these filters, without a limit."""
        query = (
            select(func.count())
            .select_from(ReviewItem)
            .join(PredictionRow, ReviewItem.prediction_id == PredictionRow.id)
            .where(*self._queue_filters(label, include_escalated, max_confidence, model))
        )
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    def _storable_id(self, item_id: int) -> bool:
        """Whether `item_id` fits the id column: 32-bit on PostgreSQL, 64-bit on SQLite.

        A bigger id cannot exist; asking the database anyway fails with an overflow error.
        """
        return 1 <= item_id <= self._id_limit()

    def _id_limit(self) -> int:
        return 2**31 - 1 if self.engine.dialect.name == "postgresql" else 2**63 - 1

    def review_item(self, item_id: int) -> dict[str, Any] | None:
        """One review item with its prediction, whatever its status; None when there is none."""
        if not self._storable_id(item_id):
            return None
        query = self._joined().where(ReviewItem.id == item_id)
        with self._sessions() as session:
            pair = session.execute(query).first()
        return None if pair is None else self._review_dict(pair[0], pair[1])

    def adjacent_reviews(
        self,
        item_id: int,
        label: str | None = None,
        *,
        include_escalated: bool = False,
        max_confidence: float | None = None,
        model: str | None = None,
    ) -> tuple[int | None, int | None]:
        """The ids of the queued items just before and just after `item_id` under the filters."""
        clauses = self._queue_filters(label, include_escalated, max_confidence, model)
        base = (
            select(ReviewItem.id)
            .join(PredictionRow, ReviewItem.prediction_id == PredictionRow.id)
            .where(*clauses)
            .limit(1)
        )
        limit = self._id_limit()
        # Ids outside the column's range (a hand-typed URL) compare with its ends instead.
        below = base.where(ReviewItem.id < item_id if item_id <= limit else ReviewItem.id <= limit)
        above = base.where(ReviewItem.id > item_id if item_id >= 1 else ReviewItem.id >= 1)
        with self._sessions() as session:
            before = None if item_id < 1 else session.scalar(below.order_by(ReviewItem.id.desc()))
            after = None if item_id >= limit else session.scalar(above.order_by(ReviewItem.id))
        return before, after

    def decide(self, item_id: int, reviewer: str, action: str, label: Any = None) -> dict[str, Any]:
        """Record a reviewer's decision on a review item and move it on.

        `accept` keeps the model's label, `correct` replaces it (a label is required),
        `escalate` hands the item to someone else (it stays in the queue as escalated, and a
        later accept/correct settles it). Accepted and corrected items are final.
        """
        if action not in ACTIONS:
            raise NarrowtuneError(
                f"unknown review action '{action}'; use one of: {', '.join(ACTIONS)}"
            )
        reviewer = (reviewer or "").strip()
        if not reviewer:
            raise NarrowtuneError("a decision needs the reviewer's name")
        if action == "correct" and (label is None or label == "" or label == []):
            raise NarrowtuneError("'correct' needs the right label (pass label=...)")
        if action != "correct":
            label = None
        refuse_nul("reviewer", reviewer)
        refuse_nul("label", label)
        with self._transaction() as session:
            item = session.get(ReviewItem, item_id) if self._storable_id(item_id) else None
            if item is None:
                raise ReviewNotFound(f"no review item {item_id}")
            # A conditional update, so two reviewers deciding at once cannot both win.
            result = session.execute(
                update(ReviewItem)
                .where(ReviewItem.id == item_id, ReviewItem.status.in_(DECIDABLE[action]))
                .values(status=STATUS_AFTER[action])
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                # Read the status again: the winner of a race committed it after our first read.
                status = session.scalar(select(ReviewItem.status).where(ReviewItem.id == item_id))
                raise ReviewConflict(
                    f"review item {item_id} is already {status}; "
                    f"'{action}' applies only to {' or '.join(DECIDABLE[action])} items"
                )
            decision = Decision(
                review_item_id=item_id, reviewer=reviewer, action=action, label=label
            )
            session.add(decision)
            session.flush()
            return {
                "id": decision.id,
                "review_item_id": item_id,
                "status": STATUS_AFTER[action],
                "reviewer": reviewer,
                "action": action,
                "label": label,
                "created": _iso(decision.created),
            }

    def queue_reviews(self, prediction_ids: Sequence[int]) -> int:
        """Put stored predictions in the review queue (a spot check of confident answers, on
        top of the abstained ones `record` queues); ids already queued are skipped. Returns how
        many were added."""
        wanted = sorted({int(i) for i in prediction_ids})
        if not wanted:
            return 0
        with self._transaction() as session:
            queued = set(
                session.scalars(
                    select(ReviewItem.prediction_id).where(ReviewItem.prediction_id.in_(wanted))
                ).all()
            )
            known = set(
                session.scalars(select(PredictionRow.id).where(PredictionRow.id.in_(wanted))).all()
            )
            missing = [i for i in wanted if i not in known]
            if missing:
                raise NarrowtuneError(f"no stored prediction {missing[0]}; nothing queued")
            rows = [{"prediction_id": i, "created": _now()} for i in wanted if i not in queued]
            if rows:
                session.execute(insert(ReviewItem), rows)
        return len(rows)

    def export_feedback(self) -> list[dict[str, Any]]:
        """Reviewed examples as training data: the text and its final (human-checked) label.

        Accepted items keep the model's label, corrected ones the reviewer's; escalated and
        open items have no final label yet and are left out.
        """
        query = (
            select(Decision, PredictionRow)
            .join(ReviewItem, Decision.review_item_id == ReviewItem.id)
            .join(PredictionRow, ReviewItem.prediction_id == PredictionRow.id)
            .where(Decision.action.in_(("accept", "correct")))
            .order_by(Decision.id)
        )
        with self._sessions() as session:
            pairs = session.execute(query).all()
        return [
            {
                "text": pred.input_text,
                "label": decision.label if decision.action == "correct" else pred.output["label"],
                "predicted": pred.output["label"],
                "action": decision.action,
                "reviewer": decision.reviewer,
                "model": pred.model,
                "task": pred.task,
                "kind": pred.kind,
                # A structured output (extract: the JSON object; generate: the text), if any.
                "output": (pred.output or {}).get("output"),
                "prediction_id": pred.id,
                "predicted_at": _iso(pred.created),
                "decided": _iso(decision.created),
            }
            for decision, pred in pairs
        ]

    # -- monitoring and the model registry ----------------------------------------------------

    def task_counts(self) -> dict[str | None, int]:
        """How many predictions the store holds per task (None: rows older than revision 0002)."""
        query = select(PredictionRow.task, func.count()).group_by(PredictionRow.task)
        with self._sessions() as session:
            return {task: int(n) for task, n in session.execute(query).all()}

    def prediction_window(
        self, task: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The predictions of `task` made at or after `since` and before `until`, oldest first:
        id, text, label, confidence, abstain, model (the run id) and created."""
        refuse_nul("task", task)
        query = select(PredictionRow).where(PredictionRow.task == task).order_by(PredictionRow.id)
        if since is not None:
            query = query.where(PredictionRow.created >= since)
        if until is not None:
            query = query.where(PredictionRow.created < until)
        with self._sessions() as session:
            rows = session.scalars(query).all()
        return [
            {
                "id": r.id,
                "text": r.input_text,
                "label": r.label,
                "confidence": r.confidence,
                "abstain": r.abstain,
                "model": r.model,
                "created": _aware(r.created),
            }
            for r in rows
        ]

    def record_event(
        self,
        task: str,
        action: str,
        *,
        run_id: str | None,
        previous_run_id: str | None,
        reason: str,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add one decision to the model registry and return it as stored."""
        refuse_nul("reason", reason)
        refuse_nul("details", details)
        with self._transaction() as session:
            event = RegistryEvent(
                task=task,
                action=action,
                run_id=run_id,
                previous_run_id=previous_run_id,
                reason=reason,
                details=dict(details) if details is not None else None,
            )
            session.add(event)
            session.flush()
            return self._event_dict(event)

    @staticmethod
    def _event_dict(event: RegistryEvent) -> dict[str, Any]:
        return {
            "id": event.id,
            "task": event.task,
            "action": event.action,
            "run_id": event.run_id,
            "previous_run_id": event.previous_run_id,
            "reason": event.reason,
            "details": event.details,
            "created": _iso(event.created),
        }

    def registry_events(self, task: str) -> list[dict[str, Any]]:
        """Every registry decision about `task`, oldest first."""
        refuse_nul("task", task)
        query = select(RegistryEvent).where(RegistryEvent.task == task).order_by(RegistryEvent.id)
        with self._sessions() as session:
            return [self._event_dict(e) for e in session.scalars(query).all()]

    # -- pipeline traces --------------------------------------------------------------------

    def record_trace(self, result: Mapping[str, Any], *, review_text: str) -> dict[str, Any]:
        """Store one pipeline case (`CaseResult.to_dict()`); an escalated case also becomes a
        prediction row with an open review item (the reviewer reads `review_text`, the
        pipeline's outputs and the reason). One transaction: all of it or nothing. Returns the
        trace's id, its prediction id and review item id (None when answered)."""
        for name in ("trace_id", "pipeline", "status", "reason", "inputs", "outputs", "steps"):
            refuse_nul(name, result.get(name))
        refuse_nul("route", result.get("route"))
        refuse_nul("review", result.get("review"))
        refuse_nul("review_text", review_text)
        escalated = result["status"] == "escalated"
        now = _now()
        with self._transaction() as session:
            prediction_id = item_id = None
            if escalated:
                confidences = [
                    s["confidence"] for s in result["steps"] if s.get("confidence") is not None
                ]
                output = {
                    "label": "escalated",
                    "confidence": float(min(confidences)) if confidences else 0.0,
                    "abstain": True,
                    "output": result["outputs"],
                    "problems": [result["reason"]],
                    "reasons": [result["reason"]],
                    "trace_id": result["trace_id"],
                    "pipeline": result["pipeline"],
                }
                review = result.get("review") or {}
                if isinstance(review.get("fields"), Mapping):
                    output["fields"] = dict(review["fields"])
                    output["check"] = list(review.get("check") or [])
                row = PredictionRow(
                    request_id=result["trace_id"],
                    model=f"pipeline:{result['pipeline']}",
                    task=result["pipeline"],
                    kind="pipeline",
                    input_hash=hash_text(review_text),
                    input_text=review_text,
                    label="escalated",
                    output=output,
                    confidence=output["confidence"],
                    abstain=True,
                    latency_ms=float(result["latency_ms"]),
                    created=now,
                )
                session.add(row)
                session.flush()
                item = ReviewItem(prediction_id=row.id, created=now)
                session.add(item)
                session.flush()
                prediction_id, item_id = row.id, item.id
            session.add(
                PipelineTrace(
                    trace_id=result["trace_id"],
                    pipeline=result["pipeline"],
                    status=result["status"],
                    route=result.get("route"),
                    reason=result["reason"],
                    inputs=result["inputs"],
                    outputs=result["outputs"],
                    steps=result["steps"],
                    latency_ms=float(result["latency_ms"]),
                    prediction_id=prediction_id,
                    created=now,
                )
            )
        return {
            "trace_id": result["trace_id"],
            "prediction_id": prediction_id,
            "review_item_id": item_id,
        }

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """A stored trace with its review: the item's status and every decision on it."""
        refuse_nul("trace_id", trace_id)
        with self._sessions() as session:
            row = session.scalar(select(PipelineTrace).where(PipelineTrace.trace_id == trace_id))
            if row is None:
                return None
            review = None
            if row.prediction_id is not None:
                item = session.scalar(
                    select(ReviewItem).where(ReviewItem.prediction_id == row.prediction_id)
                )
                if item is not None:
                    decisions = session.scalars(
                        select(Decision)
                        .where(Decision.review_item_id == item.id)
                        .order_by(Decision.id)
                    ).all()
                    review = {
                        "id": item.id,
                        "status": item.status,
                        "decisions": [
                            {
                                "reviewer": d.reviewer,
                                "action": d.action,
                                "label": d.label,
                                "created": _iso(d.created),
                            }
                            for d in decisions
                        ],
                    }
            return {
                "trace_id": row.trace_id,
                "pipeline": row.pipeline,
                "status": row.status,
                "route": row.route,
                "reason": row.reason,
                "inputs": row.inputs,
                "outputs": row.outputs,
                "steps": row.steps,
                "latency_ms": row.latency_ms,
                "prediction_id": row.prediction_id,
                "created": _iso(row.created),
                "review": review,
            }

    def traces(self, pipeline: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest traces (of one pipeline when named): id, status, route, reason, created."""
        refuse_nul("pipeline", pipeline)
        query = select(PipelineTrace).order_by(PipelineTrace.id.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(PipelineTrace.pipeline == pipeline)
        with self._sessions() as session:
            rows = session.scalars(query).all()
        return [
            {
                "trace_id": r.trace_id,
                "pipeline": r.pipeline,
                "status": r.status,
                "route": r.route,
                "reason": r.reason,
                "latency_ms": r.latency_ms,
                "created": _iso(r.created),
            }
            for r in rows
        ]
