"""Messages sent through the backend API: the record kept of each, who it reached, and which are owed.

Who gets a push for a message and the pushes themselves are the delivery room's (delivery/fanout.py);
this module keeps the state.
"""

from __future__ import annotations

import json
import sqlite3

import orjson

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import tallies
from mesibo_mock.store.db import where

ONE_YEAR = 365 * 24 * 3600
LISTED_RECIPIENTS = 1000  # recipients (and push ids) shown per message in a list
SHOWN_RECIPIENTS = 10_000  # by GET /_mock/messages/{mid}, a page at a time (`offset`)
CHUNK = 500  # addresses per statement


def record(rt: Runtime, app: sqlite3.Row, values: dict) -> int:
    """Store a message; -> its mid."""
    to = values.pop("to", None)
    skipped = values.pop("skipped", [])
    row = {"type": 0, "flag": 0, "expiry": ONE_YEAR} | values
    row |= {
        "app_id": app["id"],
        "app_token": app["token"],
        "to_list": None if to is None else json.dumps(to),
        "skipped": json.dumps(skipped),
    }
    mid = rt.store.insert("messages", row)
    rt.records_changed(
        "messages", ({"app_token": app["token"], "from_address": row["from_address"], "gid": row.get("gid")},)
    )
    return mid


def add_recipients(rt: Runtime, message: sqlite3.Row, rows: list[tuple[str, bool]]) -> None:
    """(address, online) of each recipient reached, in the caller's transaction."""
    rt.store.conn.executemany(
        "INSERT INTO message_recipients (mid, app_token, address, online) VALUES (?, ?, ?, ?)",
        [(message["id"], message["app_token"], address, online) for address, online in rows],
    )
    now = rt.clock.now()
    tallies.count(
        rt.store.conn,
        message["app_token"],
        ((message["id"], "recipients", "online" if online else "offline", now) for _, online in rows),
    )


def by_mid(rt: Runtime, mid: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM messages WHERE id = ?", (mid,))


def mark_delivered(rt: Runtime, message: sqlite3.Row, cursor: int | None) -> None:
    """`cursor` None: delivery is done; else the last membership delivered to, more to come."""
    rt.store.run(
        "UPDATE messages SET scheduled = 0, pending = ?, cursor = ? WHERE id = ?",
        (cursor is not None, cursor, message["id"]),
    )


def next_due_after(rt: Runtime, now: float, after_token: str | None) -> sqlite3.Row | None:
    """The oldest due message of the next app (by token) after `after_token` that owes one, wrapping
    round: apps take turns, so one app's large groups never hold another's messages back."""
    apps = [
        row[0]
        for row in rt.store.all("SELECT DISTINCT app_token FROM messages WHERE pending AND ts <= ?", (now,))
    ]
    if not apps:
        return None
    apps.sort()
    later = [token for token in apps if after_token is None or token > after_token]
    token = (later or apps)[0]
    return rt.store.one(
        "SELECT * FROM messages WHERE pending AND ts <= ? AND app_token = ? ORDER BY ts, id LIMIT 1",
        (now, token),
    )


def next_due(rt: Runtime) -> float | None:
    row = rt.store.one("SELECT MIN(ts) AS ts FROM messages WHERE pending")
    return row["ts"] if row is not None else None


def push_title(title: str | None, sender_name: str | None, sender: str) -> str:
    """What a message's push shows as its title: the message's own, else the sender's name or address."""
    return title or sender_name or sender


def find(rt: Runtime, filters: dict, to: str | None, after: int | None, limit: int) -> list[dict]:
    """Newest first. `to`: messages whose `to` list names this address, or that reached it."""
    clause, args = where(filters, ("id > ?", after))
    if to is not None:
        clause += " AND " if clause else " WHERE "
        clause += (
            "(EXISTS (SELECT 1 FROM json_each(messages.to_list) WHERE value = ?)"
            " OR EXISTS (SELECT 1 FROM message_recipients r WHERE r.mid = messages.id AND r.address = ?))"
        )
        args += [to, to]
    rows = rt.store.all(f"SELECT * FROM messages{clause} ORDER BY id DESC LIMIT ?", [*args, limit])
    return views(rt, rows, LISTED_RECIPIENTS)


def views(
    rt: Runtime, rows: list[sqlite3.Row], shown: int = LISTED_RECIPIENTS, offset: int = 0
) -> list[dict]:
    """Records with `shown` of their recipients (from `offset`), the pushes each got, the ids of the
    first `shown` pushes, and how many of each there are. Every query is bounded by `shown`, so a
    message to a quarter of a million members reads as fast as one to three."""
    found = []
    for row in rows:
        mid = row["id"]
        listed = rt.store.all(
            "SELECT address, online FROM message_recipients WHERE mid = ? ORDER BY id LIMIT ? OFFSET ?",
            (mid, shown, offset),
        )
        per_address: dict[str, list[int]] = {}
        addresses = list(dict.fromkeys(r["address"] for r in listed))
        for start in range(0, len(addresses), CHUNK):
            chunk = addresses[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            # by address (indexed), then the message: `+mid` keeps SQLite from walking every push of it
            for push in rt.store.all(
                f"SELECT id, address FROM pushes WHERE address IN ({marks}) AND +mid = ? ORDER BY id",
                [*chunk, mid],
            ):
                per_address.setdefault(push["address"], []).append(push["id"])
        recipients = [
            {
                "address": r["address"],
                "online": bool(r["online"]),
                "pushes": per_address.get(r["address"], []),
            }
            for r in listed
        ]
        total = rt.store.one("SELECT COUNT(*) FROM message_recipients WHERE mid = ?", (mid,))[0]
        pushes = [
            r["id"]
            for r in rt.store.all("SELECT id FROM pushes WHERE mid = ? ORDER BY id LIMIT ?", (mid, shown))
        ]
        pushes_total = rt.store.one("SELECT COUNT(*) FROM pushes WHERE mid = ?", (mid,))[0]
        found.append(view(row, recipients, total, pushes, pushes_total))
    return found


def view(
    row: sqlite3.Row, recipients: list[dict], recipients_total: int, pushes: list[int], pushes_total: int
) -> dict:
    return {
        "mid": row["id"],
        "ts": iso(row["ts"]),
        "app": row["app_token"],
        "from": row["from_address"],
        "to": orjson.loads(row["to_list"]) if row["to_list"] is not None else None,
        "gid": row["gid"],
        "type": row["type"],
        "message": row["message"],
        "title": row["title"],
        "url": row["url"],
        "expiry": row["expiry"],
        "flag": row["flag"],
        "scheduled": bool(row["scheduled"]),
        "delivering": bool(row["pending"]) and not row["scheduled"],
        "recipients": recipients,
        "recipients_total": recipients_total,
        "skipped": orjson.loads(row["skipped"]),
        "pushes": pushes,
        "pushes_total": pushes_total,
    }
