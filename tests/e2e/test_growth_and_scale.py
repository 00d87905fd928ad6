"""Load through the real server, built from the third attack's own inputs: a write flood under
RETENTION=1000, idle long-polls by the thousand, group messages of 20,000 and 250,001 members.

These measure what a user would see (a table that never stops growing, a server that stalls) with
generous bounds, so that they hold on a slow machine; bench/ measures the speed itself."""

from __future__ import annotations

import collections
import contextlib
import os
import random
import sqlite3
import sys
import threading
import time

import httpx
import pytest

from bench.scale import HealthWatch, big_group_store, flood
from mesibo_mock.testing import MesiboMock
from tests.receiver import Receiver

KEEP = 1000
# The server's CPU time and peak memory are read from /proc: Linux, as CI is. On a Mac the two tests
# that need them are skipped; everything they guard is Linux-independent code.
LINUX_ONLY = pytest.mark.skipif(
    sys.platform != "linux", reason="reads the server's CPU and memory from /proc"
)
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

        def watch_wal() -> None:
            while not stop.is_set():
                with contextlib.suppress(OSError):  # not made yet
                    wal_seen.append(os.path.getsize(db + "-wal"))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch_wal)
        watcher.start()
        try:  # sized by count: a busy machine makes the flood last longer, never smaller
            statuses = flood(mock.url, lambda: random.choice(calls)(), 4 * KEEP, threads=12)
        finally:
            stop.set()
            watcher.join()
        assert statuses == [200] * (4 * KEEP), collections.Counter(
            statuses
        )  # every call answered, in the envelope
        # Bounded, not a figure: unbounded, this flood grows the WAL to about 290 MiB (measured with a
        # 1 GiB limit); bounded, it stays near the limit, but a restart the checkpointer's copy holds
        # up on a loaded machine lets it pass twice the limit now and then (8.8 and 9.3 MiB seen).
        assert max(wal_seen) <= 4 * WAL_LIMIT, f"the WAL reached {max(wal_seen) / 2**20:.1f} MiB"
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


@LINUX_ONLY
def test_a_thousand_idle_long_polls_cost_the_idle_server_nothing_and_each_is_answered():
    """The attack: each idle long-poll waits for pushes to an address that never gets one. The idle
    server must not spin, pushes go on meanwhile, and each poll is answered when its wait runs out. What
    they cost a pushtest is a figure of bench/waits.py, not a test's."""
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with MesiboMock(subprocess=True, mode="onprem") as mock, httpx.Client(base_url=mock.url) as client:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("1")
        polls = []
        try:
            for i in range(1000):
                sock = socket.create_connection((mock.host, mock.port))
                sock.sendall(
                    f"GET /_mock/pushes?address=idle-{i}&wait=8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
                )
                polls.append(sock)
            # every poll is in: the last one's query has run once (a request after it answers)
            assert client.get("/_mock/health").status_code == 200
            time.sleep(0.5)
            pid = mock._proc.pid
            before = cpu_seconds(pid)
            time.sleep(2)
            idle_cpu = cpu_seconds(pid) - before
            for _ in range(20):  # pushes go on meanwhile, and wake none of the polls
                call = {"op": "pushtest", "token": mock.app_token, "push": {"address": "1"}}
                assert client.post("/backend", json=call).json()["result"] is True
            for sock in polls[:5]:  # none answered yet: no push matched
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):
                    sock.recv(1)
            answered = 0
            for sock in polls:  # each answered, empty, once its wait runs out
                sock.setblocking(True)
                sock.settimeout(30)
                answer = b""
                while b'"pushes"' not in answer and (chunk := sock.recv(65536)):
                    answer += chunk
                answered += answer.startswith(b"HTTP/1.1 200") and b'{"pushes":[]}' in answer
        finally:
            for sock in polls:
                sock.close()
    # measured 0.06-0.25 s on this VM (uvicorn's own ticks, the checkpointer); the herd the attack
    # found kept it busy 40-60% of the time (0.8-1.2 s)
    assert idle_cpu < 0.5, f"the idle server used {idle_cpu:.2f} s of CPU in 2 s"
    assert answered == 1000


