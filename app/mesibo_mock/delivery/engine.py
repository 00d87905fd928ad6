"""One push to one device: route, render, decide the outcome, record it, schedule what follows.

The order of decisions: injected faults and tokens already invalidated, then the built-in checks:
credentials (none: no request at all), the `ratelimit` throttle, then the checks the real services
make themselves (expiry, environment, token format, payload size).
"""

from __future__ import annotations

import logging
import random
import sqlite3

import orjson

from mesibo_mock.clock import iso
from mesibo_mock.delivery import faults
from mesibo_mock.delivery.content import DEFAULT_BODY, DEFAULT_TITLE, Push
from mesibo_mock.delivery.providers import PROVIDERS
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, credentials, messages, people, records
from mesibo_mock.services import faults as push_faults
from mesibo_mock.store.db import loads

log = logging.getLogger("mesibo_mock.push")
_dumps = orjson.dumps
_getrandbits = random.getrandbits


def push_type_for(device: sqlite3.Row, service: str, background: bool, kind: str) -> str:
    if device["platform"] == "ios" and device["voip"] and service == "apn":
        return "voip"
    if kind == "fallback" or not background:
        return "alert"
    return "background"


def service_for(device: sqlite3.Row, iosfcm: bool) -> str:
    return "fcm" if device["platform"] == "android" or iosfcm else "apn"


class Round:
    """The pushes of one request (a test push, a message, due fallbacks): the app, its options,
    credentials and "is any fault armed" are read once however many devices there are, and the
    records are written together by `send()`, inside the caller's transaction."""

    def __init__(self, rt: Runtime, app: sqlite3.Row, outbox=None) -> None:
        self.rt = rt
        self.app = app
        # Where the records' events go (events.webhook.Outbox): handed in, so the engine imports nothing
        # of the events module.
        self.outbox = outbox
        self.opts = apps.options(app)
        self.creds = credentials.InUse.memoized(rt, app["id"])
        self.now = rt.clock.now()
        # flags are stored as 0 and 1: sqlite3 binds an int as it is, a bool through its adapters
        self.debug = 1 if apps.debug_active(app, self.now) else 0
        self.faults_armed = self.creds.faults_armed
        self._records: list[dict] = []  # decided, not yet written
        self._rendered: list[tuple[dict | None, dict | None]] = []  # each one's request and response

    def add(
        self,
        device: sqlite3.Row,
        kind: str,
        body: str | None = None,
        *,
        title: str | None = None,
        mid: int | None = None,
        follows: int | None = None,
    ) -> None:
        """Decide one push to one device; nothing is written until send()."""
        opts = self.opts
        service = service_for(device, opts["iosfcm"])
        push = Push(
            push_type=push_type_for(device, service, opts["background"], kind),
            kind=kind,
            message_id=fake_id(16),
            title=title or DEFAULT_TITLE,
            body=DEFAULT_BODY if body is None else body,
            collapse=opts["collapse"],
            sound=opts["sound"],
            mid=mid,
        )
        request, response, status, reason, injected = _outcome(self, device, service, push)
        record = {
            "ts": self.now,
            "app_token": self.app["token"],
            "app_name": self.app["name"],
            "address": device["address"],
            "device_id": device["id"],
            "push_token": device["push_token"],
            "platform": device["platform"],
            "service": service,
            "push_type": push.push_type,
            "kind": kind,
            "status": status,
            "reason": reason,
            "debug": self.debug,
            # stored as JSON text (orjson writes it about ten times faster than the json module, which
            # matters when one message fans out to thousands of devices); written here, not by a helper
            "request": None if request is None else _dumps(request).decode(),
            "response": None if response is None else _dumps(response).decode(),
            "acked": 0,
            "fallback_due": _fallback_due(self.rt, opts, device, push, self.now),
            "mid": mid,
            "follows": follows,
            "injected": 1 if injected else 0,
        }
        self._records.append(record)
        self._rendered.append((request, response))

    def send(self) -> list[dict]:
        """Write every record decided so far; -> one result per push, in the order they were added."""
        pending, self._records = self._records, []
        rendered, self._rendered = self._rendered, []
        if not pending:
            return []
        rt, app = self.rt, self.app
        with rt.store.tx():
            conn = rt.store.statements  # the store's own cursor for writes: no cursor made per statement
            first = records.insert_pushes(conn, app["token"], pending)
            # read only while `ratelimit` is on, so written only then (services.apps recalls the
            # recent pushes when it is turned on)
            sent = self.opts["ratelimit"] and [r["device_id"] for r in pending if r["status"] == "sent"]
            if sent:
                records.mark_sent(conn, sent, self.now)
            throttled = []
            for record in pending:
                if record["reason"] is None:
                    continue
                if record["reason"] in faults.INVALIDATING:
                    records.mark_invalid(conn, record["device_id"], record["reason"])
                elif record["status"] == "throttled":
                    throttled.append(record["reason"])
            if self.outbox is not None:
                self.outbox.pushed(range(first, first + len(pending)))
                if throttled:
                    self.outbox.throttled(throttled)
                if self.outbox.wants_pushes(app):
                    views = [
                        view_of({**r, "id": first + i}, req, resp)
                        for i, (r, (req, resp)) in enumerate(zip(pending, rendered, strict=True))
                    ]
                    self.outbox.pushes(app, views)
        if log.isEnabledFor(logging.INFO):
            log.info("\n".join(_log_line(first + i, app["name"], record) for i, record in enumerate(pending)))
        rt.records_changed("pushes", pending)  # wakes the long-polls they match
        return [
            {
                "id": first + i,
                "service": record["service"],
                "platform": record["platform"],
                "status": record["status"],
                "reason": record["reason"],
                "device": record["device_id"],
            }
            for i, record in enumerate(pending)
        ]


