"""Webhook deliveries, their attempts and events as /_mock and the dashboard show them."""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.clock import iso


def attempt_view(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "token": row["app_token"],
        "delivery": row["delivery_id"],
        "url": row["url"],
        "attempt": row["attempt"],
        "status_code": row["status_code"],
        "error": row["error"],
        "duration_ms": row["duration_ms"],
        "ok": bool(row["ok"]),
        "ts": iso(row["ts"]),
    }


def delivery_view(row: sqlite3.Row, events: list[dict] | None = None) -> dict:
    view = {
        "id": row["id"],
        "token": row["app_token"],
        "webhook_id": row["seq"],
        "url": row["url"],
        "state": row["state"],
        "attempts": row["attempts"],
        "next_attempt": iso(row["next_at"]),
        "event_count": row["event_count"],
        "note": row["note"],
        "created": iso(row["created"]),
    }
    if events is not None:
        view["events"] = events
    return view


def event_view(row: sqlite3.Row) -> dict:
    """An event as it was sent, with where it went: `{"id", "delivery", "app", "ts", "type", ...}`."""
    return {
        "id": row["id"],
        "delivery": row["delivery_id"],
        "app": row["app_token"],
        "ts": iso(row["ts"]),
    } | orjson.loads(row["body"])
