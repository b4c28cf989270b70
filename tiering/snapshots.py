"""Snapshots of a tiering run and how tiers move between two of them.

Taking a snapshot, in a scratch DuckDB connection so no session's tables move:

1. Copy the stored dataset's client rows in and score them with the standard
   (``scoring.score_clients``): metric and dimension scores, composite, tier
   before and after gates.
2. Grace period (保级), when the standard's ``grace_periods`` N is above 0:
   a client whose tier after gates is below the tier it held in the previous
   snapshot (the latest one as of the same date or earlier) is flagged 关注
   and kept in the held tier, until it has been below in N consecutive
   snapshots; at the N-th it moves down. A client back at or above its line
   is no longer flagged and its count starts again. A gate that applied this
   period (a credit rule, say) is a risk decision and takes effect at once,
   without grace. Ranks are compared by position, so a grace across a change
   of the tier list compares the same positions.
3. Active manual overrides replace the tier last, after gates and grace.
4. Each client keeps its previous tier and the date its tier last changed
   (the as-of date of the first snapshot with its current tier).
5. The rows are written to the store in one transaction.

Comparing two snapshots gives the migration matrix of the clients present in
both, the clients who moved up or down, the new and the lost ones, and the
population stability index (PSI) of the composite and of each dimension:
``PSI = Σ (b − a) × ln(b / a)`` over fixed bins, where ``a`` and ``b`` are the
shares of the two snapshots' clients in a bin. The bins are fixed so that two
snapshots are always cut the same way: the composite in ten bins of 10 points
(0–10, …, 90–100, 100 in the last), a dimension score (1–5) in eight bins of
0.5 (1–1.5, …, 4.5–5, 5 in the last). An empty bin's share is taken as
``PSI_EPSILON`` (0.0001) so the logarithm stays finite. Usual reading: below
0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a significant one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb
import pandas as pd
import pyarrow as pa
import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from tiering.errors import ExportError
from tiering.i18n import t, template
from tiering.scoring import score_clients, table_columns
from tiering.standard import Standard
from tiering.store import WRITE_BATCH_ROWS, SnapshotInfo, Store

logger = logging.getLogger(__name__)

PSI_EPSILON = 1e-4
COMPOSITE_BIN_WIDTH = 10.0
COMPOSITE_BINS = 10
DIMENSION_BIN_WIDTH = 0.5
DIMENSION_BINS = 8
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25

_RESULT_COLUMNS = (
    "client_id", "composite", "tier", "tier_rank", "rule_tier_rank",
    "held_tier_rank", "gate", "reason", "watch", "periods_below",
    "override_tier", "previous_tier", "tier_changed_on",
)


@dataclass(frozen=True)
class Comparison:
    """Two snapshots side by side, for the page, the CLI and the workbook."""

    before: SnapshotInfo
    after: SnapshotInfo
    matrix: pd.DataFrame
    upgraded: pd.DataFrame
    downgraded: pd.DataFrame
    new: pd.DataFrame
    lost: pd.DataFrame
    psi: pd.DataFrame
    tier_colors: dict[str, str]


# --- taking a snapshot ---------------------------------------------------------


def take_snapshot(
    store: Store,
    dataset_id: int,
    standard: Standard,
    as_of: dt.date,
    who: str,
    lang: str = "zh",
    progress: Callable[[int], None] | None = None,
) -> SnapshotInfo:
    """Score a stored dataset with ``standard`` as of a date, and keep it.

    Args:
        store: the open store.
        dataset_id: a dataset saved with ``Store.save_dataset``.
        standard: the standard to apply (normally the published one).
        as_of: the date the snapshot stands for.
        who: the user taking it (audited).
        lang: language of the reasons.
        progress: called with the result rows written so far.

    Returns:
        The stored snapshot's facts, its id included.

    Raises:
        StoreError: no such dataset.
        ScoringError: the standard does not fit the data.
    """
    scratch = duckdb.connect()
    try:
        _load_dataset(scratch, store, dataset_id)
        score_clients(scratch, standard, lang)
        # Two snapshots taken at the same moment may read the same previous
        # one; snapshots of a period are taken one at a time in practice.
        previous = store.previous_snapshot(as_of)
        _load_previous(scratch, store, previous)
        _load_overrides(scratch, store)
        _build_rows(scratch, standard, as_of, lang)
        ((count,),) = scratch.execute("SELECT count(*) FROM snapshot_rows").fetchall()
        info = SnapshotInfo(
            0, dataset_id, standard.name, standard.version, as_of, who,
            dt.datetime.now().replace(microsecond=0), int(count),
        )
        dims_sql = _dims_sql(scratch)
        return store.write_snapshot(
            info, _reader(scratch, _results_sql()), _reader(scratch, dims_sql), progress
        )
    finally:
        scratch.close()


def _reader(con: duckdb.DuckDBPyConnection, sql: str) -> pa.RecordBatchReader:
    # A cursor of its own, as an open reader holds its connection until read.
    return con.cursor().sql(sql).to_arrow_reader(batch_size=WRITE_BATCH_ROWS)


def _load_dataset(con: duckdb.DuckDBPyConnection, store: Store, dataset_id: int) -> None:
    con.register("stored_clients", store.dataset_clients(dataset_id))
    con.execute("CREATE TABLE clients AS SELECT * FROM stored_clients")
    con.unregister("stored_clients")


def _load_previous(
    con: duckdb.DuckDBPyConnection, store: Store, previous: SnapshotInfo | None
) -> None:
    if previous is None:
        con.execute(
            "CREATE TABLE prev (client_id VARCHAR, tier VARCHAR, "
            "held_tier_rank INTEGER, periods_below INTEGER, tier_changed_on DATE)"
        )
        return
    con.register("stored_prev", store.snapshot_results(previous.id))
    con.execute(
        "CREATE TABLE prev AS SELECT client_id, tier, held_tier_rank, "
        "periods_below, tier_changed_on FROM stored_prev"
    )
    con.unregister("stored_prev")


def _load_overrides(con: duckdb.DuckDBPyConnection, store: Store) -> None:
    frame = store.overrides()[["client_id", "tier", "reason", "set_by"]]
    con.register("stored_overrides", pa.Table.from_pandas(frame, preserve_index=False))
    con.execute("CREATE TABLE active_overrides AS SELECT * FROM stored_overrides")
    con.unregister("stored_overrides")


def _build_rows(
    con: duckdb.DuckDBPyConnection, standard: Standard, as_of: dt.date, lang: str
) -> None:
    """Write ``snapshot_rows``: scored clients after grace and overrides."""
    con.execute(
        f"""
        CREATE TABLE snapshot_rows AS
        WITH joined AS (
            SELECT s.client_id, s.composite, s.tier_rank AS rule_rank, s.gate,
                   s.reason, p.held_tier_rank AS prev_held,
                   p.periods_below AS prev_below, p.tier AS prev_tier,
                   p.tier_changed_on AS prev_changed
            FROM scored AS s LEFT JOIN prev AS p USING (client_id)
        ),
        below_line AS (
            SELECT *,
                   coalesce($grace > 0 AND prev_held IS NOT NULL
                       AND rule_rank > prev_held AND gate IS NULL, false) AS below
            FROM joined
        ),
        counted AS (
            SELECT *,
                   CASE WHEN below THEN coalesce(prev_below, 0) + 1 ELSE 0 END
                       AS below_count
            FROM below_line
        ),
        graced AS (
            SELECT *, below AND below_count < $grace AS watch,
                   CASE WHEN below AND below_count < $grace THEN prev_held
                        ELSE rule_rank END AS held_rank
            FROM counted
        ),
        overridden AS (
            SELECT g.*, o.tier AS override_tier, o.reason AS override_reason,
                   o.set_by AS override_by,
                   coalesce(list_position($names, o.tier) - 1, g.held_rank)
                       AS final_rank
            FROM graced AS g LEFT JOIN active_overrides AS o
                ON o.client_id = g.client_id AND list_contains($names, o.tier)
        )
        SELECT client_id, composite, $names[final_rank + 1] AS tier,
               final_rank AS tier_rank, rule_rank AS rule_tier_rank,
               held_rank AS held_tier_rank, gate,
               {_reason_sql()} AS reason,
               watch, CASE WHEN watch THEN below_count ELSE 0 END AS periods_below,
               override_tier, prev_tier AS previous_tier,
               CASE WHEN prev_tier IS NOT DISTINCT FROM $names[final_rank + 1]
                        AND prev_changed IS NOT NULL
                    THEN prev_changed ELSE $as_of END AS tier_changed_on
        FROM overridden
        """,
        {
            "grace": standard.grace_periods,
            "names": standard.tier_names(),
            "as_of": as_of,
            "watch": template("manage.reason.watch", lang),
            "downgraded": template("manage.reason.grace_over", lang),
            "override": template("manage.reason.override", lang),
        },
    )


def _reason_sql() -> str:
    """The scoring reason, then the grace and override notes."""
    watch = (
        "CASE WHEN watch THEN format($watch, $names[held_rank + 1], below_count, "
        "$grace) WHEN below THEN format($downgraded, $grace, "
        "$names[rule_rank + 1]) ELSE '' END"
    )
    override = (
        "CASE WHEN override_tier IS NULL THEN '' ELSE format($override, "
        "override_tier, override_reason, override_by) END"
    )
    return f"reason || {watch} || {override}"


def _results_sql() -> str:
    return f"SELECT {', '.join(_RESULT_COLUMNS)} FROM snapshot_rows ORDER BY client_id"


def _dims_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Dimension scores as (client_id, dimension, score) rows."""
    if not any(c.startswith("d_") for c in table_columns(con, "scored")):
        return "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::DOUBLE WHERE false"
    return """
        SELECT client_id, substr(dimension, 3) AS dimension, score
        FROM (UNPIVOT (SELECT client_id, COLUMNS('^d_') FROM scored)
              ON COLUMNS('^d_') INTO NAME dimension VALUE score)
    """


