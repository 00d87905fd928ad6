"""Hardening, fourth round: what the attack on the third round's code found, each through the real server."""

from __future__ import annotations

import collections
import json
import socket
import threading
import time
import zlib

import httpx
import pytest

from bench.scale import flood
from mesibo_mock.testing import MesiboMock
from tests.e2e.test_growth_and_scale import peak_rss_mb
from tests.rawreceiver import RawReceiver

LINUX_ONLY = pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="reads /proc")


def endless_stream(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # 1 MB at a time until the emulator hangs up
        conn.sendall(chunk)


def declared_ten_megabytes(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\nMESIBO OK")
    conn.sendall(b" " * (10 << 20))


def gzip_bomb(conn: socket.socket) -> None:
    """About 200 KB of gzip that inflates to 200 MB, sent chunked (no length to refuse it by)."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    bomb = b"".join(squeeze.compress(block) for _ in range(200)) + squeeze.flush()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    conn.sendall(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(bomb), bomb))


def gzipped_ok(conn: socket.socket) -> None:
    body = zlib.compress(b"MESIBO OK", 9, wbits=31)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


@LINUX_ONLY
@pytest.mark.parametrize(
    "answer, reason",
    [
        (endless_stream, "more than 65536 bytes"),
        (declared_ten_megabytes, "a body of 10485760 bytes"),
        (gzip_bomb, "more than 65536 bytes"),
        (gzipped_ok, "compressed (gzip)"),
    ],
    ids=["endless-stream", "declared-10MB", "gzip-bomb", "gzipped-ok"],
)
def test_a_receivers_answer_is_read_to_64kb_never_inflated_and_fails_the_attempt(answer, reason):
    with MesiboMock(subprocess=True, env={"WEBHOOK_TIMEOUT": "4"}) as mock, RawReceiver(answer) as receiver:
        before = peak_rss_mb(mock._proc.pid)
        mock.set_webhook(receiver.url, events=["user"])
        started = time.monotonic()
        mock.set_online("ann")
        first = wait_for_attempt(mock)
        assert not first["ok"] and reason in first["error"], first["error"]
        assert "MESIBO OK" in first["error"]  # says what Mesibo wants instead
        assert time.monotonic() - started < 3.5  # it did not wait for the whole answer or its deadline
        health = time.monotonic()
        assert mock.health()["status"] == "ok"
        assert time.monotonic() - health < 0.5
        assert peak_rss_mb(mock._proc.pid) - before < 40, "the answer was held or inflated"


def wait_for_attempt(mock: MesiboMock, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attempts = mock.webhook_attempts()
        if attempts:
            return attempts[-1]
        time.sleep(0.05)
    raise AssertionError("no webhook attempt")


# --- item 3: a call held by a delay fault writes nothing after a reset ------------------------------------
def test_a_call_held_by_a_delay_fault_writes_nothing_into_the_store_after_a_reset(mock):
    mock.backend_fault(delay=1.5, op="useradd")
    answers = []
    held = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                mock.backend_url,
                json={"op": "useradd", "token": mock.app_token, "user": {"address": "leak"}},
                timeout=10,
            ).json()
        )
    )
    held.start()
    time.sleep(0.3)  # the call is being held
    mock.reset()  # the next test starts
    held.join(10)
    assert mock.users() == []  # nothing of the previous test's call reached the fresh store
    assert answers[0]["result"] is False
    [entry] = mock.requests(op="useradd", all_apps=True)
    assert entry["fault"] is True and "was reset while backend fault" in entry["diagnosis"][0]["problem"]


# --- item 4: apps take turns; webhooks and retention get theirs -------------------------------------------
def test_one_apps_large_group_messages_hold_back_neither_another_apps_message_nor_its_webhook(tmp_path):
    from bench.scale import big_group_store
    from tests.receiver import Receiver

    db = str(tmp_path / "turns.db")
    gid = big_group_store(db, 20_000, device_every=20)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock, Receiver() as hook:
        other = mock.create_app("other", token="other-token").token
        for i in range(1100):
            mock.client.post("/backend", json={"op": "useradd", "token": other, "user": {"address": f"o{i}"}})
        members = ",".join(f"o{i}" for i in range(1, 1100))
        small = mock.client.post(
            "/backend",
            json={"op": "groupadd", "token": other, "group": {"name": "g", "members": {"m": members}}},
        ).json()["group"]["gid"]
        mock.set_webhook(hook.url, events=["user"], token=other)
        flood = [
            mock.send_message("sender", None, f"m{i}", gid=gid) for i in range(8)
        ]  # 160,000 members owed
        started = time.monotonic()
        mock.set_online("o0", token=other)
        mid = mock.client.post(
            "/backend",
            json={"op": "message", "token": other, "message": {"from": "o0", "gid": small, "message": "hi"}},
        ).json()["mid"]
        while mock.message(mid)["delivering"]:
            assert time.monotonic() - started < 5, "the other app's message waited behind the flood"
            time.sleep(0.05)
        hook.wait_for(1, timeout=5)
        waited = time.monotonic() - started
        assert mock.message(flood[-1])["delivering"], "the flood was over: nothing showed the turns"
        assert waited < 5 and mock.message(mid)["recipients_total"] == 1099


@LINUX_ONLY
def test_retention_keeps_pace_with_a_flood(tmp_path):
    """RETENTION=1000: during a flood of test pushes each app's records stay within about 10% of it."""
    import sqlite3

    db = str(tmp_path / "pace.db")
    with MesiboMock(db=db, subprocess=True, mode="onprem", env={"RETENTION": "1000"}) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("1")
        stop = threading.Event()
        largest: list[int] = []

        def watch() -> None:
            reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            while not stop.is_set():
                counts = [
                    reader.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("pushes", "journal")
                ]
                largest.append(max(counts))
                time.sleep(0.1)
            reader.close()

        watcher = threading.Thread(target=watch)
        watcher.start()
        call = {"op": "pushtest", "token": mock.app_token, "push": {"address": "1"}}
        try:  # sized by count: a busy machine makes the flood last longer, never smaller
            statuses = flood(mock.url, lambda: call, 4000, threads=6)
        finally:
            stop.set()
            watcher.join()
        assert statuses == [200] * 4000, collections.Counter(statuses)
        assert max(largest) <= 1100 + 100, f"the records reached {max(largest)} during the flood (keep 1000)"


# --- item 8: a member removed and added again during a delivery is reached once ----------------------------
def test_a_member_removed_and_added_again_during_a_large_delivery_is_reached_once(tmp_path):
    from bench.scale import big_group_store

    db = str(tmp_path / "readd.db")
    gid = big_group_store(db, 20_000, device_every=1)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        mid = mock.send_message("sender", None, "to all", gid=gid)  # m5 is in the first batch
        for delete in (1, 0):
            mock.client.get(
                "/api.php",
                params={
                    "op": "groupeditmembers",
                    "token": mock.app_token,
                    "gid": gid,
                    "m": "m5",
                    "delete": delete,
                },
            )
        deadline = time.monotonic() + 60
        while mock.message(mid)["delivering"] and time.monotonic() < deadline:
            time.sleep(0.1)
        view = mock.client.get(f"/_mock/messages/{mid}", params={"limit": 1}).json()
        assert view["recipients_total"] == 20_000
        assert len(mock.pushes(mid=mid, address="m5")) == 1


# --- item 9: a webhook pointed at the emulator itself ----------------------------------------------------------
def test_a_webhook_url_of_the_emulators_own_backend_or_mock_api_is_refused(mock):
    port = int(mock.url.rsplit(":", 1)[1])
    for url in (
        f"http://127.0.0.1:{port}/backend?op=pushtest&token={mock.app_token}&push[address]=1",
        f"http://localhost:{port}/api.php",
        f"http://127.0.0.1:{port}/_mock/pushes",
    ):
        response = mock.client.put(f"/_mock/apps/{mock.app_token}/webhook", json={"url": url})
        assert response.status_code == 422 and "in a loop" in response.json()["detail"], url
    assert (
        mock.client.put(
            f"/_mock/apps/{mock.app_token}/webhook", json={"url": f"http://127.0.0.1:{port + 1}/hook"}
        ).status_code
        == 200
    )


def reaching_name(port: int) -> str:
    """The machine's name where it reaches this server, else 2130706433: 127.0.0.1 as one number, which
    every resolver reaches and which no list of loopback names holds."""
    for name in (socket.gethostname(), "2130706433"):
        try:
            socket.create_connection((name, port), timeout=1).close()
            return name
        except OSError:
            continue
    raise AssertionError("neither the machine's name nor 2130706433 reaches 127.0.0.1 here")


def test_a_webhook_that_reaches_the_emulator_by_another_name_cannot_loop(mock):
    """A name the emulator cannot tell is its own (a compose service, the machine's name): its POSTs come
    back carrying the emulator's mark and are refused, so no push is ever made by one."""
    name = reaching_name(int(mock.url.rsplit(":", 1)[1]))
    port = int(mock.url.rsplit(":", 1)[1])
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("1")
    url = f"http://{name}:{port}/backend?op=pushtest&token={mock.app_token}&push[address]=1"
    assert mock.client.put(f"/_mock/apps/{mock.app_token}/webhook", json={"url": url}).status_code == 200
    mock.set_online("someone")  # one event: one POST to the emulator itself
    mock.advance(10)  # the retries
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(mock.webhook_attempts()) < 3:
        time.sleep(0.05)
    assert mock.pushes() == []  # the webhook's calls made no push, so no event, so no POST: no loop
    refused = [
        e for e in mock.requests(op="pushtest") if "reached its own backend" in json.dumps(e["diagnosis"])
    ]
    assert refused and all(not a["ok"] for a in mock.webhook_attempts())


# --- item 10: 100,000 apps ---------------------------------------------------------------------------------
@LINUX_ONLY
def test_100000_idle_apps_cost_an_idle_server_nothing_and_the_dashboard_pages_them(tmp_path):
    import sqlite3

    from tests.e2e.test_growth_and_scale import cpu_seconds

    db = str(tmp_path / "apps.db")
    with MesiboMock(db=db, subprocess=True):
        pass  # the schema
    with sqlite3.connect(db) as conn:
        conn.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 100000)"
            " INSERT INTO apps (name, token, background, fallback, ratelimit, collapse, sound, forceprod, iosfcm,"
            " webhook_url, created) SELECT 'app ' || n, 'tok-' || n, 1, 1, 1, 0, 0, 0, 0,"
            " 'http://127.0.0.1:9/hook', 0 FROM seq"
        )
    with MesiboMock(db=db, subprocess=True) as mock:
        mock.health()
        time.sleep(1)  # the first looks after the start
        pid = mock._proc.pid
        before = cpu_seconds(pid)
        time.sleep(3)
        idle = (cpu_seconds(pid) - before) / 3
        assert idle < 0.10, f"the idle server used {idle:.0%} of a CPU"
        started = time.monotonic()
        page = mock.client.get("/_mock/ui")
        assert time.monotonic() - started < 2 and len(page.content) < 2_000_000
        assert "of 100001" in page.text and "next" in page.text
        started = time.monotonic()
        assert mock.health()["status"] == "ok" and time.monotonic() - started < 0.5


