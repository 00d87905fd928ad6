"""Units of work under group commit: each is all or nothing, and one undone never undoes another that
shares its transaction."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from mesibo_mock.store.db import Store
from tests.unit.stores import store_with_two_apps


class Refused(Exception):
    pass


def otps(store: Store) -> list[str]:
    return [row[0] for row in store.all("SELECT code FROM otps ORDER BY id")]


def add_otp(store: Store, code: str, fail: bool = False) -> None:
    with store.tx():
        store.insert(
            "otps", {"app_id": 1, "address": "a", "code": code, "tries": 3, "expires": 0, "created": 0}
        )
        if fail:
            raise Refused(code)


@pytest.fixture
def store(tmp_path):
    store = store_with_two_apps(str(tmp_path / "units.db"))
    yield store
    store.close()


def test_a_unit_that_begins_the_transaction_and_fails_leaves_nothing(store):
    with pytest.raises(Refused):
        add_otp(store, "first", fail=True)
    assert otps(store) == [] and not store.conn.in_transaction
    add_otp(store, "after")
    assert otps(store) == ["after"]


def test_under_group_commit_a_failed_unit_undoes_only_itself(store):
    async def requests() -> None:
        with store.deferred():
            add_otp(store, "kept-1")  # begins the shared transaction
            with pytest.raises(Refused):
                add_otp(store, "undone", fail=True)  # a later unit: its savepoint only
            add_otp(store, "kept-2")
            assert store.conn.in_transaction  # nothing committed yet: one COMMIT for all
            await store.flush()

    asyncio.run(requests())
    assert otps(store) == ["kept-1", "kept-2"]


def test_under_group_commit_a_failed_first_unit_undoes_only_itself(store):
    async def requests() -> None:
        with store.deferred():
            with pytest.raises(Refused):
                add_otp(store, "undone", fail=True)
            add_otp(store, "kept")
            await store.flush()

    asyncio.run(requests())
    assert otps(store) == ["kept"]


def _open_files_of(path: str) -> list[str]:
    import os

    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(path):
            found.append(target)
    return found


def test_a_closed_store_leaves_no_file_open_though_its_cursor_wrote_last(tmp_path):
    """None of the database's files stays open once the store is closed, after writes through the
    store's kept cursor (both INSERT forms of push records, and a statement that failed). Where SQLite
    leaves a statement held (a write failing on a full disk), the cursor kept the connection open past
    close() until collected: tests/e2e/test_hardening.py's reopen on a full disk caught that."""
    from mesibo_mock.services import records
    from tests.unit.stores import store_with_two_apps

    path = str(tmp_path / "closed.db")
    store = store_with_two_apps(path)
    record = {
        "ts": 1.0,
        "app_token": "ta",
        "app_name": "a",
        "address": "ann",
        "device_id": 1,
        "push_token": "t",
        "platform": "android",
        "service": "fcm",
        "push_type": "alert",
        "kind": "test",
        "status": "sent",
        "reason": None,
        "debug": 0,
        "request": "{}",
        "response": None,
        "acked": 0,
        "fallback_due": None,
        "mid": None,
        "follows": None,
        "injected": 0,
    }
    with store.tx():
        first = records.insert_pushes(store.statements, "ta", [record] * 2)  # one statement
        many = records.insert_pushes(store.statements, "ta", [record] * (records.SMALL_ROUND + 1))
    assert many == first + 2
    with pytest.raises(sqlite3.IntegrityError), store.tx():  # the cursor's last statement failed
        store.statements.execute("INSERT INTO apps (id, name, token, created) VALUES (1, 'x', 'ta', 0)")
    assert _open_files_of(path)  # open while the store is
    store.close()
    assert _open_files_of(path) == []
