"""Load through the real server, built from the third attack's own inputs: a write flood under
RETENTION=1000, idle long-polls by the thousand, group messages of 20,000 and 250,001 members.

These measure what a user would see (a table that never stops growing, a server that stalls) with
generous bounds, so that they hold on a slow machine; bench/ measures the speed itself."""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import statistics
import threading
import time

import httpx
import pytest

from mesibo_mock.testing import MesiboMock
from tests.receiver import Receiver

KEEP = 1000
WAL_LIMIT = 4 * 1024 * 1024


def counts_by_owner(db: str) -> dict[str, int]:
    """The largest row count any one app has in each table that grows with traffic."""
    owners = {
        "pushes": "app_token",
        "messages": "app_token",
        "message_recipients": "app_token",
        "webhook_deliveries": "app_token",
        "webhook_events": "app_token",
        "webhook_attempts": "app_token",
        "journal": "app_id",
        "otps": "app_id",
    }
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        largest = {}
        for table, owner in owners.items():
            rows = conn.execute(f"SELECT COUNT(*) FROM {table} GROUP BY {owner}").fetchall()
            largest[table] = max((n for (n,) in rows), default=0)
        largest["testpushes"] = conn.execute("SELECT COUNT(*) FROM testpushes").fetchone()[0]
    return largest


def test_a_flood_under_retention_1000_leaves_every_table_and_the_wal_bounded(tmp_path):
    db = str(tmp_path / "flood.db")
    env = {"RETENTION": str(KEEP), "WAL_LIMIT_BYTES": str(WAL_LIMIT), "TESTPUSH_LIMIT": "100000/60"}
    with MesiboMock(db=db, subprocess=True, env=env) as mock, Receiver() as hook:
        hook.default_status = 500  # every delivery fails and is retried: attempts pile up too
        mock.set_webhook(hook.url)
        token = mock.app_token
        mock.backend("pushset", push={"ratelimit": False})
        members = [f"m{i}" for i in range(20)]
        for address in members:
            mock.register_device(address, push_token=f"tok-{address}")
        gid = mock.backend("groupadd", group={"name": "flood", "members": {"m": ",".join(members)}})["group"][
            "gid"
        ]
        text = "x" * 2000  # big requests: the WAL grows fast
        calls = [
            lambda: {"op": "pushtest", "token": token, "push": {"address": "m1", "message": text}},
            lambda: {"op": "message", "token": token, "message": {"from": "m0", "gid": gid, "message": text}},
            lambda: {"op": "otp", "token": token, "otp": {"address": f"o{random.randrange(10**9)}"}},
            lambda: {"op": "usersget", "token": f"wrong-{random.randrange(10**9)}", "pad": text},
            lambda: {"op": "useradd", "token": token, "user": {"address": f"u{random.randrange(10**9)}"}},
        ]
        stop = threading.Event()
        wal_seen: list[int] = []
        sent = [0]

        def flood() -> None:
            with httpx.Client(base_url=mock.url, timeout=30) as client:
                while not stop.is_set():
                    client.post("/backend", json=random.choice(calls)())
                    sent[0] += 1

        def watch_wal() -> None:
            while not stop.is_set():
                with contextlib.suppress(OSError):  # not made yet
                    wal_seen.append(os.path.getsize(db + "-wal"))
                time.sleep(0.01)

        threads = [threading.Thread(target=flood) for _ in range(12)] + [threading.Thread(target=watch_wal)]
        for thread in threads:
            thread.start()
        time.sleep(8)  # the flood itself: how long it lasts is the input, not a timing under test
        stop.set()
        for thread in threads:
            thread.join()
        assert sent[0] > 3 * KEEP, f"the flood sent only {sent[0]} requests"
        assert max(wal_seen) <= 2 * WAL_LIMIT, f"the WAL reached {max(wal_seen) / 2**20:.1f} MiB"
        bounds = {table: KEEP for table in counts_by_owner(db)} | {
            "message_recipients": 10 * KEEP + len(members)
        }
        bounds["testpushes"] = 0  # counted against the limit for its window (60 s); then only history
        mock.advance(61)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # retention works through the backlog between requests
            largest = counts_by_owner(db)
            if all(largest[table] <= bound for table, bound in bounds.items()):
                break
            time.sleep(0.5)
        over = {table: (n, bounds[table]) for table, n in largest.items() if n > bounds[table]}
        assert not over, f"tables past what retention keeps (rows, bound): {over}"
        assert mock.health()["status"] == "ok"


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_pushtest_ms(client: httpx.Client, token: str, calls: int = 60) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        assert client.post(
            "/backend", json={"op": "pushtest", "token": token, "push": {"address": "1"}}
        ).json()["result"]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads the server's CPU time from /proc")
def test_a_thousand_idle_long_polls_cost_a_pushtest_little_and_the_idle_server_nothing():
    """The attack: each idle long-poll waits for pushes to an address that never gets one."""
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with MesiboMock(subprocess=True, mode="onprem") as mock, httpx.Client(base_url=mock.url) as client:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("1")
        median_pushtest_ms(client, mock.app_token, 20)  # warm up
        quiet = median_pushtest_ms(client, mock.app_token)
        polls = []
        try:
            for i in range(1000):
                sock = socket.create_connection((mock.host, mock.port))
                sock.sendall(
                    f"GET /_mock/pushes?address=idle-{i}&wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
                )
                polls.append(sock)
            # every poll is in: the last one's query has run once (a request after it answers)
            assert client.get("/_mock/health").status_code == 200
            time.sleep(0.5)
            pid = mock._proc.pid
            before = cpu_seconds(pid)
            time.sleep(2)
            idle_cpu = cpu_seconds(pid) - before
            busy = median_pushtest_ms(client, mock.app_token)
            for sock in polls[:5]:  # none of them was answered: no push matched
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):
                    sock.recv(1)
        finally:
            for sock in polls:
                sock.close()
    assert idle_cpu < 0.2, f"the idle server used {idle_cpu:.2f} s of CPU in 2 s"
    assert busy <= 3 * quiet + 1.0, (
        f"median pushtest {busy:.2f} ms with 1,000 long-polls, {quiet:.2f} ms without"
    )
