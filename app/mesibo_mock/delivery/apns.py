"""The HTTP/2 request Mesibo makes to APNs for one device, and APNs' success answer."""

from __future__ import annotations

import json
import random

from mesibo_mock.delivery.content import Push

SANDBOX_HOST = "https://api.sandbox.push.apple.com"
PRODUCTION_HOST = "https://api.push.apple.com"
MAX_PAYLOAD = 4096
MAX_VOIP_PAYLOAD = 5120


def headers(push: Push, topic: str) -> dict[str, str]:
    out = {
        "apns-topic": topic + ".voip" if push.push_type == "voip" else topic,
        "apns-push-type": push.push_type,
        "apns-priority": push.priority(),
    }
    if push.collapse:
        out["apns-collapse-id"] = push.collapse_id
    return out


def render(push: Push, push_token: str, topic: str, use_sandbox: bool) -> dict:
    """`use_sandbox`: a sandbox (development) build, unless `forceprod` sends it to production."""
    base = SANDBOX_HOST if use_sandbox else PRODUCTION_HOST
    return {
        "method": "POST",
        "url": f"{base}/3/device/{push_token}",
        "headers": headers(push, topic),
        "body": push.apns_body(),
    }


def payload_limit(push: Push) -> int:
    return MAX_VOIP_PAYLOAD if push.push_type == "voip" else MAX_PAYLOAD


def payload_size(request: dict) -> int:
    return len(json.dumps(request["body"], separators=(",", ":")).encode())


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def new_apns_id() -> str:
    """The shape of APNs' apns-id (a version 4 UUID, upper case); random, not secret. Formatted by
    hand: uuid.UUID costs twice as much, once per push to an Apple device."""
    h = (random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET).to_bytes(16, "big").hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def success(apns_id: str) -> dict:
    return {"status": 200, "headers": {"apns-id": apns_id}, "body": ""}


def error(status: int, reason: str, apns_id: str) -> dict:
    return {"status": status, "headers": {"apns-id": apns_id}, "body": {"reason": reason}}
