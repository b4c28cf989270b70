"""What calamine does not tell about an .xlsx sheet, read from its XML.

Two facts are needed, and only for some workbooks, so each is read only
when ``tiering.ingest`` has a reason to ask:

1. Number formats that pad a code with zeros (``000000`` shows 123 as
   ``000123``): the styles part maps each cell style index to a number
   format; the sheet part says which style each cell uses.
2. Formula cells whose value was never saved (a file written by a program
   that does not calculate): ``<f>`` with no ``<v>`` or an empty one.

The styles part is small and parsed with ElementTree. The sheet part can be
large, so it is scanned with byte-level regular expressions (C speed, one
pass), never built into a tree.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import math
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

logger = logging.getLogger(__name__)

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# What reading a damaged or unusual part of the zip container raises.
PART_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)
# Custom number formats start at 164; no built-in one pads with zeros.
FIRST_CUSTOM_FORMAT = 164

# An optional quoted prefix ("C"0000) and two or more zeros, nothing else.
_PADDED_FORMAT = re.compile(r'^(?:"([^"]*)")?(0{2,})$')
_CELL_TAG = re.compile(rb"<c\b([^>]*)>")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_FORMULA_CELL = re.compile(
    rb"<c\b([^>]*)>\s*(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)\s*"
    rb"(?:<v\s*/>|<v>([^<]*)</v>)?"
)


@dataclass(frozen=True)
class PaddedFormat:
    """A zero-padding number format: a literal prefix and a digit count."""

    prefix: str
    width: int

    def apply(self, digits: str) -> str:
        """Return ``digits`` as Excel shows them in this format."""
        return self.prefix + digits.zfill(self.width)


def open_archive(data: bytes) -> zipfile.ZipFile | None:
    """Open an .xlsx file's zip container, or None if it is not one."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return None


def padded_styles(archive: zipfile.ZipFile) -> dict[int, PaddedFormat]:
    """Cell style indexes whose number format pads with zeros.

    Args:
        archive: the workbook's zip container.

    Returns:
        Style index (the ``s`` attribute of a cell) → its padding; empty when
        the workbook has no such format or no readable styles part.
    """
    root = _parse_part(archive, "xl/styles.xml")
    if root is None:
        return {}
    formats = {}
    for number_format in root.iter(f"{MAIN_NS}numFmt"):
        padded = _padding(number_format.get("formatCode", ""))
        format_id = int(number_format.get("numFmtId", "0"))
        if padded is not None and format_id >= FIRST_CUSTOM_FORMAT:
            formats[format_id] = padded
    if not formats:
        return {}

    cell_styles = root.find(f"{MAIN_NS}cellXfs")
    styles = {}
    for index, style in enumerate(cell_styles if cell_styles is not None else []):
        format_id = int(style.get("numFmtId", "0"))
        if format_id in formats:
            styles[index] = formats[format_id]
    return styles


def _padding(code: str) -> PaddedFormat | None:
    """The padding of a format code's first (positive numbers) section."""
    first = code.split(";", 1)[0]
    first = re.sub(r"\[[^\]]*\]", "", first).strip()
    match = _PADDED_FORMAT.match(first)
    if match is None:
        return None
    return PaddedFormat(match.group(1) or "", len(match.group(2)))


def sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> bytes | None:
    """The XML of the worksheet called ``sheet_name``, or None if not found."""
    workbook = _parse_part(archive, "xl/workbook.xml")
    rels = _parse_part(archive, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return None
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels.iter(f"{PACKAGE_REL}Relationship")
    }
    for sheet in workbook.iter(f"{MAIN_NS}sheet"):
        if sheet.get("name") != sheet_name:
            continue
        target = targets.get(sheet.get(REL_ID), "")
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
        try:
            return archive.read(path)
        except KeyError:
            return None
    return None


def styled_cells(
    xml: bytes, styles: set[int], columns: set[int]
) -> dict[tuple[int, int], int]:
    """Cells of ``columns`` that use one of ``styles``.

    Args:
        xml: the worksheet part.
        styles: style indexes to look for.
        columns: 0-based column positions to keep.

    Returns:
        (0-based row, 0-based column) → style index.
    """
    wanted = re.compile(rb'\bs="(' + b"|".join(b"%d" % s for s in styles) + rb')"')
    cells = {}
    for tag in _CELL_TAG.finditer(xml):
        attributes = tag.group(1)
        style = wanted.search(attributes)
        if style is None:
            continue
        position = _position(attributes)
        if position is not None and position[1] in columns:
            cells[position] = int(style.group(1))
    return cells


