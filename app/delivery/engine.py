"""One push to one device: route, render, decide the outcome, record it, schedule what follows.

The order of decisions: injected faults and tokens already invalidated, then the built-in checks:
credentials (none: no request at all), the `ratelimit` throttle, then the checks the real services
make themselves (expiry, environment, token format, payload size).
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3

from mesibo_mock.clock import iso
from mesibo_mock.delivery import apns, faults, fcm
from mesibo_mock.delivery.content import DEFAULT_BODY, Push
from mesibo_mock.runtime import Runtime
from mesibo_mock.services import apps, credentials
from mesibo_mock.store import loads

log = logging.getLogger("mesibo_mock.push")
HEX = frozenset("0123456789abcdefABCDEF")


def push_type_for(device: sqlite3.Row, service: str, background: bool, kind: str) -> str:
    if device["platform"] == "ios" and device["voip"] and service == "apn":
        return "voip"
    if kind == "fallback" or not background:
        return "alert"
    return "background"


def service_for(device: sqlite3.Row, iosfcm: bool) -> str:
    return "fcm" if device["platform"] == "android" or iosfcm else "apn"


class Round:
    """What the pushes of one request share: the app, its options and credentials, the time, and
    whether any fault is armed at all, read once however many devices the user has. Used as a
    context manager inside the caller's transaction; on leaving it marks the devices sent to."""

    def __init__(self, rt: Runtime, app: sqlite3.Row) -> None:
        self.rt = rt
        self.app = app
        self.opts = apps.options(app)
        self.creds = credentials.InUse(rt, app["id"])
        self.now = rt.clock.now()
        self.debug = apps.debug_active(app, self.now)
        self.faults_armed = faults.armed(rt)
        self.sent_to: list[int] = []

    def __enter__(self) -> Round:
        return self

    def __exit__(self, exc_type, *_: object) -> None:
        if exc_type is None and self.sent_to:  # the throttle's memory: one statement for all devices
            marks = ", ".join("?" for _ in self.sent_to)
            self.rt.store.run(
                f"UPDATE devices SET last_sent = ? WHERE id IN ({marks})", [self.now, *self.sent_to]
            )


def deliver(rnd: Round, device: sqlite3.Row, kind: str = "test", body: str | None = None) -> dict:
    """Make one push record (inside the caller's transaction); -> its id, device and outcome."""
    rt, app, opts, now = rnd.rt, rnd.app, rnd.opts, rnd.now
    service = service_for(device, opts["iosfcm"])
    push = Push(
        push_type=push_type_for(device, service, opts["background"], kind),
        kind=kind,
        message_id=fake_id(16),
        body=body or DEFAULT_BODY,
        collapse=opts["collapse"],
        sound=opts["sound"],
    )
    request, response, status, reason = _outcome(rnd, device, service, push)
    record = {
        "ts": now,
        "app_token": app["token"],
        "app_name": app["name"],
        "address": device["address"],
        "device_id": device["id"],
        "push_token": device["push_token"],
        "platform": device["platform"],
        "service": service,
        "push_type": push.push_type,
        "kind": kind,
        "status": status,
        "reason": reason,
        "debug": rnd.debug,
        "request": json.dumps(request) if request is not None else None,
        "response": json.dumps(response) if response is not None else None,
        "acked": False,
        "fallback_due": _fallback_due(rt, opts, device, push, now),
    }
    with rt.store.tx():
        record_id = rt.store.insert("pushes", record)
        if status == "sent":
            rnd.sent_to.append(device["id"])
        if reason in faults.INVALIDATING:
            rt.store.update("devices", device["id"], {"invalid_reason": reason})
        if app["webhook_url"]:
            _enqueue_webhook(rt, app, view_of({**record, "id": record_id}, request, response))
    log.info(
        "push #%d app=%s address=%s service=%s type=%s kind=%s status=%s reason=%s",
        record_id,
        app["name"],
        device["address"],
        service,
        push.push_type,
        kind,
        status,
        reason or "-",
    )
    rt.pushes_changed()  # wakes long-polls
    return {
        "id": record_id,
        "service": service,
        "platform": device["platform"],
        "status": status,
        "reason": reason,
        "device": device["id"],
    }


def fake_id(digits: int) -> str:
    """Message ids only need to be unique-looking, not secret: no system entropy on the hot path."""
    return f"{random.getrandbits(digits * 4):0{digits}x}"


