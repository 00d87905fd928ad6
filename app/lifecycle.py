"""Start-up and reset: open the store, read the seed, apply it and ensure the default app."""

from __future__ import annotations

from app.clock import Clock
from app.config import Settings
from app.runtime import Runtime
from app.seed import apply_seed, ensure_default_app, load_seed
from app.store import Store


def build_runtime(settings: Settings) -> Runtime:
    """Raises StoreError or SeedError with a one-line message; the CLI turns those into exit 2."""
    clock = Clock()
    seed = load_seed(settings.seed, clock.now()) if settings.seed else None
    store = Store(settings.db)
    rt = Runtime(settings=settings, store=store, clock=clock, seed=seed)
    apply_seed(rt, seed)
    rt.default_token = ensure_default_app(rt)
    return rt


def reset_state(rt: Runtime) -> str:
    """Wipe everything (the clock included), then re-apply the seed and the default app."""
    rt.clock.real()
    rt.store.wipe()
    apply_seed(rt, rt.seed)
    rt.default_token = ensure_default_app(rt)
    rt.pushes_changed()
    return rt.default_token
