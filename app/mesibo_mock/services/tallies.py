"""A message's counts, kept as its rows are written (message_tallies): recipients online and offline,
pushes by status, fallbacks, webhook events by type, attempts ok and failed, each with its first and
last time. Written in the writer's own transaction, a statement per batch, so that a timeline's counts
are a few rows whatever the message's size (SPEC section 6)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

UPSERT = (
    "INSERT INTO message_tallies (mid, kind, part, app_token, n, first, last) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (mid, kind, part) DO UPDATE SET n = n + excluded.n, first = min(first, excluded.first),"
    " last = max(last, excluded.last)"
)


def count(
    conn: sqlite3.Connection, app_token: str, items: Iterable[tuple[int | None, str, str, float]]
) -> None:
    """Add `(mid, kind, part, ts)` items (those without a message are not counted), one row per
    (mid, kind, part) however many items share it."""
    grouped: dict[tuple[int, str, str], list] = {}
    for mid, kind, part, ts in items:
        if mid is None:
            continue
        found = grouped.get((mid, kind, part))
        if found is None:
            grouped[(mid, kind, part)] = [1, ts, ts]
        else:
            found[0] += 1
            found[1] = min(found[1], ts)
            found[2] = max(found[2], ts)
    if grouped:
        conn.executemany(
            UPSERT,
            [(mid, kind, part, app_token, n, a, b) for (mid, kind, part), (n, a, b) in grouped.items()],
        )


def of(conn: sqlite3.Connection, mid: int) -> dict[str, dict[str, tuple[int, float, float]]]:
    """kind -> part -> (how many, first time, last time)."""
    found: dict[str, dict[str, tuple[int, float, float]]] = {}
    for row in conn.execute("SELECT kind, part, n, first, last FROM message_tallies WHERE mid = ?", (mid,)):
        found.setdefault(row[0], {})[row[1]] = (row[2], row[3], row[4])
    return found
