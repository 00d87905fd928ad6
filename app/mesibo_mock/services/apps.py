"""Apps: creation, lookup by token, options, debug windows and the public view of an app."""

from __future__ import annotations

import secrets
import sqlite3

from mesibo_mock.clock import iso
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import credentials, uacs, webhooks
from mesibo_mock.store.db import as_dict

OPTION_DEFAULTS: dict[str, bool] = {
    "background": True,
    "fallback": True,
    "ratelimit": True,
    "collapse": False,
    "sound": False,
    "forceprod": False,
    "iosfcm": False,
}
DEBUG_MAX_SECONDS = 3 * 3600
DEBUG_EVERY_SECONDS = 8 * 3600
ONPREM_DEBUG_MAX_SECONDS = 365 * 24 * 3600


class AppExists(Exception):
    pass


def new_token() -> str:
    return secrets.token_hex(22)


def by_token(rt: Runtime, token: str) -> sqlite3.Row | None:
    """Every backend call looks its app up: memoized until any app changes (store.memo). A token that
    names no app is not kept, so a flood of wrong tokens grows nothing."""
    return rt.store.memo(
        ("app", token),
        lambda: as_dict(rt.store.one("SELECT * FROM apps WHERE token = ?", (token,))),
        keep_none=False,
    )


def known_secrets(rt: Runtime) -> set[str]:
    """Values never kept in clear wherever they turn up (the journal redacts them by what they are):
    every app's token and the admin token. Read once, then kept up to date on the runtime by app
    creation and deletion (`rt.app_tokens_changed`), so a server with many apps pays nothing per call."""
    if rt._app_tokens is None:
        tokens = {row[0] for row in rt.store.all("SELECT token FROM apps")}
        if rt.settings.admin_token:
            tokens.add(rt.settings.admin_token)
        rt._app_tokens = tokens
    return rt._app_tokens


def create(rt: Runtime, name: str, token: str | None = None, options: dict | None = None) -> sqlite3.Row:
    token = token or new_token()
    values = {"name": name, "token": token, "created": rt.clock.now(), **OPTION_DEFAULTS, **(options or {})}
    with rt.store.tx():
        if by_token(rt, token):
            raise AppExists(token)
        app_id = rt.store.insert("apps", values)
    rt.app_tokens_changed(added=token)
    return rt.store.one("SELECT * FROM apps WHERE id = ?", (app_id,))


def next_name(rt: Runtime) -> str:
    """A name for an app made without one: `app-N`, N one past the apps there are."""
    return f"app-{count(rt) + 1}"


# What one app's reset empties, by the column that names the app (its number or its token); its token,
# name, credentials, options, webhook and UACs stay.
APP_CONTENTS_BY_ID = (
    "devices",
    "user_tokens",
    "users",
    "groups",
    "otps",
    "testpushes",
    "app_sources",
    "journal",
)
APP_CONTENTS_BY_TOKEN = (
    "pushes",
    "message_recipients",
    "message_tallies",
    "messages",
    "webhook_attempts",
    "webhook_events",
    "webhook_deliveries",
    "faults",
    "backend_faults",
)


def clear(rt: Runtime, app: sqlite3.Row) -> int:
    """Empty the app, keeping what configures it; -> how many rows went."""
    gone = 0

    def delete() -> int:
        nonlocal gone
        rt.store.mass_deleted()
        with rt.store.tx() as conn:
            gone += conn.execute(
                "DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE app_id = ?)",
                (app["id"],),
            ).rowcount
            for table in APP_CONTENTS_BY_ID:
                gone += conn.execute(f"DELETE FROM {table} WHERE app_id = ?", (app["id"],)).rowcount
            for table in APP_CONTENTS_BY_TOKEN:
                gone += conn.execute(f"DELETE FROM {table} WHERE app_token = ?", (app["token"],)).rowcount
            conn.execute(
                "UPDATE apps SET disabled = NULL, debug_start = NULL, debug_end = NULL WHERE id = ?",
                (app["id"],),
            )
        return gone

    rt.store.freeing(delete)
    rt.sources.pop(app["id"], None)
    rt.backend_faults_changed()
    return gone