# --- group messages at scale -------------------------------------------------------------------------
def wait_delivered(mock: MesiboMock, mid: int, recipients: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = mock.client.get(f"/_mock/messages/{mid}", params={"limit": 1}).json()
        if not view["delivering"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not view["delivering"], f"still delivering after {timeout} s: {view['recipients_total']} so far"
    assert view["recipients_total"] == recipients
    return view


def fan_out_watched(mock: MesiboMock, gid: int, members: int) -> tuple[dict, float, float]:
    """One message to the group while /_mock/health is asked back to back from another connection;
    -> (the answer, seconds to answer, the longest health wait)."""
    with HealthWatch(mock.url) as watch:
        time.sleep(0.2)
        started = time.perf_counter()
        answer = mock.backend("message", message={"from": "sender", "gid": gid, "message": "to all"})
        answered = time.perf_counter() - started
        assert answer["result"] is True
        view = wait_delivered(mock, answer["mid"], members, timeout=120)
    assert view["pushes_total"] == members  # one device each, none online
    return answer, answered, max(watch.waits)


def test_a_20000_member_group_message_never_holds_other_requests_for_more_than_a_moment(tmp_path):
    db = str(tmp_path / "big.db")
    gid = big_group_store(db, 20_000, device_every=1)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.apps()  # the /_mock routes are declared on first use: that one-time cost is not the fan-out's
        answer, answered, longest = fan_out_watched(mock, gid, 20_000)
        if longest >= 0.25:
            # Measured from the test's process: on a loaded machine (two workers on two CPUs) the
            # watcher itself can be descheduled once (308 ms seen once in CI, 25-95 ms otherwise, under
            # load and disk stress alike). A fan-out that holds the loop does so every time: a second
            # message must show the wait again.
            _, answered, longest = fan_out_watched(mock, gid, 20_000)
        assert longest < 0.25, f"/_mock/health waited {longest * 1000:.0f} ms during the fan-out"
        assert answered < 1.0, f"the message took {answered:.2f} s to answer"
        # the pages of recipients: all 20,000 once, in member order
        seen = []
        for offset in range(0, 20_000, 10_000):
            page = mock.client.get(f"/_mock/messages/{answer['mid']}", params={"offset": offset}).json()
            seen += [r["address"] for r in page["recipients"]]
        assert len(seen) == len(set(seen)) == 20_000 and seen[:2] == ["m0", "m1"]


def test_a_250001_member_group_message_succeeds_and_reaches_everyone(tmp_path):
    db = str(tmp_path / "huge.db")
    gid = big_group_store(db, 250_001, device_every=1000)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        answer = mock.backend(
            "message", message={"from": "sender", "gid": gid, "message": "to a quarter million"}
        )
        assert answer["result"] is True and answer["mid"] >= 1
        view = wait_delivered(mock, answer["mid"], 250_001, timeout=300)
        assert view["pushes_total"] == 251  # m0 and every thousandth member have a device
        listed = mock.client.get("/_mock/messages", params={"token": "big-token"}).json()["messages"]
        assert listed[0]["recipients_total"] == 250_001 and len(listed[0]["recipients"]) == 1000


def test_a_group_message_killed_mid_delivery_resumes_at_start_up_reaching_each_member_once(tmp_path):
    """SIGKILL while the scheduler is still delivering a 20,000-member message: at the next start its
    delivery goes on from the last committed batch; nobody is skipped, nobody gets it twice."""
    import signal

    db = str(tmp_path / "crash.db")
    gid = big_group_store(db, 20_000, device_every=1)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mid = mock.backend("message", message={"from": "sender", "gid": gid, "message": "crash"})["mid"]
        while True:  # stop it part of the way through
            so_far = mock.client.get(f"/_mock/messages/{mid}", params={"limit": 1}).json()["recipients_total"]
            if so_far >= 2000:
                break
        os.kill(mock._proc.pid, signal.SIGKILL)
        mock._proc.wait()
    assert so_far < 20_000, "delivery finished before the kill: nothing was tested"
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        view = wait_delivered(mock, mid, 20_000, timeout=120)
        assert view["pushes_total"] == 20_000
    with sqlite3.connect(db) as conn:
        twice = conn.execute(
            "SELECT COUNT(*) FROM (SELECT address FROM message_recipients WHERE mid = ? GROUP BY address"
            " HAVING COUNT(*) > 1)",
            (mid,),
        ).fetchone()[0]
        pushed_twice = conn.execute(
            "SELECT COUNT(*) FROM (SELECT address FROM pushes WHERE mid = ? GROUP BY address HAVING COUNT(*) > 1)",
            (mid,),
        ).fetchone()[0]
    assert twice == 0 and pushed_twice == 0


def test_a_1000_member_group_message_has_every_record_committed_when_it_answers(tmp_path):
    """What users' tests rely on: no waiting for a message to up to 1,000 members."""
    db = str(tmp_path / "k.db")
    gid = big_group_store(db, 1000, device_every=1)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mid = mock.backend("message", message={"from": "sender", "gid": gid, "message": "all at once"})["mid"]
        view = mock.message(mid)  # at once: no wait, no long-poll
        assert not view["delivering"] and view["recipients_total"] == 1000 and view["pushes_total"] == 1000
        assert len(mock.pushes(mid=mid, limit=1000)) == 1000


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@LINUX_ONLY
@pytest.mark.parametrize("protocol", ["httptools", "h11"])
def test_300_uploads_at_once_are_bounded_the_rest_answered_at_once(protocol):
    """The attack: 300 uploads of a nearly 1 MB credential at once took the server to 706 MB."""
    import asyncio
    import json as jsonlib

    from mesibo_mock import samples

    account = jsonlib.loads(samples.fcm_service_account("storm"))
    padded = jsonlib.dumps(account, indent=1).encode()
    padded = padded[:-1] + b" " * (900_000 - len(padded)) + b"}"  # valid JSON, nearly 1 MB
    with MesiboMock(subprocess=True, env={"http": protocol}) as mock:
        before = peak_rss_mb(mock._proc.pid)

        async def upload(client: httpx.AsyncClient) -> dict | None:
            try:
                response = await client.post(
                    "/backend",
                    data={"op": "pushupload", "token": mock.app_token},
                    files={"file": ("sa.json", padded)},
                )
            except httpx.TransportError:  # refused before its body was read: the server closed
                return None
            return response.json()

        async def storm() -> list:
            limits = httpx.Limits(max_connections=300, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=mock.url, timeout=120, limits=limits) as client:
                return await asyncio.gather(*(upload(client) for _ in range(300)))

        answers = asyncio.run(storm())
        peak = peak_rss_mb(mock._proc.pid)
        accepted = [a for a in answers if a and a["result"]]
        refused = [a for a in answers if a and not a["result"]]
        assert accepted, "no upload went through"
        assert all(a["error"] == "BADREQ" for a in refused)
        assert len(accepted) + len(refused) == 300, f"{answers.count(None)} got no answer"
        assert refused, "all 300 were held at once"
        assert peak - before < 200, f"the server grew by {peak - before:.0f} MB (peak {peak:.0f} MB)"
        busy = mock.requests(result=False, limit=1000, all_apps=True)
        assert any("being read or parsed already" in d["problem"] for e in busy for d in e["diagnosis"])
        assert mock.health()["status"] == "ok"
        assert mock.backend("usersget")["result"] is True


def test_a_big_app_is_listed_a_page_at_a_time_and_its_dashboard_stays_small(tmp_path):
    """The attack rendered 110 MB of dashboard for 260k users; 20,000 make the point."""
    db = str(tmp_path / "many.db")
    gid = big_group_store(db, 20_000, device_every=1)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        page = mock.client.get("/_mock/ui")
        assert page.status_code == 200 and len(page.content) < 2_000_000
        users = mock.client.get("/_mock/apps/big-token/users").json()["users"]
        assert len(users) == 1000  # a page, oldest first
        seen, after = [], 0
        while True:
            batch = mock.client.get(
                "/_mock/apps/big-token/users", params={"after": after, "limit": 5000}
            ).json()
            if not batch["users"]:
                break
            seen += [u["address"] for u in batch["users"]]
            after = batch["users"][-1]["uid"]
        assert len(seen) == len(set(seen)) == 20_001  # every member and the sender, once
        devices = mock.client.get("/_mock/apps/big-token/devices", params={"limit": 10}).json()["devices"]
        assert len(devices) == 10
        [group] = mock.client.get("/_mock/apps/big-token/groups").json()["groups"]
        assert group["gid"] == gid and group["member_count"] == 20_000 and len(group["members"]) == 1000
