"""The emulator clock: every "now" in the code comes from one Clock, which tests can move."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Real time plus an offset, or a frozen instant. Moving it never sleeps."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        frozen = self._frozen_at
        return frozen if frozen is not None else time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        return self.now() - time.time()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def set(self, instant: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - time.time()

    def freeze(self, frozen: bool) -> None:
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
            elif not frozen and self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def real(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None

    def state(self) -> dict:
        now = self.now()
        return {"now": iso(now), "epoch": now, "frozen": self.frozen, "offset": round(now - time.time(), 3)}


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> ISO 8601 UTC with a Z, the form every response uses."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """ISO 8601 (a bare date-time is taken as UTC) -> epoch seconds."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
