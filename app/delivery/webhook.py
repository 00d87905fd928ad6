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
CLAIM_MARGIN = 5.0  # seconds a claim outlives its attempt's deadline
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


PER_APP_IN_FLIGHT = 4  # attempts under way for one app at once: one slow receiver holds up only its app
CANDIDATES = 256


def claim_due_jobs(rt: Runtime, in_flight_per_app: dict[str, int]) -> list[sqlite3.Row]:
    """Due jobs that no attempt holds, at most PER_APP_IN_FLIGHT per app counting those under way,
    each claimed in the store before it is sent: a second server on the same database skips it.

    A claim lasts past the attempt's deadline; if the process dies, the job is free again after it.
    """
    wall = time.time()
    until = wall + rt.settings.webhook_timeout + CLAIM_MARGIN
    chosen: list[sqlite3.Row] = []
    with rt.store.tx():
        rows = rt.store.all(
            "SELECT * FROM webhook_jobs WHERE next_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
            " ORDER BY next_at LIMIT ?",
            (rt.clock.now(), wall, CANDIDATES),
        )
        held = dict(in_flight_per_app)
        for row in rows:
            if held.get(row["app_token"], 0) >= PER_APP_IN_FLIGHT:
                continue
            claimed = rt.store.run(
                "UPDATE webhook_jobs SET claimed_until = ? WHERE id = ? AND (claimed_until IS NULL OR claimed_until < ?)",
                (until, row["id"], wall),
            ).rowcount
            if claimed:
                held[row["app_token"]] = held.get(row["app_token"], 0) + 1
                chosen.append(row)
    return chosen


async def attempt(rt: Runtime, client: httpx.AsyncClient, job: sqlite3.Row) -> None:
    import httpx

    number = job["attempts"] + 1
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    deadline = rt.settings.webhook_timeout
    try:
        # One deadline for the whole attempt: httpx's timeout applies to each read, and a receiver
        # that trickles a byte at a time would otherwise hold the attempt forever.
        answer = await asyncio.wait_for(
            client.post(
                job["url"],
                content=job["payload"].encode(),
                headers={"content-type": "application/json", "user-agent": "mesibo-mock-webhook"},
                timeout=deadline,
            ),
            deadline,
        )
        status_code = answer.status_code
        if not 200 <= status_code < 300:
            error = f"receiver answered HTTP {status_code}"
    except (httpx.TimeoutException, TimeoutError):
        error = f"timed out after {deadline:g} s"
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
                "webhook_jobs",
                job["id"],
                {"attempts": number, "next_at": now + BACKOFF_SECONDS[number - 1], "claimed_until": None},
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
        self.in_flight: dict[int, tuple[str, asyncio.Task]] = {}  # job id -> (app token, attempt)
        self.client: httpx.AsyncClient | None = None
        self._task: asyncio.Task | None = None
        from mesibo_mock.retention import Retention

        self.retention = Retention(rt)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="mesibo-mock-timers")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.in_flight:
            tasks = [task for _, task in self.in_flight.values()]
            await asyncio.wait(tasks, timeout=2)
            unfinished = [job_id for job_id, (_, task) in self.in_flight.items() if not task.done()]
            for task in tasks:
                task.cancel()
            if unfinished:  # give them back at once: the next start need not wait for the claims to lapse
                marks = ", ".join("?" for _ in unfinished)
                with contextlib.suppress(Exception), self.rt.store.tx():
                    self.rt.store.run(
                        f"UPDATE webhook_jobs SET claimed_until = NULL WHERE id IN ({marks})", unfinished
                    )
        if self.client:
            await self.client.aclose()

    async def run_due(self) -> None:
        """Due fallbacks in batches (requests get through between them), then due webhook jobs."""
        from mesibo_mock.delivery.engine import fire_due_fallbacks

        while fire_due_fallbacks(self.rt):
            await asyncio.sleep(0)
        if self.retention.due():
            self.retention.prune_batch()
        per_app: dict[str, int] = {}
        for app_token, _ in self.in_flight.values():
            per_app[app_token] = per_app.get(app_token, 0) + 1
        jobs = claim_due_jobs(self.rt, per_app)
        if jobs and self.client is None:  # httpx loads with the first webhook, not at start-up
            import httpx

            self.client = httpx.AsyncClient(follow_redirects=False)
        for job in jobs:
            task = asyncio.create_task(attempt(self.rt, self.client, job))
            self.in_flight[job["id"]] = (job["app_token"], task)
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
