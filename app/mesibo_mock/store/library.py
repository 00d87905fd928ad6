"""SQLite's process-wide settings, made before Python's sqlite3 module starts the library.

The library Debian (and most distributions) ship keeps memory statistics: every allocation SQLite
makes takes a global mutex to count itself, and binding a text parameter is an allocation. Nothing
here reads those statistics (no soft heap limit, no sqlite3_memory_used), so the server turns them
off: about 1.6% of a pushtest's instructions (bench/instructions.py). SQLite accepts the setting only
before it is initialized, and the sqlite3 module initializes it when first imported; so this runs from
`mesibo-mock`'s entry point before anything imports sqlite3, and is a no-op afterwards.
"""

from __future__ import annotations

import sys

SQLITE_CONFIG_MEMSTATUS = 9  # sqlite3.h
SQLITE_OK = 0
RTLD_NOW = 2  # dlfcn.h


def stop_memory_statistics() -> bool:
    """-> whether the setting was taken. Never raises: a library that cannot be found, or one already
    started (a process that imported sqlite3 before us), keeps its defaults, which are only slower."""
    if "_sqlite3" in sys.modules:
        return False
    try:
        return _sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK
    except (OSError, AttributeError, TypeError):
        return False


def _sqlite3_config(option: int, value: int) -> int:
    """sqlite3_config(option, value) through _ctypes itself: the ctypes package costs the server's start
    about 2 ms to import (its types, made at import), this the few lines a call needs. The library is
    found by the soname the sqlite3 extension links against, so it is the same copy; a Python built
    with its own copy of SQLite makes this a setting of a copy nobody uses."""
    import _ctypes

    class Int(_ctypes._SimpleCData):
        _type_ = "i"

    class Function(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL
        _restype_ = Int

    class Library:
        _handle = _ctypes.dlopen("libsqlite3.so.0", RTLD_NOW)

    return Function(("sqlite3_config", Library()))(Int(option), Int(value))
