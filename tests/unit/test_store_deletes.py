"""Deleting records must not cost disk space in proportion to what is deleted: on a full disk, freeing
records (a reset, a clear) has only the reserve to write with."""

from __future__ import annotations

import os

from tests.unit.stores import store_with_two_apps


def test_wiping_a_store_writes_a_small_part_of_what_it_deletes_to_the_wal(tmp_path):
    path = str(tmp_path / "wipe.db")
    store = store_with_two_apps(path)
    with store.tx():
        store.conn.executemany(
            "INSERT INTO webhook_events (delivery_id, app_token, type, body, push_id, ts)"
            " VALUES (1, 'ta', 'user', ?, NULL, 0)",
            [("x" * 3000,) for _ in range(700)],
        )
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    records = os.path.getsize(path)
    assert records > 2_000_000 and os.path.getsize(path + "-wal") == 0
    store.wipe()
    # With every freed page zeroed (SQLite's SECURE_DELETE, Debian's default) the WAL took ~records.
    assert os.path.getsize(path + "-wal") < records // 10
    assert store.one("SELECT COUNT(*) FROM webhook_events")[0] == 0
    store.close()
