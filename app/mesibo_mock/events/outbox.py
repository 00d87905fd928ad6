"""What raises Mesibo's events (SPEC section 5): an `Outbox` collects the events of one request (or one
timer round): users coming online or going offline, messages that reached an offline user, push
results. `flush()` writes them, in the caller's transaction, as one delivery per app in Mesibo's v2
envelope, so a delivery owed when the server stops is still owed after the next start; events/sending.py
then POSTs it."""

from __future__ import annotations

import sqlite3

from mesibo_mock.events.webhook import cloud_note, message_body, wanted
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import webhooks


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
        fresh = webhooks.first_offline_notices(self.rt, [r["uid"] for r in recipients])
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
            body: dict = {"server": "mesibo", "id": None, "v": 2, "aid": app["id"], "ts": int(now * 1000)}
            if app["webhook_secret"]:
                body["secret"] = app["webhook_secret"]
            body["events"] = events
            mids = [_mid_of(event) for event in events]
            delivery = webhooks.write_delivery(
                rt, app, body, events, mids, cloud_note(rt, app["webhook_url"])
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
