"""A store made by mesibo-mock 0.1 (schema v1) is upgraded in place when the new server opens it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mesibo_mock.store.db import SCHEMA_VERSION, Store

V1 = Path(__file__).resolve().parent.parent / "data" / "schema_v1.sql"


def make_v1_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1.read_text())
    conn.execute(
        "INSERT INTO apps (id, name, token, background, fallback, ratelimit, collapse, sound, forceprod, iosfcm,"
        " created) VALUES (1, 'default', 'old-token', 1, 1, 1, 0, 0, 0, 0, 0)"
    )
    conn.execute(
        "INSERT INTO users (id, app_id, address, name, access_token, appid, expiry_minutes, created)"
        " VALUES (7, 1, '123', 'Ann', 'tok-ann', 'com.example.app', 60, 1000)"
    )
    conn.execute(
        "INSERT INTO users (id, app_id, address, name, access_token, created) VALUES (8, 1, '456', '', 'x', 1000)"
    )
    conn.execute(
        "INSERT INTO pushes (ts, app_token, app_name, address, device_id, push_token, platform, service,"
        " push_type, kind, status, debug, acked) VALUES (1, 'old-token', 'default', '123', 1, 't', 'android',"
        " 'fcm', 'background', 'test', 'sent', 0, 0)"
    )
    conn.commit()
    conn.close()


def test_a_v1_store_keeps_its_users_tokens_and_pushes(tmp_path):
    db = tmp_path / "old.db"
    make_v1_store(db)
    store = Store(str(db))
    try:
        assert store.one("PRAGMA user_version")[0] == SCHEMA_VERSION
        users = {r["id"]: dict(r) for r in store.all("SELECT * FROM users")}
        assert users[7]["address"] == "123" and users[7]["name"] == "Ann" and users[7]["active"] == 1
        assert set(users) == {7, 8}
        [token] = store.all("SELECT * FROM user_tokens")
        assert (token["user_id"], token["appid"], token["token"]) == (7, "com.example.app", "tok-ann")
        assert token["expires"] == 1000 + 60 * 60
        [push] = store.all("SELECT * FROM pushes")
        assert push["mid"] is None and push["injected"] == 0 and push["follows"] is None
        assert "claimed_until" in {r[1] for r in store.all("PRAGMA table_info(webhook_jobs)")}
    finally:
        store.close()
    again = Store(str(db))  # opening an upgraded store again changes nothing
    try:
        assert len(again.all("SELECT * FROM user_tokens")) == 1
    finally:
        again.close()
