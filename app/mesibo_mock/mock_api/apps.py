"""/_mock/apps: apps, their webhook, devices, users and their online state, groups, OTPs."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.
# Route handlers carry no `-> dict` annotation on purpose: FastAPI would build a response model for
# each at import time, which alone cost 50 ms of start-up.

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from mesibo_mock.clock import iso
from mesibo_mock.credentials import CredentialError, SamplesUnavailable
from mesibo_mock.events import webhook
from mesibo_mock.events.outbox import Outbox
from mesibo_mock.mock_api.deps import (
    SQLITE_MAX_ID,
    AddressFilter,
    AppDep,
    PageSize,
    RowId,
    RuntimeDep,
    TokenFilter,
    id_query,
)
from mesibo_mock.schemas import AppChangeIn, AppIn, DeviceIn, OnlineIn, WebhookIn
from mesibo_mock.server.responses import json_response
from mesibo_mock.services import apps, groups, otps, people, samples, uacs

router = APIRouter(prefix="/_mock")
PAGE = 1000  # users, devices and groups listed at once unless `limit` says otherwise


# --- apps -----------------------------------------------------------------------------------------
AppsPage = Annotated[int, Query(ge=1, le=1000, description="at most this many apps, oldest first")]
AppsOffset = Annotated[int, Query(ge=0, le=SQLITE_MAX_ID, description="skip this many apps first (to page)")]


@router.get("/apps", tags=["apps"])
async def list_apps(
    rt: RuntimeDep,
    limit: AppsPage = 100,
    offset: AppsOffset = 0,
    name: Annotated[str | None, Query(max_length=256, description="only the apps of this name")] = None,
):
    """The apps, a page at a time (`limit`, default 100; `offset`), oldest first, and how many match in
    all (`total`): each with its token, name, push options, credentials (private keys never shown),
    webhook and debug window. The app tokens are what the backend calls send."""
    rows = apps.page_at(rt, offset, limit, name)
    total = apps.count_named(rt, name)
    return json_response(
        {"apps": [apps.public_view(rt, a) for a in rows], "total": total, "offset": offset, "limit": limit}
    )


@router.post("/apps", status_code=201, tags=["apps"])
async def create_app(body: AppIn, rt: RuntimeDep):
    """A new app with the token given (409 if taken); a test that creates its own app leaves everyone
    else's data alone. `credentials` gives it sample credentials as pushupload would:
    `{"fcm": "sample", "apn": "sample"}`, or sample names (GET /_mock/samples)."""
    wanted = sample_names(body.credentials)
    if body.token is not None and apps.by_token(rt, body.token) is not None:
        raise HTTPException(409, f"an app with token {body.token!r} already exists")
    try:
        for name in wanted:  # made and parsed before the app exists: a refusal leaves nothing behind
            await samples.prepare(rt, name)
        app = apps.create(rt, body.name or apps.next_name(rt), body.token)
    except apps.AppExists:
        raise HTTPException(409, f"an app with token {body.token!r} already exists") from None
    except SamplesUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    except CredentialError as exc:
        raise HTTPException(
            422, f"credentials: the sample is refused as pushupload would refuse it: {exc}"
        ) from None
    await samples.give(rt, app, wanted)
    return json_response(apps.public_view(rt, app), 201)


def sample_names(given) -> list[str]:
    """The sample files a new app asked for, each checked: 422 naming the field for an unknown one."""
    if given is None:
        return []
    names = []
    for platform in ("fcm", "apn"):
        value = getattr(given, platform)
        for name in [value] if isinstance(value, str) else value or []:
            try:
                names.append(samples.resolve(platform, name))
            except samples.UnknownSample as exc:
                raise HTTPException(422, f"credentials.{platform}: {exc}") from None
    return names


@router.post("/apps/{token}/reset", tags=["apps"])
async def reset_app(app: AppDep, rt: RuntimeDep):
    """Empty one app (its users, groups, messages, devices, push records, journal, faults, webhook
    deliveries and OTPs), keeping its token, name, credentials, push options, webhook and UACs: tests
    against a backend with one fixed token are isolated without a server-wide reset."""
    return json_response({"cleared": apps.clear(rt, app), "app": apps.public_view(rt, app)})


@router.get("/apps/{token}", tags=["apps"])
async def get_app(app: AppDep, rt: RuntimeDep):
    """One app, as in the list."""
    return json_response(apps.public_view(rt, app))


@router.put("/apps/{token}", tags=["apps"])
async def change_app(body: AppChangeIn, app: AppDep, rt: RuntimeDep):
    """Lift a TOKENBREACH (`{"disabled": false}`: the addresses seen are forgotten, so the count starts
    again), or disable the app as Mesibo would (`true`), to test a backend's handling of it."""
    apps.set_disabled(rt, app, "TOKENBREACH" if body.disabled else None)
    return json_response(apps.public_view(rt, apps.by_token(rt, app["token"])))


@router.delete("/apps/{token}", status_code=204, tags=["apps"])
async def delete_app(app: AppDep, rt: RuntimeDep) -> Response:
    """Delete an app with everything it holds: credentials, users, groups, devices (its push records,
    messages and journal entries stay, as history, until retention or a clear removes them)."""
    rt.store.freeing(lambda: apps.delete(rt, app))
    return Response(status_code=204)


@router.put("/apps/{token}/webhook", tags=["apps"])
async def put_webhook(body: WebhookIn, app: AppDep, rt: RuntimeDep, request: Request):
    """Set the app's webhook: the URL Mesibo's events (user, message, push) are POSTed to, its secret
    and the events wanted. `note` says what Mesibo's cloud would refuse (it needs public https). A URL
    of this emulator's own backend or /_mock is refused: each POST would raise events again."""
    server = request.scope.get("server") or (None, None)
    names = {str(server[0]).lower(), (request.url.hostname or "").lower()}
    if webhook.points_at_itself(body.url, server[1], names):
        raise HTTPException(
            422,
            f"url: {body.url[:200]!r} is this emulator's own backend or /_mock: each POST would call it again"
            " and raise more events, in a loop; point the webhook at your backend's receiver",
        )
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


@router.get("/apps/{token}/uacs/{uac_id}", tags=["apps"])
async def get_uac(
    uac_id: Annotated[int, Path(ge=1, le=SQLITE_MAX_ID, description="the UAC's id")],
    app: AppDep,
    rt: RuntimeDep,
):
    """One UAC whole, as uacset sent it (the app's views list each as `{id, name, bytes}`)."""
    found = uacs.whole(rt, app["id"], uac_id)
    if found is None:
        raise HTTPException(404, f"no UAC {uac_id} in this app")
    return json_response(found)


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
        tokens.setdefault(t["user_id"], []).append(people.token_view(t))
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
    outbox = Outbox(rt)
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


@router.get("/otps", tags=["users"])
async def list_otps(rt: RuntimeDep, token: TokenFilter = None):
    """The one-time codes `useradd` with `otp` made, newest first: where a real app would send them
    by SMS, a test reads them here."""
    rows = otps.listed(rt, token)
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
