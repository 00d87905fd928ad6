"""Cloud mode's limits on the test ops, each rule in one place [doc]: test pushes per app per rolling
window (MESIBO_MOCK_TESTPUSH_LIMIT), and a debug window of at most 3 hours that may start only once every
8 hours. On-premise mode lifts both."""

from __future__ import annotations

import math
import sqlite3

from mesibo_mock.errors import RATELIMITED, MesiboError
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps


def count_test_push(rt: Runtime, app: sqlite3.Row) -> None:
    """Check and count a test push in one transaction (the op's own), so concurrent calls cannot both
    take the last slot; RATELIMITED, with the seconds until one frees, past the limit. A refused call
    does not count."""
    now = rt.clock.now()
    count, window = rt.settings.testpush_count, rt.settings.testpush_window
    recent = rt.store.all(
        "SELECT ts FROM testpushes WHERE app_id = ? AND ts > ? ORDER BY ts", (app["id"], now - window)
    )
    if len(recent) >= count:
        oldest_counted = recent[len(recent) - count]["ts"] if count else now
        retry = max(1, math.ceil(oldest_counted + window - now))
        raise MesiboError(
            RATELIMITED,
            problems=[
                {
                    "problem": f"the test-push limit is reached: {count} per {window:g} s per app in cloud mode"
                    f" (retry in {retry} s)",
                    "hint": f"raise it with MESIBO_MOCK_TESTPUSH_LIMIT (e.g. 1000/{window:g}), run with --mode"
                    ' onprem (no limit), or move the emulator clock (POST /_mock/clock {"advance": '
                    f"{retry}}})",
                }
            ],
            retry_after=retry,
        )
    rt.store.insert("testpushes", {"app_id": app["id"], "ts": now})


def most_debug_seconds(rt: Runtime) -> int:
    return apps.DEBUG_MAX_SECONDS if rt.cloud else apps.ONPREM_DEBUG_MAX_SECONDS


def set_debug_window(rt: Runtime, app_token: str, duration: int) -> sqlite3.Row:
    """Open a debug window of `duration` seconds, or end the current one (0: the 8-hour wait is not
    reset); in cloud mode a window starts only 8 hours after the previous one started (RATELIMITED with
    the seconds left); -> the app as it is then."""
    with rt.store.tx():
        app = apps.by_token(rt, app_token)
        now = rt.clock.now()
        if duration == 0:
            if apps.debug_active(app, now):
                rt.store.update("apps", app["id"], {"debug_end": now})
        else:
            last_start = app["debug_start"]
            if rt.cloud and last_start is not None and now < last_start + apps.DEBUG_EVERY_SECONDS:
                retry = max(1, math.ceil(last_start + apps.DEBUG_EVERY_SECONDS - now))
                raise MesiboError(
                    RATELIMITED,
                    problems=[
                        {
                            "problem": f"a debug window may start only once every 8 hours in cloud mode (retry in {retry} s)",
                            "hint": "run with --mode onprem (no such limit), or move the emulator clock",
                        }
                    ],
                    retry_after=retry,
                )
            rt.store.update("apps", app["id"], {"debug_start": now, "debug_end": now + duration})
        return apps.by_token(rt, app_token)
