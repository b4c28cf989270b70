"""Small helpers for building DuckDB SQL safely.

Identifiers come only from validated column lists and pass through
``quote_identifier``; values are always bound parameters.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """Return ``name`` as a double-quoted SQL identifier, inner quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'
