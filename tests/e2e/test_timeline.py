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
    while not mock.webhook_attempts():
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


def group_of(mock, size: int) -> int:
    members = [f"g{n}" for n in range(size)]
    for address in ["sender", *members]:
        mock.backend("useradd", user={"address": address})
    return mock.backend("groupadd", group={"name": f"g{size}", "members": {"m": ",".join(members)}})["group"][
        "gid"
    ]


def test_a_message_to_exactly_50_recipients_is_drawn_row_by_row_and_to_51_as_counts(mock):
    """SPEC section 6: counts per kind past 50 recipients, not at 50."""
    mock.freeze(True)
    fifty = group_of(mock, 50)
    drawn = timeline(mock, mock.send_message("sender", gid=fifty, message="hi"))
    assert drawn["detailed"] is True and drawn["counts"]["recipients"] == 50
    assert sum(1 for i in drawn["items"] if i["kind"] == "recipient") == 50
    mock.backend("useradd", user={"address": "g50"})
    mock.backend("groupeditmembers", gid=fifty, m="g50")
    drawn = timeline(mock, mock.send_message("sender", gid=fifty, message="hi"))
    assert drawn["detailed"] is False and drawn["counts"]["recipients"] == 51 and drawn["shown"] == 50
    assert sum(1 for i in drawn["items"] if i["kind"] == "recipient") == 50  # the first 50 rows
    assert any(i["kind"] == "recipients" and "51 recipients" in i["text"] for i in drawn["items"])


def test_a_summarised_kind_takes_the_state_of_its_worst_part_failed_before_throttled(mock):
    upload(mock, "fcm-service-account.json")
    mock.freeze(True)
    gid = group_of(mock, 60)
    for n in range(60):
        mock.register_device(f"g{n}", "android", push_token=f"fcm-g{n}")
    mock.send_message("sender", gid=gid, message="one")  # every push sent
    throttled = timeline(mock, mock.send_message("sender", gid=gid, message="two"))  # within 5 s
    assert throttled["counts"]["pushes"] == {"throttled": 60}
    [pushes] = [i for i in throttled["items"] if i["kind"] == "pushes"]
    assert pushes["state"] == "throttled"
    mock.advance(10)
    mock.inject_fault("UNREGISTERED", address="g0")  # g0's token is dead from now on
    mock.send_message("sender", gid=gid, message="three")  # g0 failed, the rest sent
    mixed = timeline(
        mock, mock.send_message("sender", gid=gid, message="four")
    )  # g0 failed, the rest throttled
    assert mixed["counts"]["pushes"] == {"failed": 1, "throttled": 59}
    [pushes] = [i for i in mixed["items"] if i["kind"] == "pushes"]
    assert pushes["state"] == "failed"


def test_the_counts_are_the_stores_own_tallies_not_a_count_of_every_row(mock, tmp_path):
    """Counted as the rows are written: a timeline reads a few rows whatever the message's size, so
    its counts stand even once the rows are gone (here, removed behind the server's back)."""
    import sqlite3

    with mock.__class__(subprocess=True, db=str(tmp_path / "t.db")) as own:
        own.freeze(True)
        gid = group_of(own, 120)
        mid = own.send_message("sender", gid=gid, message="many")
        with sqlite3.connect(own.db_path) as conn:
            conn.execute("DELETE FROM message_recipients WHERE mid = ?", (mid,))
        drawn = timeline(own, mid)
        assert drawn["counts"]["recipients"] == 120 and drawn["counts"]["offline"] == 120
        assert not [i for i in drawn["items"] if i["kind"] == "recipient"]
