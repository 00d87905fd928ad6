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
from mesibo_mock.store.db import where

ONE_YEAR = 365 * 24 * 3600
LISTED_RECIPIENTS = 1000  # recipients shown per message in a list; GET /_mock/messages/{mid} shows all


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
    return rt.store.insert("messages", row)


def add_recipients(rt: Runtime, message: sqlite3.Row, rows: list[tuple[str, bool]]) -> None:
    """(address, online) of each recipient reached, in the caller's transaction."""
    rt.store.conn.executemany(
        "INSERT INTO message_recipients (mid, app_token, address, online) VALUES (?, ?, ?, ?)",
        [(message["id"], message["app_token"], address, online) for address, online in rows],
    )


def by_mid(rt: Runtime, mid: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM messages WHERE id = ?", (mid,))


def mark_delivered(rt: Runtime, message: sqlite3.Row, cursor: int | None) -> None:
    """`cursor` None: delivery is done; else the last membership delivered to, more to come."""
    rt.store.run(
        "UPDATE messages SET scheduled = 0, pending = ?, cursor = ? WHERE id = ?",
        (cursor is not None, cursor, message["id"]),
    )


def due(rt: Runtime, now: float, limit: int) -> list[sqlite3.Row]:
    """Messages whose delivery is owed and whose time has come, oldest first."""
    return rt.store.all(
        "SELECT * FROM messages WHERE pending AND ts <= ? ORDER BY ts, id LIMIT ?", (now, limit)
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


def views(rt: Runtime, rows: list[sqlite3.Row], recipients_each: int | None = None) -> list[dict]:
    """Records with their recipients and the ids of the pushes each got (one query for each kind)."""
    if not rows:
        return []
    mids = [row["id"] for row in rows]
    marks = ", ".join("?" for _ in mids)
    pushes: dict[tuple[int, str], list[int]] = {}
    for push in rt.store.all(
        f"SELECT id, mid, address FROM pushes WHERE mid IS NOT NULL AND mid IN ({marks}) ORDER BY id", mids
    ):
        pushes.setdefault((push["mid"], push["address"]), []).append(push["id"])
    recipients: dict[int, list[dict]] = {mid: [] for mid in mids}
    totals: dict[int, int] = dict.fromkeys(mids, 0)
    for r in rt.store.all(
        f"SELECT mid, address, online FROM message_recipients WHERE mid IN ({marks}) ORDER BY id", mids
    ):
        totals[r["mid"]] += 1
        if recipients_each is None or len(recipients[r["mid"]]) < recipients_each:
            recipients[r["mid"]].append(
                {
                    "address": r["address"],
                    "online": bool(r["online"]),
                    "pushes": pushes.get((r["mid"], r["address"]), []),
                }
            )
    all_pushes: dict[int, list[int]] = {mid: [] for mid in mids}
    for (mid, _address), ids in pushes.items():
        all_pushes[mid].extend(ids)
    return [
        view(row, recipients[row["id"]], totals[row["id"]], sorted(all_pushes[row["id"]])) for row in rows
    ]


def view(row: sqlite3.Row, recipients: list[dict], recipients_total: int, pushes: list[int]) -> dict:
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
    }
