"""Export: the tiered list as a data frame, an Excel workbook and a CSV file."""

import dataclasses
import datetime as dt
import io
import os
from types import SimpleNamespace

import duckdb
import openpyxl
import pandas as pd
import pytest

from tiering.export import (
    ExportMeta,
    _unique_sheet_name,
    build_export_frame,
    write_csv,
    write_workbook,
)
from tiering.standard import Standard

STANDARD = {
    "name": "测试标准",
    "version": 3,
    "dimensions": [
        {
            "key": "value",
            "label": {"zh": "客户价值", "en": "Value"},
            "weight": 60,
            "metrics": [
                {
                    "key": "recency",
                    "field": "recency_days",
                    "weight": 50,
                    "label": {"zh": "最近购买", "en": "Recency"},
                    "method": "quantile",
                    "bins": 5,
                    "direction": "lower_better",
                },
                {
                    "key": "amount",
                    "field": "amount",
                    "weight": 50,
                    "method": "thresholds",
                    "cuts": [1, 2, 3, 4],
                },
            ],
        },
        {
            "key": "credit",
            "label": {"zh": "客户信用", "en": "Credit"},
            "weight": 40,
            "metrics": [
                {
                    "key": "grade",
                    "field": "credit_grade",
                    "weight": 100,
                    "method": "category",
                    "categories": {"A": 5, "B": 3},
                    "other": 1,
                },
            ],
        },
    ],
    "tiers": [
        {"name": "钻石", "color": "#1f4e79", "min_score": 80},
        {"name": "黄金", "color": "#ffc000", "min_score": 50},
        {"name": "普通", "color": "#a6a6a6", "min_score": 0},
    ],
    "gates": [
        {
            "label": {"zh": "信用D最高普通", "en": "Grade D capped"},
            "field": "credit_grade",
            "op": "in",
            "value": ["D"],
            "action": "cap",
            "tier": "普通",
        },
    ],
}

# (_row, 客户编号, 身份证号, 最近购买日期, 备注)
SOURCE_ROWS = [
    (2, "00123", "110101199003074518", "2024-01-05", '=HYPERLINK("x")'),
    (3, "00007", "44030119851231002X", "2023-12-31", "+86 138 0000 0000"),
    (4, "10001", "310101197001010011", "", "-1"),
    (5, "00042", "110101200001010021", "2024-02-29", "@SUM(A1)"),
    (6, "09999", "110101199912319999", "2022-06-30", "\t=1+1"),
]
# (_row, client_id, m_recency, m_amount, m_grade, d_value, d_credit, composite,
#  tier_before_gates, gate, tier, tier_rank, reason)
SCORED_ROWS = [
    (2, "00123", 5, 5, 5, 5.0, 5.0, 100.0, "钻石", None, "钻石", 0, "达到钻石"),
    (3, "00007", 4, 4, 1, 4.0, 1.0, 55.0, "黄金", None, "黄金", 1, "达到黄金"),
    (4, "10001", 1, 2, 3, 1.5, 3.0, 26.666666, "普通", None, "普通", 2, "低于黄金"),
    (5, "00042", 5, 5, 1, 5.0, 1.0, 85.0, "钻石", "信用D最高普通", "普通", 2, "规则"),
    (6, "09999", 4, 3, 5, 3.5, 5.0, 85.0, "钻石", None, "钻石", 0, "达到钻石"),
]


def _make_tables(con, source_rows=SOURCE_ROWS, scored_rows=SCORED_ROWS):
    con.execute(
        'CREATE TABLE source (_row INTEGER, "客户编号" VARCHAR, "身份证号" VARCHAR, '
        '"最近购买日期" VARCHAR, "备注" VARCHAR)'
    )
    con.executemany("INSERT INTO source VALUES (?, ?, ?, ?, ?)", source_rows)
    con.execute(
        "CREATE TABLE scored (_row INTEGER, client_id VARCHAR, m_recency INTEGER, "
        "m_amount INTEGER, m_grade INTEGER, d_value DOUBLE, d_credit DOUBLE, "
        "composite DOUBLE, tier_before_gates VARCHAR, gate VARCHAR, tier VARCHAR, "
        "tier_rank INTEGER, reason VARCHAR)"
    )
    con.executemany(
        "INSERT INTO scored VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        scored_rows,
    )


@pytest.fixture
def tiered_con():
    con = duckdb.connect()
    _make_tables(con)
    yield con
    con.close()


@pytest.fixture
def standard():
    return Standard.from_dict(STANDARD)


@pytest.fixture
def prepared():
    issues = pd.DataFrame(
        {
            "row": [7, 8],
            "column": ["客户编号", "累计金额"],
            "value": ["", "=cmd|' /C calc'!A0"],
            "status": ["rejected", "excluded"],
            "reason_key": ["error.unexpected", "error.unexpected"],
        }
    )
    return SimpleNamespace(
        rows_in_file=7,
        rows_loaded=5,
        rows_excluded=1,
        rows_rejected=1,
        issues=issues,
        as_of=dt.date(2024, 3, 31),
        kind="clients",
    )


@pytest.fixture
def result():
    return SimpleNamespace(rows_scored=5, rows_unscored=0, tier_counts=None)


META = ExportMeta(
    dataset_name="客户名单.xlsx",
    sheet="Sheet1",
    generated_by="测试员",
    generated_at=dt.datetime(2024, 4, 1, 9, 30),
    as_of=dt.date(2024, 3, 31),
)


