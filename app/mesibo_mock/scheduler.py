"""The one place that owns timers: fallbacks whose time has come, webhook jobs that are due (first
attempts and retries) and retention passes.

It calls the delivery engine and the events module; neither of them calls the other back, and neither
keeps a timer of its own. Everything runs on the emulator clock: moving it (`POST /_mock/clock`) runs
what became due at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from mesibo_mock.delivery.engine import fire_due_fallbacks
from mesibo_mock.events import webhook
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.retention import Retention

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mesibo_mock.scheduler")
IDLE_SECONDS = 0.2  # the loop looks again this often when nothing wakes it


class Timers:
    """The background loop. `run_due()` is also called when the clock is moved."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.in_flight: dict[int, tuple[str, asyncio.Task]] = {}  # job id -> (app token, attempt)
        self.client: httpx.AsyncClient | None = None
        self._task: asyncio.Task | None = None
        self.retention = Retention(rt.store, rt.settings.retention)

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
                with contextlib.suppress(Exception):
                    webhook.release(self.rt, unfinished)
        if self.client:
            await self.client.aclose()

    async def run_due(self) -> None:
        """Due fallbacks in batches (requests get through between them), then due webhook jobs."""
        rt = self.rt
        while fire_due_fallbacks(rt, webhook.Outbox(rt)):
            await asyncio.sleep(0)
        if self.retention.due():
            self.retention.prune_batch()
        per_app: dict[str, int] = {}
        for app_token, _ in self.in_flight.values():
            per_app[app_token] = per_app.get(app_token, 0) + 1
        jobs = webhook.claim_due_jobs(rt, per_app)
        if jobs and self.client is None:  # httpx loads with the first webhook, not at start-up
            import httpx

            self.client = httpx.AsyncClient(follow_redirects=False)
        for job in jobs:
            task = asyncio.create_task(webhook.attempt(rt, self.client, job))
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
                await asyncio.wait_for(self.rt.wake_timers.wait(), timeout=IDLE_SECONDS)
