"""One-time codes (the `otp` op): issued per address, the same unexpired one again with `reuse`, and
shown by /_mock where a real app would send them by SMS."""

from __future__ import annotations

import secrets
import sqlite3

from mesibo_mock.server.runtime import Runtime


def issue(rt: Runtime, app_id: int, address: str, tries: int, expiry: int, reuse: bool) -> str:
    now = rt.clock.now()
    if reuse:
        current = rt.store.one(
            "SELECT code FROM otps WHERE app_id = ? AND address = ? AND expires > ? ORDER BY id DESC LIMIT 1",
            (app_id, address, now),
        )
        if current is not None:
            return current["code"]
    code = f"{secrets.randbelow(10**6):06d}"
    rt.store.insert(
        "otps",
        {
            "app_id": app_id,
            "address": address,
            "code": code,
            "tries": tries,
            "expires": now + expiry,
            "created": now,
        },
    )
    return code


def listed(rt: Runtime, token: str | None) -> list[sqlite3.Row]:
    """Codes, newest first, each with its app's token (of one app, given its token)."""
    sql = "SELECT o.*, a.token FROM otps o JOIN apps a ON a.id = o.app_id"
    return rt.store.all(
        sql + (" WHERE a.token = ?" if token else "") + " ORDER BY o.id DESC", (token,) if token else ()
    )
