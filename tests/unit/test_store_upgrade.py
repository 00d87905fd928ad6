"""Stores made by older versions (schema v1 of mesibo-mock 0.1, v3 of the previous round) are upgraded
in place when the new server opens them, keeping what users made."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mesibo_mock.store.db import SCHEMA_VERSION, Store

DATA = Path(__file__).resolve().parent.parent / "data"
V1 = DATA / "schema_v1.sql"
V3 = DATA / "schema_v3.sql"


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
        tables = {r[0] for r in store.all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "webhook_jobs" not in tables and {"webhook_deliveries", "webhook_events"} <= tables
    finally:
        store.close()
    again = Store(str(db))  # opening an upgraded store again changes nothing
    try:
        assert len(again.all("SELECT * FROM user_tokens")) == 1
    finally:
        again.close()


def make_v3_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V3.read_text())
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO apps (id, name, token, background, fallback, ratelimit, collapse, sound, forceprod, iosfcm,"
        " webhook_url, created) VALUES (1, 'default', 'tok', 1, 1, 1, 0, 0, 0, 0, 'http://127.0.0.1:9/h', 0)"
    )
    conn.execute(
        "INSERT INTO users (id, app_id, address, name, active, flag, online, created) VALUES (5, 1, 'a', '', 1, 0, 0, 0)"
    )
    conn.execute("INSERT INTO groups (id, app_id, name, flag, active, created) VALUES (3, 1, 'g', 0, 1, 0)")
    conn.execute(
        "INSERT INTO messages (id, ts, app_id, app_token, from_address, to_address, gid, type, message, flag)"
        " VALUES (9, 100, 1, 'tok', 'a', 'b', NULL, 0, 'hi', 0)"
    )
    conn.execute(
        "INSERT INTO messages (id, ts, app_id, app_token, from_address, to_address, gid, type, message, flag, expiry)"
        " VALUES (10, 101, 1, 'tok', 'a', NULL, 3, 0, 'all', 0, 60)"
    )
    conn.execute(
        "INSERT INTO webhook_jobs (app_token, push_id, url, payload, attempts, next_at) VALUES"
        " ('tok', 4, 'http://127.0.0.1:9/h', '{\"events\": []}', 1, 200)"
    )
    conn.execute(
        "INSERT INTO webhook_attempts (app_token, push_id, url, attempt, status_code, duration_ms, ok, ts)"
        " VALUES ('tok', 4, 'http://127.0.0.1:9/h', 1, 500, 3.0, 0, 150)"
    )
    conn.commit()
    conn.close()


def test_a_v3_store_keeps_its_messages_owed_webhooks_and_attempts(tmp_path):
    db = tmp_path / "v3.db"
    make_v3_store(db)
    store = Store(str(db))
    try:
        assert store.one("PRAGMA user_version")[0] == SCHEMA_VERSION
        messages = {r["id"]: dict(r) for r in store.all("SELECT * FROM messages")}
        assert messages[9]["to_list"] == '["b"]' and messages[9]["expiry"] == 31536000
        assert messages[10]["to_list"] is None and messages[10]["gid"] == 3 and messages[10]["expiry"] == 60
        assert not messages[9]["pending"] and messages[9]["skipped"] == "[]"
        [delivery] = store.all("SELECT * FROM webhook_deliveries")
        assert (delivery["seq"], delivery["attempts"], delivery["next_at"], delivery["state"]) == (
            4,
            1,
            200,
            "pending",
        )
        [attempt] = store.all("SELECT * FROM webhook_attempts")
        assert (attempt["status_code"], attempt["delivery_id"]) == (500, 0)
        app = store.one("SELECT * FROM apps")
        assert (app["webhook_events"], app["webhook_seq"]) == ("push,message,user", 0)
        assert store.one("SELECT offline_notified FROM users WHERE id = 5")[0] == 0
        indexes = {r[0] for r in store.all("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"ix_messages_app", "ix_messages_pending", "ix_attempts_delivery"} <= indexes
        assert {"ix_group_members_order", "ix_otps_recent"} <= indexes  # new in v5
        assert not {"ix_pushes_status", "ix_pushes_push_token"} & indexes  # dropped in v5: cost > use
    finally:
        store.close()


V5 = DATA / "schema_v5.sql"  # the previous round's schema (before member rights, group expiry times, UACs)


def test_a_v5_store_gets_group_expiry_times_member_rights_and_the_new_tables(tmp_path):
    db = tmp_path / "v5.db"
    conn = sqlite3.connect(db)
    conn.executescript(V5.read_text() + "PRAGMA user_version = 5;")
    conn.execute(
        "INSERT INTO apps (id, name, token, background, fallback, ratelimit, collapse, sound, forceprod, iosfcm,"
        " created) VALUES (1, 'default', 't5', 1, 1, 1, 0, 0, 0, 0, 0)"
    )
    conn.execute(
        "INSERT INTO users (id, app_id, address, name, active, flag, online, created) VALUES (3, 1, 'a', '', 1, 0, 0, 0)"
    )
    conn.execute(
        "INSERT INTO groups (id, app_id, name, flag, active, expiry, created) VALUES (1, 1, 'old', 0, 1, NULL, 1000)"
    )
    conn.execute(
        "INSERT INTO groups (id, app_id, name, flag, active, expiry, created) VALUES (2, 1, 'short', 0, 1, 60, 1000)"
    )
    conn.execute("INSERT INTO group_members (group_id, user_id, cs, cr, created) VALUES (1, 3, 1, 0, 1000)")
    conn.commit()
    conn.close()
    store = Store(str(db))
    try:
        assert store.one("PRAGMA user_version")[0] == SCHEMA_VERSION
        ets = {r["id"]: r["ets"] for r in store.all("SELECT id, ets FROM groups")}
        assert ets == {1: 1000 + 365 * 24 * 3600, 2: 1060}  # a year from creation, or its expiry
        [member] = store.all("SELECT * FROM group_members")
        assert (
            member["cs"],
            member["cr"],
            member["canpub"],
            member["cansub"],
            member["canlist"],
            member["admin"],
        ) == (1, 0, 1, 1, 1, 0)
        assert (
            store.one("SELECT disabled FROM apps")[0] is None
            and store.one("SELECT uac FROM users")[0] is None
        )
        tables = {r[0] for r in store.all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"app_sources", "uacs"} <= tables
    finally:
        store.close()


V6 = DATA / "schema_v6.sql"  # the fourth round's schema (before the fields Mesibo reads were kept)


def test_a_v6_store_keeps_its_users_tokens_and_groups_and_gets_their_extras(tmp_path):
    db = tmp_path / "v6.db"
    conn = sqlite3.connect(db)
    conn.executescript(V6.read_text() + "PRAGMA user_version = 6;")
    conn.execute(
        "INSERT INTO apps (id, name, token, background, fallback, ratelimit, collapse, sound, forceprod, iosfcm,"
        " created) VALUES (1, 'default', 't6', 1, 1, 1, 0, 0, 0, 0, 0)"
    )
    conn.execute(
        "INSERT INTO users (id, app_id, address, name, active, flag, online, created) VALUES (3, 1, 'a', 'A', 1, 0, 0, 0)"
    )
    conn.execute(
        "INSERT INTO user_tokens (app_id, user_id, appid, token, expires, created)"
        " VALUES (1, 3, 'com.example.app', 'tok', 9e9, 0)"
    )
    conn.execute("INSERT INTO groups (id, app_id, name, flag, active, created) VALUES (1, 1, 'g', 0, 1, 0)")
    conn.execute(
        "INSERT INTO messages (id, ts, app_id, app_token, from_address, message, type) VALUES (9, 100, 1, 't6', 'a', 'hi', 0)"
    )
    conn.executemany(
        "INSERT INTO message_recipients (mid, app_token, address, online) VALUES (9, 't6', ?, ?)",
        [("b", 0), ("c", 0), ("d", 1)],
    )
    conn.execute(
        "INSERT INTO pushes (ts, app_token, app_name, address, device_id, push_token, platform, service, push_type,"
        " kind, status, debug, acked, mid, injected) VALUES (101, 't6', 'default', 'b', 1, 't', 'android', 'fcm',"
        " 'background', 'message', 'sent', 0, 0, 9, 0)"
    )
    conn.commit()
    conn.close()
    store = Store(str(db))
    try:
        assert store.one("PRAGMA user_version")[0] == SCHEMA_VERSION == 7
        tallied = {
            (r["kind"], r["part"]): r["n"] for r in store.all("SELECT * FROM message_tallies WHERE mid = 9")
        }
        assert tallied == {("recipients", "offline"): 2, ("recipients", "online"): 1, ("pushes", "sent"): 1}
        assert store.one("SELECT name, extras FROM users")[:] == ("A", None)
        assert store.one("SELECT token, extras FROM user_tokens")[:] == ("tok", None)
        assert store.one("SELECT name, extras FROM groups")[:] == ("g", None)
    finally:
        store.close()
