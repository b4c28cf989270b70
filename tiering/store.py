"""What must last, in one DuckDB file: datasets, standard versions, snapshots,
overrides and the audit log.

How it stays safe:

1. One ``Store`` per process holds one DuckDB connection and a lock. Streamlit
   serves every browser session from a thread of one process, so all of them
   share the store (``app_state`` caches it) and take turns on the lock.
2. Every write runs in one transaction (``BEGIN`` … ``COMMIT``), its audit
   row included. DuckDB writes a transaction to its write-ahead log at
   commit, so a process killed mid-write leaves the file readable with every
   committed version and snapshot, and none of the half-written one.
3. The schema is versioned: ``schema_version`` holds the number of
   ``MIGRATIONS`` steps applied, and opening a file applies the missing ones
   in order, each in its own transaction. A new step is appended, never
   edited, so an older file moves forward.

Client rows of a dataset are kept in their own table ``dataset_<id>_clients``
(the ``clients`` table of the load, columns as typed then), because the
mapped fields differ from file to file; the name is built from the integer
id and quoted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from tiering.errors import StoreError
from tiering.sql import quote_identifier
from tiering.standard import Standard

logger = logging.getLogger(__name__)

Action = Literal["upload", "publish", "rollback", "override", "snapshot", "export"]
ACTIONS: tuple[Action, ...] = (
    "upload", "publish", "rollback", "override", "snapshot", "export"
)
# Rows written per INSERT while copying a large snapshot into the store.
WRITE_BATCH_ROWS = 50_000

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE SEQUENCE dataset_ids START 1;
    CREATE TABLE datasets (
        id BIGINT PRIMARY KEY,
        file_name VARCHAR NOT NULL,
        sheet VARCHAR,
        mapping JSON,
        kind VARCHAR,
        as_of DATE,
        row_count BIGINT NOT NULL,
        clients_table VARCHAR NOT NULL,
        uploaded_by VARCHAR NOT NULL,
        uploaded_at TIMESTAMP NOT NULL
    );
    CREATE TABLE standards (
        name VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        body JSON NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ('draft', 'published')),
        author VARCHAR NOT NULL,
        note VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE SEQUENCE snapshot_ids START 1;
    CREATE TABLE snapshots (
        id BIGINT PRIMARY KEY,
        dataset_id BIGINT NOT NULL,
        standard_name VARCHAR NOT NULL,
        standard_version INTEGER NOT NULL,
        as_of DATE NOT NULL,
        taken_by VARCHAR NOT NULL,
        taken_at TIMESTAMP NOT NULL,
        clients BIGINT NOT NULL
    );
    CREATE TABLE snapshot_results (
        snapshot_id BIGINT NOT NULL,
        client_id VARCHAR NOT NULL,
        composite DOUBLE,
        tier VARCHAR,
        tier_rank INTEGER,
        rule_tier_rank INTEGER,
        held_tier_rank INTEGER,
        gate VARCHAR,
        reason VARCHAR,
        watch BOOLEAN NOT NULL,
        periods_below INTEGER NOT NULL,
        override_tier VARCHAR,
        previous_tier VARCHAR,
        tier_changed_on DATE
    );
    CREATE TABLE snapshot_dimension_scores (
        snapshot_id BIGINT NOT NULL,
        client_id VARCHAR NOT NULL,
        dimension VARCHAR NOT NULL,
        score DOUBLE
    );
    CREATE SEQUENCE override_ids START 1;
    CREATE TABLE overrides (
        id BIGINT PRIMARY KEY,
        client_id VARCHAR NOT NULL,
        tier VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        set_by VARCHAR NOT NULL,
        set_at TIMESTAMP NOT NULL,
        removed_by VARCHAR,
        removed_at TIMESTAMP
    );
    CREATE SEQUENCE audit_ids START 1;
    CREATE TABLE audit_log (
        id BIGINT PRIMARY KEY,
        action VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        details JSON NOT NULL,
        at_time TIMESTAMP NOT NULL
    );
    """,
)


@dataclass(frozen=True)
class StandardVersion:
    """One stored version of a standard, without its body."""

    name: str
    version: int
    status: str
    author: str
    note: str
    created_at: dt.datetime