# --- overrides on a session's scored table -----------------------------------


def apply_overrides(
    con: duckdb.DuckDBPyConnection,
    overrides: pd.DataFrame,
    standard: Standard,
    lang: str = "zh",
) -> int:
    """Apply manual overrides to the ``scored`` table of ``con``, after gates.

    The tier, tier rank and reason of each overridden client change; an
    override naming a tier the standard lacks is left out.

    Args:
        con: a connection holding ``scored``.
        overrides: active overrides (client_id, tier, reason, set_by).
        standard: the standard ``scored`` was made with.
        lang: language of the added reason.

    Returns:
        The number of clients whose row was changed.
    """
    if overrides.empty:
        return 0
    frame = overrides[["client_id", "tier", "reason", "set_by"]]
    con.register("session_overrides", pa.Table.from_pandas(frame, preserve_index=False))
    try:
        rows = con.execute(
            """
            UPDATE scored AS s
            SET tier = o.tier,
                tier_rank = list_position($names, o.tier) - 1,
                reason = s.reason || format($override, o.tier, o.reason, o.set_by)
            FROM session_overrides AS o
            WHERE o.client_id = s.client_id AND list_contains($names, o.tier)
              AND s.tier IS NOT NULL
            RETURNING s.client_id
            """,
            {
                "names": standard.tier_names(),
                "override": template("manage.reason.override", lang),
            },
        ).fetchall()
    finally:
        con.unregister("session_overrides")
    logger.info("applied %d overrides", len(rows))
    return len(rows)


