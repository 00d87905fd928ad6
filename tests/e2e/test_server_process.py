"""The real `mesibo-mock serve` process: CLI errors, signals, persistence, kill -9, file modes, seed."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from mesibo_mock.testing import free_port, serve_command
from tests.conftest import CREDS, FIXTURES


class Proc:
    def __init__(self, tmp: Path, *args: str, env: dict | None = None, db: str | None = None) -> None:
        self.port = free_port()
        self.db = db or str(tmp / "state.db")
        full_env = {**os.environ, "MESIBO_MOCK_LOG_LEVEL": "info", **(env or {})}
        full_env = {k: v for k, v in full_env.items() if v is not None}
        cmd = [*serve_command(), "serve", "--port", str(self.port), "--db", self.db, *args]
        self.p = subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def wait_healthy(self) -> Proc:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.p.poll() is None, self.p.stderr.read().decode()
            try:
                if self.http.get("/_mock/health").status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.02)
        raise AssertionError("server never became healthy")

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.http.close()
        self.p.send_signal(sig)
        code = self.p.wait(timeout=15)
        return code, self.p.stderr.read().decode()

    def backend(self, **fields) -> dict:
        return self.http.post("/backend", json=fields).json()


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*serve_command(), *args], env=full_env, capture_output=True, text=True, timeout=30)


def assert_one_line_error(done: subprocess.CompletedProcess, words: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert words in lines[0]


# --- CLI refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, words",
    [
        (["serve", "--port", "abc"], "--port"),
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--mode", "space"], "--mode"),
        (["serve", "--log-level", "loud"], "--log-level"),
        (["serve", "--no-such-flag"], "--no-such-flag"),
        (["serve", "--seed", "/no/such/seed.yaml"], "seed"),
        (["serve", "--db", "/no/such/dir/state.db"], "database"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(args, words):
    assert_one_line_error(run_cli(*args), words)


def test_python_dash_m_mesibo_mock_is_the_same_cli(tmp_path):
    import sys

    version = subprocess.run(
        [sys.executable, "-m", "mesibo_mock", "--version"], capture_output=True, text=True, timeout=30
    )
    assert version.returncode == 0 and version.stdout.startswith("mesibo-mock ")
    bad = subprocess.run(
        [sys.executable, "-m", "mesibo_mock", "serve", "--mode", "x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert_one_line_error(bad, "--mode")


def test_database_path_that_is_a_directory(tmp_path):
    assert_one_line_error(run_cli("serve", "--db", str(tmp_path)), "database")


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("MESIBO_MOCK_PORT", "eighty", "MESIBO_MOCK_PORT"),
        ("MESIBO_MOCK_MODE", "x", "MESIBO_MOCK_MODE"),
        ("MESIBO_MOCK_TESTPUSH_LIMIT", "often", "MESIBO_MOCK_TESTPUSH_LIMIT"),
        ("MESIBO_MOCK_MAX_UPLOAD_BYTES", "-5", "MESIBO_MOCK_MAX_UPLOAD_BYTES"),
    ],
)
def test_bad_environment_is_one_line_and_exit_2(tmp_path, name, value, words):
    done = run_cli("serve", "--db", str(tmp_path / "x.db"), env={name: value})
    assert_one_line_error(done, words)


def test_unparseable_seed_is_one_line(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("apps: [ {name: x, push: {sound: maybe}} ]\n")
    assert_one_line_error(run_cli("serve", "--seed", str(seed), "--db", str(tmp_path / "x.db")), "seed")


def test_seed_with_a_broken_credential_is_one_line(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(f"apps:\n  - name: x\n    credentials: {{apn: [{CREDS / 'apns-password.p12'}]}}\n")
    assert_one_line_error(run_cli("serve", "--seed", str(seed), "--db", str(tmp_path / "x.db")), "password")


def test_port_in_use_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--db", str(tmp_path / "x.db"))
    assert_one_line_error(done, "cannot listen")


def test_a_busy_port_points_at_port_0_and_port_0_works(busy_port, tmp_path):
    """The way out the hint names, followed: --port 0 takes a free port and logs which."""
    done = run_cli("serve", "--port", str(busy_port), "--db", str(tmp_path / "x.db"))
    assert_one_line_error(done, "Address already in use")
    assert "--port 0" in done.stderr and "MESIBO_MOCK_PORT" in done.stderr
    cmd = [*serve_command(), "serve", "--port", "0", "--db", str(tmp_path / "y.db")]
    env = {**os.environ, "MESIBO_MOCK_LOG_LEVEL": "info"}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 20
        while "listening on" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        url = line.split("listening on ")[1].split()[0]
        assert not url.endswith(":0") and url != f"http://127.0.0.1:{busy_port}"
        assert httpx.get(url + "/_mock/health").json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_flags_win_over_environment(tmp_path):
    proc = Proc(tmp_path, "--mode", "onprem", env={"MESIBO_MOCK_MODE": "cloud"}).wait_healthy()
    try:
        assert proc.http.get("/_mock/health").json()["mode"] == "onprem"
    finally:
        proc.stop()


# --- signals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_cleanly_with_status_0(tmp_path, sig):
    proc = Proc(tmp_path).wait_healthy()
    started = time.monotonic()
    code, err = proc.stop(sig)
    assert code == 0
    assert time.monotonic() - started < 10
    assert "Traceback" not in err


# --- the app token ------------------------------------------------------------------------------------
def test_app_token_from_environment_is_logged_and_works(tmp_path):
    proc = Proc(tmp_path, env={"MESIBO_MOCK_APP_TOKEN": "fixed-token"}).wait_healthy()
    try:
        assert proc.backend(op="usersget", token="fixed-token")["result"] is True
    finally:
        _, err = proc.stop()
    assert "app token: fixed-token" in err


@pytest.mark.parametrize("level", ["warning", "error"])
def test_app_token_is_logged_even_at_quiet_log_levels(tmp_path, level):
    proc = Proc(tmp_path, "--log-level", level, env={"MESIBO_MOCK_APP_TOKEN": "quiet-token"}).wait_healthy()
    proc.http.get("/_mock/health")
    _, err = proc.stop()
    assert "app token: quiet-token" in err
    assert "uvicorn.access" not in err  # quiet otherwise


def test_random_app_token_is_logged_and_kept_across_restarts(tmp_path):
    proc = Proc(tmp_path, env={"MESIBO_MOCK_APP_TOKEN": None}).wait_healthy()
    apps = proc.http.get("/_mock/apps").json()["apps"]
    _, err = proc.stop()
    assert len(apps) == 1 and apps[0]["name"] == "default"
    assert f"app token: {apps[0]['token']}" in err
    again = Proc(tmp_path, env={"MESIBO_MOCK_APP_TOKEN": None}).wait_healthy()
    try:
        assert [a["token"] for a in again.http.get("/_mock/apps").json()["apps"]] == [apps[0]["token"]]
    finally:
        again.stop()


# --- the store ----------------------------------------------------------------------------------------
def test_database_files_are_private(tmp_path):
    proc = Proc(tmp_path, env={"MESIBO_MOCK_APP_TOKEN": "t"}).wait_healthy()
    try:
        proc.backend(op="useradd", token="t", user={"address": "1"})
        for suffix in ("", "-wal", "-shm"):
            path = Path(proc.db + suffix)
            assert path.exists(), suffix
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, suffix
    finally:
        proc.stop()


def test_memory_database_runs_and_leaves_no_file(tmp_path):
    proc = Proc(tmp_path, db=":memory:", env={"MESIBO_MOCK_APP_TOKEN": "t"}).wait_healthy()
    try:
        assert proc.backend(op="useradd", token="t", user={"address": "1"})["result"] is True
    finally:
        proc.stop()
    assert list(tmp_path.iterdir()) == []


def _write_everything(proc: Proc, token: str) -> None:
    assert proc.backend(op="pushset", token=token, push={"sound": True, "collapse": True})["result"]
    assert proc.backend(op="useradd", token=token, user={"address": "42", "name": "Ann"})["result"]
    files = {"file": ("fcm.json", (CREDS / "fcm-service-account.json").read_bytes())}
    assert proc.http.post("/backend", data={"op": "pushupload", "token": token}, files=files).json()["result"]
    device = {"address": "42", "platform": "android", "appid": "com.example.app", "push_token": "tok-42"}
    assert proc.http.post(f"/_mock/apps/{token}/devices", json=device).status_code == 201
    assert proc.backend(op="pushtest", token=token, push={"address": "42"})["result"]
    assert proc.backend(op="pushdebug", token=token, push={"duration": 600})["result"]


def _assert_everything(proc: Proc, token: str) -> None:
    app = proc.http.get(f"/_mock/apps/{token}").json()
    assert app["push"]["sound"] is True and app["push"]["collapse"] is True
    assert app["credentials"]["fcm"]["project_id"] == "mesibo-mock-demo"
    assert app["debug"]["active"] is True
    users = proc.backend(op="usersget", token=token)["users"]
    assert [(u["address"], u["name"]) for u in users] == [("42", "Ann")]
    assert [d["push_token"] for d in proc.http.get(f"/_mock/apps/{token}/devices").json()["devices"]] == [
        "tok-42"
    ]
    pushes = proc.http.get("/_mock/pushes").json()["pushes"]
    assert len(pushes) == 1 and pushes[0]["status"] == "sent"


def _assert_everything_after_restart(tmp_path: Path, env: dict) -> None:
    again = Proc(tmp_path, env=env).wait_healthy()
    try:
        _assert_everything(again, "t")
    finally:
        again.stop()


def test_state_survives_a_restart(tmp_path):
    env = {"MESIBO_MOCK_APP_TOKEN": "t"}
    proc = Proc(tmp_path, env=env).wait_healthy()
    _write_everything(proc, "t")
    assert proc.stop()[0] == 0
    _assert_everything_after_restart(tmp_path, env)


def test_acknowledged_writes_survive_kill_9(tmp_path):
    env = {"MESIBO_MOCK_APP_TOKEN": "t"}
    proc = Proc(tmp_path, env=env).wait_healthy()
    _write_everything(proc, "t")
    proc.p.kill()  # SIGKILL right after the last response
    proc.p.wait()
    proc.http.close()
    _assert_everything_after_restart(tmp_path, env)


def test_test_push_history_survives_a_restart(tmp_path):
    env = {"MESIBO_MOCK_APP_TOKEN": "t", "MESIBO_MOCK_TESTPUSH_LIMIT": "1/3600"}
    proc = Proc(tmp_path, env=env).wait_healthy()
    device = {"address": "1", "platform": "android", "appid": "a", "push_token": "p"}
    proc.http.post("/_mock/apps/t/devices", json=device)
    assert proc.backend(op="pushtest", token="t", push={"address": "1"})["result"] is True
    proc.stop()
    again = Proc(tmp_path, env=env).wait_healthy()
    try:
        assert again.backend(op="pushtest", token="t", push={"address": "1"})["error"] == "RATELIMITED"
    finally:
        again.stop()


# --- the seed -----------------------------------------------------------------------------------------
def test_seed_is_applied_at_start_and_after_reset(tmp_path):
    proc = Proc(
        tmp_path, "--seed", str(FIXTURES / "seed.yaml"), env={"MESIBO_MOCK_APP_TOKEN": None}
    ).wait_healthy()
    try:
        app = proc.http.get("/_mock/apps/demo-app-token").json()
        assert app["push"]["sound"] is True
        assert app["credentials"]["fcm"]["source"] == "seed"
        assert app["credentials"]["apn"][0]["bundle"] == "com.example.app"
        assert len(proc.http.get("/_mock/apps/demo-app-token/devices").json()["devices"]) == 3
        proc.backend(op="pushset", token="demo-app-token", push={"sound": False})
        proc.http.post("/_mock/reset", json={})
        assert proc.http.get("/_mock/apps/demo-app-token").json()["push"]["sound"] is True
        names = sorted(a["name"] for a in proc.http.get("/_mock/apps").json()["apps"])
        assert names == ["demo"]  # the seed made an app, so no random default app
    finally:
        proc.stop()


def test_seed_does_not_overwrite_api_changes_at_restart(tmp_path):
    args = ("--seed", str(FIXTURES / "seed.yaml"))
    proc = Proc(tmp_path, *args).wait_healthy()
    proc.backend(op="pushset", token="demo-app-token", push={"sound": False})
    proc.stop()
    again = Proc(tmp_path, *args).wait_healthy()
    try:
        assert again.http.get("/_mock/apps/demo-app-token").json()["push"]["sound"] is False
    finally:
        again.stop()


def test_json_seed(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text('{"apps": [{"name": "j", "token": "json-token", "users": [{"address": 7}]}]}')
    proc = Proc(tmp_path, "--seed", str(seed)).wait_healthy()
    try:
        assert proc.backend(op="usersget", token="json-token")["users"][0]["address"] == "7"
    finally:
        proc.stop()


# --- admin token --------------------------------------------------------------------------------------
def test_admin_token_guards_mock_api_but_not_health_or_backend(tmp_path):
    proc = Proc(tmp_path, env={"MESIBO_MOCK_ADMIN_TOKEN": "adm", "MESIBO_MOCK_APP_TOKEN": "t"}).wait_healthy()
    try:
        assert proc.http.get("/_mock/health").status_code == 200
        assert proc.http.get("/_mock/apps").status_code == 401
        assert proc.http.get("/_mock/apps", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert proc.http.get("/_mock/apps", headers={"Authorization": "Bearer adm"}).status_code == 200
        assert proc.http.post("/_mock/reset", json={}).status_code == 401
        assert proc.backend(op="usersget", token="t")["result"] is True
    finally:
        proc.stop()


def test_the_dashboard_needs_the_admin_token_and_cannot_be_framed(tmp_path):
    """Checked over HTTP, so that it holds on a machine without chromium too."""
    env = {"MESIBO_MOCK_ADMIN_TOKEN": "adm", "MESIBO_MOCK_APP_TOKEN": "app-token-xyz"}
    proc = Proc(tmp_path, env=env).wait_healthy()
    try:
        refused = proc.http.get("/_mock/ui")
        assert refused.status_code == 401 and "app-token-xyz" not in refused.text
        assert proc.http.get("/_mock/ui?admin_token=wrong").status_code == 401
        for page in (
            proc.http.get("/_mock/ui?admin_token=adm"),
            proc.http.get("/_mock/ui", headers={"Authorization": "Bearer adm"}),
        ):
            assert page.status_code == 200 and "app-token-xyz" in page.text
            # the page carries the admin token: another site may neither frame it nor keep a copy
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["cache-control"] == "no-store"
            assert page.headers["referrer-policy"] == "no-referrer"
        assert proc.http.get("/_mock/ui/static/app.js").status_code == 200  # no secret in the static files
    finally:
        proc.stop()


def test_openapi_and_docs_are_served(mock):
    schema = mock.client.get("/openapi.json").json()
    assert "/_mock/pushes" in schema["paths"] and "/backend" in schema["paths"]
    assert mock.client.get("/docs").status_code == 200


# --- start-up checks come before the port (SPEC section 1) -------------------------------------------
@pytest.fixture
def busy_port():
    """A port something else already listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--seed", "/no/such/seed.yaml"], "cannot read seed file"),
        (["--db", "/no/such/dir/state.db"], "does not exist"),
        (["--mode", "space"], "--mode"),
    ],
)
def test_each_mistake_is_reported_as_itself_even_when_the_port_is_busy(busy_port, args, words):
    done = run_cli("serve", "--port", str(busy_port), *args)
    assert_one_line_error(done, words)
    assert "cannot listen" not in done.stderr


