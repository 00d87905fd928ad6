"""SPEC section 2 through the real server: every row of the error table with its code, and the exact
cause and action where the SPEC gives them; the id echo; lenient JSON; /mesiboapi."""

from __future__ import annotations

import json

import httpx
import pytest

MISSING_ACTION = "Refer to the mesibo backend API documentation to learn about required parameters"
BADVALUE_ACTION = (
    "Refer to the mesibo backend API documentation to learn about required parameters and expected values"
)
ENVELOPE_KEYS = ["op", "result", "error", "code", "cause", "action"]


def failure(response: httpx.Response) -> dict:
    """A refusal: HTTP 200 JSON, `result` false, and error, code, cause, action in this order."""
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["result"] is False
    keys = [k for k in body if k != "id"]
    assert keys[: len(ENVELOPE_KEYS)] == ENVELOPE_KEYS, keys
    assert isinstance(body["code"], int) and body["cause"] and body["action"]
    return body


def test_badpayload_400_for_a_body_that_is_not_json(mock):
    body = failure(mock.client.post("/backend", content=b'{"op": "pushset", "token": ', headers={}))
    assert body["error"] == "BADPAYLOAD" and body["code"] == 400
    assert body["cause"] == "The input request is not a valid JSON object"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'{"a": NaN}', b'{"a": Infinity}', b'{"id": 1e400}', b"[" * 5000])
def test_badpayload_for_json_that_is_not_an_object_or_not_finite(mock, raw):
    body = failure(mock.client.post("/backend", content=raw))
    assert body["error"] == "BADPAYLOAD" and body["code"] == 400


def test_badpayload_for_an_upload_over_the_limit_is_http_413(mock):
    response = mock.client.post("/backend", content=b"x" * (1048576 + 70 * 1024))
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "BADPAYLOAD" and body["code"] == 400 and body["action"]


def test_missingparams_400_for_a_missing_op(mock):
    body = failure(mock.client.post("/backend", json={"token": mock.app_token}))
    assert body == {
        "op": None,
        "result": False,
        "error": "MISSINGPARAMS",
        "code": 400,
        "cause": body["cause"],
        "action": MISSING_ACTION,
        "properties": ["op"],
    }


def test_missingparams_names_bare_fields(mock):
    body = failure(mock.client.post("/backend", json={"op": "pushtest", "token": mock.app_token, "push": {}}))
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["address"]
    assert body["action"] == MISSING_ACTION


@pytest.mark.parametrize("op", ["nosuchop", "deluser", "BADOP", 5, ["pushset"], {"a": 1}])
def test_unknown_op_is_badvalue_501(mock, op):
    body = failure(mock.client.post("/backend", json={"op": op, "token": mock.app_token}))
    assert body["error"] == "BADVALUE" and body["code"] == 501 and body["properties"] == ["op"]
    assert body["cause"] == (
        "Invalid API method (op) received. Refer to the mesibo backend API documentation to learn more."
    )
    assert body["action"] == BADVALUE_ACTION


@pytest.mark.parametrize("token", [None, "", "not-a-token", 12, {"x": 1}])
def test_authfail_401_exactly_as_the_real_backend_answered(mock, token):
    payload = {"op": "pushset", "push": {"sound": True}} | ({} if token is None else {"token": token})
    body = failure(mock.client.post("/backend", json=payload))
    assert body["error"] == "AUTHFAIL" and body["code"] == 401 and body["op"] == "pushset"
    assert body["cause"] == "Invalid or expired app token" and body["properties"] == ["token"]


def test_badvalue_400_names_the_bare_field(mock):
    payload = {"op": "pushdebug", "token": mock.app_token, "push": {"duration": "long"}}
    body = failure(mock.client.post("/backend", json=payload))
    assert body["error"] == "BADVALUE" and body["code"] == 400 and body["properties"] == ["duration"]
    assert body["action"] == BADVALUE_ACTION
    assert "push.duration" in body["cause"]  # the precise cause keeps the path


def test_badreq_400_for_both_uid_and_address(mock):
    mock.backend("useradd", user={"address": "5"})
    payload = {"op": "userdel", "token": mock.app_token, "user": {"uid": 1, "address": "5"}}
    body = failure(mock.client.post("/backend", json=payload))
    assert body["error"] == "BADREQ" and body["code"] == 400
    assert body["cause"] == "Both uid and address are specified"
    assert body["action"] == "Specify either uid or address"
    assert body["properties"] == ["uid", "address"]


def test_ratelimited_503_for_the_test_push_limit(mock):
    mock.register_device("77")
    for _ in range(10):
        assert mock.backend("pushtest", push={"address": "77"})["result"] is True
    body = failure(
        mock.client.post(
            "/backend", json={"op": "pushtest", "token": mock.app_token, "push": {"address": "77"}}
        )
    )
    assert body["error"] == "RATELIMITED" and body["code"] == 503 and body["retry_after"] >= 1
    assert body["cause"] == (
        "This OP is for testing only and hence rate limited. However, if you are using on-premise, "
        "you can host the backend and no such limit will apply"
    )