def _log_line(record_id: int, app_name: str, record: dict) -> str:
    """One readable line per record, for a person watching the logs."""
    mid = f" mid={record['mid']}" if record["mid"] is not None else ""
    return (
        f"push #{record_id} app={app_name} address={record['address']} service={record['service']}"
        f" type={record['push_type']} kind={record['kind']}{mid} status={record['status']}"
        f" reason={record['reason'] or '-'}"
    )


def fake_id(digits: int) -> str:
    """Message ids only need to be unique-looking, not secret: no system entropy on the hot path, and
    random.randbytes without its Python frame (`digits` is even)."""
    return _getrandbits(4 * digits).to_bytes(digits // 2, "little").hex()


def _outcome(
    rnd: Round, device: sqlite3.Row, service: str, push: Push
) -> tuple[dict | None, dict | None, str, str | None, bool]:
    """Faults first (injected, or a token already dead), then the built-in checks (SPEC section 5): no
    credential (the request shows what would have been sent, and nothing answered it), the `ratelimit`
    throttle, then the checks the provider makes."""
    rt, app, opts, now = rnd.rt, rnd.app, rnd.opts, rnd.now
    provider = PROVIDERS[service]
    sandbox = bool(device["sandbox"]) and not opts["forceprod"]
    cred = provider.credential(rnd.creds, device)
    request = provider.render(push, device, cred, sandbox)

    injected = push_faults.take(rt, app["token"], device, service) if rnd.faults_armed else None
    dead = device["invalid_reason"] if device["invalid_reason"] in faults.INVALIDATING else None
    if injected is not None or dead is not None:
        reason = injected or dead
        return request, provider.fault_answer(reason, now), "failed", reason, injected is not None

    if cred is None:  # no credential: the request is never made, so nothing answers it
        return request, None, "failed", provider.no_credentials, False

    if opts["ratelimit"]:
        since = _since_last_sent(rt, device, now)
        if since is not None:
            return request, None, "throttled", throttle_reason(since, rt.settings.push_interval), False

    refused = provider.refusal(push, device, cred, request, sandbox, now)
    if refused is not None:
        reason, response = refused
        return request, response, "failed", reason, False
    return request, provider.success(push, cred, now), "sent", None, False


THROTTLED = "RATELIMIT"  # the rule a throttled push's reason names, before its numbers


def _since_last_sent(rt: Runtime, device: sqlite3.Row, now: float) -> float | None:
    """Seconds since the device's last sent push, when that is within the interval; None otherwise."""
    last = device["last_sent"]
    return now - last if last is not None and now - last < rt.settings.push_interval else None


def throttle_reason(since: float, interval: float) -> str:
    return (
        f"{THROTTLED}: {since:.1f} s since the last push to this device, within the"
        f" {interval:g} s interval (MESIBO_MOCK_PUSH_INTERVAL)"
    )


def _fallback_due(rt: Runtime, opts: dict, device: sqlite3.Row, push: Push, now: float) -> float | None:
    """A background push to a device that will not answer earns an alert fallback later, whatever
    became of the push itself (a device that never got it does not answer either)."""
    wanted = opts["fallback"] and push.push_type == "background" and push.kind in ("test", "message")
    if wanted and not device["responds"]:
        return now + rt.settings.fallback_seconds
    return None


def record_view(row: sqlite3.Row) -> dict:
    """A stored record as the API shows it."""
    return view_of(row, loads(row["request"]), loads(row["response"]))


def view_of(row, request: dict | None, response: dict | None) -> dict:
    """A record's public shape; `row` is a stored row or the values just inserted."""
    return {
        "id": row["id"],
        "ts": iso(row["ts"]),
        "app": row["app_token"],
        "app_name": row["app_name"],
        "address": row["address"],
        "device": row["device_id"],
        "push_token": row["push_token"],
        "platform": row["platform"],
        "service": row["service"],
        "push_type": row["push_type"],
        "kind": row["kind"],
        "status": row["status"],
        "reason": row["reason"],
        "debug": bool(row["debug"]),
        "acked": bool(row["acked"]),
        "fallback_due": iso(row["fallback_due"]),
        "mid": row["mid"],
        "follows": row["follows"],
        "injected": bool(row["injected"]),
        "request": request,
        "response": response,
    }


FALLBACK_BATCH = 500


def fire_due_fallbacks(rt: Runtime, outbox=None, limit: int = FALLBACK_BATCH) -> bool:
    """Make up to `limit` fallbacks whose time has come; -> whether more are due. Called by the
    scheduler, batch after batch, so that requests get through in between."""
    now = rt.clock.now()
    with rt.store.tx():
        due = records.take_due_fallbacks(rt, now, limit)
        batch = due[:limit]
        if not batch:
            return False
        rounds: dict[str, Round | None] = {}
        for row in batch:
            if row["app_token"] not in rounds:
                app = apps.by_token(rt, row["app_token"])
                rounds[row["app_token"]] = Round(rt, app, outbox) if app is not None else None
            rnd = rounds[row["app_token"]]
            device = people.device(rt, row["device_id"])
            expired = (
                row["mid"] is not None and row["m_ts"] is not None and now >= row["m_ts"] + row["expiry"]
            )
            if rnd is not None and device is not None and not expired:
                title = (
                    messages.push_title(row["title"], row["name"], row["from_address"])
                    if row["mid"]
                    else None
                )
                rnd.add(device, "fallback", row["message"], title=title, mid=row["mid"], follows=row["id"])
        for rnd in rounds.values():
            if rnd is not None:
                rnd.send()
    return len(due) > limit
