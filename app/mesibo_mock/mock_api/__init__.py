"""The emulator's own API under /_mock: inspect and steer state. Never goes through the op parser."""

from mesibo_mock.server import fastapi_compat

fastapi_compat.apply()  # before any route here is declared: see server/fastapi_compat.py
