"""The attacks of the second hardening round, each through the real server where it came through it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time

import httpx
import pytest

from mesibo_mock.testing import free_port, serve_command
from tests.conftest import CREDS, cred, said

FORGED = (
    "import json, pathlib, sys\n"
    "pathlib.Path({marker!r}).write_text('ran')\n"
    "json.dump({{'results': [{{'credential': {{'platform': 'fcm', 'key_fingerprint': 'forged',"
    " 'project_id': 'forged-project', 'client_email': 'evil@example.com'}}}}]}}, sys.stdout)\n"
)


def start_server(cwd, token: str = "hard-token", **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full = {**os.environ, "MESIBO_MOCK_APP_TOKEN": token, "MESIBO_MOCK_LOG_LEVEL": "warning", **env}
    proc = subprocess.Popen(
        [*serve_command(), "serve", "--port", str(port), "--db", ":memory:"],
        cwd=cwd,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/_mock/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError(proc.stderr.read().decode())


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=15)


def test_a_worker_planted_in_the_working_directory_never_runs(tmp_path):
    marker = tmp_path / "planted-worker-ran"
    for package in ("app", "mesibo_mock"):
        folder = tmp_path / package / "credentials"
        folder.mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (folder / "__init__.py").write_text("")
        (folder / "worker.py").write_text(FORGED.format(marker=str(marker)))
    (tmp_path / "worker.py").write_text(FORGED.format(marker=str(marker)))
    proc, url = start_server(tmp_path)
    try:
        answer = httpx.post(
            url + "/backend",
            data={"op": "pushupload", "token": "hard-token"},
            files={"file": ("fcm.json", cred("fcm-service-account.json"))},
            timeout=30,
        ).json()
    finally:
        stop(proc)
    assert answer["result"] is True and answer["push"]["project_id"] == "mesibo-mock-demo"
    assert not marker.exists()


def _children(body: bytes) -> list[tuple[int, bytes]]:
    from mesibo_mock.credentials.der import _items

    return _items(body)


def _tlv(tag: int, body: bytes) -> bytes:
    from mesibo_mock.credentials.samples import _tlv as encode

    return encode(tag, body)


def with_mac_iterations(p12: bytes, iterations: int) -> bytes:
    """The same PKCS#12 file with its MacData asking for `iterations` (its MAC then no longer matches)."""
    [(_, pfx)] = _children(p12)
    version, auth_safe, mac_data = _children(pfx)
    digest, salt, _old = _children(mac_data[1])
    count = iterations.to_bytes((iterations.bit_length() + 8) // 8, "big")
    new_mac = _tlv(0x30, _tlv(*digest) + _tlv(*salt) + _tlv(0x02, count))
    return _tlv(0x30, _tlv(*version) + _tlv(*auth_safe) + new_mac)


def test_an_absurd_iteration_count_is_refused_before_openssl_sees_it(mock):
    hostile = with_mac_iterations(cred("apns-development.p12"), 2_000_000_000)
    assert len(hostile) < 4000
    started = time.monotonic()
    body = mock.client.post(
        "/backend",
        data={"op": "pushupload", "token": mock.app_token},
        files={"file": ("hostile.p12", hostile)},
    ).json()
    assert time.monotonic() - started < 5  # refused at once, not after 30 CPU-seconds
    assert body["error"] == "BADVALUE" and body["properties"] == ["file"]
    assert "2,000,000,000 key-derivation iterations" in said(mock)


def test_the_usual_iteration_counts_still_load(mock):
    for name in ("apns-development.p12", "apns-legacy-rc2.p12", "apns-universal.p12"):
        assert mock.upload_credential(CREDS / name)["result"] is True


def _parser_children(pid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                command = fh.read()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and b"mesibo_mock.credentials.worker" in command:
            count += 1
    return count


def test_concurrent_uploads_queue_for_a_bounded_number_of_parsers(server):
    import threading

    server.reset()
    data = cred("apns-development.p12")
    answers: list[dict] = []

    def upload() -> None:
        answers.append(
            httpx.post(
                server.backend_url,
                data={"op": "pushupload", "token": server.app_token},
                files={"file": ("dev.p12", data)},
                timeout=120,
            ).json()
        )

    threads = [threading.Thread(target=upload) for _ in range(24)]
    for thread in threads:
        thread.start()
    most = 0
    while any(t.is_alive() for t in threads):
        most = max(most, _parser_children(server._proc.pid))
        time.sleep(0.005)
    assert len(answers) == 24 and all(a["result"] for a in answers)
    assert 1 <= most <= 2, most


class Trickler:
    """A webhook receiver that answers one byte every 2 s, forever: each read is quick, the whole never ends."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            while not self.stop.wait(2):
                conn.sendall(b"x")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_a_trickling_receiver_holds_up_neither_its_attempts_nor_another_app():
    from mesibo_mock.testing import MesiboMock
    from tests.receiver import Receiver

    trickler = Trickler()
    try:
        with MesiboMock(mode="onprem", env={"WEBHOOK_TIMEOUT": "2"}) as mock, Receiver() as receiver:
            mock.set_webhook(trickler.url)
            mock.backend("pushset", push={"ratelimit": False})
            for i in range(80):  # more owed deliveries than the 64 the loop once looked at
                mock.register_device(f"slow-{i}", push_token=f"slow-{i}")
                mock.backend("pushtest", push={"address": f"slow-{i}"})
            other = mock.create_app("other", "other-token").token
            mock.set_webhook(receiver.url, token=other)
            mock.register_device("fast", push_token="fast-1", token=other)
            started = time.monotonic()
            assert mock.client.post(
                "/backend", json={"op": "pushtest", "token": other, "push": {"address": "fast"}}
            ).json()["result"]
            receiver.wait_for(1, timeout=10)
            assert time.monotonic() - started < 5  # the other app's push went out at once
            # each attempt to the trickler ends at its deadline, logged as a timeout
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                timed_out = [d for d in mock.webhook_attempts() if d["error"]]
                if timed_out:
                    break
                time.sleep(0.2)
            assert timed_out and "timed out after 2 s" in timed_out[0]["error"]
            assert timed_out[0]["duration_ms"] < 4000
            assert trickler.connections <= 8  # at most 4 attempts of that app under way at once
    finally:
        trickler.close()


def test_two_servers_on_one_database_deliver_each_attempt_once(tmp_path):
    from mesibo_mock.testing import MesiboMock
    from tests.receiver import Receiver

    db = str(tmp_path / "shared.db")
    with Receiver() as receiver:
        receiver.default_status = 500  # every attempt fails: three attempts in all, not six
        with (
            MesiboMock(subprocess=True, db=db, mode="onprem") as first,
            MesiboMock(subprocess=True, db=db, mode="onprem") as second,
        ):
            first.set_webhook(receiver.url)
            first.register_device("1")
            first.backend("pushtest", push={"address": "1"})
            for _ in range(3):
                first.advance(3)
                second.advance(3)
                time.sleep(0.5)  # both servers' timer loops look at the job
            deadline = time.monotonic() + 10
            while len(first.webhook_attempts()) < 3 and time.monotonic() < deadline:
                first.advance(3)
                second.advance(3)
                time.sleep(0.3)
            time.sleep(1)
            attempts = first.webhook_attempts()
    assert sorted(a["attempt"] for a in attempts) == [1, 2, 3]
    assert len(receiver.requests) == 3


# The deadlines hold on either HTTP protocol: httptools (the default where it installs) and h11 (the
# pure-Python fallback, MESIBO_MOCK_HTTP=h11).
PROTOCOLS = pytest.mark.parametrize("protocol", ["httptools", "h11"])


@PROTOCOLS
def test_slowloris_connections_are_shed_and_health_stays_up(tmp_path, protocol):
    import socket

    proc, url = start_server(tmp_path, MESIBO_MOCK_HEADER_TIMEOUT="2", MESIBO_MOCK_HTTP=protocol)
    port = int(url.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(1500):  # more than a 1,024 file limit would have held
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            slow.append(sock)
        started = time.monotonic()
        assert httpx.get(url + "/_mock/health", timeout=5).status_code == 200
        assert time.monotonic() - started < 2
        time.sleep(3)  # past the header deadline: the server has closed them
        closed = 0
        for sock in slow:
            sock.settimeout(0.5)
            try:
                closed += sock.recv(1) == b""
            except OSError:
                closed += 1
        assert closed == len(slow)
    finally:
        for sock in slow:
            sock.close()
        stop(proc)


@PROTOCOLS
def test_a_slow_body_gets_an_answer_at_its_deadline(tmp_path, protocol):
    import socket

    proc, url = start_server(tmp_path, MESIBO_MOCK_BODY_TIMEOUT="1", MESIBO_MOCK_HTTP=protocol)
    port = int(url.rsplit(":", 1)[1])
    try:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b'POST /backend HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"op":')
        sock.settimeout(5)
        started = time.monotonic()
        answer = sock.recv(4096)
        assert time.monotonic() - started < 3
        assert b'"error":"BADPAYLOAD"' in answer and b"The input request is not a valid JSON object" in answer
        sock.close()
    finally:
        stop(proc)


@PROTOCOLS
def test_a_body_that_trickles_in_is_answered_at_its_deadline(tmp_path, protocol):
    """A byte every 0.2 s keeps the connection busy but never finishes: the deadline counts from the
    request's start, not from the last byte."""
    import socket

    proc, url = start_server(tmp_path, MESIBO_MOCK_BODY_TIMEOUT="1", MESIBO_MOCK_HTTP=protocol)
    port = int(url.rsplit(":", 1)[1])
    try:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /backend HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        started = time.monotonic()
        sock.settimeout(0.2)
        answer = b""
        while not answer and time.monotonic() - started < 6:
            try:
                sock.sendall(b" ")
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
        assert b'"error":"BADPAYLOAD"' in answer, answer
        assert time.monotonic() - started < 3
        sock.close()
    finally:
        stop(proc)


@PROTOCOLS
def test_connections_past_the_cap_get_a_json_503_and_health_returns_once_they_go(tmp_path, protocol):
    import socket

    proc, url = start_server(tmp_path, MESIBO_MOCK_MAX_CONNECTIONS="16", MESIBO_MOCK_HTTP=protocol)
    port = int(url.rsplit(":", 1)[1])
    held = []
    try:
        for _ in range(16):  # each holds a connection, its request never finished
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        time.sleep(0.3)
        refused = httpx.get(url + "/_mock/health", timeout=5)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert "MESIBO_MOCK_MAX_CONNECTIONS" in refused.json()["detail"]
        for sock in held:
            sock.close()
        held.clear()
        deadline = time.monotonic() + 5
        while httpx.get(url + "/_mock/health", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "the cap was never given back"
            time.sleep(0.05)
    finally:
        for sock in held:
            sock.close()
        stop(proc)


@pytest.mark.parametrize(
    ("protocol", "status", "error"), [("httptools", 400, "BADPAYLOAD"), ("h11", 200, None)]
)
def test_an_unreadable_method_gets_json_on_either_protocol(tmp_path, protocol, status, error):
    """h11 reads any method name and the op is answered; httptools (llhttp) knows only the registered
    ones, and its parser's refusal is Mesibo's BADPAYLOAD envelope, never uvicorn's plain text."""
    proc, url = start_server(tmp_path, MESIBO_MOCK_HTTP=protocol)
    try:
        response = httpx.request("FROB", url + "/backend", params={"op": "usersget", "token": "hard-token"})
        body = response.json()
        assert response.status_code == status
        assert body["result"] is (error is None) and body.get("error") == error
        assert response.headers["access-control-allow-origin"] == "*"
    finally:
        stop(proc)


@PROTOCOLS
def test_long_polls_end_when_their_client_goes_and_at_sigterm(tmp_path, protocol):
    import socket

    proc, url = start_server(tmp_path, MESIBO_MOCK_HTTP=protocol)
    port = int(url.rsplit(":", 1)[1])
    polls = []
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /_mock/pushes?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        polls.append(sock)
    time.sleep(1)
    started = time.monotonic()
    proc.send_signal(15)
    code = proc.wait(timeout=15)
    took = time.monotonic() - started
    stderr = proc.stderr.read().decode()
    for sock in polls:
        sock.close()
    assert code == 0 and took < 4, (code, took)
    assert "Traceback" not in stderr and "CancelledError" not in stderr


def test_a_long_poll_ends_when_its_client_has_gone():
    import asyncio
    import concurrent.futures
    import socket

    from mesibo_mock.testing import MesiboMock

    def requests_running(mock) -> int:
        done: concurrent.futures.Future = concurrent.futures.Future()

        def count() -> None:
            tasks = asyncio.all_tasks(mock.runtime.loop)
            done.set_result(sum(t.get_coro().__qualname__.endswith("run_asgi") for t in tasks))

        mock.runtime.loop.call_soon_threadsafe(count)
        return done.result(timeout=5)

    with MesiboMock() as mock:
        polls = []
        for _ in range(50):
            sock = socket.create_connection((mock.host, mock.port))
            sock.sendall(b"GET /_mock/pushes?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            polls.append(sock)
        time.sleep(0.5)
        assert requests_running(mock) >= 50
        for sock in polls:
            sock.close()
        time.sleep(2.5)  # each notices within a second
        assert requests_running(mock) == 0


def test_an_oversized_mock_body_is_refused_before_it_is_read(mock):
    huge = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = mock.client.post("/_mock/apps", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["detail"]

    def chunks():
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    streamed = mock.client.post("/_mock/apps", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert [a["name"] for a in mock.apps()] == ["default"]


def test_validation_errors_are_short_and_never_copy_the_input(mock):
    body = {"address": "x" * 100_000, "platform": "fridge", "appid": "a", "push_token": "t"}
    response = mock.client.post(f"/_mock/apps/{mock.app_token}/devices", json=body)
    assert response.status_code == 422
    assert len(response.content) < 2000 and "xxxxxxxxxx" not in response.text
    assert {tuple(e["loc"]) for e in response.json()["detail"]} >= {("body", "platform")}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/_mock/faults", {"error": "x" * 900_000}),  # the attack's own
        ("/_mock/faults", {"error": "INTERNAL", "address": "x" * 900_000}),
        ("/_mock/backend-faults", {"error": "x" * 900_000}),
        ("/_mock/backend-faults", {"op": "x" * 900_000, "http": 500}),
    ],
)
def test_a_900kb_value_is_not_copied_into_the_422(mock, path, body):
    response = mock.client.post(path, json=body)
    assert response.status_code == 422
    assert len(response.content) < 2000 and "xxxxxxxxxx" not in response.text


def test_only_the_backend_answers_other_origins(mock):
    assert mock.client.get("/backend").headers["access-control-allow-origin"] == "*"
    for path in ("/_mock/apps", "/_mock/health", "/_mock/ui", "/"):
        assert "access-control-allow-origin" not in mock.client.get(path).headers, path


def test_a_bare_post_from_a_test_client_still_works(mock):
    """No body, no Content-Type, no Origin: curl -X POST or a test's client, not a form."""
    assert mock.client.post("/_mock/reset").status_code == 200
    browser_like = {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}
    assert mock.client.post("/_mock/reset", headers=browser_like).status_code == 415


def test_a_post_to_mock_without_json_is_refused(mock):
    """What a cross-site form can send: urlencoded, multipart or text/plain bodies."""
    plain = {"content-type": "text/plain"}
    for path, kwargs in (
        ("/_mock/reset", {"data": {"a": "1"}}),
        ("/_mock/reset", {"files": {"a": ("a.txt", b"x")}}),
        ("/_mock/apps", {"content": b'{"name":"x"}', "headers": plain}),
    ):
        assert mock.client.post(path, **kwargs).status_code == 415, path
    assert [a["name"] for a in mock.apps()] == ["default"]


def test_cross_origin_requests_to_mock_are_refused(mock):
    port = mock.port
    evil = {"origin": "http://evil.example", "content-type": "application/json"}
    assert mock.client.post("/_mock/reset", json={}, headers=evil).status_code == 403
    assert mock.client.get("/_mock/apps", headers={"origin": "http://evil.example"}).status_code == 403
    same = {"origin": f"http://127.0.0.1:{port}", "content-type": "application/json"}
    assert mock.client.post("/_mock/clock", json={"real": True}, headers=same).status_code == 200


REBOUND_READS = [
    "/_mock/apps",
    "/_mock/apps/{token}",
    "/_mock/otps",
    "/_mock/requests",
    "/_mock/pushes",
    "/_mock/messages",
    "/_mock/events",
    "/_mock/ui",
    "/_mock/apps/{token}/users",
    "/_mock/clock",
]


def rebound_get(port: int, path: str, host: str) -> tuple[int, bytes]:
    """What chromium sends for a same-origin GET from a page on `host` that resolves to 127.0.0.1:
    its own name in Host, and neither Origin nor Sec-Fetch-Site."""
    import socket

    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\nConnection: close\r\n\r\n".encode()
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_dns_rebinding_page_reads_nothing_under_mock(tmp_path):
    """The attack's own requests against the real server with its default settings (no admin token):
    every read under /_mock answers 403 and carries neither a token nor an OTP."""
    proc, url = start_server(tmp_path)
    port = int(url.rsplit(":", 1)[1])
    try:
        with httpx.Client(base_url=url) as client:
            token = client.get("/_mock/apps").json()["apps"][0]["token"]
            for address in ("1", "2"):
                client.post("/backend", json={"op": "otp", "token": token, "otp": {"address": address}})
            codes = [o["otp"] for o in client.get("/_mock/otps").json()["otps"]]
            assert len(codes) == 2
        for path in REBOUND_READS:
            for host in ("evil.test", "EVIL.test", "rebind.attacker.example", "localhost.evil.test"):
                status, body = rebound_get(port, path.format(token=token), host)
                assert status == 403, (path, host, status)
                assert token.encode() not in body and not any(c.encode() in body for c in codes)
                assert b"MESIBO_MOCK_ALLOWED_HOSTS" in body
        # the names a developer uses still work, and the health check answers a compose peer
        for host in (
            "127.0.0.1",
            "localhost",
            "LOCALHOST",
            "localhost.",
            "app.localhost",
            "[::1]",
            "10.0.0.5",
        ):
            assert rebound_get(port, "/_mock/apps", host)[0] == 200, host
        assert rebound_get(port, "/_mock/health", "mesibo")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_allowed_hosts_lets_a_compose_peer_in(tmp_path):
    proc, url = start_server(tmp_path, MESIBO_MOCK_ALLOWED_HOSTS="mesibo, tests.internal")
    port = int(url.rsplit(":", 1)[1])
    try:
        assert rebound_get(port, "/_mock/apps", "mesibo")[0] == 200
        assert rebound_get(port, "/_mock/apps", "tests.internal")[0] == 200
        assert rebound_get(port, "/_mock/apps", "evil.test")[0] == 403
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"op": "usersget", "token": "t", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        b'{"op": "usersget", "token": "t", "id": 1e400}',
        b'{"op": "\\ud800", "token": "t"}',
        b'{"op": "usersget", "token": "TOKEN", "count": 18446744073709551616}',
        b'{"op": "groupgetmembers", "token": "TOKEN", "gid": 1, "count": 18446744073709551616}',
        b'{"op": "message", "token": "TOKEN", "message": {"from": "\\udfff", "to": "x", "forced": true}}',
        b'{"op": "useradd", "token": "TOKEN", "user": {"address": "\\ud800"}}',  # a lone surrogate in an address
        b'{"op": "pushtest", "token": "TOKEN", "push": {"address": "\\udfff"}}',
        b'{"op": "otp", "token": "TOKEN", "otp": {"address": "a\\ud800b"}}',
        b'{"op": "message", "token": "TOKEN", "message": {"from": "a", "to": "\\ud800", "message": "x"}}',
    ],
)
def test_inputs_that_answered_500_get_the_envelope(mock, raw):
    before = len(mock.logs())
    response = mock.client.post("/backend", content=raw.replace(b"TOKEN", mock.app_token.encode()))
    assert response.status_code == 200 and response.json()["result"] in (True, False)
    assert "Traceback" not in mock.logs()[before:]


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("GET", "/_mock/pushes?address=%ED%A0%80&token=%FF", {}),
        ("GET", "/_mock/messages?from=%ED%A0%80", {}),
        ("POST", "/_mock/apps", {"content": b'{"name": "\\ud800"}'}),
        (
            "POST",
            "/_mock/apps/TOKEN/devices",
            {"content": b'{"address": "\\udfff", "platform": "ios", "appid": "a", "push_token": "t"}'},
        ),
        ("POST", "/_mock/faults", {"content": b'{"error": "INTERNAL", "address": "\\ud800"}'}),
        ("POST", "/_mock/clock", {"content": b'{"set": "9999-12-31T23:59:59Z"}'}),
        ("POST", "/_mock/clock", {"content": b'{"set": "99999-01-01T00:00:00Z"}'}),
        ("POST", "/_mock/clock", {"content": b'{"advance": 1e400}'}),
        ("POST", "/_mock/faults", {"content": b'{"error": "INTERNAL", "count": 1180591620717411303424}'}),
        ("GET", "/_mock/pushes?after=1180591620717411303424", {}),
        ("PUT", "/_mock/apps/TOKEN/webhook", {"content": b'{"url": "http://\\ud800/"}'}),
    ],
)
def test_mock_inputs_that_answered_500_get_a_4xx(mock, method, path, kwargs):
    headers = {"content-type": "application/json"}
    response = mock.client.request(method, path.replace("TOKEN", mock.app_token), headers=headers, **kwargs)
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")


