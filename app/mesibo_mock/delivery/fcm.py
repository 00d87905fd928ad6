"""The FCM HTTP v1 request Mesibo makes for one device, and FCM's success answer."""

from __future__ import annotations

import json

from mesibo_mock.delivery import apns
from mesibo_mock.delivery.content import Push

REDACTED_BEARER = "Bearer [redacted]"
ANY_PROJECT = (
    "-"  # Google's wildcard project, shown when an injected fault meets an app without FCM credentials
)
MAX_PAYLOAD = 4096


def url(project_id: str) -> str:
    return f"https://fcm.googleapis.com/v1/projects/{project_id}/messages:send"


def render(push: Push, push_token: str, project_id: str, *, ios: bool, topic: str) -> dict:
    message: dict = {"token": push_token, "data": push.data()}
    if push.push_type == "alert":
        message["notification"] = {"title": push.title, "body": push.body}
    android: dict = {"priority": "high"}
    if push.collapse:
        android["collapse_key"] = push.collapse_id
    message["android"] = android
    if ios:
        message["apns"] = {"headers": apns.headers(push, topic), "payload": push.apns_body()}
    return {
        "method": "POST",
        "url": url(project_id),
        "headers": {"Authorization": REDACTED_BEARER, "Content-Type": "application/json; charset=UTF-8"},
        "body": {"message": message},
    }


def payload_size(request: dict) -> int:
    """FCM counts the message's data and notification against its 4096-byte limit."""
    message = request["body"]["message"]
    counted = {k: message[k] for k in ("data", "notification") if k in message}
    return len(json.dumps(counted, separators=(",", ":")).encode())


def success(project_id: str, message_id: str) -> dict:
    return {
        "status": 200,
        "headers": {"content-type": "application/json; charset=UTF-8"},
        "body": {"name": f"projects/{project_id}/messages/{message_id}"},
    }
