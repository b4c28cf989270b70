"""Lists per owner: each consultant or branch gets only its own clients.

The owner is the mapped ``owner`` (置业顾问, 客户经理) or ``branch`` (支行,
项目) field of ``clients``; a client with no owner goes to the 未分配 list.
Each list holds the client id and name, the owner, composite, tier, reason,
next step, next follow-up date and the tier's playbook (services, cadence,
owner role). Two shapes: one workbook with a sheet per owner, or a zip with
one workbook per owner (each with its own playbook sheet).
"""

from __future__ import annotations

import io
import logging
import math
import re
import zipfile
from typing import IO, Any, Literal

import duckdb
import xlsxwriter

from tiering.errors import ExportError
from tiering.i18n import t
from tiering.insight import INSIGHT, playbook_frame, playbook_headers
from tiering.scoring import SCORED, table_columns
from tiering.sql import quote_identifier
from tiering.standard import Standard

logger = logging.getLogger(__name__)

OwnerField = Literal["owner", "branch"]
_FILE_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def owner_fields(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the owner fields (``owner``, ``branch``) present in ``clients``."""
    columns = table_columns(con, "clients")
    return [name for name in ("owner", "branch") if name in columns]


def _list_sql(
    con: duckdb.DuckDBPyConnection, standard: Standard, by: str, lang: str
) -> tuple[str, list[str], dict[str, Any]]:
    """SQL of the per-owner list, its headers and parameters.

    The first column, ``owner_key``, is the owner (or 未分配) and is not shown.
    """
    clients = table_columns(con, "clients")
    has_insight = bool(table_columns(con, INSIGHT))
    name = "c.name" if "name" in clients else "NULL::VARCHAR"
    params: dict[str, Any] = {
        "unassigned": t("owners.unassigned", lang),
        "pb_tiers": [e.tier for e in standard.playbook] or [""],
        "pb_services": [e.services for e in standard.playbook] or [""],
        "pb_days": [e.cadence_days for e in standard.playbook] or [0],
        "pb_roles": [e.owner_role for e in standard.playbook] or [""],
    }
    owner = f"coalesce(nullif(trim(c.{quote_identifier(by)}), ''), $unassigned)"
    position = "list_position($pb_tiers, s.tier)"
    selects = [
        (owner, "owner"),
        ("s.client_id", "client_id"),
        (name, "name"),
        ("round(s.composite, 2)", "composite"),
        ("s.tier", "tier"),
        ("s.reason", "reason"),
        ("i.next_step" if has_insight else "NULL::VARCHAR", "next_step"),
        ("i.next_follow_up" if has_insight else "NULL::DATE", "next_follow_up"),
        (f"$pb_services[{position}]", "services"),
        (f"$pb_days[{position}]", "cadence_days"),
        (f"$pb_roles[{position}]", "owner_role"),
    ]
    join = f"LEFT JOIN {INSIGHT} AS i USING (_row)" if has_insight else ""
    body = ",\n".join(f"{sql} AS {quote_identifier(key)}" for sql, key in selects)
    sql = f"""
        SELECT {owner} AS owner_key, {body}
        FROM {SCORED} AS s JOIN clients AS c USING (_row) {join}
        ORDER BY owner_key, s.tier_rank NULLS LAST, s.composite DESC, s.client_id
    """
    headers = [t(f"owners.column.{key}", lang) for _, key in selects]
    return sql, headers, params


def owner_lists(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    by: OwnerField = "owner",
    lang: str = "zh",
) -> dict[str, Any]:
    """Return each owner's clients as a data frame, keyed by owner.

    Every scored or unscored client of ``scored`` is in exactly one list;
    clients with a blank owner are in the 未分配 (unassigned) list.

    Args:
        con: a connection holding ``clients`` and ``scored`` (and
            ``insight`` for the next step and follow-up date).
        standard: gives the playbook.
        by: the owner field, ``owner`` or ``branch``.
        lang: language of the headers and the unassigned name.

    Returns:
        ``{owner: DataFrame}`` in owner order.

    Raises:
        ExportError: the field is not mapped in this data.
    """
    if by not in owner_fields(con):
        raise ExportError("owners.error.no_field", field=by)
    sql, headers, params = _list_sql(con, standard, by, lang)
    frame = con.execute(sql, params).df()
    frame.columns = ["owner_key", *headers]
    lists = {
        str(owner): group.drop(columns="owner_key").reset_index(drop=True)
        for owner, group in frame.groupby("owner_key", sort=True)
    }
    logger.info("split %d clients into %d owner lists", len(frame), len(lists))
    return lists


def _write_frame(workbook: Any, name: str, frame: Any, formats: dict) -> None:
    sheet = workbook.add_worksheet(name)
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, str(header), formats["header"])
        sheet.set_column(col, col, 14 if col != 4 else 40)
    for row, values in enumerate(frame.itertuples(index=False), start=1):
        for col, value in enumerate(values):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if hasattr(value, "year"):
                sheet.write_datetime(row, col, value, formats["date"])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(row, col, value)
            else:
                # write_string never makes a formula of text such as "=1+2".
                sheet.write_string(row, col, str(value))
    sheet.freeze_panes(1, 0)


def _sheet_name(owner: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", owner).strip("'")[:28] or "_"
    name, counter = base, 2
    while name.casefold() in taken:
        name, counter = f"{base}_{counter}", counter + 1
    taken.add(name.casefold())
    return name


def _workbook(
    target: IO[bytes], lists: dict[str, Any], playbook: Any, lang: str
) -> None:
    workbook = xlsxwriter.Workbook(target, {"in_memory": True})
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#D9E1F2"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    taken = {t("insight.sheet.playbook", lang).casefold()}
    for owner, frame in lists.items():
        _write_frame(workbook, _sheet_name(owner, taken), frame, formats)
    _write_frame(workbook, t("insight.sheet.playbook", lang), playbook, formats)
    workbook.close()


def write_owner_workbook(
    target: IO[bytes],
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    by: OwnerField = "owner",
    lang: str = "zh",
) -> None:
    """Write one workbook with one sheet per owner, then the playbook sheet.

    Raises:
        ExportError: the owner field is not mapped.
    """
    lists = owner_lists(con, standard, by, lang)
    _workbook(target, lists, _playbook_table(standard, lang), lang)


def write_owner_zip(
    target: IO[bytes],
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    by: OwnerField = "owner",
    lang: str = "zh",
) -> None:
    """Write a zip of one workbook per owner (``<owner>.xlsx``).

    Raises:
        ExportError: the owner field is not mapped.
    """
    lists = owner_lists(con, standard, by, lang)
    playbook = _playbook_table(standard, lang)
    used: set[str] = set()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for owner, frame in lists.items():
            buffer = io.BytesIO()
            _workbook(buffer, {owner: frame}, playbook, lang)
            archive.writestr(_file_name(owner, used), buffer.getvalue())


def _file_name(owner: str, used: set[str]) -> str:
    base = _FILE_FORBIDDEN.sub("_", owner).strip(". ") or "_"
    name, counter = f"{base}.xlsx", 2
    while name.casefold() in used:
        name, counter = f"{base}_{counter}.xlsx", counter + 1
    used.add(name.casefold())
    return name


def _playbook_table(standard: Standard, lang: str) -> Any:
    frame = playbook_frame(standard, lang)
    return frame.rename(columns=playbook_headers(lang))
