"""Benchmark: mesibo-mock against a bare FastAPI app with the same uvicorn settings, in one run.

    python -m bench.run                      # the whole thing (about four minutes with 1M records)
    python -m bench.run --seconds 3 --records 100000

Load comes from wrk (apt-get install wrk).

Prints, for both servers: requests/s, p50 and p99 latency for pushset, pushtest (a user with two
devices) and GET /_mock/pushes; time from start to healthy; RSS after the load; then the ratios
against the targets. Then one message to a group of 1,000 members with two devices each; messages to
groups of 20,000 and 100,000 (time to answer, to deliver, and the longest another request waited);
and the time of a push-record query at 1k and at 1M records; and the server's CPU for a wait with
`count` against the one-match waits it replaces (bench/waits.py); what `mesibo-mock record` adds to a
call (bench/record.py).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import record, waits
from bench.load import Result, build_request, load
from mesibo_mock.testing import free_port, serve_command

ROOT = Path(__file__).resolve().parent.parent
CREDS = ROOT / "fixtures" / "creds"
TOKEN = "bench-token"
TARGETS = {"pushset": 0.9, "pushtest": 0.6}
STARTUP_TARGET, RSS_TARGET, QUERY_TARGET = 1.05, 1.25, 1.2
GROUP_MEMBERS, GROUP_TARGET_MS = 1000, 150


def server_env(stack: str = "httptools", **settings: str) -> dict[str, str]:
    """The environment a benchmarked server runs in; `settings`: more MESIBO_MOCK_* variables."""
    return {
        **os.environ,
        "MESIBO_MOCK_APP_TOKEN": TOKEN,
        "MESIBO_MOCK_LOG_LEVEL": "warning",
        "MESIBO_MOCK_HTTP": stack,
        **{f"MESIBO_MOCK_{key.upper()}": value for key, value in settings.items()},
    }


def spawn(kind: str, port: int, db: str, stack: str = "httptools", **settings: str) -> subprocess.Popen:
    """`stack`: httptools on uvloop (the stack's real limit), or h11 on asyncio's loop (the fallback);
    `settings`: more MESIBO_MOCK_* variables."""
    env = server_env(stack, **settings)
    if kind == "bare":
        cmd = [sys.executable, "-m", "bench.bare_app", str(port), stack]
    else:
        cmd = [*serve_command(), "serve", "--port", str(port), "--db", db, "--mode", "onprem"]
    # A file, not a pipe: nobody drains a pipe during the load, and a full one would stall the server.
    log_path = os.path.join(os.path.dirname(db), f"{kind}-{port}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    proc.log_path = log_path
    return proc


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {Path(proc.log_path).read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_mock/health", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.002)
    raise RuntimeError("server did not become healthy")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def startup_seconds(runs: int, tmp: str) -> dict[str, float]:
    """Median time from spawn to a healthy answer, the two servers started turn about."""
    times: dict[str, list[float]] = {"bare": [], "emulator": []}
    for i in range(runs):
        for kind in times:
            port = free_port()
            started = time.perf_counter()
            proc = spawn(kind, port, os.path.join(tmp, f"startup-{kind}-{i}.db"))
            wait_healthy(port, proc)
            times[kind].append(time.perf_counter() - started)
            stop(proc)
    return {kind: statistics.median(values) for kind, values in times.items()}


def prepare_emulator(port: int) -> None:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    for name in ("fcm-service-account.json", "apns-development.p12"):
        answer = client.post(
            "/backend",
            data={"op": "pushupload", "token": TOKEN},
            files={"file": (name, (CREDS / name).read_bytes())},
        ).json()
        assert answer["result"], answer
    client.post("/backend", json={"op": "pushset", "token": TOKEN, "push": {"ratelimit": False}})
    for platform, push_token in (("android", "fcm-bench-token"), ("ios", "ab" * 32)):
        client.post(
            f"/_mock/apps/{TOKEN}/devices",
            json={
                "address": "bench-user",
                "platform": platform,
                "appid": "com.example.app",
                "push_token": push_token,
                "sandbox": True,
            },
        )
    client.close()


SCENARIOS = {
    "pushset": build_request(
        "POST",
        "/backend",
        json.dumps({"op": "pushset", "token": TOKEN, "push": {"sound": True, "collapse": False}}).encode(),
    ),
    "pushtest": build_request(
        "POST",
        "/backend",
        json.dumps({"op": "pushtest", "token": TOKEN, "push": {"address": "bench-user"}}).encode(),
    ),
    "GET /_mock/pushes": build_request("GET", "/_mock/pushes?limit=20"),
}


ROUNDS = 5


def measure_both(seconds: float, connections: int, tmp: str, stack: str = "httptools") -> dict[str, dict]:
    """Both servers up at once on one stack, loaded in alternating rounds, so that drift in the
    machine's state (other processes, caches, clock speed) falls on both alike. A ratio is the median
    of the rounds' own ratios (each round loads both servers back to back, the first one in turn): a
    slow spell of the machine then costs one round, not the whole figure, as it did the totals."""
    servers = {}
    for kind in ("bare", "emulator"):
        port = free_port()
        proc = spawn(kind, port, os.path.join(tmp, f"load-{kind}-{stack}.db"), stack)
        wait_healthy(port, proc)
        servers[kind] = (port, proc)
    prepare_emulator(servers["emulator"][0])
    results: dict[str, dict] = {kind: {} for kind in servers}
    ratios: dict[str, float] = {}
    for name, request in SCENARIOS.items():
        for port, _ in servers.values():
            load(port, request, seconds=1, connections=connections)  # warm-up
        parts: dict[str, list] = {kind: [] for kind in servers}
        for turn in range(ROUNDS):
            for kind in sorted(servers, reverse=turn % 2 == 1):
                part = load(servers[kind][0], request, seconds=seconds / ROUNDS, connections=connections)
                if part.errors:
                    raise RuntimeError(f"{kind} {name}: {part.errors} error responses")
                parts[kind].append(part)
        ratios[name] = statistics.median(
            emu.rps / bare.rps for bare, emu in zip(parts["bare"], parts["emulator"], strict=True)
        )
        for kind, done in parts.items():
            results[kind][name] = Result(
                sum(p.requests for p in done),
                sum(p.seconds for p in done),
                statistics.median(p.p50_us for p in done),
                max(p.p99_us for p in done),
                0,
            )
    out = {}
    for kind, (_, proc) in servers.items():
        out[kind] = {"results": results[kind], "rss": rss_mib(proc.pid)}
        stop(proc)
    out["ratios"] = ratios
    return out


# --- the record query at 1k and 1M ------------------------------------------------------------------
def build_records_db(path: str, count: int) -> None:
    """A store holding `count` push records, written straight into SQLite (the API would take hours)."""
    from mesibo_mock.store.db import Store

    store = Store(path)
    request = json.dumps(
        {
            "method": "POST",
            "url": "https://fcm.googleapis.com/v1/projects/p/messages:send",
            "headers": {"Authorization": "Bearer [redacted]"},
            "body": {"message": {"token": "t", "data": {"source": "mesibo"}}},
        }
    )
    response = json.dumps({"status": 200, "headers": {}, "body": {"name": "projects/p/messages/0:1"}})
    rng = random.Random(7)
    now = time.time()
    store.conn.execute(
        "INSERT INTO apps (name, token, background, fallback, ratelimit, collapse, sound, "
        "forceprod, iosfcm, created) VALUES ('bench', ?, 1, 1, 1, 0, 0, 0, 0, ?)",
        (TOKEN, now),
    )
    batch = []
    store.conn.execute("BEGIN")
    for i in range(count):
        # every 20th record is user-42's, so that the queries below find a full page (50) in both stores
        address = "user-42" if i % 20 == 0 else f"user-{rng.randrange(10000)}"
        failed = rng.random() < 0.05
        batch.append(
            (
                now - count + i,
                TOKEN,
                "bench",
                address,
                i % 20000,
                f"tok-{address}",
                "android",
                "fcm",
                "background",
                "test",
                "failed" if failed else "sent",
                "UNAVAILABLE" if failed else None,
                0,
                request,
                response,
                0,
                None,
            )
        )
        if len(batch) == 50000:
            store.conn.executemany(INSERT_PUSH, batch)
            batch.clear()
    store.conn.executemany(INSERT_PUSH, batch)
    store.conn.execute("COMMIT")
    store.close()


INSERT_PUSH = (
    "INSERT INTO pushes (ts, app_token, app_name, address, device_id, push_token, platform, service, "
    "push_type, kind, status, reason, debug, request, response, acked, fallback_due, injected) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
)
QUERIES = {
    "address": "/_mock/pushes?address=user-42&limit=50",
    "status": "/_mock/pushes?status=failed&limit=50",
    "app + service": f"/_mock/pushes?token={TOKEN}&service=fcm&limit=50",
}


def query_times(count: int, tmp: str, seconds: float, retention: int = 0) -> dict[str, float]:
    """p50 of each query, every one answering a full page of 50 records in either store. Retention 0
    keeps the store whole (the default, 100,000, would cut a million records down meanwhile); with a
    retention below `count`, the queries run while retention deletes the rest."""
    path = os.path.join(tmp, f"records-{count}-{retention}.db")
    build_records_db(path, count)
    port = free_port()
    proc = spawn("emulator", port, path, retention=str(retention))
    wait_healthy(port, proc)
    times = {}
    for name, path_query in QUERIES.items():
        request = build_request("GET", path_query)
        load(port, request, seconds=1, connections=1)
        times[name] = load(port, request, seconds=seconds, connections=1).p50
    stop(proc)
    return times


# --- one message to a large group --------------------------------------------------------------------
def group_message_ms(tmp: str, calls: int = 15) -> tuple[float, int]:
    """Median wall time of one `message` to a group of 1,000 members with 2 devices each (2,000 push
    records committed before the answer), over one keep-alive connection; -> (ms, pushes per call)."""
    port = free_port()
    proc = spawn("emulator", port, os.path.join(tmp, "group.db"))
    wait_healthy(port, proc)
    prepare_emulator(port)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    for i in range(GROUP_MEMBERS):
        for platform, push_token in (("android", f"fcm-bench-{i}"), ("ios", f"{i:064x}")):
            client.post(
                f"/_mock/apps/{TOKEN}/devices",
                json={
                    "address": f"member-{i}",
                    "platform": platform,
                    "appid": "com.example.app",
                    "push_token": push_token,
                    "sandbox": True,
                },
            )
    members = ",".join(f"member-{i}" for i in range(GROUP_MEMBERS))
    gid = client.post(
        "/backend",
        json={"op": "groupadd", "token": TOKEN, "group": {"name": "big", "members": {"m": members}}},
    ).json()["group"]["gid"]
    body = {
        "op": "message",
        "token": TOKEN,
        "message": {"from": "member-0", "gid": gid, "message": "hello all"},
    }
    times, pushes = [], 0
    for _ in range(calls):
        started = time.perf_counter()
        answer = client.post("/backend", json=body).json()
        times.append(time.perf_counter() - started)
        if not answer["result"]:
            raise RuntimeError(f"group message refused: {answer}")
        pushes = client.get(f"/_mock/messages/{answer['mid']}", params={"limit": 1}).json()["pushes_total"]
    client.close()
    stop(proc)
    return statistics.median(times) * 1000, pushes


# --- messages to very large groups --------------------------------------------------------------------
LARGE_GROUPS = (20_000, 100_000)


def large_group_figures(tmp: str, members: int) -> dict[str, float]:
    """One message to a group of `members` (each with a device, none online): the time to answer,
    the time until every recipient has its records, and the longest any other request (a health
    check asked back to back) waited meanwhile."""
    from bench.scale import HealthWatch, big_group_store
    from mesibo_mock.testing import MesiboMock

    db = os.path.join(tmp, f"group-{members}.db")
    gid = big_group_store(db, members, device_every=1)
    with MesiboMock(db=db, subprocess=True, app_token="big-token") as mock:
        mock.apps()  # the /_mock routes are declared on first use: not the fan-out's cost
        with HealthWatch(mock.url) as watch:
            time.sleep(0.2)
            started = time.perf_counter()
            answer = mock.backend("message", message={"from": "sender", "gid": gid, "message": "to all"})
            answered = time.perf_counter() - started
            while mock.client.get(f"/_mock/messages/{answer['mid']}", params={"limit": 1}).json()[
                "delivering"
            ]:
                time.sleep(0.05)
            delivered = time.perf_counter() - started
        with HealthWatch(mock.url) as drawn_watch:  # the dashboard asks for it every second
            drawn = []
            for _ in range(5):
                began = time.perf_counter()
                mock.client.get(f"/_mock/messages/{answer['mid']}/timeline").raise_for_status()
                drawn.append(time.perf_counter() - began)
        view = mock.client.get(f"/_mock/messages/{answer['mid']}", params={"limit": 1}).json()
    if view["recipients_total"] != members:
        raise RuntimeError(f"delivered to {view['recipients_total']} of {members}")
    return {
        "answer_ms": answered * 1000,
        "delivered_s": delivered,
        "longest_wait_ms": max(watch.waits) * 1000,
        "asks": len(watch.waits),
        "timeline_ms": statistics.median(drawn) * 1000,
        "timeline_wait_ms": max(drawn_watch.waits, default=0) * 1000,
    }


# --- printing -----------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_table(bare: dict, emu: dict) -> None:
    print(f"{'':24}{'bare FastAPI':>28}{'mesibo-mock':>28}")
    print(f"{'':24}{'req/s    p50 ms   p99 ms':>28}{'req/s    p50 ms   p99 ms':>28}")
    for name in SCENARIOS:
        b, e = bare["results"][name], emu["results"][name]
        print(f"{name:24}{b.rps:>10.0f}{b.p50:>9.2f}{b.p99:>9.2f}{e.rps:>10.0f}{e.p50:>9.2f}{e.p99:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="load per scenario (default 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--records", type=int, default=1_000_000, help="the large store (default 1,000,000)")
    parser.add_argument("--startup-runs", type=int, default=15)
    args = parser.parse_args()
    # Byte-compile the package as `pip install .` would: with PYTHONDONTWRITEBYTECODE set (as on
    # these machines) an editable checkout is otherwise compiled from source at every start.
    compileall.compile_dir(str(ROOT / "app"), quiet=1)
    tmp = tempfile.mkdtemp(prefix="mesibo-bench-")
    try:
        print(
            f"mesibo-mock benchmark: {args.connections} connections, {args.seconds:g} s per scenario, "
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
        )
        both = measure_both(args.seconds, args.connections, tmp)
        bare, emu = both["bare"], both["emulator"]
        starts = startup_seconds(args.startup_runs, tmp)
        start_bare, start_emu = starts["bare"], starts["emulator"]
        print("httptools on uvloop (the stack's real limit: the targets are against it)")
        print_table(bare, emu)
        print(f"{'start to healthy (s)':24}{start_bare:>10.3f}{'':18}{start_emu:>10.3f}")
        print(f"{'RSS after load (MiB)':24}{bare['rss']:>10.1f}{'':18}{emu['rss']:>10.1f}")

        print(
            f"\nratios (mesibo-mock / bare on httptools and uvloop, median of {ROUNDS} rounds)  value   target"
        )
        for name, target in TARGETS.items():
            ratio = both["ratios"][name]
            print(f"  {name + ' throughput':30}{ratio:>7.2f}   >= {target:<5} {verdict(ratio >= target)}")
        ratio = both["ratios"]["GET /_mock/pushes"]
        print(f"  {'GET /_mock/pushes throughput':30}{ratio:>7.2f}   (no target: 20 full records vs. [])")
        print(
            f"  {'startup time':30}{start_emu / start_bare:>7.2f}   <= {STARTUP_TARGET:<5} "
            f"{verdict(start_emu / start_bare <= STARTUP_TARGET)}"
        )
        print(
            f"  {'RSS after load':30}{emu['rss'] / bare['rss']:>7.2f}   <= {RSS_TARGET:<5} "
            f"{verdict(emu['rss'] / bare['rss'] <= RSS_TARGET)}"
        )

        h11 = measure_both(args.seconds, args.connections, tmp, "h11")
        print(
            "\nh11 on asyncio's loop (the pure-Python fallback, where httptools and uvloop will not install)"
        )
        print_table(h11["bare"], h11["emulator"])
        for name in TARGETS:
            ratio = h11["ratios"][name]
            print(f"  {name + ' throughput, h11':30}{ratio:>7.2f}   (the h11 baseline)")

        group_ms, group_pushes = group_message_ms(tmp)
        print(
            f"\nmessage to a group of {GROUP_MEMBERS:,} members ({group_pushes:,} push records), median of 15:"
            f" {group_ms:.0f} ms   <= {GROUP_TARGET_MS} ms {verdict(group_ms <= GROUP_TARGET_MS)}"
        )

        print("\nmessage to a very large group (one device each), delivered in the background")
        print(f"  {'members':>10}{'answer ms':>12}{'all delivered s':>18}{'longest other wait ms':>24}")
        timelines = {}
        for members in LARGE_GROUPS:
            figures = timelines[members] = large_group_figures(tmp, members)
            print(
                f"  {members:>10,}{figures['answer_ms']:>12.0f}{figures['delivered_s']:>18.1f}"
                f"{figures['longest_wait_ms']:>24.0f}   (health asked {figures['asks']} times meanwhile)"
            )
        print("  its timeline (GET /_mock/messages/{mid}/timeline), median of 5, and health meanwhile")
        for members, figures in timelines.items():
            print(
                f"  {members:>10,}{figures['timeline_ms']:>12.1f} ms"
                f"   longest health wait {figures['timeline_wait_ms']:.1f} ms"
            )

        small = query_times(1000, tmp, min(args.seconds, 2))
        large = query_times(args.records, tmp, min(args.seconds, 2))
        print(f"\npush-record query, p50 ms (one connection)   1k records   {args.records:,} records   ratio")
        for name in QUERIES:
            ratio = large[name] / small[name]
            print(
                f"  {name:42}{small[name]:>10.2f}{large[name]:>15.2f}{ratio:>10.2f}   "
                f"<= {QUERY_TARGET} {verdict(ratio <= QUERY_TARGET)}"
            )
        # a store far past its retention (an old store opened with a lower MESIBO_MOCK_RETENTION): the
        # same queries while retention deletes the excess, a batch sized to ~20 ms between requests
        pruning = query_times(args.records, tmp, min(args.seconds, 2), retention=100_000)
        print(f"  while retention (100,000) deletes the rest of {args.records:,} records:")
        for name in QUERIES:
            print(f"  {name:42}{'':>10}{pruning[name]:>15.2f}")

        print()
        waits.report(present=1000, count=50, rounds=5)
        waits.idle_polls_report()
        print()
        record.report(300)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
