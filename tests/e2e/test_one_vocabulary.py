"""SPEC 9.1 (issue 40) through the real server: an app object with helpers scoped to it, one error type,
the failure report served, strict mode counting an unanswered webhook and letting a test expect a
finding, an app reset that keeps what configures the app, apps named after their test, and a helper
for every route a test needs."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from mesibo_mock.testing import MesiboApp, MesiboMock, MesiboMockError
from mesibo_mock.testing.receiver import MAX_BODY, WebhookReceiver


@pytest.fixture
def app(mock: MesiboMock):
    with mock.create_app("mine", credentials="sample") as made:
        yield made


class Handler:
    """A team's webhook handler that answers what it is told to (a forgotten `MESIBO OK`)."""

    def __init__(self, status: int, body: bytes) -> None:
        answer = (status, body)

        class Answering(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["content-length"]))
                self.send_response(answer[0])
                self.send_header("content-length", str(len(answer[1])))
                self.end_headers()
                self.wfile.write(answer[1])

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- app objects -------------------------------------------------------------------------------------
def test_create_app_gives_an_app_object_whose_helpers_act_on_it_alone(mock, app):
    assert isinstance(app, MesiboApp) and app.name == "mine" and app.backend_url == mock.url + "/backend"
    app.register_device("ann")
    mock.register_device("ann")
    assert app.backend("pushtest", push={"address": "ann"})["result"] is True
    [mine] = app.wait_for_pushes(address="ann")
    assert mine["app"] == app.token
    assert mock.pushes() == []  # the MesiboMock's helpers act on its own app, not on every app
    assert [p["app"] for p in mock.pushes(all_apps=True)] == [app.token]
    mock.backend("pushtest", push={"address": "ann"})
    mock.wait_for_pushes()
    app.clear_pushes()
    assert app.pushes() == [] and len(mock.pushes()) == 1  # clearing is the app's own too
    assert [r["op"] for r in app.requests()] == ["pushtest"]


def test_faults_set_through_an_app_meet_that_app_only_and_can_be_listed_and_removed(mock, app):
    app.register_device("ann")
    mock.register_device("ann")
    fault = app.inject_fault("UNREGISTERED", count=None)
    assert [f["id"] for f in app.faults()] == [fault["id"]] and mock.faults() == []
    mock.backend("pushtest", push={"address": "ann"})
    assert mock.wait_for_pushes()[0]["injected"] is False  # the other app's push is untouched
    app.backend("pushtest", push={"address": "ann"})
    assert app.wait_for_pushes()[0]["status"] == "failed"
    app.remove_fault(fault["id"])
    assert app.faults() == []
    held = app.backend_fault("QUOTAEXCEEDED", op="usersget", count=None)
    assert mock.backend("usersget")["result"] is True  # the default app's calls are not held
    assert app.backend("usersget")["error"] == "QUOTAEXCEEDED"
    assert [f["id"] for f in app.backend_faults()] == [held["id"]] and mock.backend_faults() == []
    app.remove_backend_fault(held["id"])
    assert app.backend("usersget")["result"] is True
    app.backend_fault("QUOTAEXCEEDED", count=None)
    mock.backend_fault("QUOTAEXCEEDED", count=None)
    app.clear_backend_faults()
    assert app.backend_faults() == [] and len(mock.backend_faults()) == 1


def test_one_error_type_with_the_status_and_the_body(app):
    with pytest.raises(MesiboMockError) as refused:
        app.push(987654321)
    assert refused.value.status == 404 and "987654321" in refused.value.body
    assert isinstance(refused.value, AssertionError)  # pytest shows it as a failed check
    with pytest.raises(MesiboMockError, match="expected 1 push"):
        app.wait_for_pushes(timeout=0.2)


# --- apps named, made without a field, reset alone -------------------------------------------------------
def test_an_app_needs_no_field_and_is_named_after_the_test_that_made_it(mock):
    made = mock.client.post("/_mock/apps", json={})
    assert made.status_code == 201 and made.json()["name"].startswith("app-")
    again = mock.client.post("/_mock/apps", json={}).json()
    assert again["name"] != made.json()["name"]
    named = mock.create_app()
    assert (
        named.name
        == "tests/e2e/test_one_vocabulary.py::test_an_app_needs_no_field_and_is_named_after_the_test_that_made_it"
    )
    assert mock.app(named.token)["name"] == named.name


def test_reset_app_empties_one_app_and_keeps_its_token_credentials_options_webhook_and_uacs(mock, app):
    hook = app.webhook_receiver()
    assert app.backend("pushset", push={"sound": True})["result"] is True
    uac = app.backend("uacset", uac={"name": "admin"})["uac"]["id"]
    app.backend("useradd", user={"address": "ann"})
    app.backend("useradd", user={"address": "bob"})
    app.register_device("ann")
    app.send_message("bob", "ann", "hi")
    app.wait_for_pushes()
    app.inject_fault("UNREGISTERED", count=None)
    app.backend_fault("QUOTAEXCEEDED", op="groupadd", count=None)
    hook.wait_for_events()
    mock.backend("useradd", user={"address": "zed"})  # another app's rows stay
    mock.register_device("zed")
    before = app.app()

    answer = app.reset_app()

    assert answer["cleared"] > 0 and answer["app"]["token"] == app.token
    assert app.users() == [] and app.devices() == [] and app.groups() == []
    assert app.pushes() == [] and app.messages() == [] and app.requests() == []
    assert app.faults() == [] and app.backend_faults() == [] and app.events() == []
    after = app.app()
    for kept in ("name", "token", "push", "credentials", "webhook"):
        assert after[kept] == before[kept], kept
    assert after["push"]["sound"] is True
    assert app.uac(uac)["name"] == "admin"
    assert [u["address"] for u in mock.users()] == ["zed"] and len(mock.devices()) == 1
    assert app.backend("usersget")["result"] is True  # the same token goes on working
    app.register_device("ann")
    app.backend("pushtest", push={"address": "ann"})
    assert app.wait_for_pushes()[0]["status"] == "sent"  # the credentials are still there