def _workbook(con, standard, prepared, result, lang="zh", read_only=False, **options):
    buffer = io.BytesIO()
    write_workbook(buffer, con, standard, prepared, result, META, lang, **options)
    buffer.seek(0)
    return openpyxl.load_workbook(buffer, read_only=read_only)


def _table(sheet):
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    return header, rows[1:]


def test_frame_has_original_columns_then_english_added_columns(tiered_con, standard):
    frame = build_export_frame(tiered_con, standard, lang="en")

    assert list(frame.columns) == [
        "客户编号",
        "身份证号",
        "最近购买日期",
        "备注",
        "client_id",
        "recency_points",
        "amount_points",
        "grade_points",
        "value_score",
        "credit_score",
        "score",
        "tier_before_gates",
        "gate",
        "tier",
        "reason",
    ]


def test_frame_has_chinese_added_columns_and_renames_a_clash(tiered_con, standard):
    frame = build_export_frame(tiered_con, standard, lang="zh")

    assert list(frame.columns)[4:] == [
        "客户编号_2",
        "最近购买评分",
        "amount评分",
        "grade评分",
        "客户价值得分",
        "客户信用得分",
        "综合得分",
        "规则前分级",
        "适用规则",
        "分级",
        "分级说明",
    ]


def test_frame_is_sorted_by_tier_then_score_then_client_id(tiered_con, standard):
    frame = build_export_frame(tiered_con, standard, lang="en")

    assert list(frame["client_id"]) == ["00123", "09999", "00007", "00042", "10001"]
    assert frame["身份证号"].iloc[0] == "110101199003074518"


def test_frame_rounds_scores_to_two_decimals(tiered_con, standard):
    frame = build_export_frame(tiered_con, standard, lang="en")

    assert frame.loc[frame["client_id"] == "10001", "score"].item() == 26.67


def test_frame_without_scores_raises_export_error(standard):
    from tiering.errors import ExportError

    con = duckdb.connect()

    with pytest.raises(ExportError) as caught:
        build_export_frame(con, standard)

    assert caught.value.key == "export.error.not_scored"


