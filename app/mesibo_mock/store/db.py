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

from mesibo_mock.store.disk import Checkpointer, Reserve, disk_full, free_room, remove_quietly, size_of
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


def _bind_plainly() -> None:
    """None and bool bound without the adapter search. Python's sqlite3 binds an exact int, float or str
    at once, but looks every other value up in `sqlite3.adapters` and, missing there, asks the
    PrepareProtocol type for `__adapt__`: a failed lookup on a type, whose AttributeError is built
    (message and all) and dropped, for every NULL and every flag. A push record binds about ten (reason,
    fallback time, mid, the flags...): the search was 6% of a pushtest (py-spy --native, bench/). With an
    entry for each, the lookup finds it at once: None stays None (`{}.get` answers None for any key)
    and a bool becomes the 0 or 1 SQLite stores for it anyway. Process-wide, and changes no value that
    any caller's own connection would store."""
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(type(None), {}.get)


_bind_plainly()

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
                if last_try or not (disk_full(exc) or _out_of_room(path)) or size_of(reserve) == 0:
                    raise StoreError(f"cannot open database {path}: {_explain(path, exc)}") from exc
                log.warning("the disk is full: giving up the reserve (%s) to open the database", reserve)
                self._abandon()
                remove_quietly(reserve)

    def _open(self, path: str, wal_limit: int) -> None:
        memory = path == ":memory:"
        if not memory:
            _create_private(path)
        self.conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, cached_statements=256
        )
        self.conn.row_factory = sqlite3.Row
        # A cursor kept for the statements that return no rows (a unit's savepoint, BEGIN, COMMIT, the
        # push INSERT): conn.execute makes a cursor and drops it on every call, which costs a savepoint
        # and its release as much again (a pushtest runs three such statements).
        self.statements = self.conn.cursor()
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
        for opened in (getattr(self, "statements", None), getattr(self, "conn", None)):  # the cursor first
            if opened is not None:
                with contextlib.suppress(sqlite3.Error):
                    opened.close()

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
            self.statements.execute("BEGIN IMMEDIATE")
        for sql, rows in appends.items():
            self.statements.executemany(sql, rows)
        for callback in written:
            callback()

    def commit(self) -> None:
        with self.lock:
            try:
                if self._appends:
                    self._write_appends()
                if not self.conn.in_transaction:
                    return
                self.statements.execute("COMMIT")
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
            # not contextlib.suppress: this runs at the end of every unit, and that is an object a call
            try:  # noqa: SIM105
                self.statements.execute(statement)
            except sqlite3.Error:
                pass

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
        Afterwards, if the reserve is not whole, the freed pages are folded in too and, once they are,
        it is taken again if there is room (with the reserve whole, as nearly always, nothing more is
        done: the pytest fixture's reset before every test pays for no checkpoint). A fold that could
        not finish (the WAL still holds pages the database file must grow for, as when the checkpoints
        fell behind a flood on a busy machine) leaves the reserve given up: the room the delete made is
        the next write's, not the reserve's. If the delete fitted without the reserve but the fold finds
        no room while the reserve holds some, the reserve is given up for the fold."""
        try:
            done = work()
        except (sqlite3.Error, StoreError) as exc:
            if not disk_full(exc) or self.reserve is None:
                raise
            self._fold_without_reserve("delete records")
            done = work()
        if self.reserve is not None and not self.reserve.whole():
            folded = self._fold_wal()
            if not folded and size_of(self.reserve.path) > 0 and _out_of_room(self.path):
                # The WAL holds pages the database file must grow for (the checkpoints fell behind the
                # writes that filled the disk), and what room there is sits in the reserve: without the
                # fold the WAL cannot start over, and the next write, with no room to grow it, fails.
                folded = self._fold_without_reserve("fold the WAL in")
            if folded:
                self.reserve.take()
        return done

    def _fold_without_reserve(self, why: str) -> bool:
        """The disk is full: the reserve's room given up, and the WAL folded into it."""
        log.warning("the disk is full: giving up the reserve (%s) to %s", self.reserve.path, why)
        self.reserve.release()
        return self._fold_wal()

    FOLD_TRIES = 20

    def _fold_wal(self) -> bool:
        """Copy the whole WAL into the database and cut it to nothing; -> whether it all went. Tried a
        few times, 5 ms apart: while the checkpointer thread copies, a second checkpoint is refused at
        once (SQLite calls no busy handler for it), and on a full disk the WAL left uncut is the room
        the next write lacks (seen under load: a pushtest refused right after records were freed)."""
        with self.lock:
            for attempt in range(self.FOLD_TRIES):
                try:
                    busy, _frames, _copied = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                except sqlite3.Error as exc:
                    log.warning("could not fold the WAL into the database: %s", exc)
                    return False
                if not busy:
                    return True
                if attempt + 1 < self.FOLD_TRIES:
                    time.sleep(0.005)
            log.warning("could not fold the WAL into the database: a reader held it")
            return False

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
                # the kept cursor first: a statement it still holds would leave the connection open (a
                # zombie of sqlite3_close_v2), its files with it, until the cursor is collected
                self.statements.close()
                self.conn.close()


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


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
                    store.statements.execute("BEGIN IMMEDIATE")
                store.statements.execute("SAVEPOINT unit")
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


def _out_of_room(path: str) -> bool:
    """SQLite reports a full disk met while making its -shm file as a plain I/O error."""
    return free_room(path, unknown=Reserve.MARGIN) < Reserve.MARGIN


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


def as_dict(row: sqlite3.Row | None) -> dict | None:
    """A row kept to be read many times (a memo): a dict finds a column by name in one hash lookup,
    where a Row compares the name with each column's in turn (6% of a pushtest's instructions)."""
    return None if row is None else dict(zip(row.keys(), row, strict=True))


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
