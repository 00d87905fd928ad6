"""The request journal across a restart and under retention, and backend faults of each kind, through
the real server."""

from __future__ import annotations

import time

import httpx
import pytest

from mesibo_mock.testing import MesiboMock


def test_the_journal_survives_a_restart(tmp_path):
    db = str(tmp_path / "journal.db")
    with MesiboMock(subprocess=True, db=db, app_token="j-token") as mock:
        mock.backend("useradd", user={"address": "ann"})
        mock.backend("pushset", push={"sounds": True})  # a typo, diagnosed
        before = mock.requests(limit=10)
    with MesiboMock(subprocess=True, db=db, app_token="j-token") as mock:
        after = mock.requests(limit=10)
        assert after == before and [e["op"] for e in after] == ["pushset", "useradd"]
        assert after[0]["fields"]["token"] == "[redacted]"
        assert "did you mean 'push.sound'?" in after[0]["diagnosis"][0]["hint"]


def test_the_journal_is_pruned_by_retention_per_app_and_for_calls_naming_no_app():
    with MesiboMock(subprocess=True, env={"RETENTION": "5"}) as mock:
        for i in range(12):
            mock.backend("useradd", user={"address": f"u{i}"})
            mock.client.post("/backend", json={"op": "usersget", "token": f"wrong-{i}"})
        newest = mock.requests(token=mock.app_token, limit=1)[0]["id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # retention runs in the background, every 2 s
            mine = mock.requests(token=mock.app_token, limit=100)
            everyone = mock.requests(limit=100, all_apps=True)
            if len(mine) == 5 and len(everyone) == 10:
                break
            time.sleep(0.2)
        assert [e["id"] for e in mine][0] == newest and len(mine) == 5  # the newest five kept
        assert len(everyone) == 10  # and five of the calls that named no app


def test_an_http_fault_answers_a_proxy_page_and_changes_nothing(mock):
    mock.backend_fault(http=502, op="useradd")
    response = mock.client.post(
        "/backend", json={"op": "useradd", "token": mock.app_token, "user": {"address": "a"}}
    )
    assert response.status_code == 502 and "502 Bad Gateway" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert mock.users() == []  # the faulted call changed nothing
    [entry] = mock.requests(op="useradd", limit=1)
    assert entry["fault"] is True and entry["answer"]["http"] == 502
    assert "backend fault" in entry["diagnosis"][0]["problem"]
    assert mock.backend("useradd", user={"address": "a"})["result"] is True  # count 1: used up
    assert mock.client.get("/_mock/backend-faults").json()["faults"] == []


def test_a_fault_meets_only_its_op_and_token_and_lasts_its_count(mock):
    other = mock.create_app("other", token="other-token").token
    mock.backend_fault(error="QUOTAEXCEEDED", op="useradd", token=mock.app_token, count=2)
    assert mock.backend("usersget")["result"] is True  # another op
    answer = mock.client.post(
        "/backend", json={"op": "useradd", "token": other, "user": {"address": "x"}}
    ).json()
    assert answer["result"] is True  # another app
    results = [mock.backend("useradd", user={"address": f"u{i}"}) for i in range(3)]
    assert [r.get("error") for r in results] == ["QUOTAEXCEEDED", "QUOTAEXCEEDED", None]
    assert [u["address"] for u in mock.users()] == ["u2"]


def test_a_delay_fault_holds_the_answer_then_the_call_goes_on(mock):
    """Long enough for a client's timeout to fire: what the fault is for."""
    mock.backend_fault(delay=3, op="useradd")
    with httpx.Client(timeout=0.5) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post(
            mock.backend_url, json={"op": "useradd", "token": mock.app_token, "user": {"address": "slow"}}
        )
    [entry] = mock.wait_for_requests(1, timeout=10, op="useradd")
    assert entry["answer"]["result"] is True  # delayed, not refused: the call went on
    assert any("delayed 3 s" in d["problem"] for d in entry["diagnosis"])
    assert [u["address"] for u in mock.users()] == ["slow"]


def test_the_journal_keeps_the_answer_as_it_was_sent_and_a_users_token_redacted(mock):
    """The entry's answer is the bytes the caller got (made once, kept as they are when nothing in them
    is secret); useradd's answer carries the user's access token, which only the caller sees."""
    import json

    mock.client.post(
        f"/_mock/apps/{mock.app_token}/devices",
        json={"address": "ann", "platform": "android", "appid": "a.b", "push_token": "tok-ann"},
    )
    sent = mock.client.post(
        "/backend", json={"op": "pushtest", "token": mock.app_token, "push": {"address": "ann"}}
    )
    entry = mock.requests(limit=1)[0]
    assert entry["op"] == "pushtest" and entry["answer"] == json.loads(sent.content)
    assert entry["answer"]["push"]["results"][0]["device"]  # the push it made, as the caller saw it

    made = mock.client.post(
        "/backend",
        json={
            "op": "useradd",
            "token": mock.app_token,
            "user": {"address": "bob", "token": {"appid": "com.example.app"}},
        },
    )
    token = made.json()["user"]["token"]
    entry = mock.requests(limit=1)[0]
    assert entry["op"] == "useradd" and token not in json.dumps(entry)
    assert entry["answer"]["user"]["token"] == "[redacted]"
    assert {k: v for k, v in entry["answer"].items() if k != "user"} == {
        k: v for k, v in made.json().items() if k != "user"
    }
