"""One Settings object: every flag and MESIBO_MOCK_* environment variable of SPEC section 1."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MESIBO_MOCK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    db: str = "./mesibo-mock.db"
    mode: Literal["cloud", "onprem"] = "cloud"
    seed: str | None = None
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    app_token: str | None = None
    testpush_limit: str = "10/3600"
    push_interval: float = Field(5.0, ge=0)
    fallback_seconds: float = Field(30.0, ge=0)
    max_upload_bytes: int = Field(1048576, ge=1)
    admin_token: str | None = None
    webhook_timeout: float = Field(5.0, gt=0)
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    max_connections: int = Field(4096, ge=16)
    max_header_bytes: int = Field(64 * 1024, ge=1024)  # a request's header section; past it, 431
    retention: int = Field(100_000, ge=0)
    journal_bytes: int = Field(64 * 1024 * 1024, ge=0)  # the journal's bytes per app (0: no bound by bytes)
    wal_limit_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024)
    # TOKENBREACH: an app called from more than this many source addresses is disabled (cloud mode); 0 never
    tokenbreach_addresses: int = Field(5, ge=0)
    # Proxies whose X-Forwarded-For or Forwarded header names a call's source address (IP addresses or
    # networks, comma-separated); none by default: the TCP peer is the source
    trusted_proxies: str = ""
    # uvicorn's HTTP/1.1 protocol: httptools (fast, C) where installed, else h11; forced for tests
    http: Literal["auto", "httptools", "h11"] = "auto"
    allowed_hosts: str = ""  # extra host names a browser may use to reach /_mock (comma-separated)

    @field_validator("mode", "log_level", "http", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("testpush_limit")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        parse_limit(value)
        return value

    @field_validator("seed", "app_token", "admin_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def testpush_count(self) -> int:
        return parse_limit(self.testpush_limit)[0]

    @property
    def testpush_window(self) -> float:
        return parse_limit(self.testpush_limit)[1]


def parse_limit(text: str) -> tuple[int, float]:
    """'10/3600' -> (10 pushes, 3600 seconds)."""
    try:
        count, _, window = text.partition("/")
        parsed = int(count), float(window)
    except ValueError:
        parsed = (-1, -1.0)
    if parsed[0] < 0 or parsed[1] <= 0:
        raise ValueError(f"expected COUNT/SECONDS such as 10/3600, got {text!r}")
    return parsed


def parse_networks(text: str) -> tuple:
    """'10.0.0.0/8, 192.168.1.2' -> ip_network objects; ValueError naming a bad one."""
    import ipaddress

    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"expected IP addresses or networks, comma-separated; {item!r} is not one"
            ) from None
    return tuple(networks)
