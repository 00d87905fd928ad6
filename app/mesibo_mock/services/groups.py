"""Groups and their members, per app: created, changed and removed by the backend's group ops."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import safe_loads

EDITABLE = ("name", "flag", "active", "expiry", "expiryext", "profile", "ets", "extras")
ONE_YEAR = 365 * 24 * 3600  # a group's life unless `expiry` says otherwise [real: "default 1 year"]
SFLAGS_DEFAULT = 263  # [real: `ifnull(s.flags, 263)`]
# Admin rights, one bit each in this order [real: the keys the binary reads into `gadms`].
ADMIN_RIGHTS = ("owner", "modify", "remove", "adduser", "remuser", "addadmin", "remadmin", "remowner")
# Member rights: the column, its name in `permissions`, and its flat name [real: the binary's keys].
PERMISSIONS = (
    ("cs", "send", "cs"),
    ("cr", "recv", "cr"),
    ("canpub", "pub", "canpub"),
    ("cansub", "sub", "cansub"),
    ("canlist", "list", "canlist"),
)
FLAG_LOOPBACK = 0x80  # a member's message comes back to its sender too
FLAG_ROUND_ROBIN = 0x20  # each message goes to one member, in turn


@dataclass(frozen=True)
class Rights:
    """What the members of one call may do: the five permissions and the admin bits."""

    cs: bool = True
    cr: bool = True
    canpub: bool = True
    cansub: bool = True
    canlist: bool = True
    admin: int = 0


MEMBERS_SHOWN = 1000  # members listed with a group in /_mock and the dashboard (member_count says all)
CHUNK = 500  # addresses per statement: far below SQLite's limit on variables


def by_gid(rt: Runtime, app_id: int, gid: int) -> sqlite3.Row | None:
    """The group, unless it has expired: an expired group answers as an unknown one [emu]."""
    return rt.store.one(
        "SELECT * FROM groups WHERE app_id = ? AND id = ? AND (ets IS NULL OR ets > ?)",
        (app_id, gid, rt.clock.now()),
    )


def named(rt: Runtime, app_id: int, name: str) -> sqlite3.Row | None:
    """The app's oldest group of this name (the seed makes a group once, by name)."""
    return rt.store.one(
        "SELECT * FROM groups WHERE app_id = ? AND name = ? ORDER BY id LIMIT 1", (app_id, name)
    )


def expires_at(rt: Runtime, expiry: int | None) -> float:
    """When a group given `expiry` seconds now expires [real: the binary adds it to unix_timestamp()]."""
    return rt.clock.now() + (ONE_YEAR if expiry is None else expiry)


def _stored(fields: dict[str, Any], stored_extras: str | None = None) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if k in EDITABLE and v is not None}
    if "profile" in out:
        out["profile"] = json.dumps(out["profile"])
    if "extras" in out:  # what is given replaces its own keys only
        out["extras"] = json.dumps({**(safe_loads(stored_extras) or {}), **out["extras"]})
    return out


def create(rt: Runtime, app_id: int, **fields: Any) -> int:
    values = {"name": "", "flag": 0, "active": True} | _stored(fields)
    values["ets"] = expires_at(rt, fields.get("expiry"))
    return rt.store.insert("groups", values | {"app_id": app_id, "created": rt.clock.now()})


def update(rt: Runtime, group: sqlite3.Row, **fields: Any) -> None:
    changes = _stored(fields, group["extras"])
    if fields.get("expiry") is not None:
        changes["ets"] = expires_at(rt, fields["expiry"])
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


def add_members(rt: Runtime, group: sqlite3.Row, addresses: list[str], rights: Rights) -> list[str]:
    """Adding a member twice keeps one membership, with this call's rights. Only existing, active users
    become members; -> the addresses skipped."""
    now = rt.clock.now()
    users = active_users(rt, group["app_id"], addresses)
    granted = (rights.cs, rights.cr, rights.canpub, rights.cansub, rights.canlist, rights.admin)
    with rt.store.tx() as conn:
        conn.executemany(
            "INSERT INTO group_members (group_id, user_id, cs, cr, canpub, cansub, canlist, admin, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, user_id) DO UPDATE SET cs = excluded.cs,"
            " cr = excluded.cr, canpub = excluded.canpub, cansub = excluded.cansub,"
            " canlist = excluded.canlist, admin = excluded.admin",
            [(group["id"], users[a], *granted, now) for a in addresses if a in users],  # in the order given
        )
    return [a for a in addresses if a not in users]


