"""Which source column holds which canonical field, and in what unit.

``detect_mapping`` proposes a mapping from the headers (Chinese and English
synonyms in ``tiering.fields``); the user corrects it on the upload page and
it can be saved as JSON and applied again to the next month's export, or
remembered by name (``remember_mapping``) under the data folder, keyed by a
hash of the header list, and found again for a file with the same headers
(``find_remembered_mapping``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiering import config
from tiering.errors import MappingError
from tiering.fields import FIELD_BY_KEY, field_for_header
from tiering.ingest import RawTable

logger = logging.getLogger(__name__)

# Unit words a header may carry, with the multiplier to natural units (元).
_UNIT_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"亿元|亿人民币|[（(]\s*亿\s*[)）]|亿$"), 100_000_000.0),
    (re.compile(r"万元|万人民币|[（(]\s*万\s*[)）]|万$"), 10_000.0),
    (re.compile(r"千元|[（(]\s*千\s*[)）]"), 1_000.0),
)
_UNIT_WORDS = re.compile(r"(亿元|万元|千元|元|亿|万)$")
MAPPINGS_FOLDER = "mappings"
NAME_LIMIT = 100


@dataclass(frozen=True)
class Mapping:
    """Canonical field key → source column, with a unit per number field.

    ``row_ids`` means the row numbers serve as client ids; it is only ever
    set by an explicit choice. ``sheet`` and ``header_row`` remember where
    the table was found, so a saved mapping can be applied to the next file.
    """

    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, float] = field(default_factory=dict)
    row_ids: bool = False
    sheet: str | None = None
    header_row: int | None = None

    def unit(self, key: str) -> float:
        """The multiplier to natural units for field ``key`` (1 if none)."""
        return float(self.units.get(key, 1.0))

    def to_dict(self) -> dict[str, Any]:
        """Return the mapping as plain JSON-ready data."""
        return {
            "columns": dict(self.columns),
            "units": {key: float(value) for key, value in self.units.items()},
            "row_ids": self.row_ids,
            "sheet": self.sheet,
            "header_row": self.header_row,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        """Build a mapping from ``to_dict`` output.

        Raises:
            MappingError: the data has the wrong shape or names an unknown
                field or a bad unit.
        """
        if not isinstance(data, dict) or not isinstance(data.get("columns", {}), dict):
            raise MappingError("error.mapping.file")
        try:
            mapping = cls(
                columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
                units={str(k): float(v) for k, v in (data.get("units") or {}).items()},
                row_ids=bool(data.get("row_ids", False)),
                sheet=data.get("sheet"),
                header_row=_optional_int(data.get("header_row")),
            )
        except (TypeError, ValueError) as error:
            raise MappingError("error.mapping.file") from error
        validate_mapping(mapping)
        return mapping


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def detect_mapping(raw: RawTable) -> Mapping:
    """Propose a mapping from the table's headers.

    The first column whose header means a field gets it; each field is
    mapped once. A number field whose header says 万元/万/亿元 gets that unit.

    Args:
        raw: the table read by ``tiering.ingest.read_table``.

    Returns:
        The proposed mapping (``row_ids`` is never set here).
    """
    columns: dict[str, str] = {}
    units: dict[str, float] = {}
    for column in raw.columns:
        key = _field_for(column)
        if key is None or key in columns:
            continue
        columns[key] = column
        unit = header_unit(column)
        if FIELD_BY_KEY[key].kind == "number" and unit != 1.0:
            units[key] = unit

    logger.info("mapped %d of %d columns", len(columns), len(raw.columns))
    return Mapping(
        columns=columns, units=units, sheet=raw.sheet, header_row=raw.header_row
    )


def _field_for(header: str) -> str | None:
    """The field a header means, also when a bare unit word ends it."""
    key = field_for_header(header)
    if key is None:
        key = field_for_header(_UNIT_WORDS.sub("", header.strip()))
    return key


def header_unit(header: str) -> float:
    """Return the multiplier a header's unit implies (1.0 for none).

    Args:
        header: a column name such as ``成交金额（万元）``.

    Returns:
        10000.0 for 万/万元, 100000000.0 for 亿/亿元, 1000.0 for 千元, else 1.0.
    """
    for pattern, multiplier in _UNIT_PATTERNS:
        if pattern.search(header.strip()):
            return multiplier
    return 1.0


def validate_mapping(mapping: Mapping, raw: RawTable | None = None) -> None:
    """Check a mapping, against a table's columns when one is given.

    Raises:
        MappingError: an unknown field (``field``), a column missing from the
            table (``field``, ``column``), one column mapped to two fields, or
            a unit that is not a positive number on a number field.
    """
    for key, column in mapping.columns.items():
        if key not in FIELD_BY_KEY:
            raise MappingError("error.mapping.unknown_field", field=key)
        if raw is not None and column not in raw.columns:
            raise MappingError("error.mapping.unknown_column", field=key, column=column)

    seen: dict[str, str] = {}
    for key, column in mapping.columns.items():
        if column in seen:
            raise MappingError(
                "error.mapping.column_twice",
                column=column,
                field=key,
                other=seen[column],
            )
        seen[column] = key

    for key, unit in mapping.units.items():
        if key not in FIELD_BY_KEY or FIELD_BY_KEY[key].kind != "number":
            raise MappingError("error.mapping.bad_unit", field=key)
        if not unit > 0:
            raise MappingError("error.mapping.bad_unit", field=key)


def unmapped_columns(raw: RawTable, mapping: Mapping) -> list[str]:
    """Return the table's columns that no field uses, in file order."""
    used = set(mapping.columns.values())
    return [column for column in raw.columns if column not in used]


