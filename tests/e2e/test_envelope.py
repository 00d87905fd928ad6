"""SPEC section 2 through the real server: every row of the real backend's error table, with its code, its
exact cause, its action or none, and its properties or none; the generic texts used for real cases; the id
echo; the trailing comma (and nothing else) of lenient JSON; /mesiboapi."""

from __future__ import annotations

import json

import httpx
import pytest

# SPEC section 2, the real backend's error table, restated here as the independent oracle:
# error -> (code, cause, action or None, whether it lists properties).
REQUIRED = "Refer to the mesibo backend API documentation to learn about required parameters"
VALUES = (
    "Refer to the mesibo backend API documentation to learn about required parameters and expected values"
)
TABLE = {
    "BADPAYLOAD": (400, "The input request is not a valid JSON object", None, False),
    "MISSINGPARAMS": (
        400,
        "One or more required properties for this operation type are missing. Refer to the properties array in "
        "the response to learn more.",
        REQUIRED,
        True,
    ),
    "UNKNOWN_OP": (
        501,
        "Invalid API method (op) received. Refer to the mesibo backend API documentation to learn more.",
        "Refer to the mesibo backend API documentation to learn about correct parameters",
        True,
    ),
    "BADORIGIN": (
        502,
        "The backend API MUST NOT be invoked from the client. Refer to the Security Note in the backend API "
        "documentation",
        None,
        False,
    ),
    "AUTHFAIL": (401, "Invalid or expired app token", None, True),
    "BADVALUE": (
        400,
        "One or more properties contain bad values. Refer to the properties array in the response to learn more.",
        VALUES,
        True,
    ),
    "BADAPPID": (
        400,
        "appid should be non-numeric and dotted (for example, com.example.xyz). For Android, it should be your "
        "Android package name declared in the AndroidManifest.xml. For iOS, it should be the bundle id declared in "
        "the Xcode project. For other platforms, make sure it is non-numeric and pass the same app id to the "
        "setAppName API function",
        "fix and send correct appid",
        True,
    ),
    "INVALIDVALUE": (
        400,
        "One or more properties contain invalid values. Refer to the properties array in the response to learn "
        "more.",
        VALUES,
        True,
    ),
    "BADREQ": (
        400,
        "bad request",
        "Refer to the mesibo backend API documentation to learn about required parameters, expected values, and "
        "combinations",
        True,
    ),
    "BOTH": (400, "Both uid and address are specified", "Specify either uid or address", True),
    "RATELIMITED": (
        503,
        "This OP is for testing only and hence rate limited. However, if you are using on-premise, you can host "
        "the backend and no such limit will apply",
        None,
        False,
    ),
    "CREDITSEXCEEDED": (
        402,
        "Your account credits have expired, or the free limit has been reached",
        "Login to the mesibo console to add the required credits to your account.",
        False,
    ),
    "QUOTAEXCEEDED": (503, "You account resource limit(s) has been reached", None, False),
    "UNUSEDTRIALUSERS": (
        503,
        "You have created many users using backend API but used only a few. Upgrade to a paid account to remove "
        "this restriction.",
        None,
        False,
    ),
}
NAME = {"UNKNOWN_OP": "BADVALUE", "BADAPPID": "BADVALUE", "BOTH": "BADREQ"}


def failure(response: httpx.Response, row: str, properties: list[str] | None = None) -> dict:
    """A refusal exactly as the table's row says: HTTP 200 JSON, `result` false, error, code, cause, and
    action and properties only where the row has them, in this order."""
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    code, cause, action, lists = TABLE[row]
    expected = {"op": body["op"], "result": False}
    if "id" in body:
        expected["id"] = body["id"]
    expected |= {"error": NAME.get(row, row), "code": code, "cause": cause}
    if action is not None:
        expected["action"] = action
    if lists and properties is not None:
        expected["properties"] = properties
    if "retry_after" in body:
        expected["retry_after"] = body["retry_after"]
    assert body == expected
    assert list(body) == list(expected)
    return body


def post(mock, payload: dict, **kw) -> httpx.Response:
    return mock.client.post("/backend", json=payload, **kw)


