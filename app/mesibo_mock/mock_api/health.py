"""GET /_mock/health: declared at start-up (the rest of /_mock is included on first use)."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.

from fastapi import APIRouter

from mesibo_mock import __version__
from mesibo_mock.mock_api.deps import RuntimeDep
from mesibo_mock.server.responses import json_response

health_router = APIRouter(prefix="/_mock", tags=["health"])


@health_router.get("/health")
async def health(rt: RuntimeDep):
    """Whether the server is up (and its mode and version): what a compose health check or a test
    fixture waits for. Answers at once, whatever else the server is doing."""
    return json_response({"status": "ok", "mode": rt.settings.mode, "version": __version__})