# --- the failure report and strict mode ---------------------------------------------------------------
def test_the_report_is_the_servers_each_call_with_its_answer_and_diagnosis_then_the_findings(mock, app):
    mock.backend("usersget")  # another app's call is not in this app's report
    app.backend("useradd", user={"address": "ann", "nmae": "Ann"})
    start = app.last_request_id()
    app.backend("usersget")
    text = app.report()
    assert "op=useradd (json) -> ok" in text and "op=usersget" in text
    assert "'user.nmae'" in text and "user.name" in text  # the note, with the name meant
    assert "strict mode" in text.lower() and text.count("user.nmae") >= 2  # then the finding's line
    assert mock.app_token not in text
    later = app.report(after=start)
    assert "useradd" not in later.split("strict")[0] and "op=usersget" in later
    served = httpx.get(mock.url + "/_mock/report", params={"token": app.token})
    assert served.headers["content-type"].startswith("text/plain") and served.text == text


def test_a_webhook_handler_that_forgets_mesibo_ok_is_a_strict_finding(mock):
    handler = Handler(200, b"ok, got it")
    try:
        strict = mock.create_app("hooked", strict=True)
        strict.set_webhook(handler.url)
        strict.set_online("ann")
        [attempt] = strict.wait_for_webhook_attempts()
        assert attempt["ok"] is False
        [finding] = mock.mistakes(all_apps=True)
        assert finding["kind"] == "webhook" and "MESIBO OK" in finding["hint"]
        assert "ok, got it" in finding["problem"]  # the first bytes the handler answered
        assert strict.mistakes_report() is not None
        with pytest.raises(MesiboMockError, match="webhook delivery #1 attempt 1"):
            strict.close()
    finally:
        handler.close()


def test_a_handler_answering_an_error_status_names_the_status_and_its_first_bytes(mock, app):
    handler = Handler(500, b"Traceback: KeyError 'events'")
    try:
        app.set_webhook(handler.url)
        app.set_online("ann")
        app.wait_for_webhook_attempts()
        [finding] = app.mistakes()
        assert "HTTP 500" in finding["problem"] and "Traceback: KeyError" in finding["problem"]
    finally:
        handler.close()


def test_a_finding_the_test_read_is_expected_and_only_later_ones_fail_it(mock):
    strict = mock.create_app("expects", strict=True)
    strict.backend("useradd", user={"address": "ann", "nmae": "Ann"})
    [expected] = strict.mistakes()
    assert expected["field"] == "user.nmae"
    strict.close()  # read, so expected: no failure

    second = mock.create_app("expects-one", strict=True)
    second.backend("useradd", user={"address": "ann", "nmae": "Ann"})
    assert len(second.mistakes()) == 1
    second.backend("groupadd", group={"nmae": "g"})
    with pytest.raises(MesiboMockError) as failed:
        second.close()
    assert "group.nmae" in str(failed.value) and "user.nmae" not in str(failed.value)


# --- a helper for every route a test needs -------------------------------------------------------------
def test_timeline_request_and_clearing_the_journal(mock, app):
    for address in ("ann", "bob"):
        app.backend("useradd", user={"address": address})
    app.register_device("ann")
    mid = app.send_message("bob", "ann", "hi")
    app.wait_for_pushes()
    kinds = {item["kind"] for item in app.timeline(mid)["items"]}
    assert {"call", "recipient", "push"} <= kinds
    [entry] = app.requests(op="message")
    assert app.request(entry["id"])["fields"]["message"]["message"] == "hi"
    mock.backend("usersget")
    assert app.clear_requests()["deleted"] == 3
    assert app.requests() == [] and len(mock.requests()) == 1


def test_otps_uacs_disabling_and_removing_a_webhook_or_a_device(mock, app):
    app.backend("otp", otp={"address": "ann"})
    [code] = app.otps()
    assert code["address"] == "ann" and len(code["otp"]) == 6 and app.otps("bob") == []
    app.set_disabled(True)
    assert app.backend("usersget")["error"] == "TOKENBREACH"
    app.set_disabled(False)
    assert app.backend("usersget")["result"] is True
    device = app.register_device("ann")
    app.remove_device(device["id"])
    assert app.devices() == []
    app.set_webhook("http://127.0.0.1:9/hook")
    app.remove_webhook()
    assert app.app()["webhook"] is None
    hook = app.webhook_receiver()
    app.set_online("ann")
    [delivery] = app.wait_for_deliveries()
    assert delivery["state"] in ("pending", "delivered") and hook.wait_for_events()


def test_a_test_receiver_refuses_a_post_past_one_mebibyte(mock):
    with WebhookReceiver() as hook:
        answer = httpx.post(hook.url, content=b"x" * (MAX_BODY + 1))
        assert answer.status_code == 413 and hook.posts == []
        assert httpx.post(hook.url, json={"events": [{"type": "user"}]}).status_code == 200
        assert hook.events() == [{"type": "user"}]
