"""Freeing records on a full disk folds the WAL in even while the checkpointer thread is copying: SQLite
refuses a second checkpoint at once then, with no busy handler, and a WAL left uncut is the room the
next write lacks (a pushtest refused right after DELETE /_mock/pushes, seen under load)."""

from __future__ import annotations

import os
import sqlite3

from mesibo_mock.store import db
from tests.unit.stores import store_with_two_apps


class CheckpointerBusyAtFirst:
    """The store's connection, but its first `refusals` TRUNCATE checkpoints answer busy, as when the
    checkpointer thread holds the checkpoint lock."""

    def __init__(self, conn, refusals: int) -> None:
        self._conn = conn
        self.refusals = refusals

    def execute(self, sql: str, *args):
        if sql == "PRAGMA wal_checkpoint(TRUNCATE)" and self.refusals:
            self.refusals -= 1
            return self._conn.execute("SELECT 1, -1, -1")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def test_a_fold_refused_while_the_checkpointer_copies_is_tried_again_and_the_reserve_retaken(tmp_path):
    store = store_with_two_apps(str(tmp_path / "fold.db"))
    try:
        with store.tx():
            for i in range(200):
                store.insert(
                    "otps",
                    {
                        "app_id": 1,
                        "address": f"a{i}",
                        "code": "x" * 500,
                        "tries": 3,
                        "expires": 0,
                        "created": 0,
                    },
                )
        os.truncate(store.reserve.path, 0)  # given up when the disk filled
        store.conn = CheckpointerBusyAtFirst(store.conn, refusals=3)

        def delete_otps() -> int:
            with store.tx():
                return store.conn.execute("DELETE FROM otps").rowcount

        deleted = store.freeing(delete_otps)
        assert deleted == 200
        assert store.conn.refusals == 0  # every refusal was met, and a later try folded it
        assert os.path.getsize(store.path + "-wal") == 0
        assert store.reserve.whole()
    finally:
        store.conn = getattr(store.conn, "_conn", store.conn)
        store.close()


class NoRoomWhileTheReserveIsHeld:
    """The store's connection, but a TRUNCATE checkpoint fails as on a full disk while the reserve
    file holds room: the WAL has pages the database file must grow for, and no byte is free."""

    def __init__(self, conn, reserve_path: str) -> None:
        self._conn = conn
        self.reserve_path = reserve_path
        self.refused = 0

    def execute(self, sql: str, *args):
        if sql == "PRAGMA wal_checkpoint(TRUNCATE)" and os.path.exists(self.reserve_path):
            self.refused += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def test_a_fold_that_needs_the_reserves_room_gives_it_up_and_folds(tmp_path, monkeypatch):
    """Records freed on a full disk where the checkpoints fell behind the writes that filled it: the
    delete itself fits, but the WAL cannot be folded in until the reserve gives its room up, and
    without the fold the next write finds no room (a pushtest refused right after DELETE
    /_mock/pushes, one CI run in four)."""
    store = store_with_two_apps(str(tmp_path / "behind.db"))
    try:
        os.truncate(store.reserve.path, store.reserve.RESERVE_BYTES // 2)  # taken again at the open, in part
        store.conn = NoRoomWhileTheReserveIsHeld(store.conn, store.reserve.path)
        monkeypatch.setattr(
            db, "_out_of_room", lambda _path: not store.conn.refused or os.path.exists(store.reserve.path)
        )

        def delete_otps() -> int:
            with store.tx():
                return store.conn.execute("DELETE FROM otps").rowcount

        store.freeing(delete_otps)
        assert store.conn.refused >= 1  # tried with the reserve held, and refused
        assert os.path.getsize(store.path + "-wal") == 0  # then folded, with its room
        assert store.reserve.whole()  # and taken again, from what the fold freed
    finally:
        store.conn = getattr(store.conn, "_conn", store.conn)
        store.close()


def test_none_and_flags_are_stored_as_sqlite_would_store_them_and_read_back_alike():
    """The store's adapters for None and bool (store.db._bind_plainly) only skip the adapter search:
    NULL stays NULL, True and False stay 1 and 0, in the store's own connection and any other."""
    import sqlite3

    from mesibo_mock.store import db  # noqa: F401  (registers them)

    assert sqlite3.adapters[(bool, sqlite3.PrepareProtocol)] is int
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b, c)")
    conn.execute("INSERT INTO t VALUES (?, ?, ?)", (None, True, False))
    assert conn.execute("SELECT a, b, c, typeof(a), typeof(b) FROM t").fetchone() == (
        None,
        1,
        0,
        "null",
        "integer",
    )
