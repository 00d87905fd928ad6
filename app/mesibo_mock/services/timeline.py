"""A message's life on the emulator clock, for the dashboard's timeline (GET /_mock/messages/{mid}/timeline):
the backend call that sent it, each recipient (online or offline), each push with its FCM or APNs answer
(throttles and fallbacks included), and each webhook event with its attempts.

Every query is bounded whatever the message's size: the counts come from the message's tallies (kept as
its rows are written), and the rows of each kind are read with a LIMIT. A message to more than DETAILED
recipients is told as counts per kind (with the time each kind began and ended) and its first SHOWN rows
of each kind.
"""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, tallies

DETAILED = 50  # recipients up to which each gets its rows; past it, counts
MOST_ROWS = 400  # rows of each kind a detailed timeline shows at most (a member may get several pushes)
SHOWN = 50  # rows of each kind a summarised timeline shows beside its counts
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
    with store.lock:
        counted = tallies.of(store.conn, mid)
    online = {1: _n(counted, "recipients", "online"), 0: _n(counted, "recipients", "offline")}
    recipients = online[0] + online[1]
    pushes, events, attempts = (counted.get(kind, {}) for kind in ("pushes", "events", "attempts"))
    fallbacks = _n(counted, "fallbacks", "fallback")
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
    rows = MOST_ROWS if detailed else SHOWN
    if not detailed:
        items += _summary_items(start, recipients, online, pushes, fallbacks, events, attempts)
    items += _recipient_items(store, mid, start, rows)
    items += _push_items(store, mid, start, rows)
    event_items = _event_items(store, mid, start, rows)
    items += event_items
    items += _attempt_items(store, sorted({e["delivery"] for e in event_items}), start, rows)
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
            "online": online[1],
            "offline": online[0],
            "pushes": {part: n for part, (n, _, _) in pushes.items()},
            "fallbacks": fallbacks,
            "events": {part: n for part, (n, _, _) in events.items()},
            "attempts": {part: n for part, (n, _, _) in attempts.items()},
        },
        "shown": None if detailed else SHOWN,
        "span": max([0.0, *(item["at"] for item in items)]),
        "items": items,
    }


def _n(counted: dict, kind: str, part: str) -> int:
    return counted.get(kind, {}).get(part, (0, 0.0, 0.0))[0]


def _item(at: float, kind: str, state: str, text: str, **refs) -> dict:
    return {"at": round(max(at, 0.0), 3), "kind": kind, "state": state, "text": text, **refs}


def _recipient_items(store, mid: int, start: float, limit: int) -> list[dict]:
    rows = store.all(
        "SELECT address, online FROM message_recipients WHERE mid = ? ORDER BY id LIMIT ?", (mid, limit)
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


def _push_items(store, mid: int, start: float, limit: int) -> list[dict]:
    rows = store.all(
        "SELECT id, ts, address, service, push_type, kind, status, reason, follows,"
        " json_extract(response, '$.status') AS answer FROM pushes WHERE mid = ? ORDER BY id LIMIT ?",
        (mid, limit),
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


def _event_items(store, mid: int, start: float, limit: int) -> list[dict]:
    rows = store.all(
        "SELECT id, ts, type, delivery_id, body FROM webhook_events WHERE mid = ? ORDER BY id LIMIT ?",
        (mid, limit),
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


def _attempt_items(store, deliveries: list[int], start: float, limit: int) -> list[dict]:
    """The attempts of the deliveries the shown events went in."""
    if not deliveries:
        return []
    marks = ", ".join("?" for _ in deliveries)
    rows = store.all(
        "SELECT delivery_id, attempt, ts, ok, status_code, error FROM webhook_attempts"
        f" WHERE delivery_id IN ({marks}) ORDER BY id LIMIT ?",
        (*deliveries, limit),
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
