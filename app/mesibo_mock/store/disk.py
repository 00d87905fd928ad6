"""The store's files on the disk: the WAL folded into the database from a thread of its own (so no request
pays for it), and a reserve of free space given up when the disk fills (so records can still be freed).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time


def disk_full(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)


class Checkpointer:
    """Copies the WAL into the database file from a thread of its own, ten times a second, so that
    the request path seldom pays for it. When the WAL has grown past half its limit and this thread
    has just copied (nearly) all of it, it asks the writer to start the WAL over (`restart_wanted`)."""

    INTERVAL = 0.1
    SLACK_FRAMES = 256  # frames the writer may still have to copy itself when it restarts the WAL

    def __init__(self, path: str, wal_limit: int) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._wal_limit = wal_limit
        self.restart_wanted = False
        wal = path + "-wal"
        self._wal_fd = os.open(wal, os.O_RDONLY) if os.path.exists(wal) else None
        self._restart_not_before = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.INTERVAL):
            with contextlib.suppress(sqlite3.Error):  # busy or closing: the next round will do it
                _busy, frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                size = self.walsize_of()
                # Nearly all copied: the restart costs the writer little. (Past the limit the writer
                # restarts it anyway: see restart_due.)
                if size > self._wal_limit // 2 and frames - copied <= self.SLACK_FRAMES:
                    self.restart_wanted = True
                # A WAL past its limit while writes have paused: cut the file back to nothing.
                if size > self._wal_limit:
                    self._conn.execute("PRAGMA busy_timeout=0")
                    try:
                        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    finally:
                        self._conn.execute("PRAGMA busy_timeout=5000")

    def walsize_of(self) -> int:
        return os.fstat(self._wal_fd).st_size if self._wal_fd is not None else 0

    def restart_due(self) -> bool:
        """Asked by the writer after each commit: this thread wants a restart, or the WAL is past its
        limit already (a sustained flood never leaves the WAL idle, nor lets this thread catch up for
        good; the writer then copies what is left itself). One fstat."""
        if self.restart_wanted:
            return True
        return self.walsize_of() > self._wal_limit and time.monotonic() >= self._restart_not_before

    def pause_restarts(self) -> None:
        self._restart_not_before = time.monotonic() + self.INTERVAL / 10

    def stop(self) -> None:
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        self._stopping.set()
        self._thread.join(timeout=5)
        self._conn.close()


class Reserve:
    """A file of up to RESERVE_BYTES kept beside the database and given up when the disk fills: without
    it, a full disk could not even take the few pages that deleting records writes, nor let the WAL
    be folded in (which frees the WAL file's space), so nothing could be freed through the API.

    It takes what room there is, up to RESERVE_BYTES, leaving MARGIN for the database: after a start
    on a full disk has used part of it to open, the rest is still kept for freeing records."""

    RESERVE_BYTES = 1024 * 1024
    MARGIN = 64 * 1024
    STEP = 4096

    def __init__(self, path: str) -> None:
        self.path = path
        self.take()

    def whole(self) -> bool:
        return size_of(self.path) >= self.RESERVE_BYTES

    def take(self) -> None:
        have = size_of(self.path)
        if have >= self.RESERVE_BYTES:
            return
        want = min(self.RESERVE_BYTES, have + free_room(self.path) - self.MARGIN) // self.STEP * self.STEP
        if want <= have:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, want)
            finally:
                os.close(fd)
        except OSError:  # the room went meanwhile: taken again after the next records deleted
            pass

    def release(self) -> None:
        remove_quietly(self.path)


def remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def free_room(path: str, unknown: int = 0) -> int:
    """Bytes free to us on the file system holding `path` (`unknown` if it cannot be told)."""
    try:
        stats = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return unknown
    return stats.f_bavail * stats.f_frsize


def size_of(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
