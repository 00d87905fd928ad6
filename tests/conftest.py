"""Shared fixtures: one real `mesibo-mock serve` process per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mesibo_mock.testing import MesiboMock

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CREDS = FIXTURES / "creds"


@pytest.fixture(scope="session")
def server() -> Iterator[MesiboMock]:
    """The real server process, as a user's integration tests would run it."""
    with MesiboMock(subprocess=True) as mock:
        yield mock


@pytest.fixture
def mock(server: MesiboMock) -> MesiboMock:
    server.reset()
    server.real_time()
    return server


# SPEC section 3: the seven push options and their defaults.
DEFAULT_OPTIONS = {
    "background": True,
    "fallback": True,
    "ratelimit": True,
    "collapse": False,
    "sound": False,
    "forceprod": False,
    "iosfcm": False,
}


def cred(name: str) -> bytes:
    return (CREDS / name).read_bytes()


def flat_call(mock, op: str, form: str = "query", token: str | None = None, **params) -> dict:
    """An op in the flat /api.php form: as a query string (PHP's http_build_query on a GET, as the
    form-mode PHP helper sends it) or form-encoded in a POST body."""
    fields = {"op": op, "token": token or mock.app_token, **params}
    if form == "query":
        return mock.client.get("/api.php", params=fields).json()
    return mock.client.post("/api.php", data=fields).json()


def said(mock, op: str | None = None) -> str:
    """The emulator's own words about the newest backend call (of `op`): its journal diagnosis, as the
    log line ends with it. Mesibo's envelope carries only Mesibo's fixed texts."""
    [entry] = mock.requests(limit=1, **({"op": op} if op else {}))
    return "; ".join(
        (f"'{n['field']}' " if n.get("field") else "")
        + n["problem"]
        + (f" ({n['hint']})" if n.get("hint") else "")
        for n in entry["diagnosis"]
    )