@dataclass(frozen=True)
class SnapshotInfo:
    """A stored snapshot: which data, which standard, as of when, by whom."""

    id: int
    dataset_id: int
    standard_name: str
    standard_version: int
    as_of: dt.date
    taken_by: str
    taken_at: dt.datetime
    clients: int


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset: where it came from and how many clients it holds."""

    id: int
    file_name: str
    sheet: str | None
    as_of: dt.date | None
    row_count: int
    uploaded_by: str
    uploaded_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _clients_table(dataset_id: int) -> str:
    return quote_identifier(f"dataset_{int(dataset_id)}_clients")


class Store:
    """The database file, shared by the threads of one process.

    Args:
        path: the DuckDB file; created (with its folder) when missing.

    Raises:
        StoreError: the file is locked by another program, or is not a
            Tiering Studio database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as error:
            logger.warning("database could not be opened: %s", type(error).__name__)
            raise StoreError("store.error.locked", file=self.path.name) from error
        except (duckdb.Error, OSError) as error:
            logger.warning("database could not be opened: %s", type(error).__name__)
            raise StoreError("store.error.open", file=self.path.name) from error
        self._migrate()

    # --- plumbing ---------------------------------------------------------

    def close(self) -> None:
        """Close the connection (waits for a write in progress)."""
        with self._lock:
            self._con.close()

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block as one transaction, rolled back on any error."""
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def _query(self, sql: str, params: Any = None) -> pd.DataFrame:
        with self._lock:
            return self._con.execute(sql, params or []).df()

    def _rows(self, sql: str, params: Any = None) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, params or []).fetchall()

    def schema_version(self) -> int:
        """Return how many migration steps the file has had."""
        return int(self._rows("SELECT max(version) FROM schema_version")[0][0] or 0)

    def _migrate(self) -> None:
        with self._lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
        current = self.schema_version()
        for number, step in enumerate(MIGRATIONS[current:], start=current + 1):
            with self._transaction() as con:
                con.execute(step)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?)", [number, _now()]
                )
            logger.info("database schema migrated to version %d", number)

    def _audit(
        self, con: duckdb.DuckDBPyConnection, action: Action, actor: str, details: dict
    ) -> None:
        """Add an audit row inside the caller's transaction."""
        con.execute(
            "INSERT INTO audit_log VALUES (nextval('audit_ids'), ?, ?, ?, ?)",
            [action, actor, json.dumps(details, ensure_ascii=False, default=str), _now()],
        )

    def record(self, action: Action, actor: str, details: dict[str, Any]) -> None:
        """Add an audit row on its own (an export, which writes nothing else)."""
        with self._transaction() as con:
            self._audit(con, action, actor, details)

    def audit_log(self, limit: int = 500) -> pd.DataFrame:
        """Return the latest audit rows: id, action, actor, details, at."""
        return self._query(
            "SELECT id, action, actor, CAST(details AS VARCHAR) AS details, at_time "
            "FROM audit_log ORDER BY id DESC LIMIT ?",
            [limit],
        )

    # --- datasets ---------------------------------------------------------

    def save_dataset(
        self,
        con: duckdb.DuckDBPyConnection,
        file_name: str,
        uploaded_by: str,
        sheet: str | None = None,
        mapping: dict[str, Any] | None = None,
        as_of: dt.date | None = None,
        kind: str | None = None,
    ) -> int:
        """Keep the ``clients`` table of ``con`` as a new dataset.

        Args:
            con: a dataset connection holding ``clients`` (see
                ``prepare.load_clients``).
            file_name, sheet, mapping, as_of, kind: where the rows came from.
            uploaded_by: who loaded them.

        Returns:
            The new dataset id.
        """
        rows = con.sql("SELECT * FROM clients ORDER BY _row").to_arrow_table()
        with self._transaction() as store:
            ((dataset_id,),) = store.execute("SELECT nextval('dataset_ids')").fetchall()
            table = _clients_table(dataset_id)
            store.register("incoming_clients", rows)
            try:
                store.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming_clients")
            finally:
                store.unregister("incoming_clients")
            store.execute(
                "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    dataset_id, file_name, sheet,
                    json.dumps(mapping, ensure_ascii=False) if mapping else None,
                    kind, as_of, rows.num_rows, table.strip('"'), uploaded_by, _now(),
                ],
            )
            details = {"dataset": dataset_id, "file": file_name, "rows": rows.num_rows}
            self._audit(store, "upload", uploaded_by, details)
        logger.info("dataset %d stored with %d rows", dataset_id, rows.num_rows)
        return int(dataset_id)

    def datasets(self) -> list[DatasetInfo]:
        """Return the stored datasets, newest first."""
        rows = self._rows(
            "SELECT id, file_name, sheet, as_of, row_count, uploaded_by, uploaded_at "
            "FROM datasets ORDER BY id DESC"
        )
        return [DatasetInfo(*row) for row in rows]

    def dataset_clients(self, dataset_id: int) -> pa.Table:
        """Return the client rows of a dataset as an Arrow table.

        Raises:
            StoreError: no such dataset.
        """
        if not self._rows("SELECT 1 FROM datasets WHERE id = ?", [dataset_id]):
            raise StoreError("store.error.no_dataset", dataset=dataset_id)
        with self._lock:
            sql = f"SELECT * FROM {_clients_table(dataset_id)} ORDER BY _row"
            return self._con.sql(sql).to_arrow_table()

    # --- standards --------------------------------------------------------

    def _next_version(self, con: duckdb.DuckDBPyConnection, name: str) -> int:
        ((latest,),) = con.execute(
            "SELECT max(version) FROM standards WHERE name = ?", [name]
        ).fetchall()
        return int(latest or 0) + 1

    def _insert_standard(
        self,
        con: duckdb.DuckDBPyConnection,
        standard: Standard,
        author: str,
        note: str,
        status: str,
    ) -> Standard:
        version = self._next_version(con, standard.name)
        stored = replace(standard, version=version, note=note)
        con.execute(
            "INSERT INTO standards VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                stored.name, version,
                json.dumps(stored.to_dict(), ensure_ascii=False),
                status, author, note, _now(),
            ],
        )
        return stored

    def publish(self, standard: Standard, author: str, note: str = "") -> Standard:
        """Store ``standard`` as the next published version of its name.

        Returns:
            The standard as stored: its ``version`` is the new number and its
            ``note`` the one given.
        """
        with self._transaction() as con:
            stored = self._insert_standard(con, standard, author, note, "published")
            details = {"standard": stored.name, "version": stored.version, "note": note}
            self._audit(con, "publish", author, details)
        logger.info("standard version %d published", stored.version)
        return stored

    def save_draft(self, standard: Standard, author: str, note: str = "") -> Standard:
        """Store ``standard`` as the next version of its name, as a draft."""
        with self._transaction() as con:
            return self._insert_standard(con, standard, author, note, "draft")

    def rollback(self, name: str, version: int, author: str, note: str = "") -> Standard:
        """Publish version ``version`` of ``name`` again, as a new version.

        Raises:
            StoreError: no such version.
        """
        earlier = self.load_version(name, version)
        with self._transaction() as con:
            stored = self._insert_standard(con, earlier, author, note, "published")
            details = {
                "standard": name, "from_version": version,
                "version": stored.version, "note": note,
            }
            self._audit(con, "rollback", author, details)
        logger.info("standard version %d rolled back as %d", version, stored.version)
        return stored

    def versions(self, name: str | None = None) -> list[StandardVersion]:
        """Return the stored versions (of ``name``, or all), newest first."""
        sql = (
            "SELECT name, version, status, author, note, created_at FROM standards "
            "WHERE ? IS NULL OR name = ? ORDER BY created_at DESC, name, version DESC"
        )
        return [StandardVersion(*row) for row in self._rows(sql, [name, name])]

    def load_version(self, name: str, version: int) -> Standard:
        """Return a stored version exactly as it was published.

        Raises:
            StoreError: no such version.
        """
        rows = self._rows(
            "SELECT CAST(body AS VARCHAR) FROM standards WHERE name = ? AND version = ?",
            [name, version],
        )
        if not rows:
            raise StoreError("store.error.no_version", name=name, version=version)
        return Standard.from_dict(json.loads(rows[0][0]))

    def published_standard(self, name: str | None = None) -> Standard | None:
        """Return the latest published version (of ``name``, or of any), or None."""
        rows = self._rows(
            "SELECT name, version FROM standards WHERE status = 'published' "
            "AND (? IS NULL OR name = ?) ORDER BY created_at DESC, version DESC LIMIT 1",
            [name, name],
        )
        return self.load_version(*rows[0]) if rows else None

    # --- overrides --------------------------------------------------------

    def set_override(self, client_id: str, tier: str, reason: str, who: str) -> int:
        """Put ``client_id`` in ``tier`` by hand; replaces its active override.

        Raises:
            StoreError: the client id, tier or reason is empty.
        """
        client_id, tier, reason = client_id.strip(), tier.strip(), reason.strip()
        if not (client_id and tier and reason):
            raise StoreError("store.error.override_incomplete")
        with self._transaction() as con:
            self._end_override(con, client_id, who)
            ((override_id,),) = con.execute(
                "INSERT INTO overrides VALUES (nextval('override_ids'), ?, ?, ?, ?, ?, "
                "NULL, NULL) RETURNING id",
                [client_id, tier, reason, who, _now()],
            ).fetchall()
            details = {"client_id": client_id, "tier": tier, "reason": reason}
            self._audit(con, "override", who, details)
        return int(override_id)

    def remove_override(self, client_id: str, who: str) -> bool:
        """End the active override of ``client_id``; False if it had none."""
        with self._transaction() as con:
            removed = self._end_override(con, client_id.strip(), who)
            if removed:
                details = {"client_id": client_id.strip(), "removed": True}
                self._audit(con, "override", who, details)
        return removed

    def _end_override(
        self, con: duckdb.DuckDBPyConnection, client_id: str, who: str
    ) -> bool:
        rows = con.execute(
            "UPDATE overrides SET removed_by = ?, removed_at = ? "
            "WHERE client_id = ? AND removed_at IS NULL RETURNING id",
            [who, _now(), client_id],
        ).fetchall()
        return bool(rows)

    def overrides(self, active_only: bool = True) -> pd.DataFrame:
        """Return overrides: id, client_id, tier, reason, set_by, set_at, removed…"""
        where = "WHERE removed_at IS NULL" if active_only else ""
        return self._query(f"SELECT * FROM overrides {where} ORDER BY id")

    # --- snapshots --------------------------------------------------------

    def write_snapshot(
        self,
        info: SnapshotInfo,
        results: pa.RecordBatchReader,
        dimensions: pa.RecordBatchReader,
        progress: Callable[[int], None] | None = None,
    ) -> SnapshotInfo:
        """Store a snapshot and its per-client rows in one transaction.

        Args:
            info: the snapshot's facts; its ``id`` is ignored and assigned.
            results: rows in the column order of ``snapshot_results`` without
                ``snapshot_id``.
            dimensions: rows of (client_id, dimension, score).
            progress: called with the rows written so far, after each batch.

        Returns:
            ``info`` with its new id.
        """
        with self._transaction() as con:
            ((snapshot_id,),) = con.execute("SELECT nextval('snapshot_ids')").fetchall()
            con.execute(
                "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    snapshot_id, info.dataset_id, info.standard_name,
                    info.standard_version, info.as_of, info.taken_by,
                    info.taken_at, info.clients,
                ],
            )
            self._insert_batches(con, "snapshot_results", snapshot_id, results, progress)
            self._insert_batches(con, "snapshot_dimension_scores", snapshot_id, dimensions)
            details = {
                "snapshot": snapshot_id, "dataset": info.dataset_id,
                "standard": info.standard_name, "version": info.standard_version,
                "as_of": info.as_of, "clients": info.clients,
            }
            self._audit(con, "snapshot", info.taken_by, details)
        logger.info("snapshot %d stored with %d clients", snapshot_id, info.clients)
        return replace(info, id=int(snapshot_id))

    def _insert_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        snapshot_id: int,
        reader: pa.RecordBatchReader,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        written = 0
        for batch in reader:
            con.register("incoming_batch", pa.Table.from_batches([batch]))
            try:
                con.execute(
                    f"INSERT INTO {quote_identifier(table)} "
                    "SELECT ?, * FROM incoming_batch",
                    [snapshot_id],
                )
            finally:
                con.unregister("incoming_batch")
            written += batch.num_rows
            if progress is not None:
                progress(written)

    def snapshots(self) -> list[SnapshotInfo]:
        """Return every snapshot, latest as-of date first."""
        rows = self._rows(
            "SELECT id, dataset_id, standard_name, standard_version, as_of, "
            "taken_by, taken_at, clients FROM snapshots ORDER BY as_of DESC, id DESC"
        )
        return [SnapshotInfo(*row) for row in rows]

    def snapshot(self, snapshot_id: int) -> SnapshotInfo:
        """Return one snapshot's facts.

        Raises:
            StoreError: no such snapshot.
        """
        rows = self._rows(
            "SELECT id, dataset_id, standard_name, standard_version, as_of, "
            "taken_by, taken_at, clients FROM snapshots WHERE id = ?",
            [snapshot_id],
        )
        if not rows:
            raise StoreError("store.error.no_snapshot", snapshot=snapshot_id)
        return SnapshotInfo(*rows[0])

    def previous_snapshot(self, as_of: dt.date) -> SnapshotInfo | None:
        """Return the latest snapshot as of ``as_of`` or earlier, or None."""
        rows = self._rows(
            "SELECT id FROM snapshots WHERE as_of <= ? ORDER BY as_of DESC, id DESC "
            "LIMIT 1",
            [as_of],
        )
        return self.snapshot(rows[0][0]) if rows else None

    def snapshot_results(self, snapshot_id: int) -> pa.Table:
        """Return a snapshot's per-client rows as an Arrow table."""
        with self._lock:
            return self._con.sql(
                "SELECT * EXCLUDE (snapshot_id) FROM snapshot_results "
                "WHERE snapshot_id = ? ORDER BY client_id",
                params=[snapshot_id],
            ).to_arrow_table()

    def snapshot_dimensions(self, snapshot_id: int) -> pa.Table:
        """Return a snapshot's dimension scores: client_id, dimension, score."""
        with self._lock:
            return self._con.sql(
                "SELECT client_id, dimension, score FROM snapshot_dimension_scores "
                "WHERE snapshot_id = ?",
                params=[snapshot_id],
            ).to_arrow_table()


def open_store(path: str | Path | None = None) -> Store:
    """Open the database at ``path`` (default: ``config.database_path()``).

    Raises:
        StoreError: the file cannot be opened.
    """
    from tiering import config

    return Store(path or config.database_path())
