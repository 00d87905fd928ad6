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
BATCH = 1000  # rows per transaction: a large one would stall requests and swell the WAL
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
        # (table, app) -> the newest id when nothing was left to prune: unchanged, nothing to look at
        # (finding the cutoff walks `keep` index entries; this is one lookup)
        self._settled: dict[tuple, object] = {}
        self._seen: dict[str, int] = {}  # table -> its largest id when its owners were last collected
        self._unsettled: dict[str, dict] = {}  # table -> owners that may have more to prune (ordered set)

    def due(self) -> bool:
        return (self.keep > 0 or self.journal_bytes > 0) and time.monotonic() >= self._next

    def prune_batch(self) -> int:
        """Delete up to BATCH rows that are past what is kept, from one table; -> how many. Called
        again at once while there is more to do, every PRUNE_EVERY_SECONDS otherwise."""
        deleted = self._first_batch()
        # more may be left: come back on the next turn of the loop
        self._next = 0.0 if deleted else time.monotonic() + PRUNE_EVERY_SECONDS
        return deleted

    def _first_batch(self) -> int:
        for kept in KEPT:
            pending = self._unsettled.setdefault(kept.table, {})
            for owner in self._owners(kept):
                pending[owner] = True
            for owner in list(pending):
                deleted = (
                    self._prune_messages_of(owner) if kept.table == "messages" else self._prune(kept, owner)
                )
                if deleted:
                    return deleted
                del pending[owner]  # nothing more to prune for it until its rows grow again
        return self._prune_testpushes()

    def _owners(self, kept: Kept) -> list:
        """The owners whose rows grew since the last look (ids only grow: a new row has a larger one).
        The first look, after a start, takes every owner there is, apps deleted since included."""
        top = self.store.one(f"SELECT MAX(id) FROM {kept.table}")[0] or 0
        seen = self._seen.get(kept.table, 0)
        if top <= seen:
            return []
        self._seen[kept.table] = top
        query = f"SELECT DISTINCT {kept.owner} FROM {kept.table} WHERE id > ?"
        return [row[0] for row in self.store.all(query, (seen,))]

    def _prune(self, kept: Kept, owner) -> int:
        table, column = kept.table, kept.owner
        newest = self.store.one(f"SELECT MAX(id) FROM {table} WHERE {column} IS ?", (owner,))[0]
        if self._settled.get((table, owner)) == newest:
            return 0
        cutoff = None
        if self.keep > 0:
            cutoff = self.store.one(
                f"SELECT id FROM {table} WHERE {column} IS ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                (owner, self.keep),
            )
        if table == "journal" and self.journal_bytes > 0:
            by_bytes = self._journal_bytes_cutoff(owner)
            if by_bytes is not None and (cutoff is None or by_bytes["id"] > cutoff["id"]):
                cutoff = by_bytes
        deleted = 0
        if cutoff is not None:
            with self.store.tx():
                deleted = self.store.run(
                    f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} IS ? AND id <= ?"
                    " ORDER BY id LIMIT ?)",
                    (owner, cutoff["id"], BATCH),
                ).rowcount
        if not deleted:
            self._settled[(table, owner)] = newest
        return deleted

    def _journal_bytes_cutoff(self, owner):
        """The newest entry of the app past its byte bound (newest entries first); None within it."""
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
                    (token, cutoff, BATCH),
                ).rowcount
                if not deleted:
                    deleted = store.run(
                        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE app_token = ?"
                        " AND id <= ? AND NOT pending ORDER BY id LIMIT ?)",
                        (token, cutoff, BATCH),
                    ).rowcount
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
                (since, BATCH),
            ).rowcount
