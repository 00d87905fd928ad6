"""Start-up and reset: open the store, read the seed, apply it and ensure the default app."""

from __future__ import annotations

import logging

from mesibo_mock.clock import Clock
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.server.settings import Settings
from mesibo_mock.services import apps
from mesibo_mock.store.db import Store

# The CLI lets this one through at any log level: a user who asked for quiet logs still needs the token.
TOKEN_LOG = logging.getLogger("mesibo_mock.token")


def open_runtime(settings: Settings) -> Runtime:
    """Read and check the seed file, then open the store (schema only, nothing of the user's written).

    Raises StoreError or SeedError with a one-line message; the CLI turns those into exit 2. The CLI
    calls this before it takes the port, so that each mistake is reported as itself.
    """
    clock = Clock()
    seed = None
    if settings.seed:
        # YAML, pydantic seed models, the credential parser: only when seeded
        from mesibo_mock.seed import load_seed

        seed = load_seed(settings.seed, clock.now(), settings.max_upload_bytes)
    store = Store(settings.db, wal_limit=settings.wal_limit_bytes)
    return Runtime(settings=settings, store=store, clock=clock, seed=seed)


def start_runtime(rt: Runtime) -> Runtime:
    """Apply the seed and ensure the default app: the first writes, once the port is ours."""
    _apply_seed(rt)
    rt.default_token = ensure_default_app(rt)
    return rt


def build_runtime(settings: Settings) -> Runtime:
    return start_runtime(open_runtime(settings))


# Every kind of record a long-poll can wait for; each is announced where it is written.
RECORD_KINDS = ("pushes", "messages", "events", "deliveries", "attempts", "requests")


def reset_state(rt: Runtime) -> str:
    """Wipe everything (the clock included), then re-apply the seed and the default app, with its token."""
    rt.clock.real()
    rt.generation += 1
    rt.store.wipe()
    rt.app_tokens_changed()
    rt.sources.clear()
    rt.backend_faults_changed()
    _apply_seed(rt)
    rt.default_token = ensure_default_app(rt, keep=rt.default_token)
    for kind in RECORD_KINDS:
        rt.records_changed(kind)
    return rt.default_token


def _apply_seed(rt: Runtime) -> None:
    if rt.seed is not None:
        from mesibo_mock.seed import apply_seed

        apply_seed(rt, rt.seed)


def ensure_default_app(rt: Runtime, keep: str | None = None) -> str:
    """MESIBO_MOCK_APP_TOKEN names the default app; without it, an empty store gets a random one. After a
    reset (`keep`) the default app keeps the token it had, so clients configured with it go on working."""
    token = rt.settings.app_token or keep
    with rt.store.tx():
        if token:
            app = apps.by_token(rt, token) or apps.create(rt, "default", token)
        else:
            existing = apps.list_all(rt)
            named = [a for a in existing if a["name"] == "default"]
            app = (named or existing or [None])[0] or apps.create(rt, "default")
    TOKEN_LOG.info("default app %r, app token: %s", app["name"], app["token"])
    return app["token"]
