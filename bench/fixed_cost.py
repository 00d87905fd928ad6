"""A test file's fixed cost: what a file pays before its first test (a server started, its first app made
with sample credentials), against a bare FastAPI app's start to its first answer, in the same run.

    python -m bench.fixed_cost [--runs 9]

Prints, medians of `runs` starts taken turn about:
- the bare app: spawn to its first answer;
- the emulator: spawn to the ready line, and to its first app with samples (the cache of samples warm, as
  on every run after a machine's first), asked by a raw HTTP client the moment the ready line comes (the
  least time a client leaves the server) and, where Node is here, by the Node package as a test file
  does (`MesiboMock.start()`, then `createApp({credentials: "sample"})`);
- once, the same with the cache of samples empty (a machine's first run);
- an app per test: create and close, with and without samples (median of 50 on one connection).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mesibo_mock.testing import free_port, serve_command

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.2
SAMPLE_APP = json.dumps({"name": "first test", "credentials": {"fcm": "sample", "apn": "sample"}}).encode()
NODE_FILE = """
const started = process.hrtime.bigint();
const { MesiboMock } = require(process.argv[2]);
(async () => {
  const mock = await MesiboMock.start();
  const ready = process.hrtime.bigint();
  const app = await mock.createApp({ credentials: "sample" });
  const done = process.hrtime.bigint();
  console.log(JSON.stringify({ ready: Number(ready - started) / 1e9, app: Number(done - started) / 1e9 }));
  await app.close();
  await mock.stop();
})();
"""


def ask(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request on a fresh connection, as little client as there can be."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def bare_start() -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_app", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if ask(port, "GET", "/_mock/health")[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.001)
    finally:
        proc.terminate()
        proc.wait()


def emulator_start(env: dict) -> tuple[float, float]:
    """-> (spawn to the ready line, spawn to the first app with samples)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        line = proc.stdout.readline().decode()
        ready = time.perf_counter() - started
        port = int(json.loads(line.split(" ", 2)[2])["url"].rsplit(":", 1)[1])
        status, body = ask(port, "POST", "/_mock/apps", SAMPLE_APP)
        if status != 201:
            raise RuntimeError(f"the first app was refused: {status} {body[:200]!r}")
        return ready, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait()


def node_start(env: dict, folder: str) -> tuple[float, float] | None:
    if shutil.which("node") is None:
        return None
    script = os.path.join(folder, "fixed-cost.cjs")
    Path(script).write_text(NODE_FILE)
    client = str(ROOT / "clients" / "node" / "src" / "index.cjs")
    done = subprocess.run(["node", script, client], capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-500:])
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["ready"], figures["app"]


def per_test_app(env: dict, samples: bool) -> float:
    """Median ms to make an app (with sample credentials, or none) and close it (delete it)."""
    import httpx

    proc = subprocess.Popen(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        url = json.loads(proc.stdout.readline().decode().split(" ", 2)[2])["url"]
        body = {"name": "t", **({"credentials": {"fcm": "sample", "apn": "sample"}} if samples else {})}
        times = []
        with httpx.Client(base_url=url) as client:
            client.post("/_mock/apps", json=body)  # the first: not what a later test pays
            for _ in range(50):
                began = time.perf_counter()
                token = client.post("/_mock/apps", json=body).json()["token"]
                client.get("/_mock/mistakes", params={"token": token})  # close(): strict mode's look
                client.delete(f"/_mock/apps/{token}")
                times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="mesibo-fixed-")
    env = {**os.environ, "XDG_CACHE_HOME": os.path.join(folder, "cache")}
    env["MESIBO_MOCK_BIN"] = serve_command()[0] if len(serve_command()) == 1 else ""
    try:
        cold = emulator_start(env)  # a machine's first run: the samples are made, then kept
        bare, emu, node = [], [], []
        for _ in range(args.runs):
            bare.append(bare_start())
            emu.append(emulator_start(env))
            found = node_start(env, folder)
            if found is not None:
                node.append(found)
        base = statistics.median(bare)
        ready = statistics.median(r for r, _ in emu)
        first = statistics.median(a for _, a in emu)
        print(
            f"a test file's fixed cost, median of {args.runs} (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
        )
        print(f"  bare FastAPI: spawn to its first answer          {base * 1000:7.0f} ms")
        print(
            f"  mesibo-mock: spawn to the ready line             {ready * 1000:7.0f} ms   {ready / base:5.2f}x"
        )
        verdict = "ok" if first / base <= TARGET else "MISSED"
        print(
            f"  mesibo-mock: to its first app with samples       {first * 1000:7.0f} ms   {first / base:5.2f}x"
            f"   <= {TARGET}x {verdict}  (a raw client, asking at once)"
        )
        if node:
            node_first = statistics.median(a for _, a in node)
            verdict = "ok" if node_first / base <= TARGET else "MISSED"
            print(
                f"  Node: MesiboMock.start() + createApp(sample)     {node_first * 1000:7.0f} ms"
                f"   {node_first / base:5.2f}x   <= {TARGET}x {verdict}  (node's own start not counted)"
            )
        print(
            f"  a machine's first run (samples made, then kept)  {cold[1] * 1000:7.0f} ms   {cold[1] / base:5.2f}x"
        )
        print("an app per test (create, strict mode's look, delete), median of 50")
        print(f"  without samples {per_test_app(env, False):6.1f} ms")
        print(f"  with samples    {per_test_app(env, True):6.1f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