def test_badpayload_for_a_body_that_is_not_json(mock):
    failure(mock.client.post("/backend", content=b'{"op": "pushset", "token": ', headers={}), "BADPAYLOAD")


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'{"a": NaN}', b'{"a": Infinity}', b'{"id": 1e400}', b"[" * 5000, b"{'op': 'x'}"]
)
def test_badpayload_for_json_that_is_not_an_object_or_not_finite(mock, raw):
    failure(mock.client.post("/backend", content=raw), "BADPAYLOAD")


def test_badpayload_for_an_upload_over_the_limit_is_http_413(mock):
    response = mock.client.post("/backend", content=b"x" * (1048576 + 70 * 1024))
    assert response.status_code == 413
    assert response.json() == {
        "op": None,
        "result": False,
        "error": "BADPAYLOAD",
        "code": 400,
        "cause": TABLE["BADPAYLOAD"][1],
    }


def test_missingparams_for_a_missing_op(mock):
    failure(post(mock, {"token": mock.app_token}), "MISSINGPARAMS", ["op"])


def test_missingparams_names_bare_fields(mock):
    failure(post(mock, {"op": "pushtest", "token": mock.app_token, "push": {}}), "MISSINGPARAMS", ["address"])


@pytest.mark.parametrize("op", ["nosuchop", "deluser", "BADOP", "usersync", 5, ["pushset"], {"a": 1}])
def test_unknown_op_is_badvalue_501(mock, op):
    failure(post(mock, {"op": op, "token": mock.app_token}), "UNKNOWN_OP", ["op"])


@pytest.mark.parametrize("token", [None, "", "not-a-token", 12, {"x": 1}])
def test_authfail_401_exactly_as_the_real_backend_answered(mock, token):
    payload = {"op": "pushset", "push": {"sound": True}} | ({} if token is None else {"token": token})
    assert failure(post(mock, payload), "AUTHFAIL", ["token"])["op"] == "pushset"


def test_badvalue_names_the_bare_field_in_the_generic_words(mock):
    payload = {"op": "pushdebug", "token": mock.app_token, "push": {"duration": "long"}}
    failure(post(mock, payload), "BADVALUE", ["duration"])


def test_badvalue_appid_has_its_own_whole_text(mock):
    payload = {
        "op": "useradd",
        "token": mock.app_token,
        "user": {"address": "1", "token": {"appid": "12345"}},
    }
    failure(post(mock, payload), "BADAPPID", ["appid"])


def test_invalidvalue_for_a_gid_that_names_no_group(mock):
    failure(post(mock, {"op": "groupset", "token": mock.app_token, "gid": 999}), "INVALIDVALUE", ["gid"])


def test_badreq_for_both_uid_and_address(mock):
    mock.backend("useradd", user={"address": "5"})
    payload = {"op": "userdel", "token": mock.app_token, "user": {"uid": 1, "address": "5"}}
    failure(post(mock, payload), "BOTH", ["uid", "address"])


def test_ratelimited_503_for_the_test_push_limit(mock):
    mock.register_device("77")
    for _ in range(10):
        assert mock.backend("pushtest", push={"address": "77"})["result"] is True
    body = failure(
        post(mock, {"op": "pushtest", "token": mock.app_token, "push": {"address": "77"}}), "RATELIMITED"
    )
    assert body["retry_after"] >= 1


def test_ratelimited_503_for_a_second_debug_window(mock):
    assert mock.pushdebug(60)["result"] is True
    body = failure(post(mock, {"op": "pushdebug", "token": mock.app_token}), "RATELIMITED")
    assert body["retry_after"] > 0


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
        "Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
        "okhttp/4 (android)",  # any letter case [real: the binary searches without regard to case]
        "SOMEAGENT MOBILE",
    ],
)
def test_badorigin_502_for_a_call_from_a_phone(mock, agent):
    failure(
        post(mock, {"op": "usersget", "token": mock.app_token}, headers={"user-agent": agent}), "BADORIGIN"
    )


@pytest.mark.parametrize(
    ("error", "row", "properties"),
    [
        ("BADPAYLOAD", "BADPAYLOAD", None),
        ("MISSINGPARAMS", "MISSINGPARAMS", None),
        ("BADORIGIN", "BADORIGIN", None),
        ("AUTHFAIL", "AUTHFAIL", ["token"]),
        ("BADVALUE", "BADVALUE", None),
        ("INVALIDVALUE", "INVALIDVALUE", None),
        ("BADREQ", "BADREQ", None),
        ("RATELIMITED", "RATELIMITED", None),
        ("CREDITSEXCEEDED", "CREDITSEXCEEDED", None),
        ("QUOTAEXCEEDED", "QUOTAEXCEEDED", None),
        ("UNUSEDTRIALUSERS", "UNUSEDTRIALUSERS", None),
    ],
)
def test_a_backend_fault_answers_with_any_row_word_for_word(mock, error, row, properties):
    """The last three rows never happen on their own: a backend fault is how a test meets them."""
    mock.backend_fault(error=error, op="useradd")
    failure(post(mock, {"op": "useradd", "token": mock.app_token, "user": {"address": "q"}}), row, properties)
    assert mock.users() == []  # a faulted call changes nothing


