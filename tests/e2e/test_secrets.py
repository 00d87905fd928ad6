"""Secrets never kept (hardening round 4, items 1 and 7): a credential sent as text in any of the ways a
client can send it, tokens under the wrong name, the admin token, user tokens in answers and the app
token in the access log. Each is checked where a developer would see it: the journal (list and one
entry), the dashboard's data, the pytest report's text, the server's log, and the database file."""

from __future__ import annotations

import glob
import hashlib
import json
import urllib.parse

import httpx
import pytest

from mesibo_mock.backend.report import describe_calls
from mesibo_mock.testing import MesiboMock
from tests.conftest import CREDS

ADMIN = "admin-secret-for-tests"
ACCOUNT = (CREDS / "fcm-service-account.json").read_bytes()
# A line from inside the key's base64 body: it must appear nowhere the emulator writes.
KEY_LINE = json.loads(ACCOUNT)["private_key"].splitlines()[5]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("secrets") / "secrets.db")
    with MesiboMock(subprocess=True, db=db, log_level="info", env={"ADMIN_TOKEN": ADMIN}) as mock:
        yield mock


@pytest.fixture
def secure(guarded):
    guarded.reset()
    return guarded


def everything_written(mock: MesiboMock) -> str:
    """The journal as the API, the dashboard and a test report show it, the log, and the store's bytes."""
    entries = mock.requests(limit=100)
    parts = [json.dumps(entries), describe_calls(entries), mock.logs()]
    parts += [json.dumps(mock.client.get(f"/_mock/requests/{e['id']}").json()) for e in entries]
    parts.append(mock.client.get("/_mock/ui").text)
    for path in glob.glob(mock._db + "*"):
        with open(path, "rb") as fh:
            parts.append(fh.read().decode("latin-1"))
    return "\n".join(parts)


def assert_no_key(text: str) -> None:
    assert KEY_LINE not in text
    assert "PRIVATE KEY-----" not in text
    assert urllib.parse.quote(KEY_LINE) not in text and urllib.parse.quote_plus(KEY_LINE) not in text


