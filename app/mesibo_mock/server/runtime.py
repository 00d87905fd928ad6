"""Everything one running emulator holds: settings, clock, store, seed and the wake-up signals."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from mesibo_mock.clock import Clock
from mesibo_mock.server.settings import Settings
from mesibo_mock.server.waiters import Waiters
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
    waiters: Waiters = field(default_factory=Waiters)  # long-polls, woken by the records they wait for
    wake_timers: asyncio.Event = field(default_factory=asyncio.Event)
    # Credential parsers running at once (each a child process of ~25 MB); other uploads queue.
    parser_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    big_bodies: int = 0  # large backend bodies (uploads) being read or parsed now; see backend/http.py

    loop: asyncio.AbstractEventLoop | None = None  # the server's, set when it starts
    _backend_faults: bool | None = None  # whether any backend fault is set; None: not known
    generation: int = 0  # grows with each reset: work begun before one does not write after it
    _app_tokens: set[str] | None = None  # every app's token, for redaction; None: not read yet
    sources: dict[int, set[str]] = field(default_factory=dict)  # app id -> source addresses (TOKENBREACH)
    written: int = 0  # records written since retention was last nudged
    retention_nudge: int = 100  # records written between two looks of retention (set from the limit)
    retention_owed: bool = False
    _looked_this_turn: bool = False  # another process's writes were looked for in this turn of the loop

    def loop_call(self, fn) -> None:
        """Run `fn` on the server's event loop, from any thread."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn)

    @property
    def cloud(self) -> bool:
        return self.settings.mode == "cloud"

    def records_changed(self, kind: str, records=None) -> None:
        """New records of `kind` (pushes, messages, events, deliveries, requests): wake the long-polls
        they could match; None wakes every long-poll of the kind (a reset, a clear). Every so many
        records, retention is owed a look: it keeps pace with a flood, not with a timer."""
        self.waiters.changed(kind, records)
        if records is not None:
            self.written += len(records)
            if self.written >= self.retention_nudge:
                self.written = 0
                self.retention_owed = True
                self.wake_timers.set()

    def see_other_writers(self) -> None:
        """Two servers on one store answer from the store as it is (SPEC section 1): when another
        process has committed since this one last looked, nothing remembered from the store is kept.
        Asked at every request and every scheduler pass, and looked once per turn of the event loop:
        every request a turn runs arrived before it began, so after any commit its client saw."""
        if self._looked_this_turn:
            return
        if self.loop is not None:
            self._looked_this_turn = True
            self.loop.call_soon(self._next_turn)
        if self.store.others_wrote():
            self.store.forget()
            self._app_tokens = None
            self._backend_faults = None
            self.sources.clear()

    def _next_turn(self) -> None:
        self._looked_this_turn = False

    def backend_faults_changed(self) -> None:
        self._backend_faults = None

    def app_tokens_changed(self, added: str | None = None, removed: str | None = None) -> None:
        """An app was made or deleted (both None: anything may have changed, as after a reset)."""
        if self._app_tokens is None:
            return
        if added is None and removed is None:
            self._app_tokens = None
        elif added is not None:
            self._app_tokens.add(added)
        elif removed != self.settings.admin_token:
            self._app_tokens.discard(removed)

    def stop(self) -> None:
        """SIGTERM: pending long-polls answer at once, so the exit is quick."""
        self.waiters.stop()
