"""/_mock records that a test reads and waits for: pushes, messages, webhook attempts, deliveries and
events. Every list that takes `wait` long-polls through one helper, `long_poll`."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.
# Route handlers carry no `-> dict` annotation on purpose: FastAPI would build a response model for
# each at import time, which alone cost 50 ms of start-up.

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from mesibo_mock.delivery import engine
from mesibo_mock.events import views
from mesibo_mock.mock_api.deps import (
    AddressFilter,
    AfterId,
    Count,
    Limit,
    RowId,
    RuntimeDep,
    TokenFilter,
    Wait,
    choice_query,
    id_query,
    long_poll,
    text_query,
)
from mesibo_mock.server.responses import json_response
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import messages, records, webhooks

router = APIRouter(prefix="/_mock")


# --- pushes ---------------------------------------------------------------------------------------
def query_pushes(rt: Runtime, filters: dict, after: int | None, limit: int) -> list[dict]:
    return [engine.record_view(r) for r in records.pushes(rt, filters, after, limit)]


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
    count: Count = 1,
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
        rt, request, wait, "pushes", filters, lambda: query_pushes(rt, filters, after, limit), count, limit
    )
    return json_response({"pushes": found})


def _push_row(rt: Runtime, push_id: int):
    row = records.push(rt, push_id)
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
    return json_response(engine.record_view(records.acknowledge(rt, push_id)))


@router.delete("/pushes", tags=["pushes"])
async def clear_pushes(rt: RuntimeDep, token: text_query("only this app's push records") = None):
    """Delete push records (all, or one app's). Possible even when the disk is full."""
    return json_response({"deleted": records.clear(rt, "pushes", token)})


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
    count: Count = 1,
):
    """The messages sent through the backend (`message` op), newest first: sender, recipients (one
    per member for a group), whether each was online, and the pushes each offline one caused."""
    filters = {"app_token": token, "from_address": from_, "gid": gid}
    found = await long_poll(
        rt,
        request,
        wait,
        "messages",
        filters,
        lambda: messages.find(rt, filters, to, after, limit),
        count,
        limit,
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


@router.get("/messages/{mid}/timeline", tags=["messages"])
async def message_timeline(
    mid: Annotated[int, Path(ge=1, le=2**63 - 1, description="the message id")], rt: RuntimeDep
):
    """A message's life on the emulator clock, as the dashboard draws it: the call that sent it, each
    recipient, each push with its answer, each webhook event with its attempts (`items`, each `at`
    seconds after the message). Past 50 recipients, one row per kind with counts (`detailed`: false)."""
    from mesibo_mock.services.timeline import timeline

    row = messages.by_mid(rt, mid)
    if row is None:
        raise HTTPException(404, f"no message {mid}")
    return json_response(timeline(rt, row))


# --- webhook: attempts, deliveries, events --------------------------------------------------------
@router.get("/webhooks", tags=["webhooks"])
async def list_webhook_attempts(
    request: Request,
    rt: RuntimeDep,
    token: TokenFilter = None,
    push_id: id_query("only attempts that carried this push record's event") = None,
    delivery: id_query("only attempts of this delivery") = None,
    limit: Limit = 100,
    wait: Wait = 0,
    count: Count = 1,
):
    """Every attempt to POST to a webhook, newest first, with what went wrong; `push_id`: the attempts
    that carried that push record's event; `wait` long-polls until `count` match."""

    def query():
        return [
            views.attempt_view(r)
            | {"webhook_id": r["seq"], "event_count": r["event_count"], "note": r["note"]}
            for r in webhooks.attempts(rt, token, delivery, push_id, limit)
        ]

    filters = {"app_token": token, "delivery_id": delivery}
    shown = await long_poll(rt, request, wait, "attempts", filters, query, count, limit)
    return json_response({"deliveries": shown, "pending": webhooks.pending_count(rt)})


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
    count: Count = 1,
):
    """Each POST to a webhook (one per request or timer round), newest first: where it went, its
    state, its attempts, the kinds of its events, and what Mesibo's cloud would say of the URL."""
    filters = {"app_token": token, "state": state}

    def query():
        rows = webhooks.deliveries(rt, filters, after, limit)
        kinds = webhooks.kinds_of(rt, [r["id"] for r in rows])
        return [views.delivery_view(r) | {"kinds": kinds[r["id"]]} for r in rows]

    return json_response(
        {"deliveries": await long_poll(rt, request, wait, "deliveries", filters, query, count, limit)}
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
    count: Count = 1,
):
    """The events sent to webhooks (user, message, push), newest first, each with the delivery that
    carried it; `wait` long-polls until one matches."""
    filters = {"app_token": token, "type": type, "delivery_id": delivery}

    def query():
        return [views.event_view(r) for r in webhooks.events(rt, filters, after, limit)]

    return json_response(
        {"events": await long_poll(rt, request, wait, "events", filters, query, count, limit)}
    )
