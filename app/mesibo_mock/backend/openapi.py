"""/backend in the OpenAPI document: every op with its fields, its answer, its errors and an example.

Built from the OpDoc each op module keeps next to its code, only when /openapi.json is asked for.
"""

from __future__ import annotations

from mesibo_mock.backend.registry import DOCS, OPS
from mesibo_mock.errors import MISSINGPARAMS, ROWS

ENVELOPE = {
    "type": "object",
    "description": "Always HTTP 200 (413 for an upload over the limit). Failures add error, code, cause and, "
    "where Mesibo's error table has them, action and properties. The emulator's own explanation of a "
    "refusal is in the request journal (GET /_mock/requests), never here.",
    "properties": {
        "op": {"type": ["string", "null"]},
        "result": {"type": "boolean"},
        "id": {"type": "integer", "description": "the request's id, when a whole number other than 0"},
        "error": {"type": "string", "enum": sorted({row.error for row in ROWS.values()})},
        "code": {"type": "integer", "description": "an HTTP status number: 400, 401, 402, 501, 502, 503"},
        "cause": {"type": "string", "description": "Mesibo's own text for the error, word for word"},
        "action": {"type": "string", "description": "Mesibo's own text; some errors have none"},
        "properties": {"type": "array", "items": {"type": "string"}, "description": "bare field names"},
        "retry_after": {"type": "integer", "description": "seconds (RATELIMITED)"},
    },
    "required": ["op", "result"],
}
TOKEN = "<app token>"


def op_schema(name: str) -> dict:
    doc = DOCS[name]
    return {
        "title": name,
        "type": "object",
        "description": doc.summary,
        "properties": {
            "op": {"const": name},
            "token": {"type": "string", "description": "the app token"},
            **doc.fields,
        },
        "required": ["op", "token"],
    }


def describe_op(name: str) -> str:
    doc = DOCS[name]
    lines = [f"**{name}**: {doc.summary}."]
    if doc.flat:
        lines.append(
            "Flat names: " + ", ".join(f"`{flat}` = `{nested}`" for flat, nested in doc.flat.items()) + "."
        )
    if doc.errors:
        lines.append("Errors: " + ", ".join(f"`{e}`" for e in doc.errors) + ".")
    return " ".join(lines)


MULTIPART_OPS = frozenset({"pushupload"})


def backend_paths() -> dict:
    names = list(OPS)
    request_examples = {
        name: {"summary": DOCS[name].summary, "value": {"op": name, "token": TOKEN, **DOCS[name].example}}
        for name in names
    }
    # pushupload takes a file: its example is a multipart form, never a JSON body
    json_examples = {name: example for name, example in request_examples.items() if name not in MULTIPART_OPS}
    answer_examples = {
        name: {"summary": name, "value": {"op": name, "result": True, **DOCS[name].answer}} for name in names
    }
    answer_examples["error"] = {
        "summary": "a refusal",
        "value": {
            "op": "pushtest",
            "result": False,
            "error": "MISSINGPARAMS",
            "code": 400,
            "cause": ROWS[MISSINGPARAMS].cause,
            "action": ROWS[MISSINGPARAMS].action,
            "properties": ["address"],
        },
    }
    body_schema = {"oneOf": [op_schema(name) for name in names], "discriminator": {"propertyName": "op"}}
    description = (
        "Mesibo's backend API. Fields as a JSON object body (any Content-Type; a trailing comma is fine), "
        "a form, multipart or the query string; nested fields also as `push.address`, `push[address]` or "
        "JSON text. Also served at `/backend/`, `/api.php` and `/mesiboapi`.\n\n"
        + "\n\n".join(describe_op(name) for name in names)
    )
    operation = {
        "tags": ["backend"],
        "summary": "Mesibo backend API: every op, in any encoding",
        "description": description,
        "requestBody": {
            "content": {
                "application/json": {"schema": body_schema, "examples": json_examples},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": op_schema("pushupload"),
                    "examples": {
                        "pushupload": {
                            "summary": DOCS["pushupload"].summary + ": choose the file (curl -F"
                            f" op=pushupload -F token={TOKEN} -F file=@fcm-service-account.json)",
                            "value": {"op": "pushupload", "token": TOKEN, "type": "fcm"},
                        }
                    },
                    "encoding": {"file": {"contentType": "application/json, application/x-pkcs12"}},
                },
            }
        },
        "responses": {
            "200": {
                "description": "the envelope",
                "content": {"application/json": {"schema": ENVELOPE, "examples": answer_examples}},
            },
            "413": {"description": "an upload over MESIBO_MOCK_MAX_UPLOAD_BYTES (BADPAYLOAD)"},
        },
        "x-mesibo-ops": {
            name: {
                "summary": DOCS[name].summary,
                "fields": DOCS[name].fields,
                "required": list(DOCS[name].required),
                "flat": DOCS[name].flat,
                "errors": list(DOCS[name].errors),
                "example": request_examples[name]["value"],
                "answer": answer_examples[name]["value"],
            }
            for name in names
        },
    }
    get = {k: v for k, v in operation.items() if k != "requestBody"}
    get["parameters"] = [
        {
            "name": "op",
            "in": "query",
            "required": True,
            "description": "the op; its other fields go in the query string too, nested ones as "
            "`push.address=` (a GET carries what a POST's JSON would)",
            "schema": {"type": "string", "enum": names},
        },
        {
            "name": "token",
            "in": "query",
            "required": True,
            "description": "the app token",
            "schema": {"type": "string"},
        },
    ]
    return {
        "/backend": {
            "post": {**operation, "operationId": "backend_post"},
            "get": get | {"operationId": "backend_get"},
        }
    }
