"""Load a table of text into DuckDB as typed, one-row-per-client data.

The steps, all in DuckDB SQL so a million rows load in seconds:

1. Copy the file's rows into ``source`` (``_row`` and every column as text).
2. Stage each mapped field in a view: ids and text trimmed, numbers parsed
   from what people type (1,200.50 / ¥3,000 / 1.2万 / (500) / full-width
   digits, with the column's unit applied), dates from ISO text, 2024/3/5,
   20240305, 2024年3月5日, day-first text decided per column, Excel serial
   numbers and times with zone offsets (converted to Beijing time).
   A comma counts only between groups of three digits and a line break
   inside a value makes it no number (1,5 and 3⏎4 are reported, never read
   as 15 or 34). Placeholders such as ``-``, ``暂无`` or ``#N/A`` are
   missing values, never zero. Values a plain cast reads (1200.5,
   2024-03-05) and text with nothing to trim are taken as they are; only the
   rest goes through the parsing macros, once. A clean file is checked in
   one pass and typed as ``clients`` is written.
3. List every value that could not be read (flagged, kept as NULL), every
   value that was reinterpreted (coerced), every row without a client id
   (rejected) and every duplicate id dropped (excluded).
4. For a transaction table, roll the rows up per client (last date, count,
   sum); with a client table too, join the rollup on the client id.
5. Write ``clients`` with typed columns and the recency days against the
   as-of date (default: the latest date that recency is counted from, a
   purchase or an interaction date alike, that is not after today; so no
   date up to today counts 0 days). Dates after an as-of date given, or
   after today when none is given, are flagged in step 3 (recency 0); the
   first ``DATE_FLAG_LIMIT`` per column and reason are listed, the rest
   counted on one line.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import pandas as pd
import pyarrow as pa

from tiering.errors import InputFileError, MappingError
from tiering.fields import DERIVED_RECENCY, FIELD_BY_KEY, FIELDS
from tiering.i18n import t
from tiering.ingest import ROW_COLUMN, RawTable
from tiering.mapping import Mapping, unmapped_columns, validate_mapping
from tiering.sql import quote_identifier

logger = logging.getLogger(__name__)

Duplicates = Literal["latest", "first", "stop"]
Shape = Literal["auto", "clients", "transactions"]
IssueStatus = Literal["excluded", "rejected", "flagged", "coerced"]

ISSUE_COLUMNS = ["row", "column", "value", "status", "reason_key", "detail", "file"]
ROLLUP_FIELDS = ("last_purchase_date", "purchase_count", "amount")
# Converted values listed one by one per column; the rest are counted.
COERCED_LIMIT = 1_000
# Unreadable values (not a number, not a date) listed one by one per
# column; the rest are counted. Each reads as missing, so a column typed
# wrongly throughout would otherwise be a report line per row.
UNREADABLE_LIMIT = 1_000
# Dates after today or the as-of date listed one by one per column and
# reason; the rest are counted. An as-of date chosen years back flags nearly
# every row, and a line each made the report slow to build and to read.
DATE_FLAG_LIMIT = 1_000
# A table whose ids repeat this much is read as one row per purchase.
TRANSACTION_DISTINCT_SHARE = 0.8
# Values that load but cannot be right, flagged for checking (still scored):
# field → (lowest, highest) allowed, None for no bound. Satisfaction scales
# differ (1-5, 1-10), so only what no scale allows is flagged.
VALID_RANGES: dict[str, tuple[float | None, float | None]] = {
    **{
        key: (0.0, None)
        for key in (
            "purchase_count",
            "overdue_count",
            "interactions",
            "referrals",
            "decision_cycle_days",
            "amount",
            "assets",
            "income",
            "debt",
        )
    },
    "debt_ratio": (0.0, 1.0),
    "satisfaction": (0.0, 10.0),
}
_UNIT_WORDS = {1e3: "千元", 1e4: "万元", 1e8: "亿元"}
_LATEST_WORDS = re.compile(r"最近|最后|最新|末次|last|latest|recent", re.IGNORECASE)

PLACEHOLDERS = (
    "-",
    "--",
    "---",
    "—",
    "——",
    "–",
    "/",
    "\\",
    "N/A",
    "NA",
    "#N/A",
    "NULL",
    "NONE",
    "NAN",
    "暂无",
    "无",
    "空",
    "不详",
    "未知",
    "?",
    "？",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "NIL",
)

_YMD = (
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?(?:\.\d+)?\s*秒?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DMY = (
    r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"
    r"(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DMY_HEAD = r"^(\d{1,2})[-/.](\d{1,2})[-/.]\d{4}"
# A comma groups thousands only as 1,200 or 12,345,678.50: 1,5 or 12,34 is
# a typo or a decimal comma, kept so the cast fails and it is reported.
_GROUPED = r"[^0-9,.]*[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?[^0-9,.]*"
# Field kinds typed from text; every other kind stays text, trimmed.
_TYPED = ("number", "date")
_PARTS = "['a', 'b', 'c', 'h', 'mi', 's', 'tz']"


def _sql_text(value: str) -> str:
    """A constant of this module as a SQL string literal (never user text)."""
    return "'" + value.replace("'", "''") + "'"


_MACROS = f"""
CREATE OR REPLACE TEMP MACRO tiering_text(v) AS nullif(trim(CASE
    WHEN strlen(v) = length(v) THEN v
    ELSE translate(v, '０１２３４５６７８９．，－＋（）％：／　', '0123456789.,-+()%:/ ')
    END, ' ' || chr(9) || chr(10) || chr(13)), '');
CREATE OR REPLACE TEMP MACRO tiering_placeholder(s) AS
    upper(s) IN ({", ".join(_sql_text(p) for p in PLACEHOLDERS)});
CREATE OR REPLACE TEMP MACRO tiering_ungrouped(s) AS CASE
    WHEN NOT contains(s, ',') THEN s
    WHEN regexp_full_match(s, {_sql_text(_GROUPED)}) THEN replace(s, ',', '')
    ELSE s END;
CREATE OR REPLACE TEMP MACRO tiering_signed(s) AS regexp_replace(
    tiering_ungrouped(regexp_replace(s, '[ \\t¥￥$]|RMB|CNY|人民币|元', '', 'gi')),
    '^\\((.*)\\)$', '-\\1');
CREATE OR REPLACE TEMP MACRO tiering_scale(s) AS CASE
    WHEN suffix(s, '亿') THEN 1e8 WHEN suffix(s, '万') THEN 1e4
    WHEN suffix(s, '%') THEN 0.01 ELSE 1 END;
CREATE OR REPLACE TEMP MACRO tiering_finite(x) AS CASE WHEN isfinite(x) THEN x END;
CREATE OR REPLACE TEMP MACRO tiering_number(v) AS CASE
    WHEN try_cast(v AS DOUBLE) IS NOT NULL THEN tiering_finite(try_cast(v AS DOUBLE))
    WHEN tiering_text(v) IS NULL OR tiering_placeholder(tiering_text(v)) THEN NULL
    ELSE tiering_finite(try_cast(regexp_replace(tiering_signed(tiering_text(v)),
        '[万亿%]$', '') AS DOUBLE) * tiering_scale(tiering_signed(tiering_text(v))))
    END;
