"""The cloud test-push limit, onprem without it, exact under concurrency, and the ratelimit option."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mesibo_mock.testing import MesiboMock


@pytest.fixture
def user(mock):
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("1", "android")
    return mock


def test_cloud_limit_is_ten_per_hour_then_ratelimited(user):
    user.freeze(True)
    for _ in range(10):
        assert user.backend("pushtest", push={"address": "1"})["result"] is True
    refused = user.backend("pushtest", push={"address": "1"})
    assert refused["error"] == "RATELIMITED" and refused["retry_after"] == 3600
    assert len(user.pushes()) == 10  # the refused call made no push


def test_refused_calls_are_not_counted_and_the_window_rolls(user):
    user.freeze(True)
    user.backend("pushtest", push={"address": "1"})
    user.advance(1800)
    for _ in range(9):
        user.backend("pushtest", push={"address": "1"})
    for _ in range(5):
        assert user.backend("pushtest", push={"address": "1"})["retry_after"] == 1800
    user.advance(1800)  # the first call leaves the window; the refused ones never entered it
    assert user.backend("pushtest", push={"address": "1"})["result"] is True
    assert user.backend("pushtest", push={"address": "1"})["error"] == "RATELIMITED"


def test_bad_requests_do_not_count(user):
    for _ in range(12):
        assert user.backend("pushtest", push={"address": "ghost"})["error"] == "INVALIDVALUE"
    assert user.backend("pushtest", push={"address": "1"})["result"] is True


def test_limit_is_per_app(user):
    for _ in range(10):
        user.backend("pushtest", push={"address": "1"})
    other = user.create_app("other", "other-token").token
    user.register_device("1", "android", token=other)
    body = user.client.post(
        "/backend", json={"op": "pushtest", "token": other, "push": {"address": "1"}}
    ).json()
    assert body["result"] is True


def test_onprem_has_no_test_push_limit():
    with MesiboMock(mode="onprem") as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("1", "android")
        results = [mock.backend("pushtest", push={"address": "1"})["result"] for _ in range(25)]
    assert all(results)


def test_limit_is_exact_under_concurrent_requests():
    with MesiboMock(subprocess=True, env={"TESTPUSH_LIMIT": "10/3600"}) as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("1", "android")

        def call(_):
            with httpx.Client(timeout=30) as client:
                return client.post(
                    mock.backend_url,
                    json={"op": "pushtest", "token": mock.app_token, "push": {"address": "1"}},
                ).json()

        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(call, range(40)))
        assert sum(a["result"] for a in answers) == 10
        assert sum(a.get("error") == "RATELIMITED" for a in answers) == 30
        assert len(mock.pushes(limit=1000)) == 10


# --- the ratelimit option -----------------------------------------------------------------------------
def test_a_push_that_was_not_sent_does_not_start_the_interval(mock):
    mock.freeze(True)
    mock.register_device("1", "android")
    statuses = [
        mock.backend("pushtest", push={"address": "1"})["push"]["results"][0]["status"] for _ in range(2)
    ]
    assert statuses == ["failed", "failed"]  # no FCM credential: nothing sent, so nothing throttled


def test_ratelimit_throttled_record_shows_the_request_but_no_response(mock):
    from tests.e2e.test_delivery import upload

    upload(mock, "fcm-service-account.json")
    mock.freeze(True)
    mock.register_device("1", "android")
    statuses = []
    for step in (0, 4, 1):  # t=0 sent, t=4 throttled, t=5 sent again
        mock.advance(step)
        statuses.append(mock.backend("pushtest", push={"address": "1"})["push"]["results"][0]["status"])
    assert statuses == ["sent", "throttled", "sent"]
    throttled = mock.pushes(status="throttled")[0]
    assert throttled["request"]["url"].endswith("/messages:send") and throttled["response"] is None


def test_a_throttled_push_names_the_rule_and_the_seconds_and_its_call_says_the_way_out(mock):
    from tests.e2e.test_delivery import upload

    upload(mock, "fcm-service-account.json")
    mock.freeze(True)
    mock.register_device("1", "android")
    mock.backend("pushtest", push={"address": "1"})
    mock.advance(2.5)
    result = mock.backend("pushtest", push={"address": "1"})["push"]["results"][0]
    assert result["status"] == "throttled"
    assert result["reason"] == (
        "RATELIMIT: 2.5 s since the last push to this device, within the 5 s interval (MESIBO_MOCK_PUSH_INTERVAL)"
    )
    assert mock.pushes(status="throttled")[0]["reason"] == result["reason"]
    entry = mock.requests(op="pushtest", limit=1)[0]
    (note,) = [n for n in entry["diagnosis"] if n["kind"] == "throttled"]
    assert note["problem"].startswith("a push was throttled by the app's ratelimit option (RATELIMIT: 2.5 s")
    assert '"ratelimit": false' in note["hint"] and "MESIBO_MOCK_PUSH_INTERVAL" in note["hint"]
    assert entry in mock.requests(op="pushtest", diagnosed=True)
    assert mock.mistakes_report() is None  # a throttle is not the caller's mistake: strict mode passes


def test_pushes_sent_while_ratelimit_was_off_count_once_it_is_turned_on(mock):
    """The last push time is written only while ratelimit is on; turning it on recalls the pushes of the
    interval before, so the rule holds as if it had been on all along."""
    from tests.e2e.test_delivery import upload

    upload(mock, "fcm-service-account.json")
    mock.freeze(True)
    mock.register_device("1", "android")
    mock.register_device("2", "android", push_token="fcm-token-2")
    mock.backend("pushset", push={"ratelimit": False})
    mock.backend("pushtest", push={"address": "1"})  # t=0
    mock.advance(10)
    mock.backend("pushtest", push={"address": "2"})  # t=10
    mock.advance(1)
    mock.backend("pushset", push={"ratelimit": True})  # t=11: 2's push is within 5 s, 1's is not
    results = [mock.backend("pushtest", push={"address": a})["push"]["results"][0] for a in ("1", "2")]
    assert [r["status"] for r in results] == ["sent", "throttled"]
    assert results[1]["reason"].startswith("RATELIMIT: 1.0 s since")


def test_ratelimit_off_sends_every_push(mock):
    from tests.e2e.test_delivery import upload

    upload(mock, "fcm-service-account.json")
    mock.backend("pushset", push={"ratelimit": False})
    mock.freeze(True)
    mock.register_device("1", "android")
    statuses = [
        mock.backend("pushtest", push={"address": "1"})["push"]["results"][0]["status"] for _ in range(3)
    ]
    assert statuses == ["sent", "sent", "sent"]


def test_push_interval_setting_is_honoured():
    from tests.e2e.test_delivery import upload

    with MesiboMock(env={"PUSH_INTERVAL": "60"}) as mock:
        upload(mock, "fcm-service-account.json")
        mock.freeze(True)
        mock.register_device("1", "android")
        statuses = []
        for step in (0, 30, 30):
            mock.advance(step)
            statuses.append(mock.backend("pushtest", push={"address": "1"})["push"]["results"][0]["status"])
    assert statuses == ["sent", "throttled", "sent"]
