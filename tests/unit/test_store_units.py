"""Units of work under group commit: each is all or nothing, and one undone never undoes another that
shares its transaction."""

from __future__ import annotations

import asyncio

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
