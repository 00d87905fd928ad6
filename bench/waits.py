"""Waiting for many records costs the server no more CPU than waiting for one (SPEC section 9, `count`).

    python -m bench.waits [--present 1000] [--count 50] [--rounds 5]

With `--present` journal entries already in the store, `--count` backend calls are made one at a time
while a client waits for them, three ways, each measured as the server process's CPU time (user and
system, from /proc) over the same calls:

- none:   nobody waits (the calls' own cost, subtracted from the others);
- one:    the one-match wait a client had before `count`: list what matches, and while it is too few,
          long-poll for anything newer than the newest seen, then list again;
- count:  one long-poll with `count=N`.

The extra CPU of `count` must not exceed that of `one`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import httpx

from mesibo_mock.testing import MesiboMock

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def one_at_a_time(mock: MesiboMock, after: int, count: int) -> list[dict]:
    """The old way (MesiboMock's wait before `count`): list what matches; while it is too few, a
    one-match long-poll for anything newer than the newest seen, then list again."""
    with httpx.Client(base_url=mock.url, timeout=60) as client:
        while True:
            found = client.get("/_mock/requests", params={"after": after, "limit": max(count, 100)}).json()
            if len(found["requests"]) >= count:
                return found["requests"]
            newest = found["requests"][0]["id"] if found["requests"] else after
            client.get("/_mock/requests", params={"after": newest, "wait": 30, "limit": 1})


def with_count(mock: MesiboMock, after: int, count: int) -> list[dict]:
    with httpx.Client(base_url=mock.url, timeout=60) as client:
        params = {"after": after, "wait": 30, "count": count, "limit": max(count, 100)}
        return client.get("/_mock/requests", params=params).json()["requests"]


def measure(mock: MesiboMock, way: str, count: int) -> float:
    """The server's CPU seconds while `count` calls are made and (unless `way` is none) waited for."""
    after = mock.last_request_id()
    result: dict = {}
    waiter = None
    if way != "none":
        wait = one_at_a_time if way == "one" else with_count
        waiter = threading.Thread(target=lambda: result.update(found=wait(mock, after, count)))
        waiter.start()
    pid = mock._proc.pid
    before = cpu_seconds(pid)
    with httpx.Client(base_url=mock.url, timeout=30) as client:
        for i in range(count):
            client.post("/backend", json={"op": "usersget", "token": mock.app_token, "count": 1 + i % 20})
            if waiter is not None:
                # the waiter sees each call before the next: what a test waiting for records does
                threading.Event().wait(0.002)
    if waiter is not None:
        waiter.join(60)
        if len(result.get("found", [])) < count:
            raise RuntimeError(f"{way}: the wait found {len(result.get('found', []))} of {count}")
    return cpu_seconds(pid) - before


def report(present: int = 1000, count: int = 50, rounds: int = 5) -> None:
    with MesiboMock(subprocess=True, app_token="waits-token") as mock:
        with httpx.Client(base_url=mock.url) as client:
            for _ in range(present):
                client.post("/backend", json={"op": "usersget", "token": mock.app_token})
        spent: dict[str, list[float]] = {"none": [], "one": [], "count": []}
        for _ in range(rounds):
            for way in spent:  # turn about, so that drift falls on all three alike
                spent[way].append(measure(mock, way, count))
    base = statistics.median(spent["none"])
    extra = {way: statistics.median(values) - base for way, values in spent.items() if way != "none"}
    print(
        f"waits for {count} records with {present} present: the server's CPU over the same"
        f" {count} calls, median of {rounds}"
    )
    print(f"  {'nobody waits':34}{base * 1000:8.0f} ms")
    for way, label in (
        ("one", "one-match waits, one per record"),
        ("count", f"one wait with count={count}"),
    ):
        print(
            f"  {label:34}{(base + extra[way]) * 1000:8.0f} ms   (+{extra[way] * 1000:.0f} ms for the wait)"
        )
    ok = extra["count"] <= max(extra["one"], 0.0) + 0.01  # within one clock tick of it, or below
    print(
        f"  count's wait costs {'no more than' if ok else 'MORE than'} the one-match waits: {'ok' if ok else 'MISSED'}"
    )


def median_pushtest_ms(client: httpx.Client, token: str, calls: int = 60) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        client.post("/backend", json={"op": "pushtest", "token": token, "push": {"address": "1"}})
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def idle_polls_report(polls: int = 1000) -> None:
    """What `polls` idle long-polls (each waiting for pushes to an address that never gets one) cost a
    pushtest meanwhile: the median pushtest without them and with them."""
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < polls + 500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, polls + 1500), hard))
    with MesiboMock(subprocess=True, mode="onprem") as mock, httpx.Client(base_url=mock.url) as client:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("1")
        median_pushtest_ms(client, mock.app_token, 20)  # warm up
        quiet = median_pushtest_ms(client, mock.app_token)
        held = []
        try:
            for i in range(polls):
                sock = socket.create_connection((mock.host, mock.port))
                sock.sendall(
                    f"GET /_mock/pushes?address=idle-{i}&wait=60 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                )
                held.append(sock)
            client.get("/_mock/health")
            busy = median_pushtest_ms(client, mock.app_token)
        finally:
            for sock in held:
                sock.close()
    print(
        f"pushtest with {polls:,} idle long-polls, median of 60: {busy:.2f} ms (without them {quiet:.2f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--present", type=int, default=1000)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report(args.present, args.count, args.rounds)
    idle_polls_report()


if __name__ == "__main__":
    main()
