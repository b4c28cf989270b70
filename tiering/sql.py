"""Small helpers for building DuckDB SQL safely, and for bounding its memory.

Identifiers come only from validated column lists and pass through
``quote_identifier``; values are always bound parameters.

Results are read to their end (``fetchall``, never ``fetchone``): DuckDB
refuses any other query on a connection that holds an unfinished result,
and the session's connection is shared by every page.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import Iterator

import duckdb

# DuckDB's temporary folder for an in-memory database: ".tmp" under the
# current folder, where client data should not be left.
DEFAULT_TEMP_DIRECTORY = ".tmp"


def quote_identifier(name: str) -> str:
    """Return ``name`` as a double-quoted SQL identifier, inner quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


@contextlib.contextmanager
def bounded_memory(
    con: duckdb.DuckDBPyConnection, extra_bytes: int
) -> Iterator[None]:
    """Let DuckDB take at most ``extra_bytes`` more memory while in the block.

    A sort or join that needs more spills to a private temporary folder
    (readable by this user only, removed at exit) instead of growing: a
    sorted million-row export otherwise holds every row once more.
    """
    used, before = con.execute(
        "SELECT (SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()),"
        " current_setting('memory_limit')"
    ).fetchall()[0]
    _use_private_temp_directory(con)
    con.execute(f"SET memory_limit = '{(int(used) + extra_bytes) >> 20} MiB'")
    try:
        yield
    finally:
        # The setting reads back rounded (18.8 GiB); the default is restored
        # exactly, any other limit as it read.
        con.execute("RESET memory_limit")
        (now,) = con.execute("SELECT current_setting('memory_limit')").fetchall()[0]
        if now != before:
            con.execute(f"SET memory_limit = '{_literal(before)}'")


def _use_private_temp_directory(con: duckdb.DuckDBPyConnection) -> None:
    """Point DuckDB's spill files at a private folder, once per database."""
    (current,) = con.execute("SELECT current_setting('temp_directory')").fetchall()[0]
    if current != DEFAULT_TEMP_DIRECTORY:
        return
    folder = tempfile.mkdtemp(prefix="tiering-duckdb-")
    try:
        con.execute(f"SET temp_directory = '{_literal(folder)}'")
    except duckdb.Error:
        # DuckDB refuses a new folder once it has spilled to the old one.
        shutil.rmtree(folder, ignore_errors=True)
        return
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def _literal(text: str) -> str:
    """``text`` for a single-quoted SQL literal (SET takes no parameters)."""
    return str(text).replace("'", "''")
