"""/_mock/faults and /_mock/backend-faults: make FCM, APNs or the backend itself fail."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.
# Route handlers carry no `-> dict` annotation on purpose: FastAPI would build a response model for
# each at import time, which alone cost 50 ms of start-up.

from fastapi import APIRouter, HTTPException, Response

from mesibo_mock.delivery import faults
from mesibo_mock.errors import BY_ERROR_NAME
from mesibo_mock.mock_api.deps import (
    RowId,
    RuntimeDep,
    TokenFilter,
)
from mesibo_mock.schemas import BackendFaultIn, FaultIn
from mesibo_mock.server.responses import json_response
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, backend_faults
from mesibo_mock.services import faults as push_faults

router = APIRouter(prefix="/_mock")


# --- faults ---------------------------------------------------------------------------------------
@router.post("/faults", status_code=201, tags=["faults"])
async def add_fault(body: FaultIn, rt: RuntimeDep):
    """Make the next `count` pushes that match (app, address, push token) fail as the provider would
    answer: an expired token, an unregistered device, a bad certificate and so on."""
    if body.error not in faults.FAULTS:
        raise HTTPException(422, f"unknown fault {body.error!r}; accepted: {', '.join(faults.FAULTS)}")
    _app_must_exist(rt, body.token)
    # count defaults to 1; an explicit null means "until removed"
    row = push_faults.add(
        rt,
        body.error,
        faults.FAULTS[body.error].service,
        token=body.token,
        address=body.address,
        push_token=body.push_token,
        count=body.count,
    )
    return json_response(push_faults.view(row), 201)


@router.get("/faults", tags=["faults"])
async def list_faults(rt: RuntimeDep, token: TokenFilter = None):
    """The push faults still set (of the app with `token`), oldest first."""
    return json_response({"faults": [push_faults.view(r) for r in push_faults.listed(rt, token)]})


@router.delete("/faults", tags=["faults"])
async def clear_faults(rt: RuntimeDep, token: TokenFilter = None):
    """Remove every push fault (of the app with `token`)."""
    return json_response({"deleted": push_faults.clear(rt, token=token)})


@router.delete("/faults/{fault_id}", status_code=204, tags=["faults"])
async def delete_fault(fault_id: RowId, rt: RuntimeDep) -> Response:
    """Remove one push fault."""
    if not push_faults.clear(rt, fault_id):
        raise HTTPException(404, f"no fault {fault_id}")
    return Response(status_code=204)


@router.post("/backend-faults", status_code=201, tags=["faults"])
async def add_backend_fault(body: BackendFaultIn, rt: RuntimeDep):
    """Make the next `count` backend calls that match `op` and `token` answer with `error` (a row of
    Mesibo's error table), a bare HTTP `http` status, or only after `delay` seconds."""
    if body.error is None and body.http is None and body.delay is None:
        raise HTTPException(422, "give 'error', 'http' or 'delay'")
    if body.error is not None and body.http is not None:
        raise HTTPException(422, "give 'error' or 'http', not both")
    _app_must_exist(rt, body.token)
    if body.error is not None and body.error not in BY_ERROR_NAME:
        raise HTTPException(
            422, f"unknown error {body.error[:40]!r}; accepted: {', '.join(sorted(BY_ERROR_NAME))}"
        )
    row = backend_faults.add(
        rt, op=body.op, token=body.token, error=body.error, http=body.http, delay=body.delay, count=body.count
    )
    return json_response(backend_faults.view(row), 201)


@router.get("/backend-faults", tags=["faults"])
async def list_backend_faults(rt: RuntimeDep, token: TokenFilter = None):
    """The backend faults still set (of the app with `token`), oldest first (the one a call meets first)."""
    return json_response({"faults": [backend_faults.view(r) for r in backend_faults.listed(rt, token)]})


@router.delete("/backend-faults", tags=["faults"])
async def clear_backend_faults(rt: RuntimeDep, token: TokenFilter = None):
    """Remove every backend fault (of the app with `token`)."""
    return json_response({"deleted": backend_faults.clear(rt, token=token)})


@router.delete("/backend-faults/{fault_id}", status_code=204, tags=["faults"])
async def delete_backend_fault(fault_id: RowId, rt: RuntimeDep) -> Response:
    """Remove one backend fault."""
    if not backend_faults.clear(rt, fault_id):
        raise HTTPException(404, f"no backend fault {fault_id}")
    return Response(status_code=204)


def _app_must_exist(rt: Runtime, token: str | None) -> None:
    """A fault for a token that names no app would wait for an app made later with that token, and
    meet it by surprise: refused. (Deleting an app deletes its faults.)"""
    if token is not None and apps.by_token(rt, token) is None:
        raise HTTPException(
            422, f"token: no app has the token {token[:60]!r}; make the app first (POST /_mock/apps)"
        )
