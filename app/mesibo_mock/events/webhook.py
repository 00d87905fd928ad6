"""Mesibo's webhook (SPEC section 5): which events an app wants, what a URL may be, the v2 envelope's
message body, and the words a receiver must answer. Raising events is events/outbox.py, posting them
events/sending.py, showing them events/views.py; their rows are services/webhooks.py's."""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.server.runtime import Runtime

KINDS = ("push", "message", "user")
RECEIVER_OK = "MESIBO OK"
LOOP_HEADER = "x-mesibo-mock-webhook"
CLOUD_REFUSES = "Mesibo's cloud calls webhooks over HTTPS only: it would refuse this http:// URL"


def wanted(app: sqlite3.Row, kind: str) -> bool:
    return bool(app["webhook_url"]) and kind in app["webhook_events"].split(",")


BACKEND_PREFIXES = ("/backend", "/api.php", "/mesiboapi", "/_mock")
LOOPBACK_NAMES = frozenset({"localhost", "0.0.0.0", "::", "::1", "ip6-localhost"})


def points_at_itself(url: str, own_port: int | None, own_names: set[str]) -> bool:
    """Whether a webhook URL names this emulator's own backend or /_mock (its POSTs would call the
    emulator again, which would raise events again: a loop)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    local = host in LOOPBACK_NAMES or host.startswith("127.") or host in own_names
    return local and port == own_port and parts.path.startswith(BACKEND_PREFIXES)


def cloud_note(rt: Runtime, url: str | None) -> str | None:
    """What Mesibo's cloud would say of a webhook URL the emulator delivers to anyway."""
    if rt.cloud and url and not url.lower().startswith("https://"):
        return CLOUD_REFUSES
    return None


def message_body(message: sqlite3.Row) -> dict:
    body = {
        "mid": message["id"],
        "from": message["from_address"],
        "to": orjson.loads(message["to_list"]) if message["to_list"] is not None else None,
        "gid": message["gid"],
        "type": message["type"],
        "ts": int(message["ts"] * 1000),
        "message": message["message"],
    }
    if message["title"]:
        body["title"] = message["title"]
    if message["url"]:
        body["url"] = message["url"]
    return body
