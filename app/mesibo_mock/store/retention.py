"""Retention: a development stack that runs for weeks, or a test that floods it, must not fill its disk.

Every table that grows with traffic keeps the newest MESIBO_MOCK_RETENTION rows of each app (0 keeps
everything): push records, messages (with their recipients), webhook deliveries, events and attempts,
the request journal (calls that named no app count as one app of their own) and one-time codes.
Test-push counts are kept only as long as the limit's window looks back. The journal is bounded in
bytes too (MESIBO_MOCK_JOURNAL_BYTES per app): a flood of large calls cannot fill the disk within its
row count. The rest is deleted in bounded batches between requests, as often as there is more to
delete, so that pruning keeps pace with the fastest writer. The WAL file is kept near its limit by the
Checkpointer (db.py).

Only the apps whose rows grew since the last look are looked at (every one, the first time after a
start): an idle server with 100,000 apps does a handful of queries a round.

A message is kept whole or not at all: its recipients go with it, and a message still being
delivered (a scheduled one, or a group's later batches) is never pruned. Besides the newest
MESIBO_MOCK_RETENTION messages, an app keeps at most RECIPIENT_BUDGET times as many recipient rows;
older messages beyond that go too (the newest one always stays, however large its group).
"""

from __future__ import annotations

import time
from typing import NamedTuple

from mesibo_mock.store.db import Store

PRUNE_EVERY_SECONDS = 2.0
BATCH = 1000  # rows per transaction at most: a large one would stall requests and swell the WAL
MIN_BATCH = 50
# A batch runs between two requests: it is sized so that it takes about this long, whatever the rows
# cost (a push record with its five indexes costs far more than a one-time code), so that a backlog of
# a million rows never holds a request for longer.
BATCH_SECONDS = 0.02
RECIPIENT_BUDGET = 10


class Kept(NamedTuple):
    table: str
    owner: str  # the column naming the app: its token, or its number (null: no app was named)


# Each has an index on (owner, id). Messages first: they go with their recipients, by their own rule.
KEPT = (
    Kept("messages", "app_token"),
    Kept("pushes", "app_token"),
    Kept("webhook_deliveries", "app_token"),
    Kept("webhook_events", "app_token"),
    Kept("webhook_attempts", "app_token"),
    Kept("journal", "app_id"),
    Kept("otps", "app_id"),
)