def send_each_way(mock: MesiboMock) -> list[dict]:
    """The five ways the attack sent a service account as text: curl -F 'file=<sa.json', a part without
    a filename, --data-urlencode, a JSON body (text and object), and /api.php's query string."""
    text = ACCOUNT.decode()
    fields = {"op": "pushupload", "token": mock.app_token}
    answers = [
        mock.client.post("/backend", files={"file": (None, ACCOUNT)}, data=fields),  # curl -F 'file=<sa.json'
        mock.client.post(
            "/backend",
            files={"op": (None, b"pushupload"), "file": (None, ACCOUNT, "application/json")},
            data={"token": mock.app_token},
        ),
        mock.client.post(
            "/backend",
            content=urllib.parse.urlencode({**fields, "file": text}),
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        mock.client.post("/backend", json={**fields, "file": text}),
        mock.client.post("/backend", json={**fields, "file": json.loads(text)}),
        mock.client.get("/api.php", params={**fields, "file": text}),
    ]
    return [a.json() for a in answers]


def test_a_credential_sent_as_text_is_refused_and_journaled_only_as_its_summary(secure):
    answers = send_each_way(secure)
    assert [a["error"] for a in answers] == ["MISSINGPARAMS"] * 6
    assert all(a["properties"] == ["file"] for a in answers)
    entries = secure.requests(op="pushupload", limit=10)
    assert len(entries) == 6
    digest = hashlib.sha256(ACCOUNT).hexdigest()
    for entry in entries:
        summary = entry["fields"]["file"]
        assert set(summary) == {"name", "type", "size", "sha256", "kind"}
        assert summary["kind"] in ("text", "object")
    texts = [e["fields"]["file"] for e in entries if e["fields"]["file"]["kind"] == "text"]
    assert all(s["sha256"] == digest and s["size"] == len(ACCOUNT) for s in texts)  # the file, identified
    assert "holding a PEM private key (not shown)" in json.dumps(entries)  # the diagnosis still says why
    assert_no_key(everything_written(secure))


def test_an_uploaded_file_is_journaled_as_name_type_size_and_digest(secure):
    answer = secure.upload_credential(ACCOUNT, filename="sa.json")
    assert answer["result"] is True
    [entry] = secure.requests(op="pushupload", limit=1)
    assert entry["fields"]["file"] == {
        "name": "sa.json",
        "type": "application/json",  # as httpx guesses it from the name
        "size": len(ACCOUNT),
        "sha256": hashlib.sha256(ACCOUNT).hexdigest(),
        "kind": "file",
    }
    assert_no_key(everything_written(secure))


def test_a_key_pasted_into_any_field_is_kept_nowhere(secure):
    key = json.loads(ACCOUNT)["private_key"]
    secure.backend("useradd", user={"address": "ann", "name": key})
    secure.send_message("ann", "ann", key)
    secure.backend("groupadd", group={"name": key, "members": {"m": "ann"}})
    assert secure.client.post("/_mock/apps", json={"name": key}).status_code == 422
    assert "PRIVATE KEY-----" not in json.dumps([secure.users(), secure.messages(), secure.groups()])
    assert_no_key(everything_written(secure))


def test_tokens_are_redacted_by_what_they_are_not_only_by_their_name(secure):
    token = secure.app_token
    calls = [
        {"op": "usersget", "Token": token},
        {"op": "usersget", "TOKEN": token},
        {"op": "usersget", "token[x]": token},
        {"op": "usersget", "token.x": token},
        {"op": "usersget", "token": ADMIN},  # the admin token sent to /backend
        {"op": "usersget", "token": token, "apikey": token, "note": ADMIN},
    ]
    for fields in calls:
        secure.client.post("/backend", data=fields)
    secure.client.get("/api.php", params={"op": "usersget", "token": token})
    added = secure.backend("useradd", user={"address": "ann", "token": {"appid": "com.example.app"}})
    issued = secure.backend("usertoken", user={"address": "ann", "token": {"appid": "com.example.web"}})
    user_tokens = [added["user"]["token"], issued["user"]["token"]]
    assert all(len(t) > 20 for t in user_tokens)  # the caller gets them
    entries = secure.requests(limit=20, all_apps=True)
    assert len(entries) == 9
    journal = json.dumps(entries) + describe_calls(entries)  # the API, the dashboard's data, a test report
    fields = json.dumps([e["fields"] for e in entries])  # the app's own token is each entry's `app`
    log = secure.logs()
    calls_logged = "\n".join(  # the access and call lines (the ready line names the token, on purpose)
        line
        for line in log.splitlines()
        if ("HTTP/1.1" in line and ("/backend" in line or "/api.php" in line))
        or "mesibo_mock.backend" in line
    )
    assert token not in fields and token not in calls_logged
    for secret in (ADMIN, *user_tokens):
        assert secret not in journal and secret not in log, secret
    assert ADMIN not in everything_written(secure).replace(secure.client.get("/_mock/ui").text, "")
    assert "token=[redacted]" in log  # the access line of /api.php?token=...
    assert [e["answer"]["user"]["token"] for e in entries[:2]] == ["[redacted]", "[redacted]"]


def test_a_value_equal_to_a_token_is_redacted_anywhere_in_the_fields(secure):
    other = secure.create_app("other").token
    secure.client.post("/backend", json={"op": "usersget", "token": secure.app_token, "x": {"y": [other]}})
    [entry] = secure.requests(limit=1)
    assert entry["fields"] == {"op": "usersget", "token": "[redacted]", "x": {"y": ["[redacted]"]}}


def test_a_long_field_is_cut_in_the_journal_with_its_size_noted(secure):
    secure.backend("useradd", user={"address": "ann", "name": "Ann"}, note="n" * 50_000)
    [entry] = secure.requests(op="useradd", limit=1)
    note = entry["fields"]["note"]
    assert note.startswith("n" * 4096) and note.endswith("[cut: 50000 characters in all]")
    assert len(note) < 4200
    assert entry["fields"]["user"] == {"address": "ann", "name": "Ann"}  # short values stay whole


def test_an_upload_of_a_key_as_text_over_httpx_without_the_helper(secure):
    """The same through a bare client with the admin header, as a user's own test would."""
    with httpx.Client(base_url=secure.url, headers={"authorization": f"Bearer {ADMIN}"}) as client:
        answer = client.post(
            "/backend", data={"op": "pushupload", "token": secure.app_token, "file": ACCOUNT.decode()}
        )
        assert answer.json()["error"] == "MISSINGPARAMS"
        listed = client.get("/_mock/requests", params={"limit": 1}).text
    assert_no_key(listed)
