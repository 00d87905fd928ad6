"""Deadlines and caps against slow or hostile clients (a development tool still must not be wedged).

- Request headers must arrive within MESIBO_MOCK_HEADER_TIMEOUT seconds of the connection opening
  (or of the previous answer, on a kept-alive connection): a slowloris connection is closed.
- A request body must arrive within MESIBO_MOCK_BODY_TIMEOUT seconds of the request's start.
- At most MESIBO_MOCK_MAX_CONNECTIONS connections at once (beyond: 503), below the file limit, which
  is raised to its hard ceiling at start so that the cap, not EMFILE, is what a flood meets.
"""

from __future__ import annotations

import asyncio
import resource

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

FD_RESERVE = 64  # files the server itself needs: the store, its WAL, logs, parser pipes


def connection_cap(wanted: int) -> int:
    """Raise the soft file limit to the hard one; the cap stays below it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return max(16, min(wanted, soft - FD_RESERVE))


def guarded_protocol(header_timeout: float) -> type[H11Protocol]:
    class GuardedH11Protocol(H11Protocol):
        """uvicorn's HTTP/1.1 protocol with a deadline for the request headers."""

        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_overdue)

        def _headers_overdue(self) -> None:
            self._header_timer = None
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and self.transport is not None and not self.transport.is_closing():
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's headers have the same deadline

        def connection_lost(self, exc) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

    return GuardedH11Protocol


class BodyDeadline:
    """The whole request body must arrive within `seconds`; past that the app sees a disconnect."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()  # after the body: only a disconnect can come, whenever it comes
            try:
                async with asyncio.timeout_at(deadline):  # a timer, not a task: cheap on the hot path
                    message = await receive()
            except TimeoutError:
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, receive_in_time, send)