CREATE OR REPLACE TEMP MACRO tiering_tz_minutes(tz) AS CASE
    WHEN tz IS NULL OR tz = '' THEN NULL WHEN tz = 'Z' THEN 0
    ELSE (CASE WHEN left(tz, 1) = '-' THEN -1 ELSE 1 END)
        * (CAST(substr(tz, 2, 2) AS INTEGER) * 60 + CAST(right(tz, 2) AS INTEGER))
    END;
CREATE OR REPLACE TEMP MACRO tiering_make_date(y, mo, d, h, mi, s, tz) AS CAST(
    try_cast(y || '-' || lpad(mo, 2, '0') || '-' || lpad(d, 2, '0') || ' '
        || lpad(coalesce(nullif(h, ''), '0'), 2, '0') || ':'
        || lpad(coalesce(nullif(mi, ''), '0'), 2, '0') || ':'
        || lpad(coalesce(nullif(s, ''), '0'), 2, '0') AS TIMESTAMP)
    + to_minutes(coalesce(480 - tiering_tz_minutes(tz), 0)) AS DATE);
CREATE OR REPLACE TEMP MACRO tiering_ymd(p) AS
    tiering_make_date(p.a, p.b, p.c, p.h, p.mi, p.s, p.tz);
CREATE OR REPLACE TEMP MACRO tiering_dmy(p, day_first) AS CASE WHEN day_first
    THEN tiering_make_date(p.c, p.b, p.a, p.h, p.mi, p.s, p.tz)
    ELSE tiering_make_date(p.c, p.a, p.b, p.h, p.mi, p.s, p.tz) END;