def remove_members(rt: Runtime, group: sqlite3.Row, addresses: list[str]) -> None:
    with rt.store.tx() as conn:
        conn.executemany(
            "DELETE FROM group_members WHERE group_id = ?"
            " AND user_id = (SELECT id FROM users WHERE app_id = ? AND address = ?)",
            [(group["id"], group["app_id"], a) for a in addresses],
        )


def membership(rt: Runtime, group: sqlite3.Row, address: str) -> sqlite3.Row | None:
    return rt.store.one(
        "SELECT m.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? AND u.address = ?",
        (group["id"], address),
    )


def newest_membership(rt: Runtime, group: sqlite3.Row) -> int:
    """The newest membership's id: a message sent now goes to those up to it, not to later joiners."""
    return rt.store.one("SELECT COALESCE(MAX(id), 0) FROM group_members WHERE group_id = ?", (group["id"],))[
        0
    ]


def member_count(rt: Runtime, group: sqlite3.Row) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM group_members WHERE group_id = ?", (group["id"],))["n"]


def members(rt: Runtime, group: sqlite3.Row, limit: int | None = None) -> list[sqlite3.Row]:
    """Oldest member first."""
    sql = (
        "SELECT u.id AS uid, u.address, m.cs, m.cr, m.canpub, m.cansub, m.canlist, m.admin"
        " FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY m.id"
    )
    args: list = [group["id"]]
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return rt.store.all(sql, args)


def member_view(row: sqlite3.Row) -> dict:
    """A member as /_mock and the dashboard show it."""
    return (
        {"uid": row["uid"], "address": row["address"]}
        | {name: bool(row[column]) for column, name, _flat in PERMISSIONS}
        | {"cs": bool(row["cs"]), "cr": bool(row["cr"]), "admin": admin_view(row["admin"])}
    )


def admin_view(bits: int) -> dict[str, int]:
    return {right: 1 if bits & (1 << i) else 0 for i, right in enumerate(ADMIN_RIGHTS)}


def listed_member(row) -> dict:
    """A member as groupgetmembers lists it: the real backend's keys, each right 1 or 0 as set."""
    flags = {column: 1 if row[column] else 0 for column, _name, _flat in PERMISSIONS}
    return {
        "uid": row["uid"],
        "address": row["address"],
        "cansend": flags["cs"],
        "canrecv": flags["cr"],
        "canpub": flags["canpub"],
        "cansub": flags["cansub"],
        "canlist": flags["canlist"],
        "permissions": {name: flags[column] for column, name, _flat in PERMISSIONS},
        "admin": admin_view(row["admin"]),
    }


def group_filter(app_id: int, name: str | None, gid: int | None) -> tuple[str, list]:
    """groupsget's filters [real: `and name like ...`, `and name=...`, `and g.gid=...`]: a name exactly,
    or a pattern where `*` matches any run of characters; a gid."""
    clause, args = " WHERE g.app_id = ?", [app_id]
    if name is not None:
        clause += " AND g.name GLOB ?" if "*" in name else " AND g.name = ?"
        args.append(_glob(name) if "*" in name else name)
    if gid is not None:
        clause += " AND g.id = ?"
        args.append(gid)
    return clause, args


def _glob(pattern: str) -> str:
    """`*` any run of characters; every other character, GLOB's own included, only itself."""
    return "*".join("".join(f"[{c}]" if c in "?[]" else c for c in part) for part in pattern.split("*"))


def list_groups(rt: Runtime, app_id: int, limit: int, name: str | None = None, gid: int | None = None):
    """By name, then newest gid first [real: `order by pinned desc, g.name asc, g.gid desc`]; -> (how many
    match, the first `limit` of them)."""
    clause, args = group_filter(app_id, name, gid)
    total = rt.store.one(f"SELECT COUNT(*) AS n FROM groups g{clause}", args)["n"]
    rows = rt.store.all(
        "SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count"
        f" FROM groups g{clause} ORDER BY g.name, g.id DESC LIMIT ?",
        [*args, limit],
    )
    return total, rows


