"""pushdebug windows and webhook delivery of push results, with a real local receiver."""

from __future__ import annotations

import datetime as dt

import pytest

from mesibo_mock.testing import MesiboMock, free_port
from tests.e2e.test_delivery import upload
from tests.receiver import Receiver


def seconds(iso_a: str, iso_b: str) -> float:
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(iso_b) - parse(iso_a)).total_seconds()


# --- pushdebug ----------------------------------------------------------------------------------------
def test_default_window_is_three_hours(mock):
    mock.freeze(True)
    debug = mock.pushdebug()["push"]["debug"]
    assert debug["active"] is True
    assert seconds(debug["start"], debug["end"]) == 10800
    assert seconds(debug["start"], debug["next_allowed"]) == 8 * 3600
    assert mock.app()["debug"] == debug


def test_cloud_window_longer_than_three_hours_is_badvalue(mock):
    body = mock.pushdebug(10801)
    assert body["error"] == "BADVALUE" and body["properties"] == ["duration"]
    assert mock.app()["debug"] is None


@pytest.mark.parametrize("value", ["long", -1, 1.5, True, {"a": 1}])
def test_bad_durations_are_badvalue(mock, value):
    body = mock.backend("pushdebug", push={"duration": value})
    assert body["error"] == "BADVALUE" and body["properties"] == ["duration"]


def test_one_window_per_eight_hours_counted_from_its_start(mock):
    mock.freeze(True)
    assert mock.pushdebug(1800)["result"] is True
    mock.advance(3600)  # the window has ended, but the wait is counted from its start
    refused = mock.pushdebug(1800)
    assert refused["error"] == "RATELIMITED" and refused["retry_after"] == 7 * 3600
    mock.advance(7 * 3600 - 1)
    assert mock.pushdebug(1800)["retry_after"] == 1
    mock.advance(1)
    assert mock.pushdebug(1800)["push"]["debug"]["active"] is True


def test_duration_zero_ends_the_window_without_resetting_the_wait(mock):
    mock.freeze(True)
    mock.pushdebug(3600)
    mock.advance(60)
    ended = mock.pushdebug(0)["push"]["debug"]
    assert ended["active"] is False and seconds(ended["start"], ended["end"]) == 60
    assert mock.pushdebug(600)["error"] == "RATELIMITED"


def test_window_expires_with_the_clock(mock):
    mock.freeze(True)
    mock.pushdebug(600)
    mock.advance(600)
    assert mock.app()["debug"]["active"] is False


def test_onprem_has_no_window_limits():
    with MesiboMock(mode="onprem") as mock:
        first = mock.pushdebug(86400)["push"]["debug"]
        assert first["active"] is True and first["next_allowed"] is None
        again = mock.pushdebug(600)["push"]["debug"]  # a new call replaces the window at once
        assert seconds(again["start"], again["end"]) == 600
        assert mock.pushdebug(365 * 86400)["result"] is True
        assert mock.pushdebug(365 * 86400 + 1)["error"] == "BADVALUE"


def test_window_survives_a_restart(tmp_path):
    db = str(tmp_path / "d.db")
    with MesiboMock(subprocess=True, db=db) as mock:
        window = mock.pushdebug(3600)["push"]["debug"]
    with MesiboMock(subprocess=True, db=db) as mock:
        assert mock.app()["debug"] == {**window, "active": True}
        assert mock.pushdebug(60)["error"] == "RATELIMITED"


def test_records_made_in_a_window_carry_debug_true(mock):
    mock.freeze(True)
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("1", "android")
    mock.backend("pushtest", push={"address": "1"})
    mock.pushdebug(600)
    mock.backend("pushtest", push={"address": "1"})
    mock.advance(600)
    mock.backend("pushtest", push={"address": "1"})
    assert [p["debug"] for p in mock.pushes()] == [False, True, False]


# --- webhooks -----------------------------------------------------------------------------------------
@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def hooked(mock, receiver):
    upload(mock, "fcm-service-account.json")
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("1", "android")
    answer = mock.set_webhook(receiver.url, "s3cret")["webhook"]
    assert (answer["url"], answer["events"]) == (receiver.url, ["push", "message", "user"])
    return mock