CREATE OR REPLACE TEMP MACRO tiering_date(v, day_first) AS CASE
    WHEN regexp_full_match(v, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN try_cast(v AS DATE)
    WHEN tiering_text(v) IS NULL OR tiering_placeholder(tiering_text(v)) THEN NULL
    WHEN regexp_full_match(tiering_text(v), '\\d{{8}}')
        THEN CAST(try_strptime(tiering_text(v), '%Y%m%d') AS DATE)
    WHEN regexp_full_match(tiering_text(v), '\\d{{5}}(\\.\\d+)?')
        THEN DATE '1899-12-30'
            + CAST(floor(CAST(tiering_text(v) AS DOUBLE)) AS INTEGER)
    WHEN regexp_matches(tiering_text(v), {_sql_text(_YMD)})
        THEN tiering_ymd(regexp_extract(tiering_text(v), {_sql_text(_YMD)}, {_PARTS}))
    WHEN regexp_matches(tiering_text(v), {_sql_text(_DMY)})
        THEN tiering_dmy(regexp_extract(tiering_text(v), {_sql_text(_DMY)}, {_PARTS}),
            day_first)
    END;
"""


@dataclass(frozen=True, eq=False)
class PreparedData:
    """What a load did: row accounting, issues, as-of date, shape, mapping.

    ``rows_in_file == rows_loaded + rows_excluded + rows_rejected`` always
    holds, counted on the client table (on the transaction table when it is
    the only input). With both tables, the ``transaction_rows_*`` counts do
    the same for the transaction table (its rows for clients not in the
    client table are excluded); they are 0 otherwise. ``issues`` has the
    columns row, column, value, status (excluded, rejected, flagged,
    coerced), reason_key, detail and file (``clients`` or ``transactions``).
    """

    rows_in_file: int
    rows_loaded: int
    rows_excluded: int
    rows_rejected: int
    issues: pd.DataFrame
    as_of: dt.date
    kind: Literal["clients", "transactions", "both"]
    mapping: Mapping
    unmapped_columns: list[str] = field(default_factory=list)
    transaction_mapping: Mapping | None = None
    clients: int = 0
    transaction_rows_in_file: int = 0
    transaction_rows_loaded: int = 0
    transaction_rows_excluded: int = 0
    transaction_rows_rejected: int = 0


@dataclass
class _Staged:
    """A table staged in DuckDB, with its issues and row counts."""

    table: str
    mapping: Mapping
    issues: list[pd.DataFrame]
    rows_in_file: int
    rejected: int
    skipped: int
    ids: int
    distinct_ids: int
    # The latest recency date (purchase or interaction) not after today.
    latest_date: dt.date | None
    # The view reads ``source`` alone (nothing joined), in ``_row`` order.
    in_row_order: bool


# --- public API -------------------------------------------------------------------


def load_clients(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable | None,
    mapping: Mapping | None,
    transactions: RawTable | None = None,
    transaction_mapping: Mapping | None = None,
    as_of: dt.date | None = None,
    duplicates: Duplicates = "latest",
    shape: Shape = "auto",
    progress: Callable[[str, int, int], None] | None = None,
    today: dt.date | None = None,
) -> PreparedData:
    """Create the DuckDB tables ``source`` and ``clients`` from read tables.

    Args:
        con: the dataset's DuckDB connection; ``source`` and ``clients`` are
            replaced.
        raw: the client table, or a transaction table (see ``shape``); None
            when only ``transactions`` is given.
        mapping: the columns of ``raw``.
        transactions: a transaction table to roll up and join on client id.
        transaction_mapping: the columns of ``transactions``.
        as_of: the date recency is counted to; default the latest date
            recency is counted from (last purchase or last interaction) of
            the loaded clients that is not after ``today``, else ``today``.
            Given, the dates after it are flagged (their recency counts 0)
            and the dates after today up to it count as any other.
        duplicates: which row of a repeated client id is kept: ``latest``
            (latest purchase date, then last row), ``first``, or ``stop``.
        shape: ``auto`` reads ``raw`` as transactions when its ids repeat a
            lot and it has a date or amount; ``clients``/``transactions``
            decide explicitly.
        progress: called with ("load", rows done, rows in file) once loaded.
        today: dates after it do not set the default ``as_of`` and are
            flagged unless a later ``as_of`` is given; default the machine's
            date.

    Returns:
        The row accounting (of each table), the issues and the as-of date
        used.

    Raises:
        InputFileError: the table has a header but no data rows.
        MappingError: no client id column (and row ids not chosen), a mapped
            column missing, duplicate ids with ``duplicates="stop"``, or a
            transaction table without a date or amount.
    """
    con.execute("SET enable_progress_bar = false")
    if raw is None:
        if transactions is None or transaction_mapping is None:
            raise MappingError("error.mapping.no_table")
        raw, mapping, transactions, transaction_mapping = (
            transactions,
            transaction_mapping,
            None,
            None,
        )
        shape = "transactions"
    if mapping is None:
        raise MappingError("error.mapping.no_table")
    if len(raw.frame) == 0 and not raw.skipped:
        # A header with nothing under it: refuse rather than replace the
        # user's current data with an empty table.
        raise InputFileError("error.file.no_data", file=raw.source_name)

    today = today or dt.date.today()
    _check_ids(raw, mapping)
    staged = _stage(con, raw, mapping, "clients", today, as_of)
    is_transactions = shape == "transactions" or (
        shape == "auto" and transactions is None and _looks_like_transactions(staged)
    )

    if is_transactions:
        prepared = _load_transactions(con, staged, as_of, today)
    else:
        rollup = None
        if transactions is not None and transaction_mapping is not None:
            _check_ids(transactions, transaction_mapping)
            rollup = _stage(
                con, transactions, transaction_mapping, "transactions", today, as_of
            )
        prepared = _load_client_table(con, staged, rollup, as_of, duplicates, today)

    _drop_staging(con)
    if progress:
        progress("load", prepared.rows_in_file, prepared.rows_in_file)
    logger.info(
        "loaded %d clients from %d rows (%d excluded, %d rejected)",
        prepared.rows_loaded,
        prepared.rows_in_file,
        prepared.rows_excluded,
        prepared.rows_rejected,
    )
    if prepared.kind == "both":
        logger.info(
            "used %d of %d transaction rows (%d excluded, %d rejected)",
            prepared.transaction_rows_loaded,
            prepared.transaction_rows_in_file,
            prepared.transaction_rows_excluded,
            prepared.transaction_rows_rejected,
        )
    return PreparedData(
        **{**prepared.__dict__, "unmapped_columns": unmapped_columns(raw, mapping)}
    )


def looks_like_transactions(raw: RawTable, mapping: Mapping) -> bool:
    """Guess whether a table has one row per purchase rather than per client.

    True when the client ids repeat (fewer than 80 % distinct), a purchase
    date or amount is mapped, no purchase count is, and the date's header
    does not say it is the latest one (最近购买日期).
    """
    con = duckdb.connect(":memory:")
    try:
        staged = _stage(con, raw, mapping, "clients")
        return _looks_like_transactions(staged)
    finally:
        con.close()


def parse_numbers(
    con: duckdb.DuckDBPyConnection, values: list[str | None]
) -> list[float | None]:
    """Parse amounts as ``load_clients`` does (for previews and tests).

    Args:
        con: any DuckDB connection (temporary macros are added to it).
        values: cell texts such as ``1,200``, ``¥3,000``, ``1.2万``, ``(500)``.

    Returns:
        The numbers in natural units, None where a value is missing or unreadable.
    """
    return _parse_list(con, values, "tiering_number(value)")


def parse_dates(
    con: duckdb.DuckDBPyConnection, values: list[str | None], day_first: bool = True
) -> list[dt.date | None]:
    """Parse dates as ``load_clients`` does (for previews and tests).

    Args:
        con: any DuckDB connection (temporary macros are added to it).
        values: cell texts such as ``2024/3/5``, ``20240305``, ``45356``.
        day_first: how to read 05-03-2024 (``load_clients`` decides per column).

    Returns:
        The dates, None where a value is missing or unreadable.
    """
    return _parse_list(con, values, "tiering_date(value, ?)", [day_first])


def _parse_list(
    con: duckdb.DuckDBPyConnection,
    values: list[str | None],
    expr: str,
    params: list[object] | None = None,
) -> list:
    _install_macros(con)
    rows = con.execute(
        f"SELECT {expr} FROM (SELECT unnest(?::VARCHAR[]) AS value, "
        f"generate_subscripts(?::VARCHAR[], 1) AS position) ORDER BY position",
        (params or []) + [list(values), list(values)],
    ).fetchall()
    return [row[0] for row in rows]


def describe_issues(issues: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Return the issues with localized column names, status and reasons.

    Args:
        issues: ``PreparedData.issues``.
        lang: ``zh`` or ``en``.

    Returns:
        A frame with the row, column, value, status and a reason sentence;
        first a table column (客户表 / 交易表) when some issue is on the
        transaction table joined to a client table, as a row number alone
        would not say which file it counts in. A table loaded alone (its
        issues are marked ``clients``, even a transaction table's) gets
        none.
    """
    frame = issues.reindex(columns=ISSUE_COLUMNS)
    keys = frame[["reason_key", "row", "column", "value", "detail"]].drop_duplicates()
    keys["reason"] = [
        t(str(key), lang, row=row, column=column, value=value, detail=detail)
        for key, row, column, value, detail in keys.itertuples(index=False, name=None)
    ]
    described = frame.merge(
        keys, on=["reason_key", "row", "column", "value", "detail"], how="left"
    )
    described["status"] = [
        t(f"ingest.status.{status}", lang) for status in described["status"]
    ]
    names = ["row", "column", "value", "status", "reason"]
    # Two tables with issues on the client table only get no table column
    # either: the issues alone do not show that a second table was loaded,
    # and the workbook's issues sheet is built from them alone.
    if (frame["file"] == "transactions").any():
        described["file"] = [t(f"ingest.file.{file}", lang) for file in frame["file"]]
        names.insert(0, "file")
    described = described[names]
    described.columns = [t(f"ingest.issues.{name}", lang) for name in described.columns]
    return described


# --- staging --------------------------------------------------------------------


def _install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the parsing macros on ``con`` unless they are there already.

    A connection variable marks them: asking ``duckdb_functions()`` lists
    every function and takes longer than the load of a small file. Results
    are read with ``fetchall`` throughout: DuckDB 2 refuses to register a
    data frame while a result is only partly fetched.
    """
    present = con.execute("SELECT getvariable('tiering_macros')").fetchall()[0][0]
    if not present:
        con.execute(_MACROS)
        con.execute("SET VARIABLE tiering_macros = true")


def _check_ids(raw: RawTable, mapping: Mapping) -> None:
    validate_mapping(mapping, raw)
    if "client_id" not in mapping.columns and not mapping.row_ids:
        raise MappingError("error.mapping.no_client_id", file=raw.source_name)
    column = mapping.columns.get("client_id")
    if column in raw.formula_columns and raw.frame[column].isna().all():
        raise MappingError(
            "error.mapping.id_formulas",
            file=raw.source_name,
            sheet=raw.sheet,
            column=column,
        )


def _stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    mapping: Mapping,
    name: str,
    today: dt.date | None = None,
    as_of: dt.date | None = None,
) -> _Staged:
    """Copy ``raw`` to DuckDB and stage its mapped fields as a typed view.

    One pass finds the fields whose values do not all read plainly (a cast
    for numbers and dates, the text as it is otherwise). The view reads the
    rest plainly as it is queried; texts and the few numbers and dates that
    need the macros are parsed once, into ``_tiering_<name>_parsed``, and
    joined in. Nothing but ``source`` is written at full size here.
    Dates after ``today`` (default the machine's date) do not count for the
    latest recency date. The dates after an explicit ``as_of`` are flagged,
    else the dates after ``today``.
    """
    today = today or dt.date.today()
    # The client file's text is `source` itself (no second copy of a large
    # table); a transaction file's text is staged beside it.
    text_table = "source" if name == "clients" else f"_tiering_{name}_text"
    staged_view = f"_tiering_{name}_staged"
    _copy_text(con, raw, text_table)

    untidy = _untidy_fields(con, text_table, mapping)
    parsed_keys = [key for key in untidy if FIELD_BY_KEY[key].kind in _TYPED]
    undecided = {}
    if parsed_keys:
        undecided = _parse_values(con, text_table, mapping, parsed_keys, name)
    select, units = _staging_select(mapping, text_table, untidy, name)
    for variable, unit in units.items():
        con.execute(f"SET VARIABLE {variable} = ?", [unit])
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staged_view} AS {select}")
    dates = {"today": today, **({"as_of": as_of} if as_of is not None else {})}
    checks = _range_checks(mapping, as_of is not None)
    missing, ids, distinct_ids, latest_date, out_of_place = _count_ids(
        con, staged_view, mapping, dates, checks
    )

    issues = [
        _skipped_issues(raw, name),
        _formula_issues(raw, name),
        _note_issues(raw, name),
    ]
    if parsed_keys:
        issues += _value_issues(con, mapping, parsed_keys, name)
    issues.append(_undecided_date_issues(mapping, undecided, name))
    if out_of_place:
        issues.append(_range_issues(con, staged_view, mapping, name, dates, checks))
    issues += _imprecise_id_issues(raw, mapping, name)
    rejected = _missing_id_issues(con, staged_view, mapping, name, missing)
    issues.append(rejected)
    return _Staged(
        staged_view,
        mapping,
        issues,
        raw.data_rows,
        len(rejected),
        len(raw.skipped),
        ids,
        distinct_ids,
        latest_date,
        not parsed_keys and raw.frame[ROW_COLUMN].is_monotonic_increasing,
    )


def _count_ids(
    con: duckdb.DuckDBPyConnection,
    view: str,
    mapping: Mapping,
    dates: dict[str, dt.date],
    checks: dict[str, str],
) -> tuple[int, int, int, dt.date | None, int]:
    """Rows without an id, ids, distinct ids, the latest recency date not
    after today (``_latest_recency``) and the rows with a value out of
    place (``checks``), of the rows with an id, in one pass. ``dates``
    binds ``$today`` (and ``$as_of`` when given)."""
    latest = _latest_recency(list(mapping.columns), "client_id IS NOT NULL AND ")
    out_of_place = (
        f"count(*) FILTER (WHERE client_id IS NOT NULL "
        f"AND ({' OR '.join(checks.values())}))"
        if checks
        else "0"
    )
    sql = (
        f"SELECT count(*) - count(client_id), count(client_id), "
        f"count(DISTINCT client_id), {latest}, {out_of_place} FROM {view}"
    )
    return con.execute(sql, _dates_in(sql, dates)).fetchall()[0]


def _latest_recency(keys: list[str], condition: str = "") -> str:
    """SQL of the latest date that recency is counted from, not after
    ``$today``: the latest of every recency date field (``DERIVED_RECENCY``)
    among ``keys``, NULL when none has one. ``condition`` (SQL ending in
    ``AND``) narrows the rows.

    Every such date counts to the as-of date: an as-of date set by the
    purchase dates alone would count a later interaction date 0 days.
    """
    latest = [
        f"max({name}) FILTER (WHERE {condition}{name} <= $today)"
        for name in (
            quote_identifier(key) for key in DERIVED_RECENCY.values() if key in keys
        )
    ]
    if not latest:
        return "CAST(NULL AS DATE)"
    return latest[0] if len(latest) == 1 else f"greatest({', '.join(latest)})"


def _dates_in(sql: str, dates: dict[str, dt.date]) -> dict[str, dt.date] | None:
    """The parameters of ``dates`` that ``sql`` names (DuckDB refuses others)."""
    return {name: day for name, day in dates.items() if f"${name}" in sql} or None


def _copy_text(con: duckdb.DuckDBPyConnection, raw: RawTable, table: str) -> None:
    """Create ``table`` with ``_row`` and every source column as VARCHAR."""
    view = "_tiering_frame_view"
    temp = "" if table == "source" else "TEMP "
    # An Arrow table of the frame shares its buffers; DuckDB scans it in
    # parallel, where a pandas frame of ``str`` columns is read value by value.
    con.register(view, pa.Table.from_pandas(raw.frame, preserve_index=False))
    try:
        columns = ", ".join(
            f"CAST({quote_identifier(column)} AS VARCHAR) AS {quote_identifier(column)}"
            for column in raw.columns
        )
        with _one_thread(con):
            con.execute(
                f"CREATE OR REPLACE {temp}TABLE {table} AS "
                f"SELECT CAST({quote_identifier(ROW_COLUMN)} AS INTEGER) AS _row"
                f"{', ' + columns if columns else ''} FROM {view}"
            )
    finally:
        con.unregister(view)


@contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the statements inside on one DuckDB thread.

    Writing a table of text columns in row order, DuckDB 2.0 took longer on
    two threads than on one (2 cores, 1M rows x 21 columns: 3.7-7.3 s
    against 2.3-2.9 s; without keeping the order 2.0-4.1 s), so the large
    writes here run on one thread and the setting is put back after.
    """
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute("SET threads = ?", [threads])


def _day_first(
    con: duckdb.DuckDBPyConnection, table: str, column: str
) -> tuple[bool, tuple[int, str, int] | None]:
    """Decide for a whole column whether 05-03-2024 means 5 March.

    Day-first when some value's first part cannot be a month; month-first
    when some value's second part cannot be; day-first when nothing decides
    (the usual reading outside the US). Returns the decision and, when
    nothing decided it and some value reads two ways (03/04/2025), the first
    such value's row and text and how many there are, for the report.
    """
    row = con.execute(
        f"""
        WITH parts AS (
            SELECT regexp_extract(trim({quote_identifier(column)}), {_sql_text(_DMY_HEAD)},
                                  ['a', 'b']) AS p,
                   _row, {quote_identifier(column)} AS text
            FROM {table}
            WHERE regexp_matches(trim({quote_identifier(column)}), {_sql_text(_DMY_HEAD)})
        )
        SELECT count(*) FILTER (WHERE try_cast(p.a AS INTEGER) > 12),
               count(*) FILTER (WHERE try_cast(p.b AS INTEGER) > 12),
               count(*) FILTER (WHERE p.a::INTEGER <> p.b::INTEGER),
               arg_min([CAST(_row AS VARCHAR), text], _row)
                   FILTER (WHERE p.a::INTEGER <> p.b::INTEGER)
        FROM parts
        """
    ).fetchall()[0]
    if row[0] or row[1] or not row[2]:
        return not (row[0] == 0 and row[1] > 0), None
    return True, (int(row[3][0]), row[3][1], row[2])


def _cast_value(kind: str, source: str) -> str:
    """SQL reading a number or date text with a plain cast."""
    return f"try_cast({source} AS {'DOUBLE' if kind == 'number' else 'DATE'})"


def _needs_parsing(kind: str, source: str) -> str:
    """SQL true where the plain cast may not read ``source`` as the macros do.

    Elsewhere the cast gives their value: ``tiering_number`` and
    ``tiering_date`` try exactly this first (a finite number; a date written
    YYYY-MM-DD), and a text the cast reads holds no 万, 亿 or % for the
    column's unit to skip. A date is taken as written YYYY-MM-DD when the
    cast date prints back as the text itself, which costs less than the
    regular expression.
    """
    cast = _cast_value(kind, source)
    reads = (
        f"isfinite({cast})"
        if kind == "number"
        else f"strlen({source}) = 10 AND CAST({cast} AS VARCHAR) = {source}"
    )
    return f"({source} IS NOT NULL AND NOT coalesce({reads}, false))"


def _untidy_fields(
    con: duckdb.DuckDBPyConnection, table: str, mapping: Mapping
) -> list[str]:
    """Mapped fields with a value that does not read plainly.

    A number or date the plain cast may misread (see ``_needs_parsing``), a
    text that is empty or has spaces around it.
    """
    checks = {}
    for key, column in mapping.columns.items():
        kind, source = FIELD_BY_KEY[key].kind, quote_identifier(column)
        checks[key] = (
            _needs_parsing(kind, source)
            if kind in _TYPED
            else f"({source} = '' OR trim({source}) <> {source})"
        )
    if not checks:
        return []  # nothing mapped (row numbers as ids): nothing to check
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {check})" for check in checks.values())
        + f" FROM {table}"
    ).fetchall()[0]
    return [key for key, count in zip(checks, counts) if count]


