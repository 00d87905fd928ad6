"""Load through the real server, built from the third attack's own inputs: a write flood under
RETENTION=1000, idle long-polls by the thousand, group messages of 20,000 and 250,001 members.

These measure what a user would see (a table that never stops growing, a server that stalls) with
generous bounds, so that they hold on a slow machine; bench/ measures the speed itself."""

from __future__ import annotations

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
                try:
                    wal_seen.append(os.path.getsize(db + "-wal"))
                except OSError:
                    pass
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
