"""Write the tiered list back out: a data frame, an Excel workbook, a CSV file.

The steps:

1. Decide the columns. The original columns of ``source`` come first, in file
   order, then the columns the scoring added (client id, metric points,
   dimension scores, composite, tier before gates, gate, tier, reason), named
   in the user's language. A name that repeats an earlier one (case
   ignored, as DuckDB and Excel ignore it) gets a ``_2`` suffix. With the
   load's mapping, the id column is shown once (as typed), and a column
   mapped to a number or date field shows the value read into ``clients``
   (a number back in the column's unit), empty where it could not be read.
   A transaction table's rolled-up date, count and amount are named in the
   user's language. A client table joined to transactions adds, before the
   scores, the value each field the transactions could fill was scored with
   (the client table's own columns show only its cells).
   Another original column whose every filled value is an ISO date (a plain
   decimal) becomes a date (number) column; every other stays text exactly
   as read, so ``00123`` and 18-digit ID-card numbers never turn into numbers.
2. Build one SELECT joining ``scored`` to ``source`` on ``_row``, sorted by
   tier rank, composite (high first) and client id, so the order never depends
   on how the table happens to be stored. A per-tier sheet adds a bound
   ``tier = ?`` filter to the same query. The sort may take ``SORT_MEMORY``
   more than DuckDB holds and spills the rest to a private temporary folder
   (a million clients would otherwise need about 800 MB more); when DuckDB
   cannot work in that budget, the sort runs again with all it asks for.
3. The workbook is written by rust_xlsxwriter (through the
   ``rvgsrust_xlsxwriter`` binding), chosen by measurement over Python
   xlsxwriter, which spent almost all of its time in per-cell Python. The
   big tables stream from DuckDB as Arrow record batches, cast to one type
   per column kind (text stays Arrow strings, written as text cells and
   never as formulas or numbers; dates are dates; numbers are doubles), and
   each batch goes to a constant-memory sheet in one native call, so memory
   is bounded by a batch. A table longer than an Excel sheet continues on
   ``<name> (2)``, never truncated.
4. The CSV is written by DuckDB's COPY into a temporary file, with text that
   would start a formula prefixed by ``'``, then copied behind a UTF-8 BOM so
   that Excel opens Chinese text correctly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import rvgsrust_xlsxwriter as xlsx

from tiering.errors import ExportError
from tiering.fields import FIELD_BY_KEY, FIELDS, field_for_header
from tiering.i18n import DEFAULT_LANG, t
from tiering.insight import export_columns as insight_export_columns
from tiering.insight import playbook_frame, playbook_headers
from tiering.mapping import Mapping
from tiering.prepare import ROLLUP_FIELDS, PreparedData, describe_issues
from tiering.scoring import ScoredResult
from tiering.sql import bounded_memory, quote_identifier
from tiering.standard import Standard

logger = logging.getLogger(__name__)

# An Excel sheet holds 1,048,576 rows; one is the header.
MAX_DATA_ROWS = 1_048_575
MAX_SHEET_NAME = 31
FETCH_ROWS = 10_000
# Memory DuckDB may add while sorting the tiered list; beyond it the sort
# spills to disk (a million clients' rows would take about 800 MB more).
SORT_MEMORY = 256 << 20
# Excel's limit for one cell's text; the writer refuses longer text.
MAX_CELL_CHARS = 32_767
# Column widths are judged from the header and the first rows only.
WIDTH_SAMPLE_ROWS = 500
MAX_COLUMN_WIDTH = 50
# Text starting with one of these can start a formula in a spreadsheet.
_FORMULA_LEAD = r"^[=+\-@\t\r]"
_SHEET_NAME_FORBIDDEN = str.maketrans({char: "_" for char in "[]:*?/\\"})
# An ISO date, optionally with a midnight time (how a date cell reads as text).
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}( 00:00:00(\.0+)?)?$"
# Text leading with + or - that is just a number (-1, +3.5) cannot run a
# formula; leaving it alone keeps columns such as "days since contact: -1".
_PLAIN_NUMBER = r"^[+-]?[0-9][0-9.,]*$"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")

# Plain decimals only: no leading zero (00123 is a code), at most 15 digits
# before the point (Excel's precision), an optional sign and fraction.
_EXCEL_NUMBER = r"^-?(0|[1-9][0-9]{0,14})(\.[0-9]+)?$"
_IDENTIFIER_WORDS = (
    "编号",
    "号码",
    "代码",
    "代号",
    "账号",
    "卡号",
    "证件",
    "身份证",
    "手机",
    "电话",
)
# The units a generated header can name (万元 …); a number in any other unit
# is shown in natural units (元), which need no word.
_UNIT_NAMES = {1e3: "thousand", 1e4: "ten_thousand", 1e8: "hundred_million"}
ColumnKind = Literal["text", "date", "datetime", "integer", "number", "percent"]
Progress = Callable[[str, int, int], None]
Target = str | Path | IO[bytes]


@dataclass(frozen=True)
class ExportMeta:
    """Facts for the summary sheet that the engine cannot know by itself."""

    dataset_name: str
    sheet: str | None = None
    generated_by: str = ""
    generated_at: dt.datetime = field(default_factory=dt.datetime.now)
    as_of: dt.date | None = None
    # The standard differs from the one the draft started from.
    standard_edited: bool = False
    # Unchanged, but never published under its name and number (a file).
    standard_unpublished: bool = False


@dataclass(frozen=True)
class _Column:
    """One output column: its header, SQL expression and cell kind."""

    header: str
    expression: str
    kind: ColumnKind


# --- columns and SQL ---------------------------------------------------------


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Return the column names of ``table`` in order; [] if it does not exist."""
    rows = con.execute(
        """
        SELECT column_name
        FROM information_schema.columns
        WHERE table_name = ? AND table_schema = current_schema()
        ORDER BY ordinal_position
        """,
        [table],
    ).fetchall()
    return [row[0] for row in rows]


