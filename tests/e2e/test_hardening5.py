"""The fifth hardening round (issue 39), each through the real server or the real command, as a user
meets it: record and verify with real secrets and hostile files, two servers on one store, source
addresses that a header cannot forge, and nothing that grows without bound."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from mesibo_mock.testing import MesiboMock, serve_command
from tests.conftest import CREDS
from tests.e2e.test_record_verify import Recorder
from tests.standin import StandIn

APP_TOKEN = "ptlk9hdel1gqxf3p0s15f5f5gtusldej18tl794suzit"
HEX_TOKEN = "0f3a9c1b2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4"  # 44 hex digits
KEY = json.loads((CREDS / "fcm-service-account.json").read_bytes())["private_key"]


@pytest.fixture
def stand_in():
    upstream = StandIn()
    yield upstream
    upstream.close()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


# --- 1. record keeps no secret: in keys, inside values, encoded; nor its log ---------------------------
@pytest.mark.parametrize("token", [APP_TOKEN, HEX_TOKEN])
def test_a_recording_holds_the_token_in_no_key_substring_or_encoding_and_its_log_neither(
    stand_in, tmp_path, token
):
    recorder = Recorder(stand_in.url, tmp_path / "secrets.jsonl")
    fields = {
        "op": "useradd",
        "token": token,
        "user": {
            "address": "ann",
            "profile": {
                token: "the token as a key",
                KEY: "a private key as a key",
                "note": f"sent with {token} inside",
                "b64": base64.b64encode(f"token={token}".encode()).decode(),
                "b64url": base64.urlsafe_b64encode(token.encode()).decode().rstrip("="),
                "pct": quote(f"?t={token}&x=1", safe=""),
            },
        },
    }
    with httpx.Client(base_url=recorder.url) as client:
        assert client.post("/backend", json=fields).status_code == 200
        assert client.get("/api.php", params={"op": "usersget", "Token": token}).status_code == 200
    code, err = recorder.stop()
    text = recorder.out.read_text()
    assert code == 0
    for leak in (
        token,
        base64.b64encode(token.encode()).decode()[:40],
        "PRIVATE KEY-----\n",
        "BEGIN PRIVATE",
    ):
        assert leak not in text, leak
    assert token not in err and "Token=" + token not in err
    profile = recorder.lines()[1]["fields"]["user"]["profile"]
    assert profile["<app-token-1>"] == "the token as a key"
    assert profile["note"] == "sent with <app-token-1> inside"
    assert any(key.startswith("[redacted private key]") for key in profile)


def test_the_journal_keeps_no_key_sent_as_a_json_key_nor_the_token_inside_a_value(mock):
    fields = {
        "op": "userset",
        "token": mock.app_token,
        "user": {"address": "x", "profile": {KEY: 1, "t": f"<{mock.app_token}>"}},
    }
    httpx.post(mock.backend_url, json=fields)
    [entry] = mock.requests(limit=1)
    kept = json.dumps(entry["fields"])
    assert "PRIVATE KEY-----" not in kept.replace("[redacted private key]", "") and mock.app_token not in kept


# --- 2. record reads at most 8 MiB of an answer -------------------------------------------------------
class HugeAnswer:
    """An upstream that answers 300 MiB, declared or chunked, streamed until the client goes."""

    def __init__(self, declared: bool) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/backend"
        self.declared = declared
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn: socket.socket) -> None:
        chunk = b'{"op":"usersget","result":true,"pad":"' + b"x" * (1024 * 1024)
        try:
            conn.recv(65536)
            if self.declared:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 314572800\r\n\r\n"
                )
                for _ in range(300):
                    conn.sendall(chunk[: 1024 * 1024])
            else:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                for _ in range(300):
                    conn.sendall(b"%x\r\n%s\r\n" % (1024 * 1024, chunk[: 1024 * 1024]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_upstream_answer_is_read_to_8_mib_answered_502_and_recorded_as_truncated(tmp_path, declared):
    upstream = HugeAnswer(declared)
    recorder = Recorder(upstream.url, tmp_path / "huge.jsonl")
    try:
        with httpx.Client(base_url=recorder.url, timeout=60) as client:
            answer = client.post("/backend", json={"op": "usersget", "token": APP_TOKEN})
        assert answer.status_code == 502 and "8 MiB" in answer.json()["detail"]
        assert rss_mib(recorder.process.pid) < 150
    finally:
        recorder.stop()
        upstream.close()
    [line] = recorder.lines()[1:]
    assert line["truncated"] is True and "8 MiB" in line["error"]
    assert recorder.out.stat().st_size < 64 * 1024


# --- 3 and 5. verify replays backend paths only, and refuses a file it cannot read ---------------------
HEADER = {"format": "mesibo-mock-recording", "version": 1, "started_epoch": 1_700_000_000}
CALL = {
    "seq": 1,
    "t": 0,
    "method": "POST",
    "path": "/backend",
    "encoding": "json",
    "fields": {"op": "usersget", "token": "<app-token-1>"},
    "answer": {
        "status": 200,
        "body": {"op": "usersget", "result": True, "userscount": 0, "count": 0, "users": []},
    },
}


def run_verify(path: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*serve_command(), "verify", str(path), *extra], capture_output=True, text=True, timeout=timeout
    )


def write_recording(path: Path, *calls, tail: str = "") -> Path:
    path.write_text("\n".join(json.dumps(line) for line in (HEADER, *calls)) + "\n" + tail)
    return path


@pytest.mark.parametrize(
    "where",
    [
        "http://127.0.0.1:9/backend",
        "//evil.example/backend",
        "/_mock/reset",
        "/backend/../_mock/reset",
        "/backend?x=1",
    ],
)
def test_verify_refuses_a_call_to_anything_but_a_backend_path_before_sending_a_byte(mock, tmp_path, where):
    before = mock.users()
    mock.register_device("kept")  # what a reset would wipe
    rec = write_recording(tmp_path / "bad.jsonl", CALL, {**CALL, "seq": 2, "path": where, "method": "POST"})
    done = run_verify(rec, "--url", mock.url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "line 3" in done.stderr and "'path'" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert [u["address"] for u in mock.users()] == [u["address"] for u in before] + ["kept"]
    assert mock.requests() == []  # not even the good first call was sent


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("[" * 5000 + "]" * 5000, "nested"),
        (json.dumps({**CALL, "t": 1e300}), "'t'"),
        (json.dumps({**CALL, "t": "5"}), "'t'"),
        (json.dumps({**CALL, "seq": "1"}), "'seq'"),
        (json.dumps({**CALL, "fields": ["op", "usersget"]}), "'fields'"),
        (json.dumps({**CALL, "answer": {"status": "200", "body": {}}}), "'answer.status'"),
        (json.dumps({**CALL, "method": "CONNECT"}), "'method'"),
        (json.dumps({**CALL, "encoding": 7}), "'encoding'"),
        (json.dumps([1, 2, 3]), "a JSON object"),
    ],
)
def test_verify_names_the_line_and_field_of_a_malformed_file_and_exits_2(tmp_path, line, field):
    rec = tmp_path / "malformed.jsonl"
    rec.write_text(json.dumps(HEADER) + "\n" + json.dumps(CALL) + "\n" + line + "\n")
    done = run_verify(rec)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    [message] = done.stderr.strip().splitlines()
    assert "line 3" in message and field in message


def test_a_last_line_cut_short_is_reported_and_skipped_and_the_rest_verified(tmp_path):
    rec = write_recording(tmp_path / "cut.jsonl", CALL, tail=json.dumps({**CALL, "seq": 2})[:40])
    done = run_verify(rec)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "line 3 is cut short" in done.stdout and "1 calls, 1 match, 0 differ" in done.stdout


# --- 6. verify's throw-away emulator ends with verify --------------------------------------------------
def serve_children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"serve" in cmdline:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_verify_ended_by_a_signal_leaves_no_emulator_behind(tmp_path, sig):
    calls = [{**CALL, "seq": n, "t": n * 100} for n in range(1, 2000)]
    rec = write_recording(tmp_path / "long.jsonl", *calls)
    proc = subprocess.Popen(
        [*serve_command(), "verify", str(rec)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    children: list[int] = []
    while not children and time.monotonic() < deadline:
        children = serve_children(proc.pid)
        time.sleep(0.05)
    assert children, "verify started no emulator"
    time.sleep(1)  # replaying by now
    proc.send_signal(sig)
    proc.wait(15)
    deadline = time.monotonic() + 10
    while any(
        Path(f"/proc/{c}").exists() and "Z" not in Path(f"/proc/{c}/stat").read_text().split()[2]
        for c in children
    ):
        assert time.monotonic() < deadline, f"the emulator outlived verify ({sig!r})"
        time.sleep(0.05)


# --- 7. two servers on one store answer from the store as it is -----------------------------------------
def test_a_second_server_sees_the_first_ones_changes_on_its_next_request(tmp_path):
    db = str(tmp_path / "shared.db")
    with (
        MesiboMock(subprocess=True, db=db, app_token="shared-token", mode="onprem") as first,
        MesiboMock(subprocess=True, db=db, app_token="shared-token", mode="onprem") as second,
    ):
        other = first.client.post("/_mock/apps", json={"name": "victim"}).json()["token"]
        call = {"op": "usersget", "token": other}
        assert httpx.post(second.backend_url, json=call).json()["result"] is True  # memoized there now
        assert first.client.delete(f"/_mock/apps/{other}").status_code == 204
        assert httpx.post(second.backend_url, json=call).json()["error"] == "AUTHFAIL"
        # a device removed through the first server gets no push from the second
        first.register_device("bob", push_token="fcm-bob")
        second.upload_credential((CREDS / "fcm-service-account.json").read_bytes(), "fcm")
        push = {"op": "pushtest", "token": "shared-token", "push": {"address": "bob"}}
        assert len(httpx.post(second.backend_url, json=push).json()["push"]["results"]) == 1
        [device] = first.devices()
        assert first.client.delete(f"/_mock/apps/shared-token/devices/{device['id']}").status_code == 204
        assert httpx.post(second.backend_url, json=push).json()["error"] == "INVALIDVALUE"


def test_a_lifted_tokenbreach_and_a_replaced_credential_are_seen_by_the_other_server(tmp_path):
    db = str(tmp_path / "shared.db")
    with (
        MesiboMock(subprocess=True, db=db, app_token="breach-token") as first,
        MesiboMock(subprocess=True, db=db, app_token="breach-token") as second,
    ):
        for n in range(1, 7):
            transport = httpx.HTTPTransport(local_address=f"127.0.0.{n}")
            with httpx.Client(transport=transport) as client:
                client.post(first.backend_url, json={"op": "usersget", "token": "breach-token"})
        call = {"op": "usersget", "token": "breach-token"}
        assert httpx.post(second.backend_url, json=call).json()["error"] == "TOKENBREACH"
        first.client.put("/_mock/apps/breach-token", json={"disabled": False}).raise_for_status()
        assert httpx.post(second.backend_url, json=call).json()["result"] is True


# --- 8 and 17. a source address is the TCP peer's, unless a trusted proxy names it -----------------------
def test_forwarded_headers_from_loopback_cannot_forge_six_addresses(mock):
    for n in range(1, 8):
        for header in (
            {"X-Forwarded-For": f"10.0.0.{n}"},
            {"Forwarded": f"for=10.1.0.{n}"},
            {"X-Forwarded-For": "<b>x</b>" * 500},
        ):
            answer = httpx.post(
                mock.backend_url, json={"op": "usersget", "token": mock.app_token}, headers=header
            ).json()
            assert answer["result"] is True
    assert mock.app()["addresses"] == ["127.0.0.1"]


def test_a_trusted_proxy_names_the_source_with_ip_addresses_only_and_sources_are_bounded():
    with MesiboMock(subprocess=True, mode="onprem", env={"TRUSTED_PROXIES": "127.0.0.0/8"}) as mock:

        def via_proxy(value: str) -> dict:
            return httpx.post(
                mock.backend_url,
                json={"op": "usersget", "token": mock.app_token},
                headers={"X-Forwarded-For": value},
            ).json()

        assert via_proxy("203.0.113.7, 127.0.0.5")["result"] is True  # the nearest untrusted hop
        assert via_proxy("<b>not an address</b>")["result"] is True  # text: the proxy itself counts
        for n in range(300):  # onprem never disables: the addresses kept are bounded all the same
            via_proxy(f"198.51.{n // 250}.{n % 250}")
        addresses = mock.app()["addresses"]
        assert "203.0.113.7" in addresses and "127.0.0.1" in addresses
        assert not any("<" in a for a in addresses) and len(addresses) <= 64


def test_trusted_proxies_that_are_not_addresses_are_a_usage_error(tmp_path):
    done = subprocess.run(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:"],
        env={**os.environ, "MESIBO_MOCK_TRUSTED_PROXIES": "proxy.example"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (
        done.returncode == 2
        and "MESIBO_MOCK_TRUSTED_PROXIES" in done.stderr
        and "proxy.example" in done.stderr
    )


# --- 10. a server a client started never outlives it ------------------------------------------------------
def test_serve_with_parent_pid_ends_when_that_process_is_killed(tmp_path):
    parent = subprocess.Popen(["sleep", "60"])
    server = subprocess.Popen(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", "--parent-pid", str(parent.pid)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert server.stdout.readline().startswith(b"mesibo-mock ready ")
    parent.kill()
    parent.wait()
    assert server.wait(10) == 0
    assert b"--parent-pid" in server.stderr.read()


def test_serve_refuses_a_parent_pid_that_is_not_running():
    done = subprocess.run(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", "--parent-pid", "999999999"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--parent-pid 999999999" in done.stderr


# --- 11 and 16. UACs are bounded, and views list them small ------------------------------------------------
def test_uacs_are_bounded_in_number_and_size_and_views_list_them_small(mock):
    big = {"name": "big", "presence": {"pad": "x" * 600_000}}
    refused = mock.backend("uacset", uac=big)
    assert refused["error"] == "BADVALUE" and refused["properties"] == ["uac"]
    body = {"name": "fits", "presence": {"pad": "y" * 60_000}}
    for n in range(1, 101):
        assert mock.backend("uacset", uac=body)["uac"] == {"id": n}
    refused = mock.backend("uacset", uac={"name": "one too many"})
    assert refused["error"] == "BADVALUE" and refused["properties"] == ["uac"]
    assert (
        mock.backend("uacset", uac={"id": 7, "update": 1, "name": "changed"})["result"] is True
    )  # a change fits
    listed = mock.app()["uacs"]
    assert len(listed) == 100 and set(listed[0]) == {"id", "name", "bytes"}
    assert len(mock.client.get("/_mock/apps").content) < 100_000  # not 100 x 60 KB
    assert len(mock.client.get("/_mock/ui").content) < 400_000
    whole = mock.client.get(f"/_mock/apps/{mock.app_token}/uacs/3").json()
    assert whole["presence"]["pad"] == "y" * 60_000 and whole["id"] == 3
    assert mock.client.get(f"/_mock/apps/{mock.app_token}/uacs/101").status_code == 404


def test_a_uac_id_past_the_largest_is_badvalue_id_and_none_is_given_twice(mock):
    largest = 2**63 - 1
    too_big = mock.backend("uacset", uac={"id": largest + 1, "name": "x"})
    assert too_big["error"] == "BADVALUE" and too_big["properties"] == ["id"]
    assert mock.backend("uacset", uac={"id": largest, "name": "last"})["uac"] == {"id": largest}
    after = mock.backend("uacset", uac={"name": "no id left"})
    assert after["error"] == "BADVALUE" and after["properties"] == ["id"]
    assert mock.backend("uacset", uac={"id": 5, "name": "a free one"})["uac"] == {"id": 5}


# --- 14. apps come a page at a time ----------------------------------------------------------------------
def test_apps_are_listed_a_page_at_a_time_with_the_total(mock):
    made = [mock.client.post("/_mock/apps", json={"name": f"paged-{n}"}).json()["token"] for n in range(5)]
    first = mock.client.get("/_mock/apps", params={"limit": 2}).json()
    assert len(first["apps"]) == 2 and first["total"] == 6  # the default app and five
    rest = mock.client.get("/_mock/apps", params={"limit": 100, "offset": 2}).json()
    assert [a["token"] for a in first["apps"] + rest["apps"]][1:] == made
    assert mock.client.get("/_mock/apps", params={"limit": 1001}).status_code == 422
    named = mock.client.get("/_mock/apps", params={"name": "paged-3"}).json()
    assert [a["token"] for a in named["apps"]] == [made[3]] and named["total"] == 1


# --- 12. samples: one child, once per machine -------------------------------------------------------------
MADE = "made the sample credentials"


def server_log(mock: MesiboMock) -> str:
    return Path(mock._log_path).read_text()


def sample_app(mock: MesiboMock, credentials: dict | None = None) -> httpx.Response:
    body = {"name": "s", "credentials": credentials or {"fcm": "sample", "apn": "sample"}}
    return httpx.post(mock.url + "/_mock/apps", json=body, timeout=60)


def test_concurrent_first_requests_share_one_child_and_later_servers_start_none(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with MesiboMock(subprocess=True, log_level="info") as first:
        answers: list[int] = []
        threads = [
            threading.Thread(target=lambda: answers.append(sample_app(first).status_code)) for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [201] * 20
        assert server_log(first).count(MADE) == 1
    folder = tmp_path / "cache" / "mesibo-mock" / "samples-0.1.0"
    assert (folder / "samples.json").exists() and folder.stat().st_mode & 0o777 == 0o700
    with MesiboMock(subprocess=True, log_level="info") as second:
        assert sample_app(second).status_code == 201
        assert second.client.get("/_mock/samples/fcm.json").status_code == 200
        assert MADE not in server_log(second)  # read from the cache: no child, no key made


def test_samples_live_in_memory_where_the_cache_cannot_be_written_or_trusted(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    with MesiboMock(subprocess=True, log_level="info") as mock:
        assert sample_app(mock).status_code == 201 and sample_app(mock).status_code == 201
        assert server_log(mock).count(MADE) == 1 and "kept in memory" in server_log(mock)
    shared = tmp_path / "shared"
    folder = shared / "mesibo-mock" / "samples-0.1.0"
    folder.mkdir(parents=True)
    (folder / "samples.json").write_text('{"files": {}, "parsed": {}}')  # planted
    folder.chmod(0o777)  # anyone could have put files there: never read
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    with MesiboMock(subprocess=True, log_level="info") as mock:
        assert sample_app(mock).status_code == 201
        assert server_log(mock).count(MADE) == 1  # made anew, not read
    assert folder.stat().st_mode & 0o777 == 0o700  # the folder is ours: made private again


def test_a_cached_sample_certificate_expires_by_the_emulator_clock(mock):
    assert sample_app(mock, {"apn": "sample"}).status_code == 201  # made (or read) and kept
    mock.client.post("/_mock/clock", json={"set": "2090-01-01T00:00:00Z"}).raise_for_status()
    refused = sample_app(mock, {"apn": "sample"})
    assert refused.status_code == 422 and "expired" in refused.text
    assert sample_app(mock, {"fcm": "sample"}).status_code == 201  # an FCM key does not expire
