"""The answers of /_mock as pydantic models, for the OpenAPI document only.

The routes answer with plain JSON (a response model per route would cost start-up time, see
routes.py); these models describe the same shapes and are merged into /openapi.json when it is first
asked for. tests/fuzz/test_mock_api_schema.py checks the real answers against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]
    mode: Literal["cloud", "onprem"]
    version: str


class FcmCredential(BaseModel):
    project_id: str
    client_email: str
    source: Literal["api", "seed"]


class ApnCredential(BaseModel):
    bundle: str
    sandbox: bool
    production: bool
    expiry: str | None
    topics: list[str]
    team_id: str | None = None
    source: Literal["api", "seed"]


class Credentials(BaseModel):
    fcm: FcmCredential | None
    apn: list[ApnCredential]


class DebugWindow(BaseModel):
    active: bool
    start: str | None
    end: str | None
    next_allowed: str | None


class Webhook(BaseModel):
    url: str
    events: list[Literal["push", "message", "user"]]
    note: str | None = None  # when Mesibo's cloud would refuse the URL (not https://)


class App(BaseModel):
    name: str
    token: str
    push: dict[str, bool]
    credentials: Credentials
    debug: DebugWindow | None
    webhook: Webhook | None


class Apps(BaseModel):
    apps: list[App]


class Device(BaseModel):
    id: int
    address: str
    platform: Literal["android", "ios"]
    appid: str
    push_token: str
    voip: bool
    sandbox: bool
    responds: bool
    invalid: str | None


class Devices(BaseModel):
    devices: list[Device]


class PushRecord(BaseModel):
    id: int
    ts: str
    app: str
    app_name: str
    address: str
    device: int
    push_token: str
    platform: Literal["android", "ios"]
    service: Literal["fcm", "apn"]
    push_type: Literal["background", "alert", "voip"]
    kind: Literal["test", "message", "fallback"]
    status: Literal["sent", "failed", "throttled"]
    reason: str | None
    debug: bool
    acked: bool
    fallback_due: str | None
    mid: int | None
    follows: int | None
    injected: bool
    request: dict[str, Any] | None
    response: dict[str, Any] | None


class Pushes(BaseModel):
    pushes: list[PushRecord]


class Deleted(BaseModel):
    deleted: int


class Fault(BaseModel):
    id: int
    token: str | None
    address: str | None
    push_token: str | None
    error: str
    service: Literal["fcm", "apn"]
    count: int | None


class Faults(BaseModel):
    faults: list[Fault]


class Clock(BaseModel):
    now: str
    epoch: float
    frozen: bool
    offset: float


class Delivery(BaseModel):
    """One attempt to POST to a webhook."""

    id: int
    token: str
    delivery: int
    webhook_id: int
    event_count: int
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    note: str | None
    duration_ms: float
    ok: bool
    ts: str


class Deliveries(BaseModel):
    deliveries: list[Delivery]
    pending: int


class Recipient(BaseModel):
    address: str
    online: bool
    pushes: list[int]


class Message(BaseModel):
    mid: int
    ts: str
    app: str
    from_: str
    to: list[str] | None
    gid: int | None
    type: int
    message: str
    title: str | None
    url: str | None
    expiry: int
    flag: int
    scheduled: bool
    delivering: bool
    recipients: list[Recipient]
    recipients_total: int
    skipped: list[str]
    pushes: list[int]
    pushes_total: int

    model_config = {"populate_by_name": True, "alias_generator": lambda n: "from" if n == "from_" else n}


class Messages(BaseModel):
    messages: list[Message]


class UserToken(BaseModel):
    appid: str
    expires: str


class User(BaseModel):
    uid: int
    address: str
    name: str
    appid: str | None
    active: bool
    online: bool
    lastonline: str | None
    flag: int
    profile: dict[str, Any] | None
    tokens: list[UserToken] = []


class Users(BaseModel):
    users: list[User]


class Member(BaseModel):
    uid: int
    address: str
    cs: bool
    cr: bool


class Group(BaseModel):
    gid: int
    name: str
    flag: int
    active: bool
    expiry: int | None
    profile: dict[str, Any] | None
    members: list[Member]
    member_count: int


class Groups(BaseModel):
    groups: list[Group]


class Otp(BaseModel):
    app: str
    address: str
    otp: str
    tries: int
    expires: str
    created: str


class Otps(BaseModel):
    otps: list[Otp]


class Reset(BaseModel):
    reset: bool
    app_token: str


class Problem(BaseModel):
    """Every /_mock refusal: a sentence, or FastAPI's list of field errors for a body it cannot read."""

    detail: str | list[dict[str, Any]]


