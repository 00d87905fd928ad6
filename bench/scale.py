"""Load for the scale tests and the benchmark: a store holding a large group, a watch on how long other
requests wait meanwhile, and a flood of calls sized by count."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time

import httpx

from mesibo_mock.testing import MesiboMock


def big_group_store(db: str, members: int, device_every: int) -> int:
    """A store holding a group of `members` users, made as a user's backend would make a small one
    (useradd, a device, groupadd through the real server), then grown by copying those very rows: a
    quarter of a million useradd calls would take the test minutes. -> the gid."""
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        mock.backend("useradd", user={"address": "sender"})
        mock.backend("useradd", user={"address": "m0"})
        mock.register_device("m0", push_token="tok-m0")
        gid = mock.backend("groupadd", group={"name": "broadcast", "members": {"m": "m0"}})["group"]["gid"]
    with sqlite3.connect(db) as conn:
        conn.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)"
            " INSERT INTO users (app_id, address, name, active, flag, profile, online, lastonline,"
            " offline_notified, created)"
            " SELECT u.app_id, 'm' || n, u.name, u.active, u.flag, u.profile, u.online, u.lastonline,"
            " u.offline_notified, u.created FROM seq, users u WHERE u.address = 'm0'",
            (members - 1,),
        )
        conn.execute(
            "INSERT INTO group_members (group_id, user_id, cs, cr, created)"
            " SELECT g.group_id, u.id, g.cs, g.cr, g.created FROM group_members g, users u"
            " WHERE g.group_id = ? AND u.address LIKE 'm%' AND u.address != 'm0' ORDER BY u.id",
            (gid,),
        )
        conn.execute(
            "INSERT INTO devices (app_id, user_id, address, platform, appid, push_token, voip, sandbox,"
            " responds, invalid_reason, last_sent, created)"
            " SELECT d.app_id, u.id, u.address, d.platform, d.appid, 'tok-' || u.address, d.voip, d.sandbox,"
            " d.responds, d.invalid_reason, d.last_sent, d.created FROM devices d, users u"
            " WHERE d.address = 'm0' AND u.address LIKE 'm%' AND u.address != 'm0'"
            " AND CAST(substr(u.address, 2) AS INTEGER) % ? = 0",
            (device_every,),
        )
        assert (
            conn.execute("SELECT COUNT(*) FROM group_members WHERE group_id = ?", (gid,)).fetchone()[0]
            == members
        )
    return gid


class HealthWatch:
    """Asks /_mock/health back to back from a thread of its own, and keeps the longest wait.

    The watching process's garbage collector is held off meanwhile: late in a long test run its
    heap is large, and a full collection stops this thread too, which would be counted as the
    server's wait."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.waits: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                assert client.get("/_mock/health").status_code == 200
                self.waits.append(time.perf_counter() - started)

    def __enter__(self) -> HealthWatch:
        self._collecting = gc.isenabled()
        gc.disable()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if self._collecting:
            gc.enable()


def flood(url: str, make_call, total: int, threads: int = 8) -> list[int]:
    """Exactly `total` backend calls (`make_call()` gives each body) from `threads` clients at once, as
    fast as the server answers: a flood sized by count, so that a slow or busy machine makes it last
    longer, never smaller. -> the statuses answered."""
    left = [total]
    lock = threading.Lock()
    statuses: list[int] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                statuses.append(http.post("/backend", json=make_call()).status_code)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses
