"""The emulator clock and the settings."""

import time

import pytest
from pydantic import ValidationError

from mesibo_mock.clock import Clock, iso, parse_iso
from mesibo_mock.server.settings import Settings, parse_limit


def test_clock_advance_moves_now_forward():
    clock = Clock()
    before = clock.now()
    clock.advance(3600)
    assert clock.now() - before == pytest.approx(3600, abs=1)


def test_frozen_clock_stands_still_and_advances_exactly():
    clock = Clock()
    clock.freeze(True)
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() == first
    clock.advance(10)
    assert clock.now() == first + 10


def test_set_then_unfreeze_keeps_the_set_time_running():
    clock = Clock()
    target = parse_iso("2030-01-01T00:00:00Z")
    clock.set(target)
    assert clock.now() == pytest.approx(target, abs=1)
    clock.freeze(True)
    clock.freeze(False)
    assert clock.now() == pytest.approx(target, abs=1)


def test_real_returns_to_wall_time():
    clock = Clock()
    clock.advance(1000)
    clock.freeze(True)
    clock.real()
    assert not clock.frozen
    assert clock.now() == pytest.approx(time.time(), abs=1)


def test_iso_round_trip():
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert parse_iso("1970-01-01T00:00:10") == 10
    assert iso(None) is None


def test_limit_parsing():
    assert parse_limit("10/3600") == (10, 3600.0)
    for bad in ("ten", "10", "10/0", "-1/60"):
        with pytest.raises(ValueError):
            parse_limit(bad)


def test_settings_read_environment(monkeypatch):
    monkeypatch.setenv("MESIBO_MOCK_MODE", "ONPREM")
    monkeypatch.setenv("MESIBO_MOCK_TESTPUSH_LIMIT", "3/60")
    settings = Settings()
    assert settings.mode == "onprem"
    assert (settings.testpush_count, settings.testpush_window) == (3, 60)


def test_settings_refuse_bad_mode(monkeypatch):
    monkeypatch.setenv("MESIBO_MOCK_MODE", "space")
    with pytest.raises(ValidationError):
        Settings()
