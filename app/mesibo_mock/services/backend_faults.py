"""Faults of the backend API itself (SPEC section 6): the next calls that match an op and/or an app
answer with a row of the error table, a bare HTTP status as a proxy would send, or only after a delay.
So a chat backend's error handling can be tested."""

from __future__ import annotations

import sqlite3

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime

MAX_DELAY = 60.0


def add(
    rt: Runtime,
    *,
    op: str | None,
    token: str | None,
    error: str | None,
    http: int | None,
    delay: float | None,
    count: int | None,
) -> sqlite3.Row:
    with rt.store.tx():
        fault_id = rt.store.insert(
            "backend_faults",
            {
                "op": op,
                "app_token": token,
                "error": error,
                "http": http,
                "delay": delay,
                "remaining": count,
                "created": rt.clock.now(),
            },
        )
        row = rt.store.one("SELECT * FROM backend_faults WHERE id = ?", (fault_id,))
    rt.backend_faults_changed()
    return row


def listed(rt: Runtime, token: str | None = None) -> list[sqlite3.Row]:
    """The backend faults still set (of one app, given its token), oldest first (the one a call meets
    first)."""
    if token is None:
        return rt.store.all("SELECT * FROM backend_faults ORDER BY id")
    return rt.store.all("SELECT * FROM backend_faults WHERE app_token = ? ORDER BY id", (token,))


def armed(rt: Runtime) -> bool:
    """Whether any backend fault is set: asked on every backend call, so it is remembered (on the
    runtime), and forgotten whenever this process adds, uses up or clears one, or another writes."""
    if rt._backend_faults is None:
        rt._backend_faults = rt.store.one("SELECT 1 FROM backend_faults LIMIT 1") is not None
    return rt._backend_faults


def clear(rt: Runtime, fault_id: int | None = None, token: str | None = None) -> int:
    """Remove one fault, one app's, or every one; -> how many went."""
    with rt.store.tx():
        if fault_id is not None:
            deleted = rt.store.run("DELETE FROM backend_faults WHERE id = ?", (fault_id,)).rowcount
        elif token is not None:
            deleted = rt.store.run("DELETE FROM backend_faults WHERE app_token = ?", (token,)).rowcount
        else:
            deleted = rt.store.run("DELETE FROM backend_faults").rowcount
    rt.backend_faults_changed()
    return deleted


def take(rt: Runtime, op: str | None, token: str | None) -> sqlite3.Row | None:
    """The oldest fault matching this call, used once (a count of null never runs out)."""
    row = rt.store.one(
        "SELECT * FROM backend_faults WHERE (op IS NULL OR op = ?) AND (app_token IS NULL OR app_token = ?)"
        " ORDER BY id LIMIT 1",
        (op, token),
    )
    if row is None:
        return None
    with rt.store.tx():
        if row["remaining"] is None:
            return row
        if row["remaining"] <= 1:
            rt.store.run("DELETE FROM backend_faults WHERE id = ?", (row["id"],))
            rt.backend_faults_changed()
        else:
            rt.store.run("UPDATE backend_faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
    return row


def view(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "op": row["op"],
        "token": row["app_token"],
        "error": row["error"],
        "http": row["http"],
        "delay": row["delay"],
        "count": row["remaining"],
        "created": iso(row["created"]),
    }
