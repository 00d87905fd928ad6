"""State in SQLite: one serialised connection in WAL mode, over the tables of store/tables.py.

Queries go straight to the DB-API connection: an ORM session per request costs more than the whole
request budget of the hot path (see bench/). The schema comes from schema.sql, generated from the
SQLModel tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mesibo_mock.store.upgrade import upgrade_script

log = logging.getLogger("mesibo_mock.store")
T = TypeVar("T")

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.sql"
WIPE_ORDER = [
    "journal",
    "app_sources",
    "uacs",
    "backend_faults",
    "webhook_attempts",
    "webhook_events",
    "webhook_deliveries",
    "message_recipients",
    "message_tallies",
    "faults",
    "testpushes",
    "pushes",
    "messages",
    "otps",
    "group_members",
    "groups",
    "devices",
    "user_tokens",
    "users",
    "credentials",
    "apps",
]
# PRAGMA user_version of a store made by this code; older stores are upgraded in place at open.
SCHEMA_VERSION = 7


_deferring: contextvars.ContextVar[bool] = contextvars.ContextVar("deferring", default=False)


class StoreError(Exception):
    """The database cannot be opened or written."""


class Store:
    """One SQLite connection shared by the process; a lock makes every transaction atomic."""

    def __init__(self, path: str, wal_limit: int = 64 * 1024 * 1024) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self._waiters: list[asyncio.Future] = []
        self._appends: dict[str, list[tuple]] = {}  # rows waiting for the next commit, by their SQL
        self._written: list = []
        self.checkpointer: Checkpointer | None = None
        self.reserve: Reserve | None = None
        self._memos: dict[str, dict[Any, Any]] = {group: {} for group in set(self.MEMOIZED_TABLES.values())}
        # bumped by every mass deletion (a reset, a clear, an app deleted): what retention has
        # counted no longer holds, and ids may start again from 1
        self.cleared = 0
        reserve = path + "-reserve"
        for last_try in (False, True):
            try:
                self._open(path, wal_limit)
                return
            except (sqlite3.Error, OSError) as exc:
                # A disk that filled up before the last stop: opening writes a little (the -shm file,
                # the WAL's header), so give up the reserve, which exists for this, and try once more.
                if last_try or not (disk_full(exc) or _out_of_room(path)) or _size(reserve) == 0:
                    raise StoreError(f"cannot open database {path}: {_explain(path, exc)}") from exc
                log.warning("the disk is full: giving up the reserve (%s) to open the database", reserve)
                self._abandon()
                _remove_quietly(reserve)

    def _open(self, path: str, wal_limit: int) -> None:
        memory = path == ":memory:"
        if not memory:
            _create_private(path)
        self.conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, cached_statements=256
        )
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA busy_timeout=5000")
        if not memory:
            mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"cannot use the WAL journal on {path} (got {mode})")
        # NORMAL in WAL mode: a commit is in the WAL file before we answer, so a killed
        # process loses nothing; only a power cut could drop the last commits.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        # Debian's SQLite zeroes every freed page (SECURE_DELETE), which writes each page a delete
        # frees to the WAL: wiping a store of N MB needed N MB of free disk, so a reset could not free
        # a full disk even with the reserve given up. FAST zeroes deleted content only where a page is
        # written anyway. No secret is stored (a key's fingerprint only), so nothing needs more.
        self.conn.execute("PRAGMA secure_delete=FAST")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        schema = SCHEMA_FILE.read_text()
        upgrade = upgrade_script(self.conn, version, SCHEMA_VERSION, schema)
        # The version is written only when it changes: an open that changes nothing writes nothing.
        stamp = f"PRAGMA user_version = {SCHEMA_VERSION};" if version != SCHEMA_VERSION else ""
        # One script, one transaction (executescript commits whatever was open before it).
        self.conn.executescript(f"BEGIN;\n{upgrade}\n{schema}\n{stamp}\nCOMMIT;")
        self._watch_memoized_tables()
        self.shared = not memory  # another process (a second server) may write this store too
        self._data_version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if not memory:
            _tighten_companions(path)
            # Checkpoints (the only step that waits for the disk) run in their own thread, so
            # that no request pays for one; a commit is durable once it is in the WAL.
            self.conn.execute("PRAGMA wal_autocheckpoint=0")
            # After a checkpoint SQLite cuts the WAL file back to this size; the checkpointer
            # truncates it outright when it grows past it anyway.
            self.conn.execute(f"PRAGMA journal_size_limit={int(wal_limit)}")
            self.checkpointer = Checkpointer(path, wal_limit)
            self.reserve = Reserve(path + "-reserve")

    def _abandon(self) -> None:
        """Drop what a failed open left behind, before the next try."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        conn = getattr(self, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    # Tables read on the hot path but rarely written: what is read from them is memoized until a row
    # of its group changes, which temporary triggers (this connection's own) report. Devices are a
    # group of their own: a push writes its device (its time while `ratelimit` is on, a token it found
    # invalid), and that must not cost every app its memoized credentials.
    MEMOIZED_TABLES = {"credentials": "apps", "faults": "apps", "apps": "apps", "devices": "devices"}
    MEMO_LIMIT = 4096  # entries per group: a group past it starts again (one per app, per address)

    def _watch_memoized_tables(self) -> None:
        self.conn.create_function("mesibo_mock_forget", 1, self._forget_group)
        for table, group in self.MEMOIZED_TABLES.items():
            for event in ("INSERT", "UPDATE", "DELETE"):
                self.conn.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS forget_{table}_{event.lower()} AFTER {event} "
                    f"ON main.{table} BEGIN SELECT mesibo_mock_forget('{group}'); END"
                )

    def _forget_group(self, group: str) -> None:
        self._memos[group].clear()

    def others_wrote(self) -> bool:
        """Whether another connection (a second server on this file) committed since the last look:
        the memos' triggers fire only for this connection's own writes. One PRAGMA, no I/O."""
        if not self.shared:
            return False
        with self.lock:
            version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return False
        self._data_version = version
        return True

    def forget(self) -> None:
        """Drop every memo: a memoized table changed, or a transaction was undone (what was read in
        it may have been its own uncommitted rows)."""
        for memo in self._memos.values():
            memo.clear()

    def memo(self, key: Any, make: Callable[[], T], keep_none: bool = True, group: str = "apps") -> T:
        """`make()`, kept until a row of the group's MEMOIZED_TABLES changes; `make` must read only
        those tables. With `keep_none` false a None is not kept (a lookup that found nothing is made
        again)."""
        memo = self._memos[group]
        try:
            return memo[key]
        except KeyError:
            value = make()
            if value is not None or keep_none:
                if len(memo) >= self.MEMO_LIMIT:
                    memo.clear()
                memo[key] = value
            return value

    def tx(self) -> Unit:
        """One unit of work, all or nothing; nested uses join the outer one.

        Committed at its end, unless the caller is `deferred()`: then it waits in the open
        transaction for `flush()`, which commits the work of every request ready at that moment
        in one COMMIT (group commit). Each unit is a savepoint, so a failure undoes only its own.
        """
        return Unit(self)

    def append(self, sql: str, row: tuple, written=None) -> None:
        """An INSERT that waits for the next commit, where all the rows waiting with the same SQL are
        written by one executemany (the request journal: one row per call, on the hot path). The row
        is as durable as the work committed with it. `written`, if given, is called once it is in."""
        rows = self._appends.get(sql)
        if rows is None:
            rows = self._appends[sql] = []
        rows.append(row)
        if written is not None:
            self._written.append(written)

    def _write_appends(self) -> None:
        appends, self._appends = self._appends, {}
        written, self._written = self._written, []
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
        for sql, rows in appends.items():
            self.conn.executemany(sql, rows)
        for callback in written:
            callback()

    def commit(self) -> None:
        with self.lock:
            try:
                if self._appends:
                    self._write_appends()
                if not self.conn.in_transaction:
                    return
                self.conn.execute("COMMIT")
            except sqlite3.Error:
                self._quietly("ROLLBACK")
                self.forget()
                self.mass_deleted()  # rows that retention may have counted went with the transaction
                raise
            if self.checkpointer is not None and self.checkpointer.restart_due():
                self._restart_wal()

    def _restart_wal(self) -> None:
        """Under a steady stream of commits the background checkpoint never finds the WAL idle, so the
        WAL would only grow (and every read and write with it). When the checkpointer has just copied
        nearly all of a WAL grown past half its limit, or the WAL has passed its limit, this
        connection, right after a commit with no transaction open, copies the frames not yet copied
        and makes the next write start the WAL from its beginning. If the checkpointer is busy right
        now, a later commit does it."""
        self.checkpointer.restart_wanted = False
        conn = self.conn
        conn.execute("PRAGMA busy_timeout=20")
        try:
            busy = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]
        except sqlite3.Error:
            busy = 1
        finally:
            conn.execute("PRAGMA busy_timeout=5000")
        if busy:  # the checkpointer is copying: let it finish before trying again
            self.checkpointer.pause_restarts()

    def _quietly(self, statement: str) -> None:
        """Undo what is still open, if anything is: an error here would hide the one that matters."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute(statement)

    @staticmethod
    @contextmanager
    def deferred() -> Iterator[None]:
        """Units of work inside stay uncommitted until `flush()`."""
        token = _deferring.set(True)
        try:
            yield
        finally:
            _deferring.reset(token)

    async def flush(self) -> None:
        """Return once everything written so far is committed; one COMMIT serves every waiter."""
        if not self.conn.in_transaction and not self._appends:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        if len(self._waiters) == 1:
            loop.call_soon(loop.call_soon, self._commit_waiting)
        await waiter

    def _commit_waiting(self) -> None:
        waiters, self._waiters = self._waiters, []
        error: Exception | None = None
        try:
            self.commit()
        except sqlite3.Error as exc:
            error = exc
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    cause = (
                        "database or disk is full"
                        if disk_full(error)
                        else f"the write could not be committed: {error}"
                    )
                    waiter.set_exception(StoreError(cause))

    def one(self, sql: str, args: tuple | list = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def run(self, sql: str, args: tuple | list = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, args)

    def insert(self, table: str, values: dict[str, Any]) -> int:
        with self.lock:
            cur = self.conn.execute(_insert_sql(table, tuple(values)), list(values.values()))
            return int(cur.lastrowid)

    def update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.lock:
            self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values.values(), row_id])

    def wipe(self) -> None:
        with self.tx() as conn:
            for table in WIPE_ORDER:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence")  # a reset starts the numbering again
        self.mass_deleted()

    def mass_deleted(self) -> None:
        """Rows went in bulk (a reset, a clear, an app deleted, a group commit undone): what retention
        counted no longer holds."""
        self.cleared += 1

    def freeing(self, work: Callable[[], T]) -> T:
        """Run `work`, which deletes records, even on a full disk: when the disk is full, give up the
        reserve, fold the WAL into the database (its file is then cut to nothing) and try once more.
        Afterwards, if the reserve is not whole, the freed pages are folded in too and it is taken
        again if there is room (with the reserve whole, as nearly always, nothing more is done: the
        pytest fixture's reset before every test pays for no checkpoint)."""
        try:
            done = work()
        except (sqlite3.Error, StoreError) as exc:
            if not disk_full(exc) or self.reserve is None:
                raise
            log.warning("the disk is full: giving up the reserve (%s) to delete records", self.reserve.path)
            self.reserve.release()
            self._fold_wal()
            done = work()
        if self.reserve is not None and not self.reserve.whole():
            self._fold_wal()
            self.reserve.take()
        return done

    def _fold_wal(self) -> None:
        with self.lock:
            try:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.Error as exc:
                log.warning("could not fold the WAL into the database: %s", exc)

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with self.lock:
            try:
                self.commit()
                if self.path != ":memory:":
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # a full disk: the WAL holds it all and is read at the next start
                log.warning("the database was closed with its WAL not folded in (%s): nothing is lost", exc)
            finally:
                self.conn.close()


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


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
                size = self.wal_size()
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

    def wal_size(self) -> int:
        return os.fstat(self._wal_fd).st_size if self._wal_fd is not None else 0

    def restart_due(self) -> bool:
        """Asked by the writer after each commit: this thread wants a restart, or the WAL is past its
        limit already (a sustained flood never leaves the WAL idle, nor lets this thread catch up for
        good; the writer then copies what is left itself). One fstat."""
        if self.restart_wanted:
            return True
        return self.wal_size() > self._wal_limit and time.monotonic() >= self._restart_not_before

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
        return _size(self.path) >= self.RESERVE_BYTES

    def take(self) -> None:
        have = _size(self.path)
        if have >= self.RESERVE_BYTES:
            return
        want = min(self.RESERVE_BYTES, have + _room(self.path) - self.MARGIN) // self.STEP * self.STEP
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
        _remove_quietly(self.path)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _room(path: str, unknown: int = 0) -> int:
    """Bytes free to us on the file system holding `path` (`unknown` if it cannot be told)."""
    try:
        stats = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return unknown
    return stats.f_bavail * stats.f_frsize


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _create_private(path: str) -> None:
    """Create the database file with mode 0600 before SQLite does: it holds credentials."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise StoreError(f"cannot open database {path}: directory {directory} does not exist")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _tighten_companions(path: str) -> None:
    for suffix in ("-wal", "-shm"):
        companion = path + suffix
        if os.path.exists(companion):
            os.chmod(companion, 0o600)


class Unit:
    """Store.tx() as a plain class: a generator-based context manager costs more on the hot path."""

    __slots__ = ("store", "outer")

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        store.lock.acquire()
        self.outer = store._depth == 0
        if self.outer:
            try:
                if not store.conn.in_transaction:
                    store.conn.execute("BEGIN IMMEDIATE")
                store.conn.execute("SAVEPOINT unit")
            except BaseException:
                store.lock.release()
                raise
        store._depth += 1
        return store.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        store = self.store
        try:
            store._depth -= 1
            if self.outer:
                if exc_type is not None:
                    # SQLite may have rolled the whole transaction back already (a full disk does):
                    # then there is no savepoint left, and the original error is the one to report.
                    store._quietly("ROLLBACK TO unit")
                    store.forget()
                store._quietly("RELEASE unit")
                if not _deferring.get():
                    store.commit()
        finally:
            store.lock.release()


def disk_full(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)


def _out_of_room(path: str) -> bool:
    """SQLite reports a full disk met while making its -shm file as a plain I/O error."""
    return _room(path, unknown=Reserve.MARGIN) < Reserve.MARGIN


def _explain(path: str, exc: Exception) -> str:
    """SQLite's own words name no cause; say what is wrong and what to do."""
    text = str(exc)
    directory = os.path.dirname(os.path.abspath(path))
    if path != ":memory:" and not disk_full(exc) and _out_of_room(path):
        return f"database or disk is full ({text}, with no room left in {directory}); free some space"
    if "unable to open database file" in text or "readonly database" in text:
        return (
            f"cannot create or write files in {directory} (SQLite keeps its -wal and -shm files beside the "
            "database); make the directory writable or choose another --db"
        )
    if isinstance(exc, PermissionError):
        return f"permission denied ({exc.filename or path}); make it writable or choose another --db"
    if "file is not a database" in text:
        return f"{path} is not an SQLite database; choose another --db"
    return text


def where(filters: dict[str, Any], *extra: tuple[str, Any]) -> tuple[str, list]:
    """Equality filters (None means "any") plus extra (condition, value) pairs -> ' WHERE ...', args."""
    conditions = [(f"{column} = ?", value) for column, value in filters.items() if value is not None]
    conditions += [(sql, value) for sql, value in extra if value is not None]
    if not conditions:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in conditions), [value for _, value in conditions]


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def safe_loads(text: str | None) -> Any:
    """Stored JSON for display: whatever an older version let in (a profile nested 959 deep), a page
    still renders; what cannot be read back is shown as a note instead."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    else:
        if _depth_within(value, SHOWN_DEPTH):
            return value
    return {"unreadable": f"{len(text)} characters of stored JSON, too deep or malformed to show"}


SHOWN_DEPTH = 32


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return True
