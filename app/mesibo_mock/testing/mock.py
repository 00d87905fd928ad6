"""MesiboMock: a real emulator server on a free port with a throw-away database, for test suites; the
server's lifecycle (start, connect, stop) and its apps. The helpers are testing/helpers.py's.

    with MesiboMock() as m, m.create_app(credentials="sample", strict=True) as app:
        app.register_device("123", push_token="tok-1")
        httpx.post(app.backend_url, json={"op": "pushtest", "token": app.token, "push": {"address": "123"}})
        [push] = app.wait_for_pushes(address="123")

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
from mesibo_mock.testing.app import MesiboApp
from mesibo_mock.testing.errors import MesiboMockError
from mesibo_mock.testing.helpers import Helpers
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


class MesiboMock(Helpers):
    """A running emulator, started by this object (a thread, or a `mesibo-mock serve` process) or
    connected to. Its helpers act on its own app (`default`, or the `app_token` given); `create_app()`
    gives a test an app of its own."""

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
        except (httpx.HTTPError, MesiboMockError) as exc:
            mock.client.close()
            raise MesiboMockError(
                f"cannot use the mesibo-mock server at {mock._connected_url}: {exc}"
            ) from None
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
        if self._app_token is None:
            self._app_token = self._default_token()
        return self._app_token

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
            raise MesiboMockError("this MesiboMock did not start its server on a file: no store to copy")
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
        raise MesiboMockError(f"the server at {self.url} has no app; give app_token")

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
                raise MesiboMockError(
                    f"mesibo-mock exited with {self._proc.returncode}: {self.logs().strip()}"
                )
            try:
                if self.client.get("/_mock/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        raise MesiboMockError(f"mesibo-mock did not become healthy within {self.startup_timeout} s")

    def stop(self) -> None:
        self._close_receivers()
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

    # --- the server's apps ----------------------------------------------------------------------------
    @property
    def token(self) -> str:
        return self.app_token

    def apps(self, name: str | None = None) -> list[dict]:
        """The server's apps, oldest first (of this `name`, when given); at most 1,000."""
        params = {"limit": 1000} | ({"name": name} if name else {})
        return self._ok(self.client.get("/_mock/apps", params=params))["apps"]

    def create_app(
        self,
        name: str | None = None,
        token: str | None = None,
        *,
        credentials: str | dict | None = None,
        strict: bool | None = None,
    ) -> MesiboApp:
        """An app of the test's own (its own token, none of the other apps' data), named after the test
        that makes it when pytest says which. `credentials`: "sample" for the sample FCM and APN
        credentials, or {"fcm": ..., "apn": ...} naming samples (`samples()`). With `strict` (by default
        this MesiboMock's), `close()` raises for the mistakes its calls made."""
        body: dict[str, Any] = {}
        name = name or current_test()
        if name:
            body["name"] = name[:200]
        if token:
            body["token"] = token
        if credentials is not None:
            body["credentials"] = (
                {"fcm": "sample", "apn": "sample"} if credentials == "sample" else credentials
            )
        view = self._ok(self.client.post("/_mock/apps", json=body))
        return MesiboApp(self.client, self.url, view, self.strict if strict is None else strict)

    def delete_app(self, token: str) -> None:
        self._ok(self.client.delete(f"/_mock/apps/{token}"))

    def reset(self) -> None:
        """Wipe the server (every app, record and fault; the default app made again): only for a server
        your tests own. `reset_app()` empties this object's app alone."""
        self._ok(self.client.post("/_mock/reset", json={}))


def current_test() -> str | None:
    """The running pytest test's node id (pytest says it in PYTEST_CURRENT_TEST), for an app's name."""
    running = os.environ.get("PYTEST_CURRENT_TEST")
    return running.rsplit(" (", 1)[0] if running else None
