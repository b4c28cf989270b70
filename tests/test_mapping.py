"""Proposing, checking and saving column mappings."""

from __future__ import annotations

import fixtures_messy as fx
import pytest

from tiering.errors import MappingError
from tiering.i18n import describe_error
from tiering.ingest import read_table
from tiering.mapping import (
    Mapping,
    detect_mapping,
    header_unit,
    load_mapping,
    save_mapping,
    unmapped_columns,
    validate_mapping,
)


def _table(tmp_path, text):
    return read_table(fx.text_csv(tmp_path, "m.csv", text))


def test_workbook_headers_map_to_fields_with_unit(tmp_path):
    raw = read_table(fx.title_totals_xlsx(tmp_path))

    mapping = detect_mapping(raw)

    assert mapping.columns == {
        "client_id": "客户编号",
        "name": "客户姓名",
        "id_card": "身份证号",
        "amount": "成交金额（万元）",
        "last_purchase_date": "最近成交日期",
        "owner": "置业顾问",
    }
    assert mapping.units == {"amount": 10_000.0}
    assert mapping.sheet == "客户名单" and mapping.header_row == 4
    assert not mapping.row_ids


def test_first_matching_column_wins_and_fields_map_once(tmp_path):
    raw = _table(tmp_path, "金额,客户编号,金额,累计金额\n1,A,2,3\n")

    mapping = detect_mapping(raw)

    assert mapping.columns == {"amount": "金额", "client_id": "客户编号"}
    assert unmapped_columns(raw, mapping) == ["金额_2", "累计金额"]


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("成交金额（万元）", 10_000.0),
        ("金额(万)", 10_000.0),
        ("签单额万元", 10_000.0),
        ("资产规模（亿元）", 100_000_000.0),
        ("累计金额（元）", 1.0),
        ("万科项目", 1.0),
    ],
)
def test_unit_is_read_from_the_header(header, unit):
    assert header_unit(header) == unit


def test_header_ending_in_a_bare_unit_word_still_maps(tmp_path):
    raw = _table(tmp_path, "客户编号,签单额万元\nA,1\n")

    mapping = detect_mapping(raw)

    assert mapping.columns["amount"] == "签单额万元"
    assert mapping.units == {"amount": 10_000.0}


def test_mapping_round_trips_through_json(tmp_path):
    mapping = Mapping(
        columns={"client_id": "客户编号", "amount": "金额"},
        units={"amount": 10_000.0},
        row_ids=False,
        sheet="S",
        header_row=3,
    )
    path = tmp_path / "mapping.json"

    save_mapping(mapping, path)

    assert load_mapping(path) == mapping
    assert "客户编号" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("mapping", "key", "facts"),
    [
        (
            Mapping(columns={"wealth": "金额"}),
            "error.mapping.unknown_field",
            {"field": "wealth"},
        ),
        (
            Mapping(columns={"amount": "没有这列"}),
            "error.mapping.unknown_column",
            {"field": "amount", "column": "没有这列"},
        ),
        (
            Mapping(columns={"amount": "金额", "assets": "金额"}),
            "error.mapping.column_twice",
            {"column": "金额", "field": "assets", "other": "amount"},
        ),
        (
            Mapping(columns={"client_id": "客户编号"}, units={"client_id": 10.0}),
            "error.mapping.bad_unit",
            {"field": "client_id"},
        ),
        (
            Mapping(columns={"amount": "金额"}, units={"amount": 0.0}),
            "error.mapping.bad_unit",
            {"field": "amount"},
        ),
    ],
)
def test_invalid_mapping_names_the_bad_field(tmp_path, mapping, key, facts):
    raw = _table(tmp_path, "客户编号,金额\nA,1\n")

    with pytest.raises(MappingError) as caught:
        validate_mapping(mapping, raw)

    assert caught.value.key == key
    assert caught.value.facts == facts
    assert describe_error(caught.value, "en") != key


def test_broken_mapping_file_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")

    with pytest.raises(MappingError) as caught:
        load_mapping(path)

    assert caught.value.key == "error.mapping.file"


# --- remembered mappings ------------------------------------------------------


def test_remembered_mapping_is_found_for_a_file_with_the_same_headers(
    tmp_path, tmp_data_dir
):
    from tiering.mapping import find_remembered_mapping, remember_mapping

    first = _table(tmp_path, "编号,金额 (万元),备注\nA1,5,x\n")
    mapping = Mapping(columns={"client_id": "编号"}, units={}, header_row=1)
    path = remember_mapping(mapping, first, "  CRM 月度导出 ")
    next_month = read_table("编号,金额 (万元),备注\nB2,7,y\n".encode(), filename="n.csv")

    found = find_remembered_mapping(next_month)

    assert path.parent == tmp_data_dir / "mappings"
    assert found.name == "CRM 月度导出"
    assert found.mapping == mapping
    assert load_mapping(path) == mapping  # the CLI's --mapping reads it too


def test_no_remembered_mapping_for_other_headers(tmp_path, tmp_data_dir):
    from tiering.mapping import find_remembered_mapping, remember_mapping

    remember_mapping(
        Mapping(columns={"client_id": "编号"}), _table(tmp_path, "编号,金额\nA,1\n"), "a"
    )

    assert find_remembered_mapping(_table(tmp_path, "编号,金额,日期\nA,1,2\n")) is None


def test_unreadable_remembered_mapping_is_ignored(tmp_path, tmp_data_dir):
    from tiering.mapping import find_remembered_mapping, headers_key

    raw = _table(tmp_path, "编号,金额\nA,1\n")
    (tmp_data_dir / "mappings").mkdir()
    (tmp_data_dir / "mappings" / f"{headers_key(raw.columns)}.json").write_text("{")

    assert find_remembered_mapping(raw) is None


def test_remembering_needs_a_name(tmp_path, tmp_data_dir):
    from tiering.mapping import remember_mapping

    with pytest.raises(MappingError) as caught:
        remember_mapping(Mapping(), _table(tmp_path, "编号\nA\n"), "  ")

    assert describe_error(caught.value, "en") == (
        "Give the mapping to be saved a name, such as 'CRM monthly export'."
    )


def test_duplicate_headers_are_both_offered_for_mapping(tmp_path):
    raw = _table(tmp_path, "客户编号,金额,金额\nA,1,2\n")

    assert raw.columns == ["客户编号", "金额", "金额_2"]
    assert detect_mapping(raw).columns["amount"] == "金额"
