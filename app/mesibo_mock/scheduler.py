"""The one place that owns timers: fallbacks whose time has come, messages whose time has come
(`when`, and the later batches of a large group), webhook deliveries that are due (first attempts and
retries) and retention passes.

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
from mesibo_mock.delivery.fanout import Turns, deliver_due
from mesibo_mock.events import sending
from mesibo_mock.events.outbox import Outbox
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
        self.in_flight: dict[int, tuple[str, asyncio.Task]] = {}  # delivery id -> (app token, attempt)
        self.client: httpx.AsyncClient | None = None
        self._task: asyncio.Task | None = None
        self.retention = Retention(
            rt.store, rt.settings.retention, rt.settings.testpush_window, rt.clock, rt.settings.journal_bytes
        )
        self.turns = Turns()
        # retention looks again after a twentieth of what it keeps has been written: a flood stays
        # within about 10% of the limit
        rt.retention_nudge = max(100, rt.settings.retention // 20) if rt.settings.retention else 10**9

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="mesibo-mock-timers")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.in_flight:
            tasks = [task for _, task in self.in_flight.values()]
            await asyncio.wait(tasks, timeout=2)
            unfinished = [key for key, (_, task) in self.in_flight.items() if not task.done()]
            for task in tasks:
                task.cancel()
            if unfinished:  # give them back at once: the next start need not wait for the claims to lapse
                with contextlib.suppress(Exception):
                    sending.release(self.rt, unfinished)
        if self.client:
            await self.client.aclose()

    async def run_due(self) -> None:
        """Everything due, one batch of each kind in turn until none has more: due fallbacks, a batch
        of the next app's message (apps take turns), the webhook deliveries due, a retention batch.
        Requests get through between any two turns, and no kind waits for another to be drained: a
        flood of large group messages in one app holds back neither another app's messages nor any
        webhook, and retention keeps pace with the fastest writer."""
        self.rt.see_other_writers()
        while True:
            more = self._round(fire_due_fallbacks)
            more = self._round(lambda rt, outbox: deliver_due(rt, outbox, self.turns)) or more
            self._claim_webhooks()
            if self.retention.due() or self.rt.retention_owed:
                self.rt.retention_owed = False
                more = self.retention.prune_batch() > 0 or more
            if not more:
                return
            await asyncio.sleep(0)

    def _claim_webhooks(self) -> None:
        rt = self.rt
        per_app: dict[str, int] = {}
        for app_token, _ in self.in_flight.values():
            per_app[app_token] = per_app.get(app_token, 0) + 1
        due = sending.claim_due(rt, per_app, sending.MAX_IN_FLIGHT - len(self.in_flight))
        if due and self.client is None:  # httpx loads with the first webhook, not at start-up
            import httpx

            # as many connections as attempts may be under way: none ever waits for another's
            limits = httpx.Limits(max_connections=sending.MAX_IN_FLIGHT, max_keepalive_connections=32)
            self.client = httpx.AsyncClient(follow_redirects=False, limits=limits)
        for delivery in due:
            task = asyncio.create_task(sending.attempt(rt, self.client, delivery))
            self.in_flight[delivery["id"]] = (delivery["app_token"], task)
            task.add_done_callback(lambda _t, key=delivery["id"]: self._finished(key))

    def _finished(self, delivery_id: int) -> None:
        """An attempt ended: its app's next delivery may go now, not at the next idle look."""
        self.in_flight.pop(delivery_id, None)
        self.rt.wake_timers.set()

    def _round(self, step) -> bool:
        """One batch of `step` and the events it raised, committed together; -> whether more is due."""
        outbox = Outbox(self.rt)
        with self.rt.store.tx():
            more = step(self.rt, outbox)
            outbox.flush()
        return more

    async def _loop(self) -> None:
        while True:
            self.rt.wake_timers.clear()  # before the pass: a wake-up during it makes the wait return at once
            try:
                await self.run_due()
            except Exception:  # the loop must outlive any one bad row
                log.exception("timer loop error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.rt.wake_timers.wait(), timeout=IDLE_SECONDS)
