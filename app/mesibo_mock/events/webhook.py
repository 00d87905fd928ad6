"""Mesibo's events and the webhook that carries them (SPEC section 5).

An `Outbox` collects the events of one request (or one timer round): users coming online or going
offline, messages that reached an offline user, push results. `flush()` writes them, in the caller's
transaction, as one delivery per app in Mesibo's v2 envelope, so a delivery owed when the server
stops is still owed after the next start. The scheduler then POSTs it: a receiver must answer HTTP 200
with `MESIBO OK`; anything else is a failed attempt, retried about 1 s and then 2 s later, 3 attempts
in all.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import TYPE_CHECKING

import orjson

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import tallies

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mesibo_mock.webhook")
MAX_ATTEMPTS = 3
CLAIM_MARGIN = 5.0  # seconds a claim outlives its attempt's deadline
BACKOFF_SECONDS = (1.0, 2.0)
KINDS = ("push", "message", "user")
RECEIVER_OK = "MESIBO OK"
LOOP_HEADER = "x-mesibo-mock-webhook"
CLOUD_REFUSES = "Mesibo's cloud calls webhooks over HTTPS only: it would refuse this http:// URL"


def wanted(app: sqlite3.Row, kind: str) -> bool:
    return bool(app["webhook_url"]) and kind in app["webhook_events"].split(",")


BACKEND_PREFIXES = ("/backend", "/api.php", "/mesiboapi", "/_mock")
LOOPBACK_NAMES = frozenset({"localhost", "0.0.0.0", "::", "::1", "ip6-localhost"})


def points_at_itself(url: str, own_port: int | None, own_names: set[str]) -> bool:
    """Whether a webhook URL names this emulator's own backend or /_mock (its POSTs would call the
    emulator again, which would raise events again: a loop)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    local = host in LOOPBACK_NAMES or host.startswith("127.") or host in own_names
    return local and port == own_port and parts.path.startswith(BACKEND_PREFIXES)


def cloud_note(rt: Runtime, url: str | None) -> str | None:
    """What Mesibo's cloud would say of a webhook URL the emulator delivers to anyway."""
    if rt.cloud and url and not url.lower().startswith("https://"):
        return CLOUD_REFUSES
    return None


class Outbox:
    """The events of one request or one timer round. The delivery engine is handed one (it imports
    nothing of this module) and reports its push records to it; ops and the scheduler add the rest."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.push_ids: list[int] = []  # every push record made, for the request journal
        self.notes: list[dict] = []  # what the request's journal entry says of its pushes
        self.delivered: list[int] = []  # the webhook deliveries written by flush()
        self._events: dict[str, tuple[sqlite3.Row, list[dict]]] = {}  # app token -> (app, events)

    # --- what raises events ----------------------------------------------------------------------
    def pushed(self, ids: range) -> None:
        self.push_ids.extend(ids)

    def throttled(self, reasons: list[str]) -> None:
        """Pushes held back by the app's `ratelimit` option: the journal says so, with the way out."""
        count = f"{len(reasons)} pushes were" if len(reasons) > 1 else "a push was"
        self.notes.append(
            {
                "problem": f"{count} throttled by the app's ratelimit option ({reasons[0]})",
                "hint": 'turn it off with pushset {"push": {"ratelimit": false}}, or shorten the interval'
                " with MESIBO_MOCK_PUSH_INTERVAL (seconds)",
                "kind": "throttled",
            }
        )

    def wants_pushes(self, app: sqlite3.Row) -> bool:
        return wanted(app, "push")

    def pushes(self, app: sqlite3.Row, records: list[dict]) -> None:
        """Push results; `request` and `response` travel only for pushes made in a debug window."""
        events = self._of(app)
        for record in records:
            push = dict(record)
            if not record.get("debug"):
                push.pop("request", None)
                push.pop("response", None)
            events.append({"type": "push", "push": push})

    def offline_message(self, app: sqlite3.Row, message: sqlite3.Row, recipients: list[sqlite3.Row]) -> None:
        """One event per offline recipient, unless one was sent to that user since it was last online
        [real: the webhook FAQ]."""
        if not wanted(app, "message"):
            return
        uids = [r["uid"] for r in recipients]
        fresh = set()
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            fresh.update(
                row["id"]
                for row in self.rt.store.all(
                    f"SELECT id FROM users WHERE id IN ({marks}) AND NOT offline_notified", chunk
                )
            )
            self.rt.store.run(f"UPDATE users SET offline_notified = 1 WHERE id IN ({marks})", chunk)
        body = message_body(message)
        events = self._of(app)
        for recipient in recipients:
            if recipient["uid"] in fresh:
                user = {"uid": recipient["uid"], "address": recipient["address"]}
                events.append({"type": "message", "message": body, "user": user})

    def user_status(self, app: sqlite3.Row, user: sqlite3.Row, online: bool) -> None:
        if wanted(app, "user"):
            self._of(app).append(
                {
                    "type": "user",
                    "user": {"uid": user["id"], "address": user["address"]},
                    "status": "online" if online else "offline",
                }
            )

    def _of(self, app: sqlite3.Row) -> list[dict]:
        entry = self._events.get(app["token"])
        if entry is None:
            entry = self._events[app["token"]] = (app, [])
        return entry[1]

    # --- one delivery per app ---------------------------------------------------------------------
    def flush(self) -> list[int]:
        """Write what was collected, one delivery per app, in the caller's transaction; -> their ids."""
        if not self._events:
            return []
        pending, self._events = self._events, {}
        rt = self.rt
        now = rt.clock.now()
        ids, announced, delivered = [], [], []
        for app, events in pending.values():
            if not events or not app["webhook_url"]:
                continue
            seq = rt.store.one(
                "UPDATE apps SET webhook_seq = webhook_seq + 1 WHERE id = ? RETURNING webhook_seq",
                (app["id"],),
            )["webhook_seq"]
            body: dict = {"server": "mesibo", "id": seq, "v": 2, "aid": app["id"], "ts": int(now * 1000)}
            if app["webhook_secret"]:
                body["secret"] = app["webhook_secret"]
            body["events"] = events
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
                    "note": cloud_note(rt, app["webhook_url"]),
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
                        _mid_of(event),
                        now,
                    )
                    for event in events
                ],
            )
            tallies.count(
                rt.store.conn, app["token"], ((_mid_of(e), "events", e["type"], now) for e in events)
            )
            ids.append(delivery)
            delivered.append({"app_token": app["token"], "state": "pending"})
            announced += [
                {"app_token": app["token"], "type": e["type"], "delivery_id": delivery} for e in events
            ]
        if ids:
            rt.wake_timers.set()
            rt.records_changed("events", announced)
            rt.records_changed("deliveries", delivered)
        self.delivered += ids
        return ids


