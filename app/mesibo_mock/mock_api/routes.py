"""/_mock routes: apps, webhooks, devices, users, groups, pushes, messages, faults, clock, webhook log,
reset. Included on the first /_mock request (see main.py), so that start-up does not pay for them."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, Response

from mesibo_mock.backend import journal
from mesibo_mock.clock import iso, parse_iso
from mesibo_mock.delivery import engine, faults
from mesibo_mock.errors import BY_ERROR_NAME
from mesibo_mock.events import webhook
from mesibo_mock.mock_api.deps import (
    AddressFilter,
    AfterId,
    AppDep,
    BeforeId,
    Limit,
    PageSize,
    RowId,
    RuntimeDep,
    TokenFilter,
    Wait,
    choice_query,
    id_query,
    text_query,
)
from mesibo_mock.schemas import AppIn, BackendFaultIn, ClockIn, DeviceIn, FaultIn, OnlineIn, WebhookIn
from mesibo_mock.server.responses import json_response
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, backend_faults, groups, messages, people
from mesibo_mock.store.db import where

# Route handlers carry no `-> dict` annotation on purpose: FastAPI would build a response model for
# each at import time, which alone cost 50 ms of start-up.
router = APIRouter(prefix="/_mock")
PAGE = 1000  # users, devices and groups listed at once unless `limit` says otherwise
CLOCK_EARLIEST = 946684800.0  # 2000-01-01
CLOCK_LATEST = 221845392000.0  # 9000-01-01


# --- apps -----------------------------------------------------------------------------------------
@router.get("/apps", tags=["apps"])
async def list_apps(rt: RuntimeDep):
    """Every app: its token, name, push options, credentials (private keys never shown), webhook and
    debug window. The app tokens are what the backend calls send."""
    return json_response({"apps": [apps.public_view(rt, a) for a in apps.list_all(rt)]})


@router.post("/apps", status_code=201, tags=["apps"])
async def create_app(body: AppIn, rt: RuntimeDep):
    """A new app with the token given (409 if taken); a test that creates its own app leaves everyone
    else's data alone."""
    try:
        app = apps.create(rt, body.name, body.token)
    except apps.AppExists:
        raise HTTPException(409, f"an app with token {body.token!r} already exists") from None
    return json_response(apps.public_view(rt, app), 201)


@router.get("/apps/{token}", tags=["apps"])
async def get_app(app: AppDep, rt: RuntimeDep):
    """One app, as in the list."""
    return json_response(apps.public_view(rt, app))


@router.delete("/apps/{token}", status_code=204, tags=["apps"])
async def delete_app(app: AppDep, rt: RuntimeDep) -> Response:
    """Delete an app with everything it holds: credentials, users, groups, devices (its push records,
    messages and journal entries stay, as history, until retention or a clear removes them)."""
    rt.store.freeing(lambda: apps.delete(rt, app))
    return Response(status_code=204)


@router.put("/apps/{token}/webhook", tags=["apps"])
async def put_webhook(body: WebhookIn, app: AppDep, rt: RuntimeDep):
    """Set the app's webhook: the URL Mesibo's events (user, message, push) are POSTed to, its secret
    and the events wanted. `note` says what Mesibo's cloud would refuse (it needs public https)."""
    apps.set_webhook(rt, app, body.url, body.secret, body.events)
    view = apps.webhook_view(apps.by_token(rt, app["token"]))
    note = webhook.cloud_note(rt, body.url)
    return json_response({"webhook": view | ({"note": note} if note else {})})


@router.delete("/apps/{token}/webhook", status_code=204, tags=["apps"])
async def delete_webhook(app: AppDep, rt: RuntimeDep) -> Response:
    """Remove the app's webhook; deliveries still pending are cancelled."""
    apps.set_webhook(rt, app, None, None)
    return Response(status_code=204)


# --- devices --------------------------------------------------------------------------------------
@router.post("/apps/{token}/devices", status_code=201, tags=["devices"])
async def register_device(body: DeviceIn, app: AppDep, rt: RuntimeDep):
    """Register a push token for a user, as the Mesibo SDK on a phone would (creates the user if
    absent); messages to that user while offline then become push records."""
    device, _created = people.register_device(rt, app["id"], body.model_dump())
    return json_response(people.device_view(device), 201)