class Retention:
    def __init__(
        self, store: Store, keep: int, testpush_window: float = 3600.0, clock=None, journal_bytes: int = 0
    ) -> None:
        self.store = store
        self.keep = keep
        self.journal_bytes = journal_bytes  # 0: no bound by bytes
        self.testpush_window = testpush_window
        self.clock = clock
        self._next = 0.0
        self.batch = BATCH  # rows per delete now: halved while a batch takes too long, grown back after
        # (table, app) -> the newest id when nothing was left to prune: unchanged, nothing to look at
        # (finding the cutoff walks `keep` index entries; this is one lookup)
        self._settled: dict[tuple, object] = {}
        self._seen: dict[str, int] = {}  # table -> its largest id when its owners were last collected
        # (table, app) -> how many rows it holds: counted once, then kept by what is added and deleted,
        # so that an app within its bound costs one dictionary lookup, not a walk of `keep` entries
        self._counts: dict[tuple, int] = {}
        self._unsettled: dict[str, dict] = {}  # table -> owners that may have more to prune (ordered set)
        self._journal_sizes: dict[object, tuple[int, int]] = {}  # app -> (newest id summed, bytes so far)
        # (table, app) -> the newest id past what is kept, found once (a walk of `keep` index entries) and
        # deleted up to batch after batch: rows added meanwhile only put more rows past it
        self._cutoffs: dict[tuple, int] = {}
        self._cleared = store.cleared

    def _forget(self) -> None:
        """After a mass deletion nothing counted holds: look at every owner again, as after a start."""
        for known in (
            self._settled,
            self._seen,
            self._counts,
            self._unsettled,
            self._journal_sizes,
            self._cutoffs,
        ):
            known.clear()
        self._cleared = self.store.cleared

    def due(self) -> bool:
        return (self.keep > 0 or self.journal_bytes > 0) and time.monotonic() >= self._next

    def prune_batch(self) -> int:
        """Delete up to `batch` rows that are past what is kept, from one table; -> how many. Called
        again at once while there is more to do, every PRUNE_EVERY_SECONDS otherwise."""
        started = time.perf_counter()
        deleted = self._first_batch()
        took = time.perf_counter() - started
        if deleted >= self.batch and took > BATCH_SECONDS:
            self.batch = max(MIN_BATCH, self.batch // 2)
        elif deleted >= self.batch and took < BATCH_SECONDS / 3:
            self.batch = min(BATCH, self.batch * 2)
        # more may be left: come back on the next turn of the loop
        self._next = 0.0 if deleted else time.monotonic() + PRUNE_EVERY_SECONDS
        return deleted

    def _first_batch(self) -> int:
        if self.store.cleared != self._cleared:
            self._forget()
        for kept in KEPT:
            pending = self._unsettled.setdefault(kept.table, {})
            for owner, added in self._owners(kept).items():
                key = (kept.table, owner)
                if key in self._counts:
                    self._counts[key] += added
                pending[owner] = True
            for owner in list(pending):
                deleted = (
                    self._prune_messages_of(owner) if kept.table == "messages" else self._prune(kept, owner)
                )
                if deleted:
                    return deleted
                del pending[owner]  # nothing more to prune for it until its rows grow again
        return self._prune_testpushes()

    def _owners(self, kept: Kept) -> dict:
        """The owners whose rows grew since the last look, each with how many rows it gained (ids only
        grow: a new row has a larger one). The first look, after a start, takes every owner there is,
        apps deleted since included."""
        top = self.store.one(f"SELECT MAX(id) FROM {kept.table}")[0] or 0
        seen = self._seen.get(kept.table, 0)
        if top < seen:  # emptied meanwhile by other means: its ids may start again from 1
            seen = 0
            self._counts = {k: v for k, v in self._counts.items() if k[0] != kept.table}
            self._settled = {k: v for k, v in self._settled.items() if k[0] != kept.table}
            self._cutoffs = {k: v for k, v in self._cutoffs.items() if k[0] != kept.table}
        if top <= seen:
            self._seen[kept.table] = top
            return {}
        self._seen[kept.table] = top
        query = (
            f"SELECT {kept.owner}, COUNT(*) FROM {kept.table} WHERE id > ? AND id <= ? GROUP BY {kept.owner}"
        )
        return {row[0]: row[1] for row in self.store.all(query, (seen, top))}

    def _count(self, kept: Kept, owner) -> int:
        key = (kept.table, owner)
        if key not in self._counts:
            self._counts[key] = self.store.one(
                f"SELECT COUNT(*) FROM {kept.table} WHERE {kept.owner} IS ? AND id <= ?",
                (owner, self._seen.get(kept.table, 0)),
            )[0]
        return self._counts[key]

    def _prune(self, kept: Kept, owner) -> int:
        table, column = kept.table, kept.owner
        over_count = self.keep > 0 and self._count(kept, owner) > self.keep
        if not over_count and not (table == "journal" and self.journal_bytes > 0):
            return 0  # within its bound: nothing to look up
        newest = self.store.one(f"SELECT MAX(id) FROM {table} WHERE {column} IS ?", (owner,))[0]
        if self._settled.get((table, owner)) == newest:
            return 0
        key = (table, owner)
        cutoff = self._cutoffs.get(key)
        if over_count and cutoff is None:
            # The newest row past what is kept, found from the oldest end: the count is exact (kept by
            # what was added and deleted, counted again after anything else), so the walk is only as
            # long as the excess, not the `keep` entries a walk from the newest end would be.
            row = self.store.one(
                f"SELECT id FROM {table} WHERE {column} IS ? ORDER BY id LIMIT 1 OFFSET ?",
                (owner, self._count(kept, owner) - self.keep - 1),
            )
            if row is None:  # rows went some other way (a clear, an app deleted): count again
                self._counts.pop(key, None)
            else:
                cutoff = self._cutoffs[key] = row["id"]
        if table == "journal" and self.journal_bytes > 0:
            by_bytes = self._journal_bytes_cutoff(owner)
            if by_bytes is not None and (cutoff is None or by_bytes["id"] > cutoff):
                cutoff = by_bytes["id"]
        deleted = 0
        if cutoff is not None:
            with self.store.tx():
                deleted = self.store.run(
                    f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} IS ? AND id <= ?"
                    " ORDER BY id LIMIT ?)",
                    (owner, cutoff, self.batch),
                ).rowcount
            if key in self._counts:
                self._counts[key] -= deleted
            if deleted < self.batch:  # all up to it gone: the next look finds the cutoff afresh
                self._cutoffs.pop(key, None)
        if not deleted:
            self._settled[(table, owner)] = newest
        return deleted

    def _journal_bytes_cutoff(self, owner):
        """The newest entry of the app past its byte bound (newest entries first); None within it. The
        app's bytes are kept as a running sum of the entries added since (an index range), and summed
        whole again only once past the bound, when entries are about to go."""
        last, total = self._journal_sizes.get(owner, (0, 0))
        added = self.store.one(
            "SELECT COALESCE(SUM(size), 0), MAX(id) FROM journal WHERE app_id IS ? AND id > ?", (owner, last)
        )
        total, last = total + added[0], added[1] or last
        self._journal_sizes[owner] = (last, total)
        if total <= self.journal_bytes:
            return None
        self._journal_sizes.pop(owner)  # summed whole next time, after this pruning
        return self.store.one(
            "SELECT id FROM (SELECT id, SUM(size) OVER (ORDER BY id DESC) AS total FROM journal"
            " WHERE app_id IS ?) WHERE total > ? ORDER BY id DESC LIMIT 1",
            (owner, self.journal_bytes),
        )

    def _prune_messages_of(self, token: str) -> int:
        """Recipients first, then their messages, so that no kept message loses a recipient row."""
        if self.keep <= 0:
            return 0
        store = self.store
        newest = (
            store.one("SELECT MAX(id) FROM messages WHERE app_token = ?", (token,))[0],
            store.one("SELECT MAX(id) FROM message_recipients WHERE app_token = ?", (token,))[0],
            store.one("SELECT COUNT(*) FROM messages WHERE pending")[0],
        )
        if self._settled.get(("messages", token)) == newest:
            return 0
        cutoff = self._cutoffs.get(("messages", token))
        if cutoff is None:
            by_count = store.one(
                "SELECT id FROM messages WHERE app_token = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                (token, self.keep),
            )
            by_recipients = store.one(
                "SELECT mid FROM message_recipients WHERE app_token = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                (token, self.keep * RECIPIENT_BUDGET),
            )
            # the message that straddles the recipient budget stays whole: only those before it go
            cutoff = max(by_count["id"] if by_count else 0, by_recipients["mid"] - 1 if by_recipients else 0)
        deleted = 0
        if cutoff > 0:
            owed = "SELECT id FROM messages WHERE pending"  # still being delivered: kept whatever its age
            with store.tx():
                deleted = store.run(
                    "DELETE FROM message_recipients WHERE id IN (SELECT id FROM message_recipients"
                    f" WHERE app_token = ? AND mid <= ? AND mid NOT IN ({owed}) ORDER BY id LIMIT ?)",
                    (token, cutoff, self.batch),
                ).rowcount
                if not deleted:
                    deleted = store.run(
                        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE app_token = ?"
                        " AND id <= ? AND NOT pending ORDER BY id LIMIT ?)",
                        (token, cutoff, self.batch),
                    ).rowcount
                if not deleted:  # their counts last: a kept message never loses them
                    deleted = store.run(
                        "DELETE FROM message_tallies WHERE rowid IN (SELECT rowid FROM message_tallies"
                        f" WHERE app_token = ? AND mid <= ? AND mid NOT IN ({owed}) LIMIT ?)",
                        (token, cutoff, self.batch),
                    ).rowcount
        if deleted >= self.batch:
            self._cutoffs[("messages", token)] = cutoff  # more to delete up to it: found once
        else:
            self._cutoffs.pop(("messages", token), None)
        if not deleted:
            self._settled[("messages", token)] = newest
        return deleted

    def _prune_testpushes(self) -> int:
        """A test push counts against the limit for one window; after that it is only history."""
        if self.clock is None:
            return 0
        since = self.clock.now() - self.testpush_window
        with self.store.tx():
            return self.store.run(
                "DELETE FROM testpushes WHERE id IN (SELECT id FROM testpushes WHERE ts < ? LIMIT ?)",
                (since, self.batch),
            ).rowcount