def test_workbook_has_summary_all_clients_tiers_issues_and_standard(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    assert book.sheetnames == [
        "汇总",
        "全部客户",
        "钻石",
        "黄金",
        "普通",
        "数据问题",
        "分级标准",
    ]


def test_workbook_in_english_names_sheets_in_english(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result, lang="en")

    assert book.sheetnames[:2] == ["Summary", "All clients"]
    assert book.sheetnames[-2:] == ["Data issues", "Standard"]
    header, _ = _table(book["All clients"])
    assert "value_score" in header and "score" in header and "tier" in header


def test_workbook_keeps_ids_as_text_with_leading_zeros(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    ids = [row[header.index("客户编号")] for row in rows]
    cards = [row[header.index("身份证号")] for row in rows]
    assert [cell.value for cell in ids] == ["00123", "09999", "00007", "00042", "10001"]
    assert all(cell.data_type == "s" for cell in ids + cards)
    assert cards[0].value == "110101199003074518"
    added_ids = [row[header.index("客户编号_2")].value for row in rows]
    assert added_ids == [cell.value for cell in ids]


def test_workbook_writes_iso_date_columns_as_dates(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    dates = {row[1].value: row[header.index("最近购买日期")] for row in rows}
    assert dates["110101199003074518"].value == dt.datetime(2024, 1, 5)
    assert dates["110101199003074518"].is_date
    assert "yyyy-mm-dd" in dates["110101199003074518"].number_format
    assert dates["310101197001010011"].value is None


def test_workbook_writes_scores_as_numbers(tiered_con, standard, prepared, result):
    book = _workbook(tiered_con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    scores = [row[header.index("综合得分")] for row in rows]
    assert [cell.value for cell in scores] == [100, 85, 55, 85, 26.67]
    assert all(cell.data_type == "n" for cell in scores)


def test_workbook_keeps_formula_looking_text_as_text(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    notes = {row[header.index("备注")].value: row[header.index("备注")] for row in rows}
    for text in ['=HYPERLINK("x")', "+86 138 0000 0000", "-1", "@SUM(A1)"]:
        assert notes[text].data_type == "s"
    _, issue_rows = _table(book["数据问题"])
    assert issue_rows[1][2].value == "=cmd|' /C calc'!A0"
    assert issue_rows[1][2].data_type == "s"


def test_workbook_tier_sheets_add_up_to_all_clients(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    _, all_rows = _table(book["全部客户"])
    per_tier = {name: len(_table(book[name])[1]) for name in ("钻石", "黄金", "普通")}
    assert per_tier == {"钻石": 2, "黄金": 1, "普通": 2}
    assert sum(per_tier.values()) == len(all_rows)
    header, rows = _table(book["普通"])
    assert {row[header.index("分级")].value for row in rows} == {"普通"}


def test_workbook_summary_counts_match_tier_sheets(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    summary = {
        row[0].value: row[1].value
        for row in book["汇总"].iter_rows()
        if row[0].value is not None
    }
    assert summary["钻石"] == len(_table(book["钻石"])[1])
    assert summary["黄金"] == 1 and summary["普通"] == 2 and summary["合计"] == 5
    assert summary["数据集"] == "客户名单.xlsx"
    assert summary["统计基准日"] == dt.datetime(2024, 3, 31)
    assert summary["标准版本"] == 3
    assert summary["文件数据行数"] == 7 and summary["无法使用行数"] == 1


def test_workbook_summary_fills_tier_cells_with_tier_colour(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    cells = {row[0].value: row[0] for row in book["汇总"].iter_rows()}
    assert cells["钻石"].fill.fgColor.rgb.endswith("1F4E79")


def test_workbook_tables_have_bold_frozen_header_and_filter(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    sheet = book["全部客户"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:O6"
    assert sheet["A1"].font.b
    assert sheet.column_dimensions["B"].width >= 18


def test_workbook_standard_sheet_lists_metrics_tiers_and_gates(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    texts = {
        cell.value for row in book["分级标准"].iter_rows() for cell in row if cell.value
    }
    assert {"测试标准", "分位数", "阈值", "类别赋分", "信用D最高普通", "属于"} <= texts
    assert "分界点 1 / 2 / 3 / 4" in texts and "A → 5, B → 3；其他 1" in texts


def test_workbook_without_issues_says_so(tiered_con, standard, result):
    prepared = SimpleNamespace(
        rows_in_file=5,
        rows_loaded=5,
        rows_excluded=0,
        rows_rejected=0,
        issues=pd.DataFrame(columns=["row", "column", "value", "status", "reason_key"]),
        as_of=None,
        kind="clients",
    )

    book = _workbook(tiered_con, standard, prepared, result)

    assert book["数据问题"]["A2"].value.startswith("所有数据行均已载入")
    summary = [c.value for row in book["汇总"].iter_rows() for c in row if c.value]
    assert "所有数据行均已载入，没有数据问题。" in summary
    assert not any("见「数据问题」" in str(v) for v in summary), summary


def test_workbook_summary_points_to_the_issues_sheet_when_there_are_issues(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    summary = [c.value for row in book["汇总"].iter_rows() for c in row if c.value]
    assert "各行原因见「数据问题」工作表。" in summary, summary


def test_long_table_continues_on_further_sheets(tiered_con, standard, prepared, result):
    book = _workbook(tiered_con, standard, prepared, result, rows_per_sheet=2)

    assert book.sheetnames[:6] == [
        "汇总",
        "全部客户",
        "全部客户 (2)",
        "全部客户 (3)",
        "钻石",
        "黄金",
    ]
    ids = [
        row[0].value
        for name in ("全部客户", "全部客户 (2)", "全部客户 (3)")
        for row in _table(book[name])[1]
    ]
    assert ids == ["00123", "09999", "00007", "00042", "10001"]
    assert book["全部客户 (2)"]["A1"].value == "客户编号"


def test_progress_reports_rows_done_of_total(tiered_con, standard, prepared, result):
    calls = []

    _workbook(
        tiered_con,
        standard,
        prepared,
        result,
        progress=lambda step, done, total: calls.append((step, done, total)),
    )

    assert ("全部客户", 5, 5) in calls
    assert ("钻石", 2, 2) in calls


def test_workbook_to_missing_folder_raises_export_error(
    tiered_con, standard, prepared, result, tmp_path
):
    from tiering.errors import ExportError

    target = tmp_path / "missing" / "out.xlsx"

    with pytest.raises(ExportError) as caught:
        write_workbook(target, tiered_con, standard, prepared, result, META)

    assert caught.value.key == "export.error.write"
    assert caught.value.facts == {"file": "out.xlsx"}


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("钻石", "钻石"),
        ("A/B: [top]?*", "A_B_ _top___"),
        ("'quoted'", "quoted"),
        ("x" * 40, "x" * 31),
        ("", "_"),
    ],
)
def test_sheet_names_are_valid_for_excel(base, expected):
    assert _unique_sheet_name(base, set()) == expected


def test_sheet_names_are_unique_without_case_and_fit_31_characters():
    taken = set()

    names = [_unique_sheet_name("Gold", taken), _unique_sheet_name("gold", taken)]
    long_names = [_unique_sheet_name("y" * 40, taken, part=p) for p in (1, 2)]

    assert names == ["Gold", "gold (2)"]
    assert long_names == ["y" * 31, "y" * 27 + " (2)"]


def test_csv_starts_with_bom_and_keeps_ids(tiered_con, standard, tmp_path):
    target = tmp_path / "tiers.csv"

    write_csv(target, tiered_con, standard, lang="en")

    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(target, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(frame["client_id"]) == ["00123", "09999", "00007", "00042", "10001"]
    assert list(frame["身份证号"])[1] == "110101199912319999"
    assert list(frame.columns)[4:7] == ["client_id", "recency_points", "amount_points"]


def test_csv_neutralises_formula_leading_text(tiered_con, standard):
    buffer = io.BytesIO()

    write_csv(buffer, tiered_con, standard, lang="en")

    frame = pd.read_csv(
        io.BytesIO(buffer.getvalue()),
        dtype=str,
        encoding="utf-8-sig",
        keep_default_na=False,
    )
    notes = set(frame["备注"])
    assert {'\'=HYPERLINK("x")', "'+86 138 0000 0000", "'@SUM(A1)"} <= notes
    assert "'\t=1+1" in notes
    assert "-1" in notes


def test_the_connection_is_free_after_each_export(
    sample_clients_path, default_standard_path, duckdb_con
):
    # A result left unfinished made the next query on the session's
    # connection fail ("对比已发布版本" after a CSV download).
    standard, prepared, result = _score_file(
        sample_clients_path, default_standard_path, duckdb_con
    )

    write_csv(io.BytesIO(), duckdb_con, standard, prepared=prepared)
    assert duckdb_con.sql("SELECT count(*) FROM clients").fetchall()[0][0] > 0
    write_workbook(io.BytesIO(), duckdb_con, standard, prepared, result, META)
    assert duckdb_con.sql("SELECT count(*) FROM clients").fetchall()[0][0] > 0


def test_csv_columns_match_the_all_clients_sheet(
    tiered_con, standard, prepared, result
):
    buffer = io.BytesIO()
    write_csv(buffer, tiered_con, standard)
    book = _workbook(tiered_con, standard, prepared, result)

    frame = pd.read_csv(io.BytesIO(buffer.getvalue()), dtype=str, encoding="utf-8-sig")

    assert list(frame.columns) == _table(book["全部客户"])[0]


# --- the whole engine: read, load, score, export ---------------------------


def _score_file(path, standard_path, con):
    from tiering.ingest import read_table
    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients
    from tiering.scoring import score_clients
    from tiering.standard import load_standard

    raw = read_table(path)
    prepared = load_clients(con, raw, detect_mapping(raw))
    standard = load_standard(standard_path)
    return standard, prepared, score_clients(con, standard)


def test_sample_workbook_round_trip(
    sample_clients_path, default_standard_path, duckdb_con
):
    standard, prepared, result = _score_file(
        sample_clients_path, default_standard_path, duckdb_con
    )

    book = _workbook(duckdb_con, standard, prepared, result, read_only=True)

    expected = dict(zip(result.tier_counts["tier"], result.tier_counts["clients"]))
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True)}
    assert {tier: summary[tier] for tier in expected} == expected
    header, rows = _table(book["全部客户"])
    assert len(rows) == result.rows_scored == sum(expected.values())
    assert sum(len(_table(book[tier])[1]) for tier in expected) == len(rows)
    ids = [row[header.index("客户编号")] for row in rows]
    assert all(cell.data_type == "s" for cell in ids)
    dates = [row[header.index("最近购买日期")] for row in rows]
    assert any(cell.is_date for cell in dates)
    assert all(cell.is_date or cell.value is None for cell in dates)


def test_csv_writes_whole_numbers_without_a_decimal_point(
    tmp_path, default_standard_path, duckdb_con
):
    table = tmp_path / "clients.csv"
    table.write_text(
        "客户编号,累计金额,购买次数\n00001,100,4\n00002,250.5,2\n00003,,0\n",
        encoding="utf-8",
    )
    standard, prepared, _ = _score_file(table, default_standard_path, duckdb_con)
    buffer = io.BytesIO()

    write_csv(buffer, duckdb_con, standard, prepared=prepared)

    frame = pd.read_csv(
        io.BytesIO(buffer.getvalue()), dtype=str, encoding="utf-8-sig",
        keep_default_na=False,
    ).set_index("客户编号")
    assert frame.loc["00001", "购买次数"] == "4"
    assert frame.loc["00003", "购买次数"] == "0"
    # A column with a fraction keeps every value as the number it is.
    assert float(frame.loc["00001", "累计金额"]) == 100
    assert frame.loc["00002", "累计金额"] == "250.5"
    assert frame.loc["00003", "累计金额"] == ""


def test_issues_sheet_lists_rows_that_were_not_loaded(
    tmp_path, default_standard_path, duckdb_con
):
    table = tmp_path / "clients.csv"
    table.write_text(
        "客户编号,累计金额,购买次数\n00001,100,1\n,200,2\n00003,300,3\n00003,400,4\n",
        encoding="utf-8",
    )
    standard, prepared, result = _score_file(table, default_standard_path, duckdb_con)

    book = _workbook(duckdb_con, standard, prepared, result)

    header, rows = _table(book["数据问题"])
    assert header[0] == "行号"
    listed_rows = {row[0].value for row in rows}
    assert {3} <= listed_rows
    assert all(row[0].data_type == "n" for row in rows)
    _, clients = _table(book["全部客户"])
    assert [row[0].value for row in clients].count("00003") == 1


def test_clients_without_tier_get_their_own_sheet_and_summary_line(
    standard, prepared, result
):
    con = duckdb.connect()
    unscored = (
        7,
        "77777",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "无数据",
    )
    _make_tables(
        con, SOURCE_ROWS + [(7, "77777", "", "", "")], SCORED_ROWS + [unscored]
    )

    book = _workbook(con, standard, prepared, result)

    assert book.sheetnames[-3:] == ["未分级", "数据问题", "分级标准"]
    assert [row[0].value for row in _table(book["未分级"])[1]] == ["77777"]
    assert _table(book["全部客户"])[1][-1][0].value == "77777"
    summary = {row[0].value: row[1].value for row in book["汇总"].iter_rows()}
    assert summary["未分级"] == 1 and summary["合计"] == 6


def test_original_numbers_export_as_numbers_and_ids_stay_text(tmp_path):
    import duckdb as _duckdb
    import openpyxl as _openpyxl

    from tiering.export import ExportMeta as _Meta
    from tiering.export import write_workbook as _write
    from tiering.ingest import read_table
    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients
    from tiering.scoring import score_clients
    from tiering.standard import load_standard
    from tiering.config import SAMPLE_DATA_DIR

    source = tmp_path / "clients.csv"
    source.write_text(
        "客户编号,会员卡号,购买次数,累计金额,备注码\n"
        "12345,6222020000000001,3,1500.5,007\n"
        "00123,6222020000000002,10,-20,12\n",
        encoding="utf-8",
    )
    raw = read_table(source)
    con = _duckdb.connect()
    prepared = load_clients(con, raw, detect_mapping(raw))
    standard = load_standard(SAMPLE_DATA_DIR / "default_standard.json")
    result = score_clients(con, standard)
    out = tmp_path / "out.xlsx"

    _write(out, con, standard, prepared, result, _Meta(dataset_name="clients.csv"))

    sheet = _openpyxl.load_workbook(out)["全部客户"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"12345", "00123"}
    assert rows["12345"]["会员卡号"] == "6222020000000001"
    assert rows["12345"]["购买次数"] == 3
    assert rows["12345"]["累计金额"] == 1500.5
    assert rows["00123"]["累计金额"] == -20
    assert rows["12345"]["备注码"] == "007"


def test_long_table_splits_across_sheets_inside_a_fetched_batch(
    tiered_con, standard, prepared, result, monkeypatch
):
    import tiering.export

    monkeypatch.setattr(tiering.export, "FETCH_ROWS", 2)

    book = _workbook(tiered_con, standard, prepared, result, rows_per_sheet=3)

    parts = [_table(book[name])[1] for name in ("全部客户", "全部客户 (2)")]
    assert [len(rows) for rows in parts] == [3, 2]
    ids = [row[0].value for rows in parts for row in rows]
    assert ids == ["00123", "09999", "00007", "00042", "10001"]
    assert book["全部客户"].auto_filter.ref == "A1:O4"
    assert book["全部客户 (2)"].auto_filter.ref == "A1:O3"


def test_workbook_read_by_calamine_keeps_text_ids_dates_and_numbers(
    tiered_con, standard, prepared, result
):
    from python_calamine import CalamineWorkbook

    buffer = io.BytesIO()
    write_workbook(buffer, tiered_con, standard, prepared, result, META)

    book = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    header, *rows = book.get_sheet_by_name("全部客户").to_python()
    first = dict(zip(header, rows[0]))
    assert first["客户编号"] == "00123"
    assert first["身份证号"] == "110101199003074518"
    assert first["最近购买日期"] == dt.date(2024, 1, 5)
    assert first["综合得分"] == 100.0
    assert first["备注"] == '=HYPERLINK("x")'


def test_text_over_the_excel_cell_limit_is_cut_not_fatal(standard, prepared, result):
    con = duckdb.connect()
    long_note = "长" * 40_000
    _make_tables(con, [(2, "00123", "110", "2024-01-05", long_note)], SCORED_ROWS[:1])

    book = _workbook(con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    note = rows[0][header.index("备注")].value
    assert note == "长" * 32_767


def test_dates_excel_cannot_show_stay_text(standard, prepared, result):
    con = duckdb.connect()
    _make_tables(
        con,
        [(2, "00123", "110", "1899-12-31", ""), (3, "00007", "120", "2024-01-05", "")],
        SCORED_ROWS[:2],
    )

    book = _workbook(con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    dates = [row[header.index("最近购买日期")] for row in rows]
    assert [cell.value for cell in dates] == ["1899-12-31", "2024-01-05"]
    assert all(cell.data_type == "s" for cell in dates)


def test_workbook_written_to_a_path_opens(
    tiered_con, standard, prepared, result, tmp_path
):
    target = tmp_path / "tiers.xlsx"

    write_workbook(target, tiered_con, standard, prepared, result, META)

    book = openpyxl.load_workbook(target)
    assert book.sheetnames[1] == "全部客户"
    assert book["全部客户"].max_row == 6


# --- mapped columns: typed values, one id column, CSV headers as the sheet ---


def _messy_clients(tmp_path):
    """A client file with clean rows and a few unreadable dates and amounts."""
    import openpyxl as _openpyxl

    book = _openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户编号", "最近购买日期", "累计金额（万元）", "信用等级"])
    for number in range(1, 41):
        day = dt.datetime(2022, 3, 1) + dt.timedelta(days=number)
        sheet.append([f"{number:05d}", day, round(100 + number * 16.815, 2), "A"])
    bad = [("2024/03/05", "120万"), ("2024-13-45", "abc"), ("明天", "1,200")]
    for offset, (date_text, amount_text) in enumerate(bad):
        sheet.append([f"{41 + offset:05d}", date_text, amount_text, "B"])
    path = tmp_path / "clients.xlsx"
    book.save(path)
    return path


def _scored_messy(tmp_path, default_standard_path, con):
    return _score_file(_messy_clients(tmp_path), default_standard_path, con)


def test_mapped_columns_stay_typed_when_a_few_cells_are_bad(
    tmp_path, default_standard_path, duckdb_con
):
    standard, prepared, result = _scored_messy(
        tmp_path, default_standard_path, duckdb_con
    )

    book = _workbook(duckdb_con, standard, prepared, result)

    for name in ["全部客户"] + [tier.name for tier in standard.tiers]:
        header, rows = _table(book[name])
        cells = {row[0].value: dict(zip(header, row)) for row in rows}
        if "00002" in cells:
            assert cells["00002"]["最近购买日期"].value == dt.datetime(2022, 3, 3)
            assert cells["00002"]["累计金额（万元）"].value == pytest.approx(133.63)
            assert cells["00002"]["累计金额（万元）"].data_type == "n"
        if "00041" in cells:
            assert cells["00041"]["最近购买日期"].value == dt.datetime(2024, 3, 5)
            assert cells["00041"]["累计金额（万元）"].value == pytest.approx(120)
        if "00042" in cells:
            assert cells["00042"]["最近购买日期"].value is None
            assert cells["00042"]["累计金额（万元）"].value is None
        if "00043" in cells:
            assert cells["00043"]["最近购买日期"].value is None
            assert cells["00043"]["累计金额（万元）"].value == pytest.approx(1200)
        assert all(row[0].data_type == "s" for row in rows)
    _, everyone = _table(book["全部客户"])
    assert len(everyone) == 43
    dates = [row[1] for row in everyone]
    assert all(cell.is_date or cell.value is None for cell in dates)
    issues = {(row[0].value, row[1].value) for row in _table(book["数据问题"])[1]}
    assert {
        (43, "最近购买日期"),
        (44, "最近购买日期"),
        (43, "累计金额（万元）"),
    } <= issues


def test_id_column_appears_once_when_the_mapping_is_known(
    tmp_path, default_standard_path, duckdb_con
):
    standard, prepared, result = _scored_messy(
        tmp_path, default_standard_path, duckdb_con
    )

    book = _workbook(duckdb_con, standard, prepared, result)

    header, rows = _table(book["全部客户"])
    assert [name for name in header if name.startswith("客户编号")] == ["客户编号"]
    assert header[0] == "客户编号"
    assert sorted(row[0].value for row in rows)[:2] == ["00001", "00002"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_csv_headers_equal_the_workbook_headers(
    tmp_path, default_standard_path, duckdb_con, lang
):
    from tiering.insight import build_insight_table

    standard, prepared, result = _scored_messy(
        tmp_path, default_standard_path, duckdb_con
    )
    build_insight_table(duckdb_con, standard, prepared.as_of, lang=lang)
    buffer = io.BytesIO()

    write_csv(buffer, duckdb_con, standard, lang, prepared=prepared)

    book = _workbook(duckdb_con, standard, prepared, result, lang=lang)
    frame = pd.read_csv(io.BytesIO(buffer.getvalue()), dtype=str, encoding="utf-8-sig")
    sheet = book.sheetnames[1]
    assert list(frame.columns) == _table(book[sheet])[0]
    if lang == "zh":
        assert not {"client_id", "recency_points", "next_step"} & set(frame.columns)
    row = frame.set_index("客户编号").loc["00002"]
    assert row["最近购买日期"] == "2022-03-03"
    assert float(row["累计金额（万元）"]) == pytest.approx(133.63)


def _large_tiered_con(rows):
    """``source`` and ``scored`` tables of ``rows`` clients with long notes."""
    con = duckdb.connect()
    _make_tables(con)
    con.execute("DELETE FROM source; DELETE FROM scored")
    con.execute(
        """
        INSERT INTO source
        SELECT i + 2, lpad(i::VARCHAR, 7, '0'), '', '', repeat('备注', 40) || i
        FROM range($rows) AS r(i)
        """,
        {"rows": rows},
    )
    con.execute(
        """
        INSERT INTO scored
        SELECT i + 2, lpad(i::VARCHAR, 7, '0'), 1, 1, 1, 1.0, 1.0,
               (i * 7919 % 10001) / 100, '普通', NULL,
               ['钻石', '黄金', '普通'][i % 3 + 1], i % 3, 'r'
        FROM range($rows) AS r(i)
        """,
        {"rows": rows},
    )
    return con


def _assert_sorted_list(path, rows):
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    ranks = frame["tier"].map({"钻石": 0, "黄金": 1, "普通": 2})
    scores = frame["score"].astype(float)
    assert len(frame) == rows
    assert ranks.is_monotonic_increasing
    assert all(
        scores[ranks == rank].is_monotonic_decreasing for rank in range(3)
    )


@pytest.mark.parametrize(
    "budget, falls_back",
    # 1 MB is too little even to sort on disk: the sort runs again with all
    # the memory it wants. 512 MB is ample.
    [(512 << 20, False), (1 << 20, True)],
)
def test_an_export_larger_than_its_sort_memory_keeps_the_order(
    standard, monkeypatch, tmp_path, caplog, budget, falls_back
):
    import tiering.export as export

    con = _large_tiered_con(300_000)
    limit_before = con.execute("SELECT current_setting('memory_limit')").fetchone()
    monkeypatch.setattr(export, "SORT_MEMORY", budget)

    with caplog.at_level("INFO", logger="tiering.export"):
        write_csv(tmp_path / "list.csv", con, standard, lang="en")

    _assert_sorted_list(tmp_path / "list.csv", 300_000)
    assert ("sorting in memory" in caplog.text) == falls_back
    limit_after = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit_after == limit_before
    (folder,) = con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert folder != ".tmp"
    assert os.stat(folder).st_mode & 0o077 == 0  # private to this user
    con.close()


def test_bounded_memory_lowers_the_limit_only_inside_the_block():
    from tiering.sql import bounded_memory

    con = duckdb.connect()
    limit = "SELECT current_setting('memory_limit')"
    before = con.execute(limit).fetchone()

    with bounded_memory(con, 64 << 20):
        inside = con.execute(limit).fetchone()[0]

    assert inside.endswith("MiB") and float(inside.split()[0]) < 200
    assert con.execute(limit).fetchone() == before
    con.close()


def test_a_workbook_whose_sort_falls_back_to_memory_is_complete(
    standard, monkeypatch, tmp_path, caplog
):
    from python_calamine import CalamineWorkbook

    import tiering.export as export

    con = _large_tiered_con(50_000)
    monkeypatch.setattr(export, "SORT_MEMORY", 1 << 20)
    meta = ExportMeta(dataset_name="t", generated_by="t")

    with caplog.at_level("INFO", logger="tiering.export"):
        write_workbook(tmp_path / "list.xlsx", con, standard, None, None, meta, "en")

    assert "sorting in memory" in caplog.text
    book = CalamineWorkbook.from_path(str(tmp_path / "list.xlsx"))
    header, *rows = book.get_sheet_by_index(1).to_python()
    frame = pd.DataFrame(rows, columns=header)
    frame.to_csv(tmp_path / "sheet.csv", index=False)
    _assert_sorted_list(tmp_path / "sheet.csv", 50_000)
    con.close()


def test_a_workbook_made_in_the_last_instant_of_a_minute_is_written(
    tiered_con, standard, prepared, result
):
    # 09:30:59.9996 once made the writer refuse the summary's time.
    meta = dataclasses.replace(
        META, generated_at=dt.datetime(2024, 4, 1, 9, 30, 59, 999_600)
    )
    buffer = io.BytesIO()

    write_workbook(buffer, tiered_con, standard, prepared, result, meta, "en")

    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    summary = [row for row in book.worksheets[0].iter_rows(values_only=True)]
    values = [value for row in summary for value in row]
    assert dt.datetime(2024, 4, 1, 9, 30, 59) in values


@pytest.mark.parametrize(
    "state, line",
    [
        ({"standard_edited": True}, "3 (edited, not published: see the standard sheet)"),
        (
            {"standard_unpublished": True},
            "3 (not published: loaded from a file, see the standard sheet)",
        ),
        ({}, 3),
    ],
    ids=["edited", "unpublished", "published"],
)
def test_the_summary_marks_an_edited_or_unpublished_standard_version(
    tiered_con, standard, prepared, result, state, line
):
    meta = dataclasses.replace(META, **state)
    buffer = io.BytesIO()

    write_workbook(buffer, tiered_con, standard, prepared, result, meta, "en")

    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    rows = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert rows["Standard version"] == line


# --- row accounting of each input table -------------------------------------


def _summary_of(path_or_buffer):
    book = openpyxl.load_workbook(path_or_buffer, read_only=True)
    return {
        row[0]: row[1]
        for row in book.worksheets[0].iter_rows(values_only=True)
        if row and row[0] is not None
    }


def _score_with_transactions(tmp_path, default_standard_path, con, lang):
    from tiering.ingest import read_table
    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients
    from tiering.scoring import score_clients
    from tiering.standard import load_standard

    clients_text = "客户编号,姓名\nA1,甲\nA2,乙\n"
    (tmp_path / "clients.csv").write_text(clients_text, "utf-8")
    (tmp_path / "tx.csv").write_text(
        "客户编号,交易日期,交易金额\n"
        "A1,2024-01-05,100\nB9,2024-01-06,200\nA2,2024-02-01,300\n"
        ",2024-02-02,50\nB9,2024-02-03,70\nC7,2024-03-01,80\n",
        "utf-8",
    )
    clients = read_table(tmp_path / "clients.csv")
    transactions = read_table(tmp_path / "tx.csv")
    prepared = load_clients(
        con,
        clients,
        detect_mapping(clients),
        transactions=transactions,
        transaction_mapping=detect_mapping(transactions),
    )
    standard = load_standard(default_standard_path)
    result = score_clients(con, standard, lang=lang)
    buffer = io.BytesIO()
    write_workbook(buffer, con, standard, prepared, result, META, lang)
    buffer.seek(0)
    return _summary_of(buffer)


@pytest.mark.parametrize(
    "lang, labels",
    [
        (
            "zh",
            (
                "已排除行数",
                "交易表数据行数",
                "交易表已使用行数",
                "交易表已排除行数",
                "交易表无法使用行数",
            ),
        ),
        (
            "en",
            (
                "Rows excluded",
                "Transaction rows in file",
                "Transaction rows used",
                "Transaction rows excluded",
                "Transaction rows rejected",
            ),
        ),
    ],
)
def test_summary_counts_the_transaction_rows_excluded(
    tmp_path, default_standard_path, duckdb_con, lang, labels
):
    summary = _score_with_transactions(
        tmp_path, default_standard_path, duckdb_con, lang
    )

    # The client file lost no row; the transaction file lost three to
    # unknown clients and one without a client id: 6 = 2 + 3 + 1.
    assert [summary[label] for label in labels] == [0, 6, 2, 3, 1]


def test_summary_of_a_client_table_alone_has_no_transaction_lines(
    tiered_con, standard, prepared, result
):
    book = _workbook(tiered_con, standard, prepared, result)

    labels = [row[0].value for row in book["汇总"].iter_rows()]
    assert not [label for label in labels if "交易表" in str(label)]


def test_summary_of_a_transaction_table_alone_counts_rows_not_clients(
    tiered_con, standard, prepared, result
):
    alone = SimpleNamespace(**{**vars(prepared), "kind": "transactions"})

    book = _workbook(tiered_con, standard, alone, result)

    summary = {row[0].value: row[1].value for row in book["汇总"].iter_rows()}
    assert summary["已载入行数"] == 5 and "已载入客户数" not in summary


# --- transactions: rolled-up values under readable headers --------------------

TRANSACTIONS_TEXT = (
    "客户编号,交易日期,交易金额（万元）,渠道\n"
    "A1,2024-01-05,100,线上\n"
    "A2,2024-02-01,300,线下\n"
    "A1,2024-03-02,10.5,中介\n"
)


def _score_tables(con, standard_path, transactions_path, clients_path=None):
    """Read, load, score one or two tables; return standard and prepared."""
    from tiering.ingest import read_table
    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients
    from tiering.scoring import score_clients
    from tiering.standard import load_standard

    transactions = read_table(transactions_path)
    clients = read_table(clients_path) if clients_path else None
    prepared = load_clients(
        con,
        clients,
        detect_mapping(clients) if clients else None,
        transactions=transactions,
        transaction_mapping=detect_mapping(transactions),
    )
    standard = load_standard(standard_path)
    score_clients(con, standard)
    return standard, prepared


@pytest.mark.parametrize(
    "lang, rolled_up",
    [
        ("zh", ["最近购买日期", "购买次数", "累计金额（万元）"]),
        (
            "en",
            ["Last purchase date", "Purchase count", "Total amount (× 10,000 yuan)"],
        ),
    ],
)
def test_a_transaction_table_alone_shows_its_rollup_under_readable_headers(
    tmp_path, default_standard_path, duckdb_con, lang, rolled_up
):
    (tmp_path / "tx.csv").write_text(TRANSACTIONS_TEXT, "utf-8")
    standard, prepared = _score_tables(
        duckdb_con, default_standard_path, tmp_path / "tx.csv"
    )
    buffer = io.BytesIO()

    write_csv(buffer, duckdb_con, standard, lang, prepared=prepared)

    frame = pd.read_csv(io.BytesIO(buffer.getvalue()), dtype=str, encoding="utf-8-sig")
    assert list(frame.columns[:5]) == ["客户编号", *rolled_up, "渠道"]
    # The id once, as the file's own column; no field key as a header.
    assert not {"客户编号_2", "client_id"} & set(frame.columns)
    assert not {"last_purchase_date", "purchase_count", "amount"} & set(frame.columns)
    row = frame.set_index("客户编号").loc["A1"]
    # The latest date, the number of purchases, the sum in the file's unit.
    assert list(row[rolled_up]) == ["2024-03-02", "2", "110.5"]
    assert row["渠道"] == "中介"


def test_a_transaction_table_alone_has_the_same_headers_in_workbook_and_csv(
    tmp_path, default_standard_path, duckdb_con
):
    (tmp_path / "tx.csv").write_text(TRANSACTIONS_TEXT, "utf-8")
    standard, prepared = _score_tables(
        duckdb_con, default_standard_path, tmp_path / "tx.csv"
    )
    result = SimpleNamespace(rows_scored=2, rows_unscored=0, tier_counts=None)
    buffer = io.BytesIO()

    write_csv(buffer, duckdb_con, standard, prepared=prepared)

    book = _workbook(duckdb_con, standard, prepared, result)
    header, rows = _table(book["全部客户"])
    frame = pd.read_csv(io.BytesIO(buffer.getvalue()), dtype=str, encoding="utf-8-sig")
    assert list(frame.columns) == header
    cells = {row[0].value: dict(zip(header, row)) for row in rows}
    assert cells["A1"]["最近购买日期"].value == dt.datetime(2024, 3, 2)
    assert cells["A1"]["累计金额（万元）"].value == pytest.approx(110.5)
    assert cells["A1"]["购买次数"].data_type == "n"


CLIENTS_TEXT = (
    "客户编号,最近购买日期,购买次数,累计金额（万元）\n"
    "A1,2023-06-30,7,500\n"
    "A2,,,\n"
    "A3,2022-01-01,1,abc\n"
)


def _export_both(tmp_path, standard_path, con, lang):
    (tmp_path / "clients.csv").write_text(CLIENTS_TEXT, "utf-8")
    (tmp_path / "tx.csv").write_text(
        TRANSACTIONS_TEXT + "A3,2024-01-10,40,线上\n", "utf-8"
    )
    standard, prepared = _score_tables(
        con, standard_path, tmp_path / "tx.csv", tmp_path / "clients.csv"
    )
    buffer = io.BytesIO()
    write_csv(buffer, con, standard, lang, prepared=prepared)
    return pd.read_csv(
        io.BytesIO(buffer.getvalue()),
        dtype=str,
        encoding="utf-8-sig",
        keep_default_na=False,
    ).set_index("客户编号")


@pytest.mark.parametrize(
    "lang, scored",
    [
        (
            "zh",
            [
                "最近购买日期（评分所用）",
                "购买次数（评分所用）",
                "累计金额（万元，评分所用）",
            ],
        ),
        (
            "en",
            [
                "Last purchase date (as scored)",
                "Purchase count (as scored)",
                "Total amount (× 10,000 yuan, as scored)",
            ],
        ),
    ],
)
def test_clients_with_transactions_show_the_values_they_were_scored_with(
    tmp_path, default_standard_path, duckdb_con, lang, scored
):
    frame = _export_both(tmp_path, default_standard_path, duckdb_con, lang)

    columns = list(frame.columns)
    assert columns[:3] == ["最近购买日期", "购买次数", "累计金额（万元）"]
    assert columns[3:6] == scored
    # A2 is blank in the client table: its values come from its transaction.
    assert list(frame.loc["A2", ["最近购买日期", "购买次数"]]) == ["", ""]
    assert list(frame.loc["A2", scored]) == ["2024-02-01", "1", "300"]
    # A1 has its own values: the client table wins over the transactions.
    assert list(frame.loc["A1", scored]) == ["2023-06-30", "7", "500"]
    # A3's amount is unreadable: its transaction's amount was scored.
    assert list(frame.loc["A3", scored]) == ["2022-01-01", "1", "40"]


def test_clients_with_transactions_summary_states_which_value_wins(
    tmp_path, default_standard_path, duckdb_con
):
    summary = _score_with_transactions(
        tmp_path, default_standard_path, duckdb_con, "zh"
    )

    rule = summary["评分所用值"]
    assert "客户表有值时用客户表的值" in rule and "交易表" in rule