def _outcome(
    rnd: Round, device: sqlite3.Row, service: str, push: Push
) -> tuple[dict | None, dict | None, str, str | None]:
    """Faults first (injected, or a token already dead), then the built-in checks (SPEC section 5)."""
    rt, app, opts, now = rnd.rt, rnd.app, rnd.opts, rnd.now
    use_sandbox = bool(device["sandbox"]) and not opts["forceprod"]
    if service == "fcm":
        cred = rnd.creds.fcm
        project_id = cred["project_id"] if cred is not None else fcm.ANY_PROJECT
        ios = device["platform"] == "ios"
        request = fcm.render(push, device["push_token"], project_id, ios=ios, topic=device["appid"])
    else:
        cred = rnd.creds.apn_for(device["appid"])
        request = apns.render(push, device["push_token"], device["appid"], use_sandbox)

    injected = faults.take(rt, app["token"], device, service) if rnd.faults_armed else None
    if injected is None and device["invalid_reason"] in faults.INVALIDATING:
        injected = device["invalid_reason"]
    if injected is not None:
        apns_id = apns.new_apns_id() if service == "apn" else None
        return request, faults.fault_response(injected, now, apns_id), "failed", injected

    if cred is None:  # no credential: no request is made at all
        return None, None, "failed", "NO_FCM_CREDENTIALS" if service == "fcm" else "NO_APN_CREDENTIALS"

    if opts["ratelimit"] and _throttled(rt, device, now):
        return request, None, "throttled", None

    if service == "fcm":
        if not push.surely_fits(fcm.MAX_PAYLOAD) and fcm.payload_size(request) > fcm.MAX_PAYLOAD:
            response = _fcm_error("INVALID_ARGUMENT", "Message is too big", now)
            return request, response, "failed", "INVALID_ARGUMENT"
        message_id = f"0:{int(now * 1000)}%{push.message_id}"
        return request, fcm.success(cred["project_id"], message_id), "sent", None

    apns_id = apns.new_apns_id()
    reason = _apns_refusal(cred, device, use_sandbox, push, request, now)
    if reason is not None:
        return request, apns.error(faults.FAULTS[reason].status, reason, apns_id), "failed", reason
    return request, apns.success(apns_id), "sent", None


def _apns_refusal(
    cred: sqlite3.Row, device: sqlite3.Row, use_sandbox: bool, push: Push, request: dict, now: float
) -> str | None:
    if cred["expiry"] is not None and cred["expiry"] <= now:
        return "BadCertificate"
    if not (cred["sandbox"] if use_sandbox else cred["production"]):
        return "BadCertificateEnvironment"
    token = device["push_token"]
    if not token or not set(token) <= HEX:
        return "BadDeviceToken"
    limit = apns.payload_limit(push)
    if not push.surely_fits(limit) and apns.payload_size(request) > limit:
        return "PayloadTooLarge"
    return None


def _fcm_error(code: str, message: str, now: float) -> dict:
    response = faults.fault_response(code, now)
    response["body"]["error"]["message"] = message
    return response


def _throttled(rt: Runtime, device: sqlite3.Row, now: float) -> bool:
    last = device["last_sent"]
    return last is not None and now - last < rt.settings.push_interval


def _fallback_due(rt: Runtime, opts: dict, device: sqlite3.Row, push: Push, now: float) -> float | None:
    """A background push to a device that will not answer earns an alert fallback later, whatever
    became of the push itself (a device that never got it does not answer either)."""
    wanted = opts["fallback"] and push.push_type == "background" and push.kind == "test"
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
        "request": request,
        "response": response,
    }


def _enqueue_webhook(rt: Runtime, app: sqlite3.Row, record: dict) -> None:
    from mesibo_mock.delivery import webhook

    webhook.enqueue(rt, app, record)


def fire_due_fallbacks(rt: Runtime) -> int:
    """Make every fallback whose time has come; called by the timer loop and when the clock moves."""
    now = rt.clock.now()
    fired = 0
    while True:
        with rt.store.tx():
            due = rt.store.one(
                "SELECT * FROM pushes WHERE fallback_due IS NOT NULL AND fallback_due <= ? ORDER BY fallback_due"
                " LIMIT 1",
                (now,),
            )
            if due is None:
                return fired
            rt.store.update("pushes", due["id"], {"fallback_due": None})
            app = apps.by_token(rt, due["app_token"])
            device = rt.store.one("SELECT * FROM devices WHERE id = ?", (due["device_id"],))
            if app is not None and device is not None:
                with Round(rt, app) as rnd:
                    deliver(rnd, device, kind="fallback")
                fired += 1


def acknowledge(rt: Runtime, push_id: int) -> sqlite3.Row | None:
    with rt.store.tx():
        rt.store.run("UPDATE pushes SET acked = 1, fallback_due = NULL WHERE id = ?", (push_id,))
        return rt.store.one("SELECT * FROM pushes WHERE id = ?", (push_id,))