def _parse_values(
    con: duckdb.DuckDBPyConnection,
    table: str,
    mapping: Mapping,
    keys: list[str],
    name: str,
) -> dict[str, tuple[int, str, int]]:
    """Parse with the macros the number and date texts of ``keys`` that need it.

    Creates ``_tiering_<name>_parsed``: ``_row`` of every row with such a
    text and, per field of ``keys``, the text (NULL where the cast reads the
    value) and the parsed value. Returns the date fields read day-first
    because nothing in the column decided (see ``_day_first``).
    """
    odd = f"_tiering_{name}_odd"
    checks = {
        key: _needs_parsing(
            FIELD_BY_KEY[key].kind, quote_identifier(mapping.columns[key])
        )
        for key in keys
    }
    texts = "".join(
        f", CASE WHEN {check} THEN {quote_identifier(mapping.columns[key])} END "
        f"AS {quote_identifier(key + '__text')}"
        for key, check in checks.items()
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {odd} AS SELECT _row{texts} "
        f"FROM {table} WHERE {' OR '.join(checks.values())}"
    )
    _install_macros(con)
    select, params, undecided = _parsing_select(con, odd, keys, mapping)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_parsed_table(name)} AS {select}", params
    )
    return undecided


def _parsed_table(name: str) -> str:
    return f"_tiering_{name}_parsed"


