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


# --- what a web page on another site could do to /_mock --------------------------------------------
# A cross-site form or simple fetch can only GET or POST; PUT, DELETE and PATCH always need a CORS
# preflight, which /_mock never grants. So a POST must prove it is not a form by its Content-Type.
SIMPLE_STATE_CHANGING = frozenset({"POST"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _refusal(status: int, detail: str) -> tuple[dict, dict]:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:  # the body was left unread: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    start = {"type": "http.response.start", "status": status, "headers": headers}
    return start, {"type": "http.response.body", "body": body}


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class MockGuard:
    """/_mock is for tests and for the developer's own browser, never for other web pages:

    - a body over the upload limit is refused (413) before it is read whole;
    - a POST with a body must say `Content-Type: application/json`, which no cross-site form can
      send and no cross-site fetch can send without a CORS preflight (which /_mock never grants; PUT
      and DELETE need one anyway); a browser must say it even with no body;
    - a request with an `Origin` must come from the emulator's own origin;
    - every request (the health check aside) must name the emulator in `Host` by a loopback name
      (`localhost`, `*.localhost`), an IP address or one of MESIBO_MOCK_ALLOWED_HOSTS (`*`: any). A
      DNS-rebinding page (evil.example resolving to 127.0.0.1) sends same-origin GETs with neither
      `Origin` nor `Sec-Fetch-Site`, but it cannot choose the `Host` its browser sends: its own name.
    """

    def __init__(self, app: ASGIApp, max_body: int, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.allowed_hosts = LOOPBACK_NAMES | allowed_hosts
        self.any_host = "*" in allowed_hosts

    def host_allowed(self, name: str) -> bool:
        name = name.rstrip(".")  # "localhost." is localhost
        return (
            self.any_host
            or name in self.allowed_hosts
            or name.endswith(".localhost")  # browsers resolve these to loopback themselves
            or _is_ip(name)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/_mock") or path.startswith("/_mock/ui/static/"):
            await self.app(scope, receive, send)
            return
        refusal = self.check(scope)
        if refusal is not None:
            for message in _refusal(*refusal):
                await send(message)
            return
        if any(name.lower() == b"content-length" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)  # the server holds the body to its declared length
            return
        body, over = await self._read_capped(receive)
        if over:
            for message in _refusal(413, f"the body is larger than the limit of {self.max_body} bytes"):
                await send(message)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def check(self, scope: Scope) -> tuple[int, str] | None:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return 413, f"the body is larger than the limit of {self.max_body} bytes"
        host = headers.get("host", "")
        origin = headers.get("origin")
        browser = origin is not None or "sec-fetch-site" in headers
        name = _host_name(host)
        # HTTP/1.0 without Host cannot come from a browser; the health check tells nothing secret and
        # is what other containers wait for.
        if host and scope["path"] != "/_mock/health" and not self.host_allowed(name):
            return 403, (
                f"/_mock answers only to a loopback name or an IP address in Host, not {name[:80]!r}"
                " (a guard against DNS rebinding): add the name to MESIBO_MOCK_ALLOWED_HOSTS,"
                " comma-separated, to reach the emulator by it"
            )
        if origin is not None and origin != "null":
            origin_host = origin.split("://", 1)[-1].lower()
            if origin_host != host.lower():
                return 403, f"cross-origin requests to /_mock are refused (origin {origin!r})"
        elif origin == "null":
            return 403, "requests to /_mock from an opaque origin are refused"
        if scope["method"] in SIMPLE_STATE_CHANGING:
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            # A form (any Content-Type but JSON) is refused from anyone; a browser must say JSON even
            # with no body. A bare POST from a test or curl (no Content-Type, no Origin) is not a form.
            if media != "application/json" and (media or browser):
                return 415, "a POST to /_mock must send its body as JSON (Content-Type: application/json)"
        return None

    async def _read_capped(self, receive: Receive) -> tuple[bytes, bool]:
        """A chunked body, read up to the limit: -> (body, whether it went past the limit)."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                return b"", True
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks), False
