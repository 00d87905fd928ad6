"""MESIBO_MOCK_ADMIN_TOKEN: with it set, /_mock needs `Authorization: Bearer <it>` (or, for a browser
opening the dashboard, `?admin_token=<it>`). Health checks and the dashboard's static files stay open.

An ASGI wrapper installed only when a token is set: no route pays for it otherwise.
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = ("/_mock/health", "/_mock/ui/static/")
DENIED = json.dumps(
    {"detail": "this emulator needs 'Authorization: Bearer <MESIBO_MOCK_ADMIN_TOKEN>'"}
).encode()


def admin_allowed(headers: list[tuple[bytes, bytes]], query_string: bytes, expected: str) -> bool:
    given = ""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                given = rest.strip()
    if not given:
        given = parse_qs(query_string.decode("latin-1")).get("admin_token", [""])[0]
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


class RequireAdmin:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        guarded = path.startswith("/_mock") and not path.startswith(OPEN_PATHS)
        if guarded and not admin_allowed(scope["headers"], scope.get("query_string", b""), self.token):
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                        (b"content-length", str(len(DENIED)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": DENIED})
            return
        await self.app(scope, receive, send)