def _parsing_select(
    con: duckdb.DuckDBPyConnection, table: str, keys: list[str], mapping: Mapping
) -> tuple[str, list[object], dict[str, tuple[int, str, int]]]:
    """SQL parsing the texts of ``keys`` in ``table`` with the macros, and the
    date fields whose day/month order nothing decided."""
    params: list[object] = []
    undecided: dict[str, tuple[int, str, int]] = {}
    parts = ["_row"]
    for key in keys:
        text = quote_identifier(key + "__text")
        if FIELD_BY_KEY[key].kind == "number":
            # A value carrying its own unit (1.2万) ignores the column's unit.
            expr = (
                f"tiering_number({text}) * CASE WHEN contains({text}, '万') "
                f"OR contains({text}, '亿') OR contains({text}, '%') "
                f"THEN 1 ELSE ? END"
            )
            params.append(mapping.unit(key))
        else:
            # Text that could be read as 05-03-2024 never passes the cast, so
            # these rows decide the column's reading as the whole column would.
            expr = f"tiering_date({text}, ?)"
            day_first, example = _day_first(con, table, key + "__text")
            params.append(day_first)
            if example:
                undecided[key] = example
        parts += [text, f"{expr} AS {quote_identifier(key)}"]
    return f"SELECT {', '.join(parts)} FROM {table}", params, undecided


def _staging_select(
    mapping: Mapping, table: str, untidy: list[str], name: str
) -> tuple[str, dict[str, float]]:
    """SQL of the staging view, with the unit variables it reads.

    Fields in ``untidy`` are trimmed, or parsed in ``_tiering_<name>_parsed``;
    the others read plainly. A view takes no bound parameters, so the
    columns' units go to DuckDB variables (set by the caller) rather than
    into the SQL text.
    """
    parsed_keys = [key for key in untidy if FIELD_BY_KEY[key].kind in _TYPED]
    units: dict[str, float] = {}
    parts = ["t._row"]
    if mapping.row_ids and "client_id" not in mapping.columns:
        parts.append("CAST(t._row AS VARCHAR) AS client_id")

    for key, column in mapping.columns.items():
        kind = FIELD_BY_KEY[key].kind
        source = f"t.{quote_identifier(column)}"
        if kind in _TYPED:
            expr = _cast_value(kind, source)
            if kind == "number" and mapping.unit(key) != 1:
                variable = f"tiering_{name}_unit_{key}"
                units[variable] = mapping.unit(key)
                expr = f"{expr} * getvariable({_sql_text(variable)})"
            if key in parsed_keys:
                expr = (
                    f"CASE WHEN p.{quote_identifier(key + '__text')} IS NULL "
                    f"THEN {expr} ELSE p.{quote_identifier(key)} END"
                )
        elif key in untidy:
            expr = f"nullif(trim({source}), '')"
        else:
            expr = source
        parts.append(f"{expr} AS {quote_identifier(key)}")

    join = (
        f" LEFT JOIN {_parsed_table(name)} AS p ON p._row = t._row"
        if parsed_keys
        else ""
    )
    return f"SELECT {', '.join(parts)} FROM {table} AS t{join}", units


def _issue_frame(rows: list[tuple], status: str, file: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["row", "column", "value", "reason_key", "detail"]
    )
    frame["status"] = status
    frame["file"] = file
    return frame.reindex(columns=ISSUE_COLUMNS)


def _skipped_issues(raw: RawTable, file: str) -> pd.DataFrame:
    rows = [(skip.row, None, None, skip.reason_key, None) for skip in raw.skipped]
    return _issue_frame(rows, "excluded", file)


def _formula_issues(raw: RawTable, file: str) -> pd.DataFrame:
    """One line per column whose formulas have no saved values (read empty)."""
    rows = [
        (raw.header_row, column, None, "ingest.reason.formula_no_value", raw.sheet)
        for column in raw.formula_columns
    ]
    return _issue_frame(rows, "flagged", file)


def _note_issues(raw: RawTable, file: str) -> pd.DataFrame:
    """The rows ingest loaded as they are but noted for checking."""
    rows = [
        (note.row, note.column, note.value, note.reason_key, note.detail)
        for note in raw.notes
    ]
    return _issue_frame(rows, "flagged", file)


def _value_issues(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, keys: list[str], file: str
) -> list[pd.DataFrame]:
    """Values that could not be read (flagged) or were reinterpreted (coerced).

    Only texts the plain cast failed on can be either, so the parsed table
    of those (fields ``keys``) holds them all.
    """
    table = _parsed_table(file)
    frames = []
    for key in keys:
        kind, column = FIELD_BY_KEY[key].kind, mapping.columns[key]
        value, text = quote_identifier(key), quote_identifier(key + "__text")
        bad = f"ingest.reason.bad_{kind}"
        unreadable = con.execute(
            f"""SELECT _row, ?, {text}, ?, NULL, count(*) OVER () AS total
                FROM {table}
                WHERE {value} IS NULL AND tiering_text({text}) IS NOT NULL
                  AND NOT tiering_placeholder(tiering_text({text}))
                QUALIFY row_number() OVER (ORDER BY _row) <= ?
                ORDER BY _row""",
            [column, bad, UNREADABLE_LIMIT + 1],
        ).fetchall()
        frames.append(
            _issue_frame(
                _capped(unreadable, column, f"{bad}_more", UNREADABLE_LIMIT),
                "flagged",
                file,
            )
        )

        # Reinterpretation worth telling: a unit word, brackets, a percent,
        # full-width digits, or a date given as an Excel serial number.
        pattern = (
            "[万亿%()（）０-９]" if kind == "number" else "^[0-9０-９]{5}([.][0-9]+)?$"
        )
        coerced = con.execute(
            f"""SELECT _row, ?, {text}, ?, {value}, count(*) OVER () AS total
                FROM {table}
                WHERE {value} IS NOT NULL AND regexp_matches(trim({text}), ?)
                QUALIFY row_number() OVER (ORDER BY _row) <= ?
                ORDER BY _row""",
            [column, f"ingest.reason.coerced_{kind}", pattern, COERCED_LIMIT + 1],
        ).fetchall()
        unit = mapping.unit(key)
        coerced = [
            (*row[:4], _in_unit(row[4], unit) if kind == "number" else str(row[4]), *row[5:])
            for row in coerced
        ]
        more = "ingest.reason.coerced_more"
        frames.append(
            _issue_frame(_capped(coerced, column, more, COERCED_LIMIT), "coerced", file)
        )
    return frames


