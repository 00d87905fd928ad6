"""pytest plugin (entry point `pytest11`): the `mesibo_mock` and `mesibo_app` fixtures.

One emulator per test session (per worker under pytest-xdist); before each test its state is reset and
its clock is back to real. `mesibo_app` is an app of the test's own (a MesiboApp named after the test,
with the sample credentials). Configure them without code in your pytest configuration:

    [tool.pytest.ini_options]
    mesibo_mock_mode = "onprem"
    mesibo_mock_seed = "tests/mesibo-seed.yaml"      # relative to the configuration file
    mesibo_mock_app_token = "my-app-token"
    mesibo_mock_env = ["TESTPUSH_LIMIT=100/60", "FALLBACK_SECONDS=5"]
    mesibo_mock_strict = true   # fail a test whose backend calls had an unknown op or field
    mesibo_mock_keep_db = ".mesibo-mock/tests.db"   # or MESIBO_MOCK_KEEP_DB: keep the store to look at

or override the `mesibo_mock_options` fixture (or `mesibo_mock_server` itself) for full control.

Whatever the options, a failed test that used the fixture gets a report section listing the backend
calls it made, with their answers and the emulator's diagnosis. With `mesibo_mock_keep_db`, the
session's store stays at that path (holding the last test's state), and a failed test's store is copied
beside it: its report names the `mesibo-mock serve --db ...` that shows it in the dashboard.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from mesibo_mock.testing.app import MesiboApp
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
    "mesibo_mock_keep_db": (
        "keep the session's store at this path (relative to the pytest configuration; MESIBO_MOCK_KEEP_DB"
        " wins), and a copy of each failed test's beside it, for `mesibo-mock serve --db PATH`",
        "string",
    ),
    "mesibo_mock_strict": (
        "fail a test at teardown when its backend calls had an op that does not exist or a field no op reads",
        "bool",
    ),
}
KEEP_ENV = "MESIBO_MOCK_KEEP_DB"
CALLS = pytest.StashKey[tuple]()  # (MesiboMock, the journal id before the test, the test's app token or None)
OWN_APP = pytest.StashKey[bool]()  # the test has a `mesibo_app`, which checks its own calls
REPORTED_CALLS = 200  # a failed test's report lists at most this many of its newest backend calls


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (text, kind) in INI.items():
        parser.addini(name, text, type=kind, default=None)


def _config_base(config: pytest.Config) -> str:
    return os.path.dirname(str(config.inipath)) if config.inipath else str(config.rootpath)


def keep_db_path(config: pytest.Config) -> str | None:
    """Where the session's store is kept (MESIBO_MOCK_KEEP_DB, else `mesibo_mock_keep_db`), one file per
    pytest-xdist worker; None: thrown away."""
    wanted = os.environ.get(KEEP_ENV) or config.getini("mesibo_mock_keep_db")
    if not wanted:
        return None
    path = os.path.join(_config_base(config), os.path.expanduser(wanted))
    worker = getattr(config, "workerinput", {}).get("workerid")  # this process is an xdist worker
    if worker:
        stem, ext = os.path.splitext(path)
        path = f"{stem}-{worker}{ext or '.db'}"
    return os.path.abspath(path)


def fresh_store(path: str) -> str:
    """The folder exists and no older session's store is left at `path`."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-reserve"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return path


def options_from_ini(config: pytest.Config) -> dict[str, Any]:
    """MesiboMock's arguments as the user's pytest configuration sets them."""
    options: dict[str, Any] = {}
    mode = config.getini("mesibo_mock_mode")
    if mode:
        options["mode"] = mode.strip().lower()
    seed = config.getini("mesibo_mock_seed")
    if seed:
        options["seed"] = os.path.join(_config_base(config), seed)
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
    if config.getini("mesibo_mock_strict"):
        options["strict"] = True
    keep = keep_db_path(config)
    if keep:
        options["db"] = fresh_store(keep)
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
def mesibo_mock(mesibo_mock_server: MesiboMock, request: pytest.FixtureRequest) -> Iterator[MesiboMock]:
    """A running mesibo-mock (MesiboMock), reset and on real time before each test: `backend_url` and
    `app_token` for the code under test; helpers to register devices, send messages, read pushes,
    messages, events and backend calls, move the clock and inject faults. With `mesibo_mock_strict`,
    the test fails at teardown if the code under test sent an unknown op or a field no op reads."""
    mesibo_mock_server.reset()
    mesibo_mock_server.real_time()
    start = mesibo_mock_server.last_request_id(all_apps=True)
    mesibo_mock_server._mistakes_seen = None
    request.node.stash[CALLS] = (mesibo_mock_server, start, None)
    yield mesibo_mock_server
    if mesibo_mock_server.strict:
        # the server's rule and words; a `mesibo_app` checks its own calls, this the rest
        checked_apart = request.node.stash.get(OWN_APP, False)
        failure = mesibo_mock_server.unexpected_mistakes(after=start, all_apps=not checked_apart)
        if failure:
            pytest.fail(failure, pytrace=False)


@pytest.fixture
def mesibo_app(mesibo_mock: MesiboMock, request: pytest.FixtureRequest) -> Iterator[MesiboApp]:
    """An app of this test's own (MesiboApp), named after the test, with the sample FCM and APN
    credentials: `token` and `backend_url` for the code under test, and every helper scoped to it.
    With `mesibo_mock_strict`, the test fails at teardown on its calls' mistakes."""
    app = mesibo_mock.create_app(request.node.nodeid, credentials="sample", strict=False)
    request.node.stash[CALLS] = (mesibo_mock, 0, app.token)
    request.node.stash[OWN_APP] = True
    yield app
    failure = app.unexpected_mistakes() if mesibo_mock.strict else None
    app.close()
    if failure:
        pytest.fail(failure, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or CALLS not in item.stash:
        return
    mock, start, token = item.stash[CALLS]
    try:  # the server's report, as every client prints it
        params = {"after": start, "limit": REPORTED_CALLS} | ({"token": token} if token else {})
        text = mock._check(mock.client.get("/_mock/report", params=params)).text.rstrip("\n")
    except Exception as exc:  # the server may be what failed; the report must still be made
        text = f"(the calls could not be read: {exc})"
    report.sections.append(("mesibo-mock: backend calls during this test", text + "\n" + _kept(mock, item)))


def _kept(mock: MesiboMock, item: pytest.Item) -> str:
    """Where the failed test's store was copied, and the command that shows it; or how to keep it."""
    keep = keep_db_path(item.config)
    if keep is None or mock.db_path is None:
        return (
            "To look at this test's calls, pushes and messages in the dashboard afterwards, set"
            f' mesibo_mock_keep_db = "path" in the pytest configuration (or {KEEP_ENV}=path) and run'
            " `mesibo-mock serve --db path`."
        )
    stem, ext = os.path.splitext(keep)
    name = item.nodeid.rpartition("/")[2].replace(".py::", ".").replace("::", ".")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-80:].strip("_.")  # the test's name, kept whole
    try:
        copy = mock.copy_store(f"{stem}-{slug}{ext or '.db'}")
    except Exception as exc:
        return f"(this test's store could not be copied: {exc})"
    return (
        f"This test's store is kept at {copy}. See it in the dashboard:\n"
        f"    mesibo-mock serve --db {shlex.quote(copy)}\n"
        "then open http://127.0.0.1:8000/_mock/ui"
    )
