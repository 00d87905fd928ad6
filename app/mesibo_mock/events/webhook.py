"""Webhook delivery of push records in Mesibo's v2 envelope: queued in the store, sent in the background.

A job row is written in the same transaction as its push record, so a delivery that is owed when the
server stops is still owed after the next start. Up to 3 attempts, about 1 s and then 2 s apart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from typing import TYPE_CHECKING

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime

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


class Outbox:
    """Where the delivery engine hands the push records of a round (it is given one, it imports nothing
    of this module): their webhook jobs are written with the records, in the caller's transaction."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def wants_pushes(self, app: sqlite3.Row) -> bool:
        return bool(app["webhook_url"])

    def pushes(self, app: sqlite3.Row, records: list[dict]) -> None:
        enqueue_many(self.rt, app, records)


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


def release(rt: Runtime, job_ids: list[int]) -> None:
    """Give claimed jobs back at once (the server is stopping with their attempts unfinished)."""
    marks = ", ".join("?" for _ in job_ids)
    with rt.store.tx():
        rt.store.run(f"UPDATE webhook_jobs SET claimed_until = NULL WHERE id IN ({marks})", job_ids)