def _mid_of(event: dict) -> int | None:
    if event["type"] == "push":
        return event["push"].get("mid")
    if event["type"] == "message":
        return event["message"].get("mid")
    return None


def message_body(message: sqlite3.Row) -> dict:
    body = {
        "mid": message["id"],
        "from": message["from_address"],
        "to": orjson.loads(message["to_list"]) if message["to_list"] is not None else None,
        "gid": message["gid"],
        "type": message["type"],
        "ts": int(message["ts"] * 1000),
        "message": message["message"],
    }
    if message["title"]:
        body["title"] = message["title"]
    if message["url"]:
        body["url"] = message["url"]
    return body


# --- sending -----------------------------------------------------------------------------------------
# Attempts under way for one app at once. One: a receiver gets an app's POSTs in the order they were
# raised (a user's online then offline must not arrive the other way round); a slow receiver holds up
# only its own app, since each app with something owed gets its own turn.
PER_APP_IN_FLIGHT = 1
# Attempts under way at once, across apps: each app's one is its own connection (the client's pool is
# as large), so 120 apps whose receivers hang leave room for the healthy ones.
MAX_IN_FLIGHT = 256
# What is read of a receiver's answer: Mesibo wants nine bytes, MESIBO OK. A longer answer fails the
# attempt unread; a compressed one is never inflated.
MAX_ANSWER_BYTES = 64 * 1024
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


def claim_due(rt: Runtime, in_flight_per_app: dict[str, int], room: int = MAX_IN_FLIGHT) -> list[sqlite3.Row]:
    """Due deliveries that no attempt holds, app by app (a backlog in one app never hides another's),
    oldest first and at most PER_APP_IN_FLIGHT per app counting those under way, at most `room` in all,
    each claimed in the store before it is sent: a second server on the same database skips it (two
    servers each keep their own count, so the order holds per server). A claim lasts past the attempt's
    deadline; if the process dies, the delivery is free again after it."""
    if room <= 0:
        return []
    wall = time.time()
    until = wall + rt.settings.webhook_timeout + CLAIM_MARGIN
    now = rt.clock.now()
    chosen: list[sqlite3.Row] = []
    with rt.store.tx():
        for app in rt.store.all(OWING_APPS):
            free = PER_APP_IN_FLIGHT - in_flight_per_app.get(app["token"], 0)
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


class AnswerTooLong(Exception):
    pass


async def post(
    client: httpx.AsyncClient, delivery: sqlite3.Row, deadline: float
) -> tuple[int, bytes, str | None]:
    """POST the delivery; -> (status, the answer's raw bytes, its Content-Encoding). At most
    MAX_ANSWER_BYTES are read (AnswerTooLong past that), and nothing is decompressed."""
    request = client.build_request(
        "POST",
        delivery["url"],
        content=delivery["payload"].encode(),
        headers={
            "content-type": "application/json",
            "user-agent": "mesibo-mock-webhook",
            "accept-encoding": "identity",
            LOOP_HEADER: "1",  # the backend refuses a call that carries it: a webhook pointed back at it loops
        },
        timeout=deadline,
    )
    answer = await client.send(request, stream=True)
    try:
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise AnswerTooLong(f"a body of {int(declared)} bytes")
        body = bytearray()
        async for chunk in answer.aiter_raw():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise AnswerTooLong(f"a body of more than {MAX_ANSWER_BYTES} bytes")
        return answer.status_code, bytes(body), answer.headers.get("content-encoding")
    finally:
        await answer.aclose()


