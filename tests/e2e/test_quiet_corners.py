"""What a user notices of the least-tested corners (issue 34): backend faults that last several calls,
forever or until removed; the listening socket's refusals and their way out; the ready-made sample
credentials as pushupload reads them; and a credential parser that crashes, hangs or cannot make the
samples, which must cost one clear refusal and never the server."""

from __future__ import annotations

import errno
import signal
import socket
import sys

import pytest

from mesibo_mock import samples
from mesibo_mock.credentials import isolated
from mesibo_mock.server import serving
from mesibo_mock.testing import MesiboMock


# --- backend faults: a count, forever, removed ------------------------------------------------------
def useradd(mock, address: str) -> dict:
    return mock.backend("useradd", user={"address": address})


def listed(mock) -> list[dict]:
    return mock.client.get("/_mock/backend-faults").json()["faults"]


def test_a_fault_with_a_count_answers_that_many_calls_then_none(mock):
    fault = mock.backend_fault("QUOTAEXCEEDED", op="useradd", count=2)
    assert [f["count"] for f in listed(mock)] == [2]
    assert useradd(mock, "a")["error"] == "QUOTAEXCEEDED"
    assert [f["count"] for f in listed(mock)] == [1]
    assert useradd(mock, "b")["error"] == "QUOTAEXCEEDED"
    assert listed(mock) == []
    assert useradd(mock, "c")["result"] is True
    assert mock.client.delete(f"/_mock/backend-faults/{fault['id']}").status_code == 404


def test_a_fault_for_ever_stays_until_it_is_removed_one_by_one_or_all(mock):
    forever = mock.backend_fault("QUOTAEXCEEDED", op="useradd", count=None)
    other = mock.backend_fault(http=503, op="usersget", count=None)
    for address in ("a", "b", "c"):
        assert useradd(mock, address)["error"] == "QUOTAEXCEEDED"
    assert [(f["id"], f["count"]) for f in listed(mock)] == [(forever["id"], None), (other["id"], None)]
    assert mock.client.delete(f"/_mock/backend-faults/{forever['id']}").status_code == 204
    assert useradd(mock, "d")["result"] is True
    assert mock.client.post("/backend", json={"op": "usersget", "token": mock.app_token}).status_code == 503
    assert mock.client.delete("/_mock/backend-faults").json() == {"deleted": 1}
    assert mock.backend("usersget")["result"] is True


# --- the listening socket ----------------------------------------------------------------------------
def test_a_busy_port_is_refused_with_the_way_out():
    holder = serving.bind("127.0.0.1", 0)
    port = holder.getsockname()[1]
    try:
        with pytest.raises(serving.UsageError) as refused:
            serving.bind("127.0.0.1", port)
        text = str(refused.value)
        assert text.startswith(f"cannot listen on 127.0.0.1:{port}: ")
        assert "another server" in text and "--port 0" in text
    finally:
        holder.close()


def test_a_privileged_port_hint_names_a_port_above_1024():
    denied = OSError(errno.EACCES, "Permission denied")
    assert serving.bind_hint(denied, 80) == " (ports below 1024 need root: choose one above, such as 8080)"
    assert serving.bind_hint(denied, 8080) == ""
    assert serving.bind_hint(OSError(errno.EADDRNOTAVAIL, "x"), 80) == ""


