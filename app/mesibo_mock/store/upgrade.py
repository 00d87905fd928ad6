"""The upgrade of a store made by an older version, in place, when it is opened (PRAGMA user_version):
SQL that runs before the current schema, in the same transaction. Nothing a user made is dropped.

The steps, each only where the store needs it: columns added to tables that keep their shape; tables
whose shape changed renamed aside (with their indexes dropped, so the schema makes the new ones); the
current schema; the rows copied over; the old tables dropped.
"""

from __future__ import annotations

import sqlite3

ADDED_COLUMNS = (
    ("pushes", "mid", "mid INTEGER"),
    ("pushes", "follows", "follows INTEGER"),
    ("pushes", "injected", "injected BOOLEAN NOT NULL DEFAULT 0"),
    ("apps", "webhook_events", "webhook_events VARCHAR NOT NULL DEFAULT 'push,message,user'"),
    ("apps", "webhook_seq", "webhook_seq INTEGER NOT NULL DEFAULT 0"),
    ("users", "offline_notified", "offline_notified BOOLEAN NOT NULL DEFAULT 0"),
    ("groups", "expiryext", "expiryext INTEGER"),
    ("groups", "ets", "ets FLOAT"),
    ("groups", "rr_last", "rr_last INTEGER"),
    ("group_members", "canpub", "canpub BOOLEAN NOT NULL DEFAULT 1"),
    ("group_members", "cansub", "cansub BOOLEAN NOT NULL DEFAULT 1"),
    ("group_members", "canlist", "canlist BOOLEAN NOT NULL DEFAULT 1"),
    ("group_members", "admin", "admin INTEGER NOT NULL DEFAULT 0"),
    ("apps", "disabled", "disabled VARCHAR"),
    ("users", "uac", "uac INTEGER"),
    ("journal", "size", "size INTEGER NOT NULL DEFAULT 0"),
    ("messages", "last_member", "last_member INTEGER"),
    ("webhook_events", "mid", "mid INTEGER"),
    ("users", "extras", "extras VARCHAR"),
    ("user_tokens", "extras", "extras VARCHAR"),
    ("groups", "extras", "extras VARCHAR"),
)
# Values that older rows get once the columns exist (v6: a group's expiry time, from its creation).
# (v6: the message an event tells of, from its body.)
FILLED = (
    ("groups", "UPDATE groups SET ets = created + COALESCE(expiry, 31536000) WHERE ets IS NULL;"),
    (
        "webhook_events",
        "UPDATE webhook_events SET mid = COALESCE(json_extract(body, '$.push.mid'),"
        " json_extract(body, '$.message.mid')) WHERE mid IS NULL AND type IN ('push', 'message');",
    ),
)


# v7: filling the tallies of a store made before they were kept (schema v6): counted once from the rows.
FILL_SQL = """
INSERT OR IGNORE INTO message_tallies (mid, kind, part, app_token, n, first, last)
  SELECT r.mid, 'recipients', CASE WHEN r.online THEN 'online' ELSE 'offline' END, r.app_token, COUNT(*),
         m.ts, m.ts FROM message_recipients r JOIN messages m ON m.id = r.mid GROUP BY r.mid, r.online;
INSERT OR IGNORE INTO message_tallies (mid, kind, part, app_token, n, first, last)
  SELECT mid, 'pushes', status, app_token, COUNT(*), MIN(ts), MAX(ts) FROM pushes WHERE mid IS NOT NULL
  GROUP BY mid, status;
INSERT OR IGNORE INTO message_tallies (mid, kind, part, app_token, n, first, last)
  SELECT mid, 'fallbacks', 'fallback', app_token, COUNT(*), MIN(ts), MAX(ts) FROM pushes
  WHERE mid IS NOT NULL AND kind = 'fallback' GROUP BY mid;
INSERT OR IGNORE INTO message_tallies (mid, kind, part, app_token, n, first, last)
  SELECT mid, 'events', type, app_token, COUNT(*), MIN(ts), MAX(ts) FROM webhook_events WHERE mid IS NOT NULL
  GROUP BY mid, type;
INSERT OR IGNORE INTO message_tallies (mid, kind, part, app_token, n, first, last)
  SELECT e.mid, 'attempts', CASE WHEN a.ok THEN 'ok' ELSE 'failed' END, a.app_token, COUNT(*), MIN(a.ts),
         MAX(a.ts) FROM webhook_attempts a JOIN (SELECT DISTINCT mid, delivery_id FROM webhook_events
         WHERE mid IS NOT NULL) e ON e.delivery_id = a.delivery_id GROUP BY e.mid, a.ok;
"""


