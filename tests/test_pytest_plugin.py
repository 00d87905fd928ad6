"""The `mesibo_mock` fixture, as a user's test suite sees it (pytester runs a separate pytest)."""

from __future__ import annotations

from pathlib import Path

from mesibo_mock.testing import MesiboMock

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
    result.assert_outcomes(passed=4)


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
    result.assert_outcomes(passed=2, failed=2)


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
    except RuntimeError as exc:
        assert "seed" in str(exc) and "exited with 2" in str(exc)
