"""Push credentials: parse uploaded FCM and APN files into metadata, keeping no private key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class CredentialError(ValueError):
    """The file is not a usable credential; the message says why, for a BADVALUE cause."""


@dataclass(frozen=True)
class ParsedCredential:
    platform: str  # "fcm" | "apn"
    key_fingerprint: str
    project_id: str | None = None
    client_email: str | None = None
    bundle: str = ""
    sandbox: bool = False
    production: bool = False
    expiry: float | None = None
    topics: list[str] = field(default_factory=list)
    team_id: str | None = None


def fingerprint(der_public_key: bytes) -> str:
    """Identify a key pair without keeping its secret half."""
    return "sha256:" + hashlib.sha256(der_public_key).hexdigest()[:32]
