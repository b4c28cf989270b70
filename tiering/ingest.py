"""Read a spreadsheet or text file into a table of text, row numbers kept.

The steps:

1. Take the bytes (path, bytes or an open binary file) and refuse files over
   the size limit or empty ones.
2. Decide the format from the content, not the extension: a zip container is
   an .xlsx/.xlsm workbook, an OLE2 container a legacy .xls (or, when it holds
   an ``EncryptedPackage`` stream, a password-protected workbook), markup with
   a ``<table>`` an HTML export, anything else delimited text. A PDF
   (``%PDF-``) is refused whatever its name, and text named .xlsx/.xlsm is
   read only if it splits into columns.
3. Workbooks are read with python-calamine; every cell becomes the text Excel
   shows for it in General format (``123`` not ``123.0``, dates as ISO text).
   For .xlsx, what calamine does not expose is read from the sheet's XML
   (``tiering.sheetxml``) only when needed: zero-padding number formats of
   code columns holding numbers (``000123``), and formulas without saved
   values when a named column comes out empty.
   Text is decoded strictly as UTF-8, then GB18030 if the result reads as
   Chinese, else by charset-normalizer's verdict (Latin-1/cp1252 exports);
   the delimiter is chosen by how consistently it splits the first lines (on
   a tie, the one giving more fields, so decimal commas in a semicolon file
   do not win); the body is parsed by pyarrow with every column as text.
4. The header is the first row that looks like one (mostly filled, mostly
   words rather than numbers), unless the caller names it.
5. Blank rows and totals/notes rows below the header are taken out and listed
   in ``RawTable.skipped``, so no row disappears without a reason. A notes
   block at the bottom ends the table; a lone note between data rows is
   only that row. A text row with more or fewer fields than the header is
   kept and listed in ``RawTable.notes`` for the user to check.

Every value stays text exactly as typed; parsing numbers and dates is the job
of ``tiering.prepare``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tiering import config, sheetxml
from tiering.errors import InputFileError

logger = logging.getLogger(__name__)

Source = str | Path | bytes | BinaryIO

ROW_COLUMN = "_row"
HEADER_SCAN_ROWS = 30
SNIFF_LINES = 200
SNIFF_CHARS = 262144
# Threads turning typed .xlsx columns into text (this machine class has two cores).
TEXT_THREADS = 2
# UTF-8 bytes decoded for the sample: 4 bytes a character at most.
SAMPLE_BYTES = 4 * SNIFF_CHARS + 4096

ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
# Names of formats that are always a zip container: text under such a name
# is read only when it splits into columns (see ``_check_text_named_xlsx``).
ZIP_SUFFIXES = (".xlsx", ".xlsm")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
BOMS = {
    b"\xef\xbb\xbf": "utf-8-sig",
    b"\xff\xfe": "utf-16",
    b"\xfe\xff": "utf-16",
}
DELIMITERS = (",", "\t", ";", "|")
WHITESPACE = " "

# Labels that mark a totals or notes row when they open the row (spaces
# ignored, so 合 计 counts). RE2 syntax: the pattern also runs in pyarrow.
TOTAL_LABEL = (
    r"^(合计|小计|总计|总合计|本页合计|累计合计|total|subtotal|grandtotal)([:：].*)?$"
)
NOTE_LABEL = r"^(备注|说明|注|附注|填表说明|note|notes)([:：].*)?$"
# The first characters a totals or notes label (in any case) or a cell of
# blank space can open with; "" is an empty cell.
LABEL_OPENINGS = (*"合小总本累备说注附填tsgnTSGN", *" \t\n\v\f\r", "")

REASON_BLANK = "ingest.reason.blank_row"
REASON_TOTAL = "ingest.reason.total_row"
REASON_NOTE = "ingest.reason.note_row"

REASON_EXTRA_FIELDS = "ingest.reason.extra_fields"
REASON_MISSING_FIELDS = "ingest.reason.missing_fields"
REASON_FIELD_COUNT_MORE = "ingest.reason.field_count_more"
# Rows with another field count than the header listed one by one; the rest
# are counted on one line (as ``tiering.prepare`` caps converted values).
FIELD_COUNT_LIMIT = 1_000

# Excel keeps 15 significant digits; a whole number beyond that has lost its
# last digits before we ever see it.
EXACT_DIGITS_LIMIT = 1e15

_NUMBER_TEXT = re.compile(r"^[\s¥￥$+\-(（]*[\d,，.．０-９]+[)）%万亿元\s]*$")
_DATE_TEXT = re.compile(r"^\d{2,4}[-/.年]\d{1,2}[-/.月]\d{1,4}")


@dataclass(frozen=True)
class SheetInfo:
    """One sheet of a workbook (a text file has one, named after the file)."""

    name: str
    hidden: bool
    rows: int


@dataclass(frozen=True)
class SkippedRow:
    """A row below the header left out of the table, with the reason key."""

    row: int
    reason_key: str


@dataclass(frozen=True)
class RowNote:
    """A row loaded as it is that the user should check: the reason key and
    the facts its message names (``row``, ``column``, ``value``, ``detail``)."""

    row: int
    reason_key: str
    column: str | None = None
    value: str | None = None
    detail: str | None = None


@dataclass(frozen=True, eq=False)
class RawTable:
    """A file read as text: one column per source column plus ``_row``.

    ``frame`` holds every value as typed (pandas ``str`` dtype, missing for an
    empty cell) and the integer column ``_row``, the row number Excel or a
    text editor shows (header counted). ``imprecise_cells`` lists (row,
    column) of whole numbers stored with more digits than Excel keeps;
    ``formula_columns`` the columns holding formulas whose values were never
    saved (read as empty); ``notes`` the rows loaded as they are but worth
    checking (a text row with more or fewer fields than its header).
    """

    frame: pd.DataFrame
    source_name: str
    sheet: str | None
    header_row: int
    sheets: tuple[SheetInfo, ...]
    skipped: tuple[SkippedRow, ...]
    encoding: str | None
    delimiter: str | None
    file_format: str = "csv"
    empty_columns: tuple[str, ...] = ()
    imprecise_cells: tuple[tuple[int, str], ...] = ()
    truncated: bool = False
    formula_columns: tuple[str, ...] = ()
    notes: tuple[RowNote, ...] = ()

    @property
    def columns(self) -> list[str]:
        """The source column names, without ``_row``."""
        return [name for name in self.frame.columns if name != ROW_COLUMN]

    @property
    def data_rows(self) -> int:
        """Data rows below the header, the skipped ones included."""
        return len(self.frame) + len(self.skipped)


@dataclass
class _Grid:
    """Cell text of a workbook or HTML table, column by column, before the
    header cut. ``is_text`` covers the first rows only (header detection)."""

    columns: list[np.ndarray]
    is_text: list[list[bool]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    imprecise: list[tuple[int, int]] = field(default_factory=list)

    @property
    def height(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def row(self, index: int) -> list[str | None]:
        return [column[index] for column in self.columns]

    def head(self) -> list[list[str | None]]:
        return [self.row(index) for index in range(min(self.height, HEADER_SCAN_ROWS))]


# --- public API ---------------------------------------------------------------


def read_table(
    source: Source,
    filename: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    max_rows: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RawTable:
    """Read a client or transaction file into a ``RawTable`` of text.

    Args:
        source: a path, the file's bytes, or an open binary file.
        filename: the name shown to the user (defaults to the path's name).
        sheet: the sheet to read; default is the first visible sheet with data.
        header_row: the 1-based row holding the column names; detected if None.
        max_rows: read at most this many data rows (a preview); the table is
            then marked ``truncated``.
        progress: called with ("read", rows done, rows total) when the file
            starts (0, 0) and when it has been read.

    Returns:
        The table, its row numbers, the rows skipped and how the file was read.

    Raises:
        InputFileError: the file is empty, too large, not a spreadsheet,
            password-protected, has no data, has too many rows, or the sheet
            or header row asked for does not exist.
    """
    data, name = _read_bytes(source, filename)
    kind = _sniff_format(data, name)
    logger.debug("reading %d bytes as %s", len(data), kind)
    if progress:
        progress("read", 0, 0)

    if kind in ("xlsx", "xls"):
        table = _read_workbook(data, name, kind, sheet, header_row, max_rows)
    elif sheet is not None and sheet != _text_sheet_name(name):
        raise InputFileError(
            "error.file.unknown_sheet",
            file=name,
            sheet=sheet,
            sheets=_text_sheet_name(name),
        )
    elif kind == "html":
        table = _read_html(data, name, header_row, max_rows)
    else:
        table = _read_text(data, name, header_row, max_rows)
    if progress:
        progress("read", table.data_rows, table.data_rows)
    return table


def list_sheets(source: Source, filename: str | None = None) -> tuple[SheetInfo, ...]:
    """List the sheets of a workbook (one entry for a text file).

    Args:
        source: a path, the file's bytes, or an open binary file.
        filename: the name shown to the user.

    Returns:
        One ``SheetInfo`` per worksheet in workbook order, hidden ones flagged.
        An .xlsx sheet's ``rows`` is its last row as the sheet's dimension
        names it (as ``read_table`` reports it), read without its cells.

    Raises:
        InputFileError: as for ``read_table``.
    """
    data, name = _read_bytes(source, filename)
    kind = _sniff_format(data, name)
    if kind == "xlsx" and (listed := _xlsx_sheets_from_xml(data)) is not None:
        return tuple(info for info, _, _ in listed[1])
    if kind in ("xlsx", "xls"):
        return tuple(info for info, _ in _open_sheets(data, name))
    table = read_table(data, name)
    return table.sheets


def head_rows(
    source: Source,
    filename: str | None = None,
    sheet: str | None = None,
    count: int = 12,
) -> pd.DataFrame:
    """The first rows of a sheet as the user sees them, before any header cut.

    For the header-row correction: the user finds the row of column names
    by its number.

    Args:
        source: a path, the file's bytes, or an open binary file.
        filename: the name shown to the user.
        sheet: the sheet (default: as ``read_table`` chooses).
        count: how many rows to show.

    Returns:
        A frame indexed by row number (1-based), columns named A, B, C…,
        every cell as text (None when empty).

    Raises:
        InputFileError: as for ``read_table``.
    """
    data, name = _read_bytes(source, filename)
    kind = _sniff_format(data, name)
    if kind in ("xlsx", "xls"):
        cells = _xlsx_head_cells(data, name, sheet, count) if kind == "xlsx" else None
        if cells is None:
            _, loaded = _choose_sheet(_open_sheets(data, name), name, sheet)
            cells = loaded.to_python(skip_empty_area=False, nrows=count)
        grid = _grid_from_cells(cells)
        rows = [grid.row(index) for index in range(grid.height)]
    elif kind == "html":
        parser = _TableParser()
        parser.feed(_decode(data, name)[1])
        rows = parser.rows[:count]
    else:
        lines = _sample_lines(_decode(data, name, whole=False)[1])
        delimiter = _detect_delimiter(lines)
        rows = [
            [cell if cell.strip() else None for cell in _split_line(line, delimiter)]
            for line in lines[:count]
        ]
        while rows and not any(rows[-1]):  # the line break that ends the file
            rows.pop()

    width = max((len(row) for row in rows), default=0)
    frame = pd.DataFrame(
        [list(row) + [None] * (width - len(row)) for row in rows],
        columns=[_column_letter(index) for index in range(width)],
        dtype=object,
    )
    frame.index = range(1, len(frame) + 1)
    return frame


# --- bytes and format ---------------------------------------------------------


def _read_bytes(source: Source, filename: str | None) -> tuple[bytes, str]:
    """Return the file's bytes and display name, refusing oversized files."""
    limit_mb = config.max_upload_mb()
    limit = limit_mb * 1024 * 1024

    if isinstance(source, (str, Path)):
        path = Path(source)
        name = filename or path.name
        try:
            size = path.stat().st_size
            if size > limit:
                _refuse_size(name, size, limit_mb)
            data = path.read_bytes()
        except OSError as error:
            logger.warning("cannot open input file: %s", type(error).__name__)
            raise InputFileError("error.file.unreadable", file=name) from error
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name = filename or "upload"
        data = bytes(source)
    else:
        name = filename or Path(str(getattr(source, "name", "upload"))).name
        data = source.read(limit + 1)

    if len(data) > limit:
        _refuse_size(name, len(data), limit_mb)
    # The head decides for any real file; stripping all of it copies it.
    if not data[:65536].strip() and not data.strip():
        raise InputFileError("error.file.empty", file=name)
    return data, name


def _refuse_size(name: str, size: int, limit_mb: int) -> None:
    size_mb = round(size / 1024 / 1024, 1)
    raise InputFileError(
        "error.file.too_large", file=name, size_mb=size_mb, limit_mb=limit_mb
    )


def _sniff_format(data: bytes, name: str) -> str:
    """Return ``xlsx``, ``xls``, ``html`` or ``text`` from the file's content."""
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(PDF_MAGIC):
        # A text-only PDF has no NUL bytes and would pass as one-column text.
        raise InputFileError("error.file.pdf", file=name)
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        if ENCRYPTED_STREAM in data:
            raise InputFileError("error.file.password_protected", file=name)
        return "xls"

    head = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<table" in head:
        return "html"
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # NUL bytes and no UTF-16 mark: a binary file of some other kind.
        raise InputFileError("error.file.not_spreadsheet", file=name)
    return "text"


# --- workbooks ----------------------------------------------------------------


def _open_sheets(data: bytes, name: str) -> list[tuple[SheetInfo, object]]:
    """Open every worksheet; return its info and the loaded calamine sheet."""
    from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in workbook.sheets_metadata:
            if meta.typ not in (SheetTypeEnum.WorkSheet,):
                continue
            loaded = workbook.get_sheet_by_name(meta.name)
            hidden = str(meta.visible).rsplit(".", 1)[-1].lower() != "visible"
            rows = loaded.height if loaded.width else 0
            sheets.append((SheetInfo(meta.name, hidden, rows), loaded))
    except PasswordError as error:
        raise InputFileError("error.file.password_protected", file=name) from error
    except Exception as error:  # calamine raises several unrelated types
        logger.warning("workbook cannot be opened: %s", type(error).__name__)
        raise InputFileError("error.file.not_spreadsheet", file=name) from error
    return sheets


def _choose_sheet(
    sheets: list[tuple[SheetInfo, object]], name: str, sheet: str | None
) -> tuple[SheetInfo, object]:
    """Return the sheet asked for, or the first visible sheet with data."""
    if sheet is not None:
        for info, loaded in sheets:
            if info.name == sheet:
                return info, loaded
        names = "、".join(info.name for info, _ in sheets)
        raise InputFileError(
            "error.file.unknown_sheet", file=name, sheet=sheet, sheets=names
        )

    for info, loaded in sheets:
        if not info.hidden and info.rows > 0 and _has_values(loaded):
            return info, loaded
    raise InputFileError("error.file.no_data", file=name)


def _has_values(loaded) -> bool:
    """True if any of the sheet's first rows holds a value."""
    for row in loaded.to_python(nrows=HEADER_SCAN_ROWS * 10):
        if any(value not in ("", None) for value in row):
            return True
    return False


def _read_workbook(
    data: bytes,
    name: str,
    kind: str,
    sheet: str | None,
    header_row: int | None,
    max_rows: int | None,
) -> RawTable:
    """Read one sheet of a workbook into a ``RawTable``."""
    if kind == "xlsx":
        try:
            table = _read_xlsx_fast(data, name, sheet, header_row, max_rows)
        except (_NeedsCalamine, *sheetxml.PART_ERRORS) as reason:
            logger.info("sheet read cell by cell with python-calamine: %s", reason)
        else:
            if table is not None:
                return table

    sheets = _open_sheets(data, name)
    info, loaded = _choose_sheet(sheets, name, sheet)
    _check_row_limit(name, info.rows - 1)

    nrows = (
        None if max_rows is None else max_rows + (header_row or HEADER_SCAN_ROWS) + 1
    )
    cells = loaded.to_python(skip_empty_area=False, nrows=nrows)
    grid = _grid_from_cells(cells)
    grid.merged = [tuple(pair) for pair in (loaded.merged_cell_ranges or [])]
    header_index = _pick_header(
        grid.head(), grid.is_text, header_row, name, grid.merged, grid.height
    )
    formula_cols: dict[int, list[int]] = {}
    if kind == "xlsx":
        formula_cols = _check_sheet_xml(
            data,
            info.name,
            _id_like_columns(grid, header_index, cells),
            _empty_named_columns(grid, header_index),
            lambda xml, styles, columns: _pad_codes(
                grid, xml, styles, columns, header_index
            ),
            header_index,
        )

    table = _table_from_grid(
        grid,
        name,
        header_index + 1,
        max_rows,
        sheet=info.name,
        sheets=tuple(i for i, _ in sheets),
        encoding=None,
        delimiter=None,
        file_format=kind,
    )
    headers = _header_texts(grid, header_index)
    headers += [None] * (len(grid.columns) - len(headers))
    return _with_formula_columns(table, headers, formula_cols)


def _check_sheet_xml(
    data: bytes,
    sheet: str,
    id_columns: set[int],
    empty_columns: set[int],
    pad: Callable[[bytes, dict[int, sheetxml.PaddedFormat], set[int]], None],
    header_index: int,
) -> dict[int, list[int]]:
    """Pad zero-formatted codes and find formulas without saved values.

    The sheet's XML is read only when needed: an id-like column holds
    numbers and the workbook has a zero-padding format, or a named column
    is empty in every data row (formulas never calculated look like that).

    Returns:
        0-based column → 0-based rows below the header of its formula cells
        without a value.
    """
    if not id_columns and not empty_columns:
        return {}
    archive = sheetxml.open_archive(data)
    if archive is None:
        return {}

    styles = sheetxml.padded_styles(archive) if id_columns else {}
    if not styles and not empty_columns:
        return {}
    xml = sheetxml.sheet_part(archive, sheet)
    if xml is None:
        return {}
    if styles:
        pad(xml, styles, id_columns)
    if not empty_columns:
        return {}
    found = sheetxml.formulas_without_values(xml)
    return {
        column: [row for row in rows if row > header_index]
        for column, rows in found.items()
        if any(row > header_index for row in rows)
    }


# Headers of codes that may be stored as numbers: the id-kind fields and
# words any code column carries (编号, 代码, 号码, 卡号, 账号).
_CODE_HEADER = re.compile(r"编号|代码|代号|号码|卡号|账号|工号|证号|code|no\.?$", re.I)


def _id_like_columns(
    grid: _Grid, header_index: int, cells: list[list[object]]
) -> set[int]:
    """Columns whose header names a code and that hold number cells."""
    found = set()
    for index, header in enumerate(grid.row(header_index)):
        if header is None:
            continue
        if _is_code_header(header) and any(
            type(row[index]) is float
            for row in cells[header_index + 1 :]
            if index < len(row)
        ):
            found.add(index)
    return found


def _is_code_header(header: str | None) -> bool:
    """True for a header naming an id-kind field or a code (编号, 账号…)."""
    from tiering.fields import FIELD_BY_KEY, field_for_header

    if header is None:
        return False
    key = field_for_header(header)
    if key is not None and FIELD_BY_KEY[key].kind == "id":
        return True
    return bool(_CODE_HEADER.search(header))


def _empty_named_columns(grid: _Grid, header_index: int) -> set[int]:
    """Columns with a header and no value in any row below it."""
    if grid.height <= header_index + 1:
        return set()
    return {
        index
        for index, column in enumerate(grid.columns)
        if column[header_index] is not None
        and all(value is None for value in column[header_index + 1 :])
    }


def _pad_codes(
    grid: _Grid,
    xml: bytes,
    styles: dict[int, sheetxml.PaddedFormat],
    columns: set[int],
    header_index: int,
) -> None:
    """Show whole numbers in zero-padding formats as Excel does (000123)."""
    padded = 0
    for (row, col), style in sheetxml.styled_cells(xml, set(styles), columns).items():
        if row <= header_index or row >= grid.height or col >= len(grid.columns):
            continue
        text = grid.columns[col][row]
        if text is not None and text.isdigit():
            grid.columns[col][row] = styles[style].apply(text)
            padded += 1
    logger.info("%d codes padded with zeros as their number format shows", padded)


def _with_formula_columns(
    table: RawTable,
    headers: list[str | None],
    formula_cols: dict[int, list[int]],
) -> RawTable:
    """Name the table's columns whose formulas have no saved values."""
    if not formula_cols:
        return table
    names = unique_headers(headers)
    columns = tuple(
        names[index]
        for index in sorted(formula_cols)
        if index < len(names) and names[index] in table.columns
    )
    logger.warning("%d columns have formulas without saved values", len(columns))
    return dataclasses.replace(table, formula_columns=columns)


# --- large .xlsx sheets: Arrow columns from fastexcel ---------------------------
#
# fastexcel parses the sheet once in Rust and hands back typed Arrow columns;
# each cell's text is then made column by column in Arrow compute, with the
# same rules as ``_cell_text``. fastexcel re-parses the whole sheet on every
# load, so the header is found first from the start of the sheet's XML and
# the rows below it are loaded once. Whatever these columns cannot tell
# exactly (a column mixing numbers and text, an error where a number should
# be, time-only or sub-second values, 1904 dates, dates in the header rows)
# sends the sheet back to python-calamine, cell by cell.


class _NeedsCalamine(Exception):
    """The sheet holds something only the cell-by-cell reader shows exactly."""


# Excel's day 1 (1900-01-01); earlier values are times of day without a date.
_FIRST_EXCEL_DAY_MS = -2_208_988_800_000
_DAY_MS = 86_400_000


def _xlsx_sheets(
    archive, count: int
) -> list[tuple[SheetInfo, sheetxml.SheetEntry, sheetxml.SheetHead]]:
    """Every worksheet with its info and first ``count`` rows."""
    listed = sheetxml.worksheets(archive)
    if listed is None:
        raise _NeedsCalamine("not an .xlsx workbook part")
    entries, date1904 = listed
    if date1904:
        raise _NeedsCalamine("dates counted from 1904")

    sheets = []
    for entry in entries:
        head = sheetxml.sheet_head(archive, entry.path, count)
        if head is None:
            raise _NeedsCalamine("a cell kind read only by calamine")
        rows = 0 if not head.rows else (head.height or len(head.rows))
        sheets.append((SheetInfo(entry.name, entry.hidden, rows), entry, head))
    return sheets


def _xlsx_sheets_from_xml(data: bytes, count: int = HEADER_SCAN_ROWS * 10):
    """The archive and ``_xlsx_sheets`` of an .xlsx file, or None when
    python-calamine must open it (not an .xlsx/.xlsm workbook, 1904 dates…)."""
    archive = sheetxml.open_archive(data)
    if archive is None:
        return None
    try:
        return archive, _xlsx_sheets(archive, count)
    except (_NeedsCalamine, *sheetxml.PART_ERRORS) as reason:
        logger.info("workbook opened with python-calamine: %s", reason)
        return None


def _xlsx_head_cells(
    data: bytes, name: str, sheet: str | None, count: int
) -> list[list[object]] | None:
    """The first ``count`` rows of an .xlsx sheet as python-calamine's
    ``to_python`` gives them, read from the sheet's XML alone.

    Rows and columns reach the last filled cell of the first rows scanned
    (calamine's reach the sheet's last one). None when only calamine can
    tell (see ``sheetxml.shown_dates``).
    """
    listed = _xlsx_sheets_from_xml(data, max(count, HEADER_SCAN_ROWS * 10))
    if listed is None:
        return None
    archive, sheets = listed
    _, _, head = _choose_xlsx_sheet(sheets, name, sheet)
    dates = sheetxml.shown_dates(archive, head, count)
    if dates is None:
        logger.info("first rows read with python-calamine: a doubtful date format")
        return None

    filled = [
        (row, col)
        for row, values in enumerate(head.rows)
        for col, value in enumerate(values)
        if value is not None
    ]
    height = min(count, max((row for row, _ in filled), default=-1) + 1)
    width = max((col for _, col in filled), default=-1) + 1
    cells = [
        values[:width] + [None] * (width - len(values)) for values in head.rows[:height]
    ]
    for (row, col), value in dates.items():
        cells[row][col] = value
    return cells


def _choose_xlsx_sheet(sheets, name: str, sheet: str | None):
    """As ``_choose_sheet``, over sheets known by their first rows."""
    if sheet is not None:
        for chosen in sheets:
            if chosen[0].name == sheet:
                return chosen
        names = "、".join(info.name for info, _, _ in sheets)
        raise InputFileError(
            "error.file.unknown_sheet", file=name, sheet=sheet, sheets=names
        )
    for chosen in sheets:
        info, _, head = chosen
        filled = any(v not in ("", None) for row in head.rows for v in row)
        if not info.hidden and info.rows > 0 and filled:
            return chosen
    raise InputFileError("error.file.no_data", file=name)


def _read_xlsx_fast(
    data: bytes,
    name: str,
    sheet: str | None,
    header_row: int | None,
    max_rows: int | None,
) -> RawTable | None:
    """Read an .xlsx sheet into a ``RawTable`` through fastexcel's Arrow columns.

    Raises ``_NeedsCalamine`` when the sheet must be read cell by cell.
    """
    archive = sheetxml.open_archive(data)
    if archive is None:
        return None
    scan = max(HEADER_SCAN_ROWS * 10, header_row or 0)
    sheets = _xlsx_sheets(archive, scan)
    info, entry, head = _choose_xlsx_sheet(sheets, name, sheet)
    _check_row_limit(name, info.rows - 1)

    grid = _grid_from_cells(head.rows[:scan])
    # The merged ranges close the sheet's XML: they are read on a second
    # thread while fastexcel (which lets go of the GIL) loads the rows.
    with ThreadPoolExecutor(max_workers=1) as pool:
        merged = pool.submit(sheetxml.merged_ranges, archive, entry.path)
        header_index = _pick_xlsx_header(grid, header_row, name, info.rows, merged)
        if any(row <= header_index for row, _ in head.date_cells):
            raise _NeedsCalamine("a date in the title or header rows")
        first = header_index + 1
        body, column_types, total = _load_body(data, entry.name, first, max_rows)
        grid.merged = merged.result()
    width = max([len(grid.columns)] + [position + 1 for position in body])
    height = len(next(iter(body.values()))) if body else 0
    # Arrow compute lets go of the GIL: columns turn into text side by side.
    with ThreadPoolExecutor(max_workers=TEXT_THREADS) as pool:
        converted = dict(zip(body, pool.map(_arrow_texts, body.values())))
    texts, imprecise = {}, []
    for position in range(width):
        if position not in converted:
            texts[position] = pa.nulls(height, pa.large_string())
            continue
        texts[position], long_rows = converted[position]
        imprecise += [(first + int(row), position) for row in long_rows]

    headers = _header_texts(grid, header_index)
    headers += [None] * (width - len(headers))
    formula_cols = _check_sheet_xml(
        data,
        entry.name,
        _numeric_code_columns(headers, column_types),
        {
            i
            for i, text in texts.items()
            if headers[i] is not None and text.null_count == len(text)
        },
        lambda xml, styles, columns: _pad_arrow_codes(
            texts, xml, styles, columns, first
        ),
        header_index,
    )
    _fill_merged_arrow(texts, grid.merged, first)

    table = pa.table({str(i): texts[i] for i in range(width)})
    row_numbers = np.arange(first + 1, first + 1 + height, dtype=np.int64)
    truncated = max_rows is not None and total - first > max_rows
    raw = _finish(
        table,
        row_numbers,
        headers,
        name,
        first,
        info.name,
        tuple(info for info, _, _ in sheets),
        None,
        None,
        "xlsx",
        [(row + 1, col) for row, col in imprecise],
        truncated,
    )
    return _with_formula_columns(raw, headers, formula_cols)


def _pick_xlsx_header(
    grid: _Grid, header_row: int | None, name: str, rows: int, merged: Future
) -> int:
    """``_pick_header``, waiting for the merged ranges only if they matter.

    They change the choice only when a header-like row has another below
    it (group labels over names); that is told by trying every row grouped.
    """
    every_row_grouped = [((row, 0), (row, 1)) for row in range(grid.height)]
    choices = {
        _pick_header(grid.head(), grid.is_text, header_row, name, ranges, rows)
        for ranges in ([], every_row_grouped)
    }
    if len(choices) == 1:
        return choices.pop()
    grid.merged = merged.result()
    return _pick_header(grid.head(), grid.is_text, header_row, name, grid.merged, rows)


def _load_body(
    data: bytes, sheet: str, first: int, max_rows: int | None
) -> tuple[dict[int, pa.Array], dict[int, pa.DataType], int]:
    """The typed columns below the header, by sheet column, and the sheet height.

    Every cell is looked at to type its column (``schema_sample_rows=None``):
    a sampled type would turn a text like ``00123`` further down into the
    number 123. ``strict`` refuses columns of mixed kinds instead of showing
    their numbers with nine decimals.
    """
    import fastexcel

    try:
        loaded = fastexcel.read_excel(data).load_sheet(
            sheet,
            header_row=None,
            skip_rows=first,
            n_rows=max_rows,
            schema_sample_rows=None,
            dtype_coercion="strict",
        )
        table, errors = loaded.to_arrow_with_errors()
        positions = [column.absolute_index for column in loaded.selected_columns]
        total = loaded.total_height
    except Exception as error:  # fastexcel raises several unrelated types
        raise _NeedsCalamine(type(error).__name__) from error

    types = {position: table.column(i).type for i, position in enumerate(positions)}
    if errors is not None:
        for cell in errors.errors:
            # In a text column only an Excel error (#N/A) fails; calamine
            # shows it as empty too. Anywhere else it may be a text.
            column_type = table.column(cell.offset_position[1]).type
            if not pa.types.is_string(column_type):
                raise _NeedsCalamine("a cell that does not fit its column's type")
    columns = {position: table.column(i) for i, position in enumerate(positions)}
    return columns, types, total


def _arrow_texts(column: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Cell texts of one typed column (as ``_cell_text``) and its over-long
    whole numbers' positions."""
    kind = column.type
    none = np.array([], dtype=np.int64)
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.large_string()), none
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        blank = pc.or_(pc.equal(pc.utf8_length(column), 0), pc.utf8_is_space(column))
        return pc.if_else(blank, None, column.cast(pa.large_string())), none
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "TRUE", "FALSE").cast(pa.large_string()), none
    if pa.types.is_floating(kind):
        return _float_array_texts(column)
    if pa.types.is_integer(kind):
        return column.cast(pa.large_string()), none
    if pa.types.is_timestamp(kind):
        return _timestamp_texts(column), none
    if pa.types.is_date32(kind):
        return pc.strftime(column, "%Y-%m-%d").cast(pa.large_string()), none
    raise _NeedsCalamine(f"a column of {kind}")


