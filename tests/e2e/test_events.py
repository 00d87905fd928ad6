"""SPEC section 5, Mesibo's events on the webhook, through the real server: users coming online and going
offline, messages that reached an offline user (once until it comes online), push results; the v2
envelope; per-app selection; the MESIBO OK reply; scheduled messages raising theirs at their time."""

from __future__ import annotations

from mesibo_mock.testing import MesiboMock, free_port
from tests.receiver import Receiver


def users(mock, *addresses: str) -> None:
    for address in addresses:
        assert mock.backend("useradd", user={"address": address})["result"] is True


def test_user_events_come_in_order_with_uid_and_address(mock):
    hook = mock.webhook_receiver()
    users(mock, "ann")
    uid = mock.backend("usersget", addr="ann")["users"][0]["uid"]
    mock.set_online("ann", True)
    mock.set_online("ann", True)  # no change: no event
    mock.set_online("ann", False)
    events = hook.wait_for_events(2, type="user")
    assert events == [
        {"type": "user", "user": {"uid": uid, "address": "ann"}, "status": "online"},
        {"type": "user", "user": {"uid": uid, "address": "ann"}, "status": "offline"},
    ]
    posts = [p for p in hook.posts if p["events"][0]["type"] == "user"]
    assert [p["id"] for p in posts] == sorted(p["id"] for p in posts)  # each POST's id grows
    assert [e["status"] for e in mock.events(type="user")] == ["offline", "online"]  # newest first


def test_an_apps_posts_go_one_at_a_time_in_the_order_raised(mock):
    """A receiver that tracks who is online must not see offline before online: while it holds the
    first POST, the second waits for it (before, up to four went at once and could overtake)."""
    import time

    with Receiver() as receiver:
        receiver.hold.clear()
        mock.set_webhook(receiver.url, events=["user"])
        users(mock, "ann")
        mock.set_online("ann", True)
        mock.set_online("ann", False)
        deadline = time.monotonic() + 10
        while receiver.arrived < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        watch_until = time.monotonic() + 1.0  # the old code sent the second within milliseconds
        while time.monotonic() < watch_until:
            assert receiver.arrived == 1, "a second POST went while the first was unanswered"
            time.sleep(0.01)
        receiver.hold.set()
        posts = [r["json"] for r in receiver.wait_for(2)]
    assert [p["events"][0]["status"] for p in posts] == ["online", "offline"]
    assert posts[0]["id"] < posts[1]["id"]


def test_one_offline_message_event_until_the_user_has_been_online(mock):
    hook = mock.webhook_receiver(events=["message"])
    users(mock, "ann", "bob")
    bob = mock.backend("usersget", addr="bob")["users"][0]["uid"]
    first = mock.send_message("ann", "bob", "one")
    mock.send_message("ann", "bob", "two")  # bob is still offline: no second event
    [event] = hook.wait_for_events(1, type="message")
    assert event["user"] == {"uid": bob, "address": "bob"}
    message = event["message"]
    assert (message["mid"], message["from"], message["to"], message["gid"], message["message"]) == (
        first,
        "ann",
        ["bob"],
        None,
        "one",
    )
    assert isinstance(message["ts"], int) and message["type"] == 0
    mock.set_online("bob", True)
    mock.send_message("ann", "bob", "while online")  # online: it gets the message, no event
    mock.set_online("bob", False)
    third = mock.send_message("ann", "bob", "three")
    events = hook.wait_for_events(2, type="message")
    assert [e["message"]["mid"] for e in events] == [first, third]
    assert [e["type"] for e in hook.events()] == ["message", "message"]  # message-only: no user events


def test_a_group_message_raises_one_event_per_offline_recipient(mock):
    users(mock, "ann", "bob", "cy", "dan")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "ann,bob,cy,dan"}})["group"]["gid"]
    mock.set_online("dan", True)
    hook = mock.webhook_receiver(events=["message"])
    mid = mock.send_message("ann", gid=gid, message="to all")
    events = hook.wait_for_events(2, type="message")
    assert sorted(e["user"]["address"] for e in events) == ["bob", "cy"]
    assert {e["message"]["mid"] for e in events} == {mid} and events[0]["message"]["gid"] == gid
    assert len(hook.posts) == 1  # the events of one request travel in one POST


def test_a_message_with_expiry_0_raises_no_offline_event(mock):
    hook = mock.webhook_receiver()
    users(mock, "ann", "bob")
    mock.backend("message", message={"from": "ann", "to": "bob", "message": "now", "expiry": 0})
    mock.send_message("ann", "bob", "kept")
    [event] = hook.wait_for_events(1, type="message")
    assert event["message"]["message"] == "kept"


def test_selection_a_message_only_webhook_gets_no_user_or_push_events(mock):
    hook = mock.webhook_receiver(events=["message"])
    assert mock.app()["webhook"]["events"] == ["message"]
    users(mock, "ann")
    mock.register_device("bob")
    mock.set_online("ann", True)
    mock.backend("pushtest", push={"address": "bob"})
    mock.send_message("ann", "bob", "hi")
    hook.wait_for_events(1)
    mock.set_online("ann", False)
    assert [e["type"] for e in hook.events()] == ["message"]
    assert {e["type"] for e in mock.events()} == {"message"}


def test_push_and_user_selection(mock):
    hook = mock.webhook_receiver(events=["push", "user"])
    users(mock, "ann")
    mock.register_device("bob")
    mock.set_online("ann", True)
    mock.send_message("ann", "bob", "hi")
    types = [e["type"] for e in hook.wait_for_events(2)]
    assert sorted(types) == ["push", "user"]