def _capped(rows: list[tuple], column: str, more: str, limit: int) -> list[tuple]:
    """The first ``limit`` lines of ``rows``, then one line ``more`` counting
    the rest.

    ``rows`` are (row, column, value, reason key, detail, total), in row
    order, with at least the first ``limit + 1`` of the ``total``. A million
    converted amounts would otherwise be a million report lines; the count
    line carries the first row not listed.
    """
    if len(rows) <= limit:
        return [row[:5] for row in rows]
    rest = rows[0][5] - limit
    first_unlisted = rows[limit][0]
    return [row[:5] for row in rows[:limit]] + [
        (first_unlisted, column, None, more, str(rest))
    ]


def _number_text(value: float) -> str:
    """1200000.0 as 1,200,000 and 0.125 as 0.125: no ``.0`` or float noise."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def _in_unit(value: float, unit: float) -> str:
    """A number in natural units as the column's unit shows it.

    120万 in a 万元 column reads ``120 万元 (1,200,000 元)``; without a
    column unit, the number alone.
    """
    if unit == 1:
        return _number_text(value)
    word = _UNIT_WORDS.get(unit)
    shown = _number_text(value / unit)
    if word is None:
        return f"{shown} × {_number_text(unit)} = {_number_text(value)}"
    return f"{shown} {word} ({_number_text(value)} 元)"


def _undecided_date_issues(
    mapping: Mapping, undecided: dict[str, tuple[int, str, int]], file: str
) -> pd.DataFrame:
    """One line per date column read day/month/year because nothing decided:
    the first value that reads two ways, and how many do."""
    rows = [
        (row, mapping.columns[key], text, "ingest.reason.day_first_guess", str(count))
        for key, (row, text, count) in undecided.items()
    ]
    return _issue_frame(rows, "flagged", file)


def _range_checks(mapping: Mapping, has_as_of: bool = False) -> dict[str, str]:
    """SQL per mapped field, true where its value is out of place: a date
    after ``$as_of`` when ``has_as_of``, else after ``$today``; a number
    outside ``VALID_RANGES``.

    An as-of date the user chose stands for today: a date after the
    machine's today up to it (a clock behind, data from another time zone)
    counts days to it as any other and is not flagged. Before today, it
    flags every date after it, those after today too.
    """
    checks: dict[str, str] = {}
    for key in mapping.columns:
        name = quote_identifier(key)
        if FIELD_BY_KEY[key].kind == "date":
            checks[key] = f"{name} > {'$as_of' if has_as_of else '$today'}"
        elif key in VALID_RANGES:
            low, high = VALID_RANGES[key]
            bounds = [f"{name} < {low!r}"] + ([f"{name} > {high!r}"] if high is not None else [])
            checks[key] = f"({' OR '.join(bounds)})"
    return checks


def _range_issues(
    con: duckdb.DuckDBPyConnection,
    view: str,
    mapping: Mapping,
    file: str,
    dates: dict[str, dt.date],
    checks: dict[str, str],
) -> pd.DataFrame:
    """Dates after an explicit as-of date or today (see ``_range_checks``),
    numbers outside ``VALID_RANGES``.

    Run only when the counting pass (``_count_ids``) found such values: the
    rows with an id are read once more, and those with a value out of place
    are unnested into one line per value. Values stay as loaded. A date
    after today is reported as such when the as-of date is not later than
    today: that message already says its recency counts 0. Dates are listed
    up to ``DATE_FLAG_LIMIT`` per column and reason, then counted on one
    line; numbers all.
    """
    today_first = dates.get("as_of", dates["today"]) <= dates["today"]
    values = ", ".join(
        f"{{'key': {_sql_text(key)}, 'at': {position}, "
        f"'bad': coalesce({check}, false), "
        f"'value': CAST({quote_identifier(key)} AS VARCHAR), "
        f"'future': {_after_today(key) if today_first else 'false'}, "
        f"'capped': {'true' if FIELD_BY_KEY[key].kind == 'date' else 'false'}}}"
        for position, (key, check) in enumerate(checks.items())
    )
    sql = f"""WITH out_of_place AS (
                SELECT _row, unnest([{values}]) AS v FROM {view}
                WHERE client_id IS NOT NULL AND ({" OR ".join(checks.values())})
            )
            SELECT _row, v.key, v.value, v.future,
                   count(*) OVER (PARTITION BY v.key, v.future) AS total
            FROM out_of_place WHERE v.bad
            QUALIFY NOT v.capped OR row_number() OVER (
                PARTITION BY v.key, v.future ORDER BY _row) <= $listed
            ORDER BY _row, v.at"""
    params = {**(_dates_in(sql, dates) or {}), "listed": DATE_FLAG_LIMIT + 1}
    found = con.execute(sql, params).fetchall()
    rows = []
    late: dict[tuple[str, str], list[tuple]] = {}
    for row, key, value, future, total in found:
        column = mapping.columns[key]
        if FIELD_BY_KEY[key].kind == "date":
            reason, limit = (
                ("ingest.reason.future_date", dates["today"])
                if future
                else ("ingest.reason.after_as_of", dates["as_of"])
            )
            late.setdefault((column, reason), []).append(
                (row, column, value, reason, str(limit), total)
            )
            continue
        low, high = VALID_RANGES[key]
        allowed = f"≥ {_number_text(low)}" if high is None else (
            f"{_number_text(low)}–{_number_text(high)}"
        )
        shown = _number_text(float(value) / mapping.unit(key))
        rows.append((row, column, shown, "ingest.reason.out_of_range", allowed))
    for (column, reason), listed in late.items():
        rows += _capped(listed, column, f"{reason}_more", DATE_FLAG_LIMIT)
    return _issue_frame(rows, "flagged", file)


def _after_today(key: str) -> str:
    """SQL true where the date field ``key`` is after ``$today``."""
    if FIELD_BY_KEY[key].kind != "date":
        return "false"
    return f"coalesce({quote_identifier(key)} > $today, false)"


def _imprecise_id_issues(
    raw: RawTable, mapping: Mapping, file: str
) -> list[pd.DataFrame]:
    """Id-like cells stored as numbers too long for Excel to keep exactly."""
    id_columns = {
        column: key
        for key, column in mapping.columns.items()
        if FIELD_BY_KEY[key].kind == "id"
    }
    if not raw.imprecise_cells or not id_columns:
        return []
    values = raw.frame.set_index(ROW_COLUMN)
    rows = [
        (row, column, values.at[row, column], "ingest.reason.id_precision_lost", None)
        for row, column in raw.imprecise_cells
        if column in id_columns
    ]
    return [_issue_frame(rows, "flagged", file)]


def _missing_id_issues(
    con: duckdb.DuckDBPyConnection, table: str, mapping: Mapping, file: str, count: int
) -> pd.DataFrame:
    if "client_id" not in mapping.columns or not count:
        return _issue_frame([], "rejected", file)
    rows = con.execute(
        f"SELECT _row, ?, NULL, ?, NULL FROM {table} WHERE client_id IS NULL ORDER BY _row",
        [mapping.columns["client_id"], "ingest.reason.missing_id"],
    ).fetchall()
    return _issue_frame(rows, "rejected", file)


def _looks_like_transactions(staged: _Staged) -> bool:
    """Repeating ids plus a purchase date or amount, and nothing that only a
    client table has (a purchase count, a date headed 最近/最后/last)."""
    columns = staged.mapping.columns
    if (
        "client_id" not in columns
        or "purchase_count" in columns
        or not ("last_purchase_date" in columns or "amount" in columns)
    ):
        return False
    if _LATEST_WORDS.search(columns.get("last_purchase_date", "")):
        return False
    return (
        staged.ids > 0 and staged.distinct_ids < staged.ids * TRANSACTION_DISTINCT_SHARE
    )


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    for kind, listing in (("VIEW", "duckdb_views()"), ("TABLE", "duckdb_tables()")):
        column = f"{kind.lower()}_name"
        names = con.execute(
            f"SELECT {column} FROM {listing} "
            f"WHERE temporary AND starts_with({column}, '_tiering_')"
        ).fetchall()
        for (name,) in names:
            con.execute(f"DROP {kind} IF EXISTS {quote_identifier(name)}")


# --- client tables -----------------------------------------------------------------


def _load_client_table(
    con: duckdb.DuckDBPyConnection,
    staged: _Staged,
    rollup: _Staged | None,
    as_of: dt.date | None,
    duplicates: Duplicates,
    today: dt.date,
) -> PreparedData:
    """Write ``source`` and ``clients`` for a client table (and its rollup)."""
    excluded = _drop_duplicates(con, staged, duplicates)
    fields = _typed_fields(staged.mapping)

    unknown = _issue_frame([], "excluded", "transactions")
    if rollup is not None:
        _roll_up(con, rollup)
        unknown = _unknown_client_issues(con, rollup)
        fields = _join_rollup(con, fields)
    excluded_any = staged.ids != staged.distinct_ids
    if rollup is None and not excluded_any:
        # Every row with an id is kept as staged: its latest date is known.
        as_of = as_of or staged.latest_date
    as_of = as_of or _latest_date(con, fields, today) or today

    in_row_order = staged.in_row_order and not excluded_any and rollup is None
    _write_clients(con, "_tiering_clients_kept", fields, as_of, in_row_order)
    loaded = con.execute("SELECT count(*) FROM clients").fetchall()[0][0]
    issues = staged.issues + [excluded] + (rollup.issues if rollup else [])
    issues.append(unknown)
    return PreparedData(
        rows_in_file=staged.rows_in_file,
        rows_loaded=loaded,
        rows_excluded=staged.skipped + len(excluded),
        rows_rejected=staged.rejected,
        issues=_combine(issues),
        as_of=as_of,
        kind="both" if rollup is not None else "clients",
        mapping=staged.mapping,
        transaction_mapping=rollup.mapping if rollup else None,
        clients=loaded,
        **(_transaction_counts(rollup, len(unknown)) if rollup else {}),
    )


def _transaction_counts(rollup: _Staged, unknown: int) -> dict[str, int]:
    """The transaction table's row accounting, as ``PreparedData`` fields:
    rows skipped by ingest or naming no client of the table are excluded,
    rows without a client id rejected, the rest used."""
    excluded = rollup.skipped + unknown
    return {
        "transaction_rows_in_file": rollup.rows_in_file,
        "transaction_rows_loaded": rollup.rows_in_file - excluded - rollup.rejected,
        "transaction_rows_excluded": excluded,
        "transaction_rows_rejected": rollup.rejected,
    }


def _drop_duplicates(
    con: duckdb.DuckDBPyConnection, staged: _Staged, duplicates: Duplicates
) -> pd.DataFrame:
    """Keep one row per client id; return the dropped rows as issues."""
    column = staged.mapping.columns.get("client_id", ROW_COLUMN)
    if staged.ids == staged.distinct_ids:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _tiering_clients_kept AS "
            f"SELECT * FROM {staged.table} WHERE client_id IS NOT NULL"
        )
        return _issue_frame([], "excluded", "clients")

    has_date = "last_purchase_date" in staged.mapping.columns
    order = (
        "last_purchase_date DESC NULLS LAST, _row DESC"
        if duplicates == "latest" and has_date
        else "_row DESC"
        if duplicates == "latest"
        else "_row"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tiering_clients_ranked AS
        SELECT *, row_number() OVER (PARTITION BY client_id ORDER BY {order}) AS _rank
        FROM {staged.table} WHERE client_id IS NOT NULL
    """)
    dropped = con.execute(
        "SELECT _row, client_id FROM _tiering_clients_ranked WHERE _rank > 1 ORDER BY _row"
    ).fetchall()

    if dropped and duplicates == "stop":
        raise MappingError(
            "error.mapping.duplicate_ids",
            column=column,
            count=len(dropped),
            row=dropped[0][0],
        )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _tiering_clients_kept AS "
        "SELECT * EXCLUDE (_rank) FROM _tiering_clients_ranked WHERE _rank = 1"
    )
    rows = [
        (row, column, client_id, f"ingest.reason.duplicate_id_{duplicates}", None)
        for row, client_id in dropped
    ]
    return _issue_frame(rows, "excluded", "clients")


