"""Where a call's time goes: py-spy samples the emulator while wrk loads it with one scenario, and the
functions are listed by the share of samples they were on the stack (own, and with what they called).

    python -m bench.profile [pushtest|pushset|pushes] [--seconds 8] [--stack httptools|h11] [--fill 8]

Needs py-spy (`pip install py-spy`) and wrk. The server runs as the benchmark runs it (bench/run.py).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from bench.load import load
from bench.run import SCENARIOS, prepare_emulator, spawn, stop, wait_healthy
from mesibo_mock.testing import free_port

NAMES = {"pushtest": "pushtest", "pushset": "pushset", "pushes": "GET /_mock/pushes"}


def collapsed(path: str) -> tuple[collections.Counter, collections.Counter, int]:
    """py-spy's raw (collapsed) stacks -> (own samples per frame, samples per frame anywhere, total)."""
    own: collections.Counter = collections.Counter()
    anywhere: collections.Counter = collections.Counter()
    total = 0
    with open(path) as fh:
        for line in fh:
            stack, _, count = line.rstrip().rpartition(" ")
            n = int(count)
            frames = [f for f in stack.split(";") if f]
            if not frames:
                continue
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                anywhere[frame] += n
    return own, anywhere, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", nargs="?", default="pushtest", choices=sorted(NAMES))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--stack", default="httptools", choices=["httptools", "h11"])
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--fill",
        type=float,
        default=0.0,
        help="seconds of pushset first, as the full run does before pushtest (the store then at retention's bound)",
    )
    args = parser.parse_args()
    pyspy = shutil.which("py-spy") or shutil.which("py-spy", path=os.path.dirname(sys.executable))
    if pyspy is None:
        raise SystemExit("needs py-spy: pip install py-spy")
    folder = tempfile.mkdtemp(prefix="mesibo-profile-")
    port = free_port()
    proc = spawn("emulator", port, os.path.join(folder, "profile.db"), args.stack)
    try:
        wait_healthy(port, proc)
        prepare_emulator(port)
        request = SCENARIOS[NAMES[args.scenario]]
        if args.fill:
            load(port, SCENARIOS["pushset"], seconds=args.fill, connections=16)
        load(port, request, seconds=1, connections=16)
        out = os.path.join(folder, "stacks.txt")
        sampler = subprocess.Popen(
            [
                pyspy,
                "record",
                "--pid",
                str(proc.pid),
                "--duration",
                str(int(args.seconds)),
                "--rate",
                "500",
                "--format",
                "raw",
                "--output",
                out,
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        loader = threading.Thread(
            target=load, args=(port, request), kwargs={"seconds": args.seconds + 1, "connections": 16}
        )
        loader.start()
        sampler.wait()
        loader.join()
        own, anywhere, total = collapsed(out)
    finally:
        stop(proc)
    print(f"{args.scenario} on {args.stack}: {total} samples")
    print(f"{'own %':>7} {'total %':>8}  function (file:line)")
    for frame, n in own.most_common(args.top):
        print(f"{100 * n / total:7.1f} {100 * anywhere[frame] / total:8.1f}  {frame}")
    print("\nby time on the stack:")
    for frame, n in anywhere.most_common(args.top):
        print(f"{100 * own[frame] / total:7.1f} {100 * n / total:8.1f}  {frame}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
