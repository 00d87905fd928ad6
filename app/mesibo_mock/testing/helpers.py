"""The helpers a test uses, acting on one app: MesiboMock's on its own app (`default`, or the token it
was given), MesiboApp's on an app of a test's own. The same helpers, by the same names, are in the
Node, PHP and Java clients (docs/clients.md holds the table, and a test holds the four to it).

Every helper is scoped to its app's token: a test never reads or clears another app's records by
accident. A helper that can act across apps says so with `all_apps=True`.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from mesibo_mock.testing.errors import MesiboMockError
from mesibo_mock.testing.receiver import WebhookReceiver

MAX_WAIT_SECONDS = 60  # the server's longest long-poll; a longer timeout is several


class Helpers:
    client: httpx.Client | None
    _receivers: list[WebhookReceiver]
    _mistakes_seen: str | None = None  # where the findings a test read with mistakes() end

    @property
    def token(self) -> str:  # pragma: no cover - each class says where its token comes from
        raise NotImplementedError

    @property
    def url(self) -> str:  # pragma: no cover
        raise NotImplementedError

    @property
    def backend_url(self) -> str:
        return self.url + "/backend"

    # --- HTTP ---------------------------------------------------------------------------------------
    def _ok(self, response: httpx.Response) -> Any:
        """The answer's JSON; MesiboMockError naming the call for a 4xx or 5xx."""
        return self._check(response).json() if response.content else None

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise MesiboMockError(
                f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text}",
                response.status_code,
                response.text,
            )
        return response

    def _app_path(self, rest: str = "", token: str | None = None) -> str:
        return f"/_mock/apps/{token or self.token}{rest}"

    def _scope(self, params: dict, all_apps: bool) -> dict:
        """The query of a list or a clearing: this app's, unless `all_apps` or a token is given."""
        params = {k: v for k, v in params.items() if v is not None}
        if not all_apps:
            params.setdefault("token", self.token)
        return params

    # --- the Mesibo backend -------------------------------------------------------------------------
    def backend(self, op: str, **fields: Any) -> dict:
        """POST one op as JSON with this app's token; returns Mesibo's envelope (result true or false)."""
        body = {"op": op, "token": self.token, **fields}
        return self._ok(self.client.post("/backend", json=body))

    def upload_credential(
        self, credential: str | os.PathLike | bytes, type: str | None = None, *, filename: str | None = None
    ) -> dict:
        """A real multipart `pushupload`, as Mesibo's upload form sends it; -> the envelope.

        `credential` is a path, or the file's bytes (then `type`, or a `filename` ending in .json or .p12,
        says which it is)."""
        if isinstance(credential, bytes):
            content = credential
            name = filename or {"fcm": "credential.json", "apn": "credential.p12"}.get((type or "").lower())
            if name is None:
                raise ValueError("give type='fcm' or 'apn' (or a filename) with credential bytes")
        else:
            path = os.fspath(credential)
            with open(path, "rb") as fh:
                content = fh.read()
            name = filename or os.path.basename(path)
        data = {"op": "pushupload", "token": self.token} | ({"type": type} if type else {})
        return self._ok(self.client.post("/backend", data=data, files={"file": (name, content)}))

    def pushdebug(self, duration: int | None = None) -> dict:
        push = {} if duration is None else {"duration": duration}
        return self.backend("pushdebug", push=push)

    def send_message(
        self, from_: str, to: str | None = None, message: str = "", *, gid: int | None = None, **extra: Any
    ) -> int:
        """Send a message through the backend API, as a chat backend would; -> its mid."""
        body = {"from": from_, "message": message, **extra}
        body |= {"to": to} if to is not None else {"gid": gid}
        answer = self.backend("message", message=body)
        if not answer["result"]:
            raise MesiboMockError(f"message refused: {answer}", 200, str(answer))
        return answer["mid"]

    # --- the app, its devices, users and groups -------------------------------------------------------
    def app(self, token: str | None = None) -> dict:
        """The app as GET /_mock/apps/{token} shows it (credentials without keys, options, webhook)."""
        return self._ok(self.client.get(self._app_path(token=token)))

    def set_disabled(self, disabled: bool = True) -> dict:
        """Disable the app as Mesibo does on a token breach (every call answers TOKENBREACH), or lift it
        (False: the addresses seen are forgotten, so the count starts again)."""
        return self._ok(self.client.put(self._app_path(), json={"disabled": disabled}))

    def reset_app(self) -> dict:
        """Empty this app (users, groups, messages, devices, records, journal, faults) and keep its token,
        credentials, options, webhook and UACs; -> how many rows went and the app."""
        return self._ok(self.client.post(self._app_path("/reset"), json={}))

    def register_device(
        self,
        address: str,
        platform: str = "android",
        push_token: str | None = None,
        appid: str = "com.example.app",
        *,
        token: str | None = None,
        **extra: Any,
    ) -> dict:
        """Stand in for the client SDK. iOS tokens default to 64 hex digits, as APNs issues them."""
        if push_token is None:
            push_token = os.urandom(32).hex() if platform == "ios" else "fcm-" + os.urandom(12).hex()
        body = {"address": address, "platform": platform, "appid": appid, "push_token": push_token, **extra}
        return self._ok(self.client.post(self._app_path("/devices", token), json=body))

    def devices(self, address: str | None = None, *, token: str | None = None) -> list[dict]:
        params = {"address": address} if address else {}
        return self._ok(self.client.get(self._app_path("/devices", token), params=params))["devices"]

    def remove_device(self, device_id: int) -> None:
        """Forget a device (its id as register_device and devices() show it)."""
        self._ok(self.client.delete(self._app_path(f"/devices/{device_id}")))

    def set_online(self, address: str, online: bool = True, *, token: str | None = None) -> dict:
        """Mark a user online (messages reach it without a push) or offline."""
        return self._ok(
            self.client.put(self._app_path(f"/users/{address}/online", token), json={"online": online})
        )

    def users(self, *, token: str | None = None) -> list[dict]:
        return self._ok(self.client.get(self._app_path("/users", token)))["users"]

    def groups(self, *, token: str | None = None) -> list[dict]:
        return self._ok(self.client.get(self._app_path("/groups", token)))["groups"]

    def otps(self, address: str | None = None) -> list[dict]:
        """The one-time codes `useradd` with `otp` made, newest first (where a real app sends an SMS)."""
        found = self._ok(self.client.get("/_mock/otps", params={"token": self.token}))["otps"]
        return [o for o in found if address is None or o["address"] == address]

    def uac(self, uac_id: int) -> dict:
        """One UAC (`uacset`) of the app, whole."""
        return self._ok(self.client.get(self._app_path(f"/uacs/{uac_id}")))

    # --- what happened: records, newest first; a wait is the server's long-poll with `count` ---------
    def _records(self, kind: str, params: dict, key: str | None = None) -> list[dict]:
        """GET /_mock/<kind>; a long-poll (`wait`) gets a client timeout longer than its wait."""
        timeout = float(params.get("wait") or 0) + 30
        return self._ok(self.client.get(f"/_mock/{kind}", params=params, timeout=timeout))[key or kind]

    def _wait_for(self, listing, what: str, count: int, timeout: float, filters: dict) -> list[dict]:
        """One request answers once `count` records match (a wait past the server's 60 s is several)."""
        deadline = time.monotonic() + timeout
        limit = max(count, filters.get("limit") or 100)
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            wait = round(min(remaining, MAX_WAIT_SECONDS), 3)
            found = listing(**{**filters, "limit": limit, "count": count, "wait": wait})
            if len(found) >= count:
                return found
            if deadline - time.monotonic() <= 0:
                raise MesiboMockError(f"expected {count} {what} matching {filters}, found {len(found)}")

    def pushes(self, *, all_apps: bool = False, **filters: Any) -> list[dict]:
        """This app's push records, newest first; filters: address, push_token, service, status, kind,
        mid, after, limit."""
        return self._records("pushes", self._scope(filters, all_apps))

    def wait_for_pushes(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        """Block until at least `count` matching push records exist (the server's long-poll)."""
        return self._wait_for(self.pushes, "push(es)", count, timeout, filters)

    def push(self, push_id: int) -> dict:
        return self._ok(self.client.get(f"/_mock/pushes/{push_id}"))

    def ack(self, push_id: int) -> dict:
        """Mark a push as received by the phone: an acknowledged push needs no fallback."""
        return self._ok(self.client.post(f"/_mock/pushes/{push_id}/ack", json={}))

    def clear_pushes(self, *, all_apps: bool = False) -> dict:
        return self._ok(self.client.delete("/_mock/pushes", params=self._scope({}, all_apps)))

    def messages(self, *, all_apps: bool = False, **filters: Any) -> list[dict]:
        """This app's messages, newest first; filters: from_ (or "from"), to, gid, after, limit."""
        params = {("from" if k == "from_" else k): v for k, v in filters.items()}
        return self._records("messages", self._scope(params, all_apps))

    def wait_for_messages(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        return self._wait_for(self.messages, "message(s)", count, timeout, filters)

    def message(self, mid: int) -> dict:
        return self._ok(self.client.get(f"/_mock/messages/{mid}"))

    def timeline(self, mid: int) -> dict:
        """A message's life on the emulator clock, as the dashboard draws it (`#messages/{mid}`)."""
        return self._ok(self.client.get(f"/_mock/messages/{mid}/timeline"))

    def events(self, type: str | None = None, *, all_apps: bool = False, **filters: Any) -> list[dict]:
        """Events sent to the app's webhook, newest first; filters: type (user, message, push),
        delivery, after, limit."""
        return self._records("events", self._scope({"type": type, **filters}, all_apps))

    def wait_for_events(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        return self._wait_for(self.events, "event(s)", count, timeout, filters)

    def deliveries(self, *, all_apps: bool = False, **filters: Any) -> list[dict]:
        """Each POST to the app's webhook (one per request or timer round), newest first, with its state
        and attempts; filters: state (pending, delivered, failed, cancelled), after, limit."""
        return self._records("deliveries", self._scope(filters, all_apps))

    def wait_for_deliveries(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        return self._wait_for(self.deliveries, "webhook deliveries", count, timeout, filters)

    def webhook_attempts(self, *, all_apps: bool = False, **filters: Any) -> list[dict]:
        """Every attempt to POST to the app's webhook, newest first, with what went wrong; filters:
        delivery, push_id, limit."""
        return self._records("webhooks", self._scope(filters, all_apps), "deliveries")

    def wait_for_webhook_attempts(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        return self._wait_for(self.webhook_attempts, "webhook attempt(s)", count, timeout, filters)

    # --- the request journal and strict mode ---------------------------------------------------------
    def requests(self, *, all_apps: bool = False, **filters: Any) -> list[dict]:
        """This app's backend calls as the journal holds them, newest first: what was read, the answer,
        the pushes and message caused, the diagnosis. Filters: op, result, diagnosed, after, before, limit."""
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items()}
        return self._records("requests", self._scope(params, all_apps))

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        return self._wait_for(self.requests, "backend call(s)", count, timeout, filters)

    def request(self, entry_id: int) -> dict:
        """One journal entry, whole."""
        return self._ok(self.client.get(f"/_mock/requests/{entry_id}"))

    def clear_requests(self, *, all_apps: bool = False) -> dict:
        return self._ok(self.client.delete("/_mock/requests", params=self._scope({}, all_apps)))

    def last_request_id(self, *, all_apps: bool = False) -> int:
        """The newest journal id: pass it as `after` to look only at what comes next."""
        newest = self.requests(limit=1, all_apps=all_apps)
        return newest[0]["id"] if newest else 0

    def mistakes(self, after: int = 0, *, all_apps: bool = False, token: str | None = None) -> list[dict]:
        """Strict mode's findings after journal id `after`, oldest first: an op that does not exist, a
        field no op reads, a webhook delivery the handler did not answer with MESIBO OK. Each has `kind`,
        `field`, `problem`, `hint` and `text`, the line a test fails with. The server decides (GET
        /_mock/mistakes), for every language alike. A test that expects a finding asserts on this: what
        a test has read is expected, and strict mode fails it only for what comes after."""
        answer = self._mistakes(after, all_apps, token)
        self._mistakes_seen = answer["seen"]
        return answer["mistakes"]

    def mistakes_report(
        self, after: int = 0, *, all_apps: bool = False, token: str | None = None
    ) -> str | None:
        """The text a strict test fails with for those mistakes; None when there is none."""
        return self._mistakes(after, all_apps, token)["report"]

    def unexpected_mistakes(self, after: int = 0, *, all_apps: bool = False) -> str | None:
        """What strict mode fails a test for: the report of the mistakes after `after` that the test has
        not read with mistakes(); None when there is none."""
        return self._mistakes(after, all_apps, None, self._mistakes_seen)["report"]

    def _mistakes(self, after: int, all_apps: bool, token: str | None, seen: str | None = None) -> dict:
        params = self._scope({"after": after, "token": token, "seen": seen}, all_apps)
        return self._ok(self.client.get("/_mock/mistakes", params=params))

    def report(self, after: int = 0, *, all_apps: bool = False) -> str:
        """What a failed test's report shows: each backend call after journal id `after`, with what was
        sent, Mesibo's answer and the diagnosis, then strict mode's findings (GET /_mock/report)."""
        params = self._scope({"after": after}, all_apps)
        return self._check(self.client.get("/_mock/report", params=params)).text

    # --- steering: faults, the webhook, the clock -----------------------------------------------------
    def inject_fault(self, error: str, *, all_apps: bool = False, **target: Any) -> dict:
        """Make this app's next pushes fail as FCM or APNs would (Unregistered, BadDeviceToken, ...);
        target: address, push_token, count (None: until removed)."""
        body = {"error": error, **target} | ({} if all_apps else {"token": target.get("token") or self.token})
        return self._ok(self.client.post("/_mock/faults", json=body))

    def faults(self, *, all_apps: bool = False) -> list[dict]:
        return self._ok(self.client.get("/_mock/faults", params=self._scope({}, all_apps)))["faults"]

    def remove_fault(self, fault_id: int) -> None:
        self._ok(self.client.delete(f"/_mock/faults/{fault_id}"))

    def clear_faults(self, *, all_apps: bool = False) -> dict:
        return self._ok(self.client.delete("/_mock/faults", params=self._scope({}, all_apps)))

    def backend_fault(
        self,
        error: str | None = None,
        *,
        op: str | None = None,
        http: int | None = None,
        delay: float | None = None,
        count: int | None = 1,
        token: str | None = None,
        all_apps: bool = False,
    ) -> dict:
        """Make this app's next `count` backend calls (None: until removed) that match `op` answer with a
        row of Mesibo's error table (`error`, e.g. "QUOTAEXCEEDED"), a bare HTTP status (`http`: 500,
        502, 503, 504) or only after `delay` seconds; `token`: another app's calls instead."""
        body = {"error": error, "op": op, "http": http, "delay": delay}
        body = {k: v for k, v in body.items() if v is not None} | {"count": count}
        if token or not all_apps:
            body["token"] = token or self.token
        return self._ok(self.client.post("/_mock/backend-faults", json=body))

    def backend_faults(self, *, all_apps: bool = False) -> list[dict]:
        return self._ok(self.client.get("/_mock/backend-faults", params=self._scope({}, all_apps)))["faults"]

    def remove_backend_fault(self, fault_id: int) -> None:
        self._ok(self.client.delete(f"/_mock/backend-faults/{fault_id}"))

    def clear_backend_faults(self, *, all_apps: bool = False) -> dict:
        return self._ok(self.client.delete("/_mock/backend-faults", params=self._scope({}, all_apps)))

    def set_webhook(
        self,
        url: str,
        secret: str | None = None,
        *,
        events: list[str] | None = None,
        token: str | None = None,
    ) -> dict:
        """Point the app's webhook at `url`; `events`: any of push, message, user (all by default)."""
        body = {"url": url} | ({"secret": secret} if secret else {}) | ({"events": events} if events else {})
        return self._ok(self.client.put(self._app_path("/webhook", token), json=body))

    def remove_webhook(self) -> None:
        """The app sends no more events (deliveries still pending are cancelled)."""
        self._ok(self.client.delete(self._app_path("/webhook")))

    def webhook_receiver(
        self, *, events: list[str] | None = None, token: str | None = None
    ) -> WebhookReceiver:
        """Start a local receiver that answers MESIBO OK and records what it gets, and point the app's
        webhook at it; it stops with its app or MesiboMock (or at the end of a `with` block)."""
        receiver = WebhookReceiver()
        self._receivers.append(receiver)
        self.set_webhook(receiver.url, events=events, token=token)
        return receiver

    def _close_receivers(self) -> None:
        for receiver in self._receivers:
            receiver.close()
        self._receivers.clear()

    # The clock belongs to the server: every app of it sees the same time.
    def clock(self) -> dict:
        return self._ok(self.client.get("/_mock/clock"))

    def advance(self, seconds: float) -> dict:
        return self._ok(self.client.post("/_mock/clock", json={"advance": seconds}))

    def set_clock(self, iso_time: str) -> dict:
        return self._ok(self.client.post("/_mock/clock", json={"set": iso_time}))

    def freeze(self, frozen: bool = True) -> dict:
        return self._ok(self.client.post("/_mock/clock", json={"freeze": frozen}))

    def real_time(self) -> dict:
        return self._ok(self.client.post("/_mock/clock", json={"real": True}))

    def health(self) -> dict:
        return self._ok(self.client.get("/_mock/health"))

    def samples(self) -> list[dict]:
        """The sample credential files the server offers (GET /_mock/samples)."""
        return self._ok(self.client.get("/_mock/samples"))["samples"]

    def sample(self, name: str) -> bytes:
        """One sample file's bytes, as the server makes it (GET /_mock/samples/{name})."""
        return self._check(self.client.get(f"/_mock/samples/{name}")).content