def formulas_without_values(xml: bytes) -> dict[int, list[int]]:
    """Formula cells that have no saved value, by column.

    Args:
        xml: the worksheet part.

    Returns:
        0-based column position → the 0-based rows of its formula cells
        without a value (an absent or empty ``<v>``).
    """
    if b"<f" not in xml:
        return {}
    found: dict[int, list[int]] = {}
    for cell in _FORMULA_CELL.finditer(xml):
        if cell.group(2):
            continue
        position = _position(cell.group(1))
        if position is not None:
            found.setdefault(position[1], []).append(position[0])
    logger.info("formulas without saved values in %d columns", len(found))
    return found


def _position(attributes: bytes) -> tuple[int, int] | None:
    """(row, column), both 0-based, from a cell's ``r`` attribute."""
    ref = _CELL_REF.search(attributes)
    if ref is None:
        return None
    column = 0
    for letter in ref.group(1):
        column = column * 26 + letter - 64
    return int(ref.group(2)) - 1, column - 1


def _parse_part(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(archive.read(name))
    except (KeyError, ElementTree.ParseError) as error:
        logger.debug("part %s not readable: %s", name, type(error).__name__)
        return None


# --- the first rows and the merged ranges, for reading large sheets -----------

# Built-in number formats Excel shows as dates or times (ECMA-376 18.8.30).
_DATE_FORMAT_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48))
_DATE_FORMAT_IDS |= set(range(50, 59))
# The built-in ones python-calamine (0.9 on) reads as dates or times: all
# but 46, a duration (tests/test_ingest.py checks the installed version).
_PLAIN_DATE_IDS = _DATE_FORMAT_IDS - {46}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_FIRST_PLAIN_SERIAL = 61  # 1900-03-01
_LAST_SERIAL = 2_958_466  # 10000-01-01
_DIMENSION = re.compile(rb'<dimension\b[^>]*\bref="[A-Z]*\d*:?[A-Z]*(\d+)"')
_ROW = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.DOTALL)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_CELL_TYPE = re.compile(rb'\bt="(\w+)"')
_CELL_STYLE = re.compile(rb'\bs="(\d+)"')
_VALUE = re.compile(rb"<v>(.*?)</v>", re.DOTALL)
_INLINE = re.compile(rb"<is>(.*?)</is>", re.DOTALL)
_SHARED = re.compile(rb"<si>(.*?)</si>|<si/>", re.DOTALL)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.DOTALL)
_TEXT_RUN = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.DOTALL)
_MERGE_REF = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DURATION = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
_DURATION_UNIT = re.compile(r"h+|m+|s+", re.IGNORECASE)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SheetEntry:
    """A worksheet as the workbook part lists it."""

    name: str
    hidden: bool
    path: str


@dataclass
class SheetHead:
    """The first rows of a worksheet, typed as python-calamine types them.

    ``rows`` holds str, float, bool or None per cell, from column A and row 1;
    ``date_cells`` maps the (row, column) of numbers in a date or time format
    to their cell style; they are left as numbers (``shown_dates`` turns
    them into dates); ``height`` the last row the sheet's dimension names
    (None if absent).
    """

    rows: list[list[object]]
    date_cells: dict[tuple[int, int], int]
    height: int | None


