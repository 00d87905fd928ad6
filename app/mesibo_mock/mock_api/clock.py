"""/_mock/clock and /_mock/reset: the emulator's clock, and the wipe that starts a test afresh."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.
# Route handlers carry no `-> dict` annotation on purpose: FastAPI would build a response model for
# each at import time, which alone cost 50 ms of start-up.

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException

from mesibo_mock.clock import iso, parse_iso
from mesibo_mock.mock_api.deps import (
    RuntimeDep,
)
from mesibo_mock.schemas import ClockIn
from mesibo_mock.server.responses import json_response

router = APIRouter(prefix="/_mock")
CLOCK_EARLIEST = 946684800.0  # 2000-01-01
CLOCK_LATEST = 221845392000.0  # 9000-01-01


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


@router.post("/reset", tags=["reset"])
async def reset(rt: RuntimeDep):
    """Wipe everything (every app, user, message, push, credential, fault, journal entry) and start
    again with the configured app token. Only for a server your tests own."""
    from mesibo_mock.lifecycle import reset_state

    token = rt.store.freeing(lambda: reset_state(rt))
    return json_response({"reset": True, "app_token": token})
