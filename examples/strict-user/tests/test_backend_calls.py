"""What strict mode and the failure report look like in a user's project. Two of these four tests are
meant to fail (check.py runs them and checks how): a typo Mesibo would ignore, and a wrong assumption.
One expects a finding: a finding the test reads with `mistakes()` is expected and fails it not."""

from __future__ import annotations

import httpx


def mesibo(app, op: str, **fields) -> dict:
    """Stands for the code under test: a chat backend calling Mesibo's API."""
    return httpx.post(app.backend_url, json={"op": op, "token": app.token, **fields}).json()


def test_clean_calls_pass(mesibo_app):
    assert mesibo(mesibo_app, "pushset", push={"sound": True})["result"] is True
    assert mesibo(mesibo_app, "useradd", user={"address": "123456", "name": "Ann"})["result"] is True


def test_a_typo_mesibo_would_ignore_fails_at_teardown(mesibo_app):
    answer = mesibo(mesibo_app, "pushset", push={"sounds": True})
    assert answer["result"] is True  # Mesibo says yes and changes nothing: only strict mode notices


def test_a_finding_the_test_expects_is_read_and_fails_it_not(mesibo_app):
    mesibo(mesibo_app, "pushset", push={"sounds": True})
    [finding] = mesibo_app.mistakes()  # read, so expected
    assert finding["field"] == "push.sounds" and "push.sound" in finding["hint"]


def test_a_failing_test_lists_its_backend_calls(mesibo_app):
    mesibo(mesibo_app, "useradd", user={"address": "123456"})
    assert mesibo(mesibo_app, "userdel", user={"address": "654321"})["result"] is True
