"""Load with wrk (Debian's `wrk` package): N keep-alive connections, requests/s and latency percentiles.

A Lua script counts refusals (an HTTP error, or an envelope with `"result":false`): a refusal is not
throughput, so a run that has any is reported as an error rather than as a figure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) refused = 0 end
function response(status, headers, body)
  if status >= 400 or (body and body:find('"result":false', 1, true)) then refused = refused + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("refused") end
  io.write(string.format("BENCH %d %d %d %d %d\n", summary.requests, summary.duration, total,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Result:
    requests: int
    seconds: float
    p50_us: float
    p99_us: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return self.p50_us / 1000

    @property
    def p99(self) -> float:
        return self.p99_us / 1000


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""


def build_request(method: str, path: str, body: bytes = b"") -> Request:
    return Request(method, path, body)


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("the benchmark needs wrk: apt-get install wrk")
    return found


def load(
    port: int, request: Request, seconds: float = 5.0, connections: int = 16, threads: int = 2
) -> Result:
    script = LUA
    if request.method != "GET" or request.body:
        script = (
            f"wrk.method = {json.dumps(request.method)}\n"
            f"wrk.body = {json.dumps(request.body.decode())}\n"
            'wrk.headers["Content-Type"] = "application/json"\n' + script
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        done = subprocess.run(
            [
                wrk_path(),
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                fh.name,
                f"http://127.0.0.1:{port}{request.path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(fh.name)
    match = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+)$", done.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no figures: {done.stdout}{done.stderr}")
    requests, duration_us, refused, p50, p99 = map(int, match.groups())
    errors = refused + sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", done.stdout))
    return Result(requests, duration_us / 1e6, p50, p99, errors)