def _column_kinds(con: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, str]:
    """Return ``date`` or ``number`` for original columns that hold only those.

    A column is a date column when every filled value is an ISO date that
    Excel can show (1900 to 9999; earlier dates stay text), and a
    number column when every filled value is a plain decimal without a
    leading zero and with at most 15 integer digits (so Excel keeps it
    exactly). Columns whose header names an identifier stay text whatever
    they hold: an id like 12345 must not become a number.
    """
    candidates = [name for name in names if not _names_an_identifier(name)]
    if not candidates:
        return {}
    # One pass over the cells (UNPIVOT), not one aggregate per column: a
    # per-column SELECT list made wide sheets (thousands of columns) slow.
    rows = con.execute(
        """
        WITH cells AS (
            SELECT name, nullif(trim(value), '') AS value
            FROM (UNPIVOT source ON COLUMNS(* EXCLUDE (_row))
                  INTO NAME name VALUE value)
        )
        SELECT name,
               count(*) = count(CASE WHEN regexp_matches(value, $date_pattern)
                   AND try_cast(left(value, 10) AS DATE)
                       BETWEEN DATE '1900-01-01' AND DATE '9999-12-31'
                   THEN 1 END),
               count(*) = count(CASE WHEN regexp_matches(value, $number_pattern)
                   THEN 1 END)
        FROM cells
        WHERE value IS NOT NULL AND list_contains($names, name)
        GROUP BY name
        """,
        {
            "names": candidates,
            "date_pattern": _ISO_DATE,
            "number_pattern": _EXCEL_NUMBER,
        },
    ).fetchall()
    kinds = {}
    for name, is_date, is_number in rows:
        if is_date:
            kinds[name] = "date"
        elif is_number:
            kinds[name] = "number"
    return kinds


def _names_an_identifier(header: str) -> bool:
    """True when a header means an id, phone or card number (kept as text)."""
    field_key = field_for_header(header)
    if field_key is not None and FIELD_BY_KEY[field_key].kind == "id":
        return True
    return any(word in header for word in _IDENTIFIER_WORDS) or bool(
        re.search(r"(?i)(^|[^a-z])(id|code|no|number|phone|tel)([^a-z]|$)", header)
    )


def _read_columns(
    con: duckdb.DuckDBPyConnection, prepared: PreparedData | None, lang: str
) -> dict[str, _Column]:
    """Return the typed column of original columns read into ``clients``.

    Only where a ``source`` row is the client's row. For a client table, a
    number shows its parsed value back in the column's own unit (120万 in a
    万元 column is 120), a date its parsed date; a value that could not be
    read is empty here and listed on the issues sheet. For a transaction
    table, ``source`` is the rollup: the rolled-up date, count and amount
    (named by their field key there) get the field's name in ``lang``, the
    other fields keep their column's name. A date column with a date Excel
    cannot show (before 1900) keeps the rule for other columns; a rolled-up
    one stays text.
    """
    mapping = getattr(prepared, "mapping", None)
    shape = getattr(prepared, "kind", None)
    if mapping is None or shape not in ("clients", "transactions"):
        return {}
    columns = {}
    for key in _table_columns(con, "clients"):
        rolled_up = shape == "transactions" and key in ROLLUP_FIELDS
        name = key if rolled_up else mapping.columns.get(key)
        if name is None:
            continue
        if rolled_up:
            unit = _shown_unit(key, mapping)
            header = _field_header(key, unit, lang)
            text = _Column(header, f"src.{quote_identifier(name)}", "text")
            columns[name] = _typed_column(con, key, header, unit) or text
        elif column := _typed_column(con, key, name, mapping.unit(key)):
            columns[name] = column
    return columns


def _typed_column(
    con: duckdb.DuckDBPyConnection, key: str, header: str, unit: float
) -> _Column | None:
    """Return ``clients.<key>`` as a number in ``unit`` or as a date.

    None for a field of another kind, and for dates Excel cannot show.
    """
    kind = FIELD_BY_KEY[key].kind if key in FIELD_BY_KEY else None
    ref = f"typed_row.{quote_identifier(key)}"
    if kind == "number":
        return _Column(header, f"{ref} / {unit!r}", "number")
    if kind == "date" and _dates_excel_can_show(con, key):
        return _Column(header, f"CAST({ref} AS DATE)", "date")
    return None


def _shown_unit(key: str, *mappings: Mapping | None) -> float:
    """Return the unit a generated column shows ``key`` in.

    The unit of the first mapping that maps ``key``, when a header can name
    it; else natural units. A purchase count has none: the rollup counts
    rows, whatever the unit of a count column.
    """
    for mapping in mappings:
        if mapping is not None and key in mapping.columns:
            unit = mapping.unit(key)
            return unit if unit in _UNIT_NAMES and key != "purchase_count" else 1.0
    return 1.0


def _field_header(key: str, unit: float, lang: str, as_scored: bool = False) -> str:
    """Return the field's name in ``lang``, with ``unit`` and "as scored"."""
    label = t(f"field.{key}", lang)
    if unit in _UNIT_NAMES:
        template = "as_scored_in_unit" if as_scored else "in_unit"
        unit_name = t(f"export.unit.{_UNIT_NAMES[unit]}", lang)
        return t(f"export.column.{template}", lang, label=label, unit=unit_name)
    return t("export.column.as_scored", lang, label=label) if as_scored else label


def _as_scored_columns(
    con: duckdb.DuckDBPyConnection, prepared: PreparedData | None, lang: str
) -> list[_Column]:
    """Return, for a client table joined to transactions, the value each
    field the transactions could fill was scored with.

    The join keeps the client table's value and takes the transactions'
    rollup where it is blank or unreadable, so the client's own columns do
    not show what was scored. Names, phone and ID-card numbers are never
    scored and are left out.
    """
    transaction_mapping = getattr(prepared, "transaction_mapping", None)
    if getattr(prepared, "kind", None) != "both" or transaction_mapping is None:
        return []
    loaded = set(_table_columns(con, "clients"))
    # The rollup always counts purchases; its other fields are those mapped.
    filled = {"purchase_count", *transaction_mapping.columns}
    columns = []
    for client_field in FIELDS:
        key = client_field.key
        if key not in filled & loaded or client_field.kind in ("id", "text"):
            continue
        unit = _shown_unit(key, prepared.mapping, transaction_mapping)
        header = _field_header(key, unit, lang, as_scored=True)
        text = f"CAST(typed_row.{quote_identifier(key)} AS VARCHAR)"
        typed = _typed_column(con, key, header, unit)
        columns.append(typed or _Column(header, text, "text"))
    return columns