@router.get("/apps/{token}/devices", tags=["devices"])
async def list_devices(
    app: AppDep,
    rt: RuntimeDep,
    address: AddressFilter = None,
    after: id_query("only devices with a larger id (to page)") = None,
    limit: PageSize = PAGE,
):
    """The app's devices, oldest first, a page at a time (`after` a device id)."""
    rows = people.devices_of(rt, app["id"], address, after=after, limit=limit)
    return json_response({"devices": [people.device_view(d) for d in rows]})


@router.delete("/apps/{token}/devices/{device_id}", status_code=204, tags=["devices"])
async def delete_device(device_id: RowId, app: AppDep, rt: RuntimeDep) -> Response:
    """Forget one device (its push token)."""
    device = people.device_by_id(rt, app["id"], device_id)
    if device is None:
        raise HTTPException(404, f"no device {device_id} in this app")
    people.delete_device(rt, device)
    return Response(status_code=204)


# --- pushes ---------------------------------------------------------------------------------------
def query_pushes(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[dict]:
    clause, args = where(filters, ("id > ?", after))
    rows = rt.store.all(f"SELECT * FROM pushes{clause} ORDER BY id DESC LIMIT ?", [*args, limit])
    return [engine.record_view(r) for r in rows]


@router.get("/pushes", tags=["pushes"])
async def list_pushes(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    address: AddressFilter = None,
    push_token: text_query("only pushes to this device push token") = None,
    service: choice_query("fcm", "apn", description="only pushes to Google (fcm) or Apple (apn)") = None,
    status: choice_query(
        "sent",
        "failed",
        "throttled",
        description="sent: the provider would have accepted it; failed: it would have refused it; "
        "throttled: held back by the push rate limit",
    ) = None,
    kind: choice_query(
        "test",
        "message",
        "fallback",
        description="test: from pushtest; message: a message to an offline user; fallback: "
        "the second try after the fallback delay",
    ) = None,
    mid: id_query("only pushes caused by this message (its mid)") = None,
    after: AfterId = None,
    limit: Limit = 100,
    wait: Wait = 0,
):
    """The push records: exactly what would have been sent to Google or Apple (headers, body,
    target), newest first, with the provider's answer as the emulator decided it."""
    filters = {
        "app_token": token,
        "address": address,
        "push_token": push_token,
        "service": service,
        "status": status,
        "kind": kind,
        "mid": mid,
    }
    found = await long_poll(
        rt, request, wait, "pushes", filters, lambda: query_pushes(rt, filters, after, limit)
    )
    return json_response({"pushes": found})


async def long_poll(rt: Runtime, request: Request, wait: float, kind: str, filters: dict, query):
    """Run `query` until it finds something or `wait` seconds pass; woken only by new records of
    `kind` that meet `filters`. It ends early when its client has gone or the server is stopping."""
    return await rt.waiters.poll(kind, filters, query, wait, lambda: client_gone(request))


async def client_gone(request: Request) -> None:
    """Returns when the server reports that the client has disconnected (no polling)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _push_row(rt: Runtime, push_id: int):
    row = rt.store.one("SELECT * FROM pushes WHERE id = ?", (push_id,))
    if row is None:
        raise HTTPException(404, f"no push record {push_id}")
    return row


@router.get("/pushes/{push_id}", tags=["pushes"])
async def get_push(push_id: RowId, rt: RuntimeDep):
    """One push record."""
    return json_response(engine.record_view(_push_row(rt, push_id)))


@router.post("/pushes/{push_id}/ack", tags=["pushes"])
async def ack_push(push_id: RowId, rt: RuntimeDep):
    """Mark a push as received by the app, as a phone would; an acknowledged push needs no fallback."""
    _push_row(rt, push_id)
    return json_response(engine.record_view(engine.acknowledge(rt, push_id)))


@router.delete("/pushes", tags=["pushes"])
async def clear_pushes(rt: RuntimeDep, token: text_query("only this app's push records") = None):
    """Delete push records (all, or one app's). Possible even when the disk is full."""
    return json_response({"deleted": rt.store.freeing(lambda: _delete_of(rt, "pushes", token))})


def _delete_of(rt: Runtime, table: str, token: str | None) -> int:
    """Every row of `table`, or one app's; -> how many."""
    with rt.store.tx():
        if token is None:
            return rt.store.run(f"DELETE FROM {table}").rowcount
        return rt.store.run(f"DELETE FROM {table} WHERE app_token = ?", (token,)).rowcount


# --- users, groups, messages, OTPs ------------------------------------------------------------------
@router.get("/apps/{token}/users", tags=["users"])
async def list_users(
    app: AppDep,
    rt: RuntimeDep,
    after: id_query("only users with a larger uid (to page)") = None,
    limit: PageSize = PAGE,
):
    """The app's users, oldest first, a page at a time (`after` a uid), with the app ids and expiry of
    their access tokens."""
    rows = people.users_of(rt, app["id"], after=after, limit=limit)
    tokens: dict[int, list[dict]] = {}
    for t in people.tokens_of(rt, [row["id"] for row in rows]):
        tokens.setdefault(t["user_id"], []).append({"appid": t["appid"], "expires": iso(t["expires"])})
    users = []
    for row in rows:
        mine = tokens.get(row["id"], [])
        users.append(people.user_view(row, mine[-1]["appid"] if mine else None) | {"tokens": mine})
    return json_response({"users": users})


@router.put("/apps/{token}/users/{address}/online", tags=["users"])
async def set_online(
    address: Annotated[str, Path(max_length=256, description="the user's address")],
    body: OnlineIn,
    app: AppDep,
    rt: RuntimeDep,
):
    """An online user gets messages over its real-time connection, so no push; creates the user if
    absent. A change raises a user event (online or offline) on the app's webhook."""
    outbox = webhook.Outbox(rt)
    with rt.store.tx():
        before = people.ensure_user(rt, app["id"], address)
        user = people.set_online(rt, before, body.online)
        if bool(before["online"]) != body.online:
            outbox.user_status(app, user, body.online)
        outbox.flush()
    return json_response(people.user_view(user))


@router.get("/apps/{token}/groups", tags=["groups"])
async def list_groups(
    app: AppDep,
    rt: RuntimeDep,
    after: id_query("only groups with a larger gid (to page)") = None,
    limit: PageSize = PAGE,
):
    """The app's groups, oldest first, a page at a time (`after` a gid), each with its first
    MEMBERS_SHOWN members and how many it has."""
    views = [
        groups.group_view(row, [groups.member_view(m) for m in groups.members(rt, row, groups.MEMBERS_SHOWN)])
        for row in groups.groups_of(rt, app["id"], after=after, limit=limit)
    ]
    return json_response({"groups": views})


@router.get("/messages", tags=["messages"])
async def list_messages(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    from_: text_query("only messages from this address", alias="from") = None,
    to: text_query("only messages with this address among their recipients") = None,
    gid: id_query("only messages to this group") = None,
    after: AfterId = None,
    limit: Limit = 100,
    wait: Wait = 0,
):
    """The messages sent through the backend (`message` op), newest first: sender, recipients (one
    per member for a group), whether each was online, and the pushes each offline one caused."""
    filters = {"app_token": token, "from_address": from_, "gid": gid}
    found = await long_poll(
        rt, request, wait, "messages", filters, lambda: messages.find(rt, filters, to, after, limit)
    )
    return json_response({"messages": found})


@router.get("/messages/{mid}", tags=["messages"])
async def get_message(
    mid: Annotated[int, Path(ge=1, le=2**63 - 1, description="the message id")],
    rt: RuntimeDep,
    offset: Annotated[
        int, Query(ge=0, le=10**9, description="recipients to pass over: a group's later pages of recipients")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=messages.SHOWN_RECIPIENTS, description="recipients (and push ids) to show")
    ] = messages.SHOWN_RECIPIENTS,
):
    """One message by its mid, with its recipients a page at a time (`recipients_total` says how many
    there are) and the pushes each got."""
    row = messages.by_mid(rt, mid)
    if row is None:
        raise HTTPException(404, f"no message {mid}")
    return json_response(messages.views(rt, [row], limit, offset)[0])


@router.get("/otps", tags=["users"])
async def list_otps(rt: RuntimeDep, token: TokenFilter = None):
    """The one-time codes `useradd` with `otp` made, newest first: where a real app would send them
    by SMS, a test reads them here."""
    sql = "SELECT o.*, a.token FROM otps o JOIN apps a ON a.id = o.app_id"
    rows = rt.store.all(
        sql + (" WHERE a.token = ?" if token else "") + " ORDER BY o.id DESC", (token,) if token else ()
    )
    return json_response(
        {
            "otps": [
                {
                    "app": r["token"],
                    "address": r["address"],
                    "otp": r["code"],
                    "tries": r["tries"],
                    "expires": iso(r["expires"]),
                    "created": iso(r["created"]),
                }
                for r in rows
            ]
        }
    )


# --- faults ---------------------------------------------------------------------------------------
@router.post("/faults", status_code=201, tags=["faults"])
async def add_fault(body: FaultIn, rt: RuntimeDep):
    """Make the next `count` pushes that match (app, address, push token) fail as the provider would
    answer: an expired token, an unregistered device, a bad certificate and so on."""
    if body.error not in faults.FAULTS:
        raise HTTPException(422, f"unknown fault {body.error!r}; accepted: {', '.join(faults.FAULTS)}")
    # count defaults to 1; an explicit null means "until removed"
    fault_id = faults.add(
        rt, body.error, token=body.token, address=body.address, push_token=body.push_token, count=body.count
    )
    return json_response(faults.view(rt.store.one("SELECT * FROM faults WHERE id = ?", (fault_id,))), 201)


@router.get("/faults", tags=["faults"])
async def list_faults(rt: RuntimeDep):
    """The push faults still set, oldest first."""
    return json_response(
        {"faults": [faults.view(r) for r in rt.store.all("SELECT * FROM faults ORDER BY id")]}
    )


@router.delete("/faults", tags=["faults"])
async def clear_faults(rt: RuntimeDep):
    """Remove every push fault."""
    with rt.store.tx():
        deleted = rt.store.run("DELETE FROM faults").rowcount
    return json_response({"deleted": deleted})


@router.delete("/faults/{fault_id}", status_code=204, tags=["faults"])
async def delete_fault(fault_id: RowId, rt: RuntimeDep) -> Response:
    """Remove one push fault."""
    with rt.store.tx():
        if not rt.store.run("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount:
            raise HTTPException(404, f"no fault {fault_id}")
    return Response(status_code=204)


# --- clock ----------------------------------------------------------------------------------------
@router.get("/clock", tags=["clock"])
async def get_clock(rt: RuntimeDep):
    """The emulator's clock: what debug windows, rate limits, token expiry and fallbacks are timed by.
    Each server process keeps its own."""
    return json_response(rt.clock.state())


@router.post("/clock", tags=["clock"])
async def move_clock(rt: RuntimeDep, body: Annotated[ClockIn, Body()]):
    """Move the clock: `advance` seconds, `set` an instant, `freeze` it, or back to `real` time.
    Fallbacks and retries the move makes due happen before the answer."""
    given = body.model_fields_set
    if len(given) != 1:
        raise HTTPException(422, "give exactly one of 'advance', 'set', 'freeze', 'real'")
    if body.advance is not None:
        _within_range(rt.clock.now() + body.advance)
        rt.clock.advance(body.advance)
    elif body.set is not None:
        try:
            instant = parse_iso(body.set)
        except (ValueError, OverflowError):
            raise HTTPException(422, f"'set' must be an ISO 8601 date-time, got {body.set[:40]!r}") from None
        _within_range(instant)
        rt.clock.set(instant)
    elif body.freeze is not None:
        rt.clock.freeze(body.freeze)
    elif body.real:
        rt.clock.real()
    else:
        raise HTTPException(422, "'real' must be true")
    await rt.timers.run_due()  # fallbacks and retries the move made due happen now
    return json_response(rt.clock.state())


def _within_range(instant: float) -> None:
    """Every timestamp must stay representable (ISO 8601, four-digit years) however the clock moves."""
    if not CLOCK_EARLIEST <= instant < CLOCK_LATEST:
        raise HTTPException(422, f"the clock must stay between {iso(CLOCK_EARLIEST)} and {iso(CLOCK_LATEST)}")


# --- webhook: attempts, deliveries, events --------------------------------------------------------
@router.get("/webhooks", tags=["webhooks"])
async def list_webhook_attempts(
    rt: RuntimeDep,
    token: TokenFilter = None,
    push_id: id_query("only attempts that carried this push record's event") = None,
    delivery: id_query("only attempts of this delivery") = None,
    limit: Limit = 100,
):
    """Every attempt to POST to a webhook, newest first, with what went wrong; `push_id`: the attempts
    that carried that push record's event."""
    clause, args = where(
        {"a.app_token": token, "a.delivery_id": delivery},
        ("a.delivery_id IN (SELECT delivery_id FROM webhook_events WHERE push_id = ?)", push_id),
    )
    rows = rt.store.all(
        "SELECT a.*, d.seq, d.note, d.event_count FROM webhook_attempts a"
        f" JOIN webhook_deliveries d ON d.id = a.delivery_id{clause} ORDER BY a.id DESC LIMIT ?",
        [*args, limit],
    )
    pending = rt.store.one("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE next_at IS NOT NULL")["n"]
    views = [
        webhook.attempt_view(r) | {"webhook_id": r["seq"], "event_count": r["event_count"], "note": r["note"]}
        for r in rows
    ]
    return json_response({"deliveries": views, "pending": pending})


@router.get("/deliveries", tags=["webhooks"])
async def list_deliveries(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    state: choice_query(
        "pending",
        "delivered",
        "failed",
        "cancelled",
        description="pending: still to be tried; cancelled: the webhook was removed or changed",
    ) = None,
    after: AfterId = None,
    limit: Limit = 100,
    wait: Wait = 0,
):
    """Each POST to a webhook (one per request or timer round), newest first: where it went, its
    state, its attempts, the kinds of its events, and what Mesibo's cloud would say of the URL."""
    filters = {"app_token": token, "state": state}

    def query():
        clause, args = where(filters, ("id > ?", after))
        rows = rt.store.all(
            f"SELECT * FROM webhook_deliveries{clause} ORDER BY id DESC LIMIT ?", [*args, limit]
        )
        kinds: dict[int, list[str]] = {r["id"]: [] for r in rows}
        if rows:
            marks = ", ".join("?" for _ in rows)
            for event in rt.store.all(
                f"SELECT delivery_id, type FROM webhook_events WHERE delivery_id IN ({marks}) ORDER BY id",
                list(kinds),
            ):
                kinds[event["delivery_id"]].append(event["type"])
        return [webhook.delivery_view(r) | {"kinds": kinds[r["id"]]} for r in rows]

    return json_response(
        {"deliveries": await long_poll(rt, request, wait, "events", {"app_token": token}, query)}
    )


@router.get("/events", tags=["webhooks"])
async def list_events(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    type: choice_query(
        "push",
        "message",
        "user",
        description="user: online or offline; message: an offline message; push: a push's outcome",
    ) = None,
    delivery: id_query("only events carried by this delivery") = None,
    after: AfterId = None,
    limit: Limit = 100,
    wait: Wait = 0,
):
    """The events sent to webhooks (user, message, push), newest first, each with the delivery that
    carried it; `wait` long-polls until one matches."""
    filters = {"app_token": token, "type": type, "delivery_id": delivery}

    def query():
        clause, args = where(filters, ("id > ?", after))
        rows = rt.store.all(f"SELECT * FROM webhook_events{clause} ORDER BY id DESC LIMIT ?", [*args, limit])
        return [webhook.event_view(r) for r in rows]

    return json_response({"events": await long_poll(rt, request, wait, "events", filters, query)})


# --- the request journal, backend faults --------------------------------------------------------------
@router.get("/requests", tags=["requests"])
async def list_requests(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    op: text_query("only calls of this op (as sent, so a misspelt op can be found)") = None,
    result: Annotated[bool | None, Query(description="only calls answered with this result")] = None,
    diagnosed: Annotated[
        bool | None,
        Query(description="true: only calls refused, with fields no op reads, or with recipients skipped"),
    ] = None,
    after: AfterId = None,
    before: BeforeId = None,
    limit: Limit = 100,
    wait: Wait = 0,
):
    """Every call to the backend paths, newest first (`after`/`before`: ids, to page): what was read (the app token and file contents
    redacted), the answer as sent, the pushes and message it caused, and the emulator's diagnosis.
    `diagnosed=true`: only calls refused, with fields no op reads, or with recipients skipped."""
    filters = {"app_token": token, "op": op, "result": result, "diagnosed": diagnosed}
    app = apps.by_token(rt, token) if token is not None else None
    # by the app's number, which is indexed; the token too, for entries of an app deleted since
    by_app = {"app_id": app["id"] if app is not None else None, "app_token": token}

    def query():
        clause, args = where({**filters, **by_app}, ("id > ?", after), ("id < ?", before))
        rows = rt.store.all(f"SELECT * FROM journal{clause} ORDER BY id DESC LIMIT ?", [*args, limit])
        return [journal.view(r) for r in rows]

    return json_response({"requests": await long_poll(rt, request, wait, "requests", filters, query)})


@router.get("/requests/{entry_id}", tags=["requests"])
async def get_request(entry_id: RowId, rt: RuntimeDep):
    """One journal entry."""
    row = rt.store.one("SELECT * FROM journal WHERE id = ?", (entry_id,))
    if row is None:
        raise HTTPException(404, f"no journal entry {entry_id}")
    return json_response(journal.view(row))


@router.delete("/requests", tags=["requests"])
async def clear_requests(rt: RuntimeDep, token: text_query("only this app's journal entries") = None):
    """Empty the journal (of one app with `token`)."""
    return json_response({"deleted": rt.store.freeing(lambda: _delete_of(rt, "journal", token))})


@router.post("/backend-faults", status_code=201, tags=["faults"])
async def add_backend_fault(body: BackendFaultIn, rt: RuntimeDep):
    """Make the next `count` backend calls that match `op` and `token` answer with `error` (a row of
    Mesibo's error table), a bare HTTP `http` status, or only after `delay` seconds."""
    if body.error is None and body.http is None and body.delay is None:
        raise HTTPException(422, "give 'error', 'http' or 'delay'")
    if body.error is not None and body.http is not None:
        raise HTTPException(422, "give 'error' or 'http', not both")
    if body.error is not None and body.error not in BY_ERROR_NAME:
        raise HTTPException(
            422, f"unknown error {body.error[:40]!r}; accepted: {', '.join(sorted(BY_ERROR_NAME))}"
        )
    row = backend_faults.add(
        rt, op=body.op, token=body.token, error=body.error, http=body.http, delay=body.delay, count=body.count
    )
    return json_response(backend_faults.view(row), 201)


@router.get("/backend-faults", tags=["faults"])
async def list_backend_faults(rt: RuntimeDep):
    """The backend faults still set, oldest first (the one a call meets first)."""
    rows = rt.store.all("SELECT * FROM backend_faults ORDER BY id")
    return json_response({"faults": [backend_faults.view(r) for r in rows]})


@router.delete("/backend-faults", tags=["faults"])
async def clear_backend_faults(rt: RuntimeDep):
    """Remove every backend fault."""
    return json_response({"deleted": backend_faults.clear(rt)})


@router.delete("/backend-faults/{fault_id}", status_code=204, tags=["faults"])
async def delete_backend_fault(fault_id: RowId, rt: RuntimeDep) -> Response:
    """Remove one backend fault."""
    if not backend_faults.clear(rt, fault_id):
        raise HTTPException(404, f"no backend fault {fault_id}")
    return Response(status_code=204)


@router.post("/reset", tags=["reset"])
async def reset(rt: RuntimeDep):
    """Wipe everything (every app, user, message, push, credential, fault, journal entry) and start
    again with the configured app token. Only for a server your tests own."""
    from mesibo_mock.lifecycle import reset_state

    token = rt.store.freeing(lambda: reset_state(rt))
    return json_response({"reset": True, "app_token": token})
