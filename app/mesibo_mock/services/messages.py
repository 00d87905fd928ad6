"""Messages sent through the backend API: who receives a push for one, and the record kept of it."""

from __future__ import annotations

import sqlite3

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import where


def recipients_offline(
    rt: Runtime, app_id: int, to: str | None, gid: int | None, sender: str
) -> list[sqlite3.Row]:
    """The devices of every recipient who is not online: the `to` user, or every member of the group
    that can receive, except the sender. One query, however large the group (devices are found
    through their (app_id, address) index)."""
    if gid is not None:
        return rt.store.all(
            "SELECT d.* FROM group_members m JOIN users u ON u.id = m.user_id"
            " JOIN devices d ON d.app_id = u.app_id AND d.address = u.address"
            " WHERE m.group_id = ? AND m.cr AND NOT u.online AND u.address != ? ORDER BY m.id, d.id",
            (gid, sender),
        )
    return rt.store.all(
        "SELECT d.* FROM users u JOIN devices d ON d.app_id = u.app_id AND d.address = u.address"
        " WHERE u.app_id = ? AND u.address = ? AND NOT u.online ORDER BY d.id",
        (app_id, to),
    )


def push_title(title: str | None, sender_name: str | None, sender: str) -> str:
    """What a message's push shows as its title: the message's own, else the sender's name or address."""
    return title or sender_name or sender


def record(rt: Runtime, app: sqlite3.Row, values: dict) -> int:
    return rt.store.insert(
        "messages",
        {"type": 0, "flag": 0}
        | values
        | {"ts": rt.clock.now(), "app_id": app["id"], "app_token": app["token"]},
    )


def find(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[dict]:
    clause, args = where(filters, ("id > ?", after))
    rows = rt.store.all(f"SELECT * FROM messages{clause} ORDER BY id DESC LIMIT ?", [*args, limit])
    return views(rt, rows)


def views(rt: Runtime, rows: list[sqlite3.Row]) -> list[dict]:
    """Records with the ids of the pushes each caused (one query for all of them)."""
    pushes: dict[int, list[int]] = {row["id"]: [] for row in rows}
    if rows:
        marks = ", ".join("?" for _ in rows)
        for push in rt.store.all(
            f"SELECT id, mid FROM pushes WHERE mid IS NOT NULL AND mid IN ({marks}) ORDER BY id", list(pushes)
        ):
            pushes[push["mid"]].append(push["id"])
    return [view(row, pushes[row["id"]]) for row in rows]


def view(row: sqlite3.Row, pushes: list[int]) -> dict:
    return {
        "mid": row["id"],
        "ts": iso(row["ts"]),
        "app": row["app_token"],
        "from": row["from_address"],
        "to": row["to_address"],
        "gid": row["gid"],
        "type": row["type"],
        "message": row["message"],
        "title": row["title"],
        "url": row["url"],
        "expiry": row["expiry"],
        "flag": row["flag"],
        "pushes": pushes,
    }