# --- comparing two snapshots ----------------------------------------------------


def compare(store: Store, before_id: int, after_id: int, lang: str = "zh") -> Comparison:
    """Compare two snapshots: migration, movers, new and lost clients, drift.

    Args:
        store: the open store.
        before_id: the earlier snapshot.
        after_id: the later snapshot.
        lang: language of labels.

    Returns:
        A ``Comparison``. The matrix rows are the earlier tiers, columns the
        later ones, cells the clients present in both snapshots.

    Raises:
        StoreError: a snapshot does not exist.
    """
    before, after = store.snapshot(before_id), store.snapshot(after_id)
    con = duckdb.connect()
    try:
        for name, info in (("a", before), ("b", after)):
            con.register(f"{name}_rows", store.snapshot_results(info.id))
            con.register(f"{name}_dims", store.snapshot_dimensions(info.id))
        order, colors = _tier_order(store, before, after)
        unscored = t("manage.unscored", lang)
        return Comparison(
            before=before,
            after=after,
            matrix=migration_matrix(con, order, unscored),
            upgraded=movers(con, "<"),
            downgraded=movers(con, ">"),
            new=_only_in(con, "b_rows", "a_rows"),
            lost=_only_in(con, "a_rows", "b_rows"),
            psi=population_stability(con, lang),
            tier_colors=colors,
        )
    finally:
        con.close()