def save_mapping(mapping: Mapping, path: str | Path) -> None:
    """Write a mapping as JSON (UTF-8, readable by people).

    Raises:
        MappingError: the mapping is invalid.
        OSError: the file cannot be written.
    """
    validate_mapping(mapping)
    text = json.dumps(mapping.to_dict(), ensure_ascii=False, indent=2)
    Path(path).write_text(text + "\n", encoding="utf-8")


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping saved by ``save_mapping``.

    Raises:
        MappingError: the file is missing, not JSON or not a valid mapping.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        logger.warning("mapping file cannot be read: %s", type(error).__name__)
        raise MappingError("error.mapping.file") from error
    if isinstance(data, dict) and "columns" not in data and "mapping" in data:
        data = data["mapping"]  # a mapping remembered by the app
    return Mapping.from_dict(data)


# --- remembered mappings ----------------------------------------------------------


@dataclass(frozen=True)
class RememberedMapping:
    """A mapping saved under a name for files with the same headers."""

    name: str
    mapping: Mapping
    path: Path


def mappings_dir() -> Path:
    """The folder of remembered mappings: ``<data dir>/mappings``."""
    return config.data_dir() / MAPPINGS_FOLDER


def headers_key(columns: list[str]) -> str:
    """A short hash of a header list, the name of its remembered mapping.

    Args:
        columns: the column names in file order (``RawTable.columns``).

    Returns:
        16 hex digits; the same list always gives the same key.
    """
    text = json.dumps(list(columns), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def remember_mapping(mapping: Mapping, raw: RawTable, name: str) -> Path:
    """Save ``mapping`` by name for every later file with ``raw``'s headers.

    A mapping saved earlier for the same headers is replaced. The file is
    also accepted by ``load_mapping`` (and so by the CLI's ``--mapping``).

    Args:
        mapping: the mapping the user applied.
        raw: the table it was applied to (its headers are the key).
        name: what the user calls it, e.g. ``CRM 月度导出``.

    Returns:
        The path of the JSON file written.

    Raises:
        MappingError: the mapping does not fit the table, or the name is blank.
        OSError: the folder or file cannot be written.
    """
    validate_mapping(mapping, raw)
    name = name.strip()[:NAME_LIMIT]
    if not name:
        raise MappingError("error.mapping.blank_name")
    folder = mappings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data = {"name": name, "headers": raw.columns, "mapping": mapping.to_dict()}
    path = folder / f"{headers_key(raw.columns)}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    partial.replace(path)  # never leave a half-written mapping behind
    logger.info("mapping remembered for %d headers", len(raw.columns))
    return path


def find_remembered_mapping(raw: RawTable) -> RememberedMapping | None:
    """Return the mapping remembered for ``raw``'s headers, if any.

    A remembered file that cannot be read, was saved for other headers, or
    no longer fits the table is ignored (and logged), never an error: the
    user then gets the detected mapping.
    """
    path = mappings_dir() / f"{headers_key(raw.columns)}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("headers") != raw.columns:
            return None
        mapping = Mapping.from_dict(data["mapping"])
        validate_mapping(mapping, raw)
        return RememberedMapping(str(data["name"]), mapping, path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, MappingError):
        logger.warning("remembered mapping %s ignored: cannot be used", path.name)
        return None
