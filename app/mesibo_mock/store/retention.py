"""Retention: a development stack that runs for weeks must not fill its disk.

Every few seconds the scheduler keeps the newest MESIBO_MOCK_RETENTION push records, messages and
webhook attempts of each app (0 keeps everything), deleting the rest in bounded batches so that
requests get through in between. The WAL file is kept small by `journal_size_limit` (see store.py).
"""

from __future__ import annotations

import time

from mesibo_mock.store.db import Store

PRUNE_EVERY_SECONDS = 2.0
BATCH = 5000
HISTORY_EVERY = 30
TABLES = ("pushes", "messages", "webhook_attempts")  # each has app_token and an (app_token, id) index


class Retention:
    def __init__(self, store: Store, keep: int) -> None:
        self.store = store
        self.keep = keep
        self._next = 0.0
        self._rounds = 0

    def due(self) -> bool:
        return self.keep > 0 and time.monotonic() >= self._next

    def prune_batch(self) -> int:
        """Delete up to BATCH rows past the newest `keep` of one app in one table; -> how many."""
        self._next = time.monotonic() + PRUNE_EVERY_SECONDS
        store = self.store
        self._rounds += 1
        for table in TABLES:
            # the apps there are; now and then also the records left by apps deleted since
            tokens = [r["token"] for r in store.all("SELECT token FROM apps")]
            if self._rounds % HISTORY_EVERY == 0:
                tokens += [r["app_token"] for r in store.all(f"SELECT DISTINCT app_token FROM {table}")]
            for token in dict.fromkeys(tokens):
                cutoff = store.one(
                    f"SELECT id FROM {table} WHERE app_token = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (token, self.keep),
                )
                if cutoff is None:
                    continue
                with store.tx():
                    deleted = store.run(
                        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE app_token = ? AND id <= ?"
                        " ORDER BY id LIMIT ?)",
                        (token, cutoff["id"], BATCH),
                    ).rowcount
                if deleted:
                    self._next = 0.0  # more may be left: come back on the next turn of the loop
                    return deleted
        return 0