def _tier_order(
    store: Store, before: SnapshotInfo, after: SnapshotInfo
) -> tuple[list[str], dict[str, str]]:
    """Tier names best first (the later standard's, then any others) and colours."""
    order: list[str] = []
    colors: dict[str, str] = {}
    for info in (after, before):
        standard = store.load_version(info.standard_name, info.standard_version)
        for tier in standard.tiers:
            if tier.name not in colors:
                order.append(tier.name)
                colors[tier.name] = tier.color
    return order, colors


def migration_matrix(
    con: duckdb.DuckDBPyConnection, order: list[str], unscored: str
) -> pd.DataFrame:
    """Clients per (earlier tier, later tier) among those in both ``a_rows`` and
    ``b_rows``; tiers in ``order``, unscored clients under ``unscored``."""
    counts = con.execute(
        """
        SELECT coalesce(a.tier, $unscored) AS from_tier,
               coalesce(b.tier, $unscored) AS to_tier, count(*) AS clients
        FROM a_rows AS a JOIN b_rows AS b USING (client_id)
        GROUP BY ALL
        """,
        {"unscored": unscored},
    ).df()
    labels = order + sorted(
        (set(counts["from_tier"]) | set(counts["to_tier"])) - set(order)
    )
    matrix = counts.pivot_table(
        index="from_tier", columns="to_tier", values="clients", aggfunc="sum",
        fill_value=0,
    )
    matrix = matrix.reindex(index=labels, columns=labels, fill_value=0).astype(int)
    matrix.index.name, matrix.columns.name = None, None
    return matrix


def movers(con: duckdb.DuckDBPyConnection, direction: str) -> pd.DataFrame:
    """Clients of ``a_rows``/``b_rows`` who moved up (``<``) or down (``>``)."""
    comparison = "<" if direction == "<" else ">"
    return con.execute(
        f"""
        SELECT client_id, a.tier AS tier_before, b.tier AS tier_after,
               a.composite AS composite_before, b.composite AS composite_after,
               b.previous_tier, b.tier_changed_on, b.watch
        FROM a_rows AS a JOIN b_rows AS b USING (client_id)
        WHERE b.tier_rank {comparison} a.tier_rank
        ORDER BY b.tier_rank, b.composite DESC, client_id
        """
    ).df()


def _only_in(con: duckdb.DuckDBPyConnection, present: str, absent: str) -> pd.DataFrame:
    # Both names are fixed views registered by ``compare``, never user text.
    return con.execute(
        f"""
        SELECT p.client_id, p.tier, p.composite
        FROM {present} AS p ANTI JOIN {absent} AS x USING (client_id)
        ORDER BY p.tier_rank NULLS LAST, p.composite DESC, p.client_id
        """
    ).df()


def population_stability(con: duckdb.DuckDBPyConnection, lang: str = "zh") -> pd.DataFrame:
    """PSI of the composite and each dimension between views a_* and b_*.

    Returns:
        ``measure``, ``psi`` and ``level`` (stable, moderate, significant in
        ``lang``), the composite first.
    """
    composite_bin = f"least(floor(value / {COMPOSITE_BIN_WIDTH}), {COMPOSITE_BINS - 1})"
    dimension_bin = (
        f"least(floor((value - 1) / {DIMENSION_BIN_WIDTH}), {DIMENSION_BINS - 1})"
    )
    frame = con.execute(
        f"""
        WITH values_ AS (
            SELECT 'a' AS side, '' AS measure, composite AS value FROM a_rows
            UNION ALL SELECT 'b', '', composite FROM b_rows
            UNION ALL SELECT 'a', dimension, score FROM a_dims
            UNION ALL SELECT 'b', dimension, score FROM b_dims
        ),
        binned AS (
            SELECT side, measure, CASE WHEN measure = '' THEN {composite_bin}
                   ELSE {dimension_bin} END AS bin
            FROM values_ WHERE value IS NOT NULL
        ),
        shares AS (
            SELECT measure, bin,
                   count(*) FILTER (side = 'a') / sum(count(*) FILTER (side = 'a'))
                       OVER (PARTITION BY measure) AS share_a,
                   count(*) FILTER (side = 'b') / sum(count(*) FILTER (side = 'b'))
                       OVER (PARTITION BY measure) AS share_b
            FROM binned GROUP BY measure, bin
        ),
        floored AS (
            SELECT measure, greatest(coalesce(share_a, 0), $eps) AS a,
                   greatest(coalesce(share_b, 0), $eps) AS b
            FROM shares
        )
        SELECT measure, round(sum((b - a) * ln(b / a)), 4) AS psi
        FROM floored GROUP BY measure ORDER BY measure <> '', measure
        """,
        {"eps": PSI_EPSILON},
    ).df()
    frame["measure"] = frame["measure"].replace("", t("manage.psi.composite", lang))
    frame["level"] = [t(f"manage.psi.{psi_level(value)}", lang) for value in frame["psi"]]
    return frame


