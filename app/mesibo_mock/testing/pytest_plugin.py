"""pytest plugin (entry point `pytest11`): the `mesibo_mock` fixture.

One emulator per test session (per worker under pytest-xdist); before each test its state is reset and
its clock is back to real. Configure it without code in your pytest configuration:

    [tool.pytest.ini_options]
    mesibo_mock_mode = "onprem"
    mesibo_mock_seed = "tests/mesibo-seed.yaml"      # relative to the configuration file
    mesibo_mock_app_token = "my-app-token"
    mesibo_mock_env = ["TESTPUSH_LIMIT=100/60", "FALLBACK_SECONDS=5"]

or override the `mesibo_mock_options` fixture (or `mesibo_mock_server` itself) for full control.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from mesibo_mock.testing.mock import MesiboMock

INI = {
    "mesibo_mock_mode": ("cloud or onprem (MESIBO_MOCK_MODE of the fixture's server)", "string"),
    "mesibo_mock_seed": (
        "seed file for the fixture's server, relative to the pytest configuration",
        "string",
    ),
    "mesibo_mock_app_token": ("app token of the fixture's default app", "string"),
    "mesibo_mock_env": (
        "MESIBO_MOCK_* settings for the fixture's server, one KEY=VALUE per line",
        "linelist",
    ),
    "mesibo_mock_subprocess": ("run the fixture's server as a `mesibo-mock serve` process", "bool"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (text, kind) in INI.items():
        parser.addini(name, text, type=kind, default=None)


def options_from_ini(config: pytest.Config) -> dict[str, Any]:
    """MesiboMock's arguments as the user's pytest configuration sets them."""
    options: dict[str, Any] = {}
    mode = config.getini("mesibo_mock_mode")
    if mode:
        options["mode"] = mode.strip().lower()
    seed = config.getini("mesibo_mock_seed")
    if seed:
        base = os.path.dirname(str(config.inipath)) if config.inipath else str(config.rootpath)
        options["seed"] = os.path.join(base, seed)
    token = config.getini("mesibo_mock_app_token")
    if token:
        options["app_token"] = token
    env: dict[str, str] = {}
    for line in config.getini("mesibo_mock_env") or []:
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"mesibo_mock_env: expected KEY=VALUE, got {line!r}")
        env[key.strip()] = value.strip()
    if env:
        options["env"] = env
    if config.getini("mesibo_mock_subprocess"):
        options["subprocess"] = True
    return options


@pytest.fixture(scope="session")
def mesibo_mock_options(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The arguments of the session's MesiboMock (mode, seed, env, app_token, subprocess), read from the
    `mesibo_mock_*` ini options. Override this fixture to set them in code."""
    return options_from_ini(pytestconfig)


@pytest.fixture(scope="session")
def mesibo_mock_server(mesibo_mock_options: dict[str, Any]) -> Iterator[MesiboMock]:
    """The session's emulator: a real server on a free port with a throw-away database (one per
    pytest-xdist worker). Override it to run the emulator your own way."""
    with MesiboMock(**mesibo_mock_options) as mock:
        yield mock


@pytest.fixture
def mesibo_mock(mesibo_mock_server: MesiboMock) -> Iterator[MesiboMock]:
    """A running mesibo-mock (MesiboMock), reset and on real time before each test: `backend_url` and
    `app_token` for the code under test; helpers to register devices, send messages, read pushes and
    messages, move the clock and inject faults."""
    mesibo_mock_server.reset()
    mesibo_mock_server.real_time()
    yield mesibo_mock_server