def _unknown_client_issues(
    con: duckdb.DuckDBPyConnection, rollup: _Staged
) -> pd.DataFrame:
    """Transaction rows whose client id is not in the client table."""
    rows = con.execute(
        f"""SELECT t._row, ?, t.client_id, ?, NULL
            FROM {rollup.table} AS t
            ANTI JOIN _tiering_clients_kept AS c USING (client_id)
            WHERE t.client_id IS NOT NULL
            ORDER BY t._row""",
        [
            rollup.mapping.columns.get("client_id", ROW_COLUMN),
            "ingest.reason.unknown_client",
        ],
    ).fetchall()
    # Info, not a warning: every such row is in the issues and the counts,
    # and the command line shows warnings to its users as raw log lines.
    if rows:
        logger.info("%d transaction rows name no client of the table", len(rows))
    return _issue_frame(rows, "excluded", "transactions")


def _typed_fields(mapping: Mapping) -> list[str]:
    """Canonical fields of the mapping, in the order of ``tiering.fields``."""
    return [f.key for f in FIELDS if f.key in mapping.columns and f.key != "client_id"]


def _join_rollup(con: duckdb.DuckDBPyConnection, fields: list[str]) -> list[str]:
    """Fill the client rows' missing fields from the transaction rollup."""
    rollup_fields = [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = '_tiering_rollup' "
            "AND column_name NOT IN ('client_id', '_first_row')"
        ).fetchall()
    ]
    selects = []
    for key in [f.key for f in FIELDS if f.key in set(fields) | set(rollup_fields)]:
        name = quote_identifier(key)
        if key in fields and key in rollup_fields:
            selects.append(f"coalesce(c.{name}, r.{name}) AS {name}")
        elif key in fields:
            selects.append(f"c.{name}")
        elif key != "client_id":
            selects.append(f"r.{name}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tiering_clients_joined AS
        SELECT c._row, c.client_id{"".join(", " + s for s in selects)}
        FROM _tiering_clients_kept AS c
        LEFT JOIN _tiering_rollup AS r USING (client_id)
    """)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _tiering_clients_kept AS "
        "SELECT * FROM _tiering_clients_joined"
    )
    return [
        key
        for key in (f.key for f in FIELDS)
        if key != "client_id" and (key in fields or key in rollup_fields)
    ]


def _latest_date(
    con: duckdb.DuckDBPyConnection, fields: list[str], today: dt.date
) -> dt.date | None:
    """The latest recency date of the kept clients (last purchase or last
    interaction) that is not after ``today``; None when there is none."""
    if not set(fields) & set(DERIVED_RECENCY.values()):
        return None
    sql = f"SELECT {_latest_recency(fields)} FROM _tiering_clients_kept"
    return con.execute(sql, {"today": today}).fetchall()[0][0]


def _write_clients(
    con: duckdb.DuckDBPyConnection,
    table: str,
    fields: list[str],
    as_of: dt.date,
    in_row_order: bool = False,
) -> None:
    """Create ``clients``: ``_row``, ``client_id``, typed fields, recency days.

    ``in_row_order``: ``table`` only filters ``source``, already in ``_row``
    order, which DuckDB keeps unless told it need not; no sort then.
    A date after ``as_of`` (flagged as after today or after the as-of date
    given) counts 0 days, not a negative number that would beat every
    recent client.
    """
    selects = ["CAST(_row AS INTEGER) AS _row", "client_id"]
    selects += [quote_identifier(key) for key in fields]
    params = {}
    for derived, date_key in DERIVED_RECENCY.items():
        if date_key in fields:
            selects.append(
                f"CAST(CASE WHEN {quote_identifier(date_key)} > $as_of THEN 0 "
                f"ELSE date_diff('day', {quote_identifier(date_key)}, $as_of) END "
                f"AS INTEGER) AS {quote_identifier(derived)}"
            )
    keeps_order = con.execute(
        "SELECT current_setting('preserve_insertion_order')"
    ).fetchall()[0][0]
    order = "" if in_row_order and keeps_order else " ORDER BY _row"
    if "$as_of" in " ".join(selects):
        params["as_of"] = as_of
    with _one_thread(con):
        con.execute(
            f"CREATE OR REPLACE TABLE clients AS SELECT {', '.join(selects)} "
            f"FROM {table}{order}",
            params,
        )


# --- transaction tables ----------------------------------------------------------


def _roll_up(con: duckdb.DuckDBPyConnection, staged: _Staged) -> None:
    """Create ``_tiering_rollup``: one row per client from purchase rows.

    Last purchase date is the latest date, purchase count the number of
    rows, amount the sum; other mapped fields take the value of the latest
    row.
    """
    mapping = staged.mapping
    if "last_purchase_date" not in mapping.columns and "amount" not in mapping.columns:
        raise MappingError("error.mapping.no_transaction_fields")

    has_date = "last_purchase_date" in mapping.columns
    latest = (
        "last_purchase_date DESC NULLS LAST, _row DESC" if has_date else "_row DESC"
    )
    selects = ["client_id", "min(_row) AS _first_row"]
    if has_date:
        selects.append("max(last_purchase_date) AS last_purchase_date")
    selects.append("CAST(count(*) AS DOUBLE) AS purchase_count")
    if "amount" in mapping.columns:
        selects.append("sum(amount) AS amount")
    for key in _typed_fields(mapping):
        if key not in ROLLUP_FIELDS:
            name = quote_identifier(key)
            selects.append(f"first({name} ORDER BY {latest}) AS {name}")

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tiering_rollup AS
        SELECT {", ".join(selects)}
        FROM {staged.table}
        WHERE client_id IS NOT NULL
        GROUP BY client_id
    """)