class WebhookSet(BaseModel):
    webhook: Webhook


class Event(BaseModel):
    """An event as it was sent, with the delivery that carried it; the rest of its fields (user,
    status, message, push) as SPEC section 5 shows them."""

    model_config = {"extra": "allow"}
    id: int
    delivery: int
    app: str
    ts: str
    type: Literal["push", "message", "user"]


class Events(BaseModel):
    events: list[Event]


class WebhookDelivery(BaseModel):
    id: int
    token: str
    webhook_id: int
    url: str
    state: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt: str | None
    event_count: int
    note: str | None
    created: str
    kinds: list[Literal["push", "message", "user"]]


class WebhookDeliveries(BaseModel):
    deliveries: list[WebhookDelivery]


class Note(BaseModel):
    field: str | None = None
    problem: str
    hint: str | None = None
    kind: str


class JournalEntry(BaseModel):
    id: int
    ts: str
    app: str | None
    op: str | None
    encoding: Literal["json", "form", "multipart", "query"]
    path: str
    user_agent: str
    fields: dict[str, Any]
    answer: dict[str, Any]
    diagnosis: list[Note]
    pushes: list[int]
    mid: int | None = None
    fault: bool | None = None


class Journal(BaseModel):
    requests: list[JournalEntry]


class BackendFault(BaseModel):
    id: int
    op: str | None
    token: str | None
    error: str | None
    http: int | None
    delay: float | None
    count: int | None
    created: str


class BackendFaults(BaseModel):
    faults: list[BackendFault]


ANSWERS: dict[tuple[str, str], tuple[str, type[BaseModel]]] = {
    ("/_mock/health", "get"): ("200", Health),
    ("/_mock/apps", "get"): ("200", Apps),
    ("/_mock/apps", "post"): ("201", App),
    ("/_mock/apps/{token}", "get"): ("200", App),
    ("/_mock/apps/{token}/webhook", "put"): ("200", WebhookSet),
    ("/_mock/apps/{token}/devices", "post"): ("201", Device),
    ("/_mock/apps/{token}/devices", "get"): ("200", Devices),
    ("/_mock/apps/{token}/users", "get"): ("200", Users),
    ("/_mock/apps/{token}/users/{address}/online", "put"): ("200", User),
    ("/_mock/apps/{token}/groups", "get"): ("200", Groups),
    ("/_mock/pushes", "get"): ("200", Pushes),
    ("/_mock/pushes", "delete"): ("200", Deleted),
    ("/_mock/pushes/{push_id}", "get"): ("200", PushRecord),
    ("/_mock/pushes/{push_id}/ack", "post"): ("200", PushRecord),
    ("/_mock/messages", "get"): ("200", Messages),
    ("/_mock/messages/{mid}", "get"): ("200", Message),
    ("/_mock/otps", "get"): ("200", Otps),
    ("/_mock/faults", "post"): ("201", Fault),
    ("/_mock/faults", "get"): ("200", Faults),
    ("/_mock/faults", "delete"): ("200", Deleted),
    ("/_mock/clock", "get"): ("200", Clock),
    ("/_mock/clock", "post"): ("200", Clock),
    ("/_mock/webhooks", "get"): ("200", Deliveries),
    ("/_mock/reset", "post"): ("200", Reset),
    ("/_mock/events", "get"): ("200", Events),
    ("/_mock/deliveries", "get"): ("200", WebhookDeliveries),
    ("/_mock/requests", "get"): ("200", Journal),
    ("/_mock/requests", "delete"): ("200", Deleted),
    ("/_mock/requests/{entry_id}", "get"): ("200", JournalEntry),
    ("/_mock/backend-faults", "post"): ("201", BackendFault),
    ("/_mock/backend-faults", "get"): ("200", BackendFaults),
    ("/_mock/backend-faults", "delete"): ("200", Deleted),
}


def describe_answers(schema: dict) -> None:
    """Point each /_mock operation's answer at its model, and add the models to the components."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for (path, method), (status, model) in ANSWERS.items():
        operation = schema["paths"].get(path, {}).get(method)
        if operation is None:
            continue
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
        answer = operation.setdefault("responses", {}).setdefault(status, {"description": "OK"})
        answer["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        }
    components["Problem"] = Problem.model_json_schema()
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema["paths"].items():
        if not path.startswith("/_mock"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, text in (("422", "a field is missing or wrong"), ("404", "no such app or record")):
                if status == "422" or "{" in path:
                    responses[status] = {"description": text, "content": problem}
