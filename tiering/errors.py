"""Named exceptions raised by the engine.

Every exception carries a message key (looked up in the i18n catalogue) and
the facts the message needs (file, sheet, row, column). The facts live in
attributes, never in the exception's text, so a logged traceback carries no
client data. The app and the CLI turn them into a sentence with
``tiering.i18n.describe_error``.
"""

from __future__ import annotations


class TieringError(Exception):
    """Base class: a problem the user can fix, described by a message key."""

    key = "error.unexpected"

    def __init__(self, key: str | None = None, **facts: object) -> None:
        self.key = key or self.key
        self.facts = facts
        # The text names only the key, never the facts (they may hold client data).
        super().__init__(self.key)


class InputFileError(TieringError):
    """A file cannot be read as a client table."""

    key = "error.file.unreadable"


class MappingError(TieringError):
    """The columns cannot be mapped to the fields the standard needs."""

    key = "error.mapping.invalid"


class StandardError(TieringError):
    """A tier standard is invalid; ``facts['field']`` names the bad field."""

    key = "error.standard.invalid"


class ScoringError(TieringError):
    """The standard cannot be applied to the loaded table."""

    key = "error.scoring.failed"


class ExportError(TieringError):
    """The tiered list cannot be written."""

    key = "error.export.failed"


class StoreError(TieringError):
    """The database of versions, snapshots and the audit log cannot be used."""

    key = "store.error.open"