def test_ratelimited_503_for_a_second_debug_window(mock):
    assert mock.pushdebug(60)["result"] is True
    body = failure(mock.client.post("/backend", json={"op": "pushdebug", "token": mock.app_token}))
    assert body["error"] == "RATELIMITED" and body["code"] == 503 and body["retry_after"] > 0


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
        "Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    ],
)
def test_badorigin_502_for_a_call_from_a_phone(mock, agent):
    payload = {"op": "usersget", "token": mock.app_token}
    body = failure(mock.client.post("/backend", json=payload, headers={"user-agent": agent}))
    assert body["error"] == "BADORIGIN" and body["code"] == 502
    assert body["cause"] == (
        "The backend API MUST NOT be invoked from the client. "
        "Refer to the Security Note in the backend API documentation"
    )


def test_a_server_user_agent_is_not_refused(mock):
    answer = mock.client.post(
        "/backend",
        json={"op": "usersget", "token": mock.app_token},
        headers={"user-agent": "GuzzleHttp/7 curl/8.5.0 PHP/8.3"},
    ).json()
    assert answer["result"] is True


def test_checks_run_in_order_payload_op_origin_token_fields(mock):
    phone = {"user-agent": "Android"}
    post = mock.client.post
    assert failure(post("/backend", content=b"{oops", headers=phone))["error"] == "BADPAYLOAD"
    assert failure(post("/backend", json={"token": "bad"}, headers=phone))["error"] == "MISSINGPARAMS"
    assert failure(post("/backend", json={"op": "zzz", "token": "bad"}, headers=phone))["code"] == 501
    assert (
        failure(post("/backend", json={"op": "pushset", "token": "bad"}, headers=phone))["error"]
        == "BADORIGIN"
    )
    assert failure(post("/backend", json={"op": "pushset", "token": "bad"}))["error"] == "AUTHFAIL"
    body = failure(post("/backend", json={"op": "pushset", "token": mock.app_token}))
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["push"]


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        (17, 17),
        ("42", 42),
        (7.0, 7),
        (0, None),
        ("0", None),
        ("abc", None),
        (-3, None),
        (True, None),
        (None, None),
    ],
)
def test_only_a_whole_number_other_than_0_is_echoed_as_a_number(mock, sent, echoed):
    body = mock.client.post("/backend", json={"op": "usersget", "token": mock.app_token, "id": sent}).json()
    assert body.get("id") == echoed
    assert ("id" in body) == (echoed is not None)


def test_id_is_echoed_on_failure_too(mock):
    body = failure(mock.client.post("/backend", json={"op": "pushset", "token": "nope", "id": "5"}))
    assert body["id"] == 5 and body["error"] == "AUTHFAIL"


# The push documentation's own examples, byte for byte: each has a trailing comma.
DOC_PUSHTEST = b"""{
    "op": "pushtest",
    "token": "%s",
    "push": {
        "address": "123456",
    }
}"""
DOC_PUSHDEBUG = b"""{
    "op": "pushdebug",
    "token": "%s",
    "push": {
        "duration": 1800,
    }
}"""


def test_the_documentations_pushtest_example_works_as_pasted(mock):
    mock.register_device("123456")
    raw = DOC_PUSHTEST % mock.app_token.encode()
    body = mock.client.post("/backend", content=raw, headers={"content-type": "application/json"}).json()
    assert body["result"] is True and body["push"]["address"] == "123456"


def test_the_documentations_pushdebug_example_works_as_pasted(mock):
    raw = DOC_PUSHDEBUG % mock.app_token.encode()
    body = mock.client.post("/backend", content=raw).json()
    assert body["result"] is True and body["push"]["debug"]["active"] is True


def test_trailing_commas_never_touch_string_contents(mock):
    token = json.dumps(mock.app_token)
    raw = '{"op": "useradd", "token": TOKEN, "user": {"address": "a", "name": "x,}",},}'.replace(
        "TOKEN", token
    )
    body = mock.client.post("/backend", content=raw.encode()).json()
    assert body["result"] is True and body["user"]["name"] == "x,}"


def test_a_lone_surrogate_is_echoed_escaped(mock):
    response = mock.client.post("/backend", content=b'{"op": "\\ud800x", "token": "t"}')
    assert response.status_code == 200
    assert response.json()["op"] == "\ud800x" and response.json()["code"] == 501


@pytest.mark.parametrize("path", ["/mesiboapi", "/mesiboapi/", "/backend/", "/api.php"])
def test_every_backend_path_serves_the_backend(mock, path):
    body = mock.client.get(path, params={"op": "usersget", "token": mock.app_token}).json()
    assert body == {"op": "usersget", "result": True, "users": []}
