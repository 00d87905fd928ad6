"""Groups and their members, per app: created, changed and removed by the backend's group ops."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import people
from mesibo_mock.store.db import loads

EDITABLE = ("name", "flag", "active", "expiry", "profile")


def by_gid(rt: Runtime, app_id: int, gid: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM groups WHERE app_id = ? AND id = ?", (app_id, gid))


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if k in EDITABLE and v is not None}
    if "profile" in out:
        out["profile"] = json.dumps(out["profile"])
    return out


def create(rt: Runtime, app_id: int, **fields: Any) -> int:
    values = {"name": "", "flag": 0, "active": True} | _stored(fields)
    return rt.store.insert("groups", values | {"app_id": app_id, "created": rt.clock.now()})


def update(rt: Runtime, group: sqlite3.Row, **fields: Any) -> None:
    changes = _stored(fields)
    if changes:
        rt.store.update("groups", group["id"], changes)


def delete(rt: Runtime, group: sqlite3.Row) -> None:
    with rt.store.tx() as conn:
        conn.execute("DELETE FROM group_members WHERE group_id = ?", (group["id"],))
        conn.execute("DELETE FROM groups WHERE id = ?", (group["id"],))


def add_members(rt: Runtime, group: sqlite3.Row, addresses: list[str], cs: bool, cr: bool) -> None:
    """Adding a member twice keeps one membership (with this call's cs and cr); an address that is not a
    user yet becomes one [emu]."""
    now = rt.clock.now()
    with rt.store.tx() as conn:
        rows = [
            (group["id"], people.ensure_user(rt, group["app_id"], a)["id"], cs, cr, now) for a in addresses
        ]
        conn.executemany(
            "INSERT INTO group_members (group_id, user_id, cs, cr, created) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (group_id, user_id) DO UPDATE SET cs = excluded.cs, cr = excluded.cr",
            rows,
        )


def remove_members(rt: Runtime, group: sqlite3.Row, addresses: list[str]) -> None:
    with rt.store.tx() as conn:
        conn.executemany(
            "DELETE FROM group_members WHERE group_id = ?"
            " AND user_id = (SELECT id FROM users WHERE app_id = ? AND address = ?)",
            [(group["id"], group["app_id"], a) for a in addresses],
        )


def members(rt: Runtime, group: sqlite3.Row, limit: int | None = None) -> list[sqlite3.Row]:
    sql = (
        "SELECT u.id AS uid, u.address, m.cs, m.cr FROM group_members m JOIN users u ON u.id = m.user_id"
        " WHERE m.group_id = ? ORDER BY m.id"
    )
    args: list = [group["id"]]
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return rt.store.all(sql, args)


def member_view(row: sqlite3.Row) -> dict:
    return {"uid": row["uid"], "address": row["address"], "cs": bool(row["cs"]), "cr": bool(row["cr"])}


def list_groups(rt: Runtime, app_id: int) -> list[sqlite3.Row]:
    return rt.store.all(
        "SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count"
        " FROM groups g WHERE g.app_id = ? ORDER BY g.id",
        (app_id,),
    )


def group_view(row: sqlite3.Row, members: list[dict] | None = None) -> dict:
    """A group as /_mock shows it; with `members`, the members themselves rather than their count."""
    view = {
        "gid": row["id"],
        "name": row["name"],
        "flag": row["flag"],
        "active": bool(row["active"]),
        "expiry": row["expiry"],
        "profile": loads(row["profile"]),
    }
    view["members"] = members if members is not None else row["member_count"]
    return view
