"""Rules that a one-line change could break without another test noticing (issue 34): what the journal
keeps, how a webhook answer is judged and in what order an app's POSTs go, how soon the next one goes,
the ways to add rather than remove group members, who in a group is reached, when an offline
recipient's message has expired, and values exactly at their documented maximum."""

from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mesibo_mock import samples
from mesibo_mock.clock import parse_iso
from tests.e2e.test_delivery import upload
from tests.e2e.test_groups_and_messages import flat, users

MARK = "mark-that-only-the-file-holds-7d1e"


def eventually(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


# --- the journal ------------------------------------------------------------------------------------
def marked_account() -> bytes:
    account = json.loads(samples.fcm_service_account("journal-project"))
    account["client_id"] = MARK  # a field the answer never echoes
    return json.dumps(account).encode()


@pytest.mark.parametrize("encoding", ["multipart", "json", "form", "query"])
def test_an_uploads_file_never_reaches_the_journal_in_any_encoding(mock, encoding):
    content = marked_account()
    params = {"op": "pushupload", "token": mock.app_token, "type": "fcm"}
    if encoding == "multipart":
        response = mock.client.post("/backend", data=params, files={"file": ("sa.json", content)})
    elif encoding == "json":
        response = mock.client.post("/backend", json={**params, "file": content.decode()})
    elif encoding == "form":
        response = mock.client.post("/backend", data={**params, "file": content.decode()})
    else:
        response = mock.client.get("/backend", params={**params, "file": content.decode()})
    assert response.status_code == 200
    [entry] = mock.requests(op="pushupload")
    assert MARK not in json.dumps(entry)
    assert MARK not in json.dumps(mock.requests(op="pushupload", diagnosed=True))


def test_a_call_that_skipped_someone_is_listed_among_the_diagnosed(mock):
    users(mock, "ann", "bob")
    mid = mock.send_message("ann", "bob,nobody", "hi")
    diagnosed = mock.requests(diagnosed=True)
    assert [e["mid"] for e in diagnosed] == [mid]
    assert [n["kind"] for n in diagnosed[0]["diagnosis"]] == ["skipped"]


def test_a_long_user_agent_is_kept_to_300_characters(mock):
    agent = "integration-suite/" + "x" * 1000
    mock.client.post(
        "/backend", json={"op": "usersget", "token": mock.app_token}, headers={"user-agent": agent}
    )
    [entry] = mock.requests(op="usersget")
    assert entry["user_agent"] == agent[:300]


# --- webhooks: the answer, the order, the pace ------------------------------------------------------
class Receiver:
    """A webhook receiver that answers `answer`, and holds its first POST until `release()`."""

    def __init__(self, answer: bytes = b"MESIBO OK", hold_first: bool = False) -> None:
        self.posts: list[dict] = []
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                receiver.posts.append(body)
                receiver.gate.wait(10)
                self.send_response(200)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


def test_an_answer_that_only_contains_mesibo_ok_fails_the_attempt(mock):
    receiver = Receiver(answer=b"NOT MESIBO OK")
    try:
        mock.set_webhook(receiver.url)
        users(mock, "ann")
        mock.set_online("ann", True)
        first = eventually(lambda: mock.webhook_attempts())[-1]
        assert first["ok"] is False and "without MESIBO OK" in first["error"]
    finally:
        receiver.close()


def test_an_apps_backlog_goes_in_the_order_it_was_raised_each_post_right_after_the_last(mock):
    """Five POSTs owed to one app go one at a time, oldest first; each finished attempt wakes the
    scheduler, so the next goes at once rather than at its idle look (0.2 s): the gaps are read from
    the emulator's own attempt times."""
    receiver = Receiver(hold_first=True)
    try:
        mock.set_webhook(receiver.url, events=["user"])
        users(mock, "ann")
        mock.set_online("ann", True)
        eventually(lambda: receiver.posts)  # the first is held: the rest queue behind it
        for online in (False, True, False, True):
            mock.set_online("ann", online)
        receiver.gate.set()
        eventually(lambda: len(mock.webhook_attempts()) == 5)
        seqs = [post["id"] for post in receiver.posts]
        assert seqs == sorted(seqs) and len(seqs) == 5, seqs
        attempts = sorted(mock.webhook_attempts(), key=lambda a: a["id"])
        times = [parse_iso(a["ts"]) for a in attempts[1:]]  # after the held one
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert statistics.median(gaps) < 0.1, gaps
    finally:
        receiver.close()


# --- groups: adding, and who is reached --------------------------------------------------------------
@pytest.mark.parametrize(
    "how",
    [
        {"flat": {"delete": "0"}},
        {"json": {"group": {"delete": False}}},
        {"json": {"members": {"remove": False}}},
        {"json": {"members": {"remove": 0}}},
    ],
    ids=["flat delete=0", "group.delete false", "members.remove false", "members.remove 0"],
)
def test_a_false_delete_or_remove_adds_the_members(mock, how):
    users(mock, "ann", "bob", "cy")
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "ann"}})["group"]["gid"]
    if "flat" in how:
        answer = flat(mock, "groupeditmembers", gid=str(gid), m="bob,cy", **how["flat"])
    else:
        group = {"gid": gid, "members": {"m": "bob,cy", **how["json"].get("members", {})}}
        group |= how["json"].get("group", {})
        answer = mock.backend("groupeditmembers", group=group)
    assert answer["result"] is True, answer
    members = mock.backend("groupgetmembers", group={"gid": gid})["members"]
    assert sorted(m["address"] for m in members) == ["ann", "bob", "cy"]


