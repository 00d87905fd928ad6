"""Long-polls that cost nothing while they wait.

A waiter registers the kind of record it waits for and the equality filters of its query. A new
record wakes only the waiters whose filters it meets, and each waiter then runs its query once; an
idle waiter has no timer of its own besides its deadline, and learns that its client has gone from
the server itself (an ASGI `http.disconnect`), not by asking every second.

Waiters are filed under one of their filters (field, value), so a new record looks only at the
waiters filed under one of its own values, and at those with no filter: a thousand long-polls for
a thousand other addresses cost a new record a few dictionary lookups, not a thousand comparisons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Key = tuple[str, Any] | None  # the filter a waiter is filed under; None: it has none


class Waiter:
    __slots__ = ("filters", "future", "key", "needed")

    def __init__(self, filters: tuple[tuple[str, Any], ...], future: asyncio.Future, needed: int = 1) -> None:
        self.filters = filters
        self.future = future
        self.key: Key = filters[0] if filters else None
        self.needed = needed  # matching records still to come before the query is worth running again

    def matches(self, record: dict) -> bool:
        return all(record.get(key) == value for key, value in self.filters)

    def hit(self) -> None:
        """A matching record came: wake once enough have."""
        self.needed -= 1
        if self.needed <= 0:
            self.wake()

    def wake(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class Waiters:
    def __init__(self) -> None:
        self._by_kind: dict[str, dict[Key, set[Waiter]]] = {}
        self.stopping = False

    def __len__(self) -> int:
        return sum(len(filed) for by_key in self._by_kind.values() for filed in by_key.values())

    def _add(self, kind: str, waiter: Waiter) -> None:
        self._by_kind.setdefault(kind, {}).setdefault(waiter.key, set()).add(waiter)

    def _remove(self, kind: str, waiter: Waiter) -> None:
        by_key = self._by_kind.get(kind, {})
        filed = by_key.get(waiter.key)
        if filed is not None:
            filed.discard(waiter)
            if not filed:
                del by_key[waiter.key]

    def changed(self, kind: str, records: Iterable[dict] | None = None) -> None:
        """New records of `kind` (None: anything may have changed, as after a reset): wake the waiters
        they could match."""
        by_key = self._by_kind.get(kind)
        if not by_key:
            return
        if records is None:
            for filed in list(by_key.values()):
                for waiter in list(filed):
                    waiter.wake()
            return
        for record in records:
            candidates = [by_key.get(None, ())]
            for item in record.items():
                try:
                    filed = by_key.get(item)
                except TypeError:  # an unhashable value: no waiter can be filed under it
                    continue
                if filed:
                    candidates.append(filed)
            for filed in candidates:
                for waiter in list(filed):
                    if waiter.matches(record):
                        waiter.hit()

    def stop(self) -> None:
        """The server is stopping: every long-poll answers now."""
        self.stopping = True
        for by_key in self._by_kind.values():
            for filed in list(by_key.values()):
                for waiter in list(filed):
                    waiter.wake()

    async def poll(
        self,
        kind: str,
        filters: dict[str, Any],
        query: Callable[[], list],
        wait: float,
        disconnected: Callable[[], Awaitable[None]] | None = None,
        count: int = 1,
    ) -> list:
        """Run `query` now, and again once as many matching records have come as it still lacks, until
        it finds `count`, `wait` seconds pass, the client goes or the server stops. A new record that
        leaves the count short costs a decrement, not a query: waiting for many costs no more than
        waiting for one."""
        found = query()
        if len(found) >= count or wait <= 0 or self.stopping:
            return found
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        conditions = tuple((k, v) for k, v in filters.items() if v is not None)
        gone = asyncio.ensure_future(disconnected()) if disconnected is not None else None
        try:
            while True:
                waiter = Waiter(conditions, loop.create_future(), count - len(found))
                self._add(kind, waiter)
                timer = loop.call_at(deadline, waiter.wake)
                if gone is not None:
                    gone.add_done_callback(lambda _t, w=waiter: w.wake())
                try:
                    await waiter.future
                finally:
                    timer.cancel()
                    self._remove(kind, waiter)
                if gone is not None and gone.done():
                    return found
                found = query()
                if len(found) >= count or self.stopping or loop.time() >= deadline:
                    return found
        finally:
            if gone is not None:
                gone.cancel()
