"""Everything one running emulator holds: settings, clock, store, seed and the wake-up signals."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from mesibo_mock.clock import Clock
from mesibo_mock.server.settings import Settings
from mesibo_mock.store.db import Store

log = logging.getLogger("mesibo_mock")


@dataclass
class Runtime:
    settings: Settings
    store: Store
    clock: Clock = field(default_factory=Clock)
    seed: object | None = None  # seed.Seed
    default_token: str | None = None
    timers: object | None = None  # scheduler.Timers, set by the app factory
    _push_event: asyncio.Event = field(default_factory=asyncio.Event)
    wake_timers: asyncio.Event = field(default_factory=asyncio.Event)
    # Credential parsers running at once (each a child process of ~25 MB); other uploads queue.
    parser_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # set at SIGTERM: long-polls end

    loop: asyncio.AbstractEventLoop | None = None  # the server's, set when it starts

    def loop_call(self, fn) -> None:
        """Run `fn` on the server's event loop, from any thread."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn)

    @property
    def cloud(self) -> bool:
        return self.settings.mode == "cloud"

    def pushes_changed(self) -> None:
        """Wake long-polls waiting for a push record."""
        event, self._push_event = self._push_event, asyncio.Event()
        event.set()

    def push_signal(self) -> asyncio.Event:
        return self._push_event
