"""The tables, declared with SQLModel: the one definition of the schema.

The server does not import this module at start-up (SQLAlchemy alone would double the start-up
time): it runs `schema.sql`, which is generated from these models by `python -m mesibo_mock.store.tables` and
checked against them by tests/unit/test_schema.py.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Index, Text, UniqueConstraint, create_engine, text
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Field, SQLModel

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.sql"


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
    # AUTOINCREMENT: a uid is never given again after its user is deleted, as on Mesibo
    __table_args__ = (UniqueConstraint("app_id", "address"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)  # the uid
    app_id: int
    address: str
    name: str = ""
    active: bool = True
    flag: int = 0
    profile: str | None = None  # JSON object
    online: bool = False
    lastonline: float | None = None
    created: float


class UserToken(SQLModel, table=True):
    """An access token issued to a user for one app id (useradd / usertoken)."""

    __tablename__ = "user_tokens"
    __table_args__ = (Index("ix_user_tokens_user", "user_id", "appid"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    user_id: int
    appid: str
    token: str
    expires: float
    created: float


class Group(SQLModel, table=True):
    __tablename__ = "groups"
    __table_args__ = (Index("ix_groups_app", "app_id", "id"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)  # the gid
    app_id: int
    name: str = ""
    flag: int = 0
    active: bool = True
    expiry: int | None = None
    profile: str | None = None  # JSON object
    created: float


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        Index("ix_group_members_user", "user_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    group_id: int
    user_id: int
    cs: bool = True  # can send
    cr: bool = True  # can receive
    created: float


class Message(SQLModel, table=True):
    """A message sent through the backend API, kept so that tests can read what was sent."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_app", "app_token", "id"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)  # the mid
    ts: float
    app_id: int
    app_token: str
    from_address: str
    to_address: str | None = None
    gid: int | None = None
    type: int = 0
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    title: str | None = None
    url: str | None = None
    expiry: int | None = None
    flag: int = 0


class Otp(SQLModel, table=True):
    __tablename__ = "otps"
    __table_args__ = (Index("ix_otps_app", "app_id", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    address: str
    code: str
    tries: int
    expires: float
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
        # Fallbacks are the rare kind (each follows a test push), so only they are indexed: a
        # query for kind=test finds its matches at once in id order. Every index costs ~5% of
        # pushtest throughput (bench/).
        Index("ix_pushes_fallbacks", "id", sqlite_where=text("kind = 'fallback'")),
        Index("ix_pushes_push_token", "push_token", "id"),
        # Only pending fallbacks are indexed: nearly every row has none. No index on `service`
        # either: with two values, walking the id order finds matches as fast as an index would.
        Index("ix_pushes_fallback", "fallback_due", sqlite_where=text("fallback_due IS NOT NULL")),
        # Only message pushes carry a mid: the index costs test pushes nothing.
        Index("ix_pushes_mid", "mid", sqlite_where=text("mid IS NOT NULL")),
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
    mid: int | None = None  # the message that caused it
    follows: int | None = None  # a fallback: the push it follows
    injected: bool = False  # failed by a fault injected through /_mock/faults


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
    claimed_until: float | None = None  # wall-clock time: an attempt is under way until then


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


def generate_schema_sql() -> str:
    """The DDL of every table and index, made idempotent, in dependency order."""
    engine = create_engine("sqlite://")
    statements = []
    for table in SQLModel.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(engine)).strip()
        statements.append(ddl.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1) + ";")
        for index in sorted(table.indexes, key=lambda i: i.name):
            ddl = str(CreateIndex(index).compile(engine)).strip()
            ddl = ddl.replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1)
            statements.append(ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1) + ";")
    head = "-- Generated from app/mesibo_mock/store/tables.py by `python -m mesibo_mock.store.tables`; do not edit by hand.\n"
    return head + "\n\n".join(statements) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(generate_schema_sql())
    print(f"wrote {SCHEMA_FILE}")