def delete(rt: Runtime, app: sqlite3.Row) -> None:
    """Remove an app and what belongs to it; its push records and messages stay as history."""
    with rt.store.tx() as conn:
        conn.execute(
            "DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE app_id = ?)",
            (app["id"],),
        )
        for table in APP_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE app_id = ?", (app["id"],))
        for table in ("faults", "backend_faults"):  # a fault outlives nothing of its app's
            conn.execute(f"DELETE FROM {table} WHERE app_token = ?", (app["token"],))
        webhooks.cancel(conn, app["token"])
        conn.execute("DELETE FROM apps WHERE id = ?", (app["id"],))
    rt.store.mass_deleted()
    rt.app_tokens_changed(removed=app["token"])
    rt.backend_faults_changed()
    rt.sources.pop(app["id"], None)


# What an app holds by its number; deleting the app deletes these rows.
APP_TABLES = (
    "devices",
    "user_tokens",
    "users",
    "groups",
    "otps",
    "credentials",
    "testpushes",
    "app_sources",
    "uacs",
)


def options(app: sqlite3.Row) -> dict[str, bool]:
    return {key: bool(app[key]) for key in OPTION_DEFAULTS}


def set_options(rt: Runtime, app: sqlite3.Row, changes: dict[str, bool]) -> dict[str, bool]:
    """Only options that change are written: a backend that sends the same pushset at every start
    costs the store nothing (and answers the same)."""
    current = options(app)
    differ = {key: value for key, value in changes.items() if current[key] != value}
    if differ:
        with rt.store.tx():
            rt.store.update("apps", app["id"], differ)
            if differ.get("ratelimit"):
                _recall_recent_sends(rt, app)
    return current | changes


def _recall_recent_sends(rt: Runtime, app: sqlite3.Row) -> None:
    """A device's last push time is written only while `ratelimit` is on (it is read only then, and
    the write is a page of the store per push). Turned on, the pushes sent within the interval before
    count, as if it had been on all along: the app's newest records are read until one is older."""
    since = rt.clock.now() - rt.settings.push_interval
    latest: dict[int, float] = {}
    rows = rt.store.conn.execute(
        "SELECT ts, device_id, status FROM pushes WHERE app_token = ? ORDER BY id DESC", (app["token"],)
    )
    for ts, device_id, status in rows:
        if ts <= since:
            break
        if status == "sent" and ts > latest.get(device_id, since):
            latest[device_id] = ts
    rows.close()
    for device_id, ts in latest.items():
        rt.store.run(
            "UPDATE devices SET last_sent = ? WHERE id = ? AND (last_sent IS NULL OR last_sent < ?)",
            (ts, device_id, ts),
        )


EVENT_KINDS = ("push", "message", "user")


def set_webhook(
    rt: Runtime, app: sqlite3.Row, url: str | None, secret: str | None, events: list[str] | None = None
) -> None:
    """Set (or, with url None, remove) the app's webhook. Deliveries still owed to an old URL are
    cancelled: Mesibo would not call a webhook that is gone."""
    kinds = [k for k in EVENT_KINDS if k in (events or EVENT_KINDS)]
    with rt.store.tx() as conn:
        if url != app["webhook_url"]:
            webhooks.cancel(conn, app["token"])
        rt.store.update(
            "apps",
            app["id"],
            {"webhook_url": url, "webhook_secret": secret, "webhook_events": ",".join(kinds)},
        )


def webhook_view(app: sqlite3.Row) -> dict | None:
    if not app["webhook_url"]:
        return None
    return {
        "url": app["webhook_url"],
        "events": app["webhook_events"].split(",") if app["webhook_events"] else [],
    }


def debug_active(app: sqlite3.Row, now: float) -> bool:
    start, end = app["debug_start"], app["debug_end"]
    return start is not None and end is not None and start <= now < end


