"""The webhook's rows: deliveries (one POST each, in Mesibo's v2 envelope), the events they carry and
every attempt to send one. What raises events (events/outbox.py), what posts them (events/sending.py)
and /_mock read and write them here."""

from __future__ import annotations

import sqlite3
import time

import orjson

from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import tallies
from mesibo_mock.store.db import where

# The apps with something owed, found by skipping from one app's token to the next in the index of
# owed deliveries: as many index seeks as such apps, however many apps there are or however long a
# backlog is.
OWING_APPS = (
    "WITH RECURSIVE owing(token) AS ("
    " SELECT MIN(app_token) FROM webhook_deliveries WHERE next_at IS NOT NULL"
    " UNION ALL SELECT (SELECT MIN(app_token) FROM webhook_deliveries"
    "  WHERE next_at IS NOT NULL AND app_token > owing.token) FROM owing WHERE owing.token IS NOT NULL"
    ") SELECT token FROM owing WHERE token IS NOT NULL"
)


# --- raising ---------------------------------------------------------------------------------------
def first_offline_notices(rt: Runtime, uids: list[int]) -> set[int]:
    """Of these users, the ones no offline-message event has gone to since they were last online; every
    one of them is marked as told (Mesibo sends one until the user comes online: the webhook FAQ)."""
    fresh: set[int] = set()
    for start in range(0, len(uids), 500):
        chunk = uids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        fresh.update(
            row["id"]
            for row in rt.store.all(
                f"SELECT id FROM users WHERE id IN ({marks}) AND NOT offline_notified", chunk
            )
        )
        rt.store.run(f"UPDATE users SET offline_notified = 1 WHERE id IN ({marks})", chunk)
    return fresh


def write_delivery(
    rt: Runtime, app: sqlite3.Row, body: dict, events: list[dict], mids: list[int | None], note: str | None
) -> int:
    """One delivery of `events` (its envelope `body`, numbered with the app's next webhook id), in the
    caller's transaction, each event counted in its message's tallies; -> the delivery's id."""
    now = rt.clock.now()
    seq = rt.store.one(
        "UPDATE apps SET webhook_seq = webhook_seq + 1 WHERE id = ? RETURNING webhook_seq", (app["id"],)
    )["webhook_seq"]
    body["id"] = seq
    delivery = rt.store.insert(
        "webhook_deliveries",
        {
            "app_token": app["token"],
            "seq": seq,
            "url": app["webhook_url"],
            "payload": orjson.dumps(body).decode(),
            "event_count": len(events),
            "attempts": 0,
            "next_at": now,
            "state": "pending",
            "note": note,
            "created": now,
        },
    )
    rt.store.conn.executemany(
        "INSERT INTO webhook_events (delivery_id, app_token, type, body, push_id, mid, ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                delivery,
                app["token"],
                event["type"],
                orjson.dumps(event).decode(),
                event["push"]["id"] if event["type"] == "push" else None,
                mid,
                now,
            )
            for event, mid in zip(events, mids, strict=True)
        ],
    )
    tallies.count(
        rt.store.conn,
        app["token"],
        ((mid, "events", e["type"], now) for e, mid in zip(events, mids, strict=True)),
    )
    return delivery


# --- sending ---------------------------------------------------------------------------------------
def claim_due(
    rt: Runtime, in_flight_per_app: dict[str, int], per_app: int, room: int, claim_seconds: float
) -> list[sqlite3.Row]:
    """Due deliveries that no attempt holds, app by app (a backlog in one app never hides another's),
    oldest first and at most `per_app` per app counting those under way, at most `room` in all, each
    claimed in the store for `claim_seconds` before it is sent: a second server on the same database
    skips it (two servers each keep their own count, so the order holds per server). If the process
    dies, the delivery is free again after the claim."""
    wall = time.time()
    until = wall + claim_seconds
    now = rt.clock.now()
    chosen: list[sqlite3.Row] = []
    with rt.store.tx():
        for app in rt.store.all(OWING_APPS):
            free = per_app - in_flight_per_app.get(app["token"], 0)
            if free <= 0:
                continue
            rows = rt.store.all(
                "SELECT * FROM webhook_deliveries WHERE app_token = ? AND next_at IS NOT NULL AND next_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_at, id LIMIT ?",
                (app["token"], now, wall, min(free, room - len(chosen))),
            )
            for row in rows:
                rt.store.run(
                    "UPDATE webhook_deliveries SET claimed_until = ? WHERE id = ?", (until, row["id"])
                )
                chosen.append(row)
            if len(chosen) >= room:
                break
    return chosen


