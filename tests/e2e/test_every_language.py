"""SPEC section 9, the server's side of every language's test helpers: the ready line and file, sample
credentials over HTTP, long-polls that count, and strict mode's rule at /_mock/mistakes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from mesibo_mock.testing import MesiboMock, MesiboMockError, serve_command
from mesibo_mock.testing.receiver import WebhookReceiver

READY_KEYS = {"url", "backend_url", "app_token", "pid", "version"}


def start_serving(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("level", ["critical", "debug"])
def test_the_first_stdout_line_and_the_ready_file_say_where_the_server_is(tmp_path, level):
    ready = tmp_path / "ready.json"
    ready.write_text("stale, from an earlier run")
    server = start_serving("--ready-file", str(ready), "--log-level", level)
    try:
        line = server.stdout.readline().decode()
        assert line.startswith("mesibo-mock ready {"), line
        record = json.loads(line[len("mesibo-mock ready ") :])
        assert set(record) == READY_KEYS and record["pid"] == server.pid
        assert json.loads(ready.read_text()) == record  # whole, and no longer the stale text
        assert record["backend_url"] == record["url"] + "/backend"
        health = httpx.get(record["url"] + "/_mock/health").json()
        assert health["status"] == "ok" and health["version"] == record["version"]
        answer = httpx.post(record["backend_url"], json={"op": "usersget", "token": record["app_token"]})
        assert answer.json()["result"] is True
        assert not list(tmp_path.glob("*.partial"))  # written aside, then renamed into place
    finally:
        server.terminate()
        assert server.wait(10) == 0
    assert not ready.exists()  # a stopped server leaves no address behind


def test_a_ready_file_in_a_missing_folder_exits_2_before_the_port_is_taken(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*serve_command(), "serve", "--port", str(port), "--db", ":memory:"]
            + ["--ready-file", str(tmp_path / "nowhere" / "ready.json")],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert done.returncode == 2
    assert (
        "--ready-file" in done.stderr and "does not exist" in done.stderr and "Traceback" not in done.stderr
    )
    assert done.stdout == ""  # no ready line for a server that never started


# --- samples -------------------------------------------------------------------------------------------
def test_samples_are_listed_and_served_as_pushupload_takes_them(mock):
    listed = {s["name"]: s for s in mock.samples()}
    assert set(listed) >= {
        "fcm.json",
        "apn-development.p12",
        "apn-production.p12",
        "apn-universal.p12",
        "apn-expired.p12",
        "apn-key.p8",
    }
    assert all(s["url"] == f"/_mock/samples/{name}" for name, s in listed.items())
    account = json.loads(mock.sample("fcm.json"))
    assert account["type"] == "service_account" and account["project_id"] == "mesibo-mock-demo"
    assert mock.sample("fcm.json") == mock.sample("fcm.json")  # made once per server
    assert mock.upload_credential(mock.sample("fcm.json"), "fcm")["push"]["type"] == "fcm"
    universal = mock.upload_credential(mock.sample("apn-universal.p12"), "apn")["push"]
    assert universal["sandbox"] and universal["production"] and universal["bundle"] == "com.example.app"
    response = mock.client.get("/_mock/samples/apn-development.p12")
    assert response.headers["content-type"] == "application/x-pkcs12"
    assert 'filename="apn-development.p12"' in response.headers["content-disposition"]
    expired = mock.upload_credential(mock.sample("apn-expired.p12"), "apn")
    assert expired["error"] == "BADVALUE" and expired["properties"] == ["file"]


def test_an_apns_p8_key_is_refused_with_what_mesibo_takes(mock):
    key = mock.sample("apn-key.p8")
    assert key.startswith(b"-----BEGIN PRIVATE KEY-----")
    answer = mock.upload_credential(key, filename="AuthKey_ABC123.p8")
    assert answer["error"] == "BADVALUE" and answer["properties"] == ["file"]
    [entry] = mock.requests(op="pushupload", limit=1)
    assert "Mesibo takes the certificate as a .p12" in entry["diagnosis"][0]["problem"]
    assert "PRIVATE KEY" not in json.dumps(entry)


def test_an_unknown_sample_name_is_a_404_naming_it(mock):
    response = mock.client.get("/_mock/samples/fcm.jsn")
    assert response.status_code == 404
    assert "name" in response.json()["detail"] and "fcm.jsn" in response.json()["detail"]
    assert "fcm.json" in response.json()["detail"]  # the names there are


def test_a_new_app_gets_sample_credentials_as_pushupload_would(mock):
    app = mock.create_app("per-test", credentials="sample").view
    assert app["credentials"]["fcm"]["project_id"] == "mesibo-mock-demo"
    assert app["credentials"]["fcm"]["source"] == "api"
    [apn] = app["credentials"]["apn"]
    assert apn["bundle"] == "com.example.app" and apn["sandbox"] and apn["production"]
    mock.register_device("ann", "ios", token=app["token"])
    mock.register_device("ann", "android", token=app["token"])
    answer = mock.client.post(
        "/backend", json={"op": "pushtest", "token": app["token"], "push": {"address": "ann"}}
    ).json()
    assert sorted(r["status"] for r in answer["push"]["results"]) == ["sent", "sent"]
    named = mock.create_app("named", credentials={"apn": ["apn-development.p12"]}).view
    assert named["credentials"]["fcm"] is None and named["credentials"]["apn"][0]["production"] is False


@pytest.mark.parametrize(
    "credentials, field, words",
    [
        ({"fcm": "nope.json"}, "credentials.fcm", "no sample named 'nope.json'"),
        ({"fcm": "apn-universal.p12"}, "credentials.fcm", "is an apn sample"),
        ({"apn": ["sample", "fcm.json"]}, "credentials.apn", "is an fcm sample"),
        ({"apn": "apn-expired.p12"}, "credentials", "expired"),
        ({"apn": "apn-key.p8"}, "credentials", ".p8"),
    ],
)
def test_a_bad_credentials_request_is_a_422_naming_it_and_makes_no_app(mock, credentials, field, words):
    response = mock.client.post(
        "/_mock/apps", json={"name": "bad", "token": "bad-app", "credentials": credentials}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(field) and words in detail, detail
    assert mock.client.get("/_mock/apps/bad-app").status_code == 404


# --- long-polls: answered within a moment of a matching record, and counting -----------------------------
def long_poll_in_background(mock: MesiboMock, path: str, **params) -> tuple[threading.Thread, dict]:
    """Start GET `path` with `params` in a thread; -> (the thread, where its answer and time will be)."""
    out: dict = {}

    def run() -> None:
        started = time.monotonic()
        out["answer"] = mock.client.get(path, params=params, timeout=30).json()
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)  # the long-poll is waiting before anything happens
    return thread, out


def check_wakes_early(mock: MesiboMock, path: str, key: str, params: dict, make: Callable[[], None]):
    """The one rule for every list route with `wait`: a matching record answers it within a moment."""
    thread, out = long_poll_in_background(mock, path, wait=10, **params)
    make()
    thread.join(15)
    assert out["answer"][key], out
    assert out["seconds"] < 3, f"{path} answered after {out['seconds']:.1f} s, not when the record came"


def check_counts(mock: MesiboMock, path: str, key: str, params: dict, make: Callable[[], None]):
    """`count=3`: not answered after one or two matching records, answered soon after the third."""
    thread, out = long_poll_in_background(mock, path, wait=20, count=3, **params)
    for _ in range(2):
        make()
    time.sleep(0.6)
    assert thread.is_alive(), f"{path} answered with fewer than count records: {out}"
    make()
    thread.join(15)
    assert len(out["answer"][key]) >= 3 and out["seconds"] < 10


class Routes:
    """For each list route with `wait`: its path, its list key, filters that select, and a way to make
    one more matching record."""

    def __init__(self, mock: MesiboMock) -> None:
        self.mock = mock
        self.receiver: WebhookReceiver | None = None
        self.n = 0

    def _next(self) -> str:
        self.n += 1
        return f"u{self.n}"

    def push(self) -> None:
        address = self._next()
        self.mock.register_device(address)
        assert self.mock.backend("pushtest", push={"address": address})["result"]

    def message(self) -> None:
        self.mock.backend("useradd", user={"address": "to"})
        self.mock.send_message("from", "to", "hi", forced=True)

    def event(self) -> None:
        self.mock.set_online(self._next())

    def request(self) -> None:
        self.mock.backend("usersget")

    def table(self) -> dict[str, tuple[str, str, dict, Callable[[], None]]]:
        self.mock.backend("pushset", push={"ratelimit": False})
        self.receiver = self.mock.webhook_receiver(events=["user"])
        token = self.mock.app_token
        return {
            "pushes": ("/_mock/pushes", "pushes", {"token": token, "kind": "test"}, self.push),
            "messages": ("/_mock/messages", "messages", {"token": token, "from": "from"}, self.message),
            "events": ("/_mock/events", "events", {"token": token, "type": "user"}, self.event),
            "deliveries": (
                "/_mock/deliveries",
                "deliveries",
                {"token": token, "state": "delivered"},
                self.event,
            ),
            "requests": ("/_mock/requests", "requests", {"token": token, "op": "usersget"}, self.request),
        }


ROUTES = ["pushes", "messages", "events", "deliveries", "requests"]


@pytest.mark.parametrize("route", ROUTES)
def test_every_long_poll_answers_within_a_moment_of_a_matching_record(mock, route):
    path, key, params, make = Routes(mock).table()[route]
    check_wakes_early(mock, path, key, params, make)


@pytest.mark.parametrize("route", ROUTES)
def test_every_long_poll_waits_for_count_records(mock, route):
    path, key, params, make = Routes(mock).table()[route]
    check_counts(mock, path, key, params, make)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("count, limit", [(0, 100), (-1, 100), (101, 100), (1001, 1000)])
def test_a_count_of_0_or_past_the_limit_is_a_422_naming_count(mock, route, count, limit):
    response = mock.client.get(f"/_mock/{route}", params={"count": count, "limit": limit, "wait": 1})
    assert response.status_code == 422
    assert "count" in json.dumps(response.json()["detail"])


def test_count_already_met_answers_at_once_with_what_matched(mock):
    for i in range(4):
        mock.backend("useradd", user={"address": f"a{i}"})
    started = time.monotonic()
    found = mock.client.get("/_mock/requests", params={"op": "useradd", "count": 4, "wait": 10}).json()
    assert len(found["requests"]) == 4 and time.monotonic() - started < 1
    started = time.monotonic()
    short = mock.client.get("/_mock/requests", params={"op": "useradd", "count": 5, "wait": 1}).json()
    assert len(short["requests"]) == 4 and 0.9 < time.monotonic() - started < 3  # what matched, at the wait


def test_the_python_helpers_wait_for_count_in_one_long_poll(mock):
    def later() -> None:
        time.sleep(0.5)
        for i in range(3):
            mock.backend("useradd", user={"address": f"late{i}"})

    threading.Thread(target=later).start()
    assert len(mock.wait_for_requests(3, timeout=10, op="useradd")) == 3


# --- strict mode's rule, over HTTP ----------------------------------------------------------------------
def test_mistakes_lists_what_strict_mode_fails_a_test_for_with_the_plugins_text(mock):
    other = mock.create_app("other").token
    mock.backend("pushset", push={"sounds": True})
    first = mock.last_request_id()
    mock.backend("nosuchop")
    mock.backend("useradd", user={"address": "1", "otp": "123"})  # a Mesibo parameter, not a mistake
    mock.client.post("/backend", json={"op": "usersget", "token": other, "cont": 3})
    everything = mock.client.get("/_mock/mistakes").json()
    assert [(m["op"], m["field"], m["kind"]) for m in everything["mistakes"]] == [
        ("pushset", "push.sounds", "unknown field"),
        ("nosuchop", "op", "unknown op"),
        ("usersget", "cont", "unknown field"),
    ]
    assert everything["mistakes"][0]["text"] == (
        f"request #{first} pushset: 'push.sounds' is not a field of pushset: ignored, as Mesibo ignores it"
        " (did you mean 'push.sound'?)"
    )
    assert everything["report"].splitlines()[0] == (
        "mesibo-mock strict mode: 3 backend call mistake(s) that Mesibo would ignore silently:"
    )
    after = mock.client.get("/_mock/mistakes", params={"after": first}).json()["mistakes"]
    assert [m["op"] for m in after] == ["nosuchop", "usersget"]
    mine = mock.client.get("/_mock/mistakes", params={"token": other}).json()
    assert [m["op"] for m in mine["mistakes"]] == ["usersget"] and "cont" in mine["report"]
    clean = mock.client.get("/_mock/mistakes", params={"token": "no-such-app"}).json()
    assert clean["mistakes"] == [] and clean["report"] is None
    # `seen` marks where the findings end: passed back, what was read is left out
    seen = mine["seen"]
    assert mock.client.get("/_mock/mistakes", params={"token": other, "seen": seen}).json()["mistakes"] == []
    assert mock.client.get("/_mock/mistakes", params={"seen": "1:x"}).status_code == 422


def test_connect_attaches_to_a_running_server_with_every_helper(server):
    with MesiboMock.connect(server.url) as attached:  # the server's default app, found by name
        assert attached.app_token == server.app_token and attached.url == server.url
        attached.register_device("ann")
        assert attached.backend("pushtest", push={"address": "ann"})["result"] is True
        assert attached.wait_for_pushes(address="ann")[0]["status"] in ("sent", "failed")
    assert server.health()["status"] == "ok"  # leaving it closed only the client
    with pytest.raises(MesiboMockError, match="cannot use the mesibo-mock server"):
        MesiboMock.connect("http://127.0.0.1:9")


def test_connect_with_an_app_token_and_an_admin_token(tmp_path):
    with MesiboMock(subprocess=True, env={"ADMIN_TOKEN": "adm"}) as owner:
        app = owner.create_app("mine", credentials="sample")
        with MesiboMock.connect(owner.backend_url, app_token=app.token, admin_token="adm") as attached:
            assert attached.app()["name"] == "mine"
            attached.register_device("bob")
            [result] = attached.backend("pushtest", push={"address": "bob"})["push"]["results"]
            assert result["status"] == "sent"
        with pytest.raises(MesiboMockError, match="401"):
            MesiboMock.connect(owner.url)  # no admin token
