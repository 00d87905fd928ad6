"""create_app(runtime) -> FastAPI: the backend routes, the /_mock API, CORS and the timer loop."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.backend.http import METHODS, PATHS, make_endpoint
from app.delivery.webhook import Timers
from app.mock_api.routes import health_router, router
from app.runtime import Runtime
from app.ui.routes import HERE as UI_DIR
from app.ui.routes import router as ui_router


class AllowAnyOrigin:
    """Every response carries Access-Control-Allow-Origin: * (a plain ASGI wrapper: no per-request cost)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"access-control-allow-origin" for k, _ in headers):
                    headers.append((b"access-control-allow-origin", b"*"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def create_app(rt: Runtime) -> FastAPI:
    timers = Timers(rt)
    rt.timers = timers

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        timers.start()
        try:
            yield
        finally:
            await timers.stop()

    api = FastAPI(
        title="mesibo-mock",
        version=__version__,
        description="A local emulator of Mesibo's backend push-notification API. "
        "The Mesibo endpoint is POST /backend; the emulator's own API is under /_mock.",
        lifespan=lifespan,
    )
    api.state.runtime = rt
    endpoint = make_endpoint(rt)
    for path in PATHS:
        for method in METHODS:  # one route per method, so each has its own OpenAPI operation id
            api.add_api_route(
                path,
                endpoint,
                methods=[method],
                include_in_schema=path == "/backend" and method in ("GET", "POST"),
                operation_id=f"backend_{method.lower()}_{PATHS.index(path)}",
                summary="Mesibo backend API: every op, in any encoding",
                tags=["backend"],
            )
    api.include_router(health_router)
    api.include_router(router)
    api.include_router(ui_router)
    api.mount("/_mock/ui/static", StaticFiles(directory=str(UI_DIR / "static")), name="ui-static")
    api.add_middleware(AllowAnyOrigin)
    return api