# Indexes a later version found not worth their cost on every write (v5: pushes by status, by token).
DROPPED_INDEXES = ("ix_pushes_status", "ix_pushes_push_token")


def upgrade_script(conn: sqlite3.Connection, version: int, current: int, schema: str) -> str:
    """What must run before `schema` for a store at `version`; "" for a new or current one."""
    if version >= current or not _has_table(conn, "apps"):
        return ""
    before: list[str] = []
    after: list[str] = []
    before += [f"DROP INDEX IF EXISTS {name};" for name in DROPPED_INDEXES]
    for table, column, ddl in ADDED_COLUMNS:
        if _has_table(conn, table) and column not in _columns(conn, table):
            before.append(f"ALTER TABLE {table} ADD COLUMN {ddl};")
    before += [sql for table, sql in FILLED if _has_table(conn, table)]
    if "access_token" in _columns(conn, "users"):  # 0.1: one token in the user's own row
        before += _aside(conn, "users", "users_v1")
        after += [
            "INSERT INTO users (id, app_id, address, name, active, flag, online, created)"
            " SELECT id, app_id, address, name, 1, 0, 0, created FROM users_v1;",
            "INSERT INTO user_tokens (app_id, user_id, appid, token, expires, created)"
            " SELECT app_id, id, appid, access_token, created + COALESCE(expiry_minutes, 525600) * 60, created"
            " FROM users_v1 WHERE appid IS NOT NULL;",
            "DROP TABLE users_v1;",
        ]
    if "to_address" in _columns(conn, "messages"):  # 0.2: one recipient address, no delivery state
        before += _aside(conn, "messages", "messages_v3")
        after += [
            "INSERT INTO messages (id, ts, app_id, app_token, from_address, to_list, gid, type, message, title,"
            " url, expiry, flag)"
            " SELECT id, ts, app_id, app_token, from_address,"
            " CASE WHEN to_address IS NULL THEN NULL ELSE json_array(to_address) END, gid, type, message, title,"
            " url, COALESCE(expiry, 31536000), flag FROM messages_v3;",
            "DROP TABLE messages_v3;",
        ]
    if _has_table(conn, "webhook_jobs"):  # 0.2: one job per push record; owed ones become deliveries
        after += [
            "INSERT INTO webhook_deliveries (app_token, seq, url, payload, event_count, attempts, next_at, state,"
            " created) SELECT app_token, push_id, url, payload, 1, attempts, next_at, 'pending', next_at"
            " FROM webhook_jobs;",
            "DROP TABLE webhook_jobs;",
        ]
    if "push_id" in _columns(conn, "webhook_attempts"):
        before += _aside(conn, "webhook_attempts", "webhook_attempts_v3")
        after += [
            "INSERT INTO webhook_attempts (id, app_token, delivery_id, url, attempt, status_code, error,"
            " duration_ms, ok, ts) SELECT id, app_token, 0, url, attempt, status_code, error, duration_ms, ok, ts"
            " FROM webhook_attempts_v3;",
            "DROP TABLE webhook_attempts_v3;",
        ]
    if version < 7:  # a message's tallies, counted once from its rows (after the schema makes the table)
        after.append(FILL_SQL)
    if not after:
        return "\n".join(before)
    return "\n".join([*before, schema, *after])


def _aside(conn: sqlite3.Connection, table: str, old: str) -> list[str]:
    """Rename a table out of the way, dropping its named indexes: the schema makes them anew."""
    indexes = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        )
    ]
    return [*(f"DROP INDEX {name};" for name in indexes), f"ALTER TABLE {table} RENAME TO {old};"]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        is not None
    )


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