def psi_level(value: float) -> str:
    """Return ``stable``, ``moderate`` or ``significant`` for a PSI value."""
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value < PSI_SIGNIFICANT else "significant"


# --- the comparison workbook ----------------------------------------------------

_LIST_SHEETS = ("upgraded", "downgraded", "new", "lost")


def write_comparison(target: str | Path | IO[bytes], comparison: Comparison, lang: str = "zh") -> None:
    """Write a comparison as an .xlsx workbook.

    Sheets: the summary (both snapshots and the migration matrix), the score
    drift (PSI), then the upgraded, downgraded, new and lost clients. Client
    ids are written as text, so leading zeros stay and nothing becomes a
    formula.

    Args:
        target: a file path or a binary file object.
        comparison: the result of ``compare``.
        lang: language of sheet names and headers.

    Raises:
        ExportError: the file cannot be written.
    """
    workbook = xlsxwriter.Workbook(target, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    try:
        _write_summary_sheet(workbook, bold, comparison, lang)
        _write_frame(workbook, bold, t("manage.sheet.psi", lang), comparison.psi, lang)
        for name in _LIST_SHEETS:
            frame = getattr(comparison, name)
            _write_frame(workbook, bold, t(f"manage.sheet.{name}", lang), frame, lang)
        workbook.close()
    except (OSError, XlsxWriterException) as error:
        logger.exception("comparison workbook could not be written")
        name = Path(target).name if isinstance(target, (str, Path)) else ""
        raise ExportError("export.error.write", file=name) from error
    logger.info("comparison workbook written")


def _write_summary_sheet(workbook: Any, bold: Any, comparison: Comparison, lang: str) -> None:
    sheet = workbook.add_worksheet(t("manage.sheet.summary", lang))
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 12, 14)
    for row, (label, info) in enumerate(
        ((t("manage.compare.before", lang), comparison.before),
         (t("manage.compare.after", lang), comparison.after))
    ):
        sheet.write_string(row, 0, label, bold)
        sheet.write_string(row, 1, describe_snapshot(info, lang))
    top = 3
    sheet.write_string(top, 0, t("manage.compare.matrix_corner", lang), bold)
    for col, tier in enumerate(comparison.matrix.columns, start=1):
        sheet.write_string(top, col, str(tier), bold)
    for row, (tier, counts) in enumerate(comparison.matrix.iterrows(), start=top + 1):
        sheet.write_string(row, 0, str(tier), bold)
        for col, value in enumerate(counts, start=1):
            sheet.write_number(row, col, int(value))


def _write_frame(workbook: Any, bold: Any, name: str, frame: pd.DataFrame, lang: str) -> None:
    sheet = workbook.add_worksheet(name[:31])
    sheet.set_column(0, len(frame.columns), 16)
    for col, column in enumerate(frame.columns):
        sheet.write_string(0, col, t(f"manage.col.{column}", lang), bold)
    for row, values in enumerate(frame.itertuples(index=False), start=1):
        for col, value in enumerate(values):
            _write_cell(sheet, row, col, value)


def _write_cell(sheet: Any, row: int, col: int, value: Any) -> None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return
    if isinstance(value, (bool,)):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value)
    elif isinstance(value, (dt.date, dt.datetime)):
        sheet.write_string(row, col, value.isoformat()[:10])
    else:
        sheet.write_string(row, col, str(value))


def describe_snapshot(info: SnapshotInfo, lang: str = "zh") -> str:
    """One line naming a snapshot: id, as-of date, standard version, who."""
    return t(
        "manage.snapshot.line", lang, id=info.id, as_of=info.as_of.isoformat(),
        name=info.standard_name, version=info.standard_version,
        who=info.taken_by, clients=info.clients,
    )