def test_a_member_who_cannot_receive_between_two_who_can_gets_no_push(mock):
    for address in ("ann", "bob", "cy", "dan"):
        mock.register_device(address)
    gid = mock.backend("groupadd", group={"name": "g", "members": {"m": "ann,bob,cy,dan"}})["group"]["gid"]
    mock.backend("groupeditmembers", gid=gid, m="cy", cr=False)  # cy: between bob and dan
    mid = mock.send_message("ann", gid=gid, message="to all")
    assert sorted(p["address"] for p in mock.pushes(mid=mid)) == ["bob", "dan"]
    assert sorted(r["address"] for r in mock.message(mid)["recipients"]) == ["bob", "dan"]


# --- a scheduled message that expired before it went -------------------------------------------------
def scheduled(mock, when: int, expiry: int) -> int:
    return mock.backend(
        "message", message={"from": "ann", "to": "bob", "message": "later", "when": when, "expiry": expiry}
    )["mid"]


@pytest.fixture
def offline_bob(mock):
    upload(mock, "fcm-service-account.json")
    users(mock, "ann", "bob")
    mock.register_device("bob", "android")
    mock.backend("pushset", push={"ratelimit": False})
    mock.freeze(True)
    return mock


def test_a_scheduled_message_whose_expiry_passed_while_the_recipient_was_offline_is_not_pushed(offline_bob):
    mid = scheduled(offline_bob, when=60, expiry=30)
    offline_bob.advance(100)
    message = offline_bob.message(mid)
    assert not message["scheduled"] and offline_bob.pushes(mid=mid) == []
    assert [r["address"] for r in message["recipients"]] == ["bob"]


@pytest.mark.parametrize(("moved", "pushed"), [(89, True), (90, False)])
def test_the_expiry_boundary_is_its_last_second(offline_bob, moved, pushed):
    """ts = now + when (60), expiry 30: delivered at 89 s it still goes; at 90 s it has expired."""
    mid = scheduled(offline_bob, when=60, expiry=30)
    offline_bob.advance(moved)
    assert bool(offline_bob.pushes(mid=mid)) is pushed


# --- values exactly at their documented maximum ------------------------------------------------------
def test_values_at_their_maximum_are_taken_and_one_past_is_refused(mock):
    from mesibo_mock.backend.ops.messages import LARGEST_WHEN, ONE_YEAR
    from mesibo_mock.backend.ops.users import TOKEN_EXPIRY_MAX
    from mesibo_mock.services.apps import DEBUG_MAX_SECONDS
    from mesibo_mock.values import LARGEST_FLAG

    def refused(op: str, **fields) -> list | None:
        """None if taken, else the fields the refusal names."""
        answer = mock.backend(op, **fields)
        return None if answer["result"] else answer.get("properties")

    assert refused("pushdebug", push={"duration": DEBUG_MAX_SECONDS}) is None  # cloud: 3 hours
    mock.advance(9 * 3600)  # past the eight hours between two windows
    assert refused("pushdebug", push={"duration": DEBUG_MAX_SECONDS + 1}) == ["duration"]
    token = {"appid": "com.example.app", "expiry": TOKEN_EXPIRY_MAX}
    assert refused("useradd", user={"address": "ann", "token": token}) is None
    over = {**token, "expiry": TOKEN_EXPIRY_MAX + 1}
    assert refused("useradd", user={"address": "ann", "token": over}) == ["expiry"]
    users(mock, "bob")
    message = {"from": "ann", "to": "bob", "message": "m", "expiry": 100 * ONE_YEAR, "flag": LARGEST_FLAG}
    assert refused("message", message=message) is None
    assert refused("message", message={**message, "when": LARGEST_WHEN}) is None
    assert refused("message", message={**message, "when": LARGEST_WHEN + 1}) == ["when"]
    assert refused("message", message={**message, "expiry": 100 * ONE_YEAR + 1}) == ["expiry"]
    assert refused("message", message={**message, "flag": LARGEST_FLAG + 1}) == ["flag"]
    mock.register_device("ann")
    assert refused("pushtest", push={"address": "ann", "message": "x" * 8192}) is None
    assert refused("pushtest", push={"address": "ann", "message": "x" * 8193}) == ["message"]