def test_a_busy_port_with_good_settings_is_reported_and_writes_nothing(busy_port, tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("apps: [{name: seeded, token: seeded-token}]\n")
    db = tmp_path / "state.db"
    done = run_cli("serve", "--port", str(busy_port), "--db", str(db), "--seed", str(seed))
    assert_one_line_error(done, f"cannot listen on 127.0.0.1:{busy_port}")
    import sqlite3

    with sqlite3.connect(db) as conn:  # the schema may be there; no app was written
        assert conn.execute("SELECT COUNT(*) FROM apps").fetchone()[0] == 0


def test_a_broken_yaml_seed_names_its_line(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("apps:\n  - name: demo\n    token: [unclosed\n    push: {}\n")
    done = run_cli("serve", "--port", "0", "--db", str(tmp_path / "x.db"), "--seed", str(seed))
    assert_one_line_error(done, "line")
    assert "line 3" in done.stderr or "line 4" in done.stderr or "line 5" in done.stderr


@pytest.mark.parametrize("existing", [False, True])
def test_an_unwritable_database_directory_is_explained(tmp_path, existing):
    directory = tmp_path / "locked"
    directory.mkdir()
    if existing:
        (directory / "state.db").write_bytes(b"")
    # root ignores file modes; an immutable directory stops root too
    if subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode != 0:
        directory.chmod(0o500)
    try:
        done = run_cli("serve", "--port", "0", "--db", str(directory / "state.db"))
    finally:
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
        directory.chmod(0o700)
    assert_one_line_error(done, "cannot open database")
    assert "unable to open database file" not in done.stderr
    assert "writable" in done.stderr
