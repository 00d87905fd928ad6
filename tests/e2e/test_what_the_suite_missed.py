"""Issue 42: the one-line changes that passed the whole suite, each pinned by the behaviour a user would
see: tokens under any spelling of their name or with a stray space never journaled or logged, a dead
token judged by all its answers, groupsget's exact names, a partly met long-poll answered when it is
met, a kept-alive client never cut by the header deadline, and a webhook receiver that compresses
when asked."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from mesibo_mock.backend.report import describe_calls
from mesibo_mock.parity.verify import dead_tokens
from mesibo_mock.testing import MesiboMock

SECRET = "a-users-own-secret-token-0123456789abcdef"  # a token the emulator could not know of


def everything_kept(mock: MesiboMock) -> str:
    """The journal as the API and a test's report show it, and every log line but the start's two, which
    name the app token on purpose (the server's owner is told the token to use); an entry's `app` is
    its app's token by design, so the app's own token is looked for in what was sent and answered."""
    entries = [{k: v for k, v in e.items() if k != "app"} for e in mock.requests(all_apps=True, limit=100)]
    logs = [line for line in mock.logs().splitlines() if "app token:" not in line and "ready {" not in line]
    return json.dumps(entries) + describe_calls(entries) + "\n".join(logs)


@pytest.mark.parametrize("name", ["Token", "TOKEN", " token"])
def test_a_token_under_any_spelling_of_its_name_is_never_journaled(name):
    with MesiboMock(subprocess=True, log_level="info") as mock:
        mock.client.post("/backend", json={"op": "usersget", "token": mock.app_token, name: SECRET})
        mock.client.post("/backend", data={"op": "usersget", name: SECRET})
        mock.client.get("/backend", params={"op": "usersget", name: SECRET})
        mock.wait_for_requests(3, all_apps=True)
        kept = everything_kept(mock)
        assert SECRET not in kept
        assert "[redacted]" in kept


def test_a_token_with_a_stray_space_as_env_files_have_it_is_never_journaled():
    with MesiboMock(subprocess=True, log_level="info") as mock:
        token = mock.app_token
        other = mock.create_app("partner").token
        for sent in (f" {token}", f"{token} ", f"{token}\n"):
            # the token, and the same token quoted again where a backend's own field names put it
            mock.client.post("/backend", json={"op": "usersget", "token": sent, "apikey": sent})
            mock.client.post("/backend", data={"op": "usersget", "token": sent, "note": f"key={sent}"})
            mock.client.post("/backend", json={"op": "usersget", "token": token, "apikey": sent, "x": [sent]})
            # a token the emulator cannot know (a user's real one), with its stray space, quoted again
            unknown = sent.replace(token, SECRET)
            mock.client.post("/backend", json={"op": "usersget", "token": unknown, "apikey": unknown})
            mock.client.post("/backend", data={"op": "usersget", "token": unknown, "note": unknown})
            # another app's token, as a backend serving two apps may quote it (every app's token is a secret)
            partner = sent.replace(token, other)
            mock.client.post("/backend", json={"op": "usersget", "token": token, "partner": partner})
            # the same where the call also quotes its own token in a text (the full walk)
            mock.client.post(
                "/backend",
                json={"op": "usersget", "token": token, "note": f"key={token}", "partner": partner},
            )
        mock.wait_for_requests(21, all_apps=True)
        kept = everything_kept(mock)
        assert token not in kept and SECRET not in kept and other not in kept


def test_the_access_log_hides_a_token_in_the_query_string_whatever_the_names_case():
    with MesiboMock(subprocess=True, log_level="info") as mock:
        for name in ("token", "Token", "TOKEN"):
            mock.client.get("/backend", params={"op": "usersget", name: SECRET})
        mock.wait_for_requests(3, all_apps=True)
        deadline = time.monotonic() + 10
        while mock.logs().count("GET /backend") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the access log line is written after the answer
        logs = mock.logs()
        assert logs.count("GET /backend") == 3 and SECRET not in logs


def test_a_token_is_dead_only_when_every_answer_to_it_refused_it():
    def call(token: str, refused: bool) -> dict:
        body = {"result": False, "error": "AUTHFAIL"} if refused else {"result": True}
        return {"fields": {"op": "usersget", "token": token}, "answer": {"status": 200, "body": body}}

    assert dead_tokens([call("<app-token-1>", True), call("<app-token-1>", True)]) == {"<app-token-1>"}
    # refused at the end only (a token revoked during the session): its earlier calls were good
    assert dead_tokens([call("<app-token-1>", False), call("<app-token-1>", True)]) == set()
    assert dead_tokens([call("<app-token-1>", True), call("<app-token-1>", False)]) == set()
    assert dead_tokens([call("<app-token-1>", False), call("<app-token-2>", True)]) == {"<app-token-2>"}


def test_groupsget_matches_a_name_exactly_unless_it_holds_a_star(mock):
    for name in ("TeamA", "Team?", "Team[1]", "Team*x"):
        assert mock.backend("groupadd", group={"name": name})["result"] is True
    assert [g["name"] for g in mock.backend("groupsget", group={"name": "Team?"})["groups"]] == ["Team?"]
    assert [g["name"] for g in mock.backend("groupsget", group={"name": "Team[1]"})["groups"]] == ["Team[1]"]
    assert {g["name"] for g in mock.backend("groupsget", group={"name": "Team*"})["groups"]} == {
        "TeamA",
        "Team?",
        "Team[1]",
        "Team*x",
    }


def test_a_long_poll_whose_count_is_partly_met_answers_when_the_rest_comes(mock):
    mock.backend("pushset", push={"ratelimit": False})
    mock.register_device("ann")
    for _ in range(2):
        mock.backend("pushtest", push={"address": "ann"})
    mock.wait_for_pushes(2)
    later = threading.Timer(0.3, lambda: mock.backend("pushtest", push={"address": "ann"}))
    later.start()
    started = time.monotonic()
    found = mock.pushes(count=3, limit=10, wait=30)  # two already there: waits for one more, not three
    took = time.monotonic() - started
    later.join()
    assert len(found) == 3
    assert took < 15, f"answered after {took:.1f} s of a 30 s wait: the two it had were not counted"


@pytest.mark.parametrize("protocol", ["httptools", "h11"])
def test_a_kept_alive_client_is_never_cut_by_the_header_deadline(protocol):
    """The deadline runs from each request's start, not from the connection's: a client asking once
    every 0.4 s on one connection goes on past several deadlines of 1 s."""
    with MesiboMock(subprocess=True, env={"HEADER_TIMEOUT": "1", "HTTP": protocol}) as mock:
        with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as sock:
            answered = 0
            started = time.monotonic()
            while time.monotonic() - started < 3.2:
                sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
                status = read_answer(sock, started)
                assert status.startswith(b"HTTP/1.1 200"), status
                answered += 1
                time.sleep(0.4)
        assert answered >= 7


def read_answer(sock: socket.socket, started: float) -> bytes:
    """One whole answer (its head, then as many bytes as its content-length says); -> its status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"the connection was closed after {time.monotonic() - started:.1f} s"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, "the connection was closed in the middle of an answer"
        body += chunk
    return head.split(b"\r\n")[0]


class Compressing(BaseHTTPRequestHandler):
    """A webhook handler on a framework that compresses whenever the client accepts it."""

    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["content-length"]))
        accepted = self.headers.get("accept-encoding") or ""
        Compressing.seen.append(accepted)
        body = b"MESIBO OK"
        self.send_response(200)
        if "gzip" in accepted:
            body = gzip.compress(body)
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_webhook_posts_ask_for_no_compression_so_a_compressing_framework_still_answers_mesibo_ok(mock):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Compressing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mock.set_webhook(f"http://127.0.0.1:{server.server_address[1]}/hook")
        mock.set_online("ann")
        [attempt] = mock.wait_for_webhook_attempts()
        assert attempt["ok"] is True, attempt
        assert Compressing.seen and all(a.strip().lower() == "identity" for a in Compressing.seen)
    finally:
        server.shutdown()
        server.server_close()


def test_the_receivers_answer_is_what_mesibo_wants(mock):
    """The helpers' own receiver answers 200 MESIBO OK: a 500 would make Mesibo retry, duplicating events."""
    with mock.webhook_receiver() as hook:
        answer = httpx.post(hook.url, json={"events": []})
        assert (answer.status_code, answer.text) == (200, "MESIBO OK")