# --- item 12: faults go with their app ---------------------------------------------------------------------
def test_faults_for_a_token_that_names_no_app_are_refused_and_go_with_their_app(mock):
    for path, body in (
        ("/_mock/backend-faults", {"error": "QUOTAEXCEEDED", "token": "nobody"}),
        ("/_mock/faults", {"error": "Unregistered", "token": "nobody"}),
    ):
        response = mock.client.post(path, json=body)
        assert response.status_code == 422 and "no app has the token" in response.json()["detail"]
    mock.create_app("t", token="gone")
    mock.backend_fault("QUOTAEXCEEDED", token="gone", count=None)
    mock.delete_app("gone")
    mock.create_app("t", token="gone")
    answer = mock.client.post(
        "/backend", json={"op": "useradd", "token": "gone", "user": {"address": "a"}}
    ).json()
    assert answer["result"] is True
    assert mock.client.get("/_mock/backend-faults").json()["faults"] == []


# --- item 13: strict mode ---------------------------------------------------------------------------------------
def test_strict_mode_sees_typos_in_faulted_calls_and_json_keys_given_twice(mock):
    mock.backend_fault("QUOTAEXCEEDED", op="pushset")
    mock.backend("pushset", push={"sounds": True})  # answered by the fault: still field-checked
    raw = b'{"op": "pushset", "token": "T", "push": {"sound": true}, "push": {"collapse": true}}'
    mock.client.post("/backend", content=raw.replace(b'"T"', json.dumps(mock.app_token).encode()))
    found = [(m["field"], m["kind"]) for m in mock.mistakes()]
    assert found == [("push.sounds", "unknown field"), ("push", "duplicate key")]
    assert "one of its values was dropped" in mock.mistakes_report()


# --- item 6: the journal's bytes ---------------------------------------------------------------------------------
def test_a_list_sends_a_summary_of_a_large_entry_and_the_journal_is_bounded_in_bytes(tmp_path):
    with MesiboMock(subprocess=True, env={"JOURNAL_BYTES": "200000"}) as mock:
        fields = {f"f{i}": "x" * 4000 for i in range(5)}  # 20 KB of fields no op reads
        for _ in range(30):
            mock.backend("usersget", **fields)
        [listed] = mock.requests(limit=1)
        assert (
            listed["fields"]["bytes"] > 8192
            and listed["fields"]["whole"] == f"/_mock/requests/{listed['id']}"
        )
        whole = mock.client.get(listed["fields"]["whole"]).json()
        assert whole["fields"]["f0"] == "x" * 4000
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(mock.requests(limit=100)) > 10:
            time.sleep(0.1)
        kept = mock.requests(limit=100)
        assert 8 <= len(kept) <= 10  # about 200 KB of 20 KB entries; the newest kept
        assert kept[0]["id"] == listed["id"]
