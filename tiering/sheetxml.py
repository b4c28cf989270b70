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

import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

logger = logging.getLogger(__name__)

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
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
