"""What strict mode and the failure report look like in a user's project. Two of these three tests are
meant to fail (check.py runs them and checks how): a typo Mesibo would ignore, and a wrong assumption."""

from __future__ import annotations

import httpx


def mesibo(mock, op: str, **fields) -> dict:
    """Stands for the code under test: a chat backend calling Mesibo's API."""
    return httpx.post(mock.backend_url, json={"op": op, "token": mock.app_token, **fields}).json()


def test_clean_calls_pass(mesibo_mock):
    assert mesibo(mesibo_mock, "pushset", push={"sound": True})["result"] is True
    assert mesibo(mesibo_mock, "useradd", user={"address": "123456", "name": "Ann"})["result"] is True


def test_a_typo_mesibo_would_ignore_fails_at_teardown(mesibo_mock):
    answer = mesibo(mesibo_mock, "pushset", push={"sounds": True})
    assert answer["result"] is True  # Mesibo says yes and changes nothing: only strict mode notices


def test_a_failing_test_lists_its_backend_calls(mesibo_mock):
    mesibo(mesibo_mock, "useradd", user={"address": "123456"})
    assert mesibo(mesibo_mock, "userdel", user={"address": "654321"})["result"] is True
