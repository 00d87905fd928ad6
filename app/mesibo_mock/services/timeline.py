"""A message's life on the emulator clock, for the dashboard's timeline (GET /_mock/messages/{mid}/timeline):
the backend call that sent it, each recipient (online or offline), each push with its FCM or APNs answer
(throttles and fallbacks included), and each webhook event with its attempts.

Every query is bounded: a message to more than DETAILED recipients is told as counts per kind (with the
time each kind began and ended), not as one row per recipient, push or event.
"""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps

DETAILED = 50  # recipients up to which each gets its rows; past it, counts
MOST_ROWS = 400  # rows of each kind a detailed timeline shows at most (a member may get several pushes)
# the order of steps at one instant: the call, then who it reached, their pushes, events, attempts
RANK = {
    kind: rank
    for rank, kinds in enumerate(
        (
            ("call",),
            ("recipient", "recipients"),
            ("push", "pushes"),
            ("event", "events"),
            ("attempt", "attempts"),
        )
    )
    for kind in kinds
}


def timeline(rt: Runtime, message: sqlite3.Row) -> dict:
    mid, start = message["id"], message["ts"]
    app = apps.by_token(rt, message["app_token"])
    store = rt.store
    online = dict(
        store.all("SELECT online, COUNT(*) FROM message_recipients WHERE mid = ? GROUP BY online", (mid,))
    )
    recipients = sum(online.values())
    pushes = _counted(
        store, "SELECT status AS part, COUNT(*), MIN(ts), MAX(ts) FROM pushes WHERE mid = ?", mid
    )
    fallbacks = store.one("SELECT COUNT(*) FROM pushes WHERE mid = ? AND kind = 'fallback'", (mid,))[0]
    events = _counted(
        store, "SELECT type AS part, COUNT(*), MIN(ts), MAX(ts) FROM webhook_events WHERE mid = ?", mid
    )
    carried = "SELECT DISTINCT delivery_id FROM webhook_events WHERE mid = ?"
    attempts = _counted(
        store,
        "SELECT CASE WHEN ok THEN 'ok' ELSE 'failed' END AS part, COUNT(*), MIN(ts), MAX(ts)"
        f" FROM webhook_attempts WHERE delivery_id IN ({carried})",
        mid,
    )
    call = store.one("SELECT id, ts, op, result, path FROM journal WHERE mid = ? ORDER BY id LIMIT 1", (mid,))
    items = []
    if call is not None:
        items.append(
            _item(
                0.0,  # the call is what sent it (its entry is written as it answers, a moment later)
                "call",
                "ok" if call["result"] else "refused",
                f"{call['op']} call #{call['id']} to {call['path']}",
                request=call["id"],
            )
        )
    detailed = recipients <= DETAILED
    if detailed:
        items += _recipient_items(store, mid, start)
        items += _push_items(store, mid, start)
        items += _event_items(store, mid, start)
        items += _attempt_items(store, carried, mid, start)
    else:
        items += _summary_items(start, recipients, online, pushes, fallbacks, events, attempts)
    items.sort(key=lambda item: (item["at"], RANK[item["kind"]]))
    return {
        "mid": mid,
        "app": message["app_token"],
        "app_name": app["name"] if app is not None else None,
        "from": message["from_address"],
        "ts": iso(start),
        "detailed": detailed,
        "counts": {
            "recipients": recipients,
            "online": online.get(1, 0),
            "offline": online.get(0, 0),
            "pushes": {part: n for part, (n, _, _) in pushes.items()},
            "fallbacks": fallbacks,
            "events": {part: n for part, (n, _, _) in events.items()},
            "attempts": {part: n for part, (n, _, _) in attempts.items()},
        },
        "span": max([0.0, *(item["at"] for item in items)]),
        "items": items,
    }


def _counted(store, select: str, mid: int) -> dict[str, tuple[int, float, float]]:
    """part -> (how many, first time, last time)."""
    return {row[0]: (row[1], row[2], row[3]) for row in store.all(f"{select} GROUP BY part", (mid,))}


def _item(at: float, kind: str, state: str, text: str, **refs) -> dict:
    return {"at": round(max(at, 0.0), 3), "kind": kind, "state": state, "text": text, **refs}


