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


def stored(default):
    """A column whose default is in the schema too, not only in Python: the store writes with plain SQL,
    and an upgraded store gets the column with this value in every old row."""
    sql = (
        ("1" if default else "0")
        if isinstance(default, bool)
        else repr(default)
        if isinstance(default, int)
        else f"'{default}'"
    )
    return Field(default=default, sa_column_kwargs={"server_default": text(sql)})


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
    webhook_events: str = stored("push,message,user")  # the kinds of event the webhook wants
    webhook_seq: int = stored(0)  # the `id` of the app's last webhook POST
    debug_start: float | None = None
    debug_end: float | None = None
    # Why the app is disabled (TOKENBREACH: its token was used from too many source addresses); null if not
    disabled: str | None = None
    created: float


class AppSource(SQLModel, table=True):
    """A source address an app's backend calls came from (Mesibo counts them: `insert into ips`)."""

    __tablename__ = "app_sources"
    __table_args__ = (UniqueConstraint("app_id", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    address: str
    first_seen: float


class Uac(SQLModel, table=True):
    """A User Access Control set (uacset), kept whole as Mesibo's `uac.sh` sends it."""

    __tablename__ = "uacs"
    __table_args__ = (UniqueConstraint("app_id", "uac_id"),)
    id: int | None = Field(default=None, primary_key=True)
    app_id: int
    uac_id: int  # the id the caller gave (or the next free one)
    name: str = ""
    body: str = Field(sa_column=Column(Text, nullable=False))  # the uac object, JSON
    created: float
    updated: float


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
    # An offline-message event was sent since the user was last online: no other until it comes online.
    offline_notified: bool = stored(False)
    uac: int | None = None  # the UAC assigned (uacs.uac_id), if any
    # Fields Mesibo reads that the emulator keeps without acting on (permissions, validity, ...): JSON
    extras: str | None = None
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
    extras: str | None = None  # the token's platform keys as given (android, ios, package, ...): JSON
    created: float


class Group(SQLModel, table=True):
    __tablename__ = "groups"
    __table_args__ = (Index("ix_groups_app", "app_id", "id"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)  # the gid
    app_id: int
    name: str = ""
    flag: int = 0
    active: bool = True
    expiry: int | None = None  # seconds, as last given (default one year)
    expiryext: int | None = None  # seconds the expiry moves on with activity (kept, not applied)
    profile: str | None = None  # JSON object
    # When the group expires (epoch seconds): set to now + expiry by groupadd, and by groupset with an
    # expiry [real: the binary adds it to unix_timestamp()]; past it the group answers as unknown.
    ets: float | None = None
    rr_last: int | None = None  # flag 0x20: the membership (group_members.id) the last message went to
    extras: str | None = None  # fields Mesibo reads, kept without acting on them (permissions, ...): JSON
    created: float


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        Index("ix_group_members_user", "user_id"),
        # members in the order they joined: a large group's delivery walks it a batch at a time
        Index("ix_group_members_order", "group_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    group_id: int
    user_id: int
    cs: bool = True  # can send
    cr: bool = True  # can receive
    canpub: bool = stored(True)  # may publish (a group call's stream)
    cansub: bool = stored(True)  # may subscribe
    canlist: bool = stored(True)  # may list the members
    # admin rights, a bit each in ADMIN_RIGHTS order (owner, modify, remove, adduser, remuser, addadmin,
    # remadmin, remowner) [real: the binary's `gadms` rows]
    admin: int = stored(0)
    created: float


class Message(SQLModel, table=True):
    """A message sent through the backend API, kept so that tests can read what was sent."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_app", "app_token", "id"),
        # Only messages whose delivery is still owed (scheduled, or a large group under way): few rows.
        Index("ix_messages_pending", "ts", sqlite_where=text("pending")),
        {"sqlite_autoincrement": True},
    )
    id: int | None = Field(default=None, primary_key=True)  # the mid
    ts: float  # when it is delivered: the send time, or later with `when`
    app_id: int
    app_token: str
    from_address: str
    to_list: str | None = None  # JSON list of the addresses in `to`; null for a group message
    gid: int | None = None
    type: int = 0
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    title: str | None = None
    url: str | None = None
    expiry: int = stored(31536000)  # seconds; 0: real time only (online recipients)
    flag: int = stored(0)
    scheduled: bool = stored(False)  # waiting for its time (`when`)
    pending: bool = stored(False)  # delivery still owed: scheduled, or a large group not yet done
    cursor: int | None = None  # a large group: the last membership (group_members.id) delivered to
    # a group message: the newest membership when it was sent; members who joined after (a member
    # removed and added again included) are not its recipients
    last_member: int | None = None
    skipped: str = stored("[]")  # JSON list: addresses in `to` that are not active users of the app


class MessageRecipient(SQLModel, table=True):
    """Who a message reached: one row per recipient, with whether it was online then."""

    __tablename__ = "message_recipients"
    __table_args__ = (Index("ix_recipients_mid", "mid", "id"), Index("ix_recipients_app", "app_token", "id"))
    id: int | None = Field(default=None, primary_key=True)
    mid: int
    app_token: str
    address: str
    online: bool


class MessageTally(SQLModel, table=True):
    """What became of a message, counted as it is written: its recipients (online, offline), its pushes
    by status, its fallbacks, its webhook events by type and their attempts (ok, failed), with the first
    and last time of each. A timeline of a message to 250,000 members reads these few rows, not every
    recipient, push and event."""

    __tablename__ = "message_tallies"
    __table_args__ = (Index("ix_tallies_app", "app_token", "mid"),)
    mid: int = Field(primary_key=True)
    kind: str = Field(primary_key=True)  # recipients, pushes, fallbacks, events, attempts
    part: str = Field(primary_key=True)  # online/offline; a push's status; an event's type; ok/failed
    app_token: str
    n: int
    first: float
    last: float


class Otp(SQLModel, table=True):
    __tablename__ = "otps"
    __table_args__ = (Index("ix_otps_app", "app_id", "address"), Index("ix_otps_recent", "app_id", "id"))
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
        # Fallbacks are the rare kind (each follows a test push), so only they are indexed: a
        # query for kind=test finds its matches at once in id order. Every index costs ~5-10% of
        # pushtest throughput (bench/), so `status` (three values) and `push_token` (nearly always
        # asked with its address, or of a few records) have none: walking the id order, newest
        # first, finds a page of matches among the records retention keeps.
        Index("ix_pushes_fallbacks", "id", sqlite_where=text("kind = 'fallback'")),
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


class BackendFault(SQLModel, table=True):
    """A fault of the backend API itself (SPEC section 6): the next `remaining` calls that match answer
    with an error row, a bare HTTP status, or only after a delay."""

    __tablename__ = "backend_faults"
    id: int | None = Field(default=None, primary_key=True)
    op: str | None = None
    app_token: str | None = None
    error: str | None = None  # a row of the error table, by its name
    http: int | None = None  # 500, 502, 503 or 504
    delay: float | None = None  # seconds
    remaining: int | None = None  # null: until removed
    created: float


class JournalEntry(SQLModel, table=True):
    """One call to the backend paths, as the request journal shows it (SPEC section 6). Written on the
    hot path, so it is kept lean: no AUTOINCREMENT, and the app is indexed by its number, not its token."""

    __tablename__ = "journal"
    __table_args__ = (
        Index("ix_journal_app", "app_id", "id"),
        # Only calls that sent a message carry one: a message's timeline finds its call at once.
        Index("ix_journal_mid", "mid", sqlite_where=text("mid IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    ts: float
    app_id: int | None = None  # null: no app was named (a refused token, a body that could not be read)
    app_token: str | None = None
    op: str | None = None
    encoding: str
    path: str
    user_agent: str = ""
    fields: str = Field(sa_column=Column(Text, nullable=False))  # JSON, token and file contents redacted
    answer: str = Field(sa_column=Column(Text, nullable=False))  # JSON: the envelope as sent
    result: bool
    diagnosis: str = stored("[]")  # JSON list of notes
    diagnosed: bool = stored(False)  # whether the diagnosis names a mistake, refusal or skip
    pushes: str = stored("[]")  # JSON list of push record ids
    mid: int | None = None
    fault: bool = stored(False)
    size: int = stored(0)  # bytes of what it keeps (fields, answer, diagnosis): the journal's byte bound


class WebhookDelivery(SQLModel, table=True):
    """One POST to an app's webhook, carrying the events of one request or one timer round. Owed until
    `next_at` is null; it outlives a restart, and stays afterwards as history (retention bounds it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_deliveries_app", "app_token", "id"),
        # Only deliveries still owed: the scheduler's queue.
        Index("ix_deliveries_due", "app_token", "next_at", sqlite_where=text("next_at IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    app_token: str
    seq: int  # the envelope's `id`: grows with each POST to the app
    url: str
    payload: str = Field(sa_column=Column(Text, nullable=False))
    event_count: int
    attempts: int = 0
    next_at: float | None = None  # emulator time of the next attempt; null once delivered or given up
    claimed_until: float | None = None  # wall-clock time: an attempt is under way until then
    state: str = "pending"  # pending | delivered | failed
    note: str | None = None  # what Mesibo's cloud would say of the URL (not https://)
    created: float


class WebhookEvent(SQLModel, table=True):
    """One event as it was sent: user, message or push (SPEC section 5), for GET /_mock/events."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_events_app", "app_token", "id"),
        Index("ix_events_delivery", "delivery_id"),
        Index("ix_events_push", "push_id", sqlite_where=text("push_id IS NOT NULL")),
        Index("ix_events_mid", "mid", sqlite_where=text("mid IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int
    app_token: str
    type: str  # user | message | push
    body: str = Field(sa_column=Column(Text, nullable=False))
    push_id: int | None = None
    mid: int | None = None  # the message it tells of (an offline message, a message's push): its timeline
    ts: float


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_attempts_app", "app_token", "id"),
        Index("ix_attempts_delivery", "delivery_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    app_token: str
    delivery_id: int
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
