"""The credentials in use are memoized per app on the hot path, a user's devices per address; every
change to the tables a memo reads, and every undone transaction, must make the next read see the store
again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mesibo_mock.services.apps import OPTION_DEFAULTS
from mesibo_mock.services.credentials import InUse
from mesibo_mock.services.people import devices_of_user
from mesibo_mock.store.db import Store
from tests.unit.stores import store_with_two_apps


@pytest.fixture
def rt(tmp_path):
    store = store_with_two_apps(str(tmp_path / "m.db"))
    yield SimpleNamespace(store=store)
    store.close()


def add_fcm(store: Store, app_id: int, project: str) -> None:
    store.insert(
        "credentials",
        {
            "app_id": app_id,
            "platform": "fcm",
            "bundle": "",
            "source": "api",
            "project_id": project,
            "client_email": f"push@{project}.iam.gserviceaccount.com",
            "sandbox": False,
            "production": True,
            "topics": "[]",
            "key_fingerprint": "f",
            "uploaded": 0.0,
        },
    )


def add_fault(store: Store) -> None:
    store.insert("faults", {"error": "UNAVAILABLE", "service": "fcm", "created": 0.0})


def project(rt, app_id: int = 1) -> str | None:
    fcm = InUse.memoized(rt, app_id).fcm
    return None if fcm is None else fcm["project_id"]


def test_the_memo_is_kept_while_nothing_changes_and_per_app(rt):
    with rt.store.tx():
        add_fcm(rt.store, 1, "first")
    assert InUse.memoized(rt, 1) is InUse.memoized(rt, 1)
    assert InUse.memoized(rt, 2) is not InUse.memoized(rt, 1)
    assert project(rt, 2) is None
    with rt.store.tx():  # writes to other tables keep it
        rt.store.insert("testpushes", {"app_id": 1, "ts": 1.0})
    assert InUse.memoized(rt, 1) is InUse.memoized(rt, 1)


def test_an_upload_a_replacement_and_a_deletion_are_seen_at_once(rt):
    assert project(rt) is None
    with rt.store.tx():
        add_fcm(rt.store, 1, "first")
    assert project(rt) == "first"
    with rt.store.tx() as conn:
        conn.execute("UPDATE credentials SET project_id = 'second' WHERE app_id = 1")
    assert project(rt) == "second"
    with rt.store.tx() as conn:
        conn.execute("DELETE FROM credentials")
    assert project(rt) is None


def test_arming_consuming_and_clearing_a_fault_are_seen_at_once(rt):
    assert InUse.memoized(rt, 1).faults_armed is False
    with rt.store.tx():
        add_fault(rt.store)
    assert InUse.memoized(rt, 1).faults_armed is True
    with rt.store.tx() as conn:
        conn.execute("DELETE FROM faults")
    assert InUse.memoized(rt, 1).faults_armed is False


def test_a_read_of_rows_later_undone_is_forgotten(rt):
    """Read inside the transaction that wrote the rows, then the transaction fails."""
    with pytest.raises(RuntimeError), rt.store.tx():
        add_fcm(rt.store, 1, "undone")
        add_fault(rt.store)
        assert project(rt) == "undone" and InUse.memoized(rt, 1).faults_armed
        raise RuntimeError("the op fails after reading")
    assert project(rt) is None and InUse.memoized(rt, 1).faults_armed is False


def test_a_reset_forgets(rt):
    with rt.store.tx():
        add_fcm(rt.store, 1, "first")
    assert project(rt) == "first"
    rt.store.wipe()
    assert project(rt) is None


def test_the_watch_is_set_up_again_at_every_open(tmp_path):
    """The triggers that report changes are temporary (this connection's own): a reopened store
    needs them again."""
    path = str(tmp_path / "r.db")
    Store(path).close()
    store = Store(path)
    rt = SimpleNamespace(store=store)
    with store.tx():
        store.insert("apps", {"id": 1, "name": "a", "token": "ta", "created": 0.0, **OPTION_DEFAULTS})
    assert project(rt) is None
    with store.tx():
        add_fcm(store, 1, "after")
    assert project(rt) == "after"
    store.close()


def add_device(store: Store, app_id: int, address: str, token: str) -> int:
    return store.insert(
        "devices",
        {
            "app_id": app_id,
            "user_id": 1,
            "address": address,
            "platform": "android",
            "appid": "com.example",
            "push_token": token,
            "voip": False,
            "sandbox": False,
            "responds": True,
            "created": 0.0,
        },
    )


def tokens_of(rt, address: str = "u1", app_id: int = 1) -> list[str]:
    return [row["push_token"] for row in devices_of_user(rt, app_id, address)]


def test_a_users_devices_are_memoized_until_any_device_changes(rt):
    """A test push reads its user's devices: memoized, and seen again at once after an insert, an
    update (a push's last_sent, an invalidated token) or a deletion, by any path."""
    with rt.store.tx():
        first = add_device(rt.store, 1, "u1", "t1")
    assert devices_of_user(rt, 1, "u1") is devices_of_user(rt, 1, "u1")
    assert tokens_of(rt) == ["t1"] and tokens_of(rt, app_id=2) == []
    with rt.store.tx():
        add_device(rt.store, 1, "u1", "t2")
    assert tokens_of(rt) == ["t1", "t2"]
    with rt.store.tx() as conn:
        conn.execute("UPDATE devices SET push_token = 't1b' WHERE id = ?", (first,))
    assert tokens_of(rt) == ["t1b", "t2"]
    with rt.store.tx() as conn:
        conn.execute("DELETE FROM devices WHERE id = ?", (first,))
    assert tokens_of(rt) == ["t2"]
    with pytest.raises(RuntimeError), rt.store.tx():
        add_device(rt.store, 1, "u1", "undone")
        assert tokens_of(rt) == ["t2", "undone"]
        raise RuntimeError("the op fails after reading")
    assert tokens_of(rt) == ["t2"]
    rt.store.wipe()
    assert tokens_of(rt) == []


def test_a_device_change_keeps_the_apps_memo_and_an_app_change_the_devices_memo(rt):
    """Two groups: a push that writes its device's last_sent (ratelimit on) must not cost every app
    its credentials memo, nor an app's change every user's devices."""
    with rt.store.tx():
        device = add_device(rt.store, 1, "u1", "t1")
    creds, devices = InUse.memoized(rt, 1), devices_of_user(rt, 1, "u1")
    with rt.store.tx() as conn:
        conn.execute("UPDATE devices SET last_sent = 5 WHERE id = ?", (device,))
    assert InUse.memoized(rt, 1) is creds
    assert devices_of_user(rt, 1, "u1") is not devices
    devices = devices_of_user(rt, 1, "u1")
    with rt.store.tx() as conn:
        conn.execute("UPDATE apps SET sound = 1 WHERE id = 1")
    assert devices_of_user(rt, 1, "u1") is devices
    assert InUse.memoized(rt, 1) is not creds


def test_a_memo_group_is_bounded(rt, monkeypatch):
    """One entry per address pushed to: a server that test-pushes to a million users must not keep a
    million lists."""
    monkeypatch.setattr(Store, "MEMO_LIMIT", 3)
    for n in range(10):
        devices_of_user(rt, 1, f"u{n}")
        assert len(rt.store._memos["devices"]) <= 3
    assert tokens_of(rt, "u9") == []
