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


def stop_memory_statistics() -> bool:
    """-> whether the setting was taken. Never raises: a library that cannot be found, or one already
    started (a process that imported sqlite3 before us), keeps its defaults, which are only slower."""
    if "_sqlite3" in sys.modules:
        return False
    try:
        import ctypes

        # The same soname the sqlite3 extension links against, so the same copy of the library; a
        # Python built with its own copy of SQLite makes this a setting of a copy nobody uses.
        library = ctypes.CDLL("libsqlite3.so.0")
        return library.sqlite3_config(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == SQLITE_OK
    except (OSError, AttributeError):
        return False