def test_the_clock_refuses_dates_it_cannot_represent_and_records_stay_readable(mock):
    mock.register_device("1")
    for _ in range(3):
        mock.backend("pushtest", push={"address": "1"})
    assert mock.client.post("/_mock/clock", json={"set": "8999-12-31T00:00:00Z"}).status_code == 200
    refused = mock.client.post("/_mock/clock", json={"advance": 9 * 365 * 86400})
    assert refused.status_code == 422 and "9000" in refused.json()["detail"]
    mock.backend("pushtest", push={"address": "1"})
    assert mock.client.get("/_mock/pushes").status_code == 200


def test_retention_keeps_the_newest_records_of_each_app(tmp_path):
    from mesibo_mock.testing import MesiboMock

    with MesiboMock(mode="onprem", env={"RETENTION": "30"}) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.backend("useradd", user={"address": "a"})
        mock.register_device("b")
        for _ in range(40):
            mock.backend("pushtest", push={"address": "b"})
            mock.send_message("a", "b", "hi")
        newest = mock.pushes(limit=1)[0]["id"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pushes, messages = mock.pushes(limit=1000), mock.messages(limit=1000)
            if len(pushes) == 30 and len(messages) == 30:
                break
            time.sleep(0.2)
        assert len(pushes) == 30 and pushes[0]["id"] == newest and pushes[-1]["id"] == newest - 29
        assert len(messages) == 30


def test_retention_0_keeps_everything():
    from mesibo_mock.testing import MesiboMock

    with MesiboMock(mode="onprem", env={"RETENTION": "0"}) as mock:
        mock.register_device("b")
        for _ in range(12):
            mock.backend("pushtest", push={"address": "b"})
        time.sleep(2.5)
        assert len(mock.pushes(limit=1000)) == 12


def test_the_wal_stays_within_its_limit(tmp_path):
    from mesibo_mock.testing import MesiboMock

    db = str(tmp_path / "wal.db")
    limit = 1024 * 1024
    with MesiboMock(mode="onprem", db=db, env={"WAL_LIMIT_BYTES": str(limit), "RETENTION": "0"}) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        for i in range(40):
            mock.register_device("big", push_token=f"t-{i}")
        for _ in range(60):  # 2,400 records with their requests: several times the limit
            mock.backend("pushtest", push={"address": "big", "message": "x" * 1000})
        time.sleep(1.5)  # a checkpoint round
        assert os.path.getsize(db + "-wal") <= limit + 64 * 1024
        assert len(mock.pushes(limit=1000)) == 1000


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB file system of its own (a tmpfs: CI runs as root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]).returncode != 0:
        pytest.fail("this test needs root to mount a small tmpfs (CI runs as root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)])


def fill(mock) -> tuple[int, dict]:
    """Test pushes with big texts until the store refuses one; -> how many went in, the refusal."""
    for sent in range(5000):
        answer = mock.client.post(
            "/backend",
            json={
                "op": "pushtest",
                "token": mock.app_token,
                "push": {"address": "big", "message": "x" * 3000},
            },
        ).json()
        if not answer["result"]:
            assert answer["error"] == "BADREQ", answer
            return sent, answer
    raise AssertionError("the disk never filled")


def test_a_full_disk_is_named_as_such(small_disk):
    from mesibo_mock.testing import MesiboMock

    with MesiboMock(
        mode="onprem", subprocess=True, db=str(small_disk / "full.db"), env={"RETENTION": "0"}
    ) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("big")
        _sent, refused = fill(mock)
        assert refused["cause"] == "bad request"  # Mesibo's text; the log says what it was
        assert "database or disk is full" in mock.logs()
        response = mock.client.post(
            f"/_mock/apps/{mock.app_token}/devices",
            json={"address": "z" * 200, "platform": "android", "appid": "a" * 200, "push_token": "p" * 4000},
        )
        if response.status_code >= 500:  # the store may still have had room for a device
            assert response.status_code == 503 and response.json()["detail"] == "database or disk is full"
        assert mock.health()["status"] == "ok"
        assert "cannot rollback" not in mock.logs()


def test_records_can_be_freed_on_a_full_disk_even_after_a_restart_and_sigterm_is_quiet(small_disk):
    from mesibo_mock.testing import MesiboMock

    db = str(small_disk / "full.db")
    env = {"RETENTION": "0"}
    with MesiboMock(mode="onprem", subprocess=True, db=db, env=env) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("big")
        assert fill(mock)[0] > 10
        mock._proc.send_signal(15)  # SIGTERM with the disk full
        assert mock._proc.wait(timeout=15) == 0
        assert "Traceback" not in mock.logs()
        # Either the close folded the WAL in (the checkpointer had copied its frames already, so
        # truncating it needed no room), or it could not and said that the WAL keeps everything.
        wal = db + "-wal"
        folded = not os.path.exists(wal) or os.path.getsize(wal) == 0
        assert folded or "nothing is lost" in mock.logs(), mock.logs()
    os.remove(db + "-shm")  # as after a reboot: the open has to make it again, and finds no byte free
    _fill_the_disk(small_disk / "filler")
    with MesiboMock(mode="onprem", subprocess=True, db=db, env=env) as mock:  # restarted, still full
        assert "giving up the reserve" in mock.logs()
        assert os.path.getsize(db + "-reserve") > 0  # what the open left of it is kept for freeing
        assert fill(mock)[1]["error"] == "BADREQ"
        cleared = mock.client.delete("/_mock/pushes")
        assert cleared.status_code == 200 and cleared.json()["deleted"] > 10
        assert mock.backend("pushtest", push={"address": "big"})["result"] is True  # room again
        fill(mock)
        assert mock.client.post("/_mock/reset").status_code == 200
        assert mock.pushes() == [] and mock.backend("usersget")["result"] is True
        assert "Traceback" not in mock.logs()
    assert os.path.getsize(db + "-reserve") == 1024 * 1024  # taken again once there was room


def _fill_the_disk(path) -> None:
    """Write a file until the file system has not a byte left."""
    with contextlib.suppress(OSError), open(path, "wb", buffering=0) as filler:
        while True:
            filler.write(b"\0" * 4096)


def test_a_database_left_on_a_full_disk_opens_by_giving_up_the_reserve(small_disk, caplog):
    """The open after a stop on a full disk writes the -shm file and the WAL's header; without the
    reserve's room it could not even start, so nothing could be freed."""
    import sqlite3

    from mesibo_mock.store.db import Store, StoreError
    from mesibo_mock.store.disk import Reserve

    db = str(small_disk / "left.db")
    store = Store(db)
    store.conn.execute("CREATE TABLE IF NOT EXISTS ballast (b BLOB)")
    with contextlib.suppress(sqlite3.Error):
        for _ in range(10_000):
            with store.tx() as conn:
                conn.execute("INSERT INTO ballast VALUES (zeroblob(3000))")
    store.close()
    os.remove(db + "-shm")  # as after a reboot: it has to be made again
    _fill_the_disk(small_disk / "filler")
    reopened = Store(db)  # would fail without the reserve
    assert "giving up the reserve" in caplog.text
    assert reopened.conn.execute("SELECT count(*) FROM ballast").fetchone()[0] > 100
    kept = os.path.getsize(db + "-reserve")
    assert 0 < kept < Reserve.RESERVE_BYTES  # what the open did not need is kept for freeing
    reopened.close()
    os.remove(db + "-shm")
    os.remove(db + "-reserve")
    _fill_the_disk(small_disk / "filler-2")
    with pytest.raises(StoreError, match="database or disk is full"):
        Store(db)  # no reserve left now: the error names the cause


def test_a_seed_with_an_alias_bomb_or_a_device_file_is_refused(tmp_path):
    from tests.e2e.test_server_process import assert_one_line_error, run_cli

    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefgh"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    lines.append("apps: []")
    bomb.write_text("\n".join(lines) + "\n")
    done = run_cli("serve", "--port", "0", "--db", str(tmp_path / "x.db"), "--seed", str(bomb))
    assert_one_line_error(done, "aliases (*name) expand it")

    zero = tmp_path / "zero.yaml"
    zero.write_text("apps: [{name: z, credentials: {fcm: /dev/zero}}]\n")
    done = run_cli("serve", "--port", "0", "--db", str(tmp_path / "y.db"), "--seed", str(zero))
    assert_one_line_error(done, "not a regular file")

    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (1048576 + 10) + b"}")
    huge = tmp_path / "huge.yaml"
    huge.write_text(f"apps: [{{name: h, credentials: {{fcm: {big}}}}}]\n")
    done = run_cli("serve", "--port", "0", "--db", str(tmp_path / "z.db"), "--seed", str(huge))
    assert_one_line_error(done, "larger than the upload limit")


