"""Push faults (SPEC section 6): the rows that make the next matching pushes fail as FCM or APNs would
answer. The answers themselves are delivery/faults.py's table; this is where the rows are kept, used up
and listed."""

from __future__ import annotations

import sqlite3

from mesibo_mock.server.runtime import Runtime


def add(
    rt: Runtime,
    error: str,
    service: str,
    *,
    token: str | None,
    address: str | None,
    push_token: str | None,
    count: int | None,
) -> sqlite3.Row:
    with rt.store.tx():
        fault_id = rt.store.insert(
            "faults",
            {
                "app_token": token,
                "address": address,
                "push_token": push_token,
                "error": error,
                "service": service,
                "remaining": count,
                "created": rt.clock.now(),
            },
        )
        return rt.store.one("SELECT * FROM faults WHERE id = ?", (fault_id,))


def listed(rt: Runtime, token: str | None = None) -> list[sqlite3.Row]:
    """The faults still set (of one app, given its token), oldest first (the one a push meets first)."""
    if token is None:
        return rt.store.all("SELECT * FROM faults ORDER BY id")
    return rt.store.all("SELECT * FROM faults WHERE app_token = ? ORDER BY id", (token,))


def clear(rt: Runtime, fault_id: int | None = None, token: str | None = None) -> int:
    """Remove one fault, one app's, or every one; -> how many went."""
    with rt.store.tx():
        if fault_id is not None:
            return rt.store.run("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount
        if token is not None:
            return rt.store.run("DELETE FROM faults WHERE app_token = ?", (token,)).rowcount
        return rt.store.run("DELETE FROM faults").rowcount


def take(rt: Runtime, app_token: str, device: sqlite3.Row, service: str) -> str | None:
    """The oldest matching fault of this service, used once (a count of null never runs out)."""
    row = rt.store.one(
        "SELECT id, error, remaining FROM faults WHERE service = ?"
        " AND (app_token IS NULL OR app_token = ?) AND (address IS NULL OR address = ?)"
        " AND (push_token IS NULL OR push_token = ?) ORDER BY id LIMIT 1",
        (service, app_token, device["address"], device["push_token"]),
    )
    if row is None:
        return None
    if row["remaining"] is not None:
        if row["remaining"] <= 1:
            rt.store.run("DELETE FROM faults WHERE id = ?", (row["id"],))
        else:
            rt.store.run("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
    return row["error"]


def view(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "token": row["app_token"],
        "address": row["address"],
        "push_token": row["push_token"],
        "error": row["error"],
        "service": row["service"],
        "count": row["remaining"],
    }
