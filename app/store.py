"""State in SQLite: the tables (SQLModel) and one serialised connection in WAL mode.

The schema is declared with SQLModel; queries go straight to the DB-API connection because an ORM
session per request costs more than the whole request budget of the hot path (see bench/).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, create_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, SQLModel


class App(SQLModel, table=True):
    __tablename__ = "apps"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    token: str = Field(unique=True)
    background: bool = True
    fallback: bool = True
    ratelimit: bool = True
    collapse: bool = False
    sound: bool = False
    forceprod: bool = False
    iosfcm: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None
    debug_start: float | None = None
    debug_end: float | None = None
    created: float


class Credential(SQLModel, table=True):
    """Parsed credential metadata. The private key itself is never stored: only its fingerprint."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("app_id", "platform", "bundle", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int = Field(index=True)
    platform: str
    bundle: str = ""
    source: str
    project_id: str | None = None
    client_email: str | None = None
    sandbox: bool = False
    production: bool = False
    expiry: float | None = None
    topics: str = "[]"
    team_id: str | None = None
    key_fingerprint: str
    filename: str | None = None
    uploaded: float


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("app_id", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    address: str
    name: str = ""
    access_token: str
    appid: str | None = None
    expiry_minutes: int | None = None
    created: float


class Device(SQLModel, table=True):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("app_id", "push_token"), Index("ix_devices_user", "app_id", "address"))
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    user_id: int
    address: str
    platform: str
    appid: str
    push_token: str
    voip: bool = False
    sandbox: bool = False
    responds: bool = True
    invalid_reason: str | None = None
    last_sent: float | None = None
    created: float


class Push(SQLModel, table=True):
    __tablename__ = "pushes"
    __table_args__ = (
        Index("ix_pushes_app", "app_token", "id"),
        Index("ix_pushes_address", "address", "id"),
        Index("ix_pushes_status", "status", "id"),
        Index("ix_pushes_service", "service", "id"),
        Index("ix_pushes_kind", "kind", "id"),
        Index("ix_pushes_push_token", "push_token", "id"),
        Index("ix_pushes_fallback", "fallback_due"),
        {"sqlite_autoincrement": True},  # ids only grow, even after records are cleared
    )
    id: int | None = Field(default=None, primary_key=True)
    ts: float
    app_token: str
    app_name: str
    address: str
    device_id: int
    push_token: str
    platform: str
    service: str
    push_type: str
    kind: str
    status: str
    reason: str | None = None
    debug: bool = False
    request: str | None = Field(default=None, sa_column=Column(Text))
    response: str | None = Field(default=None, sa_column=Column(Text))
    acked: bool = False
    fallback_due: float | None = None


class TestPush(SQLModel, table=True):
    """History of accepted pushtest calls: the rolling window of the test-push limit."""

    __tablename__ = "testpushes"
    __table_args__ = (Index("ix_testpushes_app", "app_id", "ts"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    ts: float


class Fault(SQLModel, table=True):
    __tablename__ = "faults"
    id: int | None = Field(default=None, primary_key=True)
    app_token: str | None = None
    address: str | None = None
    push_token: str | None = None
    error: str
    service: str
    remaining: int | None = None
    created: float


class WebhookJob(SQLModel, table=True):
    """A webhook delivery still owed; it outlives a restart."""

    __tablename__ = "webhook_jobs"
    id: int | None = Field(default=None, primary_key=True)
    app_token: str
    push_id: int
    url: str
    payload: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = 0
    next_at: float = Field(index=True)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_attempts_app", "app_token", "id"), Index("ix_attempts_push", "push_id"))
    id: int | None = Field(default=None, primary_key=True)
    app_token: str
    push_id: int
    url: str
    attempt: int
    status_code: int | None = None
    error: str | None = None
    duration_ms: float
    ok: bool
    ts: float


WIPE_ORDER = [
    m.__tablename__
    for m in (WebhookAttempt, WebhookJob, Fault, TestPush, Push, Device, User, Credential, App)
]


class StoreError(Exception):
    """The database cannot be opened or written."""


class Store:
    """One SQLite connection shared by the process; a lock makes every transaction atomic."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        memory = path == ":memory:"
        try:
            if not memory:
                _create_private(path)
            self.conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, cached_statements=256
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA busy_timeout=5000")
            if not memory:
                mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"cannot use the WAL journal on {path} (got {mode})")
            # NORMAL in WAL mode: a commit is in the WAL file before we answer, so a killed
            # process loses nothing; only a power cut could drop the last commits.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            engine = create_engine("sqlite://", creator=lambda: self.conn, poolclass=StaticPool)
            SQLModel.metadata.create_all(engine)
            if not memory:
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                _tighten_companions(path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested uses join the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def one(self, sql: str, args: tuple | list = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def run(self, sql: str, args: tuple | list = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, args)

    def insert(self, table: str, values: dict[str, Any]) -> int:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.lock:
            cur = self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(values.values()))
            return int(cur.lastrowid)

    def update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.lock:
            self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values.values(), row_id])

    def wipe(self) -> None:
        with self.tx() as conn:
            for table in WIPE_ORDER:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence")  # a reset starts the numbering again

    def close(self) -> None:
        with self.lock:
            try:
                if self.path != ":memory:":
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self.conn.close()


def _create_private(path: str) -> None:
    """Create the database file with mode 0600 before SQLite does: it holds credentials."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise StoreError(f"cannot open database {path}: directory {directory} does not exist")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _tighten_companions(path: str) -> None:
    for suffix in ("-wal", "-shm"):
        companion = path + suffix
        if os.path.exists(companion):
            os.chmod(companion, 0o600)


def where(filters: dict[str, Any], *extra: tuple[str, Any]) -> tuple[str, list]:
    """Equality filters (None means "any") plus extra (condition, value) pairs -> ' WHERE ...', args."""
    conditions = [(f"{column} = ?", value) for column, value in filters.items() if value is not None]
    conditions += [(sql, value) for sql, value in extra if value is not None]
    if not conditions:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in conditions), [value for _, value in conditions]


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