def debug_view(rt: Runtime, app: sqlite3.Row) -> dict:
    start, end = app["debug_start"], app["debug_end"]
    next_allowed = start + DEBUG_EVERY_SECONDS if (rt.cloud and start is not None) else None
    return {
        "active": debug_active(app, rt.clock.now()),
        "start": iso(start),
        "end": iso(end),
        "next_allowed": iso(next_allowed),
    }


def public_view(rt: Runtime, app: sqlite3.Row) -> dict:
    """An app as GET /_mock/apps/{token} shows it: never a key, only what identifies one."""
    return {
        "name": app["name"],
        "token": app["token"],
        "push": options(app),
        "credentials": credentials.summary(rt, app["id"]),
        "debug": debug_view(rt, app) if app["debug_start"] is not None else None,
        "webhook": webhook_view(app),
        "disabled": app["disabled"],
        "addresses": sorted(sources(rt, app["id"])),
        "uacs": uacs.views(rt, app["id"]),
    }


# --- TOKENBREACH: the source addresses an app's backend is called from -------------------------------
NOTED_FROM = 4  # from this many addresses on, each new one is noted in the journal
MAX_SOURCES = 64  # addresses kept per app: past the limit that disables it, more say nothing new


def sources(rt: Runtime, app_id: int) -> set[str]:
    """The addresses the app's backend calls came from: read once, then kept by `note_source`, so a call
    from a known address costs a set lookup."""
    known = rt.sources.get(app_id)
    if known is None:
        rows = rt.store.all("SELECT address FROM app_sources WHERE app_id = ?", (app_id,))
        known = rt.sources[app_id] = {row["address"] for row in rows}
    return known


def note_source(rt: Runtime, app: sqlite3.Row, address: str | None) -> int | None:
    """Count a call's source address; -> how many addresses the app has been called from, when this
    one is new (None when it was known, or unknown)."""
    if not address:
        return None
    known = sources(rt, app["id"])
    if address in known or len(known) >= MAX_SOURCES:
        return None
    with rt.store.tx():
        rt.store.run(
            "INSERT OR IGNORE INTO app_sources (app_id, address, first_seen) VALUES (?, ?, ?)",
            (app["id"], address, rt.clock.now()),
        )
    known.add(address)
    return len(known)


def set_disabled(rt: Runtime, app: sqlite3.Row, why: str | None) -> None:
    """Disable the app (why: TOKENBREACH), or lift it (None), which also forgets the addresses seen."""
    with rt.store.tx() as conn:
        conn.execute("UPDATE apps SET disabled = ? WHERE id = ?", (why, app["id"]))
        if why is None:
            conn.execute("DELETE FROM app_sources WHERE app_id = ?", (app["id"],))
    if why is None:
        rt.sources.pop(app["id"], None)


def list_all(rt: Runtime) -> list[sqlite3.Row]:
    return rt.store.all("SELECT * FROM apps ORDER BY id")


def page_at(rt: Runtime, offset: int, limit: int, name: str | None = None) -> list[sqlite3.Row]:
    """Apps oldest first (of one name, if given), `limit` of them from the `offset`th."""
    if name is None:
        return rt.store.all("SELECT * FROM apps ORDER BY id LIMIT ? OFFSET ?", (limit, offset))
    return rt.store.all(
        "SELECT * FROM apps WHERE name = ? ORDER BY id LIMIT ? OFFSET ?", (name, limit, offset)
    )


def count_named(rt: Runtime, name: str | None) -> int:
    if name is None:
        return count(rt)
    return rt.store.one("SELECT COUNT(*) FROM apps WHERE name = ?", (name,))[0]


def page(rt: Runtime, after: int = 0, limit: int = 20) -> list[sqlite3.Row]:
    """Apps by number after `after`: a page of them."""
    return rt.store.all("SELECT * FROM apps WHERE id > ? ORDER BY id LIMIT ?", (after, limit))


def count(rt: Runtime, before: int | None = None) -> int:
    if before is None:
        return rt.store.one("SELECT COUNT(*) FROM apps")[0]
    return rt.store.one("SELECT COUNT(*) FROM apps WHERE id < ?", (before,))[0]
