"""The upgrade of a store made by an older version, in place, when it is opened (PRAGMA user_version):
SQL that runs before the current schema, in the same transaction."""

from __future__ import annotations

import sqlite3


def upgrade_script(conn: sqlite3.Connection, version: int, current: int, schema: str) -> str:
    """What must run before `schema` for a store at `version`; "" for a new or current one."""
    if version >= current or not _has_table(conn, "apps"):
        return ""
    return _from_v1(conn, schema)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        is not None
    )


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _from_v1(conn: sqlite3.Connection, schema: str) -> str:  # and from v2: columns added since
    """SQL that upgrades a store of mesibo-mock 0.1, where users kept their one access token in their
    own row and push records knew no message. Nothing is dropped: users and tokens move over. The
    columns come first: the schema that follows indexes them."""
    script = []
    for table, column, ddl in (
        ("pushes", "mid", "mid INTEGER"),
        ("pushes", "follows", "follows INTEGER"),
        ("pushes", "injected", "injected BOOLEAN NOT NULL DEFAULT 0"),
        ("webhook_jobs", "claimed_until", "claimed_until FLOAT"),
    ):
        if _has_table(conn, table) and column not in _columns(conn, table):
            script.append(f"ALTER TABLE {table} ADD COLUMN {ddl};")
    if "access_token" in _columns(conn, "users"):
        script += [
            "ALTER TABLE users RENAME TO users_v1;",
            schema,
            "INSERT INTO users (id, app_id, address, name, active, flag, online, created)"
            " SELECT id, app_id, address, name, 1, 0, 0, created FROM users_v1;",
            "INSERT INTO user_tokens (app_id, user_id, appid, token, expires, created)"
            " SELECT app_id, id, appid, access_token, created + COALESCE(expiry_minutes, 525600) * 60, created"
            " FROM users_v1 WHERE appid IS NOT NULL;",
            "DROP TABLE users_v1;",
        ]
    return "\n".join(script)
