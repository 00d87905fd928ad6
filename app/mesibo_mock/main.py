"""create_app(runtime) -> FastAPI: the backend routes, the /_mock API, CORS and the timer loop;
serving_app(runtime): what the server runs, the backend paths ahead of FastAPI."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mesibo_mock import __version__
from mesibo_mock.backend.http import make_endpoint
from mesibo_mock.backend.replies import PATHS
from mesibo_mock.mock_api import problems
from mesibo_mock.mock_api.guard import MockGuard, RequireAdmin
from mesibo_mock.mock_api.health import health_router
from mesibo_mock.mock_api.routes import MODULES, modules_for, router_of
from mesibo_mock.scheduler import Timers
from mesibo_mock.server import docs
from mesibo_mock.server.runtime import Runtime


class BackendFirst:
    """The Mesibo endpoint ahead of everything else, FastAPI included: a backend call goes straight
    to its handler, past FastAPI's per-request telemetry check, its middleware stack, its router and
    the /_mock guards, none of which it needs (the handler answers every error itself, in the
    envelope). The hot path of a chat backend's calls is then no longer than Starlette's request
    object and the handler (see bench/). Everything else, lifespan included, goes to FastAPI."""

    def __init__(self, app: ASGIApp, endpoint: ASGIApp, rt: Runtime) -> None:
        self.app = app
        self.backend = endpoint
        self.paths = frozenset(PATHS)
        self.rt = rt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.rt.see_other_writers()  # a second server's writes are seen by the next request
            if scope["path"] in self.paths:
                await self.backend(scope, receive, send)
                return
        await self.app(scope, receive, send)


DESCRIPTION = """A local emulator of Mesibo's backend API, for integration tests and development stacks.

**`POST /backend`** (also `/api.php` and `/mesiboapi`) answers as Mesibo's backend does: users, groups,
messages, push credentials and options, test pushes and debug windows, in Mesibo's envelope word for
word. Nothing leaves the machine: what would have been sent to Google (FCM) and Apple (APNs) is kept as
push records, and Mesibo's events go to the webhook you set.

**`/_mock`** is the emulator's own API, for tests to set up and assert against: apps and their tokens,
push records, messages, the request journal (every backend call with a diagnosis), webhook events,
faults to inject, and the clock. The dashboard is at `/_mock/ui`."""

UI_DIR = Path(__file__).resolve().parent / "ui" / "static"


def include_mock_routes(api: FastAPI, path: str = "") -> None:
    """The /_mock routes a request for `path` needs (every one when no path is given), declared on
    first use: declaring their routes is most of what FastAPI costs, and a health check needs none of
    them, a test file's first app only the apps module's. Safe from any thread."""
    with api.state.mock_lock:
        included = api.state.mock_modules
        for module in modules_for(path):
            if module not in included:
                # the routes as the module declared them (with their /_mock prefix): include_router
                # would build every route a second time
                api.router.routes.extend(router_of(module).routes)
                included.add(module)


def warm_up(api: FastAPI, then: Callable[[], None] | None = None) -> threading.Thread:
    """Declare the /_mock routes in a thread once the server is ready, the apps module first: a client
    between the ready line and its first call (starting its HTTP stack, making its first app) then finds
    them declared. Each module waits until no /_mock request is being answered: declaring one holds the
    interpreter for up to 20 ms, and a test file's first app would otherwise share it with the rest
    (measured: it took twice as long). `then` is called in the thread once they all are."""
    idle = api.state.mock_idle

    def declare() -> None:
        try:
            declare_each()
        finally:
            if then is not None:
                then()

    def declare_each() -> None:
        for module in dict.fromkeys(["mesibo_mock.mock_api.apps", *sorted(set(MODULES.values()))]):
            idle.wait()
            # A short switch interval while declaring: at the default 5 ms, each step of uvicorn reading
            # a request waited that long for this thread to let go of the interpreter (measured: the
            # first request reached the app 30 ms late).
            previous = sys.getswitchinterval()
            sys.setswitchinterval(0.0002)
            try:
                include_mock_routes(api, "/_mock/" + next(k for k, v in MODULES.items() if v == module))
            finally:
                sys.setswitchinterval(previous)

    thread = threading.Thread(target=declare, name="mesibo-mock-routes", daemon=True)
    thread.start()
    return thread


class IncludeOnFirstUse:
    """Until every /_mock module is declared: declares the ones a request needs before it, and keeps
    warm_up's `mock_idle` clear while a /_mock request is being answered."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self.all = frozenset(MODULES.values())
        self.answering = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            not path.startswith("/_mock")
            or path == "/_mock/health"
            or self.api.state.mock_modules == self.all
        ):
            await self.app(scope, receive, send)
            return
        idle = self.api.state.mock_idle
        self.answering += 1
        idle.clear()  # first: the warm-up then stops after the module it is declaring
        try:
            include_mock_routes(self.api, path)
            await self.app(scope, receive, send)
        finally:
            self.answering -= 1
            if not self.answering:
                idle.set()


def document_backend(api: FastAPI) -> None:
    """Put /backend (every op, with examples) and the /_mock answers into the OpenAPI schema, built only
    when it is first asked for, so start-up pays nothing for it."""
    build = api.openapi

    def openapi() -> dict:
        if api.openapi_schema is None:
            from mesibo_mock.backend.openapi import backend_paths
            from mesibo_mock.mock_api.answers import describe_answers

            include_mock_routes(api)
            schema = build()
            schema["paths"] = backend_paths() | schema["paths"]  # the Mesibo endpoint first
            describe_answers(schema)
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi


def create_app(rt: Runtime) -> FastAPI:
    timers = Timers(rt)
    rt.timers = timers

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        rt.loop = asyncio.get_running_loop()
        timers.start()
        try:
            yield
        finally:
            await timers.stop()

    api = FastAPI(
        title="mesibo-mock",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by mesibo_mock.docs from local files, not a CDN
        redoc_url=None,
    )
    api.state.runtime = rt
    api.state.mock_modules = set()  # the /_mock modules whose routes are declared so far
    api.state.mock_lock = threading.RLock()
    api.state.mock_idle = threading.Event()  # no /_mock request is being answered (see warm_up)
    api.state.mock_idle.set()
    # The Mesibo endpoint is a plain Starlette route: it reads its own body in any encoding, so
    # FastAPI's per-request dependency and validation machinery would only cost time there.
    endpoint = make_endpoint(rt)
    for path in PATHS:
        # An ASGI object, not a function, so that methods=None means every method: even PATCH gets
        # the JSON envelope rather than a plain-text 405.
        api.router.routes.append(Route(path, endpoint, methods=None))
    document_backend(api)
    api.include_router(health_router)
    docs.install(api, rt.settings.mode)
    api.mount("/_mock/ui/static", StaticFiles(directory=str(UI_DIR)), name="ui-static")
    problems.install(api)
    api.add_middleware(IncludeOnFirstUse, api=api)
    allowed = frozenset(h.strip().lower() for h in rt.settings.allowed_hosts.split(",") if h.strip())
    api.add_middleware(MockGuard, max_body=rt.settings.max_upload_bytes, allowed_hosts=allowed)
    if rt.settings.admin_token:
        api.add_middleware(RequireAdmin, token=rt.settings.admin_token)
    api.state.backend_endpoint = endpoint
    return api


def serving_app(rt: Runtime) -> ASGIApp:
    """What the server runs: the app, with the backend paths taken before FastAPI sees them."""
    api = create_app(rt)
    return BackendFirst(api, api.state.backend_endpoint, rt)
