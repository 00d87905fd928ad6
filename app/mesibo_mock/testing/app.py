"""MesiboApp: an app of a test's own on a running emulator, with every helper scoped to its token, so
tests leave each other's data alone. `close()` deletes it, and with strict mode raises for the
mistakes its backend calls made, in the words every client uses."""

from __future__ import annotations

import httpx

from mesibo_mock.testing.errors import MesiboMockError
from mesibo_mock.testing.helpers import Helpers


class MesiboApp(Helpers):
    def __init__(self, client: httpx.Client, url: str, view: dict, strict: bool = False) -> None:
        self.client = client
        self._url = url
        self.view = view  # the app as the server showed it when it was made
        self.strict = strict
        self.closed = False
        self._receivers = []

    @property
    def token(self) -> str:
        return self.view["token"]

    app_token = token  # the name MesiboMock uses, so code written for either reads both

    @property
    def name(self) -> str:
        return self.view["name"]

    @property
    def url(self) -> str:
        return self._url

    def __enter__(self) -> MesiboApp:
        return self

    def __exit__(self, kind, *rest: object) -> None:
        if kind is not None:  # the block failed already: delete the app, and let that failure show
            self.strict = False
        self.close()

    def close(self) -> None:
        """Delete the app (and close its webhook receivers); with strict mode, then raise MesiboMockError
        naming each mistake its calls made (an unknown op, a field no op reads, an unanswered webhook)
        that the test did not read with mistakes()."""
        if self.closed:
            return
        self.closed = True
        report = self.unexpected_mistakes() if self.strict else None
        self._close_receivers()
        try:
            self._ok(self.client.delete(self._app_path()))
        except MesiboMockError as exc:
            if exc.status != 404:  # deleted already (a server-wide reset): nothing is left to do
                raise
        if report:
            raise MesiboMockError(report)

    def __repr__(self) -> str:
        return f"MesiboApp(name={self.name!r}, token={self.token!r})"
