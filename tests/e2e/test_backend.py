"""The /backend endpoint over HTTP on the real server: encodings, envelope, CORS, every error code."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import DEFAULT_OPTIONS

PUSHSET = {"op": "pushset", "push": {"sound": True}}


def post(mock, path="/backend", **kw) -> httpx.Response:
    return mock.client.post(path, **kw)


def test_json_body(mock):
    body = mock.client.post("/backend", json={**PUSHSET, "token": mock.app_token}).json()
    assert body["result"] is True and body["op"] == "pushset" and body["push"]["sound"] is True


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_json_body_whatever_the_content_type(mock, content_type):
    headers = {"content-type": content_type} if content_type else {}
    raw = json.dumps({**PUSHSET, "token": mock.app_token}).encode()
    response = mock.client.post("/backend", content=raw, headers=headers)
    assert response.json()["push"]["sound"] is True


@pytest.mark.parametrize("key", ["push.sound", "push[sound]"])
def test_form_body_with_dotted_and_bracket_keys(mock, key):
    body = post(mock, data={"op": "pushset", "token": mock.app_token, key: "yes"}).json()
    assert body["result"] is True and body["push"]["sound"] is True


def test_form_body_with_json_text_object(mock):
    body = post(mock, data={"op": "pushset", "token": mock.app_token, "push": '{"collapse": true}'}).json()
    assert body["push"]["collapse"] is True


def test_multipart_body(mock):
    fields = {"op": (None, "pushset"), "token": (None, mock.app_token), "push[sound]": (None, "1")}
    body = post(mock, files=fields).json()
    assert body["result"] is True and body["push"]["sound"] is True


@pytest.mark.parametrize("path", ["/backend", "/backend/", "/api.php"])
def test_query_string_on_every_path(mock, path):
    body = mock.client.get(
        path, params={"op": "pushset", "token": mock.app_token, "push.sound": "true"}
    ).json()
    assert body == {"op": "pushset", "result": True, "push": {**_defaults(), "sound": True}}


def test_query_and_body_merge_and_the_body_wins(mock):
    response = mock.client.post(
        "/backend",
        params={"op": "pushset", "token": mock.app_token, "push.sound": "1", "push.collapse": "1"},
        json={"push": {"sound": False}},
    )
    push = response.json()["push"]
    assert push["sound"] is False and push["collapse"] is True


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_with_a_body(mock, method):
    response = mock.client.request(method, "/backend", json={**PUSHSET, "token": mock.app_token})
    assert response.json()["result"] is True


def test_cors_preflight(mock):
    response = mock.client.options(
        "/backend", headers={"Origin": "http://x", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "Content-Type, Authorization"


def test_an_odd_method_still_gets_the_envelope(mock):
    response = mock.client.request("PATCH", "/backend", params={"op": "usersget", "token": mock.app_token})
    assert response.status_code == 200 and response.json()["result"] is True


def test_every_response_allows_any_origin(mock):
    assert mock.client.get("/backend").headers["access-control-allow-origin"] == "*"
    assert mock.client.post("/backend", content=b"{").headers["access-control-allow-origin"] == "*"


# --- every error code of SPEC section 2 -----------------------------------------------------------
def _error(response: httpx.Response) -> dict:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["result"] is False
    return body


@pytest.mark.parametrize("raw", [b"{not json", b"[1,2]", b"42", b'"str"', b"\xff\xfe\xfd", b"a&b&c"])
def test_badpayload_for_unparseable_bodies(mock, raw):
    body = _error(mock.client.post("/backend", content=raw, headers={"content-type": "application/json"}))
    assert body["error"] == "BADPAYLOAD" and body["op"] is None and body["cause"]


def test_badpayload_for_broken_multipart(mock):
    raw = b"--XYZ\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--XYZ--\r\n"
    body = _error(
        mock.client.post(
            "/backend", content=raw, headers={"content-type": "multipart/form-data; boundary=XYZ"}
        )
    )
    assert body["error"] == "BADPAYLOAD"


def test_empty_request_is_missing_op(mock):
    assert _error(mock.client.get("/backend"))["error"] == "MISSINGPARAMS"


def test_authfail_for_a_deleted_app(mock):
    mock.create_app("doomed", "doomed-token")
    assert mock.client.delete("/_mock/apps/doomed-token").status_code == 204
    body = _error(mock.client.post("/backend", json={"op": "pushset", "token": "doomed-token", "push": {}}))
    assert body["error"] == "AUTHFAIL"


def test_badvalue_names_the_field(mock):
    body = _error(
        mock.client.post(
            "/backend", json={"op": "pushset", "token": mock.app_token, "push": {"sound": "loud"}}
        )
    )
    assert body["error"] == "BADVALUE" and body["properties"] == ["sound"]


def test_oversized_body_is_413_badpayload(mock):
    huge = b"x" * (1048576 + 70 * 1024)
    response = mock.client.post("/backend", content=huge, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert response.json()["error"] == "BADPAYLOAD"


# --- pushset ----------------------------------------------------------------------------------------
def _defaults() -> dict:
    return dict(DEFAULT_OPTIONS)


def test_pushset_returns_defaults_for_an_empty_push(mock):
    assert mock.backend("pushset", push={})["push"] == _defaults()


def test_pushset_partial_updates_keep_other_values(mock):
    mock.backend("pushset", push={"sound": True, "iosfcm": "yes"})
    after = mock.backend("pushset", push={"collapse": 1})["push"]
    assert after == {**_defaults(), "sound": True, "iosfcm": True, "collapse": True}
    assert mock.app()["push"] == after


def test_pushset_ignores_unknown_keys(mock):
    assert mock.backend("pushset", push={"volume": 11})["push"] == _defaults()


def test_pushset_without_push_is_missingparams(mock):
    body = mock.backend("pushset")
    assert body["error"] == "MISSINGPARAMS" and body["properties"] == ["push"]


def test_pushset_badvalue_names_every_bad_key_and_changes_nothing(mock):
    body = mock.backend("pushset", push={"sound": "loud", "collapse": 7, "background": False})
    assert body["error"] == "BADVALUE" and body["properties"] == ["collapse", "sound"]
    assert mock.app()["push"] == _defaults()


def test_pushset_push_that_is_not_an_object(mock):
    body = mock.backend("pushset", push="loud")
    assert body["error"] == "BADVALUE" and body["properties"] == ["push"]


def test_huge_numbers_are_badvalue_not_an_internal_error(mock):
    body = mock.backend("userdel", user={"uid": 2**70})
    assert body["error"] == "BADVALUE" and body["properties"] == ["uid"]
    body = mock.backend("useradd", user={"address": "1", "token": {"appid": "com.x", "expiry": 10**30}})
    assert body["error"] == "BADVALUE" and body["properties"] == ["expiry"]