def _dates_excel_can_show(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    """True when every date of ``clients.<key>`` is between 1900 and 9999."""
    name = quote_identifier(key)
    low, high = con.execute(
        f"SELECT min(CAST({name} AS DATE)), max(CAST({name} AS DATE)) FROM clients"
    ).fetchall()[0]
    return low is None or (low >= dt.date(1900, 1, 1) and high <= dt.date(9999, 12, 31))


def _id_header(con: duckdb.DuckDBPyConnection, prepared: PreparedData | None) -> str:
    """Return the original column the client ids were read from ('' if none).

    Its values are the ids as typed, so the export shows it instead of
    adding a second id column.
    """
    mapping = getattr(prepared, "mapping", None)
    if mapping is None or mapping.row_ids:
        return ""
    if getattr(prepared, "kind", None) not in ("clients", "both", "transactions"):
        return ""
    header = mapping.columns.get("client_id", "")
    return header if header in _table_columns(con, "source") else ""


def _original_columns(
    con: duckdb.DuckDBPyConnection, read: dict[str, _Column]
) -> list[_Column]:
    """Return the original columns of ``source`` in file order.

    ``read`` gives the typed column of the columns read into ``clients``;
    every other column is judged by ``_column_kinds``.
    """
    names = [name for name in _table_columns(con, "source") if name != "_row"]
    kinds = _column_kinds(con, [name for name in names if name not in read])
    columns = []
    for name in names:
        ref = f"src.{quote_identifier(name)}"
        if name in read:
            columns.append(read[name])
        elif kinds.get(name) == "date":
            expression = f"try_cast(left(nullif(trim({ref}), ''), 10) AS DATE)"
            columns.append(_Column(name, expression, "date"))
        elif kinds.get(name) == "number":
            expression = f"try_cast(nullif(trim({ref}), '') AS DOUBLE)"
            columns.append(_Column(name, expression, "number"))
        else:
            columns.append(_Column(name, ref, "text"))
    return columns


def _added_columns(
    standard: Standard, scored_names: set[str], lang: str
) -> list[_Column]:
    """Return the columns the scoring added, named in ``lang``."""
    columns = [_Column(t("export.column.client_id", lang), "s.client_id", "text")]
    for _, metric in standard.metrics():
        name = f"m_{metric.key}"
        if name in scored_names:
            header = t(
                "export.column.metric_points",
                lang,
                code=metric.key,
                label=standard.label(metric, lang),
            )
            columns.append(_Column(header, f"s.{quote_identifier(name)}", "integer"))
    for dimension in standard.dimensions:
        name = f"d_{dimension.key}"
        if name in scored_names:
            header = t(
                "export.column.dimension_score",
                lang,
                code=dimension.key,
                label=standard.label(dimension, lang),
            )
            expression = f"round(s.{quote_identifier(name)}, 2)"
            columns.append(_Column(header, expression, "number"))
    columns += [
        _Column(t("export.column.composite", lang), "round(s.composite, 2)", "number"),
        _Column(
            t("export.column.tier_before_gates", lang), "s.tier_before_gates", "text"
        ),
        _Column(t("export.column.gate", lang), "s.gate", "text"),
        _Column(t("export.column.tier", lang), "s.tier", "text"),
        _Column(t("export.column.reason", lang), "s.reason", "text"),
    ]
    return columns


def _unique_headers(columns: list[_Column]) -> list[_Column]:
    """Return ``columns``, renaming a header that repeats an earlier one."""
    taken: set[str] = set()
    renamed = []
    for column in columns:
        header = column.header
        suffix = 2
        while header.casefold() in taken:
            header = f"{column.header}_{suffix}"
            suffix += 1
        taken.add(header.casefold())
        renamed.append(_Column(header, column.expression, column.kind))
    return renamed


def _export_columns(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    lang: str,
    prepared: PreparedData | None = None,
) -> list[_Column]:
    """Return every output column of the tiered list, in order.

    With ``prepared`` (its mapping), mapped number and date columns show
    their parsed values, the id column is not repeated, a transaction
    table's rolled-up columns are named in ``lang`` and a client table
    joined to transactions shows the values scored; without it, the
    original columns are judged by their text alone.

    Raises:
        ExportError: there is no ``scored`` table yet.
    """
    scored_names = set(_table_columns(con, "scored"))
    if not scored_names:
        raise ExportError("export.error.not_scored")
    originals = []
    if _table_columns(con, "source"):
        originals = _original_columns(con, _read_columns(con, prepared, lang))
    added = _as_scored_columns(con, prepared, lang)
    added += _added_columns(standard, scored_names, lang)
    if _id_header(con, prepared):
        added = [column for column in added if column.expression != "s.client_id"]
    if _table_columns(con, "insight"):
        # Next step, RFM class, CLV, follow-up date (tiering.insight).
        added += [_Column(*column) for column in insight_export_columns(lang)]
    return _unique_headers(originals + added)


def _select_sql(
    columns: Sequence[_Column],
    has_source: bool,
    tier_filter: bool = False,
    ordered: bool = True,
) -> str:
    """Return the SELECT of the tiered list; one ``?`` when ``tier_filter``."""
    select = ",\n    ".join(
        f"{column.expression} AS {quote_identifier(column.header)}"
        for column in columns
    )
    join = "LEFT JOIN source AS src ON src._row = s._row" if has_source else ""
    if any("insight_row." in c.expression for c in columns):
        join += "\nLEFT JOIN insight AS insight_row ON insight_row._row = s._row"
    if any("typed_row." in c.expression for c in columns):
        join += "\nLEFT JOIN clients AS typed_row ON typed_row._row = s._row"
    where = "WHERE s.tier IS NOT DISTINCT FROM ?" if tier_filter else ""
    order = "ORDER BY s.tier_rank ASC NULLS LAST, s.composite DESC NULLS LAST, s.client_id"
    return f"""
SELECT
    {select}
FROM scored AS s
{join}
{where}
{order if ordered else ""}
"""


def _has_source(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(_table_columns(con, "source"))


def build_export_frame(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    lang: str = DEFAULT_LANG,
    *,
    prepared: PreparedData | None = None,
) -> Any:
    """Return the tiered list: original columns, then scores, tier and reason.

    Args:
        con: connection holding the ``source`` and ``scored`` tables.
        standard: the ``Standard`` the clients were scored with (for the
            order and labels of metrics and dimensions).
        lang: language of the added column names (``zh`` or ``en``).
        prepared: the ``PreparedData`` of the load; its mapping types the
            mapped number and date columns and shows the id column once.

    Returns:
        A pandas DataFrame, one row per scored client, sorted by tier (best
        first), composite score (high first) and client id. Original columns
        are text except mapped number/date columns and ISO-date or plain
        number columns.

    Raises:
        ExportError: nothing has been scored yet.
    """
    columns = _export_columns(con, standard, lang, prepared)
    sql = _select_sql(columns, _has_source(con))
    return con.execute(sql).df()


# --- cell writing ------------------------------------------------------------


def _display_width(text: str) -> int:
    """Return how many narrow characters ``text`` takes (CJK counts as two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _column_widths(
    columns: Sequence[_Column], sample: Sequence[Sequence[Any]]
) -> list[float]:
    """Return a width per column, judged from the header and ``sample`` rows."""
    widths = []
    for index, column in enumerate(columns):
        width = _display_width(column.header)
        if column.kind == "date":
            width = max(width, 10)
        elif column.kind == "datetime":
            width = max(width, 16)
        else:
            for row in sample:
                value = row[index]
                if value is not None:
                    width = max(width, _display_width(str(value)))
        widths.append(min(width + 2, MAX_COLUMN_WIDTH))
    return widths


class _Formats:
    """The cell formats of one workbook, made once."""

    def __init__(self, workbook: xlsx.Workbook) -> None:
        def new() -> Any:
            return workbook.add_format()

        self.header = new().set_bold().set_background_color("#D9E1F2")
        self.title = new().set_bold().set_font_size(14)
        self.bold = new().set_bold()
        self.date = new().set_num_format("yyyy-mm-dd")
        self.datetime = new().set_num_format("yyyy-mm-dd hh:mm")
        self.number = new().set_num_format("0.00")
        self.integer = new().set_num_format("0")
        self.percent = new().set_num_format("0.0%")
        self._workbook = workbook
        self._fills: dict[str, Any] = {}

    def for_kind(self, kind: ColumnKind) -> Any:
        return {
            "text": None,
            "date": self.date,
            "datetime": self.datetime,
            "integer": self.integer,
            "number": self.number,
            "percent": self.percent,
        }[kind]

    def fill(self, color: str) -> Any:
        """Return a format filled with ``color``, text readable on it."""
        if color not in self._fills:
            self._fills[color] = (
                self._workbook.add_format()
                .set_background_color(color)
                .set_font_color(_text_color(color))
                .set_bold()
            )
        return self._fills[color]


def _text_color(color: str) -> str:
    """Return black or white, whichever reads better on ``color``."""
    try:
        red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return "#000000"
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return "#000000" if luminance > 150 else "#FFFFFF"


def _column_formats(columns: Sequence[_Column], formats: _Formats) -> dict[str, Any]:
    """Return the number format of each non-text column, keyed by header.

    Date and timestamp columns get ``yyyy-mm-dd`` and ``yyyy-mm-dd hh:mm:ss``
    from the writer itself, which a format given here does not replace.
    """
    return {
        column.header: formats.for_kind(column.kind)
        for column in columns
        if column.kind in ("integer", "number", "percent")
    }


def _arrow_type(kind: ColumnKind) -> pa.DataType:
    """Return the Arrow type a column of ``kind`` is written from."""
    if kind == "text":
        return pa.string()
    if kind == "date":
        return pa.date32()
    if kind == "datetime":
        return pa.timestamp("us")
    # Excel keeps every number as a double.
    return pa.float64()


def _conformed(batch: pa.RecordBatch, columns: Sequence[_Column]) -> pa.RecordBatch:
    """Return ``batch`` with one type per column kind and text Excel can hold.

    Text over Excel's 32,767 characters per cell is cut there (as Excel
    itself would) and logged; every other value is kept as it is.
    """
    arrays = []
    for array, column in zip(batch.columns, columns):
        array = array.cast(_arrow_type(column.kind))
        if column.kind == "text":
            array = _within_cell_limit(array)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=[c.header for c in columns])


def _within_cell_limit(array: pa.Array) -> pa.Array:
    lengths = pc.utf8_length(array)
    too_long = pc.sum(pc.greater(lengths, MAX_CELL_CHARS)).as_py() or 0
    if not too_long:
        return array
    logger.warning(
        "%d cells cut to %d characters in one column", too_long, MAX_CELL_CHARS
    )
    return pc.utf8_slice_codeunits(array, 0, MAX_CELL_CHARS)


def _plain_value(value: Any, kind: ColumnKind) -> Any:
    if _is_missing(value):
        return None
    return str(value) if kind == "text" else value


def _rows_as_batches(
    columns: Sequence[_Column], rows: Sequence[Sequence[Any]]
) -> list[pa.RecordBatch]:
    """Return small in-memory ``rows`` (issues, playbook) as one Arrow batch."""
    arrays = [
        pa.array(
            [_plain_value(row[index], column.kind) for row in rows],
            type=_arrow_type(column.kind),
        )
        for index, column in enumerate(columns)
    ]
    return [pa.RecordBatch.from_arrays(arrays, names=[c.header for c in columns])]


# --- sheets ------------------------------------------------------------------


def _unique_sheet_name(base: str, taken: set[str], part: int = 1) -> str:
    """Return a valid, unused Excel sheet name for ``base`` and record it.

    Excel allows at most 31 characters, none of ``[]:*?/\\``, no leading or
    trailing apostrophe, and compares names without case. Part 2 and later
    of a long table are named ``<base> (2)`` and so on.

    Args:
        base: the wished name, e.g. a tier name.
        taken: names used so far (case-folded); the chosen name is added.
        part: 1 for the first sheet of a table, 2… for continuations.

    Returns:
        The name to give the sheet.
    """
    clean = base.translate(_SHEET_NAME_FORBIDDEN).strip().strip("'").strip()
    clean = clean or "_"
    counter = part
    while True:
        suffix = f" ({counter})" if counter > 1 else ""
        name = clean[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        if name.casefold() not in taken and name.casefold() != "history":
            taken.add(name.casefold())
            return name
        counter += 1


class _SheetWriter:
    """Writes one table across as many sheets as it needs."""

    def __init__(
        self,
        workbook: xlsx.Workbook,
        formats: _Formats,
        taken: set[str],
        rows_per_sheet: int,
    ) -> None:
        self.workbook = workbook
        self.formats = formats
        self.taken = taken
        self.rows_per_sheet = rows_per_sheet

    def write(
        self,
        base: str,
        columns: Sequence[_Column],
        batches: Iterable[pa.RecordBatch],
        total: int,
        progress: Progress | None = None,
    ) -> list[str]:
        """Write ``batches`` under a header; return the names of the sheets used."""
        pending = (_conformed(batch, columns) for batch in batches)
        first = next(pending, None)
        widths = _column_widths(columns, _sample_rows(first))
        column_formats = _column_formats(columns, self.formats)
        names: list[str] = []
        worksheet = self._new_sheet(base, names, columns, widths)
        row_in_sheet = done = 0
        for batch in itertools.chain([first] if first else [], pending):
            while batch.num_rows:
                if row_in_sheet == self.rows_per_sheet:
                    self._finish(worksheet, columns, row_in_sheet)
                    worksheet = self._new_sheet(base, names, columns, widths)
                    row_in_sheet = 0
                part = batch.slice(0, self.rows_per_sheet - row_in_sheet)
                batch = batch.slice(part.num_rows)
                worksheet.write_dataframe(
                    row_in_sheet + 1,
                    0,
                    part,
                    write_header=False,
                    column_formats=column_formats,
                )
                row_in_sheet += part.num_rows
                done += part.num_rows
            if progress:
                progress(base, done, total)
        self._finish(worksheet, columns, row_in_sheet)
        if progress:
            progress(base, done, total)
        return names

    def _new_sheet(
        self,
        base: str,
        names: list[str],
        columns: Sequence[_Column],
        widths: Sequence[float],
    ) -> Any:
        name = _unique_sheet_name(base, self.taken, part=len(names) + 1)
        names.append(name)
        worksheet = self.workbook.add_worksheet(name, constant_memory=True)
        for col, width in enumerate(widths):
            worksheet.set_column_width(col, width)
        for col, column in enumerate(columns):
            worksheet.write(0, col, column.header, self.formats.header)
        worksheet.freeze_panes(1, 0)
        # Original columns are text on purpose; hide Excel's green triangles.
        worksheet.ignore_error_range(
            0, 0, MAX_DATA_ROWS, 16_383, "number_stored_as_text"
        )
        return worksheet

    @staticmethod
    def _finish(worksheet: Any, columns: Sequence[_Column], rows: int) -> None:
        if columns:
            worksheet.autofilter(0, 0, rows, len(columns) - 1)


def _sample_rows(batch: pa.RecordBatch | None) -> list[tuple]:
    """Return the first rows of ``batch`` as tuples, to judge column widths."""
    if batch is None:
        return []
    sample = batch.slice(0, WIDTH_SAMPLE_ROWS)
    return list(zip(*(array.to_pylist() for array in sample.columns)))


def _fetch_batches(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of ``sql`` as Arrow batches, never holding them all."""
    cursor = con.cursor()

    def start() -> tuple[pa.RecordBatchReader, list[pa.RecordBatch]]:
        # The first batch waits for the whole sort, so it is read here.
        reader = cursor.sql(sql, params=list(params)).to_arrow_reader(FETCH_ROWS)
        return reader, list(itertools.islice(reader, 1))

    try:
        reader, first = _sort_within_budget(con, start)
        yield from first
        yield from reader
    finally:
        cursor.close()


def _sort_within_budget(con: duckdb.DuckDBPyConnection, sort: Callable[[], Any]) -> Any:
    """Run ``sort`` with ``SORT_MEMORY`` to grow by (``bounded_memory``).

    DuckDB cannot spill everything: when the budget is too small for what it
    must hold, the sort runs again with all the memory it wants.
    """
    try:
        with bounded_memory(con, SORT_MEMORY):
            return sort()
    except duckdb.OutOfMemoryException:
        logger.info("the sort needs more than its memory budget; sorting in memory")
        return sort()


def _tier_counts(con: duckdb.DuckDBPyConnection, standard: Standard) -> list[tuple]:
    """Return (tier, colour, clients) for every tier, best first, then others."""
    counted = dict(
        con.execute("SELECT tier, count(*) FROM scored GROUP BY tier").fetchall()
    )
    rows = [
        (tier.name, tier.color, counted.pop(tier.name, 0)) for tier in standard.tiers
    ]
    for tier, clients in sorted(counted.items(), key=lambda item: str(item[0])):
        rows.append((tier, "#FFFFFF", clients))
    return rows


def _write_summary(
    workbook: xlsx.Workbook,
    formats: _Formats,
    name: str,
    facts: list[tuple[str, Any, ColumnKind]],
    tier_counts: list[tuple],
    lang: str,
    issues_sheet: str | None,
) -> None:
    """Write the summary sheet: facts of the run, then clients per tier.

    It points to ``issues_sheet`` for the rows' reasons, or, when None
    (nothing to report), says that every row was loaded.
    """
    worksheet = workbook.add_worksheet(name)
    for col, width in enumerate((22, 30, 30)):
        worksheet.set_column_width(col, width)
    worksheet.write(0, 0, t("export.summary.title", lang), formats.title)
    row = 2
    for label, value, kind in facts:
        worksheet.write(row, 0, label, formats.bold)
        _write_value(worksheet, row, 1, value, kind, formats)
        row += 1

    row += 1
    worksheet.write(row, 0, t("export.summary.tier_counts", lang), formats.header)
    worksheet.write(row, 1, t("export.summary.clients", lang), formats.header)
    worksheet.write(row, 2, t("export.summary.share", lang), formats.header)
    total = sum(clients for _, _, clients in tier_counts)
    for tier, color, clients in tier_counts:
        row += 1
        label = tier if tier is not None else t("export.sheet.unscored", lang)
        worksheet.write(row, 0, str(label), formats.fill(color))
        worksheet.write(row, 1, clients)
        worksheet.write(row, 2, clients / total if total else 0, formats.percent)
    row += 1
    worksheet.write(row, 0, t("export.summary.total", lang), formats.bold)
    worksheet.write(row, 1, total, formats.bold)
    row += 2
    if issues_sheet is None:
        worksheet.write(row, 0, t("export.issues.none", lang))
    else:
        worksheet.write(row, 0, t("export.summary.see_sheet", lang, sheet=issues_sheet))


def _write_value(
    worksheet: Any, row: int, col: int, value: Any, kind: ColumnKind, formats: _Formats
) -> None:
    """Write one summary value by its kind; None leaves the cell empty."""
    if value is None:
        return
    if kind in ("date", "datetime") and isinstance(value, dt.date):
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        # rust_xlsxwriter refuses seconds past 59.999 (12:00:59.9996 would
        # fail the export); the cells show minutes, so whole seconds do.
        value = value.replace(microsecond=0)
        worksheet.write_datetime_py(row, col, value, formats.for_kind(kind))
    elif kind in ("integer", "number") and isinstance(value, (int, float)):
        worksheet.write(row, col, value, formats.for_kind(kind))
    else:
        # A str is always written as text, never as a formula or a number.
        worksheet.write(row, col, str(value))


def _version_line(
    standard: Standard, meta: ExportMeta, lang: str
) -> tuple[str, Any, ColumnKind]:
    """The summary's version line; an edited or unpublished draft says so
    (see ExportMeta)."""
    if meta.standard_edited:
        key = "export.summary.version_edited"
    elif meta.standard_unpublished:
        key = "export.summary.version_unpublished"
    else:
        return ("version", standard.version, "integer")
    return ("version", t(key, lang, version=standard.version), "text")


def _summary_facts(
    standard: Standard, prepared: Any, result: Any, meta: ExportMeta, lang: str
) -> list[tuple[str, Any, ColumnKind]]:
    """Return the (label, value, kind) lines at the top of the summary."""
    as_of = meta.as_of or getattr(prepared, "as_of", None)
    lines: list[tuple[str, Any, ColumnKind]] = [
        ("dataset", meta.dataset_name, "text"),
        ("sheet", meta.sheet, "text"),
        ("as_of", as_of, "date"),
        ("standard", standard.name, "text"),
        _version_line(standard, meta, lang),
        ("rows_in_file", getattr(prepared, "rows_in_file", None), "integer"),
        (_loaded_key(prepared), getattr(prepared, "rows_loaded", None), "integer"),
        ("rows_scored", getattr(result, "rows_scored", None), "integer"),
        ("rows_unscored", getattr(result, "rows_unscored", None), "integer"),
        ("rows_excluded", getattr(prepared, "rows_excluded", None), "integer"),
        ("rows_rejected", getattr(prepared, "rows_rejected", None), "integer"),
        *_transaction_lines(prepared, lang),
        ("generated_at", meta.generated_at, "datetime"),
        ("generated_by", meta.generated_by, "text"),
    ]
    return [
        (t(f"export.summary.{key}", lang), value, kind) for key, value, kind in lines
    ]


def _loaded_key(prepared: Any) -> str:
    """A transaction table alone loads rows, rolled up to fewer clients."""
    if getattr(prepared, "kind", None) == "transactions":
        return "rows_loaded_transactions"
    return "rows_loaded"


def _transaction_lines(prepared: Any, lang: str) -> list[tuple[str, Any, ColumnKind]]:
    """The transaction table's row accounting, when one was joined to the
    client table (its rows for clients not in that table are excluded), and
    which table's value was scored."""
    if getattr(prepared, "kind", None) != "both":
        return []
    keys = ("rows_in_file", "rows_loaded", "rows_excluded", "rows_rejected")
    lines: list[tuple[str, Any, ColumnKind]] = [
        (f"transaction_{key}", getattr(prepared, f"transaction_{key}", None), "integer")
        for key in keys
    ]
    # Which value was scored where both tables have one (see the columns).
    rule = t("export.summary.as_scored_rule", lang)
    return lines + [("as_scored", rule, "text")]


# --- data issues and standard sheets ----------------------------------------


def _issue_table(prepared: Any, lang: str) -> tuple[list[_Column], list[tuple]]:
    """Return the columns and rows of the data issues sheet."""
    issues = getattr(prepared, "issues", None)
    if issues is None or len(issues) == 0:
        return [_Column(t("export.issues.reason", lang), "", "text")], [
            (t("export.issues.none", lang),)
        ]
    frame = describe_issues(issues, lang)
    columns = [
        _Column(str(name), "", _frame_kind(frame[name])) for name in frame.columns
    ]
    rows = [
        tuple(_cell_value(value, column) for value, column in zip(row, columns))
        for row in frame.itertuples(index=False, name=None)
    ]
    return columns, rows


def _cell_value(value: Any, column: _Column) -> Any:
    """Return a data frame value ready for its column's write method."""
    if _is_missing(value):
        return None
    if column.kind == "text":
        return str(value)
    if column.kind == "datetime":
        return value.to_pydatetime()
    return value


def _frame_kind(series: Any) -> ColumnKind:
    """Return the cell kind of a data frame column."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def _is_missing(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _label(item: Any, lang: str) -> str:
    label = getattr(item, "label", None) or {}
    return label.get(lang) or label.get("zh") or getattr(item, "key", "")


def _number_text(value: float) -> str:
    """Return 500000.0 as "500,000" and 0.35 as "0.35" (never "5e+05")."""
    return f"{value:,.10g}"


def _metric_parameters(metric: Any, lang: str) -> str:
    """Return the method's parameters as one readable line."""
    if metric.method == "quantile":
        return t("export.params.bins", lang, bins=metric.bins)
    if metric.method == "thresholds":
        cuts = " / ".join(_number_text(cut) for cut in metric.cuts)
        return t("export.params.cuts", lang, cuts=cuts)
    if metric.method == "category":
        pairs = ", ".join(
            f"{value} → {score}" for value, score in metric.categories.items()
        )
        return t("export.params.categories", lang, categories=pairs, other=metric.other)
    return t(
        "export.params.range",
        lang,
        low=_number_text(metric.low),
        high=_number_text(metric.high),
    )


def _gate_operator(op: str, lang: str) -> str:
    return t(f"export.op.{op}", lang) if op in ("in", "not_in", "missing") else op


def _gate_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def _standard_sections(
    standard: Standard, lang: str
) -> list[tuple[str, list[str], list[tuple]]]:
    """Return (title, headers, rows) for each section of the standard sheet."""

    def h(key: str) -> str:
        return t(f"export.standard.{key}", lang)

    about = [
        (h("name"), standard.name),
        (h("version"), standard.version),
        (h("tier_mode"), t(f"export.standard.tier_mode.{standard.tier_mode}", lang)),
        (h("note"), standard.note),
    ]
    dimensions = [
        (_label(dim, lang), dim.key, dim.weight) for dim in standard.dimensions
    ]
    metrics = [
        (
            _label(dim, lang),
            _label(metric, lang),
            metric.key,
            metric.field,
            metric.weight,
            t(f"export.method.{metric.method}", lang),
            _metric_parameters(metric, lang),
            t(f"export.direction.{metric.direction}", lang),
            t(f"export.missing.{metric.missing}", lang),
        )
        for dim, metric in standard.metrics()
    ]
    tiers = [
        (tier.name, tier.color, tier.min_score, tier.share) for tier in standard.tiers
    ]
    gates = [
        (
            _label(gate, lang) or "",
            gate.field,
            _gate_operator(gate.op, lang),
            _gate_value(gate.value),
            t(f"export.action.{gate.action}", lang),
            gate.tier,
        )
        for gate in standard.gates
    ] or [(h("no_gates"),)]
    return [
        (h("name"), [], about),
        (h("dimensions"), [h("dimension"), h("key"), h("weight")], dimensions),
        (
            h("metrics"),
            [
                h("dimension"),
                h("metric"),
                h("key"),
                h("field"),
                h("weight"),
                h("method"),
                h("parameters"),
                h("direction"),
                h("missing"),
            ],
            metrics,
        ),
        (h("tiers"), [h("tier"), h("color"), h("min_score"), h("share")], tiers),
        (
            h("gates"),
            [h("gate"), h("field"), h("operator"), h("value"), h("action"), h("tier")],
            gates,
        ),
    ]


def _write_standard(
    workbook: xlsx.Workbook,
    formats: _Formats,
    name: str,
    standard: Standard,
    lang: str,
) -> None:
    """Write the standard's parameters, one section under another."""
    worksheet = workbook.add_worksheet(name)
    for col, width in enumerate((18, 18, 14, 14, 14, 14, 40, 16, 16)):
        worksheet.set_column_width(col, width)
    row = 0
    for index, (title, headers, rows) in enumerate(_standard_sections(standard, lang)):
        if index:
            worksheet.write(row, 0, title, formats.title)
            row += 1
        for col, header in enumerate(headers):
            worksheet.write(row, col, header, formats.header)
        row += 1 if headers else 0
        for values in rows:
            for col, value in enumerate(values):
                is_number = isinstance(value, (int, float)) and not isinstance(
                    value, bool
                )
                if is_number:
                    worksheet.write(row, col, value)
                elif isinstance(value, str) and _COLOR.fullmatch(value):
                    worksheet.write(row, col, value, formats.fill(value))
                elif value is not None:
                    worksheet.write(row, col, str(value))
            row += 1
        row += 1


def _write_playbook(tables: _SheetWriter, standard: Standard, lang: str) -> None:
    """Write the service playbook (服务策略), one row per tier."""
    frame = playbook_frame(standard, lang)
    kinds = {"cadence_days": "integer"}
    columns = [
        _Column(header, key, kinds.get(key, "text"))
        for key, header in playbook_headers(lang).items()
    ]
    rows = list(frame[list(playbook_headers(lang))].itertuples(index=False))
    batches = _rows_as_batches(columns, rows)
    tables.write(t("insight.sheet.playbook", lang), columns, batches, len(rows))


# --- public writers ----------------------------------------------------------


# The writer raises OSError for the file, RuntimeError once writing failed.
_WRITE_ERRORS = (OSError, RuntimeError)


def _save(workbook: xlsx.Workbook, target: Target) -> None:
    """Assemble and compress the workbook into a path or a binary file object."""
    if isinstance(target, (str, Path)):
        workbook.close(str(target))
        return
    # Saved to a file and copied in blocks: the writer's own in-memory save
    # would hold the whole zip once more (hundreds of MB at 1M clients).
    with tempfile.TemporaryDirectory(prefix="tiering-xlsx-") as folder:
        saved = Path(folder) / "workbook.xlsx"
        workbook.close(str(saved))
        with saved.open("rb") as source:
            shutil.copyfileobj(source, target, length=1 << 20)


def _target_name(target: Target) -> str:
    if isinstance(target, (str, Path)):
        return Path(target).name
    return str(getattr(target, "name", "") or "")


def write_workbook(
    target: Target,
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    prepared: PreparedData | None,
    result: ScoredResult | None,
    meta: ExportMeta,
    lang: str = DEFAULT_LANG,
    progress: Progress | None = None,
    *,
    rows_per_sheet: int = MAX_DATA_ROWS,
) -> None:
    """Write the tiered list as an .xlsx workbook.

    Sheets, in order: summary; all clients; one per tier (best first); data
    issues; the standard's parameters. A table longer than ``rows_per_sheet``
    continues on further sheets named ``<name> (2)`` and so on.

    Args:
        target: file path, or a binary file object (e.g. ``io.BytesIO``).
        con: connection holding the ``source`` and ``scored`` tables.
        standard: the ``Standard`` used for scoring.
        prepared: the ``PreparedData`` of the load (row accounting and
            issues); may be None when unknown.
        result: the ``ScoredResult`` of the scoring; may be None.
        meta: dataset name, sheet, who and when, as-of date.
        lang: language of headers, sheet names and labels.
        progress: called with (step, rows done, rows total) while writing.
        rows_per_sheet: data rows per sheet; Excel's limit unless testing.

    Raises:
        ExportError: nothing has been scored yet, or the file cannot be
            written (folder missing, file open in Excel).
    """
    columns = _export_columns(con, standard, lang, prepared)
    tier_counts = _tier_counts(con, standard)
    facts = _summary_facts(standard, prepared, result, meta, lang)
    issue_columns, issue_rows = _issue_table(prepared, lang)
    issues_base = t("export.sheet.issues", lang)
    workbook = xlsx.Workbook()
    formats = _Formats(workbook)
    taken: set[str] = set()
    tables = _SheetWriter(workbook, formats, taken, rows_per_sheet)
    try:
        summary = _unique_sheet_name(t("export.sheet.summary", lang), taken)
        issues = getattr(prepared, "issues", None)
        has_issues = issues is not None and len(issues) > 0
        _write_summary(
            workbook, formats, summary, facts, tier_counts, lang,
            issues_base if has_issues else None,
        )
        _write_client_sheets(tables, con, columns, tier_counts, lang, progress)
        issue_batches = _rows_as_batches(issue_columns, issue_rows)
        tables.write(
            issues_base, issue_columns, issue_batches, len(issue_rows), progress
        )
        standard_sheet = _unique_sheet_name(t("export.sheet.standard", lang), taken)
        _write_standard(workbook, formats, standard_sheet, standard, lang)
        if standard.playbook:
            _write_playbook(tables, standard, lang)
        _save(workbook, target)
    except _WRITE_ERRORS as error:
        logger.warning("workbook could not be written: %s", type(error).__name__)
        raise ExportError("export.error.write", file=_target_name(target)) from error
    logger.info(
        "workbook written: %d columns, %d tiers", len(columns), len(tier_counts)
    )


def _write_client_sheets(
    tables: _SheetWriter,
    con: duckdb.DuckDBPyConnection,
    columns: list[_Column],
    tier_counts: list[tuple],
    lang: str,
    progress: Progress | None,
) -> None:
    """Write all clients, then one sheet per tier (best first)."""
    has_source = _has_source(con)
    total = sum(clients for _, _, clients in tier_counts)
    all_sql = _select_sql(columns, has_source)
    base = t("export.sheet.all_clients", lang)
    tables.write(base, columns, _fetch_batches(con, all_sql, []), total, progress)

    tier_sql = _select_sql(columns, has_source, tier_filter=True)
    for tier, _, clients in tier_counts:
        base = tier if tier is not None else t("export.sheet.unscored", lang)
        batches = _fetch_batches(con, tier_sql, [tier])
        tables.write(base, columns, batches, clients, progress)


def _whole_number_columns(
    con: duckdb.DuckDBPyConnection, columns: Sequence[_Column], has_source: bool
) -> set[str]:
    """The headers of the number columns that hold whole numbers only.

    Numbers are held as doubles, which a CSV would show as ``4.0``; these
    columns are written as integers instead (one scan, all columns at once).
    """
    numbers = [c for c in columns if c.kind in ("integer", "number")]
    if not numbers:
        return set()
    tests = ", ".join(
        f"coalesce(bool_and({name} = trunc({name})) AND max(abs({name})) < 1e15, true)"
        for name in (quote_identifier(c.header) for c in numbers)
    )
    # fetchall, not fetchone: a result left unfinished blocks the connection.
    (found,) = con.execute(
        f"SELECT {tests} FROM ({_select_sql(columns, has_source, ordered=False)})"
    ).fetchall()
    return {column.header for column, whole in zip(numbers, found) if whole}


def _neutralised(column: _Column, whole: bool = False) -> str:
    """Return the SQL of a CSV cell, text that could start a formula prefixed,
    a number of a ``whole`` column as an integer."""
    value = column.expression
    if whole:
        return f"CAST({value} AS BIGINT)"
    if column.kind != "text":
        return value
    return (
        f"CASE WHEN regexp_matches({value}, $formula_lead) "
        f"AND NOT regexp_matches({value}, $plain_number) "
        f"THEN '''' || {value} ELSE {value} END"
    )


def write_csv(
    target: Target,
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    lang: str = DEFAULT_LANG,
    *,
    prepared: PreparedData | None = None,
) -> None:
    """Write the tiered list as CSV: UTF-8 with BOM, the all-clients columns.

    Text is written exactly as read (ids keep their leading zeros), except
    that text which would start a spreadsheet formula (``=``, ``@``, or
    ``+``/``-`` not followed by a plain number) gets a leading ``'``.

    Args:
        target: file path, or a binary file object.
        con: connection holding the ``source`` and ``scored`` tables.
        standard: the ``Standard`` used for scoring.
        lang: language of the added column names.
        prepared: the ``PreparedData`` of the load, as given to
            ``write_workbook``, so the columns and headers are the same as
            the workbook's all-clients sheet.

    Raises:
        ExportError: nothing has been scored yet, or the file cannot be written.
    """
    columns = _export_columns(con, standard, lang, prepared)
    has_source = _has_source(con)
    whole = _whole_number_columns(con, columns, has_source)
    safe = [
        _Column(c.header, _neutralised(c, c.header in whole), c.kind) for c in columns
    ]
    sql = _select_sql(safe, has_source)
    try:
        with tempfile.TemporaryDirectory(prefix="tiering-csv-") as folder:
            body = Path(folder) / "body.csv"
            copy = f"COPY ({sql}) TO $target (FORMAT csv, HEADER true)"
            params = {
                "target": str(body),
                "formula_lead": _FORMULA_LEAD,
                "plain_number": _PLAIN_NUMBER,
            }
            _sort_within_budget(con, lambda: con.execute(copy, params).fetchall())
            _copy_with_bom(body, target)
    except OSError as error:
        logger.warning("CSV could not be written: %s", type(error).__name__)
        raise ExportError("export.error.write", file=_target_name(target)) from error
    logger.info("CSV written: %d columns", len(columns))


def _copy_with_bom(body: Path, target: Target) -> None:
    """Copy ``body`` to ``target`` behind a UTF-8 byte order mark."""
    with body.open("rb") as source:
        if isinstance(target, (str, Path)):
            with open(target, "wb") as out:
                out.write(b"\xef\xbb\xbf")
                shutil.copyfileobj(source, out, length=1 << 20)
        else:
            target.write(b"\xef\xbb\xbf")
            shutil.copyfileobj(source, target, length=1 << 20)


def write_issues_workbook(
    target: Target, prepared: Any, lang: str = DEFAULT_LANG
) -> None:
    """Write the data-quality report alone, as the workbook's issues sheet.

    Args:
        target: file path, or a binary file object (e.g. ``io.BytesIO``).
        prepared: the ``PreparedData`` of a load (its ``issues``).
        lang: language of the headers, statuses and reasons.

    Raises:
        ExportError: the file cannot be written.
    """
    columns, rows = _issue_table(prepared, lang)
    workbook = xlsx.Workbook()
    tables = _SheetWriter(workbook, _Formats(workbook), set(), MAX_DATA_ROWS)
    try:
        batches = _rows_as_batches(columns, rows)
        tables.write(t("export.sheet.issues", lang), columns, batches, len(rows))
        _save(workbook, target)
    except _WRITE_ERRORS as error:
        logger.warning("issues workbook could not be written: %s", type(error).__name__)
        raise ExportError("export.error.write", file=_target_name(target)) from error