def test_the_admin_token_never_reaches_the_access_log(tmp_path):
    proc, url = start_server(tmp_path, MESIBO_MOCK_ADMIN_TOKEN="sekrit-admin", MESIBO_MOCK_LOG_LEVEL="info")
    try:
        assert httpx.get(url + "/_mock/ui?admin_token=sekrit-admin", timeout=10).status_code == 200
        assert httpx.get(url + "/_mock/apps?x=1&admin_token=sekrit-admin", timeout=10).status_code == 200
        for spelt in (
            "admin%5Ftoken",
            "%61dmin_token",
            "admin%5ftoken",
        ):  # the server reads each as admin_token
            assert httpx.get(f"{url}/_mock/apps?{spelt}=sekrit-admin&y=2", timeout=10).status_code == 200
    finally:
        stop(proc)
    log = proc.stderr.read().decode()
    assert "admin_token=[redacted]" in log and "admin%5Ftoken=[redacted]&y=2" in log
    assert "sekrit-admin" not in log


def test_many_due_fallbacks_do_not_block_other_requests():
    import threading

    from mesibo_mock.testing import MesiboMock

    with MesiboMock(mode="onprem", subprocess=True, env={"RETENTION": "0"}) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        for i in range(500):
            mock.client.post(
                f"/_mock/apps/{mock.app_token}/devices",
                json={
                    "address": "silent",
                    "platform": "android",
                    "appid": "a",
                    "push_token": f"s-{i}",
                    "responds": False,
                },
            )
        for _ in range(20):  # 10,000 pushes, each owing a fallback
            mock.backend("pushtest", push={"address": "silent"})
        mock.freeze()
        waits: list[float] = []
        done = threading.Event()

        def probe() -> None:
            with httpx.Client(base_url=mock.url, timeout=30) as client:
                while not done.is_set():
                    started = time.monotonic()
                    client.get("/_mock/health")
                    waits.append(time.monotonic() - started)
                    time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            mock.advance(31)  # all 10,000 fallbacks come due at once
        finally:
            done.set()
            prober.join()
        assert len(mock.pushes(kind="fallback", limit=1000)) == 1000
        assert max(waits) < 1.0, max(waits)  # health answered between the batches


