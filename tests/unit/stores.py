"""Stores for the unit tests, filled directly."""

from __future__ import annotations

from mesibo_mock.services.apps import OPTION_DEFAULTS
from mesibo_mock.store.db import Store


def store_with_two_apps(path: str) -> Store:
    """A store holding apps 1 ("a", token "ta") and 2 ("b", token "tb") with the default options."""
    store = Store(path)
    with store.tx():
        store.insert("apps", {"id": 1, "name": "a", "token": "ta", "created": 0.0, **OPTION_DEFAULTS})
        store.insert("apps", {"id": 2, "name": "b", "token": "tb", "created": 0.0, **OPTION_DEFAULTS})
    return store