def test_a_200_without_mesibo_ok_is_a_failed_attempt_retried_three_times(mock):
    with Receiver() as receiver:
        receiver.ok_body = b"OK"
        mock.set_webhook(receiver.url)
        mock.freeze(True)
        users(mock, "ann")
        mock.set_online("ann", True)
        mock.wait_for_webhook_attempts(1)
        mock.advance(1)
        mock.wait_for_webhook_attempts(2)
        mock.advance(2)
        attempts = mock.wait_for_webhook_attempts(3)
        mock.advance(60)
        assert len(mock.webhook_attempts()) == 3 and len(receiver.requests) == 3
        for attempt in attempts:
            assert attempt["ok"] is False and attempt["status_code"] == 200
            assert "answered 200 without MESIBO OK" in attempt["error"]


def test_an_answer_other_than_200_fails_even_if_it_says_mesibo_ok(mock):
    with Receiver() as receiver:
        receiver.default_status = 204
        mock.set_webhook(receiver.url)
        users(mock, "ann")
        mock.set_online("ann", True)
        [attempt] = mock.wait_for_webhook_attempts(1)
        assert attempt["ok"] is False and "HTTP 204" in attempt["error"]


def test_cloud_mode_delivers_to_http_but_says_mesibos_cloud_would_refuse_it(mock):
    hook = mock.webhook_receiver()
    assert (
        "HTTPS only" in mock.app()["webhook"].get("note", "") or mock.set_webhook(hook.url)["webhook"]["note"]
    )
    users(mock, "ann")
    mock.register_device("bob")
    mock.send_message("ann", "bob", "hi")
    hook.wait_for_events(1)
    [attempt] = mock.wait_for_webhook_attempts(1)
    assert attempt["ok"] is True and "HTTPS only" in attempt["note"]
    [entry] = mock.requests(op="message")
    assert any(n["kind"] == "webhook" and "HTTPS only" in n["problem"] for n in entry["diagnosis"])


def test_onprem_mode_has_no_https_note():
    with MesiboMock(mode="onprem") as mock:
        hook = mock.webhook_receiver()
        assert "note" not in mock.set_webhook(hook.url)["webhook"]
        users(mock, "ann")
        mock.set_online("ann", True)
        hook.wait_for_events(1)
        assert mock.wait_for_webhook_attempts(1)[0]["note"] is None


def test_mesibo_mock_events_and_wait_for_events(mock):
    users(mock, "ann")
    mock.set_webhook(f"http://127.0.0.1:{free_port()}/nobody")  # events are kept even if not received
    mock.set_online("ann", True)
    [event] = mock.wait_for_events(type="user")
    assert event["status"] == "online" and event["app"] == mock.app_token and event["delivery"] >= 1
    assert mock.events(type="push") == []


def test_a_scheduled_message_raises_its_pushes_and_events_at_its_time_across_a_restart(tmp_path):
    db = str(tmp_path / "scheduled.db")
    port = free_port()
    with MesiboMock(subprocess=True, db=db) as mock:
        users(mock, "ann")
        mock.register_device("bob")
        mock.set_webhook(f"http://127.0.0.1:{port}/hook")
        mock.freeze(True)
        mid = mock.backend("message", message={"from": "ann", "to": "bob", "message": "later", "when": 3600})[
            "mid"
        ]
        mock.advance(1800)
        assert mock.pushes(mid=mid) == [] and mock.events() == [] and mock.message(mid)["scheduled"] is True
        clock = mock.clock()["now"]
    with Receiver(port) as receiver, MesiboMock(subprocess=True, db=db) as mock:
        assert mock.pushes(mid=mid) == [] and mock.message(mid)["scheduled"] is True
        mock.set_clock(clock)
        mock.advance(1801)
        [push] = mock.wait_for_pushes(mid=mid)
        assert push["kind"] == "message" and mock.message(mid)["scheduled"] is False
        types = sorted(e["type"] for e in receiver.wait_for(1)[0]["json"]["events"])
        assert types == ["message", "push"]


def test_a_slow_app_with_a_300_delivery_backlog_does_not_delay_another_apps_webhook():
    """The attack: one app's receiver hangs, 300 deliveries queue behind it; another app's event must
    still reach its own receiver within seconds (deliveries are picked app by app)."""
    import time

    import httpx

    with (
        MesiboMock(subprocess=True, env={"WEBHOOK_TIMEOUT": "30"}) as mock,
        Receiver() as slow,
        Receiver() as fast,
    ):
        slow.hold.clear()  # the slow receiver holds every POST until the end of the test
        mock.create_app("slow", token="slow-token")
        mock.create_app("fast", token="fast-token")
        mock.set_webhook(slow.url, token="slow-token", events=["user"])
        mock.set_webhook(fast.url, token="fast-token", events=["user"])
        with httpx.Client(base_url=mock.url, timeout=30) as client:
            for i in range(300):  # each request raises one delivery
                client.put(
                    f"/_mock/apps/slow-token/users/u{i}/online", json={"online": True}
                ).raise_for_status()
        pending = mock.client.get("/_mock/deliveries", params={"token": "slow-token", "state": "pending"})
        assert (
            len(pending.json()["deliveries"]) == 100
        )  # (a page of them) still waiting behind the hung receiver
        started = time.monotonic()
        mock.set_online("someone", token="fast-token")
        [post] = fast.wait_for(1, timeout=10)
        took = time.monotonic() - started
        assert post["json"]["events"][0]["type"] == "user" and took < 3, took
