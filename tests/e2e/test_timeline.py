"""GET /_mock/messages/{mid}/timeline: a message's life on the emulator clock, what the dashboard draws."""

from __future__ import annotations

import time

from tests.e2e.test_delivery import upload


def timeline(mock, mid: int) -> dict:
    response = mock.client.get(f"/_mock/messages/{mid}/timeline")
    assert response.status_code == 200, response.text
    return response.json()


def test_an_offline_recipients_push_its_fallback_and_the_webhook_attempts_are_drawn_in_time_order(mock):
    upload(mock, "fcm-service-account.json")
    mock.freeze(True)
    for address in ("ann", "bob", "cat"):
        mock.backend("useradd", user={"address": address})
    mock.register_device("bob", "android", responds=False)  # offline and silent: a fallback follows
    mock.set_online("cat", True)
    mock.set_webhook("http://127.0.0.1:9/hook")  # nothing listens: each attempt fails
    mid = mock.send_message("ann", "bob,cat", "hello")
    deadline = time.monotonic() + 10
    while not mock.webhook_deliveries():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    mock.advance(30)  # the fallback is made
    drawn = timeline(mock, mid)
    assert drawn["detailed"] is True and drawn["app_name"] == "default" and drawn["from"] == "ann"
    counts = drawn["counts"]
    assert (counts["recipients"], counts["online"], counts["offline"]) == (2, 1, 1)
    assert counts["pushes"] == {"sent": 2} and counts["fallbacks"] == 1
    assert counts["events"]["message"] == 1 and counts["attempts"]["failed"] >= 1
    items = drawn["items"]
    assert items[0]["kind"] == "call" and items[0]["at"] == 0 and "message call" in items[0]["text"]
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    recipients = {i["address"]: i["state"] for i in items if i["kind"] == "recipient"}
    assert recipients == {"bob": "offline", "cat": "online"}
    first, fallback = [i for i in items if i["kind"] == "push"]
    assert first["at"] == 0 and "FCM answered 200" in first["text"]
    assert fallback["at"] == 30 and f"fallback of push #{first['push']}" in fallback["text"]
    assert any(i["kind"] == "event" and "offline message to bob" in i["text"] for i in items)
    assert any(i["kind"] == "attempt" and i["state"] == "failed" for i in items)
    assert drawn["span"] >= 30


def test_a_throttled_push_is_drawn_as_not_sent(mock):
    upload(mock, "fcm-service-account.json")
    mock.freeze(True)
    for address in ("ann", "bob"):
        mock.backend("useradd", user={"address": address})
    mock.register_device("bob", "android")
    mock.send_message("ann", "bob", "one")
    mock.advance(1)
    second = mock.send_message("ann", "bob", "two")
    [push] = [i for i in timeline(mock, second)["items"] if i["kind"] == "push"]
    assert push["state"] == "throttled" and "not sent (throttled)" in push["text"]


def test_an_unknown_message_has_no_timeline(mock):
    response = mock.client.get("/_mock/messages/999/timeline")
    assert response.status_code == 404 and response.json() == {"detail": "no message 999"}