def test_each_credential_parser_runs_under_a_cpu_and_memory_limit():
    import resource
    import sys

    from mesibo_mock.credentials import isolated

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource; print(resource.getrlimit(resource.RLIMIT_CPU)[0], resource.getrlimit(resource.RLIMIT_AS)[0])",
        ],
        preexec_fn=isolated._budget,
        capture_output=True,
        text=True,
        check=True,
    )
    cpu, memory = map(int, done.stdout.split())
    assert cpu == isolated.CPU_SECONDS and memory == isolated.MEMORY_BYTES
    assert resource.getrlimit(resource.RLIMIT_CPU)[0] != cpu  # the server itself is not limited


def test_connections_past_the_cap_get_503_until_the_idle_ones_are_shed(tmp_path):
    import socket

    proc, url = start_server(tmp_path, MESIBO_MOCK_MAX_CONNECTIONS="16", MESIBO_MOCK_HEADER_TIMEOUT="2")
    port = int(url.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
    try:
        time.sleep(0.3)
        assert httpx.get(url + "/_mock/health", timeout=5).status_code == 503
        time.sleep(3)  # past the header deadline the idle connections are closed
        assert httpx.get(url + "/_mock/health", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()
        stop(proc)


def test_a_2000_deep_profile_is_refused_and_one_stored_earlier_breaks_nothing(tmp_path):
    """The attack's profile nested 959 deep, now 2,000: refused at the door; and one an older version
    let into the store is shown as a note by every reader, across a restart."""
    import json
    import sqlite3

    from mesibo_mock.testing import MesiboMock

    deep = '{"a":' * 2000 + "1" + "}" * 2000
    db = str(tmp_path / "deep.db")
    with MesiboMock(subprocess=True, db=db, app_token="deep-token") as mock:
        raw = '{"op":"useradd","token":"deep-token","user":{"address":"d","profile":' + deep + "}}"
        refused = mock.client.post("/backend", content=raw).json()
        assert refused["result"] is False and refused["error"] in ("BADVALUE", "BADPAYLOAD")
        assert mock.backend("useradd", user={"address": "d", "profile": {"status": "ok"}})["result"] is True
        gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "d"}})["group"]["gid"]
    with sqlite3.connect(db) as conn:  # what an older version stored
        conn.execute("UPDATE users SET profile = ? WHERE address = 'd'", (deep,))
        conn.execute("UPDATE groups SET profile = ? WHERE id = ?", (deep, gid))
    with MesiboMock(subprocess=True, db=db, app_token="deep-token") as mock:
        for path in (
            "/_mock/ui",
            "/_mock/apps/deep-token/users",
            "/_mock/apps/deep-token/groups",
            "/_mock/apps",
        ):
            response = mock.client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        [user] = mock.users()
        assert "unreadable" in user["profile"]
        for op, fields in (
            ("usersget", {}),
            ("groupsget", {}),
            ("groupgetmembers", {"gid": gid}),
            ("userset", {"user": {"address": "d", "profile": {"status": "fixed"}}}),
        ):
            answer = mock.backend(op, **fields)
            assert answer["result"] is True, (op, answer)
        json.dumps(mock.client.get("/_mock/requests").json())
        assert mock.users()[0]["profile"] == {"status": "fixed"}
        assert "Traceback" not in mock.logs()
