"""The records a test reads and waits for, kept and queried in one place: push records (what the delivery
engine writes, what /_mock and the dashboard list), the request journal, and clearing either. The
dashboard, /_mock and the timeline read the same rows through the same functions (DESIGN.md, "One place
per rule")."""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Callable
from itertools import chain

from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import tallies
from mesibo_mock.store.db import where

# --- push records: written ---------------------------------------------------------------------------
PUSH_COLUMNS = (
    "ts",
    "app_token",
    "app_name",
    "address",
    "device_id",
    "push_token",
    "platform",
    "service",
    "push_type",
    "kind",
    "status",
    "reason",
    "debug",
    "request",
    "response",
    "acked",
    "fallback_due",
    "mid",
    "follows",
    "injected",
)
PUSH_VALUES = operator.itemgetter(*PUSH_COLUMNS)  # a record dict -> its row, in C
_ROW_MARKS = f"({', '.join('?' for _ in PUSH_COLUMNS)})"
INSERT_PUSH = f"INSERT INTO pushes ({', '.join(PUSH_COLUMNS)}) VALUES {_ROW_MARKS}"
# A round of a few pushes (a test push, a message to one user) is one statement: cheaper than
# executemany with its separate id lookup. Larger rounds (a group's fan-out) use executemany.
SMALL_ROUND = 8
INSERT_ROWS = [""] + [INSERT_PUSH + f", {_ROW_MARKS}" * (n - 1) for n in range(1, SMALL_ROUND + 1)]


def insert_pushes(conn: sqlite3.Connection | sqlite3.Cursor, app_token: str, records: list[dict]) -> int:
    """Insert push records in order, in the caller's transaction, and count a message's in its tallies;
    -> the id of the first (ids are consecutive: one connection under one lock)."""
    if len(records) <= SMALL_ROUND:
        values = list(chain.from_iterable(map(PUSH_VALUES, records)))  # every row's values, flat, in C
        last = conn.execute(INSERT_ROWS[len(records)], values).lastrowid
    else:
        conn.executemany(INSERT_PUSH, [PUSH_VALUES(record) for record in records])
        last = conn.execute("SELECT last_insert_rowid()").fetchall()[0][
            0
        ]  # read to its end: no statement left open
    if any(record["mid"] is not None for record in records):  # a message's: counted
        tallies.count(conn, app_token, _tally_items(records))
    return last - len(records) + 1


def _tally_items(records: list[dict]):
    for record in records:
        yield record["mid"], "pushes", record["status"], record["ts"]
        if record["kind"] == "fallback":
            yield record["mid"], "fallbacks", "fallback", record["ts"]


def mark_sent(conn: sqlite3.Connection | sqlite3.Cursor, device_ids: list[int], now: float) -> None:
    """The devices' last push time, read by the `ratelimit` throttle (so written only while it is on)."""
    marks = ", ".join("?" for _ in device_ids)
    conn.execute(f"UPDATE devices SET last_sent = ? WHERE id IN ({marks})", [now, *device_ids])


def mark_invalid(conn: sqlite3.Connection | sqlite3.Cursor, device_id: int, reason: str) -> None:
    """A device whose token the provider called dead (Unregistered, ExpiredToken, UNREGISTERED)."""
    conn.execute("UPDATE devices SET invalid_reason = ? WHERE id = ?", (reason, device_id))


def take_due_fallbacks(rt: Runtime, now: float, limit: int) -> list[sqlite3.Row]:
    """Up to `limit` + 1 background pushes whose fallback time has come, with their message and its
    sender's name; the first `limit` are taken (their fallback time cleared), in the caller's
    transaction."""
    due = rt.store.all(
        "SELECT p.id, p.app_token, p.device_id, p.mid, m.message, m.title, m.from_address, m.ts AS m_ts,"
        " m.expiry, u.name"
        " FROM pushes p LEFT JOIN messages m ON m.id = p.mid"
        " LEFT JOIN users u ON u.app_id = m.app_id AND u.address = m.from_address"
        " WHERE p.fallback_due IS NOT NULL AND p.fallback_due <= ? ORDER BY p.fallback_due LIMIT ?",
        (now, limit + 1),
    )
    batch = due[:limit]
    if batch:
        marks = ", ".join("?" for _ in batch)
        rt.store.run(f"UPDATE pushes SET fallback_due = NULL WHERE id IN ({marks})", [r["id"] for r in batch])
    return due


def acknowledge(rt: Runtime, push_id: int) -> sqlite3.Row | None:
    """A push the app received, as a phone would say: it needs no fallback."""
    with rt.store.tx():
        rt.store.run("UPDATE pushes SET acked = 1, fallback_due = NULL WHERE id = ?", (push_id,))
        return rt.store.one("SELECT * FROM pushes WHERE id = ?", (push_id,))


# --- push records: read ------------------------------------------------------------------------------
def pushes(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[sqlite3.Row]:
    """Push records matching `filters` (column -> value; None: any), newer than `after`, newest first."""
    clause, args = where(filters, ("id > ?", after))
    return rt.store.all(f"SELECT * FROM pushes{clause} ORDER BY id DESC LIMIT ?", [*args, limit])


def push(rt: Runtime, push_id: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM pushes WHERE id = ?", (push_id,))


# --- the request journal -----------------------------------------------------------------------------
INSERT_CALL = (
    "INSERT INTO journal (ts, app_id, app_token, op, encoding, path, user_agent, fields, answer, result,"
    " diagnosis, diagnosed, pushes, mid, fault, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def append_call(rt: Runtime, row: tuple, written: Callable[[], None]) -> None:
    """One journal entry, written with the next group commit (the call's own); `written` runs once it is
    in."""
    rt.store.append(INSERT_CALL, row, written)


def calls(
    rt: Runtime, filters: dict, after: int | None = None, before: int | None = None, limit: int = 100
) -> list[sqlite3.Row]:
    """Journal entries, newest first: `filters` by column; an app by its number (indexed) and its
    token, for the entries of an app deleted since."""
    clause, args = where(filters, ("id > ?", after), ("id < ?", before))
    return rt.store.all(f"SELECT * FROM journal{clause} ORDER BY id DESC LIMIT ?", [*args, limit])


def call(rt: Runtime, entry_id: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM journal WHERE id = ?", (entry_id,))


def diagnosed_calls(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[sqlite3.Row]:
    """The diagnosed entries' ids, ops and diagnoses, oldest first: what strict mode looks through."""
    clause, args = where({**filters, "diagnosed": True}, ("id > ?", after))
    return rt.store.all(f"SELECT id, op, diagnosis FROM journal{clause} ORDER BY id LIMIT ?", [*args, limit])


def newest_call_id(rt: Runtime) -> int:
    return rt.store.one("SELECT COALESCE(MAX(id), 0) AS n FROM journal")["n"]


def any_call(rt: Runtime) -> bool:
    """Whether the backend has been called at all (the dashboard opens on Requests once it has)."""
    return rt.store.one("SELECT 1 FROM journal LIMIT 1") is not None


# --- clearing ----------------------------------------------------------------------------------------
CLEARABLE = ("pushes", "journal")


def clear(rt: Runtime, kind: str, token: str | None) -> int:
    """Every push record or journal entry, or one app's; -> how many. Possible on a full disk."""
    if kind not in CLEARABLE:
        raise ValueError(kind)

    def delete() -> int:
        rt.store.mass_deleted()
        with rt.store.tx():
            if token is None:
                return rt.store.run(f"DELETE FROM {kind}").rowcount
            return rt.store.run(f"DELETE FROM {kind} WHERE app_token = ?", (token,)).rowcount

    return rt.store.freeing(delete)
