"""User Access Control sets (uacset), per app: kept whole as Mesibo's own `uac.sh` sends them, and
assigned to users by id. The emulator enforces none of a UAC's features [emu]."""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.server.runtime import Runtime


def by_id(rt: Runtime, app_id: int, uac_id: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM uacs WHERE app_id = ? AND uac_id = ?", (app_id, uac_id))


def next_id(rt: Runtime, app_id: int) -> int:
    row = rt.store.one("SELECT MAX(uac_id) AS n FROM uacs WHERE app_id = ?", (app_id,))
    return (row["n"] or 0) + 1


def save(rt: Runtime, app_id: int, uac_id: int, body: dict) -> None:
    """Insert, or replace the whole UAC of that id."""
    now = rt.clock.now()
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    with rt.store.tx():
        rt.store.run(
            "INSERT INTO uacs (app_id, uac_id, name, body, created, updated) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (app_id, uac_id) DO UPDATE SET name = excluded.name, body = excluded.body,"
            " updated = excluded.updated",
            (app_id, uac_id, name, orjson.dumps(body).decode(), now, now),
        )


def views(rt: Runtime, app_id: int) -> list[dict]:
    """Every UAC of the app as it was sent, by id."""
    rows = rt.store.all("SELECT uac_id, body FROM uacs WHERE app_id = ? ORDER BY uac_id", (app_id,))
    return [orjson.loads(row["body"]) | {"id": row["uac_id"]} for row in rows]