def test_each_generic_text_is_what_a_real_case_gets(mock):
    """The generic causes are used for real refusals, not only for faults."""
    token = mock.app_token
    assert (
        post(mock, {"op": "groupadd", "token": token, "group": {"flag": "x"}}).json()["cause"]
        == TABLE["BADVALUE"][1]
    )
    assert (
        post(mock, {"op": "groupdel", "token": token, "gid": 5}).json()["cause"] == TABLE["INVALIDVALUE"][1]
    )
    assert post(mock, {"op": "userdel", "token": token}).json()["cause"] == TABLE["MISSINGPARAMS"][1]
    assert (
        post(mock, {"op": "message", "token": token, "from": "x", "to": "y", "msg": "m"}).json()["cause"]
        == (TABLE["INVALIDVALUE"][1])
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
    send = mock.client.post
    failure(send("/backend", content=b"{oops", headers=phone), "BADPAYLOAD")
    failure(send("/backend", json={"token": "bad"}, headers=phone), "MISSINGPARAMS", ["op"])
    failure(send("/backend", json={"op": "zzz", "token": "bad"}, headers=phone), "UNKNOWN_OP", ["op"])
    failure(send("/backend", json={"op": "pushset", "token": "bad"}, headers=phone), "BADORIGIN")
    failure(send("/backend", json={"op": "pushset", "token": "bad"}), "AUTHFAIL", ["token"])
    failure(send("/backend", json={"op": "pushset", "token": mock.app_token}), "MISSINGPARAMS", ["push"])


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
        (2**63 - 1, 2**63 - 1),
        (2**63, None),  # too large for a 64-bit integer: not echoed
        ("9223372036854775808", None),
        (1e30, None),
    ],
)
def test_only_a_whole_number_other_than_0_is_echoed_as_a_number(mock, sent, echoed):
    body = mock.client.post("/backend", json={"op": "usersget", "token": mock.app_token, "id": sent}).json()
    assert body.get("id") == echoed
    assert ("id" in body) == (echoed is not None)


def test_id_is_echoed_on_failure_too(mock):
    body = failure(post(mock, {"op": "pushset", "token": "nope", "id": "5"}), "AUTHFAIL", ["token"])
    assert body["id"] == 5


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
    assert body["result"] is True and mock.users()[0]["name"] == "x,}"


def test_a_lone_surrogate_is_echoed_escaped(mock):
    response = mock.client.post("/backend", content=b'{"op": "\\ud800x", "token": "t"}')
    assert response.status_code == 200
    assert response.json()["op"] == "\ud800x" and response.json()["code"] == 501


@pytest.mark.parametrize("path", ["/mesiboapi", "/mesiboapi/", "/backend/", "/api.php"])
def test_every_backend_path_serves_the_backend(mock, path):
    body = mock.client.get(path, params={"op": "usersget", "token": mock.app_token}).json()
    assert body == {"op": "usersget", "result": True, "userscount": 0, "count": 0, "users": []}


@pytest.mark.parametrize("phone_first", [True, False])
def test_badorigin_sees_a_phone_in_any_of_two_user_agent_headers(mock, phone_first):
    """The attack sent a harmless User-Agent and a phone's in a second header."""
    import http.client
    import json

    agents = ["curl/8.5.0", "Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B)"]
    if phone_first:
        agents.reverse()
    connection = http.client.HTTPConnection(mock.host, mock.port, timeout=10)
    body = json.dumps({"op": "usersget", "token": mock.app_token})
    connection.putrequest("POST", "/backend", skip_accept_encoding=True)
    for agent in agents:
        connection.putheader("User-Agent", agent)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body.encode())
    answer = json.loads(connection.getresponse().read())
    connection.close()
    assert answer["error"] == "BADORIGIN", answer
