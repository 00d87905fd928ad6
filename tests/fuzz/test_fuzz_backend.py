"""Property-based tests over /backend on the real server: no input yields a 5xx, a non-JSON body, or an
envelope without `result`. And the credential parsers refuse garbage only with CredentialError."""

from __future__ import annotations

import contextlib
import json
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesibo_mock.backend.registry import OPS as REGISTRY
from mesibo_mock.credentials import CredentialError
from mesibo_mock.credentials.apn import parse_apn
from mesibo_mock.credentials.fcm import parse_fcm
from mesibo_mock.errors import ROWS
from mesibo_mock.testing import MesiboMock
from tests.conftest import cred

OPS = sorted(REGISTRY) + ["deluser"]
KEYS = [
    "push",
    "user",
    "address",
    "duration",
    "sound",
    "background",
    "collapse",
    "token",
    "appid",
    "expiry",
    "uid",
    "name",
    "message",
    "type",
    "file",
    "id",
    "addr",
    "iosfcm",
    "fallback",
    "gid",
    "m",
    "from",
    "to",
    "msg",
    "group",
    "count",
    "delete",
    "cs",
]
# Derandomized (the same examples every run, in CI as at a desk) and without a database of examples on
# disk: a failure is reproducible from the code alone.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["true", "no", "1", "0", "YES", "123456", "", "{}"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def fuzz_server():
    with MesiboMock(mode="onprem", env={"MAX_UPLOAD_BYTES": "4096"}) as mock:
        mock.register_device("123456", "android")
        mock.register_device("123456", "ios", push_token="ab" * 32, sandbox=True)
        yield mock


def request_fields(data, token: str) -> dict:
    fields = data.draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=5))
    op = data.draw(st.one_of(st.sampled_from(OPS), st.text(max_size=12), st.integers(), st.none()))
    if op is not None:
        fields["op"] = op
    fields["token"] = data.draw(st.one_of(st.just(token), st.text(max_size=10), st.integers(), st.none()))
    return fields


def flatten(value, prefix: str, brackets: bool) -> list[tuple[str, str]]:
    if isinstance(value, dict) and value:
        pairs = []
        for key, inner in value.items():
            name = f"{prefix}[{key}]" if brackets and prefix else (f"{prefix}.{key}" if prefix else str(key))
            pairs += flatten(inner, name, brackets)
        return pairs
    text = json.dumps(value) if isinstance(value, dict | list) else ("" if value is None else str(value))
    return [(prefix, text)]


ENCODINGS = ["json", "json-text", "form", "brackets", "multipart", "query", "raw"]


def send(mock: MesiboMock, data, fields: dict, encodings: list[str] = ENCODINGS) -> httpx.Response:
    """`raw` sends random bytes instead of the fields."""
    encoding = data.draw(st.sampled_from(encodings))
    method = data.draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])) if encoding == "query" else "POST"
    path = data.draw(st.sampled_from(["/backend", "/backend/", "/api.php"]))
    flat = flatten(fields, "", encoding == "brackets")
    if encoding == "json":  # Python's encoder writes NaN and Infinity too: the server must refuse them
        return mock.client.post(
            path, content=json.dumps(fields), headers={"content-type": "application/json"}
        )
    if encoding == "json-text":
        return mock.client.post(path, content=json.dumps(fields), headers={"content-type": "text/plain"})
    if encoding in ("form", "brackets"):
        return mock.client.post(path, data=dict(flat))
    if encoding == "multipart":
        files = {
            "file": (
                data.draw(st.sampled_from(["a.json", "b.p12", "c.txt", ""])),
                data.draw(st.binary(max_size=300)),
            )
        }
        return mock.client.post(path, data=dict(flat), files=files)
    if encoding == "query":
        return mock.client.request(method, path, params=flat)
    raw = data.draw(st.binary(max_size=200))
    content_type = data.draw(
        st.sampled_from(
            [
                "application/json",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "text/plain",
                "",
            ]
        )
    )
    return mock.client.post(path, content=raw, headers={"content-type": content_type} if content_type else {})


def not_finite(value) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(not_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(not_finite(v) for v in value)
    return False


def assert_envelope(response: httpx.Response) -> dict:
    assert response.status_code in (200, 413), response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and isinstance(body["result"], bool) and "op" in body
    if not body["result"]:
        [row] = [
            r
            for r in ROWS.values()
            if (r.error, r.code, r.cause) == (body["error"], body["code"], body["cause"])
        ]
        assert body.get("action") == row.action  # Mesibo's own text, or none where its table has none
        assert isinstance(body["code"], int) and not isinstance(body["code"], bool)
        if "properties" in body:
            assert row.properties and all(isinstance(p, str) and "." not in p for p in body["properties"])
    return body


def assert_no_internal_error(mock) -> None:
    """An op that raised an unexpected exception still answers an envelope; the journal says it was a bug."""
    [entry] = mock.requests(limit=1)
    assert not [n for n in entry["diagnosis"] if n["kind"] == "internal error"], entry


@FUZZ
@given(data=st.data())
def test_backend_always_answers_an_envelope(fuzz_server, data):
    fields = request_fields(data, fuzz_server.app_token)
    assert_envelope(send(fuzz_server, data, fields))
    assert_no_internal_error(fuzz_server)


@FUZZ
@given(data=st.data(), op=st.sampled_from(OPS))
def test_each_op_with_random_fields_answers_an_envelope(fuzz_server, data, op):
    fields = {
        "op": op,
        "token": fuzz_server.app_token,
        **data.draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=5)),
    }
    check_random_fields(fuzz_server, send(fuzz_server, data, fields, ENCODINGS[:-1]), op, fields)


def check_random_fields(mock, response: httpx.Response, op: str, fields: dict) -> None:
    body = assert_envelope(response)
    assert_no_internal_error(mock)
    if body.get("error") == "BADPAYLOAD":  # only JSON text holding NaN or Infinity may be refused whole
        assert not_finite(fields), fields
    else:
        assert body["op"] == op


def test_a_text_field_and_an_unnamed_file_part_of_one_name_are_not_a_conflict(fuzz_server):
    """Hypothesis found it: a multipart text field `file={}` and a file part `file` with an empty file
    name. The later one stands, as in a query string; pushupload then says no file was chosen."""
    boundary = "b0undary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="op"\r\n\r\npushupload\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{fuzz_server.app_token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n{{}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n"
    ).encode()
    response = fuzz_server.client.post(
        "/backend", content=raw, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    check_random_fields(fuzz_server, response, "pushupload", {"file": {}})
    assert response.json()["error"] == "MISSINGPARAMS" and response.json()["properties"] == ["file"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_apn_parser_refuses_random_bytes_only_with_a_credential_error(data):
    with contextlib.suppress(CredentialError):
        parse_apn(data, time.time())


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_apn_parser_survives_corrupted_certificates(data):
    original = bytearray(cred("apns-development.p12"))
    for _ in range(data.draw(st.integers(1, 8))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(CredentialError):
        parse_apn(bytes(original), time.time())


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=500), values.map(lambda v: json.dumps(v).encode())))
def test_fcm_parser_refuses_garbage_only_with_a_credential_error(data):
    with contextlib.suppress(CredentialError):
        parse_fcm(data)