def test_webhook_is_set_shown_and_removed(hooked, receiver):
    assert hooked.app()["webhook"] == {"url": receiver.url, "events": ["push", "message", "user"]}
    assert "s3cret" not in hooked.client.get(f"/_mock/apps/{hooked.app_token}").text
    assert hooked.client.delete(f"/_mock/apps/{hooked.app_token}/webhook").status_code == 204
    assert hooked.app()["webhook"] is None
    hooked.backend("pushtest", push={"address": "1"})
    hooked.wait_for_pushes(1)
    assert hooked.webhook_attempts() == []


def test_bad_webhook_bodies_are_422(mock):
    url = f"/_mock/apps/{mock.app_token}/webhook"
    assert mock.client.put(url, json={"url": "ftp://x"}).status_code == 422
    assert mock.client.put(url, json={}).status_code == 422
    assert mock.client.put("/_mock/apps/nope/webhook", json={"url": "http://x"}).status_code == 404


def test_the_events_of_one_request_travel_in_one_post_in_the_v2_envelope(hooked, receiver):
    hooked.register_device("1", "android", push_token="second")
    results = hooked.backend("pushtest", push={"address": "1"})["push"]["results"]
    [post] = receiver.wait_for(1)
    event = post["json"]
    app_id = event["aid"]
    assert list(event) == ["server", "id", "v", "aid", "ts", "secret", "events"]
    assert event["server"] == "mesibo" and event["v"] == 2 and isinstance(app_id, int) and event["id"] == 1
    assert event["secret"] == "s3cret" and isinstance(event["ts"], int)
    now_ms = hooked.clock()["epoch"] * 1000  # webhook ts is in milliseconds, as Mesibo sends it
    assert abs(event["ts"] - now_ms) < 60_000
    assert [e["type"] for e in event["events"]] == ["push", "push"]
    assert [e["push"]["id"] for e in event["events"]] == [r["id"] for r in results]
    first = event["events"][0]["push"]
    assert first["status"] == "sent" and "request" not in first and "response" not in first  # not debugging
    hooked.backend("pushtest", push={"address": "1"})
    assert receiver.wait_for(2)[1]["json"]["id"] == 2  # the id grows with each POST to the app


def test_request_and_response_travel_only_while_debugging(hooked, receiver):
    hooked.pushdebug(600)
    hooked.backend("pushtest", push={"address": "1"})
    push = receiver.wait_for(1)[0]["json"]["events"][0]["push"]
    assert push["debug"] is True
    assert push["request"]["url"].endswith("/messages:send") and push["response"]["status"] == 200


def test_no_secret_field_without_a_secret(mock, receiver):
    mock.register_device("1", "android")
    mock.set_webhook(receiver.url)
    mock.backend("pushtest", push={"address": "1"})
    assert "secret" not in receiver.wait_for(1)[0]["json"]


def test_slow_receiver_never_delays_the_api(hooked, receiver):
    receiver.hold.clear()  # the receiver will not answer until released
    body = hooked.backend("pushtest", push={"address": "1"})
    assert body["result"] is True  # answered while the receiver is still holding the webhook
    assert receiver.requests == []
    receiver.hold.set()
    receiver.wait_for(1)


def test_failed_deliveries_are_retried_with_backoff_at_most_three_times(hooked, receiver):
    hooked.freeze(True)
    receiver.default_status = 500
    hooked.backend("pushtest", push={"address": "1"})
    hooked.wait_for_webhook_attempts(1)
    hooked.advance(0.5)
    assert len(hooked.webhook_attempts()) == 1  # the retry waits about 1 s
    hooked.advance(0.5)
    hooked.wait_for_webhook_attempts(2)
    hooked.advance(1.5)
    assert len(hooked.webhook_attempts()) == 2  # then about 2 s
    hooked.advance(0.5)
    attempts = hooked.wait_for_webhook_attempts(3)
    hooked.advance(60)
    assert len(hooked.webhook_attempts()) == 3 and len(receiver.requests) == 3
    assert [a["attempt"] for a in attempts] == [3, 2, 1]
    push_id = hooked.pushes()[0]["id"]
    for attempt in attempts:
        assert attempt["status_code"] == 500 and attempt["ok"] is False
        assert "500" in attempt["error"] and attempt["duration_ms"] >= 0 and attempt["url"] == receiver.url
        [event] = hooked.events(delivery=attempt["delivery"])
        assert event["push"]["id"] == push_id
    assert len(hooked.client.get("/_mock/webhooks", params={"push_id": push_id}).json()["deliveries"]) == 3