def _recipient_items(store, mid: int, start: float) -> list[dict]:
    rows = store.all(
        "SELECT address, online FROM message_recipients WHERE mid = ? ORDER BY id LIMIT ?", (mid, MOST_ROWS)
    )
    return [
        _item(
            0.0,
            "recipient",
            "online" if row["online"] else "offline",
            f"{row['address']}: {'online, gets it at once' if row['online'] else 'offline, pushed'}",
            address=row["address"],
        )
        for row in rows
    ]


def _push_items(store, mid: int, start: float) -> list[dict]:
    rows = store.all(
        "SELECT id, ts, address, service, push_type, kind, status, reason, follows,"
        " json_extract(response, '$.status') AS answer FROM pushes WHERE mid = ? ORDER BY id LIMIT ?",
        (mid, MOST_ROWS),
    )
    items = []
    for row in rows:
        service = "FCM" if row["service"] == "fcm" else "APNs"
        if row["status"] == "throttled":
            answered = "not sent (throttled)"
        elif row["answer"] is None:
            answered = f"no request ({row['reason']})"
        else:
            answered = f"{service} answered {row['answer']}" + (f" {row['reason']}" if row["reason"] else "")
        what = (
            f"fallback of push #{row['follows']}" if row["kind"] == "fallback" else f"{row['push_type']} push"
        )
        items.append(
            _item(
                row["ts"] - start,
                "push",
                row["status"],
                f"push #{row['id']} to {row['address']} ({what}, {service}): {answered}",
                push=row["id"],
                address=row["address"],
            )
        )
    return items


def _event_items(store, mid: int, start: float) -> list[dict]:
    rows = store.all(
        "SELECT id, ts, type, delivery_id, body FROM webhook_events WHERE mid = ? ORDER BY id LIMIT ?",
        (mid, MOST_ROWS),
    )
    items = []
    for row in rows:
        body = orjson.loads(row["body"])
        if row["type"] == "push":
            about = f"push #{body['push']['id']} {body['push']['status']}"
        else:
            about = f"offline message to {(body.get('user') or {}).get('address', '?')}"
        items.append(
            _item(
                row["ts"] - start,
                "event",
                row["type"],
                f"webhook event #{row['id']} ({about}) in delivery #{row['delivery_id']}",
                delivery=row["delivery_id"],
            )
        )
    return items


def _attempt_items(store, carried: str, mid: int, start: float) -> list[dict]:
    rows = store.all(
        "SELECT delivery_id, attempt, ts, ok, status_code, error FROM webhook_attempts"
        f" WHERE delivery_id IN ({carried}) ORDER BY id LIMIT ?",
        (mid, MOST_ROWS),
    )
    return [
        _item(
            row["ts"] - start,
            "attempt",
            "ok" if row["ok"] else "failed",
            f"delivery #{row['delivery_id']} attempt {row['attempt']}: "
            + ("MESIBO OK" if row["ok"] else (row["error"] or f"HTTP {row['status_code']}")),
            delivery=row["delivery_id"],
        )
        for row in rows
    ]


def _summary_items(
    start: float, recipients: int, online: dict, pushes: dict, fallbacks: int, events: dict, attempts: dict
) -> list[dict]:
    """One row per kind, for a message too large to draw member by member."""
    items = [
        _item(
            0.0,
            "recipients",
            "offline" if online.get(0) else "online",
            f"{recipients:,} recipients: {online.get(1, 0):,} online, {online.get(0, 0):,} offline",
        )
    ]
    for kind, parts, noun in (("pushes", pushes, "pushes"), ("events", events, "webhook events")):
        if parts:
            total = sum(n for n, _, _ in parts.values())
            first = min(first for _, first, _ in parts.values())
            last = max(last for _, _, last in parts.values())
            each = ", ".join(f"{n:,} {part}" for part, (n, _, _) in sorted(parts.items()))
            extra = f"; {fallbacks:,} fallbacks" if kind == "pushes" and fallbacks else ""
            items.append(
                _item(
                    first - start,
                    kind,
                    _worst(parts),
                    f"{total:,} {noun} ({each}{extra}), over {last - first:.1f} s",
                )
            )
    if attempts:
        each = ", ".join(f"{n:,} {part}" for part, (n, _, _) in sorted(attempts.items()))
        first = min(first for _, first, _ in attempts.values())
        items.append(_item(first - start, "attempts", _worst(attempts), f"webhook attempts: {each}"))
    return items


def _worst(parts: dict) -> str:
    for state in ("failed", "throttled"):
        if state in parts:
            return state
    return next(iter(sorted(parts)))
