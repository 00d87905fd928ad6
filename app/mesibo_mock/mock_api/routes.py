"""Every /_mock route, one module per resource: apps (and their devices, users, webhook), records
(pushes, messages, events, deliveries), faults, the clock, the journal, samples, and the dashboard.

A module's routes are declared when it is imported, and declaring FastAPI routes is most of what a
first /_mock request would wait for: so each module is added on the first request for its own paths
(see main.py), and a test file's first app costs the apps module only. `MODULES` says which module
serves which first path segment; tests/unit/test_layout.py holds it to the routes themselves.
"""

from __future__ import annotations

import importlib

# the first segment after /_mock -> the module whose router serves it
MODULES = {
    "apps": "mesibo_mock.mock_api.apps",
    "otps": "mesibo_mock.mock_api.apps",
    "pushes": "mesibo_mock.mock_api.records",
    "messages": "mesibo_mock.mock_api.records",
    "events": "mesibo_mock.mock_api.records",
    "deliveries": "mesibo_mock.mock_api.records",
    "webhooks": "mesibo_mock.mock_api.records",
    "faults": "mesibo_mock.mock_api.faults",
    "backend-faults": "mesibo_mock.mock_api.faults",
    "clock": "mesibo_mock.mock_api.clock",
    "reset": "mesibo_mock.mock_api.clock",
    "requests": "mesibo_mock.mock_api.journal",
    "mistakes": "mesibo_mock.mock_api.journal",
    "report": "mesibo_mock.mock_api.journal",
    "samples": "mesibo_mock.mock_api.samples",
    "ui": "mesibo_mock.ui.routes",
}


def router_of(module: str):
    return importlib.import_module(module).router


def modules_for(path: str) -> list[str]:
    """The modules a request for `path` needs declared: its own, or every one (the API documents, a
    path no module serves, which then answers 404 as it should)."""
    segment = path.removeprefix("/_mock/").split("/", 1)[0] if path.startswith("/_mock/") else ""
    found = MODULES.get(segment)
    return [found] if found else sorted(set(MODULES.values()))