def record_attempt(
    rt: Runtime, delivery: sqlite3.Row, attempt: dict, next_at: float | None, state: str
) -> None:
    """An attempt's outcome, the delivery's state after it, and the attempt counted in the tallies of
    the messages whose events it carried."""
    now = attempt["ts"]
    with rt.store.tx():
        rt.store.insert(
            "webhook_attempts", {"app_token": delivery["app_token"], "delivery_id": delivery["id"], **attempt}
        )
        carried = rt.store.all(
            "SELECT DISTINCT mid FROM webhook_events WHERE delivery_id = ? AND mid IS NOT NULL",
            (delivery["id"],),
        )
        outcome = "ok" if attempt["ok"] else "failed"
        tallies.count(
            rt.store.conn, delivery["app_token"], ((row["mid"], "attempts", outcome, now) for row in carried)
        )
        rt.store.update(
            "webhook_deliveries",
            delivery["id"],
            {"attempts": attempt["attempt"], "next_at": next_at, "claimed_until": None, "state": state},
        )


def release(rt: Runtime, delivery_ids: list[int]) -> None:
    """Give claimed deliveries back at once (the server is stopping with their attempts unfinished)."""
    marks = ", ".join("?" for _ in delivery_ids)
    with rt.store.tx():
        rt.store.run(
            f"UPDATE webhook_deliveries SET claimed_until = NULL WHERE id IN ({marks})", delivery_ids
        )


# --- reading ---------------------------------------------------------------------------------------
def attempts(
    rt: Runtime, token: str | None, delivery: int | None, push_id: int | None, limit: int
) -> list[sqlite3.Row]:
    """Attempts, newest first, with their delivery's number, note and event count; `push_id`: those
    that carried that push record's event."""
    clause, args = where(
        {"a.app_token": token, "a.delivery_id": delivery},
        ("a.delivery_id IN (SELECT delivery_id FROM webhook_events WHERE push_id = ?)", push_id),
    )
    return rt.store.all(
        "SELECT a.*, d.seq, d.note, d.event_count FROM webhook_attempts a"
        f" JOIN webhook_deliveries d ON d.id = a.delivery_id{clause} ORDER BY a.id DESC LIMIT ?",
        [*args, limit],
    )


def answered_wrongly(
    rt: Runtime, token: str | None, since: float | None, after: int | None, limit: int
) -> list[sqlite3.Row]:
    """Attempts a receiver answered, but not with HTTP 200 and MESIBO OK (a connection refused or timed
    out is the network's, not the handler's), of deliveries made at or after `since` and past attempt
    id `after`, oldest first."""
    clause, args = where(
        {"a.app_token": token},
        ("d.created >= ?", since),
        ("a.id > ?", after),
    )
    clause = (clause + " AND" if clause else " WHERE") + " NOT a.ok AND a.status_code IS NOT NULL"
    return rt.store.all(
        "SELECT a.*, d.seq FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"
        f"{clause} ORDER BY a.id LIMIT ?",
        [*args, limit],
    )


def newest_attempt_id(rt: Runtime) -> int:
    return rt.store.one("SELECT COALESCE(MAX(id), 0) AS n FROM webhook_attempts")["n"]


def pending_count(rt: Runtime) -> int:
    return rt.store.one("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE next_at IS NOT NULL")["n"]


def deliveries(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[sqlite3.Row]:
    clause, args = where(filters, ("id > ?", after))
    return rt.store.all(f"SELECT * FROM webhook_deliveries{clause} ORDER BY id DESC LIMIT ?", [*args, limit])


def kinds_of(rt: Runtime, delivery_ids: list[int]) -> dict[int, list[str]]:
    """Each delivery's events' types, in order."""
    kinds: dict[int, list[str]] = {delivery: [] for delivery in delivery_ids}
    if delivery_ids:
        marks = ", ".join("?" for _ in delivery_ids)
        for event in rt.store.all(
            f"SELECT delivery_id, type FROM webhook_events WHERE delivery_id IN ({marks}) ORDER BY id",
            delivery_ids,
        ):
            kinds[event["delivery_id"]].append(event["type"])
    return kinds


def events(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[sqlite3.Row]:
    clause, args = where(filters, ("id > ?", after))
    return rt.store.all(f"SELECT * FROM webhook_events{clause} ORDER BY id DESC LIMIT ?", [*args, limit])


def cancel(conn: sqlite3.Connection, app_token: str) -> None:
    """The app's owed deliveries will never be sent (its webhook was removed or changed)."""
    conn.execute(
        "UPDATE webhook_deliveries SET next_at = NULL, state = 'cancelled' WHERE app_token = ? AND next_at IS NOT NULL",
        (app_token,),
    )
