"""Users (the backend API's user ops), their access tokens and online state, and their devices (what\nthe client SDK registers)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import as_dict, safe_loads

DEVICE_FIELDS = ("address", "platform", "appid", "push_token", "voip", "sandbox", "responds")


def user_by_address(rt: Runtime, app_id: int, address: str) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM users WHERE app_id = ? AND address = ?", (app_id, address))


def user_by_uid(rt: Runtime, app_id: int, uid: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM users WHERE app_id = ? AND id = ?", (app_id, uid))


def ensure_user(rt: Runtime, app_id: int, address: str) -> sqlite3.Row:
    """The user with this address, created with defaults if absent (a device registration, a group member)."""
    return user_by_address(rt, app_id, address) or add_user(rt, app_id, address)


def add_user(rt: Runtime, app_id: int, address: str, **fields: Any) -> sqlite3.Row:
    """Adding an existing address keeps its uid and updates what is given (name, active, flag, profile)."""
    given = {k: v for k, v in fields.items() if v is not None}
    if "profile" in given:
        given["profile"] = json.dumps(given["profile"])
    with rt.store.tx():
        existing = user_by_address(rt, app_id, address)
        if "extras" in given:  # what is given replaces its own keys only
            given["extras"] = merged_extras(existing["extras"] if existing else None, given["extras"])
        if existing is None:
            uid = rt.store.insert(
                "users",
                {"name": "", "active": True, "flag": 0, "online": False}
                | given
                | {"app_id": app_id, "address": address, "created": rt.clock.now()},
            )
        else:
            uid = existing["id"]
            if given:
                rt.store.update("users", uid, given)
    return user_by_uid(rt, app_id, uid)


def update_user(rt: Runtime, user: sqlite3.Row, **fields: Any) -> sqlite3.Row:
    return add_user(rt, user["app_id"], user["address"], **fields)


def merged_extras(stored: str | None, given: dict) -> str:
    """Kept fields (permissions, a token's platform keys, ...): those given over those stored, as JSON."""
    return json.dumps({**(safe_loads(stored) or {}), **given})


def issue_token(
    rt: Runtime, user: sqlite3.Row, appid: str, expiry_minutes: int, renew: bool, extras: dict | None = None
) -> str:
    """The same user and appid get the same token back while it is unexpired, unless `renew` [real].
    `extras` (the token's platform keys, as given) are kept with it."""
    now = rt.clock.now()
    with rt.store.tx():
        if not renew:
            current = rt.store.one(
                "SELECT id, token, extras FROM user_tokens WHERE user_id = ? AND appid = ? AND expires > ?"
                " ORDER BY id DESC LIMIT 1",
                (user["id"], appid, now),
            )
            if current is not None:
                if extras:
                    rt.store.update(
                        "user_tokens", current["id"], {"extras": merged_extras(current["extras"], extras)}
                    )
                return current["token"]
        token = secrets.token_hex(24)
        rt.store.run("DELETE FROM user_tokens WHERE user_id = ? AND appid = ?", (user["id"], appid))
        rt.store.insert(
            "user_tokens",
            {
                "app_id": user["app_id"],
                "user_id": user["id"],
                "appid": appid,
                "token": token,
                "expires": now + expiry_minutes * 60,
                "extras": json.dumps(extras) if extras else None,
                "created": now,
            },
        )
    return token


def remove_tokens(rt: Runtime, user: sqlite3.Row) -> None:
    with rt.store.tx():
        rt.store.run("DELETE FROM user_tokens WHERE user_id = ?", (user["id"],))


# What belongs to a user and goes with it: one statement per table, so that a new kind of membership
# is one more line here.
USER_CASCADE = (
    "DELETE FROM devices WHERE user_id = ?",
    "DELETE FROM user_tokens WHERE user_id = ?",
    "DELETE FROM group_members WHERE user_id = ?",
    "DELETE FROM users WHERE id = ?",
)


def delete_user(rt: Runtime, user: sqlite3.Row) -> None:
    with rt.store.tx() as conn:
        for statement in USER_CASCADE:
            conn.execute(statement, (user["id"],))


def users_of(rt: Runtime, app_id: int, *, after: int | None = None, limit: int = 1000) -> list[sqlite3.Row]:
    """An app's users, oldest first, a page at a time (the /_mock view and the dashboard)."""
    return rt.store.all(
        "SELECT * FROM users WHERE app_id = ? AND id > ? ORDER BY id LIMIT ?", (app_id, after or 0, limit)
    )


def user_count(rt: Runtime, app_id: int) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM users WHERE app_id = ?", (app_id,))["n"]


def tokens_of(rt: Runtime, user_ids: list[int]) -> list[sqlite3.Row]:
    found: list[sqlite3.Row] = []
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found += rt.store.all(f"SELECT * FROM user_tokens WHERE user_id IN ({marks}) ORDER BY id", chunk)
    return found


def find_users(
    rt: Runtime, app_id: int, pattern: str | None, uid: int | None, count: int
) -> tuple[int, list[sqlite3.Row]]:
    """-> (how many match, the oldest `count` of them). `pattern` is an exact address or one where `*`
    matches any run of characters."""
    sql, args = " FROM users WHERE app_id = ?", [app_id]
    if uid is not None:
        sql += " AND id = ?"
        args.append(uid)
    if pattern is not None and pattern != "*":
        if "*" in pattern:
            # GLOB is case-sensitive, as addresses are; only its `*` is meant, so `?` and `[` are quoted
            sql += " AND address GLOB ?"
            args.append(pattern.replace("[", "[[]").replace("?", "[?]"))
        else:
            sql += " AND address = ?"
            args.append(pattern)
    total = rt.store.one("SELECT COUNT(*) AS n" + sql, args)["n"]
    return total, rt.store.all("SELECT *" + sql + " ORDER BY id LIMIT ?", [*args, count])


def newest_appids(rt: Runtime, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    marks = ", ".join("?" for _ in user_ids)
    rows = rt.store.all(
        f"SELECT user_id, appid FROM user_tokens WHERE user_id IN ({marks}) ORDER BY id", user_ids
    )
    return {row["user_id"]: row["appid"] for row in rows}  # the last, newest, wins


def set_online(rt: Runtime, user: sqlite3.Row, online: bool) -> sqlite3.Row:
    """`lastonline` is the last moment the user was seen online: set when it goes offline, or comes on.
    Coming online also means the next message it misses raises an offline-message event again."""
    changes: dict = {"online": online, "lastonline": rt.clock.now()}
    if online:
        changes["offline_notified"] = False
    with rt.store.tx():
        rt.store.update("users", user["id"], changes)
    return user_by_uid(rt, user["app_id"], user["id"])


def user_view(user: sqlite3.Row, appid: str | None = None) -> dict:
    """A user as /_mock and the dashboard show it."""
    return {
        "uid": user["id"],
        "address": user["address"],
        "name": user["name"],
        "appid": appid,
        "active": bool(user["active"]),
        "online": bool(user["online"]),
        "lastonline": iso(user["lastonline"]),
        "flag": user["flag"],
        "profile": safe_loads(user["profile"]),
        "uac": user["uac"],
        # the fields Mesibo reads that the emulator keeps without acting on, each under its own name
        **(safe_loads(user["extras"]) or {}),
    }


def token_view(token: sqlite3.Row) -> dict:
    """An access token as /_mock shows it: never the token itself; its platform keys as given."""
    return {"appid": token["appid"], "expires": iso(token["expires"]), **(safe_loads(token["extras"]) or {})}


def listed_view(user: sqlite3.Row, appid: str | None, now: float) -> dict:
    """A user as usersget lists it, typed as the real backend types it (SPEC section 4): flags as 1/0,
    times in whole seconds; `lastonline` the seconds since the user was last online (0 while online)."""
    online = bool(user["online"])
    since = user["lastonline"] if user["lastonline"] is not None else user["created"]
    return {
        "uid": user["id"],
        "address": user["address"],
        "name": user["name"],
        "ipaddr": "",
        "lastonline": 0 if online else max(0, int(now - since)),
        "active": 1 if user["active"] else 0,
        "pinned": 0,
        "online": 1 if online else 0,
        "flag": user["flag"],
        "token": "",
        "cts": 0,  # [real: the binary selects `0 cts`]
        "appid": appid or "",
    }


def register_device(rt: Runtime, app_id: int, device: dict) -> tuple[sqlite3.Row, bool]:
    """Upsert by push token, as a phone re-registering would; clears an invalid mark. -> (row, created)."""
    with rt.store.tx():
        user = ensure_user(rt, app_id, device["address"])
        values = {k: device[k] for k in DEVICE_FIELDS} | {"user_id": user["id"], "invalid_reason": None}
        existing = rt.store.one(
            "SELECT id FROM devices WHERE app_id = ? AND push_token = ?", (app_id, device["push_token"])
        )
        if existing is None:
            device_id = rt.store.insert("devices", values | {"app_id": app_id, "created": rt.clock.now()})
        else:
            device_id = existing["id"]
            rt.store.update("devices", device_id, values)
    return device_by_id(rt, app_id, device_id), existing is None


def device_with_token(rt: Runtime, app_id: int, push_token: str) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM devices WHERE app_id = ? AND push_token = ?", (app_id, push_token))


def device(rt: Runtime, device_id: int) -> sqlite3.Row | None:
    """A device by its number alone (a push record names it so)."""
    return rt.store.one("SELECT * FROM devices WHERE id = ?", (device_id,))


def device_by_id(rt: Runtime, app_id: int, device_id: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM devices WHERE app_id = ? AND id = ?", (app_id, device_id))


def devices_of_user(rt: Runtime, app_id: int, address: str) -> list[sqlite3.Row]:
    """A user's devices, oldest first: every test push reads them, so they are memoized until any
    device changes (store.memo)."""
    return rt.store.memo(
        ("devices", app_id, address),
        lambda: [as_dict(row) for row in devices_of(rt, app_id, address)],
        group="devices",
    )


def devices_of(
    rt: Runtime,
    app_id: int,
    address: str | None = None,
    *,
    after: int | None = None,
    limit: int | None = None,
) -> list[sqlite3.Row]:
    """An app's devices (or one address's), oldest first; a page at a time with `after` and `limit`."""
    sql, args = "SELECT * FROM devices WHERE app_id = ?", [app_id]
    if address is not None:
        sql += " AND address = ?"
        args.append(address)
    if after is not None:
        sql += " AND id > ?"
        args.append(after)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return rt.store.all(sql, args)


def device_count(rt: Runtime, app_id: int) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM devices WHERE app_id = ?", (app_id,))["n"]


def delete_device(rt: Runtime, device: sqlite3.Row) -> None:
    with rt.store.tx():
        rt.store.run("DELETE FROM devices WHERE id = ?", (device["id"],))


def device_view(device: sqlite3.Row) -> dict:
    return {
        "id": device["id"],
        "address": device["address"],
        "platform": device["platform"],
        "appid": device["appid"],
        "push_token": device["push_token"],
        "voip": bool(device["voip"]),
        "sandbox": bool(device["sandbox"]),
        "responds": bool(device["responds"]),
        "invalid": device["invalid_reason"],
    }


def active_among(rt: Runtime, app_id: int, addresses: list[str], chunk: int = 500):
    """Of these addresses, the active users (by address) and the devices of the offline ones."""
    found: dict[str, sqlite3.Row] = {}
    devices: list[sqlite3.Row] = []
    for start in range(0, len(addresses), chunk):
        part = addresses[start : start + chunk]
        marks = ", ".join("?" for _ in part)
        args = [app_id, *part]
        for row in rt.store.all(
            f"SELECT id AS uid, address, online FROM users WHERE app_id = ? AND active AND address IN ({marks})",
            args,
        ):
            found[row["address"]] = row
        devices += rt.store.all(
            "SELECT d.* FROM devices d JOIN users u ON u.app_id = d.app_id AND u.address = d.address"
            f" WHERE d.app_id = ? AND u.active AND NOT u.online AND d.address IN ({marks}) ORDER BY d.id",
            args,
        )
    return found, devices
