"""What `mesibo-mock record` adds to a call: the median time of the same calls made directly to an
upstream and through the recorder (forwarding, reading the fields, redacting, appending the line).

    python -m bench.record [--calls 300]

The upstream is an emulator (it answers as Mesibo does); the calls are a mix of a backend's: useradd
as JSON, usersget as a form, groupgetmembers in the query string. Target: at most 5 ms more at the median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import httpx

from mesibo_mock.testing import serve_command

TOKEN = "bench-record-token"
TARGET_MS = 5.0


def start(command: list[str], prefix: str, env: dict | None = None) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = process.stdout.readline().decode()
    return process, json.loads(line[len(prefix) :])


def timings(url: str, calls: int) -> list[float]:
    """Milliseconds of each call, over one keep-alive connection, after a warm-up."""
    requests = [
        ("POST", "/backend", {"json": {"op": "useradd", "token": TOKEN, "user": {"address": "ann"}}}),
        ("POST", "/backend", {"data": {"op": "usersget", "token": TOKEN, "addr": "a*"}}),
        ("GET", "/api.php", {"params": {"op": "groupsget", "token": TOKEN}}),
    ]
    out = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(calls + 30):
            method, path, kwargs = requests[i % len(requests)]
            started = time.perf_counter()
            client.request(method, path, **kwargs).raise_for_status()
            if i >= 30:
                out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=300)
    report(parser.parse_args().calls)


def report(calls: int = 300) -> None:
    folder = tempfile.mkdtemp(prefix="mesibo-bench-record-")
    env = {**os.environ, "MESIBO_MOCK_APP_TOKEN": TOKEN}
    upstream, ready = start(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", "--log-level", "critical"],
        "mesibo-mock ready ",
        env,
    )
    out = os.path.join(folder, "bench.jsonl")
    recorder, proxy = start(
        [*serve_command(), "record", "--upstream", ready["backend_url"], "--out", out, "--port", "0"],
        "mesibo-mock record ready ",
    )
    try:
        direct, through = [], []
        for _ in range(3):  # turn about, so that drift falls on both alike
            direct += timings(ready["url"], calls // 3)
            through += timings(proxy["url"], calls // 3)
    finally:
        recorder.terminate()
        upstream.terminate()
        recorder.wait(10)
        upstream.wait(10)
    with open(out) as fh:
        lines = sum(1 for _ in fh) - 1
    d, t = statistics.median(direct), statistics.median(through)
    print(f"record: {len(direct)} calls each way, {lines} recorded")
    print(
        f"  {'direct to the upstream':30}{d:8.2f} ms median   p90 {statistics.quantiles(direct, n=10)[-1]:.2f}"
    )
    print(
        f"  {'through mesibo-mock record':30}{t:8.2f} ms median   p90 {statistics.quantiles(through, n=10)[-1]:.2f}"
    )
    added = t - d
    print(f"  added per call {added:.2f} ms   <= {TARGET_MS} ms {'ok' if added <= TARGET_MS else 'MISSED'}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