def test_a_retry_that_succeeds_stops_the_attempts(hooked, receiver):
    hooked.freeze(True)
    receiver.statuses = [503]
    hooked.backend("pushtest", push={"address": "1"})
    hooked.wait_for_webhook_attempts(1)
    hooked.advance(1)
    attempts = hooked.wait_for_webhook_attempts(2)
    assert [(a["attempt"], a["ok"], a["status_code"]) for a in attempts] == [(2, True, 200), (1, False, 503)]
    hooked.advance(60)
    assert len(hooked.webhook_attempts()) == 2


def test_timeouts_are_logged_and_retried(receiver):
    with MesiboMock(env={"WEBHOOK_TIMEOUT": "0.2"}) as mock:
        mock.register_device("1", "android")
        mock.set_webhook(receiver.url)
        mock.freeze(True)
        receiver.hang_seconds = 1.0
        mock.backend("pushtest", push={"address": "1"})
        [first] = mock.wait_for_webhook_attempts(1)
        assert first["ok"] is False and first["status_code"] is None and "timed out" in first["error"]
        receiver.hang_seconds = 0
        mock.advance(1)
        assert mock.wait_for_webhook_attempts(2)[0]["ok"] is True


def test_unreachable_receiver_is_logged(mock):
    mock.register_device("1", "android")
    mock.set_webhook(f"http://127.0.0.1:{free_port()}/nothing-here")
    mock.backend("pushtest", push={"address": "1"})
    [attempt] = mock.wait_for_webhook_attempts(1)
    assert attempt["ok"] is False and attempt["status_code"] is None and attempt["error"]


def test_webhook_log_filters_by_app(hooked, receiver):
    hooked.backend("pushtest", push={"address": "1"})
    hooked.wait_for_webhook_attempts(1)
    assert len(hooked.webhook_attempts()) == 1
    assert hooked.webhook_attempts(token="other-app") == []


def test_owed_delivery_is_made_after_a_restart(tmp_path):
    db = str(tmp_path / "w.db")
    port = free_port()
    with MesiboMock(subprocess=True, db=db) as mock:
        mock.register_device("1", "android")
        mock.set_webhook(f"http://127.0.0.1:{port}/hook")
        mock.freeze(True)  # the retry stays owed: the frozen clock never reaches it
        mock.backend("pushtest", push={"address": "1"})
        [failed] = mock.wait_for_webhook_attempts(1)
        assert failed["ok"] is False
        push_id = mock.pushes()[0]["id"]
    with Receiver(port) as receiver, MesiboMock(subprocess=True, db=db) as mock:
        mock.advance(5)
        delivered = receiver.wait_for(1)[0]["json"]
        assert delivered["events"][0]["push"]["id"] == push_id
        assert [a["attempt"] for a in mock.wait_for_webhook_attempts(2)] == [2, 1]


def test_webhook_from_the_seed_file(tmp_path, receiver):
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "apps:\n  - name: s\n    token: hook-app\n"
        f"    webhook: {{url: '{receiver.url}', secret: from-seed}}\n"
        "    users: [{address: '1', devices: [{platform: android, appid: a, push_token: t1}]}]\n"
    )
    with MesiboMock(seed=seed, app_token="hook-app") as mock:
        assert mock.app()["webhook"] == {"url": receiver.url, "events": ["push", "message", "user"]}
        mock.backend("pushtest", push={"address": "1"})
        assert receiver.wait_for(1)[0]["json"]["secret"] == "from-seed"