def groups_of(rt: Runtime, app_id: int, *, after: int | None = None, limit: int = 1000) -> list[sqlite3.Row]:
    """An app's groups, oldest first, a page at a time, each with its number of members."""
    return rt.store.all(
        "SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count"
        " FROM groups g WHERE g.app_id = ? AND g.id > ? ORDER BY g.id LIMIT ?",
        (app_id, after or 0, limit),
    )


def group_count(rt: Runtime, app_id: int) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM groups WHERE app_id = ?", (app_id,))["n"]


def listed_group(row: sqlite3.Row, now: float) -> dict:
    """A group as groupsget lists it: the real backend's keys; `ats` the creation time, `ets` the
    seconds left until it expires, 0 once expired [real: `if(ets > unix_timestamp(), ets-unix_timestamp(),
    0)`]."""
    ets = row["ets"] if row["ets"] is not None else row["created"] + ONE_YEAR
    return {
        "gid": row["id"],
        "name": row["name"],
        "ats": int(row["created"]),
        "ets": max(0, int(ets - now)),
        "expiryext": row["expiryext"] or 0,
        "type": 0,
        "flag": row["flag"],
        "sflags": SFLAGS_DEFAULT,
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
        "expires": iso(row["ets"]),
        "profile": safe_loads(row["profile"]),
        # the fields Mesibo reads that the emulator keeps without acting on, each under its own name
        **(safe_loads(row["extras"]) or {}),
    }
    view["members"] = members if members is not None else row["member_count"]
    view["member_count"] = row["member_count"]
    return view


# --- a message's delivery to a group's members (delivery/fanout.py) ------------------------------------
MEMBERS = (
    " FROM group_members m JOIN users u ON u.id = m.user_id{join}"
    " WHERE m.group_id = ? AND m.cr AND {where} AND u.active AND u.address != ?"
)
DEVICES = " JOIN devices d ON d.app_id = u.app_id AND d.address = u.address"


def delivery_flags(rt: Runtime, gid: int) -> sqlite3.Row | None:
    """What a group's delivery needs of it: its flag and the membership its round robin reached last."""
    return rt.store.one("SELECT flag, rr_last FROM groups WHERE id = ?", (gid,))


def receiving_memberships(rt: Runtime, gid: int, after: int, upto: int, limit: int) -> list[int]:
    """The memberships that can receive, after `after` and up to `upto`, oldest first, at most `limit`."""
    rows = rt.store.all(
        "SELECT id FROM group_members WHERE group_id = ? AND cr AND id > ? AND id <= ? ORDER BY id LIMIT ?",
        (gid, after, upto, limit),
    )
    return [row["id"] for row in rows]


def receivers_between(rt: Runtime, gid: int, after: int, last: int, sender: str):
    """The members of memberships after `after` up to `last` that can receive, are active and are not
    `sender`, oldest first, and the devices of the offline ones."""
    return _receivers(rt, gid, "m.id > ? AND m.id <= ?", (after, last), sender)


def receiver_at(rt: Runtime, gid: int, membership: int, sender: str):
    return _receivers(rt, gid, "m.id = ?", (membership,), sender)


def _receivers(rt: Runtime, gid: int, where: str, args: tuple, sender: str):
    params = (gid, *args, sender)
    recipients = rt.store.all(
        "SELECT u.id AS uid, u.address, u.online" + MEMBERS.format(join="", where=where) + " ORDER BY m.id",
        params,
    )
    devices = rt.store.all(
        "SELECT d.*" + MEMBERS.format(join=DEVICES, where=where) + " AND NOT u.online ORDER BY m.id, d.id",
        params,
    )
    return recipients, devices


def next_in_turn(rt: Runtime, gid: int, sender: str, last: int) -> int | None:
    """Flag 0x20: the membership after `last` (wrapping round) whose member can receive, is active and
    is not `sender`; it becomes the group's turn."""
    query = (
        "SELECT m.id FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? AND m.cr"
        " AND u.active AND u.address != ? AND m.id > ? ORDER BY m.id LIMIT 1"
    )
    turn = rt.store.one(query, (gid, sender, last)) or rt.store.one(query, (gid, sender, 0))
    if turn is None:
        return None
    rt.store.run("UPDATE groups SET rr_last = ? WHERE id = ?", (turn["id"], gid))
    return turn["id"]