def worksheets(archive: zipfile.ZipFile) -> tuple[list[SheetEntry], bool] | None:
    """The worksheets of an .xlsx/.xlsm workbook and its 1904 date flag.

    Args:
        archive: the workbook's zip container.

    Returns:
        The worksheets in workbook order (chart sheets left out) and whether
        dates count from 1904; None when the container is not such a workbook
        (an .xlsb or .ods file).
    """
    workbook = _parse_part(archive, "xl/workbook.xml")
    rels = _parse_part(archive, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return None
    targets = {
        rel.get("Id"): (rel.get("Target", ""), rel.get("Type", ""))
        for rel in rels.iter(f"{PACKAGE_REL}Relationship")
    }
    entries = []
    for sheet in workbook.iter(f"{MAIN_NS}sheet"):
        target, kind = targets.get(sheet.get(REL_ID), ("", ""))
        if not kind.endswith("/worksheet"):
            continue
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
        hidden = sheet.get("state", "visible") != "visible"
        entries.append(SheetEntry(sheet.get("name", ""), hidden, path))
    properties = workbook.find(f"{MAIN_NS}workbookPr")
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    return entries, date1904


def sheet_head(archive: zipfile.ZipFile, path: str, count: int) -> SheetHead | None:
    """Read the first ``count`` rows of a worksheet without reading the rest.

    Only the start of the part is decompressed, and only the shared strings
    those rows use are looked up. Returns None when the part is missing or
    holds a cell kind this reader leaves to calamine (an ISO date cell).
    """
    try:
        part = archive.open(path)
    except KeyError:
        return None
    with part:
        xml = b""
        while xml.count(b"</row>") < count and b"</sheetData>" not in xml:
            chunk = part.read(_CHUNK)
            if not chunk:
                break
            xml += chunk
    height = _DIMENSION.search(xml[:4096])

    cells: dict[tuple[int, int], tuple[bytes | None, bytes, bytes]] = {}
    row_index = -1
    for row in _ROW.finditer(xml):
        number = _ROW_NUMBER.search(row.group(1))
        row_index = int(number.group(1)) - 1 if number else row_index + 1
        if row_index >= count:
            break
        col_index = -1
        for cell in _CELL.finditer(row.group(2) or b""):
            position = _position(cell.group(1))
            col_index = position[1] if position else col_index + 1
            kind = _CELL_TYPE.search(cell.group(1))
            style = _CELL_STYLE.search(cell.group(1))
            cells[row_index, col_index] = (
                kind.group(1) if kind else None,
                style.group(1) if style else b"0",
                cell.group(2) or b"",
            )
    head = _typed_head(archive, cells)
    if head is not None:
        head.height = int(height.group(1)) if height else None
    return head


def _typed_head(
    archive: zipfile.ZipFile, cells: dict[tuple[int, int], tuple]
) -> SheetHead | None:
    """Turn raw cells into python-calamine's values (str, float, bool, None)."""
    shared_needed = [
        int(value.group(1))
        for kind, _, body in cells.values()
        if kind == b"s" and (value := _VALUE.search(body))
    ]
    shared = _shared_strings(archive, max(shared_needed, default=-1))
    date_styles = _date_styles(archive) if cells else set()

    height = max((row for row, _ in cells), default=-1) + 1
    width = max((col for _, col in cells), default=-1) + 1
    rows: list[list[object]] = [[None] * width for _ in range(height)]
    date_cells = {}
    for (row, col), (kind, style, body) in cells.items():
        value = _VALUE.search(body)
        raw = value.group(1) if value else None
        try:
            text = _cell_value(kind, raw, body, shared)
        except (ValueError, IndexError):  # a value calamine reads its own way
            return None
        if isinstance(text, float) and int(style) in date_styles:
            date_cells[row, col] = int(style)
        rows[row][col] = text
    return SheetHead(rows, date_cells, None)


def _cell_value(kind: bytes | None, raw: bytes | None, body: bytes, shared):
    """One cell's value as calamine gives it; a cell without a value is None.

    Raises ValueError for a kind this reader leaves to calamine.
    """
    if kind == b"s":
        return shared[int(raw)] if raw else None
    if kind == b"inlineStr":
        inline = _INLINE.search(body)
        return _run_text(inline.group(1)) if inline else None
    if kind == b"str":
        return _unescape(raw.decode("utf-8")) if raw is not None else None
    if kind == b"b":
        return raw == b"1" if raw else None
    if kind == b"e":  # python-calamine shows an error (#N/A) as ""
        return "" if raw else None
    if not raw:
        return None
    if kind in (None, b"n"):
        return float(raw)
    raise ValueError(f"cell kind {kind!r}")


def _shared_strings(archive: zipfile.ZipFile, last: int) -> list[str]:
    """The shared strings up to index ``last``, read from the start only."""
    if last < 0:
        return []
    names = {"xl/sharedStrings.xml", "xl/sharedstrings.xml"}
    name = next((n for n in archive.namelist() if n in names), None)
    if name is None:
        return []
    found: list[str] = []
    buffer = b""
    with archive.open(name) as part:
        while len(found) <= last:
            chunk = part.read(_CHUNK)
            if not chunk:
                break
            buffer += chunk
            end = 0
            for item in _SHARED.finditer(buffer):
                found.append(_run_text(item.group(1) or b""))
                end = item.end()
            buffer = buffer[end:]
    return found


def _run_text(xml: bytes) -> str:
    """The text of a string item: its runs joined, phonetic hints left out."""
    xml = _PHONETIC.sub(b"", xml)
    return _unescape(b"".join(_TEXT_RUN.findall(xml)).decode("utf-8"))


def _unescape(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _ESCAPED_CHAR.sub(lambda match: chr(int(match.group(1), 16)), text)
    return text


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Cell style indexes whose number format shows a date, time or duration.

    Generous on purpose: a custom format with any date or time letter
    outside quotes counts, so a doubtful cell is never shown as a number.
    """
    root = _parse_part(archive, "xl/styles.xml")
    if root is None:
        return set()
    date_formats = set(_DATE_FORMAT_IDS)
    for number_format in root.iter(f"{MAIN_NS}numFmt"):
        code = number_format.get("formatCode", "")
        shown = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
        # Durations ([h]:mm, [ss]) may keep their only letters in brackets.
        if re.search(r"[dmyhsDMYHS]", shown) or _DURATION.search(code):
            date_formats.add(int(number_format.get("numFmtId", "0")))
    cell_styles = root.find(f"{MAIN_NS}cellXfs")
    return {
        index
        for index, style in enumerate(cell_styles if cell_styles is not None else [])
        if int(style.get("numFmtId", "0")) in date_formats
    }


def shown_dates(
    archive: zipfile.ZipFile, head: SheetHead, count: int
) -> dict[tuple[int, int], dt.date | dt.datetime] | None:
    """The dates python-calamine shows for the date cells of the first rows.

    Args:
        archive: the workbook's zip container.
        head: the sheet's first rows, as ``sheet_head`` read them.
        count: how many rows to look at.

    Returns:
        (row, column) → a ``date`` (midnight) or a ``datetime``, as
        python-calamine gives it; None when a cell's format is not plainly a
        date (a duration, AM/PM, a fill) or its number falls before
        1900-03-01, where Excel counts a day that never was, or past 9999.
    """
    cells = {at: style for at, style in head.date_cells.items() if at[0] < count}
    if not cells:
        return {}
    plain = _plain_date_styles(archive)
    dates = {}
    for (row, col), style in cells.items():
        serial = head.rows[row][col]
        if style not in plain or not _FIRST_PLAIN_SERIAL <= serial < _LAST_SERIAL:
            return None
        # Rounded to the millisecond, half away from zero, as calamine does.
        millis = math.floor(serial * 86_400_000 + 0.5)
        moment = _EXCEL_EPOCH + dt.timedelta(milliseconds=millis)
        dates[row, col] = moment.date() if moment.time() == dt.time(0) else moment
    return dates


def _plain_date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Cell style indexes python-calamine surely reads as a date or time."""
    root = _parse_part(archive, "xl/styles.xml")
    if root is None:
        return set()
    codes = {
        int(number_format.get("numFmtId", "0")): number_format.get("formatCode", "")
        for number_format in root.iter(f"{MAIN_NS}numFmt")
    }
    cell_styles = root.find(f"{MAIN_NS}cellXfs")
    plain = set()
    for index, style in enumerate(cell_styles if cell_styles is not None else []):
        format_id = int(style.get("numFmtId", "0"))
        code = codes.get(format_id)
        if _is_plain_date(code) if code is not None else format_id in _PLAIN_DATE_IDS:
            plain.add(index)
    return plain


def _is_plain_date(code: str) -> bool:
    """True when the first section of a format code shows a date or time.

    Read the way calamine reads it: quoted text, the character after a
    backslash or underscore and brackets ([$-804], [Red]) are literal. A
    duration ([h]), an AM/PM marker before the first date letter or a fill
    (``*``, read differently across versions) makes it doubtful: False.
    """
    if "*" in code:
        return False
    quoted = literal = False
    depth, bracket = 0, ""
    for char in code:
        if literal:
            literal = False
        elif char in "\\_":
            literal = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return False
        elif char == "[":
            depth, bracket = depth + 1, ""
        elif char == "]" and depth:
            if depth == 1 and _DURATION_UNIT.fullmatch(bracket):
                return False
            depth -= 1
        elif depth:
            bracket += char
        elif char in "aA":
            return False
        elif char in "dmyhsDMYHS":
            return True
    return False


def merged_ranges(
    archive: zipfile.ZipFile, path: str
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The merged ranges of a worksheet as ((top, left), (bottom, right)), 0-based.

    They are listed after the cell data, so the whole part is decompressed,
    a chunk at a time, and only its tail is searched.
    """
    tail, carry = None, b""
    with archive.open(path) as part:
        while chunk := part.read(_CHUNK * 16):
            if tail is not None:
                tail += chunk
                continue
            # Searched in place: joining megabyte chunks would copy them.
            edge = carry + chunk[:16]
            if (at := _data_end(edge)) >= 0:
                tail = edge[at:] + chunk[16:]
            elif (at := _data_end(chunk)) >= 0:
                tail = chunk[at:]
            carry = chunk[-16:]
    ranges = []
    for match in _MERGE_REF.finditer(tail or b""):
        first, top, last, bottom = match.groups()
        left = _column_index(first)
        right = _column_index(last) if last else left
        top_row = int(top) - 1
        ranges.append(
            ((top_row, left), (int(bottom) - 1 if bottom else top_row, right))
        )
    return ranges


def _data_end(xml: bytes) -> int:
    """Where the cell data ends in ``xml`` (-1 if not in it)."""
    found = [xml.find(marker) for marker in (b"</sheetData>", b"<sheetData/>")]
    return min((at for at in found if at >= 0), default=-1)


def _column_index(letters: bytes) -> int:
    column = 0
    for letter in letters:
        column = column * 26 + letter - 64
    return column - 1
