"""Webhook delivery of push records in Mesibo's v2 envelope: queued in the store, sent in the background.

A job row is written in the same transaction as its push record, so a delivery that is owed when the
server stops is still owed after the next start. Up to 3 attempts, about 1 s and then 2 s apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from typing import TYPE_CHECKING

from mesibo_mock.clock import iso
from mesibo_mock.runtime import Runtime

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mesibo_mock.webhook")
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (1.0, 2.0)


def payload(app: sqlite3.Row, record: dict, now: float) -> dict:
    """`request` and `response` travel only when the push was made inside a debug window."""
    push = dict(record)
    if not record.get("debug"):
        push.pop("request", None)
        push.pop("response", None)
    body: dict = {"server": "mesibo", "v": 2, "id": record["id"], "aid": app["id"], "ts": int(now * 1000)}
    if app["webhook_secret"]:
        body["secret"] = app["webhook_secret"]
    body["events"] = [{"type": "push", "push": push}]
    return body


def enqueue_many(rt: Runtime, app: sqlite3.Row, records: list[dict]) -> None:
    """One job per record, written with the records themselves (the caller's transaction)."""
    now = rt.clock.now()
    rt.store.conn.executemany(
        "INSERT INTO webhook_jobs (app_token, push_id, url, payload, attempts, next_at) VALUES (?, ?, ?, ?, 0, ?)",
        [
            (app["token"], record["id"], app["webhook_url"], json.dumps(payload(app, record, now)), now)
            for record in records
        ],
    )
    rt.wake_timers.set()


def due_jobs(rt: Runtime, exclude: set[int]) -> list[sqlite3.Row]:
    rows = rt.store.all(
        "SELECT * FROM webhook_jobs WHERE next_at <= ? ORDER BY next_at LIMIT 64", (rt.clock.now(),)
    )
    return [row for row in rows if row["id"] not in exclude]


async def attempt(rt: Runtime, client: httpx.AsyncClient, job: sqlite3.Row) -> None:
    import httpx

    number = job["attempts"] + 1
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        answer = await client.post(
            job["url"],
            content=job["payload"].encode(),
            headers={"content-type": "application/json", "user-agent": "mesibo-mock-webhook"},
            timeout=rt.settings.webhook_timeout,
        )
        status_code = answer.status_code
        if not 200 <= status_code < 300:
            error = f"receiver answered HTTP {status_code}"
    except httpx.TimeoutException:
        error = f"timed out after {rt.settings.webhook_timeout:g} s"
    except (httpx.HTTPError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    ok = error is None
    now = rt.clock.now()
    with rt.store.tx():
        rt.store.insert(
            "webhook_attempts",
            {
                "app_token": job["app_token"],
                "push_id": job["push_id"],
                "url": job["url"],
                "attempt": number,
                "status_code": status_code,
                "error": error,
                "duration_ms": duration_ms,
                "ok": ok,
                "ts": now,
            },
        )
        if ok or number >= MAX_ATTEMPTS:
            rt.store.run("DELETE FROM webhook_jobs WHERE id = ?", (job["id"],))
        else:
            rt.store.update(
                "webhook_jobs", job["id"], {"attempts": number, "next_at": now + BACKOFF_SECONDS[number - 1]}
            )
    level = logging.INFO if ok else logging.WARNING
    log.log(level, "webhook push #%d attempt %d -> %s", job["push_id"], number, status_code or error)


def attempt_view(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "token": row["app_token"],
        "push_id": row["push_id"],
        "url": row["url"],
        "attempt": row["attempt"],
        "status_code": row["status_code"],
        "error": row["error"],
        "duration_ms": row["duration_ms"],
        "ok": bool(row["ok"]),
        "ts": iso(row["ts"]),
    }


class Timers:
    """The background loop: fallbacks whose time has come and webhook jobs that are due."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.in_flight: dict[int, asyncio.Task] = {}
        self.client: httpx.AsyncClient | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="mesibo-mock-timers")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.in_flight:
            await asyncio.wait(list(self.in_flight.values()), timeout=2)
            for task in self.in_flight.values():
                task.cancel()
        if self.client:
            await self.client.aclose()

    async def run_due(self) -> None:
        """Due fallbacks in batches (requests get through between them), then due webhook jobs."""
        from mesibo_mock.delivery.engine import fire_due_fallbacks

        while fire_due_fallbacks(self.rt):
            await asyncio.sleep(0)
        jobs = due_jobs(self.rt, set(self.in_flight))
        if jobs and self.client is None:  # httpx loads with the first webhook, not at start-up
            import httpx

            self.client = httpx.AsyncClient(follow_redirects=False)
        for job in jobs:
            task = asyncio.create_task(attempt(self.rt, self.client, job))
            self.in_flight[job["id"]] = task
            task.add_done_callback(lambda _t, job_id=job["id"]: self.in_flight.pop(job_id, None))

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:  # the loop must outlive any one bad row
                log.exception("timer loop error")
            self.rt.wake_timers.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.rt.wake_timers.wait(), timeout=0.2)
