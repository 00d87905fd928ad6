"""SPEC section 10: `mesibo-mock record` forwards a backend's calls byte for byte to an upstream (here a
stand-in for Mesibo) and keeps a redacted recording; `mesibo-mock verify` replays one against the
emulator and compares the answers field by field. Both run as the real command, as a user runs them."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from mesibo_mock.testing import serve_command
from tests.conftest import CREDS, FIXTURES
from tests.standin import StandIn, slow

ACCOUNT = (CREDS / "fcm-service-account.json").read_bytes()
KEY_LINE = json.loads(ACCOUNT)["private_key"].splitlines()[5]
APP_TOKEN = "ptlk9hdel1gqxf3p0s15f5f5gtusldej18tl794suzit"  # the docs' example token
OTHER_TOKEN = "f1ea38be94fe8688787acb6811bb3d911be599d8ef79fbb2984a2bfb2b6e982c"  # 64 characters
USER_TOKEN = "a" * 32 + "0123456789abcdef" * 2  # a 64-character user token, as Mesibo issues them


class Recorder:
    """`mesibo-mock record` in a process of its own, pointed at `upstream`."""

    def __init__(self, upstream: str, out: Path, *extra: str) -> None:
        self.out = out
        self.process = subprocess.Popen(
            [*serve_command(), "record", "--upstream", upstream, "--out", str(out), "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        line = self.process.stdout.readline().decode()
        assert line.startswith("mesibo-mock record ready "), line + self.process.stderr.read().decode()
        self.ready = json.loads(line[len("mesibo-mock record ready ") :])
        self.url = self.ready["url"]

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(15)
        return code, self.process.stderr.read().decode()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.out.read_text().splitlines()]


@pytest.fixture
def stand_in():
    upstream = StandIn()
    yield upstream
    upstream.close()


def test_calls_reach_the_upstream_byte_for_byte_and_the_recording_keeps_no_secret(stand_in, tmp_path):
    def answer(request):
        if b"useradd" in request["body"] or b"useradd" in request["target"].encode():
            body = {
                "op": "useradd",
                "result": True,
                "user": {"uid": 1312, "address": "ann", "token": USER_TOKEN},
            }
            return 200, {"content-type": "application/json", "x-upstream": "yes"}, json.dumps(body).encode()
        return StandIn.envelope(request)

    stand_in.answer = answer
    recorder = Recorder(stand_in.url, tmp_path / "calls.jsonl")
    base = recorder.url
    packed = gzip.compress(
        json.dumps({"op": "pushset", "token": APP_TOKEN, "push": {"sound": True}}).encode()
    )
    calls = [
        (
            "POST",
            "/backend",
            {"content-type": "application/json", "x-test": "1"},
            json.dumps(
                {"op": "useradd", "token": APP_TOKEN, "user": {"address": "ann", "token": {"appid": "a.b"}}}
            ).encode(),
        ),
        (
            "POST",
            "/api.php?x=1",
            {"content-type": "application/x-www-form-urlencoded"},
            f"op=usersget&token={APP_TOKEN}&addr=a%2Ab".encode(),
        ),
        ("GET", f"/api.php?op=useradd&token={OTHER_TOKEN}&addr=bob", {}, b""),
        (
            "GET",
            "/backend",
            {"content-type": "application/json"},
            json.dumps({"op": "usersget", "token": APP_TOKEN}).encode(),
        ),
        (
            "DELETE",
            "/backend",
            {},
            json.dumps({"op": "userdel", "token": APP_TOKEN, "user": {"address": "ann"}}).encode(),
        ),
        ("POST", "/backend", {"content-type": "application/json", "content-encoding": "gzip"}, packed),
    ]
    with httpx.Client(base_url=base, headers={"user-agent": "my-backend/1.0"}) as client:
        answers = [
            client.request(method, target, headers=headers, content=body)
            for method, target, headers, body in calls
        ]
        upload_request = client.build_request(
            "POST",
            "/backend",
            data={"op": "pushupload", "token": APP_TOKEN},
            files={"file": ("sa.json", ACCOUNT, "application/json")},
        )
        sent_upload = upload_request.read()
        client.send(upload_request)
    # the upstream got each call as sent: method, path and query, headers, body bytes (gzip kept)
    assert len(stand_in.received) == 7
    for (method, target, headers, body), got in zip(calls, stand_in.received, strict=False):
        assert (got["method"], got["target"], got["body"]) == (method, target, body)
        sent = dict(got["headers"])
        for name, value in headers.items():
            assert sent[name] == value
        assert sent["user-agent"] == "my-backend/1.0" and "python-httpx" not in json.dumps(got["headers"])
    upload = stand_in.received[6]
    assert upload["body"] == sent_upload and ACCOUNT in upload["body"]
    # the client got the upstream's answer
    assert answers[0].json()["user"]["token"] == USER_TOKEN and answers[0].headers["x-upstream"] == "yes"
    code, err = recorder.stop()
    assert code == 0, err
    text = recorder.out.read_text()
    for secret in (APP_TOKEN, OTHER_TOKEN, USER_TOKEN, KEY_LINE, "PRIVATE KEY"):
        assert secret not in text, secret
    head, *lines = recorder.lines()
    assert (
        head["format"] == "mesibo-mock-recording"
        and head["version"] == 1
        and head["upstream"] == stand_in.url
    )
    assert "test-push limit" in head["warning"] and head["redaction"]
    assert [line["seq"] for line in lines] == list(range(1, 8))
    assert [line["encoding"] for line in lines] == [
        "json",
        "form",
        "query",
        "json",
        "json",
        "json",
        "multipart",
    ]
    tokens = [line["fields"]["token"] for line in lines]
    assert tokens == [
        "<app-token-1>",
        "<app-token-1>",
        "<app-token-2>",
        "<app-token-1>",
        "<app-token-1>",
        "<app-token-1>",
        "<app-token-1>",
    ]
    assert lines[0]["answer"]["body"]["user"]["token"] == "<user-token-1>"
    assert lines[0]["fields"]["user"] == {
        "address": "ann",
        "token": {"appid": "a.b"},
    }  # as the journal reads it
    assert lines[1]["fields"]["x"] == "1" and lines[1]["fields"]["addr"] == "a*b"
    assert lines[5]["fields"]["push"] == {"sound": True}  # a gzip body, read for the recording
    summary = lines[6]["fields"]["file"]
    assert summary["name"] == "sa.json" and summary["size"] == len(ACCOUNT) and len(summary["sha256"]) == 64


def test_a_string_shaped_like_a_token_becomes_a_placeholder_and_the_recording_goes_on(stand_in, tmp_path):
    """SPEC section 10: a numbered placeholder, a note naming the field, and the next call recorded too
    (a user's backend is never cut off because an address happens to be a SHA-256)."""
    address = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # SHA-256 of "test"
    stand_in.answer = lambda request: (
        200,
        {"content-type": "application/json"},
        json.dumps({"op": "x", "result": True, "apikey": OTHER_TOKEN}).encode(),
    )
    recorder = Recorder(stand_in.url, tmp_path / "leak.jsonl")
    with httpx.Client(base_url=recorder.url) as client:
        answer = client.post("/backend", json={"op": "usersget", "token": APP_TOKEN})
        assert answer.json()["apikey"] == OTHER_TOKEN  # the client still gets what the upstream said
        second = client.post(
            "/backend", json={"op": "useradd", "token": APP_TOKEN, "user": {"address": address}}
        )
        assert second.status_code == 200
    code, err = recorder.stop()
    assert code == 0
    _, first, then = recorder.lines()
    assert first["answer"]["body"]["apikey"] == "<token-shaped-1>"
    assert first["notes"] == [
        {
            "field": "answer.body.apikey",
            "problem": "held a string shaped like a Mesibo token (64 letters and digits): replaced by a"
            " numbered placeholder",
        }
    ]
    assert (
        then["fields"]["user"]["address"] == "<token-shaped-2>"
        and then["notes"][0]["field"] == "fields.user.address"
    )
    text = recorder.out.read_text()
    assert OTHER_TOKEN not in text and address not in text


def test_the_upstreams_failures_reach_the_client_and_are_recorded_as_they_were(stand_in, tmp_path):
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    stand_in.answer = lambda request: (500, {"content-type": "text/html"}, page)
    recorder = Recorder(stand_in.url, tmp_path / "fail.jsonl", "--timeout", "1")
    with httpx.Client(base_url=recorder.url, timeout=10) as client:
        failed = client.post("/backend", json={"op": "usersget", "token": APP_TOKEN})
        assert failed.status_code == 500 and failed.content == page
        stand_in.answer = slow(2)
        late = client.post("/backend", json={"op": "usersget", "token": APP_TOKEN})
        assert late.status_code == 504 and b"timed out" in late.content
    recorder.stop()
    _, server_error, timeout = recorder.lines()
    assert server_error["answer"] == {"status": 500, "content_type": "text/html", "body": page.decode()}
    assert "timed out" in timeout["error"] and "answer" not in timeout
    # TLS: an https:// upstream that speaks plain HTTP
    tls = Recorder(stand_in.url.replace("http://", "https://"), tmp_path / "tls.jsonl", "--timeout", "3")
    with httpx.Client(base_url=tls.url, timeout=10) as client:
        refused = client.post("/backend", json={"op": "usersget", "token": APP_TOKEN})
    assert refused.status_code == 502 and b"could not be reached" in refused.content
    tls.stop()
    assert "SSL" in tls.lines()[1]["error"] or "TLS" in tls.lines()[1]["error"]


def test_record_refuses_an_existing_out_file_and_a_bad_upstream_with_exit_2(tmp_path):
    existing = tmp_path / "kept.jsonl"
    existing.write_text("precious\n")
    for args in (
        ["--upstream", "http://127.0.0.1:9/backend", "--out", str(existing)],
        ["--upstream", "ftp://example.com", "--out", str(tmp_path / "new.jsonl")],
    ):
        done = subprocess.run(
            [*serve_command(), "record", *args, "--port", "0"], capture_output=True, text=True, timeout=20
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert existing.read_text() == "precious\n"


# --- verify -------------------------------------------------------------------------------------------------
def run_verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*serve_command(), "verify", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("recording", sorted((FIXTURES / "parity").glob("*.jsonl")), ids=lambda p: p.name)
def test_the_projects_recordings_of_mesibos_published_answers_verify(recording):
    done = run_verify(str(recording))
    calls = len(recording.read_text().splitlines()) - 1
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{calls} calls, {calls} match, 0 differ"


def test_a_field_the_emulator_does_not_send_fails_verify_by_name_and_skip_passes(stand_in, tmp_path):
    def answer(request):
        body = {"op": "useradd", "result": True, "user": {"uid": 77, "address": "ann", "name": "Ann"}}
        return 200, {"content-type": "application/json"}, json.dumps(body).encode()

    stand_in.answer = answer
    recorder = Recorder(stand_in.url, tmp_path / "name.jsonl")
    httpx.post(
        recorder.url + "/backend",
        json={"op": "useradd", "token": APP_TOKEN, "user": {"address": "ann", "name": "Ann"}},
    )
    recorder.stop()
    done = run_verify(str(recorder.out))
    assert done.returncode == 1
    assert 'answer.user.name: "Ann" vs (absent)' in done.stdout
    assert done.stdout.strip().endswith("1 calls, 0 match, 1 differ")
    skipped = run_verify(str(recorder.out), "--skip", "answer.user.name")
    assert skipped.returncode == 0 and skipped.stdout.strip().endswith("1 calls, 1 match, 0 differ")
    document = json.loads(run_verify(str(recorder.out), "--json").stdout)
    assert document["summary"] == {"calls": 1, "match": 0, "differ": 1}
    [difference] = document["calls"][0]["differences"]
    assert difference == {
        "path": "answer.user.name",
        "recorded": "Ann",
        "emulated": None,
        "absent": "emulated",
        "skipped": False,
    }


def test_verify_moves_the_clock_as_the_recording_moved(tmp_path):
    """A second debug window is allowed only 8 hours after the first: it matches only if the replay's
    clock moved by the recording's 9 hours."""
    head = json.loads((FIXTURES / "parity" / "docs-examples.jsonl").read_text().splitlines()[0])
    window = {"active": True, "start": "x", "end": "x", "next_allowed": "x"}
    calls = [
        {
            "seq": i + 1,
            "t": t,
            "method": "POST",
            "path": "/backend",
            "encoding": "json",
            "fields": {"op": "pushdebug", "token": "<app-token-1>", "push": {"duration": 60}},
            "answer": {
                "status": 200,
                "content_type": "application/json",
                "body": {"op": "pushdebug", "result": True, "push": {"debug": window}},
            },
        }
        for i, t in enumerate((0.0, 9 * 3600.0))
    ]
    path = tmp_path / "debug.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [head, *calls]) + "\n")
    done = run_verify(str(path))
    assert done.returncode == 0, done.stdout
    calls[1]["t"] = 60.0  # a minute later: Mesibo would refuse, so the recorded answer no longer matches
    path.write_text("\n".join(json.dumps(x) for x in [head, *calls]) + "\n")
    assert "answer.result: true vs false" in run_verify(str(path)).stdout


def test_verify_against_a_running_emulator_leaves_it_as_it_was(server, tmp_path):
    before = {a["token"] for a in server.apps()}
    done = run_verify(str(FIXTURES / "parity" / "docs-examples.jsonl"), "--url", server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {a["token"] for a in server.apps()} == before  # its app was deleted after
    assert server.clock()["frozen"] is False and abs(server.clock()["offset"]) < 5


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"format": "mesibo-mock-recording", "version": 99}\n', "format version 99"),
        ("not json\n", "is not JSON"),
        ('{"format": "something else"}\n', "is not a mesibo-mock recording"),
    ],
)
def test_verify_refuses_a_file_it_cannot_read_with_a_clear_error(tmp_path, content, words):
    path = tmp_path / "odd.jsonl"
    path.write_text(content)
    done = run_verify(str(path))
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    missing = run_verify(str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_a_recording_made_by_record_verifies(tmp_path):
    """record against an emulator standing in for Mesibo, then verify: the round trip matches."""
    with subprocess.Popen(
        [*serve_command(), "serve", "--port", "0", "--db", ":memory:", "--log-level", "critical"],
        stdout=subprocess.PIPE,
        env={**os.environ, "MESIBO_MOCK_APP_TOKEN": APP_TOKEN},
    ) as upstream:
        ready = json.loads(upstream.stdout.readline().decode()[len("mesibo-mock ready ") :])
        recorder = Recorder(ready["backend_url"], tmp_path / "round.jsonl")
        with httpx.Client(base_url=recorder.url) as client:
            client.post("/backend", json={"op": "useradd", "token": APP_TOKEN, "user": {"address": "ann"}})
            gid = client.post(
                "/backend",
                json={"op": "groupadd", "token": APP_TOKEN, "group": {"name": "g", "members": {"m": "ann"}}},
            ).json()["group"]["gid"]
            client.get("/api.php", params={"op": "groupgetmembers", "token": APP_TOKEN, "gid": gid})
            client.post(
                "/backend",
                json={
                    "op": "message",
                    "token": APP_TOKEN,
                    "message": {"from": "ann", "gid": gid, "message": "hi"},
                },
            )
        recorder.stop()
        upstream.terminate()
    done = run_verify(str(recorder.out))
    assert done.returncode == 0 and done.stdout.strip().endswith("4 calls, 4 match, 0 differ"), done.stdout