async def attempt(rt: Runtime, client: httpx.AsyncClient, delivery: sqlite3.Row) -> None:
    import httpx

    generation = rt.generation  # a reset while the POST is under way makes its outcome moot
    number = delivery["attempts"] + 1
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    deadline = rt.settings.webhook_timeout
    try:
        # One deadline for the whole attempt, the answer's body included: httpx's timeout applies to
        # each read, and a receiver that trickles a byte at a time would otherwise hold it forever.
        status_code, body, encoding = await asyncio.wait_for(post(client, delivery, deadline), deadline)
        error = receiver_refusal(status_code, body, encoding)
    except (httpx.TimeoutException, TimeoutError):
        error = f"timed out after {deadline:g} s (the whole answer must come within it)"
    except AnswerTooLong as exc:
        error = f"answered {exc}: Mesibo wants only {RECEIVER_OK}, so the answer was not read"
    except (httpx.HTTPError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    ok = error is None
    now = rt.clock.now()
    if rt.generation != generation:
        log.info("webhook #%d attempt %d finished after a reset: not recorded", delivery["seq"], number)
        return
    with rt.store.tx():
        rt.store.insert(
            "webhook_attempts",
            {
                "app_token": delivery["app_token"],
                "delivery_id": delivery["id"],
                "url": delivery["url"],
                "attempt": number,
                "status_code": status_code,
                "error": error,
                "duration_ms": duration_ms,
                "ok": ok,
                "ts": now,
            },
        )
        carried = rt.store.all(
            "SELECT DISTINCT mid FROM webhook_events WHERE delivery_id = ? AND mid IS NOT NULL",
            (delivery["id"],),
        )
        outcome = "ok" if ok else "failed"
        tallies.count(
            rt.store.conn, delivery["app_token"], ((row["mid"], "attempts", outcome, now) for row in carried)
        )
        done = ok or number >= MAX_ATTEMPTS
        state = "delivered" if ok else "failed" if done else "pending"
        rt.store.update(
            "webhook_deliveries",
            delivery["id"],
            {
                "attempts": number,
                "next_at": None if done else now + BACKOFF_SECONDS[number - 1],
                "claimed_until": None,
                "state": state,
            },
        )
    rt.records_changed("deliveries", ({"app_token": delivery["app_token"], "state": state},))
    level = logging.INFO if ok else logging.WARNING
    note = f" ({delivery['note']})" if delivery["note"] else ""
    log.log(
        level,
        "webhook #%d (%d event%s) attempt %d -> %s%s",
        delivery["seq"],
        delivery["event_count"],
        "" if delivery["event_count"] == 1 else "s",
        number,
        "MESIBO OK" if ok else error,
        note,
    )


def receiver_refusal(status_code: int, body: bytes, encoding: str | None = None) -> str | None:
    """Why an answer is not what Mesibo wants (HTTP 200 and the plain text MESIBO OK); None if it is."""
    if status_code != 200:
        return f"receiver answered HTTP {status_code} (Mesibo wants 200 with {RECEIVER_OK})"
    if encoding and encoding.strip().lower() != "identity":
        return f"answered 200 compressed ({encoding[:40]}): Mesibo wants the plain text {RECEIVER_OK}"
    if body.strip() != RECEIVER_OK.encode():
        shown = body[:40].decode("utf-8", "replace")
        return (
            f"answered 200 without {RECEIVER_OK} (body {shown!r})"
            if body.strip()
            else f"answered 200 without {RECEIVER_OK} (empty body)"
        )
    return None


def release(rt: Runtime, delivery_ids: list[int]) -> None:
    """Give claimed deliveries back at once (the server is stopping with their attempts unfinished)."""
    marks = ", ".join("?" for _ in delivery_ids)
    with rt.store.tx():
        rt.store.run(
            f"UPDATE webhook_deliveries SET claimed_until = NULL WHERE id IN ({marks})", delivery_ids
        )


# --- views -------------------------------------------------------------------------------------------
def attempt_view(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "token": row["app_token"],
        "delivery": row["delivery_id"],
        "url": row["url"],
        "attempt": row["attempt"],
        "status_code": row["status_code"],
        "error": row["error"],
        "duration_ms": row["duration_ms"],
        "ok": bool(row["ok"]),
        "ts": iso(row["ts"]),
    }


def delivery_view(row: sqlite3.Row, events: list[dict] | None = None) -> dict:
    view = {
        "id": row["id"],
        "token": row["app_token"],
        "webhook_id": row["seq"],
        "url": row["url"],
        "state": row["state"],
        "attempts": row["attempts"],
        "next_attempt": iso(row["next_at"]),
        "event_count": row["event_count"],
        "note": row["note"],
        "created": iso(row["created"]),
    }
    if events is not None:
        view["events"] = events
    return view


def event_view(row: sqlite3.Row) -> dict:
    """An event as it was sent, with where it went: `{"id", "delivery", "app", "ts", "type", ...}`."""
    return {
        "id": row["id"],
        "delivery": row["delivery_id"],
        "app": row["app_token"],
        "ts": iso(row["ts"]),
    } | orjson.loads(row["body"])
