"""User Access Control sets (uacset), per app: kept whole as Mesibo's own `uac.sh` sends them, and
assigned to users by id. The emulator enforces none of a UAC's features [emu]."""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.server.runtime import Runtime


def by_id(rt: Runtime, app_id: int, uac_id: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM uacs WHERE app_id = ? AND uac_id = ?", (app_id, uac_id))


MAX_PER_APP = 100  # UACs an app keeps [emu]
MAX_BYTES = 64 * 1024  # one UAC, as JSON [emu]


def next_id(rt: Runtime, app_id: int) -> int:
    """One past the largest id the app has used: an id is never given twice."""
    row = rt.store.one("SELECT MAX(uac_id) AS n FROM uacs WHERE app_id = ?", (app_id,))
    return (row["n"] or 0) + 1


def count(rt: Runtime, app_id: int) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM uacs WHERE app_id = ?", (app_id,))["n"]


def as_json(body: dict) -> str:
    """A UAC as it is kept: JSON, numbers past 64 bits included (the json module writes those)."""
    try:
        return orjson.dumps(body).decode()
    except TypeError:
        import json

        return json.dumps(body, separators=(",", ":"), default=str)


def save(rt: Runtime, app_id: int, uac_id: int, body: dict) -> None:
    """Insert, or replace the whole UAC of that id."""
    now = rt.clock.now()
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    with rt.store.tx():
        rt.store.run(
            "INSERT INTO uacs (app_id, uac_id, name, body, created, updated) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (app_id, uac_id) DO UPDATE SET name = excluded.name, body = excluded.body,"
            " updated = excluded.updated",
            (app_id, uac_id, name, as_json(body), now, now),
        )


def views(rt: Runtime, app_id: int) -> list[dict]:
    """The app's UACs as its views list them, by id: `{id, name, bytes}`; the whole of each is one GET
    away (`whole`), so a page of apps never carries megabytes of UACs."""
    rows = rt.store.all(
        "SELECT uac_id, name, length(body) AS bytes FROM uacs WHERE app_id = ? ORDER BY uac_id", (app_id,)
    )
    return [{"id": row["uac_id"], "name": row["name"], "bytes": row["bytes"]} for row in rows]


def whole(rt: Runtime, app_id: int, uac_id: int) -> dict | None:
    """One UAC as it was sent, with its id."""
    row = by_id(rt, app_id, uac_id)
    if row is None:
        return None
    import json

    return json.loads(row["body"]) | {"id": row["uac_id"]}
