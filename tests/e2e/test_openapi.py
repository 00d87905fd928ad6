"""/openapi.json describes every backend op, and what it says is what the server does: each op's example
request is sent and answers as documented, and each field documented as required is refused when absent."""

from __future__ import annotations

import copy

import pytest

from mesibo_mock.backend.registry import DOCS, OPS
from tests.conftest import CREDS


@pytest.fixture(scope="module")
def document(server) -> dict:
    return server.client.get("/openapi.json").json()


def prepare(mock) -> None:
    """The world the examples assume: Ann (123456) and Bob (654321) with devices, the group Team (gid 1)."""
    mock.upload_credential(CREDS / "fcm-service-account.json")
    mock.backend("useradd", user={"address": "123456", "name": "Ann", "token": {"appid": "com.example.app"}})
    mock.register_device("123456", push_token="fcm-ann")
    mock.register_device("654321", push_token="fcm-bob")
    assert (
        mock.backend("groupadd", group={"name": "Team", "members": {"m": "123456,654321"}})["group"]["gid"]
        == 1
    )


def shape(value):
    """Keys all the way down (the first item stands for a list): values differ, the shape may not."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if not isinstance(value, bool | type(None)) else "scalar"


def loose(a, b) -> bool:
    """Same keys; a null may stand where a value is (an example shows one case of an optional field)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(loose(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return (not a or not b) or loose(a[0], b[0])
    return True


def send(mock, op: str, example: dict) -> dict:
    if op == "pushupload":
        return mock.upload_credential(CREDS / example["file"])
    return mock.client.post("/backend", json={**example, "op": op, "token": mock.app_token}).json()


def test_every_backend_op_is_documented_with_an_example(document):
    post = document["paths"]["/backend"]["post"]
    documented = post["x-mesibo-ops"]
    assert set(documented) == set(OPS)
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    answers = post["responses"]["200"]["content"]["application/json"]["examples"]
    schemas = {s["title"]: s for s in post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]}
    multipart = post["requestBody"]["content"]["multipart/form-data"]
    for op in OPS:
        if op == "pushupload":  # a file: shown as a multipart form, never as a JSON body
            assert op not in examples and multipart["examples"][op]["value"]["op"] == op
            assert multipart["schema"]["properties"]["file"]["format"] == "binary"
            assert documented[op]["example"]["file"] == "fcm-service-account.json"
        else:
            assert examples[op]["value"]["op"] == op
        assert answers[op]["value"]["result"] is True
        assert documented[op]["summary"] and schemas[op]["properties"]["op"] == {"const": op}
        assert f"**{op}**" in post["description"]
    assert set(document["paths"]["/backend"]) == {"get", "post"}


@pytest.mark.parametrize("op", sorted(OPS))
def test_each_example_answers_as_documented(mock, document, op):
    documented = document["paths"]["/backend"]["post"]["x-mesibo-ops"][op]
    prepare(mock)
    example = {k: v for k, v in documented["example"].items() if k not in ("op", "token")}
    answer = send(mock, op, example)
    assert answer["result"] is True, answer
    expected = documented["answer"]
    assert loose(shape(answer), shape(expected)), (answer, expected)
    # the documentation's own example names no field the op does not read: the hints come from it
    [entry] = mock.requests(limit=1)
    assert [n for n in entry["diagnosis"] if n["kind"] == "unknown field"] == []


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_documented_flat_name_is_read_by_the_op(mock, document, op):
    """A flat name the OpDoc lists is never diagnosed as a field no op reads."""
    documented = document["paths"]["/backend"]["post"]["x-mesibo-ops"][op]
    fields = {name: "1" for name in documented["flat"]}
    mock.client.get("/api.php", params={**fields, "op": op, "token": mock.app_token})
    [entry] = mock.requests(limit=1)
    assert [n for n in entry["diagnosis"] if n["kind"] == "unknown field"] == [], entry["diagnosis"]


@pytest.mark.parametrize(
    ("op", "path"),
    [(op, path) for op in sorted(OPS) for path in DOCS[op].required],
)
def test_each_required_field_is_refused_when_absent(mock, document, op, path):
    documented = document["paths"]["/backend"]["post"]["x-mesibo-ops"][op]
    assert path in documented["required"]
    prepare(mock)
    example = copy.deepcopy({k: v for k, v in documented["example"].items() if k not in ("op", "token")})
    *parents, leaf = path.split(".")
    node = example
    for part in parents:
        node = node[part]
    node.pop(leaf, None)
    if op == "pushupload":
        answer = mock.client.post("/backend", data={"op": op, "token": mock.app_token}).json()
    else:
        answer = mock.client.post("/backend", json={**example, "op": op, "token": mock.app_token}).json()
    assert answer["error"] == "MISSINGPARAMS" and leaf in answer["properties"], answer


def test_mock_answers_are_described_with_models(document):
    ref = document["paths"]["/_mock/pushes"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert ref == {"$ref": "#/components/schemas/Pushes"}
    record = document["components"]["schemas"]["PushRecord"]["properties"]
    assert {"mid", "follows", "injected", "request", "response"} <= set(record)
    assert "Messages" in document["components"]["schemas"] and "Groups" in document["components"]["schemas"]


def test_backend_comes_first_under_the_projects_own_description(document):
    assert next(iter(document["paths"])) == "/backend"
    description = document["info"]["description"]
    assert "emulator of Mesibo's backend API" in description and "push-notification API" not in description
    assert "/_mock" in description and "POST /backend" in description


def test_every_mock_operation_and_parameter_is_described(document):
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    mock_operations = [o for o in operations if o[0].startswith("/_mock")]
    assert len(mock_operations) >= 30, "the /_mock API went missing from /openapi.json"
    undescribed = [
        f"{method.upper()} {path}"
        for path, method, operation in operations
        if not operation.get("description")
    ]
    assert not undescribed, f"operations without a description: {undescribed}"
    bare = [
        f"{method.upper()} {path} ?{parameter['name']}"
        for path, method, operation in operations
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert not bare, f"parameters without a description: {bare}"


def test_home_page_points_to_the_dashboard_and_the_docs(mock):
    page = mock.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'href="/_mock/ui"' in page.text and 'href="/docs"' in page.text


def test_docs_assets_are_served_locally(mock):
    html = mock.client.get("/docs").text
    assert "cdn" not in html.lower() and "/_docs/static/swagger-ui-bundle.js" in html
    assert mock.client.get("/_docs/static/swagger-ui-bundle.js").status_code == 200
    assert mock.client.get("/redoc").status_code == 404  # not offered: its page needs a CDN
