"""The one error the Python helpers raise: an AssertionError, so pytest shows it as a failed check,
carrying the emulator's HTTP status and body when the server refused a call."""

from __future__ import annotations


class MesiboMockError(AssertionError):
    """A /_mock or backend call the server refused (`status`, `body`), a wait that ran out, or strict
    mode's findings (`status` and `body` None)."""

    def __init__(self, message: str, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
