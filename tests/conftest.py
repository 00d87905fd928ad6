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