def test_the_socket_answers_without_nagle_delay_and_on_ipv6():
    sock = serving.bind("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.get_inheritable()
    finally:
        sock.close()
    if socket.has_ipv6:
        try:
            six = serving.bind("::1", 0)
        except serving.UsageError:
            pytest.skip("no IPv6 loopback here")
        assert six.family == socket.AF_INET6
        six.close()


def test_a_second_ctrl_c_forces_the_exit_and_sigterm_ends_cleanly():
    class Base:
        should_exit = False
        force_exit = False

    server = serving.clean_exit_server(Base)()
    ended = []
    server.on_exit = lambda: ended.append(True)
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit and not server.force_exit and ended == [True]
    server.handle_exit(signal.SIGINT, None)  # a second signal while stopping: at once
    assert server.force_exit


# --- the sample credentials, as pushupload reads them -----------------------------------------------
def test_the_testing_samples_module_is_the_samples_module():
    from mesibo_mock.testing import samples as testing_samples

    assert testing_samples.__all__ == samples.__all__
    assert all(getattr(testing_samples, name) is getattr(samples, name) for name in samples.__all__)


@pytest.mark.parametrize(
    ("make", "sandbox", "production"),
    [
        (samples.apn_development, True, False),
        (samples.apn_production, False, True),
        (samples.apn_universal, True, True),
    ],
)
def test_each_apn_sample_uploads_with_its_environments(mock, make, sandbox, production):
    push = mock.upload_credential(make("com.example.samples"), "apn")["push"]
    assert (push["bundle"], push["sandbox"], push["production"]) == (
        "com.example.samples",
        sandbox,
        production,
    )


@pytest.mark.parametrize(
    ("make", "words"),
    [(samples.apn_expired, "expired"), (samples.apn_key_p8, ".p12")],
    ids=["expired certificate", "p8 key"],
)
def test_the_refused_apn_samples_are_refused_saying_why(mock, make, words):
    answer = mock.upload_credential(make(), "apn")
    assert answer["result"] is False and answer["error"] == "BADVALUE"
    [entry] = mock.requests(op="pushupload")
    assert any(words in note["problem"] for note in entry["diagnosis"]), entry["diagnosis"]


def test_a_password_less_legacy_export_from_openssl_uploads():
    legacy = samples.openssl_legacy_p12("com.example.legacy", sandbox=True)
    if legacy is None:
        pytest.skip("no openssl here")
    with MesiboMock() as mock:
        push = mock.upload_credential(legacy, "apn")["push"]
        assert push["bundle"] == "com.example.legacy" and push["sandbox"] is True


# --- a parser child that fails ----------------------------------------------------------------------
CRASH = [sys.executable, "-c", "import sys; sys.stdin.read(); sys.exit(3)"]
HANG = [sys.executable, "-c", "import time; time.sleep(30)"]


@pytest.fixture
def in_process():
    """A server in this process, so that the parser's command can be replaced."""
    with MesiboMock() as mock:
        yield mock


def upload_refusal(mock) -> str:
    answer = mock.upload_credential(samples.fcm(), "fcm")
    assert answer["result"] is False and answer["error"] == "BADVALUE", answer
    [entry] = mock.requests(op="pushupload", limit=1)
    return " ".join(note["problem"] for note in entry["diagnosis"])


def test_a_parser_that_crashes_is_one_refusal_and_the_server_goes_on(in_process, monkeypatch):
    monkeypatch.setattr(isolated, "COMMAND", CRASH)
    assert "the credential parser failed on this file" in upload_refusal(in_process)
    monkeypatch.undo()
    assert in_process.upload_credential(samples.fcm(), "fcm")["result"] is True


def test_a_parser_that_hangs_is_stopped_at_its_deadline(in_process, monkeypatch):
    monkeypatch.setattr(isolated, "COMMAND", HANG)
    monkeypatch.setattr(isolated, "TIMEOUT_SECONDS", 0.5)
    assert "the credential parser took longer than 0.5 s" in upload_refusal(in_process)
    assert in_process.health()["status"] == "ok"


def test_samples_the_parser_cannot_make_are_a_503_not_a_crash(in_process, monkeypatch, tmp_path):
    from mesibo_mock.services import samples as made

    # the samples are made once per machine: none in this process, none in its cache folder
    monkeypatch.setattr(made, "_state", made.SampleState())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parser = isolated.COMMAND
    monkeypatch.setattr(isolated, "COMMAND", CRASH)
    response = in_process.client.post("/_mock/apps", json={"name": "s", "credentials": {"fcm": "sample"}})
    assert response.status_code == 503
    assert response.json() == {"detail": "the sample credentials could not be made"}
    assert in_process.client.get("/_mock/samples/fcm.json").status_code == 503
    assert [app["name"] for app in in_process.client.get("/_mock/apps").json()["apps"]] == ["default"]
    monkeypatch.setattr(isolated, "COMMAND", parser)  # made once the parser works again
    assert (
        in_process.client.post(
            "/_mock/apps", json={"name": "s", "credentials": {"fcm": "sample"}}
        ).status_code
        == 201
    )


def test_the_start_up_parser_refuses_a_hang_and_a_crash_with_a_clear_error(monkeypatch):
    """The seed's credentials are parsed at start-up (blocking): the same limits hold there."""
    fcm = samples.fcm()
    monkeypatch.setattr(isolated, "COMMAND", CRASH)
    with pytest.raises(isolated.CredentialError, match="the credential parser failed on this file"):
        isolated.parse_files([("fcm", fcm)], 0.0)
    monkeypatch.setattr(isolated, "COMMAND", HANG)
    monkeypatch.setattr(isolated, "TIMEOUT_SECONDS", 0.5)
    with pytest.raises(isolated.CredentialError, match="took longer than 0.5 s"):
        isolated.parse_files([("fcm", fcm)], 0.0)


def test_a_file_that_is_not_pkcs12_goes_to_the_parser_which_says_so(mock):
    answer = mock.upload_credential(b"\x30\x03\x02\x01", "apn")  # DER, but not a PKCS#12 structure
    assert answer["result"] is False and answer["error"] == "BADVALUE"
