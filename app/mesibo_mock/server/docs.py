"""`/docs` that works offline, and `GET /`.

Swagger UI is served from the files the fastapi-offline package ships (located without importing it),
so the page renders on a machine with no internet; nothing is downloaded at run time. ReDoc is not
offered: its page loads its maker's logo from a CDN.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from mesibo_mock import __version__

ASSETS_URL = "/_docs/static"


def assets_dir() -> Path:
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-offline package (Swagger UI and ReDoc assets) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>mesibo-mock</title><link rel="stylesheet" href="/_mock/ui/static/style.css"></head>
<body><main>
<h1>mesibo-mock {version}</h1>
<p>A local emulator of Mesibo's backend API ({mode} mode).</p>
<ul>
<li><a href="/_mock/ui">Dashboard</a>: apps, credentials, users, groups, messages and pushes</li>
<li><a href="/docs">API documentation</a> (<a href="/openapi.json">openapi.json</a>)</li>
<li>The Mesibo backend: <code>POST /backend</code> (also <code>/api.php</code> and <code>/mesiboapi</code>)</li>
<li>The emulator's own API: <code>/_mock</code>, for example <a href="/_mock/health">/_mock/health</a></li>
</ul>
</main></body></html>
"""


def install(api: FastAPI, mode: str) -> None:
    api.mount(ASSETS_URL, StaticFiles(directory=str(assets_dir())), name="docs-static")

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="mesibo-mock API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    page = HOME.format(version=__version__, mode=mode)

    @api.get("/", include_in_schema=False)
    async def home() -> HTMLResponse:
        return HTMLResponse(page)
