"""Groups and their members, per app: created, changed and removed by the backend's group ops."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import safe_loads

EDITABLE = ("name", "flag", "active", "expiry", "expiryext", "profile")
MEMBERS_SHOWN = 1000  # members listed with a group in /_mock and the dashboard (member_count says all)
CHUNK = 500  # addresses per statement: far below SQLite's limit on variables


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


def active_users(rt: Runtime, app_id: int, addresses: list[str]) -> dict[str, int]:
    """address -> uid, for the addresses that name an active user of the app: the only users Mesibo
    makes members or recipients [real: `... where u.address in (...) and u.active=1`]."""
    found: dict[str, int] = {}
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for row in rt.store.all(
            f"SELECT id, address FROM users WHERE app_id = ? AND active AND address IN ({marks})",
            [app_id, *chunk],
        ):
            found[row["address"]] = row["id"]
    return found


def add_members(rt: Runtime, group: sqlite3.Row, addresses: list[str], cs: bool, cr: bool) -> list[str]:
    """Adding a member twice keeps one membership (with this call's cs and cr). Only existing, active
    users become members; -> the addresses skipped."""
    now = rt.clock.now()
    users = active_users(rt, group["app_id"], addresses)
    with rt.store.tx() as conn:
        conn.executemany(
            "INSERT INTO group_members (group_id, user_id, cs, cr, created) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (group_id, user_id) DO UPDATE SET cs = excluded.cs, cr = excluded.cr",
            [(group["id"], users[a], cs, cr, now) for a in addresses if a in users],  # in the order given
        )
    return [a for a in addresses if a not in users]


def remove_members(rt: Runtime, group: sqlite3.Row, addresses: list[str]) -> None:
    with rt.store.tx() as conn:
        conn.executemany(
            "DELETE FROM group_members WHERE group_id = ?"
            " AND user_id = (SELECT id FROM users WHERE app_id = ? AND address = ?)",
            [(group["id"], group["app_id"], a) for a in addresses],
        )


def member_count(rt: Runtime, group: sqlite3.Row) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM group_members WHERE group_id = ?", (group["id"],))["n"]


def members(rt: Runtime, group: sqlite3.Row, limit: int | None = None) -> list[sqlite3.Row]:
    """Oldest member first."""
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
    """A member as /_mock and the dashboard show it."""
    return {"uid": row["uid"], "address": row["address"], "cs": bool(row["cs"]), "cr": bool(row["cr"])}


def listed_member(row: sqlite3.Row) -> dict:
    """A member as groupgetmembers lists it: the real backend's keys, rights as 1 or 0 (SPEC section 4;
    the values are the emulator's: send and receive follow cs and cr, pub/sub/list are granted, no
    admin rights)."""
    send, recv = 1 if row["cs"] else 0, 1 if row["cr"] else 0
    return {
        "uid": row["uid"],
        "address": row["address"],
        "cansend": send,
        "canrecv": recv,
        "canpub": 1,
        "cansub": 1,
        "canlist": 1,
        "permissions": {"send": send, "recv": recv, "pub": 1, "sub": 1, "list": 1},
        "admin": dict.fromkeys(
            ("owner", "modify", "remove", "adduser", "remuser", "addadmin", "remadmin", "remowner"), 0
        ),
    }


def list_groups(rt: Runtime, app_id: int, limit: int | None = None) -> list[sqlite3.Row]:
    """By name, then newest gid first [real: `order by pinned desc, g.name asc, g.gid desc`]."""
    sql = (
        "SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count"
        " FROM groups g WHERE g.app_id = ? ORDER BY g.name, g.id DESC"
    )
    args: list = [app_id]
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return rt.store.all(sql, args)


def groups_of(rt: Runtime, app_id: int, *, after: int | None = None, limit: int = 1000) -> list[sqlite3.Row]:
    """An app's groups, oldest first, a page at a time, each with its number of members."""
    return rt.store.all(
        "SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count"
        " FROM groups g WHERE g.app_id = ? AND g.id > ? ORDER BY g.id LIMIT ?",
        (app_id, after or 0, limit),
    )


def group_count(rt: Runtime, app_id: int) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM groups WHERE app_id = ?", (app_id,))["n"]


def listed_group(row: sqlite3.Row) -> dict:
    """A group as groupsget lists it: the real backend's keys; times in epoch seconds."""
    expiry = row["expiry"]
    return {
        "gid": row["id"],
        "name": row["name"],
        "ats": int(row["created"]),
        "ets": int(row["created"]) + expiry if expiry else 0,
        "expiryext": row["expiryext"] or 0,
        "type": 0,
        "flag": row["flag"],
        "sflags": 0,
        "pinned": 0,
    }


def group_view(row: sqlite3.Row, members: list[dict] | None = None) -> dict:
    """A group as /_mock shows it; with `members`, the members themselves rather than their count."""
    view = {
        "gid": row["id"],
        "name": row["name"],
        "flag": row["flag"],
        "active": bool(row["active"]),
        "expiry": row["expiry"],
        "profile": safe_loads(row["profile"]),
    }
    view["members"] = members if members is not None else row["member_count"]
    view["member_count"] = row["member_count"]
    return view
