"""The attacks of the second hardening round, each through the real server where it came through it."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from mesibo_mock.testing import free_port, serve_command
from tests.conftest import CREDS, cred

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


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def _children(body: bytes) -> list[tuple[int, bytes]]:
    from mesibo_mock.credentials.der import _items

    return _items(body)


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
    assert "2,000,000,000 key-derivation iterations" in body["cause"]


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
        if parent == pid and b"worker.py" in command:
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
