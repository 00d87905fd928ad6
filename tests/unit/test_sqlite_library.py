"""SQLite's process-wide settings (store/library.py): the server's entry point turns memory statistics
off before sqlite3 starts the library, and a process that imported sqlite3 first keeps its defaults."""

from __future__ import annotations

import subprocess
import sys
import textwrap

MEMORY_USED = textwrap.dedent(
    """
    import ctypes, sqlite3
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 100)
    print(ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used())
    """
)


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_without_the_setting_sqlite_counts_its_memory():
    """The control: the library this machine has keeps statistics by default."""
    assert int(run(MEMORY_USED)) > 0


def test_before_sqlite3_is_imported_the_statistics_are_turned_off():
    code = "from mesibo_mock.store.library import stop_memory_statistics\nprint(stop_memory_statistics())\n"
    out = subprocess.run(
        [sys.executable, "-c", code + MEMORY_USED], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "0"]


def test_after_sqlite3_is_imported_it_is_left_as_it_is():
    code = (
        "import sqlite3\nfrom mesibo_mock.store.library import stop_memory_statistics\n"
        "print(stop_memory_statistics())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code + MEMORY_USED], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "False" and int(out[1]) > 0


def test_the_entry_point_turns_them_off_before_anything_imports_sqlite3():
    code = textwrap.dedent(
        """
        from mesibo_mock.__main__ import main
        try:
            main(["--version"])
        except SystemExit:
            pass
        """
    )
    assert run(code + MEMORY_USED) == "0"
