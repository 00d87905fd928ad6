"""MesiboMock: a real emulator server on a free port with a throw-away database, for test suites.

    with MesiboMock() as m:
        m.register_device("123", push_token="tok-1")
        httpx.post(m.backend_url, json={"op": "pushtest", "token": m.app_token, "push": {"address": "123"}})
        [push] = m.wait_for_pushes(address="123")

By default the server runs in a thread of this process (it starts in a few milliseconds once imported);
`subprocess=True` runs `python -m mesibo_mock serve` instead, exactly as a user would.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess as sp
import sys
import tempfile
import threading
import time
from typing import Any

import httpx

from mesibo_mock.server.settings import Settings
from mesibo_mock.testing.receiver import WebhookReceiver

ENV_PREFIX = "MESIBO_MOCK_"


def serve_command() -> list[str]:
    """The `mesibo-mock` console script beside this interpreter, else `python -m mesibo_mock`."""
    script = os.path.join(os.path.dirname(sys.executable), "mesibo-mock")
    return [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "mesibo_mock"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MesiboMock:
    def __init__(
        self,
        mode: str = "cloud",
        seed: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        *,
        app_token: str | None = "mesibo-mock-test-token",
        subprocess: bool = False,
        db: str | None = None,
        log_level: str = "warning",
        startup_timeout: float = 20.0,
        strict: bool = False,
    ) -> None:
        self.mode = mode
        self.seed = os.fspath(seed) if seed is not None else None
        self.env = {
            k if k.startswith(ENV_PREFIX) else ENV_PREFIX + k.upper(): str(v) for k, v in (env or {}).items()
        }
        self.subprocess = subprocess
        self.strict = strict  # the pytest fixture fails a test that sent an unknown op or field
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self._app_token = app_token
        self._db = db
        self._tmpdir: str | None = None
        self._proc: sp.Popen | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.runtime: Any = None
        self.port = 0
        self.host = "127.0.0.1"
        self.client: httpx.Client | None = None
        self._log_path: str | None = None
        self._receivers: list[WebhookReceiver] = []
        self._connected_url: str | None = None  # connect(): a server this object did not start

    # --- lifecycle --------------------------------------------------------------------------------
    @classmethod
    def connect(
        cls, url: str, app_token: str | None = None, admin_token: str | None = None, *, strict: bool = False
    ) -> MesiboMock:
        """Attach to a running server (a compose service, a container, `mesibo-mock serve`) with the same
        helpers. Without `app_token`, the helpers act on the server's app `default`. Stopping it closes
        only this client; the server goes on."""
        mock = cls(app_token=app_token, strict=strict)
        mock._connected_url = url.rstrip("/")
        if mock._connected_url.endswith("/backend"):
            mock._connected_url = mock._connected_url[: -len("/backend")]
        headers = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
        mock.client = httpx.Client(base_url=mock._connected_url, timeout=30, headers=headers)
        try:
            mock.health()
            if app_token is None:
                mock._app_token = mock._default_token()
        except (httpx.HTTPError, AssertionError) as exc:
            mock.client.close()
            raise RuntimeError(f"cannot use the mesibo-mock server at {mock._connected_url}: {exc}") from None
        return mock

    @property
    def url(self) -> str:
        if self._connected_url is not None:
            return self._connected_url
        return f"http://{self.host}:{self.port}"

    @property
    def backend_url(self) -> str:
        return self.url + "/backend"

    @property
    def app_token(self) -> str:
        return self.app()["token"] if self._app_token is None else self._app_token

    def __enter__(self) -> MesiboMock:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _db_path(self) -> str:
        self._tmpdir = tempfile.mkdtemp(prefix="mesibo-mock-")
        self.db_path = self._db or os.path.join(self._tmpdir, "mock.db")
        return self.db_path

    db_path: str | None = None  # the server's store, when this object started it

    def copy_store(self, dest: str | os.PathLike) -> str:
        """A copy of the server's store as it is now (every committed call, push and message), for
        `mesibo-mock serve --db DEST` to show after the tests have gone; -> its path. Any file there is
        replaced."""
        import sqlite3

        if self.db_path is None or self.db_path == ":memory:":
            raise RuntimeError("this MesiboMock did not start its server on a file: no store to copy")
        dest = os.fspath(dest)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(dest + suffix):
                os.remove(dest + suffix)
        source = sqlite3.connect(self.db_path)
        try:
            target = sqlite3.connect(dest)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        return dest

    def _settings_env(self) -> dict[str, str]:
        env = dict(self.env)
        env.setdefault(ENV_PREFIX + "MODE", self.mode)
        env.setdefault(ENV_PREFIX + "LOG_LEVEL", self.log_level)
        if self.seed:
            env.setdefault(ENV_PREFIX + "SEED", self.seed)
        if self._app_token:
            env.setdefault(ENV_PREFIX + "APP_TOKEN", self._app_token)
        return env

    def start(self) -> None:
        if self._connected_url is not None:  # connect(): the server runs already
            return
        self.port = free_port(self.host)
        db = self._db_path()
        if self.subprocess:
            self._start_process(db)
        else:
            self._start_thread(db)
        admin = self.env.get(ENV_PREFIX + "ADMIN_TOKEN")
        headers = {"authorization": f"Bearer {admin}"} if admin else {}
        self.client = httpx.Client(base_url=self.url, timeout=30, headers=headers)
        self._wait_healthy()
        if self._app_token is None:
            self._app_token = self._default_token()

    def _default_token(self) -> str:
        """The server's app `default` (else its oldest app), found without listing every app."""
        for params in ({"name": "default", "limit": 1}, {"limit": 1}):
            found = self._ok(self.client.get("/_mock/apps", params=params))["apps"]
            if found:
                return found[0]["token"]
        raise RuntimeError(f"the server at {self.url} has no app; give app_token")

    def _start_thread(self, db: str) -> None:
        import uvicorn

        from mesibo_mock.cli import configure_logging, uvicorn_config
        from mesibo_mock.lifecycle import build_runtime
        from mesibo_mock.main import serving_app

        fields = {}
        for key, value in self._settings_env().items():
            fields[key[len(ENV_PREFIX) :].lower()] = value
        settings = Settings(**{**fields, "db": db, "host": self.host, "port": self.port})
        if not logging.getLogger().handlers:
            configure_logging(settings.log_level)
        self.runtime = build_runtime(settings)
        config = uvicorn_config(
            serving_app(self.runtime), settings, host=self.host, port=self.port, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="mesibo-mock", daemon=True)
        self._thread.start()

    def _start_process(self, db: str) -> None:
        env = {
            **os.environ,
            **self._settings_env(),
            ENV_PREFIX + "DB": db,
            ENV_PREFIX + "PORT": str(self.port),
            ENV_PREFIX + "HOST": self.host,
        }
        self._log_path = os.path.join(self._tmpdir, "server.log")
        # a file, not a pipe: an undrained pipe would block the server; closed in stop()
        self._log_file = open(self._log_path, "wb")  # noqa: SIM115
        # --parent-pid: the server never outlives this process, however it ends (SIGKILL too)
        command = [*serve_command(), "serve", "--parent-pid", str(os.getpid())]
        self._proc = sp.Popen(command, env=env, stdout=self._log_file, stderr=sp.STDOUT)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"mesibo-mock exited with {self._proc.returncode}: {self.logs().strip()}")
            try:
                if self.client.get("/_mock/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"mesibo-mock did not become healthy within {self.startup_timeout} s")

    def stop(self) -> None:
        for receiver in self._receivers:
            receiver.close()
        self._receivers.clear()
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except sp.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._log_file.close()
            self._proc = None
        if self._server is not None:
            self.runtime.loop_call(self.runtime.stop)
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self.runtime.store.close()
            self._server = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def logs(self) -> str:
        """What the server process has logged so far (subprocess mode)."""
        if not self._log_path or not os.path.exists(self._log_path):
            return ""
        with open(self._log_path, "rb") as fh:
            return fh.read().decode(errors="replace")

    # --- the Mesibo backend -----------------------------------------------------------------------
    def backend(self, op: str, **fields: Any) -> dict:
        """POST one op as JSON with this app's token; returns the envelope."""
        body = {"op": op, "token": self.app_token, **fields}
        return self._ok(self.client.post("/backend", json=body))

    # --- helpers over /_mock ----------------------------------------------------------------------
    def _ok(self, response: httpx.Response) -> Any:
        """The answer's JSON; an AssertionError naming the call for a 4xx or 5xx."""
        return self._check(response).json() if response.content else None

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise AssertionError(
                f"{response.request.method} {response.request.url.path} -> "
                f"{response.status_code}: {response.text}"
            )
        return response

    def health(self) -> dict:
        return self._ok(self.client.get("/_mock/health"))

    def apps(self) -> list[dict]:
        return self._ok(self.client.get("/_mock/apps"))["apps"]

    def app(self, token: str | None = None) -> dict:
        return self._ok(self.client.get(f"/_mock/apps/{token or self.app_token}"))

    def create_app(
        self, name: str = "test", token: str | None = None, *, credentials: str | dict | None = None
    ) -> dict:
        """A new app (its own token, none of the other apps' data). `credentials`: "sample" for the
        sample FCM and APN credentials, or {"fcm": ..., "apn": ...} naming samples (`samples()`)."""
        body: dict[str, Any] = {"name": name} | ({"token": token} if token else {})
        if credentials is not None:
            body["credentials"] = (
                {"fcm": "sample", "apn": "sample"} if credentials == "sample" else credentials
            )
        return self._ok(self.client.post("/_mock/apps", json=body))

    def delete_app(self, token: str) -> None:
        self._ok(self.client.delete(f"/_mock/apps/{token}"))

    def samples(self) -> list[dict]:
        """The sample credential files the server offers (GET /_mock/samples)."""
        return self._ok(self.client.get("/_mock/samples"))["samples"]

    def sample(self, name: str) -> bytes:
        """One sample file's bytes, as the server makes it (GET /_mock/samples/{name})."""
        return self._check(self.client.get(f"/_mock/samples/{name}")).content

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
        return self._ok(self.client.post(f"/_mock/apps/{token or self.app_token}/devices", json=body))

    def devices(self, address: str | None = None, *, token: str | None = None) -> list[dict]:
        params = {"address": address} if address else {}
        return self._ok(self.client.get(f"/_mock/apps/{token or self.app_token}/devices", params=params))[
            "devices"
        ]

    def pushes(self, **filters: Any) -> list[dict]:
        """Push records, newest first; filters: token, address, push_token, service, status, kind, after, limit."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._records("pushes", params)

    def wait_for_pushes(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        """Block until at least `count` matching records exist (long-polls the server)."""
        return self._wait_for(self.pushes, "push(es)", count, timeout, filters)

    def _records(self, kind: str, params: dict) -> list[dict]:
        """GET /_mock/<kind>; a long-poll (`wait`) gets a client timeout longer than its wait."""
        timeout = float(params.get("wait") or 0) + 30
        return self._ok(self.client.get(f"/_mock/{kind}", params=params, timeout=timeout))[kind]

    def _wait_for(self, listing, what: str, count: int, timeout: float, filters: dict) -> list[dict]:
        """The server's long-poll with `count`: one request answers once `count` records match (a wait
        past the server's 60 s limit is several)."""
        deadline = time.monotonic() + timeout
        limit = max(count, filters.get("limit") or 100)
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            found = listing(
                **{**filters, "limit": limit, "count": count, "wait": round(min(remaining, 60), 3)}
            )
            if len(found) >= count:
                return found
            if deadline - time.monotonic() <= 0:
                raise AssertionError(f"expected {count} {what} matching {filters}, found {len(found)}")

    def push(self, push_id: int) -> dict:
        return self._ok(self.client.get(f"/_mock/pushes/{push_id}"))

    def ack(self, push_id: int) -> dict:
        return self._ok(self.client.post(f"/_mock/pushes/{push_id}/ack", json={}))

    def clear_pushes(self) -> None:
        self._ok(self.client.delete("/_mock/pushes"))

    def inject_fault(self, error: str, **target: Any) -> dict:
        """target: token, address, push_token, count (None = until removed)."""
        return self._ok(self.client.post("/_mock/faults", json={"error": error, **target}))

    def clear_faults(self) -> None:
        self._ok(self.client.delete("/_mock/faults"))

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
        return self._ok(self.client.put(f"/_mock/apps/{token or self.app_token}/webhook", json=body))

    def webhook_receiver(
        self, *, events: list[str] | None = None, token: str | None = None
    ) -> WebhookReceiver:
        """Start a local receiver that answers MESIBO OK and records what it gets, and point the app's
        webhook at it; it stops with this MesiboMock (or at the end of a `with` block)."""
        receiver = WebhookReceiver()
        self._receivers.append(receiver)
        self.set_webhook(receiver.url, events=events, token=token)
        return receiver

    def events(self, type: str | None = None, **filters: Any) -> list[dict]:
        """Events sent to webhooks, newest first; filters: type (user, message, push), token, delivery,
        after, limit."""
        params = {k: v for k, v in ({"type": type} | filters).items() if v is not None}
        return self._records("events", params)

    def wait_for_events(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        """Block until at least `count` matching events were sent (long-polls the server)."""
        return self._wait_for(self.events, "event(s)", count, timeout, filters)

    def webhook_deliveries(self, token: str | None = None) -> list[dict]:
        params = {"token": token} if token else {}
        return self._ok(self.client.get("/_mock/webhooks", params=params))["deliveries"]

    def wait_for_deliveries(
        self, count: int = 1, timeout: float = 10.0, token: str | None = None
    ) -> list[dict]:
        """Block until the webhook log holds at least `count` attempts (newest first)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.webhook_deliveries(token)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} webhook attempt(s), found {len(found)}")
            time.sleep(0.02)

    # --- the request journal and backend faults ---------------------------------------------------
    def requests(self, **filters: Any) -> list[dict]:
        """Backend calls as the journal holds them, newest first: what was read, the answer, the pushes
        and message caused, the diagnosis. Filters: token, op, result, diagnosed, after, limit."""
        params = {
            k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items() if v is not None
        }
        return self._records("requests", params)

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        """Block until the journal holds at least `count` matching calls (long-polls the server)."""
        return self._wait_for(self.requests, "backend call(s)", count, timeout, filters)

    def backend_fault(
        self,
        error: str | None = None,
        *,
        op: str | None = None,
        token: str | None = None,
        http: int | None = None,
        delay: float | None = None,
        count: int | None = 1,
    ) -> dict:
        """Make the next `count` backend calls (None: until removed) that match `op` and `token` answer
        with a row of Mesibo's error table (`error`, e.g. "QUOTAEXCEEDED"), a bare HTTP status (`http`:
        500, 502, 503, 504) or only after `delay` seconds."""
        body = {"error": error, "op": op, "token": token, "http": http, "delay": delay, "count": count}
        return self._ok(
            self.client.post(
                "/_mock/backend-faults", json={k: v for k, v in body.items() if v is not None or k == "count"}
            )
        )

    def clear_backend_faults(self) -> None:
        self._ok(self.client.delete("/_mock/backend-faults"))

    def mistakes(self, after: int = 0, *, token: str | None = None) -> list[dict]:
        """Strict mode's findings in the calls after journal id `after` (of the app with `token`, if
        given), oldest first: an op that does not exist, a field no op reads. Each has `request` (the
        journal id), `op`, `kind`, `field`, `problem`, `hint` and `text`, the line a test fails with.
        The server decides (GET /_mock/mistakes), for every language alike."""
        return self._mistakes(after, token)["mistakes"]

    def mistakes_report(self, after: int = 0, *, token: str | None = None) -> str | None:
        """The text a strict test fails with for those mistakes; None when there is none."""
        return self._mistakes(after, token)["report"]

    def _mistakes(self, after: int, token: str | None) -> dict:
        params = {"after": after} | ({"token": token} if token else {})
        return self._ok(self.client.get("/_mock/mistakes", params=params))

    def _journal_after(self, after: int, most: int | None = None, **filters: Any) -> list[dict]:
        """The journal's entries after id `after`, newest first, page by page (at most `most`)."""
        entries: list[dict] = []
        before = None
        while most is None or len(entries) < most:
            page = self.requests(after=after, before=before, limit=1000, **filters)
            entries += page
            if len(page) < 1000:
                break
            before = page[-1]["id"]
        return entries if most is None else entries[:most]

    def last_request_id(self) -> int:
        newest = self.requests(limit=1)
        return newest[0]["id"] if newest else 0

    def pushdebug(self, duration: int | None = None) -> dict:
        push = {} if duration is None else {"duration": duration}
        return self.backend("pushdebug", push=push)

    # --- chat: users, groups, messages -------------------------------------------------------------
    def send_message(
        self,
        from_: str,
        to: str | None = None,
        message: str = "",
        *,
        gid: int | None = None,
        **extra: Any,
    ) -> int:
        """Send a message through the backend API, as a chat backend would; -> its mid."""
        body = {"from": from_, "message": message, **extra}
        body |= {"to": to} if to is not None else {"gid": gid}
        answer = self.backend("message", message=body)
        if not answer["result"]:
            raise AssertionError(f"message refused: {answer}")
        return answer["mid"]

    def set_online(self, address: str, online: bool = True, *, token: str | None = None) -> dict:
        """Mark a user online (messages reach it without a push) or offline."""
        path = f"/_mock/apps/{token or self.app_token}/users/{address}/online"
        return self._ok(self.client.put(path, json={"online": online}))

    def messages(self, **filters: Any) -> list[dict]:
        """Message records, newest first; filters: token, from_ (or "from"), to, gid, after, limit."""
        params = {("from" if k == "from_" else k): v for k, v in filters.items() if v is not None}
        return self._records("messages", params)

    def message(self, mid: int) -> dict:
        return self._ok(self.client.get(f"/_mock/messages/{mid}"))

    def wait_for_messages(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict]:
        """Block until at least `count` matching message records exist (long-polls the server)."""
        return self._wait_for(self.messages, "message(s)", count, timeout, filters)

    def groups(self, *, token: str | None = None) -> list[dict]:
        return self._ok(self.client.get(f"/_mock/apps/{token or self.app_token}/groups"))["groups"]

    def users(self, *, token: str | None = None) -> list[dict]:
        return self._ok(self.client.get(f"/_mock/apps/{token or self.app_token}/users"))["users"]

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
        data = {"op": "pushupload", "token": self.app_token} | ({"type": type} if type else {})
        return self._ok(self.client.post("/backend", data=data, files={"file": (name, content)}))

    def reset(self) -> None:
        self._ok(self.client.post("/_mock/reset", json={}))