def _float_array_texts(column: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``_number_text`` of every number, in Arrow, Python only for rare ones.

    Whole numbers are cast from int64. For the others Arrow writes the
    shortest text that reads back as the same float; when that has at most
    15 significant digits and no exponent it is exactly what ``{:.15g}``
    gives (rounding to 15 digits cannot move a float that close to a shorter
    decimal), so only longer or exponent texts, and whole numbers past 15
    digits, go through ``_number_text``.
    """
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    numbers = column.to_numpy(zero_copy_only=False)
    if not np.isfinite(numbers[valid]).all():
        raise _NeedsCalamine("a text read as NaN or infinity")  # "nan", "inf"
    whole = valid & (numbers == np.trunc(numbers))
    exact = whole & (np.abs(numbers) < EXACT_DIGITS_LIMIT)
    long_whole = whole & ~exact
    integers = np.where(exact, numbers, 0).astype(np.int64)
    texts = pa.array(integers, mask=~valid).cast(pa.large_string())

    others = valid & ~exact
    if others.any():
        values = numbers[others]
        shortest = pa.array(values).cast(pa.large_string())
        # Without the sign, 16 characters hold at most 15 digits and a point.
        size = pc.binary_length(shortest).to_numpy(zero_copy_only=False)
        plain = (size - (values < 0) <= 16) & (values != np.trunc(values))
        plain &= ~pc.match_substring(shortest, "e").to_numpy(zero_copy_only=False)
        if not plain.all():
            fixed = [_number_text(float(v)) for v in values[~plain]]
            shortest = pc.replace_with_mask(
                shortest, pa.array(~plain), pa.array(fixed, pa.large_string())
            )
        texts = pc.replace_with_mask(texts, pa.array(others), shortest)
    return texts, np.flatnonzero(long_whole)


def _timestamp_texts(column: pa.Array) -> pa.Array:
    """Dates at midnight as ``YYYY-MM-DD``, others with ``HH:MM:SS``."""
    millis = pc.cast(column, pa.int64())
    values = pc.fill_null(millis, 0).to_numpy(zero_copy_only=False)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    if (valid & ((values % 1000 != 0) | (values < _FIRST_EXCEL_DAY_MS))).any():
        raise _NeedsCalamine("a time of day or a fraction of a second")
    seconds = pc.cast(column, pa.timestamp("s"), safe=False)
    texts = seconds.cast(pa.large_string())  # 2024-03-05 14:30:00
    midnight = pa.array(values % _DAY_MS == 0)
    return pc.if_else(midnight, pc.utf8_slice_codeunits(texts, 0, 10), texts)


def _numeric_code_columns(
    headers: list[str | None], column_types: dict[int, pa.DataType]
) -> set[int]:
    """As ``_id_like_columns``, for typed columns: code headers over numbers."""
    return {
        position
        for position, kind in column_types.items()
        if pa.types.is_floating(kind)
        and position < len(headers)
        and _is_code_header(headers[position])
    }


def _pad_arrow_codes(
    texts: dict[int, pa.Array],
    xml: bytes,
    styles: dict[int, sheetxml.PaddedFormat],
    columns: set[int],
    first: int,
) -> None:
    """``_pad_codes`` for Arrow columns (``first`` = sheet row of body row 0)."""
    cells = sheetxml.styled_cells(xml, set(styles), columns)
    for position in columns:
        values = texts[position].to_numpy(zero_copy_only=False).astype(object)
        for (row, col), style in cells.items():
            index = row - first
            if col != position or not 0 <= index < len(values):
                continue
            if values[index] is not None and values[index].isdigit():
                values[index] = styles[style].apply(values[index])
        texts[position] = pa.array(values, type=pa.large_string())


def _fill_merged_arrow(
    texts: dict[int, pa.Array],
    merged: list[tuple[tuple[int, int], tuple[int, int]]],
    first: int,
) -> None:
    """``_fill_merged`` for the Arrow columns below the header."""
    height = len(texts[0]) if texts else 0
    opened: dict[int, np.ndarray] = {}

    def values(position: int) -> np.ndarray:
        if position not in opened:
            column = texts[position].to_numpy(zero_copy_only=False)
            opened[position] = column.astype(object)
        return opened[position]

    for (top, left), (bottom, right) in merged:
        if top < first or top - first >= height or left >= len(texts):
            continue
        value = values(left)[top - first]
        if value is None:
            continue
        for position in range(left, min(right, len(texts) - 1) + 1):
            block = values(position)[top - first : bottom - first + 1]
            block[np.equal(block, None)] = value
    for position, column in opened.items():
        texts[position] = pa.array(column, type=pa.large_string())


def _grid_from_cells(cells: list[list[object]]) -> _Grid:
    """Turn calamine values into cell text, one column at a time.

    Numbers are formatted with numpy per column; only dates, booleans and
    other rare kinds go through ``_cell_text`` one by one.
    """
    width = max((len(row) for row in cells), default=0)
    table = np.empty((len(cells), width), dtype=object)
    for index, row in enumerate(cells):
        table[index, : len(row)] = row

    grid = _Grid(columns=[], is_text=[])
    for col_index in range(width):
        texts, imprecise_rows = _column_texts(table[:, col_index])
        grid.columns.append(texts)
        grid.imprecise += [(int(row), col_index) for row in imprecise_rows]
    grid.is_text = [
        [type(value) is str and bool(value.strip()) for value in row]
        for row in cells[:HEADER_SCAN_ROWS]
    ]
    return grid


def _column_texts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell texts of one column and the rows holding over-long whole numbers."""
    count = len(values)
    texts = np.full(count, None, dtype=object)

    # map() with a builtin runs in C: much faster than a generator per cell.
    is_str = np.fromiter(map(isinstance, values, repeat(str)), dtype=bool, count=count)
    if is_str.any():
        texts[is_str] = [text if text.strip() else None for text in values[is_str]]

    is_float = np.fromiter(
        map(isinstance, values, repeat(float)), dtype=bool, count=count
    )
    imprecise = np.array([], dtype=np.int64)
    if is_float.any():
        numbers = values[is_float].astype(np.float64)
        texts[is_float] = _float_texts(numbers)
        long_whole = (
            np.isfinite(numbers)
            & (numbers == np.trunc(numbers))
            & (np.abs(numbers) >= EXACT_DIGITS_LIMIT)
        )
        imprecise = np.flatnonzero(is_float)[long_whole]

    other = ~(is_str | is_float)
    if other.any():
        texts[other] = [_cell_text(value) for value in values[other]]
    return texts, imprecise


def _float_texts(numbers: np.ndarray) -> np.ndarray:
    """Format floats as Excel's General format would, without exponents."""
    texts = np.full(len(numbers), None, dtype=object)
    finite = np.isfinite(numbers)
    whole = finite & (numbers == np.trunc(numbers))
    exact = whole & (np.abs(numbers) < EXACT_DIGITS_LIMIT)
    whole_texts = pa.array(numbers[exact].astype(np.int64)).cast(pa.string())
    texts[exact] = whole_texts.to_numpy(zero_copy_only=False)
    rest = finite & ~exact
    texts[rest] = [_number_text(float(number)) for number in numbers[rest]]
    return texts


def _cell_text(value: object) -> str | None:
    """Return the text Excel shows for a cell in General format, or None."""
    kind = type(value)
    if kind is str:
        return value if value.strip() else None
    if kind is float:
        return _number_text(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is dt.datetime:
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if kind in (dt.date, dt.time):
        return value.isoformat()
    if value is None:
        return None
    return str(value)


def _number_text(value: float) -> str | None:
    """Format a float without ``.0``, exponent or binary noise."""
    if not math.isfinite(value):
        return None
    if value.is_integer():
        if abs(value) >= EXACT_DIGITS_LIMIT:
            # Show the 15 digits Excel keeps, not the float's binary tail.
            return str(int(float(f"{value:.15g}")))
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        text = np.format_float_positional(float(text), trim="-")
    return text


def _fill_merged(grid: _Grid, below: int) -> None:
    """Copy each merged range's value into every cell the range covers.

    Only ranges that start below the header row are filled. A branch or
    consultant typed once for a group of rows then belongs to each row of
    the group, as the user sees it in Excel.
    """
    for (top, left), (bottom, right) in grid.merged:
        if top <= below or top >= grid.height or left >= len(grid.columns):
            continue
        value = grid.columns[left][top]
        if value is None:
            continue
        for col_index in range(left, min(right, len(grid.columns) - 1) + 1):
            column = grid.columns[col_index]
            block = column[top : bottom + 1]
            block[np.equal(block, None)] = value


# --- HTML tables ----------------------------------------------------------------


class _TableParser(HTMLParser):
    """Collect the cell text of the first HTML table (enough for 'xls' exports)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str | None]] = []
        self._cell: list[str] | None = None
        self._span = 1
        self._tables = 0
        self._done = False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        if tag == "table":
            self._tables += 1
        elif tag == "tr" and self._tables:
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            self.rows[-1].extend([text or None] + [None] * (self._span - 1))
            self._cell = None
        elif tag == "table" and self._tables:
            self._done = True

    def handle_data(self, data):
        if self._cell is not None and not self._done:
            self._cell.append(data)


def _read_html(
    data: bytes, name: str, header_row: int | None, max_rows: int | None
) -> RawTable:
    """Read an HTML table saved with an .xls name into a ``RawTable``."""
    encoding, text = _decode(data, name)
    parser = _TableParser()
    parser.feed(text)
    rows = [row for row in parser.rows]
    width = max((len(row) for row in rows), default=0)
    if width == 0:
        raise InputFileError("error.file.no_data", file=name)

    padded = [row + [None] * (width - len(row)) for row in rows]
    table = np.array(padded, dtype=object).reshape(len(padded), width)
    grid = _Grid(
        columns=[table[:, index].copy() for index in range(width)],
        is_text=[
            [v is not None and not _looks_numeric(v) for v in row]
            for row in padded[:HEADER_SCAN_ROWS]
        ],
    )
    sheet_name = _text_sheet_name(name)
    return _table_from_grid(
        grid,
        name,
        header_row,
        max_rows,
        sheet=sheet_name,
        sheets=(SheetInfo(sheet_name, False, len(rows)),),
        encoding=encoding,
        delimiter=None,
        file_format="html",
    )


# --- shared table building -------------------------------------------------------


def _table_from_grid(
    grid: _Grid,
    name: str,
    header_row: int | None,
    max_rows: int | None,
    *,
    sheet: str,
    sheets: tuple[SheetInfo, ...],
    encoding: str | None,
    delimiter: str | None,
    file_format: str,
) -> RawTable:
    """Cut a grid at its header row and build the ``RawTable``."""
    # The header is found before merged cells are filled: a title merged
    # across the sheet is one cell, not a row full of words.
    header_index = _pick_header(
        grid.head(), grid.is_text, header_row, name, grid.merged, grid.height
    )
    _fill_merged(grid, below=header_index)
    body_end = grid.height
    truncated = max_rows is not None and grid.height - header_index - 1 > max_rows
    if truncated:
        body_end = header_index + 1 + max_rows

    columns = {
        str(index): pa.array(
            column[header_index + 1 : body_end],
            type=pa.large_string(),
            from_pandas=True,
        )
        for index, column in enumerate(grid.columns)
    }
    table = pa.table(columns) if columns else pa.table({"0": pa.array([], pa.string())})
    first_row = header_index + 2
    row_numbers = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)

    headers = _header_texts(grid, header_index)
    imprecise = [(row + 1, col) for row, col in grid.imprecise if row > header_index]
    return _finish(
        table,
        row_numbers,
        headers,
        name,
        header_index + 1,
        sheet,
        sheets,
        encoding,
        delimiter,
        file_format,
        imprecise,
        truncated,
    )


def _header_texts(grid: _Grid, header_index: int) -> list[str | None]:
    """Header cells of a one- or two-row header.

    A blank cell takes a label merged down into it from above (a two-row
    header's 月份); a name repeated under several group labels merged across
    the row above (客户服务部 / 销售部 over 销售金额) is prefixed with its group
    so the columns stay apart and readable.
    """
    headers = grid.row(header_index)
    repeated = Counter(_clean_header(text) for text in headers if text)
    for (top, left), (bottom, right) in grid.merged:
        label = grid.columns[left][top] if left < len(grid.columns) else None
        if label is None:
            continue
        for col in range(left, min(right + 1, len(headers))):
            if top < header_index <= bottom and headers[col] is None:
                headers[col] = label
            elif (
                bottom == header_index - 1
                and left < right
                and headers[col]
                and repeated[_clean_header(headers[col])] > 1
            ):
                headers[col] = f"{_clean_header(label)} {_clean_header(headers[col])}"
    return headers


def _pick_header(
    rows: list[list[str | None]],
    is_text: list[list[bool]],
    header_row: int | None,
    name: str,
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = (),
    height: int | None = None,
) -> int:
    """Return the 0-based index of the header row.

    The header is the first row, among the first rows of the sheet, whose
    filled cells number at least half of the widest row's and which holds
    mostly words. If none qualifies, the first non-blank row is used.
    """
    height = len(rows) if height is None else height
    if header_row is not None:
        if header_row < 1 or header_row > height:
            raise InputFileError(
                "error.file.bad_header_row", file=name, row=header_row, rows=height
            )
        return header_row - 1

    scan = rows[:HEADER_SCAN_ROWS]
    filled = [sum(value is not None for value in row) for row in scan]
    if not any(filled):
        raise InputFileError("error.file.no_data", file=name)

    widest = max(filled)
    needed = max(1 if widest == 1 else 2, (widest + 1) // 2)

    def looks_like_header(index: int) -> bool:
        words = sum(is_text[index][: len(scan[index])])
        return filled[index] >= needed and words >= 0.7 * filled[index]

    for index in range(len(scan)):
        if not looks_like_header(index):
            continue
        # Group labels merged across (2023年 over 金额, 次数): the names are
        # on the next row.
        grouped = any(
            top == index and right > left for (top, left), (_, right) in merged
        )
        if grouped and index + 1 < len(scan) and looks_like_header(index + 1):
            return index + 1
        return index
    return next(index for index, count in enumerate(filled) if count)


def _column_letter(index: int) -> str:
    """Return the Excel column letter of a 0-based index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


_CJK = "\u3400-\u9fff\uff08\uff09"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_LINE_BREAK = re.compile(r"\s*\n\s*")


def _clean_header(text: str | None) -> str:
    """Strip a header and join the lines of a header typed on two lines."""
    if text is None:
        return ""
    text = _SPACE_IN_CJK.sub("", str(text).strip())
    return _LINE_BREAK.sub(" ", text)


def unique_headers(headers: list[str | None]) -> list[str]:
    """Return header names made unique: blanks named by column letter,
    repeats numbered (``金额``, ``金额_2``), ``_row`` kept free.

    Args:
        headers: the header cells as read (None for a blank cell).

    Returns:
        One unique, non-empty name per column.
    """
    cleaned = [_clean_header(text) for text in headers]
    taken = {name for name in cleaned if name} | {ROW_COLUMN}
    seen: Counter[str] = Counter()
    names = []
    for index, name in enumerate(cleaned):
        if not name:
            name = _free_name(_column_letter(index), taken)
        elif name == ROW_COLUMN or seen[name]:
            name = _free_name(name, taken, start=2)
        seen[name] += 1
        taken.add(name)
        names.append(name)
    return names


def _free_name(base: str, taken: set[str], start: int = 1) -> str:
    """Return ``base`` or ``base_<n>``, the first not yet taken."""
    if start == 1 and base not in taken:
        return base
    number = max(start, 2)
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _finish(
    table: pa.Table,
    row_numbers: np.ndarray,
    headers: list[str | None],
    name: str,
    header_row: int,
    sheet: str,
    sheets: tuple[SheetInfo, ...],
    encoding: str | None,
    delimiter: str | None,
    file_format: str,
    imprecise: list[tuple[int, int]],
    truncated: bool,
) -> RawTable:
    """Drop blank/total rows and empty unnamed columns; name the columns."""
    headers = list(headers) + [None] * (table.num_columns - len(headers))
    keep, reasons = _classify_rows(table)
    skipped = tuple(
        SkippedRow(int(row), reason)
        for row, reason in zip(row_numbers[~keep], reasons[~keep])
    )
    if not keep.all():  # filtering copies every column, even with nothing out
        table = table.filter(pa.array(keep))
        row_numbers = row_numbers[keep]

    names = unique_headers(headers)
    empty_columns = []
    kept_columns, kept_names = [], []
    for index, column in enumerate(table.columns):
        if headers[index] is None and column.null_count == len(column):
            empty_columns.append(names[index])
            continue
        kept_columns.append(column)
        kept_names.append(names[index])
    if not kept_columns:
        raise InputFileError("error.file.no_data", file=name)

    frame = pa.table(kept_columns, names=kept_names).to_pandas()
    frame.insert(0, ROW_COLUMN, row_numbers)
    _check_row_limit(name, len(frame) + len(skipped))
    if len(frame) == 0 and not skipped and not truncated:
        logger.info("header found but no data rows below it")

    imprecise_cells = _kept_cells(imprecise, names, kept_names, row_numbers)
    logger.info(
        "read %d data rows, %d columns, %d rows skipped",
        len(frame),
        len(kept_names),
        len(skipped),
    )
    return RawTable(
        frame=frame,
        source_name=name,
        sheet=sheet,
        header_row=header_row,
        sheets=sheets,
        skipped=skipped,
        encoding=encoding,
        delimiter=delimiter,
        file_format=file_format,
        empty_columns=tuple(empty_columns),
        imprecise_cells=imprecise_cells,
        truncated=truncated,
    )


def _kept_cells(
    cells: list[tuple[int, int]],
    names: list[str],
    kept_names: list[str],
    row_numbers: np.ndarray,
) -> tuple[tuple[int, str], ...]:
    """(row, column name) of the listed cells that are still in the table."""
    if not cells:
        return ()
    rows, kept = set(row_numbers.tolist()), set(kept_names)
    return tuple(
        sorted(
            (row, names[col])
            for row, col in cells
            if col < len(names) and names[col] in kept and row in rows
        )
    )


def _classify_rows(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Return a keep mask and the skip reason of each row (vectorized)."""
    count = table.num_rows
    if count == 0 or table.num_columns == 0:
        return np.ones(count, dtype=bool), np.array([""] * count, dtype=object)

    # The first filled cell of each row, spaces removed. Trimming every cell
    # costs seconds on a million rows, so only rows whose first filled cell
    # is blank space get the slow look further along; and only rows whose
    # first cell opens like a label (or is blank space) are looked at at all.
    columns = table.columns
    first = pc.coalesce(*columns) if len(columns) > 1 else columns[0]
    blank = pc.is_null(first).to_numpy(zero_copy_only=False)
    # The first character, looked up in a set: a regex costs 4 times more.
    opening = pc.utf8_slice_codeunits(first, 0, 1)
    opens = pc.is_in(opening, value_set=pa.array(LABEL_OPENINGS, first.type))
    candidates = np.flatnonzero(opens.to_numpy(zero_copy_only=False))
    total = np.zeros(count, dtype=bool)
    note = np.zeros(count, dtype=bool)
    if len(candidates):
        found = pc.take(first, pa.array(candidates))
        label = pc.utf8_lower(pc.replace_substring_regex(found, r"\s+", ""))
        label = label.to_numpy(zero_copy_only=False).astype(object)
        for position in np.flatnonzero(label == ""):
            index = int(candidates[position])
            label[position] = _first_filled_label(table, index)
        label = pa.array(label, type=pa.string())
        blank[candidates] = pc.is_null(label).to_numpy(zero_copy_only=False)
        matches = pc.match_substring_regex(label, TOTAL_LABEL)
        total[candidates] = pc.fill_null(matches, False).to_numpy(False)
        matches = pc.match_substring_regex(label, NOTE_LABEL)
        note[candidates] = pc.fill_null(matches, False).to_numpy(False)

    # A notes block at the bottom ends the table: what follows it (the
    # 客户分级标准 grid under a 说明 line, say) is notes, not clients. A single
    # note between data rows is only that row.
    if note.any():
        end = _notes_block_start(table, note, blank | total)
        if end is not None:
            note[end:] = True
    reasons = np.full(count, "", dtype=object)
    reasons[note] = REASON_NOTE
    reasons[total] = REASON_TOTAL
    reasons[blank] = REASON_BLANK
    return ~(blank | total | note), reasons


def _notes_block_start(
    table: pa.Table, note: np.ndarray, other_skipped: np.ndarray
) -> int | None:
    """Index of the first note row that starts the closing notes block.

    A note row is taken as a stray line inside the data when the next row
    that is not blank, a total or a note fills the same columns as the data
    row just before the note (at least two, 80 % of them, the first one
    included); otherwise the table ends there.
    """
    data = ~(note | other_skipped)
    for index in np.flatnonzero(note):
        before = np.flatnonzero(data[:index])
        after = np.flatnonzero(data[index + 1 :])
        if not len(before) or not len(after):
            return int(index)
        previous = _filled_columns(table, int(before[-1]))
        following = _filled_columns(table, int(index + 1 + after[0]))
        shared = len(previous & following)
        # A row of one cell (a template's serial number) tells too little.
        if len(previous) < 2 or min(previous) not in following:
            return int(index)
        if shared < 0.8 * len(previous):
            return int(index)
    return None


def _filled_columns(table: pa.Table, index: int) -> set[int]:
    """Positions of the cells of a row holding more than blank space."""
    filled = set()
    for position, column in enumerate(table.columns):
        value = column[index].as_py()
        if value is not None and value.strip():
            filled.add(position)
    return filled


def _first_filled_label(table: pa.Table, index: int) -> str | None:
    """The first cell of a row with more than blank space, spaces removed."""
    for column in table.columns:
        value = column[index].as_py()
        if value is not None and value.strip():
            return re.sub(r"\s+", "", value).lower()
    return None


def _check_row_limit(name: str, rows: int) -> None:
    limit = config.max_rows()
    if rows > limit:
        raise InputFileError(
            "error.file.too_many_rows", file=name, rows=rows, limit=limit
        )


def _looks_numeric(value: str | None) -> bool:
    """True for text that reads as a number or a date rather than a word."""
    if value is None:
        return False
    return bool(_NUMBER_TEXT.match(value) or _DATE_TEXT.match(value))


def _text_sheet_name(name: str) -> str:
    return Path(name).stem or name


# --- delimited text ---------------------------------------------------------------


def _decode(data: bytes, name: str, whole: bool = True) -> tuple[str, str]:
    """Return (encoding, text): BOM, then strict UTF-8, GB18030, then detection.

    charset-normalizer is not asked first because on a short Chinese sample it
    often guesses a wrong Asian code page, while strict decoding never lies.
    GB18030 accepts most byte strings, though, so its text is kept only when
    it reads as Chinese; Latin-1/cp1252 files (Müller, Café) go to detection.

    With ``whole=False`` a UTF-8 file is checked whole but only its start is
    decoded (``_text_start``): pyarrow reads the rest from the bytes, and
    decoding a million rows only to check them costs a second.
    """
    for bom, encoding in BOMS.items():
        if data.startswith(bom):
            if encoding == "utf-8-sig" and not whole and _is_utf8(data):
                return encoding, _text_start(data, encoding)
            try:
                return encoding, data.decode(encoding)
            except UnicodeDecodeError as error:
                raise InputFileError("error.file.encoding", file=name) from error

    if _is_utf8(data):
        return "utf-8", data.decode("utf-8") if whole else _text_start(data, "utf-8")
    try:
        text = data.decode("gb18030")
        if _reads_as_chinese(text):
            return "gb18030", text
        gb_text = text
    except UnicodeDecodeError:
        gb_text = None

    encoding = _detected_encoding(data)
    if encoding is None:
        if gb_text is not None:
            return "gb18030", gb_text
        raise InputFileError("error.file.encoding", file=name)
    try:
        return encoding, data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise InputFileError("error.file.encoding", file=name) from error


def _is_utf8(data: bytes) -> bool:
    """True if the bytes are strict UTF-8, as ``bytes.decode`` would accept.

    Arrow checks them in place as one string value, without building text.
    """
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    blob = pa.Array.from_buffers(
        pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]
    )
    try:
        blob.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _text_start(data: bytes, encoding: str) -> str:
    """The first ``SAMPLE_BYTES`` of valid UTF-8 bytes, decoded.

    That is more characters than ``_sample_lines`` looks at, so the sample
    is the same as the whole text's.
    """
    if len(data) <= SAMPLE_BYTES:
        return data.decode(encoding)
    cut = SAMPLE_BYTES
    while data[cut] & 0xC0 == 0x80:  # not inside a character
        cut -= 1
    return data[:cut].decode(encoding)


def _reads_as_chinese(text: str) -> bool:
    """True when most non-ASCII characters are common (GB2312) characters.

    Chinese text saved as GBK uses GB2312 characters almost only; Latin-1
    bytes read as GB18030 become rare characters outside it (ü followed by
    a letter lands in GBK's extension area).
    """
    sample = Counter(char for char in text[:200_000] if ord(char) > 127)
    total = sum(sample.values())
    if not total:
        return True
    common = 0
    for char, count in sample.items():
        try:
            char.encode("gb2312")
            common += count
        except UnicodeEncodeError:
            continue
    return common >= 0.5 * total


def _detected_encoding(data: bytes) -> str | None:
    """charset-normalizer's verdict; cp1252 when it decodes the same."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None:
        return None
    if best.encoding.lower().replace("-", "").startswith(("gb", "gbk", "hz")):
        return "gb18030"
    # Several single-byte code pages decode these bytes alike; the Western
    # one is the usual origin of an export, so it is the name reported.
    if "cp1252" in best.could_be_from_charset:
        return "cp1252"
    return best.encoding


def _sample_lines(text: str) -> list[str]:
    """The first lines of the text, split on line feeds as pyarrow splits."""
    sample = text[:SNIFF_CHARS].lstrip("\ufeff")
    lines = sample.split("\n")
    if len(sample) < len(text) and len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut short
    return [line.rstrip("\r") for line in lines[:SNIFF_LINES]]


def _split_line(line: str, delimiter: str) -> list[str]:
    if delimiter == WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def _detect_delimiter(lines: list[str]) -> str:
    """Return the delimiter that splits the most lines into the same count.

    On a tie the delimiter giving more fields wins: a semicolon file whose
    amounts carry decimal commas (``00001;1,5;2``) can split as evenly on
    commas, but into fewer fields. Runs of spaces (logs like CDNOW's) are
    chosen only when no delimiter splits most lines; a one-column file gets
    a comma.
    """
    filled = [line for line in lines if line.strip()]
    shapes = {
        delimiter: _split_shape(filled, delimiter)
        for delimiter in DELIMITERS + (WHITESPACE,)
    }
    best = max(DELIMITERS, key=lambda delimiter: shapes[delimiter])
    score, whitespace_score = shapes[best][0], shapes[WHITESPACE][0]
    if score < len(filled) * 0.5 and whitespace_score > score:
        return WHITESPACE
    return best if score else ","


def _split_score(lines: list[str], delimiter: str) -> int:
    """How many lines share the most common field count (0 if that is 1)."""
    return _split_shape(lines, delimiter)[0]


def _split_shape(lines: list[str], delimiter: str) -> tuple[int, int]:
    """How many lines share the most common field count, and that count.

    Many exports close every row with the delimiter (``a;b;``), some only
    the data rows or only the header: counted with and without that last
    empty field, whichever makes more lines agree. ``(0, 0)`` when the lines
    do not split.
    """
    fields = [_split_line(line, delimiter) for line in lines]
    whole = Counter(len(row) for row in fields)
    closed = Counter(
        len(row) - 1 if len(row) > 1 and not row[-1] else len(row) for row in fields
    )
    shapes = [
        (lines_at_width, width)
        for counts in (whole, closed)
        for width, lines_at_width in counts.items()
        if width > 1
    ]
    return max(shapes, default=(0, 0))


def _read_text(
    data: bytes, name: str, header_row: int | None, max_rows: int | None
) -> RawTable:
    """Read delimited text into a ``RawTable``."""
    encoding, text = _decode(data, name, whole=False)
    # A UTF-8 file's text is only its start here; its bytes stand for it.
    utf8 = encoding in ("utf-8", "utf-8-sig")
    if not text[:65536].strip() and not _decode(data, name)[1].strip():
        raise InputFileError("error.file.empty", file=name)

    lines = _sample_lines(text)
    delimiter = _detect_delimiter(lines)
    _check_text_named_xlsx(lines, delimiter, name)
    grid_rows = [
        [cell if cell.strip() else None for cell in _split_line(line, delimiter)]
        for line in lines
    ]
    is_text = [
        [not _looks_numeric(cell) and cell is not None for cell in row]
        for row in grid_rows
    ]
    line_count = (data.count(b"\n") if utf8 else text.count("\n")) + 1
    header_index = _pick_header(grid_rows, is_text, header_row, name, height=line_count)

    body = _body_after(text, header_index, delimiter, data, encoding)
    del text  # a million-row file's text is hundreds of megabytes
    width = max([len(row) for row in grid_rows[header_index:]] or [1])
    table, line_numbers, truncated, field_counts = _parse_body(
        body, delimiter, width, header_index, max_rows
    )
    headers = grid_rows[header_index] if header_index < len(grid_rows) else []

    sheet_name = _text_sheet_name(name)
    sheets = (SheetInfo(sheet_name, False, line_count),)
    shown_delimiter = "whitespace" if delimiter == WHITESPACE else delimiter
    raw = _finish(
        table,
        line_numbers,
        headers,
        name,
        header_index + 1,
        sheet_name,
        sheets,
        encoding,
        shown_delimiter,
        "csv",
        [],
        truncated,
    )
    skipped = np.array([skip.row for skip in raw.skipped], dtype=np.int64)
    notes = _field_count_notes(table, line_numbers, headers, field_counts, skipped)
    return dataclasses.replace(raw, notes=notes) if notes else raw


def _check_text_named_xlsx(lines: list[str], delimiter: str, name: str) -> None:
    """Refuse text named .xlsx/.xlsm unless it splits into columns.

    Such a name always means a zip container, so text under it was renamed.
    A delimited table is read anyway (its data is what the user wants); a
    text that does not split into columns (notes, a log, a renamed PDF's
    text) would only show as a one-column table of nonsense.
    """
    # Prose with a comma in most lines still splits into columns and is read;
    # telling it from a table would take guessing that no file seen so far
    # has needed.
    if not name.lower().endswith(ZIP_SUFFIXES):
        return
    filled = [line for line in lines if line.strip()]
    if delimiter == WHITESPACE or not _split_score(filled, delimiter):
        logger.warning("text named as a workbook does not split into columns")
        raise InputFileError("error.file.not_spreadsheet", file=name)


def _field_count_notes(
    table: pa.Table,
    line_numbers: np.ndarray,
    headers: list[str | None],
    field_counts: dict[int, int],
    skipped: np.ndarray,
) -> tuple[RowNote, ...]:
    """Notes for the rows with more or fewer fields than the header line.

    A row is long when it has a value past the header's last field: the
    value lands in a column named by its letter. A row is short when it
    ends before the header's last named column: the columns after its end
    stay empty. Empty fields at the end of a row count for neither, and rows
    left out as blank, totals or notes (``skipped``) are not listed. The
    first ``FIELD_COUNT_LIMIT`` rows are listed, then one line counts the rest.

    Args:
        table: the parsed records, one column per field position.
        line_numbers: the line number of each record.
        headers: the header line's fields (None for an empty one).
        field_counts: record position → field count of the rows pyarrow
            parsed again for another field count (``_merge_ragged``).
        skipped: line numbers of the rows left out of the table.
    """
    named = max((i + 1 for i, header in enumerate(headers) if header), default=0)
    if not named:
        return ()
    extra = _values_past(table, len(headers))
    short = [position for position, count in field_counts.items() if count < named]
    positions = np.union1d(
        np.flatnonzero(np.logical_or.reduce(list(extra.values()))) if extra else [],
        short,
    ).astype(np.int64)
    positions = positions[~np.isin(line_numbers[positions], skipped)]
    if not len(positions):
        return ()
    logger.warning(
        "%d rows have another number of fields than the header", len(positions)
    )

    names = unique_headers(list(headers) + [None] * (table.num_columns - len(headers)))
    notes = []
    for position in positions[:FIELD_COUNT_LIMIT].tolist():
        row = int(line_numbers[position])
        count = field_counts.get(position, named)
        if count < named:
            note = RowNote(
                row, REASON_MISSING_FIELDS, names[count], str(count), str(named)
            )
        else:
            holding = [index for index, valid in extra.items() if valid[position]]
            columns = ", ".join(names[index] for index in holding)
            fields, width = str(holding[-1] + 1), str(len(headers))
            note = RowNote(row, REASON_EXTRA_FIELDS, columns, fields, width)
        notes.append(note)
    if len(positions) > FIELD_COUNT_LIMIT:
        first_unlisted = int(line_numbers[positions[FIELD_COUNT_LIMIT]])
        rest = str(len(positions) - FIELD_COUNT_LIMIT)
        notes.append(RowNote(first_unlisted, REASON_FIELD_COUNT_MORE, detail=rest))
    return tuple(notes)


def _values_past(table: pa.Table, width: int) -> dict[int, np.ndarray]:
    """Column position → which rows hold a value, for columns from ``width``
    on that hold any (usually none: such columns are rare and checked fast)."""
    return {
        index: pc.is_valid(table.column(index)).to_numpy(zero_copy_only=False)
        for index in range(width, table.num_columns)
        if table.column(index).null_count < table.num_rows
    }


def _body_after(
    text: str,
    header_index: int,
    delimiter: str,
    data: bytes | None = None,
    encoding: str | None = None,
) -> bytes:
    """Return the text from the header line on, as UTF-8 bytes for pyarrow.

    A UTF-8 file is cut from its own bytes (``data``): encoding the decoded
    text again would cost seconds on a million rows for the same bytes. Its
    ``text`` may be only the start of the file (``_decode(whole=False)``).
    """
    utf8 = encoding in ("utf-8", "utf-8-sig")
    if data is not None and utf8 and delimiter != WHITESPACE:
        body = data.removeprefix(b"\xef\xbb\xbf")
        offset = 0
        for _ in range(header_index):
            offset = body.index(b"\n", offset) + 1
        body = body[offset:]
        return body if body.endswith(b"\n") else body + b"\n"
    if data is not None and utf8:
        text = data.decode(encoding)
    text = text.removeprefix("\ufeff")
    offset = 0
    for _ in range(header_index):
        offset = text.index("\n", offset) + 1
    body = text[offset:]
    if delimiter == WHITESPACE:
        # pyarrow has no regex delimiter: turn runs of blanks into one tab.
        body = re.sub(r"(?m)^[ \t]+|[ \t]+(?=\r?$)", "", body)
        body = re.sub(r"[ \t]+", "\t", body)
    if not body.endswith("\n"):
        # pyarrow cannot skip a header line that has no line end after it.
        body += "\n"
    return body.encode("utf-8")


def _parse_body(
    body: bytes, delimiter: str, width: int, header_index: int, max_rows: int | None
) -> tuple[pa.Table, np.ndarray, bool, dict[int, int]]:
    """Parse the header line and the records below it with pyarrow, all text.

    Returns the table of records below the header, the line number of each
    (as a text editor shows it), whether it was cut at ``max_rows``, and,
    by position, the field count of each record with more or fewer fields
    than ``width`` (none when every record has ``width``).
    """
    truncated = False
    if max_rows is not None:
        cut = _nth_line_end(body, max_rows + 1)
        truncated = cut < len(body)
        body = body[:cut]

    table = _read_lines(body, delimiter, width)
    if table is not None:  # every record one line
        return table, header_index + np.arange(2, table.num_rows + 2), truncated, {}

    # Parsed on every core first; a file with ragged rows is parsed again on
    # one thread, the only way pyarrow tells each bad row's record number.
    table, bad_rows = _read_records(body, delimiter, width, use_threads=True)
    field_counts: dict[int, int] = {}
    if bad_rows:
        table, bad_rows = _read_records(body, delimiter, width, use_threads=False)
        table, field_counts = _merge_ragged(table, bad_rows, delimiter)
    record_numbers = np.arange(2, table.num_rows + 2)
    # Without line breaks inside quoted fields every record is one line.
    if b'"' in body and body.count(b"\n") != table.num_rows + 1:
        line_numbers = _line_numbers(table, record_numbers, header_index)
    else:
        line_numbers = header_index + record_numbers
    return table, line_numbers, truncated, field_counts


def _read_lines(body: bytes, delimiter: str, width: int) -> pa.Table | None:
    """Parse ``body`` taking each line as a record; None if that is not so.

    Allowing line breaks in quoted values makes pyarrow find where records
    end on one thread before parsing, which costs more than the parse. Taken
    as lines, a quoted line break inside one of pyarrow's blocks still parses
    right; one where a block ends leaves an open quote there, which shows as
    an error, a row with a wrong field count or a value holding the break.
    Any of these, or any value with a line break, and the caller parses
    records again.
    """
    try:
        table, bad_rows = _read_records(
            body, delimiter, width, use_threads=True, newlines_in_values=False
        )
    except pa.ArrowInvalid as error:
        logger.debug("lines are not records: %s", error)
        return None
    quoted = delimiter != WHITESPACE and b'"' in body
    if bad_rows or (quoted and _holds_line_breaks(table)):
        return None
    return table


def _holds_line_breaks(table: pa.Table) -> bool:
    """True if a value may hold CR or LF: its column's value bytes do."""
    for column in table.columns:
        for chunk in column.chunks:
            values = chunk.buffers()[2]
            if values is None:
                continue
            # Copied in pieces: bytes.find is memchr, far faster than a scan.
            raw = values.to_pybytes()
            if b"\n" in raw or b"\r" in raw:
                return True
    return False


def _read_records(
    body: bytes,
    delimiter: str,
    width: int,
    use_threads: bool,
    newlines_in_values: bool = True,
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Parse ``body`` below its header line, every column as text.

    Columns are ``large_string``, the type pandas' ``str`` columns hold, so
    the hand-over to pandas copies nothing. Returns the table and the rows
    pyarrow skipped for a wrong field count (record number, text).
    """
    bad_rows: list[tuple[int, str]] = []

    def keep_invalid(row) -> str:
        bad_rows.append((row.number, row.text))
        return "skip"

    names = [str(index) for index in range(width)]
    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=pacsv.ReadOptions(
            column_names=names,
            skip_rows=1,
            use_threads=use_threads,
            block_size=1 << 24,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter="\t" if delimiter == WHITESPACE else delimiter,
            quote_char=False if delimiter == WHITESPACE else '"',
            newlines_in_values=newlines_in_values,
            ignore_empty_lines=False,
            invalid_row_handler=keep_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.large_string() for name in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            # The body is checked UTF-8 (``_is_utf8``) or encoded by Python.
            check_utf8=False,
        ),
    )
    return table, bad_rows


def _nth_line_end(body: bytes, count: int) -> int:
    """Byte offset just after the ``count``-th line (or the end)."""
    offset = 0
    for _ in range(count):
        found = body.find(b"\n", offset)
        if found < 0:
            return len(body)
        offset = found + 1
    return offset


def _merge_ragged(
    table: pa.Table, bad_rows: list[tuple[int, str]], delimiter: str
) -> tuple[pa.Table, dict[int, int]]:
    """Put rows with too few or too many fields back in their place.

    pyarrow skips them; they are split here with the csv module, padded or
    widened, and slotted back by their record number so none is lost.
    Returns the table and, by position, the field count of each of these
    rows (``_field_count_notes`` tells the user of the short ones).
    """
    split_on = "\t" if delimiter == WHITESPACE else delimiter
    parsed = [_split_line(text, split_on) for _, text in bad_rows]
    width = max([table.num_columns] + [len(fields) for fields in parsed])
    names = [str(index) for index in range(width)]

    bad_table = pa.table(
        {
            name: pa.array(
                [(fields[i] or None) if i < len(fields) else None for fields in parsed],
                type=pa.large_string(),
            )
            for i, name in enumerate(names)
        }
    )
    for index in range(table.num_columns, width):
        nulls = pa.nulls(table.num_rows, pa.large_string())
        table = table.append_column(str(index), nulls)

    # Record numbers start at 2 (the header is 1); good rows fill the gaps.
    bad_numbers = np.array([number for number, _ in bad_rows], dtype=np.int64)
    every = np.arange(2, table.num_rows + len(bad_rows) + 2, dtype=np.int64)
    good_numbers = np.setdiff1d(every, bad_numbers)
    merged = pa.concat_tables([table, bad_table])
    order = np.argsort(np.concatenate([good_numbers, bad_numbers]), kind="stable")
    logger.debug("%d rows parsed again for another field count", len(parsed))
    field_counts = {
        number - 2: len(fields) for (number, _), fields in zip(bad_rows, parsed)
    }
    return merged.take(pa.array(order)), field_counts


def _line_numbers(
    table: pa.Table, record_numbers: np.ndarray, header_index: int
) -> np.ndarray:
    """Line numbers of records, counting line breaks inside quoted fields."""
    extra = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        counts = pc.count_substring(column, "\n")
        extra += pc.fill_null(counts, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    before = np.concatenate([[0], np.cumsum(extra)[:-1]]) if len(extra) else extra
    return header_index + record_numbers + before