def _load_transactions(
    con: duckdb.DuckDBPyConnection,
    staged: _Staged,
    as_of: dt.date | None,
    today: dt.date,
) -> PreparedData:
    """Write ``source`` and ``clients`` from a transaction table alone."""
    _roll_up(con, staged)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _tiering_rollup_numbered AS
        SELECT CAST(row_number() OVER (ORDER BY _first_row) AS INTEGER) AS _row,
               * EXCLUDE (_first_row)
        FROM _tiering_rollup
    """)
    fields = [
        key
        for key in (f.key for f in FIELDS)
        if key != "client_id"
        and key
        in {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM duckdb_columns() "
                "WHERE table_name = '_tiering_rollup_numbered'"
            ).fetchall()
        }
    ]
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _tiering_clients_kept AS "
        "SELECT * FROM _tiering_rollup_numbered"
    )
    _write_rollup_source(con, staged.mapping, fields)
    as_of = as_of or _latest_date(con, fields, today) or today
    _write_clients(con, "_tiering_clients_kept", fields, as_of)

    clients = con.execute("SELECT count(*) FROM clients").fetchall()[0][0]
    rows_loaded = staged.rows_in_file - staged.skipped - staged.rejected
    return PreparedData(
        rows_in_file=staged.rows_in_file,
        rows_loaded=rows_loaded,
        rows_excluded=staged.skipped,
        rows_rejected=staged.rejected,
        issues=_combine(staged.issues),
        as_of=as_of,
        kind="transactions",
        mapping=staged.mapping,
        clients=clients,
    )


def _write_rollup_source(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, fields: list[str]
) -> None:
    """``source`` for a transaction input: the rollup as text, ``_row`` 1..n.

    The id and the fields taken from the latest row keep their source column
    names; the three rolled-up values are named by their field key.
    """
    selects = ["_row", f"client_id AS {quote_identifier(mapping.columns['client_id'])}"]
    for key in fields:
        label = key if key in ROLLUP_FIELDS else mapping.columns.get(key, key)
        selects.append(f"{_as_text(key)} AS {quote_identifier(label)}")
    con.execute(
        f"CREATE OR REPLACE TABLE source AS SELECT {', '.join(selects)} "
        f"FROM _tiering_clients_kept ORDER BY _row"
    )


def _as_text(key: str) -> str:
    """SQL giving a rolled-up field as text: 3 not 3.0, sums without float noise."""
    name = quote_identifier(key)
    if FIELD_BY_KEY[key].kind != "number":
        return f"CAST({name} AS VARCHAR)"
    return (
        f"CASE WHEN {name} = trunc({name}) AND abs({name}) < 1e15 "
        f"THEN CAST(CAST({name} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST(round({name}, 6) AS VARCHAR) END"
    )


def _combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in ISSUE_COLUMNS})
    issues = pd.concat(frames, ignore_index=True)
    issues["row"] = issues["row"].astype("int64")
    return issues.sort_values(["file", "row"], kind="stable", ignore_index=True)
