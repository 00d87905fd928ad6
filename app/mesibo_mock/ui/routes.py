"""GET /_mock/ui: apps, options, redacted credentials, devices and a live list of push records."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.

import functools
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mesibo_mock import __version__
from mesibo_mock.backend.registry import OPS
from mesibo_mock.clock import iso, parse_iso
from mesibo_mock.delivery import faults
from mesibo_mock.errors import BY_ERROR_NAME
from mesibo_mock.events.webhook import cloud_note
from mesibo_mock.mock_api.deps import RuntimeDep
from mesibo_mock.services import apps, groups, people, records

HERE = Path(__file__).resolve().parent
router = APIRouter(prefix="/_mock", include_in_schema=False)
EXPIRY_WARNING_DAYS = 30


def expiry_note(expiry_iso: str | None, now: float) -> str | None:
    """'expired' or 'expires in N days' when within the warning period, by the emulator clock."""
    if not expiry_iso:
        return None
    left = parse_iso(expiry_iso) - now
    if left <= 0:
        return "expired"
    days = int(left // 86400)
    return f"expires in {days} day{'s' if days != 1 else ''}" if days < EXPIRY_WARNING_DAYS else None


@functools.cache
def templates():
    """Jinja2 loads with the first page view, not at start-up."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=str(HERE / "templates"))


SHOWN = 200  # users, devices and groups a page shows per app; the API lists them all, a page at a time
APPS_SHOWN = 20  # apps a page shows: a server with 100,000 apps must not make a page of 500 MB


@router.get("/ui", response_class=HTMLResponse)
async def dashboard(request: Request, rt: RuntimeDep, apps_after: int = 0) -> HTMLResponse:
    now = rt.clock.now()
    views = []
    page = apps.page(rt, after=max(0, min(apps_after, 2**63 - 1)), limit=APPS_SHOWN + 1)
    more = len(page) > APPS_SHOWN
    page = page[:APPS_SHOWN]
    for row in page:
        view = apps.public_view(rt, row)
        view["webhook_note"] = cloud_note(rt, row["webhook_url"])
        for entry in view["credentials"]["apn"]:
            entry["note"] = expiry_note(entry["expiry"], now)
        # A big app (a quarter of a million users) must not make a page of a hundred megabytes.
        view["devices"] = [people.device_view(d) for d in people.devices_of(rt, row["id"], limit=SHOWN)]
        view["device_count"] = people.device_count(rt, row["id"])
        view["users"] = [people.user_view(u) for u in people.users_of(rt, row["id"], limit=SHOWN)]
        view["user_count"] = people.user_count(rt, row["id"])
        view["groups"] = [
            groups.group_view(g, [groups.member_view(m) for m in groups.members(rt, g, 50)])
            for g in groups.groups_of(rt, row["id"], limit=SHOWN)
        ]
        view["group_count"] = groups.group_count(rt, row["id"])
        view["id"] = row["id"]
        views.append(view)
    response = templates().TemplateResponse(
        request,
        "index.html",
        {
            "apps": views,
            "apps_total": apps.count(rt),
            # the first view: Requests once the backend has been called (what happened), else Apps
            "first_tab": "requests" if records.any_call(rt) else "apps",
            "app_names": {view["token"]: view["name"] for view in views},
            "apps_before": apps.count(rt, before=page[0]["id"]) if page else 0,
            "apps_next": page[-1]["id"] if more else None,
            "apps_after": apps_after,
            "shown": SHOWN,
            "mode": rt.settings.mode,
            "version": __version__,
            "now": iso(now),
            "clock": rt.clock.state(),
            "admin_token": request.query_params.get("admin_token", ""),
            "fault_names": {
                service: [name for name, kind in faults.FAULTS.items() if kind.service == service]
                for service in ("apn", "fcm")
            },
            "backend_errors": sorted(BY_ERROR_NAME),
            "ops": sorted(OPS),
        },
    )
    response.headers.update(PAGE_HEADERS)
    return response


# A page that may carry the admin token: never framed by another site (one click on a decoy would
# act through it), never cached, never sent on as a referrer.
PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
