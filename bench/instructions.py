"""Instructions per call: the emulator and the bare FastAPI app under valgrind's callgrind, counted over
the same bursts of calls, and any other checkout of the emulator beside them.

    python -m bench.instructions                       # pushtest: bare app and this checkout
    python -m bench.instructions pushset --bursts 300
    python -m bench.instructions pushtest --also ../old/app   # another checkout's app/ folder too

Needs valgrind (Debian's `valgrind`). Throughput on a shared VM swings by 10-25% from one minute to the
next; the instructions a call costs do not (two runs of the same code agree within about 2%; a change
of 1% shows). Each server starts with counting off; once warm, `callgrind_control` turns it on for
`--bursts` rounds of `--connections` keep-alive calls sent at once (the group commit sees as many
calls together as under wrk) and off again. The kernel's share (system calls) is not counted: a change
that saves a write(), as one write per answer did, shows in bench.run rather than here.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import ROOT, SCENARIOS, prepare_emulator, server_env, wait_healthy
from mesibo_mock.testing import free_port

CONTENT_LENGTH = re.compile(rb"content-length: (\d+)", re.IGNORECASE)


def raw_call(name: str) -> bytes:
    request = SCENARIOS[name]
    head = (
        f"{request.method} {request.path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(request.body)}\r\n\r\n"
    )
    return head.encode() + request.body


def burst(connections: list[socket.socket], call: bytes) -> None:
    """One call on every connection at once, then every answer read whole."""
    for conn in connections:
        conn.sendall(call)
    for conn in connections:
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed a connection")
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and len(body) >= int(CONTENT_LENGTH.search(head).group(1)):
                if b'"result":false' in body or not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"a call was refused: {data[:300]!r}")
                break


def instructions_per_call(kind: str, app_dir: str | None, name: str, bursts: int, width: int) -> float:
    folder = tempfile.mkdtemp(prefix="mesibo-instructions-")
    out = os.path.join(folder, "callgrind.out")
    port = free_port()
    env = server_env("httptools")
    if kind == "bare":
        command = [sys.executable, "-m", "bench.bare_app", str(port), "httptools"]
    else:
        if app_dir is not None:
            env["PYTHONPATH"] = os.path.abspath(app_dir)
        db = os.path.join(folder, "bench.db")
        command = [sys.executable, "-m", "mesibo_mock", "serve", "--port", str(port), "--db", db]
        command += ["--mode", "onprem"]
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    with open(os.path.join(folder, "server.log"), "wb") as log:
        proc = subprocess.Popen(
            [*valgrind, *command], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log
        )
    proc.log_path = os.path.join(folder, "server.log")
    connections: list[socket.socket] = []
    try:
        wait_healthy(port, proc, timeout=300)  # a start under valgrind takes a while
        if kind != "bare":
            prepare_emulator(port)
        call = raw_call(name)
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(width)]
        for _ in range(30):
            burst(connections, call)  # warm: memos, statement cache, the first pages
        control = ["callgrind_control", "--instr=on", str(proc.pid)]
        subprocess.run(control, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(bursts):
            burst(connections, call)
        subprocess.run(
            [*control[:1], "--instr=off", str(proc.pid)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        subprocess.run(
            [*control[:1], "--dump", str(proc.pid)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        counted = _totals(Path(out + ".1"))
    finally:
        for conn in connections:
            conn.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)
    return counted / (bursts * width)


def _totals(dump: Path) -> int:
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")) and int(line.split()[1]):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction count in {dump}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", nargs="?", default="pushtest", choices=["pushtest", "pushset"])
    parser.add_argument("--bursts", type=int, default=150)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--also", action="append", default=[], help="another checkout's app/ folder")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise SystemExit(f"needs {tool}: apt-get install valgrind")
    runs = [("bare FastAPI", "bare", None), ("this checkout", "emulator", None)]
    runs += [(folder, "emulator", folder) for folder in args.also]
    print(
        f"{args.scenario}: instructions per call under callgrind, {args.bursts} bursts of "
        f"{args.connections} calls at once, httptools on uvloop"
    )
    bare = None
    for label, kind, folder in runs:
        count = instructions_per_call(kind, folder, args.scenario, args.bursts, args.connections)
        bare = bare or count
        print(f"  {label:40} {count / 1000:8.1f} k   {count / bare:5.2f}x bare")


if __name__ == "__main__":
    main()
