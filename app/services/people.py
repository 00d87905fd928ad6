"""Users (the backend API's useradd/userdel) and their devices (what the client SDK registers)."""

from __future__ import annotations

import secrets
import sqlite3

from mesibo_mock.runtime import Runtime

DEVICE_FIELDS = ("address", "platform", "appid", "push_token", "voip", "sandbox", "responds")


def user_by_address(rt: Runtime, app_id: int, address: str) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM users WHERE app_id = ? AND address = ?", (app_id, address))


def user_by_uid(rt: Runtime, app_id: int, uid: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM users WHERE app_id = ? AND id = ?", (app_id, uid))


def add_user(
    rt: Runtime,
    app_id: int,
    address: str,
    name: str | None = None,
    appid: str | None = None,
    expiry: int | None = None,
) -> sqlite3.Row:
    """Adding an existing address keeps its uid; each call issues a fresh access token, as Mesibo does."""
    token = secrets.token_hex(24)
    with rt.store.tx():
        existing = user_by_address(rt, app_id, address)
        if existing is None:
            uid = rt.store.insert(
                "users",
                {
                    "app_id": app_id,
                    "address": address,
                    "name": name or "",
                    "access_token": token,
                    "appid": appid,
                    "expiry_minutes": expiry,
                    "created": rt.clock.now(),
                },
            )
        else:
            uid = existing["id"]
            changes: dict = {"access_token": token}
            if name is not None:
                changes["name"] = name
            if appid is not None:
                changes["appid"] = appid
            if expiry is not None:
                changes["expiry_minutes"] = expiry
            rt.store.update("users", uid, changes)
    return user_by_uid(rt, app_id, uid)


def delete_user(rt: Runtime, user: sqlite3.Row) -> None:
    with rt.store.tx() as conn:
        conn.execute("DELETE FROM devices WHERE user_id = ?", (user["id"],))
        conn.execute("DELETE FROM users WHERE id = ?", (user["id"],))


def list_users(rt: Runtime, app_id: int) -> list[sqlite3.Row]:
    return rt.store.all("SELECT * FROM users WHERE app_id = ? ORDER BY id", (app_id,))


def user_view(user: sqlite3.Row, *, with_token: bool = False) -> dict:
    view = {"uid": user["id"], "address": user["address"], "name": user["name"]}
    if with_token:
        view["token"] = user["access_token"]
    return view


def register_device(rt: Runtime, app_id: int, device: dict) -> tuple[sqlite3.Row, bool]:
    """Upsert by push token, as a phone re-registering would; clears an invalid mark. -> (row, created)."""
    with rt.store.tx():
        user = user_by_address(rt, app_id, device["address"]) or add_user(rt, app_id, device["address"])
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


def device_by_id(rt: Runtime, app_id: int, device_id: int) -> sqlite3.Row | None:
    return rt.store.one("SELECT * FROM devices WHERE app_id = ? AND id = ?", (app_id, device_id))


def devices_of(rt: Runtime, app_id: int, address: str | None = None) -> list[sqlite3.Row]:
    if address is None:
        return rt.store.all("SELECT * FROM devices WHERE app_id = ? ORDER BY id", (app_id,))
    return rt.store.all(
        "SELECT * FROM devices WHERE app_id = ? AND address = ? ORDER BY id", (app_id, address)
    )


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
