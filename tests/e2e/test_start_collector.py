"""The cyclic garbage collector is off while a server starts (about 30 ms of a test file's fixed cost,
bench/fixed_cost.py) and on again once the start is over: a server that never collected would grow
with every cycle its requests leave behind. Watched from inside a real `mesibo-mock serve` process."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import textwrap
import threading

import httpx

from mesibo_mock.cli import COLLECTOR_OFF_AT_MOST
from mesibo_mock.testing import free_port

# Runs the console script's entry point and reports the collector's state when the CLI module is first
# imported (off already), then, from a thread started there, when it turns on (and how much it froze).
WATCHED_SERVER = textwrap.dedent(
    """
    import gc, sys, threading, time

    class NoteCliImport:
        def find_spec(self, name, path=None, target=None):
            if name == "mesibo_mock.cli":
                print("cli imported, collector on:", gc.isenabled(), file=sys.stderr, flush=True)
                threading.Thread(target=watch, daemon=True).start()
            return None

    sys.meta_path.insert(0, NoteCliImport())

    def watch():
        while not gc.isenabled():
            time.sleep(0.005)
        print("collector on, frozen:", gc.get_freeze_count(), file=sys.stderr, flush=True)

    from mesibo_mock.__main__ import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_a_server_starts_with_the_collector_off_and_runs_with_it_on_and_its_start_frozen():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", WATCHED_SERVER, "serve", "--port", str(port), "--db", ":memory:"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(proc.stdout.readline().split(" ", 2)[2])
        assert httpx.get(f"{ready['url']}/_mock/apps", timeout=10).status_code == 200
        lines: queue.Queue = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(line.strip()) for line in proc.stderr if "collector on" in line],
            daemon=True,
        ).start()
        first = lines.get(timeout=30)
        try:  # on after the warm-up, or at most COLLECTOR_OFF_AT_MOST after the ready line
            on = lines.get(timeout=COLLECTOR_OFF_AT_MOST + 10)
        except queue.Empty:
            raise AssertionError("the collector was never turned back on") from None
        assert [first, on.split(":")[0]] == ["cli imported, collector on: False", "collector on, frozen"]
        frozen = int(on.rsplit(" ", 1)[1])
        assert frozen > 10_000  # the start's modules, routes and schemas: never scanned again
        assert httpx.get(f"{ready['url']}/_mock/health", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
