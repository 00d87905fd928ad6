"""The `mesibo_mock` fixture, as a user's test suite sees it (pytester runs a separate pytest)."""

from __future__ import annotations

from pathlib import Path

from mesibo_mock.testing import MesiboMock, MesiboMockError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pytest-user" / "test_my_chat_backend.py"


def test_plugin_is_registered_through_the_entry_point(pytester):
    pytester.makepyfile(
        """
        def test_fixture_is_there(mesibo_mock):
            assert mesibo_mock.health()["status"] == "ok"
            assert mesibo_mock.backend_url.endswith("/backend")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_users_example_passes_and_state_does_not_leak(pytester):
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=5)


def test_leaking_state_would_be_caught(pytester):
    """The same check with the reset removed fails: the isolation test is not vacuous."""
    pytester.makeconftest(
        """
        import pytest
        from mesibo_mock.testing import MesiboMock

        @pytest.fixture(scope="session")
        def shared():
            with MesiboMock() as mock:
                yield mock

        @pytest.fixture
        def mesibo_mock(shared):
            return shared  # no reset
        """
    )
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)


def test_mesibo_mock_takes_mode_seed_and_env(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("apps: [{name: seeded, token: seeded-token, users: [{address: '9'}]}]\n")
    with MesiboMock(
        mode="onprem", seed=seed, env={"TESTPUSH_LIMIT": "1/60"}, app_token="seeded-token"
    ) as mock:
        assert mock.health()["mode"] == "onprem"
        assert mock.url.startswith("http://127.0.0.1:") and mock.app_token == "seeded-token"
        assert [u["address"] for u in mock.backend("usersget")["users"]] == ["9"]
        assert mock.runtime.settings.testpush_count == 1


def test_mesibo_mock_without_a_token_picks_the_default_app():
    with MesiboMock(app_token=None) as mock:
        assert mock.app_token == mock.apps()[0]["token"]
        assert mock.backend("usersget")["result"] is True


def test_mesibo_mock_start_failure_is_reported(tmp_path):
    bad_seed = tmp_path / "bad.yaml"
    bad_seed.write_text("apps: [{name: x, nonsense: 1}]\n")
    try:
        with MesiboMock(subprocess=True, seed=bad_seed):
            raise AssertionError("should not start")
    except MesiboMockError as exc:
        assert "seed" in str(exc) and "exited with 2" in str(exc)


def test_the_fixture_is_configured_from_ini_options(pytester):
    pytester.makefile(".yaml", seed="apps: [{name: seeded, token: seeded-token, users: [{address: '9'}]}]\n")
    pytester.makeini(
        """
        [pytest]
        mesibo_mock_mode = onprem
        mesibo_mock_seed = seed.yaml
        mesibo_mock_app_token = seeded-token
        mesibo_mock_env =
            TESTPUSH_LIMIT=1/60
            FALLBACK_SECONDS=7
        """
    )
    pytester.makepyfile(
        """
        def test_configured(mesibo_mock):
            assert mesibo_mock.health()["mode"] == "onprem"
            assert mesibo_mock.app_token == "seeded-token"
            assert [u["address"] for u in mesibo_mock.backend("usersget")["users"]] == ["9"]
            settings = mesibo_mock.runtime.settings
            assert settings.testpush_limit == "1/60" and settings.fallback_seconds == 7
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_bad_env_line_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\nmesibo_mock_env = NOEQUALS\n")
    pytester.makepyfile("def test_x(mesibo_mock):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert "mesibo_mock_env: expected KEY=VALUE" in result.stdout.str() + result.stderr.str()
    assert result.ret != 0


def test_overriding_the_options_fixture_gives_full_control(pytester):
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mesibo_mock_options():
            return {"mode": "onprem", "app_token": "from-code", "env": {"PUSH_INTERVAL": "1"}}
        """
    )
    pytester.makepyfile(
        """
        def test_overridden(mesibo_mock):
            assert mesibo_mock.app_token == "from-code" and mesibo_mock.health()["mode"] == "onprem"
            assert mesibo_mock.runtime.settings.push_interval == 1
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_pytest_fixtures_describes_each_fixture(pytester):
    pytester.makepyfile("def test_x(mesibo_mock):\n    pass\n")
    out = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider").stdout.str()
    for name, words in (
        ("mesibo_mock", "reset and on real time before each test"),
        ("mesibo_mock_server", "one per"),
        ("mesibo_mock_options", "ini options"),
    ):
        assert name in out and words in out, (name, out[-3000:])


def test_each_xdist_worker_gets_its_own_server(pytester):
    pytester.makepyfile(
        """
        import os, pathlib

        def record(mesibo_mock, n):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "none")
            path = pathlib.Path(os.environ["RECORD_DIR"]) / f"{worker}-{n}"
            path.write_text(mesibo_mock.url)
            mesibo_mock.register_device(f"user-{n}")
            assert [d["address"] for d in mesibo_mock.devices()] == [f"user-{n}"]

        def test_a(mesibo_mock): record(mesibo_mock, "a")
        def test_b(mesibo_mock): record(mesibo_mock, "b")
        def test_c(mesibo_mock): record(mesibo_mock, "c")
        def test_d(mesibo_mock): record(mesibo_mock, "d")
        """
    )
    record_dir = pytester.path / "records"
    record_dir.mkdir()
    pytester._monkeypatch.setenv("RECORD_DIR", str(record_dir))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    urls: dict[str, set[str]] = {}
    for path in record_dir.iterdir():
        urls.setdefault(path.name.split("-")[0], set()).add(path.read_text())
    assert set(urls) == {"gw0", "gw1"}
    assert all(len(u) == 1 for u in urls.values())  # one server per worker for the whole session
    assert urls["gw0"] != urls["gw1"]  # and not the same server


def test_under_xdist_each_worker_keeps_its_own_store(pytester):
    pytester.makeini("[pytest]\nmesibo_mock_keep_db = kept.db\n")
    pytester.makepyfile(
        """
        def test_a(mesibo_mock): mesibo_mock.backend("useradd", user={"address": "a"})
        def test_b(mesibo_mock): mesibo_mock.backend("useradd", user={"address": "b"})
        def test_c(mesibo_mock): mesibo_mock.backend("useradd", user={"address": "c"})
        def test_d(mesibo_mock): mesibo_mock.backend("useradd", user={"address": "d"})
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert sorted(p.name for p in pytester.path.glob("kept*.db")) == ["kept-gw0.db", "kept-gw1.db"]


def test_a_reset_keeps_the_default_apps_random_token():
    with MesiboMock(app_token=None) as mock:
        token = mock.app_token
        mock.reset()
        assert [a["token"] for a in mock.apps()] == [token]
        assert mock.backend("usersget")["result"] is True


STRICT = Path(__file__).resolve().parent.parent / "examples" / "strict-user"


def test_strict_mode_fails_the_typo_test_and_a_failed_test_reports_its_backend_calls(pytester):
    pytester.makeini((STRICT / "pytest.ini").read_text())
    pytester.makepyfile(test_calls=(STRICT / "tests" / "test_backend_calls.py").read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_typo_mesibo_would_ignore_fails_at_teardown*",
            "*'push.sounds' is not a field of pushset: ignored, as Mesibo ignores it (did you mean 'push.sound'?)*",
            "*mesibo-mock: backend calls during this test*",
            "*op=userdel (json) -> INVALIDVALUE 400*",
            "*note:   [[]refused[]] 'user.address' is not a user of this app: '654321'*",
        ]
    )


def test_without_strict_mode_a_typo_only_shows_in_the_journal(pytester):
    pytester.makepyfile(test_calls=(STRICT / "tests" / "test_backend_calls.py").read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)


def test_mesibo_mock_strict_flag_and_mistakes(tmp_path):
    with MesiboMock(strict=True) as mock:
        mock.backend("pushset", push={"sounds": True})
        mock.backend("nosuchop")
        mock.backend("useradd", user={"address": "1", "otp": "123"})  # a Mesibo parameter, not a mistake
        found = [(m["op"], m["field"]) for m in mock.mistakes()]
        assert mock.strict and found == [("pushset", "push.sounds"), ("nosuchop", "op")]
        report = mock.mistakes_report()
        assert report.startswith("mesibo-mock strict mode: 2 backend call mistake(s)")
        assert "  request #1 pushset: 'push.sounds' is not a field of pushset" in report
        assert "(did you mean 'push.sound'?)" in report


def test_the_readmes_python_tests_pass_as_written(pytester):
    """Every ```python block of the README that defines a test runs green in a user's pytest."""
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "def test_" in b]
    assert blocks, "the README shows no pytest test"
    pytester.makepyfile(**{f"test_readme_{i}": block for i, block in enumerate(blocks)})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=sum(block.count("def test_") for block in blocks))


def test_keep_db_keeps_the_store_and_a_failed_test_names_the_serve_command_that_shows_it(pytester):
    """mesibo_mock_keep_db: the session's store stays at the path, a failed test's store is copied beside
    it, and `mesibo-mock serve --db` on that copy shows the failed test's calls and pushes."""
    import re
    import sqlite3
    import subprocess

    import httpx

    from mesibo_mock.testing import free_port, serve_command

    pytester.makeini("[pytest]\nmesibo_mock_keep_db = kept/tests.db\nmesibo_mock_mode = onprem\n")
    pytester.makepyfile(
        """
        def test_sends_and_fails(mesibo_mock):
            mesibo_mock.register_device("kept-user", "android")
            mesibo_mock.backend("useradd", user={"address": "kept-user", "name": "Kept"})
            assert False, "on purpose"

        def test_runs_last(mesibo_mock):
            mesibo_mock.backend("useradd", user={"address": "last-user"})
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    copy = re.search(r"mesibo-mock serve --db (\S+)", output).group(1)
    assert copy.endswith(".db") and "test_sends_and_fails" in copy
    kept = pytester.path / "kept" / "tests.db"
    assert kept.exists() and Path(copy).parent == kept.parent
    with sqlite3.connect(kept) as db:  # the session's store: its last test's state
        assert db.execute("SELECT COUNT(*) FROM users WHERE address = 'last-user'").fetchone()[0] == 1
    port = free_port()
    proc = subprocess.Popen(
        [*serve_command(), "serve", "--db", copy, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(url + "/_mock/health").status_code == 200:
                    break
            except httpx.HTTPError:
                import time

                time.sleep(0.05)
        ops = [e["op"] for e in httpx.get(url + "/_mock/requests").json()["requests"]]
        assert ops == ["useradd"]
        users = httpx.get(url + "/_mock/requests").json()["requests"][0]["fields"]["user"]
        assert users["address"] == "kept-user"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_without_keep_db_a_failed_test_says_how_to_keep_its_store(pytester):
    pytester.makepyfile(
        """
        def test_fails(mesibo_mock):
            mesibo_mock.backend("usersget")
            assert False
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*set mesibo_mock_keep_db = "path"*`mesibo-mock serve --db path`*'])


def test_mesibo_app_is_an_app_named_after_its_test_and_a_failure_prints_the_servers_report(pytester):
    """SPEC 9.1: an app per test, named after the pytest node id, so the dashboard says which test made
    which rows; a failed test's report is GET /_mock/report for that app."""
    pytester.makepyfile(
        test_named="""
        import httpx

        def test_named(mesibo_app, mesibo_mock):
            names = [a["name"] for a in mesibo_mock.apps()]
            assert "test_named.py::test_named" in names and mesibo_app.name == "test_named.py::test_named"
            assert mesibo_app.app()["credentials"]["fcm"] is not None  # sample credentials

        def test_fails(mesibo_app, mesibo_mock):
            mesibo_mock.backend("usersget")  # the default app's call is not this app's report
            httpx.post(mesibo_app.backend_url, json={"op": "useradd", "token": mesibo_app.token,
                                                     "user": {"address": "ann", "nmae": "Ann"}})
            assert False, "the code under test went wrong"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mesibo-mock: backend calls during this test*",
            "*/backend op=useradd (json) -> ok*",
            "*note:   [[]unknown field[]] 'user.nmae'*",
            "*strict mode*",
        ]
    )
    assert "op=usersget" not in result.stdout.str()
