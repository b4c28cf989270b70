"""Reading messy files into text tables with Excel row numbers."""

from __future__ import annotations

import io
import os
from pathlib import Path

import fixtures_messy as fx
import pandas as pd
import pytest

from tiering.errors import InputFileError, TieringError
from tiering.i18n import describe_error
from tiering.ingest import head_rows, list_sheets, read_table, unique_headers

REAL = Path(
    os.environ.get("TIERING_REAL_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
)
needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"public datasets not at {REAL}"
)


def _column(table, name):
    return [None if pd.isna(value) else value for value in table.frame[name]]


@pytest.fixture
def workbook(tmp_path):
    return read_table(fx.title_totals_xlsx(tmp_path))


def test_workbook_header_found_below_title_and_export_time(workbook):
    assert workbook.sheet == "客户名单"
    assert workbook.header_row == 4
    assert workbook.columns == [
        "客户编号",
        "客户姓名",
        "身份证号",
        "成交金额（万元）",
        "最近成交日期",
        "置业顾问",
    ]


def test_workbook_row_numbers_match_excel(workbook):
    assert workbook.frame["_row"].tolist() == [5, 6, 7, 8, 9, 10]


def test_workbook_blank_total_and_note_rows_are_skipped_with_reasons(workbook):
    assert [(s.row, s.reason_key) for s in workbook.skipped] == [
        (11, "ingest.reason.blank_row"),
        (12, "ingest.reason.total_row"),
        (13, "ingest.reason.note_row"),
    ]
    assert workbook.data_rows == 9


def test_workbook_ids_stay_exact_text(workbook):
    assert _column(workbook, "客户编号") == [
        "00123",
        "00124",
        "00125",
        "00126",
        "123456789012346000",
        "A-7",
    ]
    assert _column(workbook, "身份证号")[0] == fx.ID_CARD
    assert workbook.imprecise_cells == ((9, "客户编号"),)


def test_workbook_numbers_and_dates_read_as_excel_shows_them(workbook):
    assert _column(workbook, "成交金额（万元）") == [
        "120.5",
        "300",
        "0.75",
        "45356",
        "10",
        "1,200",
    ]
    assert _column(workbook, "最近成交日期") == [
        "2024-03-05",
        "2024-01-15",
        "2023-12-31 14:30:00",
        None,
        "2024-02-01",
        "2024-02-02",
    ]


def test_workbook_value_merged_down_fills_each_row(workbook):
    assert _column(workbook, "置业顾问") == [
        "陈顾问",
        "陈顾问",
        "周顾问",
        "周顾问",
        "吴顾问",
        "吴顾问",
    ]


def test_hidden_sheet_is_listed_but_not_chosen(tmp_path):
    sheets = list_sheets(fx.title_totals_xlsx(tmp_path))

    assert [(s.name, s.hidden) for s in sheets] == [
        ("旧数据", True),
        ("客户名单", False),
    ]


def test_hidden_sheet_can_be_chosen_by_name(tmp_path):
    table = read_table(fx.title_totals_xlsx(tmp_path), sheet="旧数据")

    assert _column(table, "客户编号") == ["X1"]


def test_unknown_sheet_is_refused_with_the_sheet_names(tmp_path):
    with pytest.raises(InputFileError) as caught:
        read_table(fx.title_totals_xlsx(tmp_path), sheet="Sheet9")

    assert caught.value.key == "error.file.unknown_sheet"
    assert "旧数据" in caught.value.facts["sheets"]


def test_header_row_can_be_overridden(tmp_path):
    table = read_table(fx.title_totals_xlsx(tmp_path), header_row=2)

    assert table.header_row == 2
    assert table.frame["_row"].iloc[0] == 4


def test_gbk_csv_is_decoded(tmp_path):
    path = fx.text_csv(tmp_path, "gbk.csv", fx.GBK_TEXT, "gbk")

    table = read_table(path)

    assert table.encoding == "gb18030"
    assert _column(table, "客户姓名")[:2] == ["张伟", "王芳"]
    assert _column(table, "客户姓名")[-1] == "欧阳娜娜"
    assert _column(table, "累计金额")[0] == "1,200.50"


def test_gb18030_character_outside_gbk_far_into_the_file(tmp_path):
    path = fx.text_csv(tmp_path, "gb.csv", fx.GBK_TEXT + fx.GB18030_TAIL, "gb18030")

    table = read_table(path)

    assert _column(table, "客户姓名")[-2:] == ["吉𠮷", "王䶮"]
    assert _column(table, "客户编号")[-1] == "00402"
    assert table.frame["_row"].iloc[-1] == 403


def test_utf8_bom_csv_header_has_no_bom(tmp_path):
    path = fx.text_csv(tmp_path, "bom.csv", fx.GBK_TEXT, "utf-8-sig")

    table = read_table(path)

    assert table.encoding == "utf-8-sig"
    assert table.columns[0] == "客户编号"
    assert _column(table, "客户编号")[0] == "00001"


def test_semicolon_csv_with_quoted_delimiter(tmp_path):
    table = read_table(fx.text_csv(tmp_path, "semi.csv", fx.SEMICOLON_TEXT))

    assert table.delimiter == ";"
    assert _column(table, "client_id") == ["007", "008"]
    assert _column(table, "name") == ["Anna", "Berg; Ltd"]
    assert _column(table, "amount") == ["1.234,00", "99"]


def test_whitespace_separated_text_keeps_leading_zeros(tmp_path):
    table = read_table(fx.text_csv(tmp_path, "log.txt", fx.WHITESPACE_TEXT))

    assert table.delimiter == "whitespace"
    assert table.columns == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert _column(table, "customer_id") == ["00001", "00002", "00002", "00003"]
    assert table.frame["_row"].tolist() == [2, 3, 4, 5]


def test_csv_title_line_blank_lines_and_totals(tmp_path):
    text = (
        "客户明细表\n导出人：系统\n\n客户编号,累计金额\n001,10\n\n002,20\n"
        "合 计,30\n说明：单位元\n"
    )

    table = read_table(fx.text_csv(tmp_path, "t.csv", text))

    assert table.header_row == 4
    assert table.frame["_row"].tolist() == [5, 7]
    assert [(s.row, s.reason_key.rsplit(".", 1)[1]) for s in table.skipped] == [
        (6, "blank_row"),
        (8, "total_row"),
        (9, "note_row"),
    ]


def test_quoted_line_break_counts_for_row_numbers(tmp_path):
    text = 'id,note\n1,"two\nlines"\n2,x\n'

    table = read_table(fx.text_csv(tmp_path, "q.csv", text))

    assert table.frame["_row"].tolist() == [2, 4]
    assert _column(table, "note") == ["two\nlines", "x"]


def test_rows_with_too_many_or_few_fields_are_kept_in_place(tmp_path):
    text = "id,amount\n1,10\n2\n3,30,extra\n4,40\n"

    table = read_table(fx.text_csv(tmp_path, "r.csv", text))

    assert table.frame["_row"].tolist() == [2, 3, 4, 5]
    assert _column(table, "id") == ["1", "2", "3", "4"]
    assert _column(table, "C") == [None, None, "extra", None]


def test_duplicate_and_blank_headers_are_made_unique():
    assert unique_headers(["金额", None, "金额", "_row", "C", None]) == [
        "金额",
        "B",
        "金额_2",
        "_row_2",
        "C",
        "F",
    ]


def test_two_row_header_takes_vertical_label_and_group_prefix(tmp_path):
    import xlsxwriter

    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.merge_range("A1:A2", "客户编号")
    sheet.merge_range("B1:C1", "2023年")
    sheet.merge_range("D1:E1", "2024年")
    sheet.write_row(1, 1, ["金额", "次数", "金额", "次数"])
    sheet.write_row(2, 0, ["001", 1, 2, 3, 4])
    book.close()

    table = read_table(path)

    assert table.header_row == 2
    assert table.columns == [
        "客户编号",
        "2023年金额",
        "2023年次数",
        "2024年金额",
        "2024年次数",
    ]


def test_tab_separated_text_named_xls_is_read_as_text(tmp_path):
    table = read_table(fx.text_csv(tmp_path, "export.xls", fx.TAB_AS_XLS_TEXT))

    assert table.delimiter == "\t"
    assert _column(table, "客户编号") == ["001", "002"]


def test_html_table_named_xls_is_read(tmp_path):
    table = read_table(fx.text_csv(tmp_path, "export.xls", fx.HTML_AS_XLS_TEXT))

    assert table.file_format == "html"
    assert table.header_row == 2
    assert _column(table, "客户编号") == ["0001", "0002"]
    assert table.frame["_row"].tolist() == [3, 4]


def test_bytes_and_open_files_are_accepted(tmp_path):
    data = fx.SEMICOLON_TEXT.encode()

    from_bytes = read_table(data, filename="a.csv")
    from_file = read_table(io.BytesIO(data), filename="a.csv")

    assert from_bytes.source_name == "a.csv"
    assert from_bytes.frame.equals(from_file.frame)


def test_max_rows_reads_a_preview(tmp_path):
    path = fx.text_csv(tmp_path, "gbk.csv", fx.GBK_TEXT, "gbk")

    table = read_table(path, max_rows=5)

    assert len(table.frame) == 5
    assert table.truncated


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"", "error.file.empty"),
        (b"   \r\n  \n", "error.file.empty"),
        (b"PK\x03\x04 not really a zip", "error.file.not_spreadsheet"),
        (
            bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600,
            "error.file.not_spreadsheet",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "error.file.not_spreadsheet"),
    ],
)
def test_unreadable_files_are_refused_with_a_specific_key(content, key):
    with pytest.raises(InputFileError) as caught:
        read_table(content, filename="bad.xlsx")

    assert caught.value.key == key
    assert caught.value.facts["file"] == "bad.xlsx"


def test_password_protected_workbook_is_named_as_such(tmp_path):
    with pytest.raises(InputFileError) as caught:
        read_table(fx.fake_encrypted_workbook(tmp_path))

    assert caught.value.key == "error.file.password_protected"
    assert "密码" in describe_error(caught.value, "zh")
    assert "password-protected" in describe_error(caught.value, "en")


def test_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERING_MAX_UPLOAD_MB", "1")
    path = fx.text_csv(tmp_path, "big.csv", "id\n" + "1\n" * 600_000)

    with pytest.raises(InputFileError) as caught:
        read_table(path)

    assert caught.value.key == "error.file.too_large"
    assert caught.value.facts["limit_mb"] == 1


def test_file_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERING_MAX_ROWS", "10")
    path = fx.text_csv(tmp_path, "rows.csv", "id\n" + "1\n" * 11)

    with pytest.raises(InputFileError) as caught:
        read_table(path)

    assert caught.value.key == "error.file.too_many_rows"


def test_workbook_with_no_data_is_refused(tmp_path):
    import xlsxwriter

    path = tmp_path / "empty.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Sheet1")
    book.add_worksheet("Sheet2")
    book.close()

    with pytest.raises(InputFileError) as caught:
        read_table(path)

    assert caught.value.key == "error.file.no_data"
    assert "没有数据" in describe_error(caught.value)


# --- real public files --------------------------------------------------------


@needs_real
def test_real_cdnow_log_reads_every_line():
    table = read_table(REAL / "cdnow_master.txt")

    assert len(table.frame) == 69_659
    assert table.frame["customer_id"].iloc[0] == "00001"
    assert table.frame["_row"].iloc[-1] == 69_660


@needs_real
def test_real_bank_marketing_csv():
    table = read_table(REAL / "bank_marketing_uci_4521.csv")

    assert len(table.frame) == 4_521
    assert table.columns[:3] == ["age", "job", "marital"]


@needs_real
def test_real_filing_form_header_on_row_3():
    table = read_table(REAL / "cn_customer_filing_form_2016.xlsx")

    assert table.sheet == "客户备案表"
    assert table.header_row == 3
    assert "客户代号" in table.columns
    assert "初次登记日期" in table.columns


@needs_real
def test_real_legacy_xls_title_row_then_header():
    table = read_table(REAL / "cn_customer_lead_template.xls")

    assert table.header_row == 2
    assert table.columns[:2] == ["企业名称", "会员账号"]
    assert len(table.frame) == 0


# --- gaps closed: one-line files, stray notes, encodings, formats, formulas ---


def test_one_line_text_file_is_a_header_without_data_rows():
    table = read_table(b"client_id,amount", filename="one.csv")

    assert table.columns == ["client_id", "amount"]
    assert table.data_rows == 0


def test_note_between_data_rows_is_excluded_and_data_after_it_kept(tmp_path):
    table = read_table(fx.text_csv(tmp_path, "notes.csv", fx.MID_NOTE_TEXT))

    assert _column(table, "客户编号") == ["001", "002", "003"]
    assert table.frame["_row"].tolist() == [2, 3, 5]
    assert [(s.row, s.reason_key.rsplit(".", 1)[1]) for s in table.skipped] == [
        (4, "note_row"),
        (6, "total_row"),
        (7, "note_row"),
        (8, "note_row"),
        (9, "note_row"),
    ]
    assert table.data_rows == 8


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (fx.LATIN1_TEXT, ["Müller", "Café Noir", "José"]),
        (fx.LATIN1_GB_VALID_TEXT, ["Müller", "Cafés", "Jürgen"]),
    ],
)
def test_latin1_csv_is_not_read_as_chinese(tmp_path, text, names):
    path = fx.text_csv(tmp_path, "latin.csv", text, "latin-1")

    table = read_table(path)

    assert table.encoding == "cp1252"
    assert _column(table, "name") == names


def test_gbk_file_is_still_read_as_gb18030_after_the_latin_check(tmp_path):
    path = fx.text_csv(tmp_path, "gbk.csv", fx.GBK_TEXT[:300], "gbk")

    assert read_table(path).encoding == "gb18030"


def test_codes_stored_as_numbers_come_out_as_their_format_shows(tmp_path):
    table = read_table(fx.zero_padded_xlsx(tmp_path))

    assert _column(table, "客户编号") == ["000123", "000456", "1234567"]
    assert _column(table, "会员号") == ["C0007", "C12345", "8"]
    assert _column(table, "累计金额") == ["5", "6", "7"]


def test_formulas_without_saved_values_are_named(tmp_path):
    table = read_table(fx.unsaved_formulas_xlsx(tmp_path))

    assert table.formula_columns == ("翻倍金额",)
    assert _column(table, "翻倍金额") == [None, None, None]
    assert _column(table, "客户编号") == ["K2", "K3", "K4"]


def test_workbook_without_formulas_names_no_formula_columns(workbook):
    assert workbook.formula_columns == ()


def test_head_rows_show_the_sheet_before_the_header_cut(tmp_path):
    head = head_rows(fx.title_totals_xlsx(tmp_path), count=5)

    assert head.index.tolist() == [1, 2, 3, 4, 5]
    assert head.loc[1, "A"] == "2024年3月客户名单"
    assert head.loc[4].tolist()[:2] == ["客户编号", "客户姓名"]
    assert head.loc[5, "A"] == "00123"


def test_head_rows_of_a_text_file_are_its_lines(tmp_path):
    head = head_rows(fx.text_csv(tmp_path, "t.csv", "标题\n客户编号,金额\n001,5\n"))

    assert head.index.tolist() == [1, 2, 3]
    assert head.loc[2].tolist() == ["客户编号", "金额"]


# --- every refusal is one sentence in each language ---------------------------


def _refusal(call):
    with pytest.raises(TieringError) as caught:
        call()
    return describe_error(caught.value, "zh"), describe_error(caught.value, "en")


def _empty_workbook(folder):
    import xlsxwriter

    path = folder / "empty.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Sheet1")
    book.add_worksheet("Sheet2")
    book.close()
    return path


def _no_id_load(folder):
    import duckdb

    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients

    raw = read_table(fx.text_csv(folder, "noid.csv", "姓名,金额\n张一,5\n"))
    load_clients(duckdb.connect(), raw, detect_mapping(raw))


REFUSALS = {
    "password": (
        lambda folder: read_table(fx.fake_encrypted_workbook(folder)),
        "文件「加密.xlsx」设置了打开密码，无法读取。请在 Excel 中取消密码"
        "（文件 → 信息 → 保护工作簿）后重新上传。",
        "The file '加密.xlsx' is password-protected and cannot be read. Remove "
        "the password in Excel (File → Info → Protect Workbook) and upload it again.",
    ),
    "corrupt": (
        lambda folder: read_table(b"PK\x03\x04 broken", filename="损坏.xlsx"),
        "文件「损坏.xlsx」不是可读取的表格，或已损坏。"
        "请用 Excel 打开后另存为 .xlsx 或 CSV，再重新上传。",
        "The file '损坏.xlsx' is not a readable spreadsheet, or it is damaged. "
        "Open it in Excel, save it as .xlsx or CSV, and upload it again.",
    ),
    "empty": (
        lambda folder: read_table(b"", filename="空.csv"),
        "文件「空.csv」是空的。请确认导出时选中了数据，然后重新上传。",
        "The file '空.csv' is empty. Check that the export included the data "
        "and upload it again.",
    ),
    "no data": (
        lambda folder: read_table(_empty_workbook(folder)),
        "文件「empty.xlsx」的工作表里没有数据。请确认选择了正确的文件后重新上传。",
        "The file 'empty.xlsx' has no data on any sheet. Check that you chose "
        "the right file and upload it again.",
    ),
    "size": (
        lambda folder: read_table(
            fx.text_csv(folder, "big.csv", "id\n" + "1\n" * 600_000)
        ),
        "文件「big.csv」有 1.1 MB，超过了 1 MB 的上限。请拆分文件或删去不需要的列后重新上传。",
        "The file 'big.csv' is 1.1 MB, over the 1 MB limit. Split it or remove "
        "unneeded columns and upload it again.",
    ),
    "rows": (
        lambda folder: read_table(fx.text_csv(folder, "rows.csv", "id\n" + "1\n" * 11)),
        "文件「rows.csv」有 11 行数据，超过了 10 行的上限。请拆分后分批上传。",
        "The file 'rows.csv' has 11 data rows, over the limit of 10. Split it and "
        "upload the parts one by one.",
    ),
    "no id": (
        _no_id_load,
        "文件「noid.csv」中没有对应“客户编号”的列。请在列对应中指定客户编号列，"
        "或选择“用行号作为客户编号”。",
        "No column of 'noid.csv' is mapped to the client ID. Map a column to the "
        "client ID, or choose to use row numbers as client IDs.",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_is_one_clear_sentence_in_each_language(tmp_path, monkeypatch, case):
    monkeypatch.setenv("TIERING_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("TIERING_MAX_ROWS", "10")
    call, zh, en = REFUSALS[case]

    assert _refusal(lambda: call(tmp_path)) == (zh, en)


# --- large workbooks: typed Arrow columns, the same text as cell by cell ------


def _clean_workbook(folder):
    """A title, a header on row 3 and one kind of value per column."""
    import datetime as dt

    import xlsxwriter

    path = folder / "clean.xlsx"
    book = xlsxwriter.Workbook(path)
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet("名单")
    sheet.merge_range("A1:F1", "客户名单")
    sheet.write_row(
        2, 0, ["客户编号", "姓名", "金额", "会员号", "日期", "有效", "顾问"]
    )
    amounts = [1 / 3, 120.5, 45356, 1e-7, -0.5, 1234567890123.25, 0.1, 2.5e-5]
    for offset, amount in enumerate(amounts):
        row = 3 + offset
        sheet.write_string(row, 0, f"{offset:05d}")
        sheet.write_string(row, 1, ["张一", "  ", "\u3000", "NA"][offset % 4])
        sheet.write_number(row, 2, amount)
        sheet.write_number(row, 3, [123456789012345678, 7][offset % 2])
        when = dt.datetime(2024, 3, 5, 14 if offset % 2 else 0, 30 if offset % 2 else 0)
        sheet.write_datetime(row, 4, when, stamp if offset % 2 else day)
        sheet.write_boolean(row, 5, bool(offset % 2))
    sheet.merge_range("G4:G6", "陈顾问")
    sheet.write_formula("G7", "=NA()", None, "#N/A")
    sheet.write_row(11, 0, ["合计", None, 999])
    sheet.write("A13", "备注：金额单位为元")
    book.close()
    return path


def _read_cell_by_cell(path, monkeypatch, **options):
    from tiering import ingest

    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_read_xlsx_fast", lambda *args: None)
        return read_table(path, **options)


def _read_fast(path, **options):
    """Read through the Arrow path only; fails if it hands over to calamine."""
    from tiering import ingest

    return ingest._read_xlsx_fast(
        Path(path).read_bytes(),
        Path(path).name,
        options.get("sheet"),
        options.get("header_row"),
        options.get("max_rows"),
    )


def test_clean_workbook_reads_the_same_through_arrow_as_cell_by_cell(
    tmp_path, monkeypatch
):
    path = _clean_workbook(tmp_path)

    fast = _read_fast(path)
    slow = _read_cell_by_cell(path, monkeypatch)

    assert fast.frame.equals(slow.frame)
    assert fast.skipped == slow.skipped
    assert fast.imprecise_cells == slow.imprecise_cells
    assert (fast.header_row, fast.sheet, fast.sheets) == (
        slow.header_row,
        slow.sheet,
        slow.sheets,
    )


def test_clean_workbook_values_read_as_excel_shows_them(tmp_path):
    table = _read_fast(_clean_workbook(tmp_path))

    assert table.header_row == 3
    assert _column(table, "客户编号")[:3] == ["00000", "00001", "00002"]
    assert _column(table, "姓名")[:4] == ["张一", None, None, "NA"]
    assert _column(table, "金额") == [
        "0.333333333333333",
        "120.5",
        "45356",
        "0.0000001",
        "-0.5",
        "1234567890123.25",
        "0.1",
        "0.000025",
    ]
    assert _column(table, "会员号")[:2] == ["123456789012346000", "7"]
    assert (4, "会员号") in table.imprecise_cells
    assert _column(table, "日期")[:2] == ["2024-03-05", "2024-03-05 14:30:00"]
    assert _column(table, "有效")[:2] == ["FALSE", "TRUE"]
    assert _column(table, "顾问")[:4] == ["陈顾问", "陈顾问", "陈顾问", None]
    assert [(s.row, s.reason_key) for s in table.skipped] == [
        (12, "ingest.reason.total_row"),
        (13, "ingest.reason.note_row"),
    ]


def test_clean_workbook_preview_is_truncated_the_same_way(tmp_path, monkeypatch):
    path = _clean_workbook(tmp_path)

    fast = _read_fast(path, max_rows=3)
    slow = _read_cell_by_cell(path, monkeypatch, max_rows=3)

    assert fast.truncated and slow.truncated
    assert fast.frame.equals(slow.frame)


def _one_column_workbook(folder, values, header="金额"):
    import xlsxwriter

    path = folder / "one.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", header])
    for offset, value in enumerate(values):
        sheet.write_string(1 + offset, 0, f"K{offset}")
        sheet.write(1 + offset, 1, value)
    book.close()
    return path


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # fastexcel would show these numbers with nine decimals and True as
        # 'true'; a column mixing kinds is read cell by cell instead.
        (["A-7", 1 / 3, True], ["A-7", "0.333333333333333", "TRUE"]),
        ([5, "N/A", 2.5], ["5", "N/A", "2.5"]),
        ([5, "nan", "00123"], ["5", "nan", "00123"]),
    ],
)
def test_column_mixing_kinds_keeps_each_cell_as_typed(tmp_path, values, expected):
    from tiering import ingest

    path = _one_column_workbook(tmp_path, values)

    with pytest.raises(ingest._NeedsCalamine):
        _read_fast(path)
    assert _column(read_table(path), "金额") == expected


def test_time_of_day_cell_is_read_as_a_time(tmp_path):
    import datetime as dt

    import xlsxwriter

    path = tmp_path / "time.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", "时间"])
    sheet.write_string(1, 0, "K1")
    sheet.write_datetime(
        1, 1, dt.time(14, 30), book.add_format({"num_format": "hh:mm"})
    )
    book.close()

    assert _column(read_table(path), "时间") == ["14:30:00"]


def test_zero_padded_codes_are_padded_on_the_arrow_path(tmp_path, monkeypatch):
    import xlsxwriter

    path = tmp_path / "codes.xlsx"
    book = xlsxwriter.Workbook(path)
    zeros = book.add_format({"num_format": "000000"})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", "金额"])
    for row, code in enumerate([123, 4567, 1234567], start=1):
        sheet.write_number(row, 0, code, zeros)
        sheet.write_number(row, 1, code, zeros)
    book.close()

    fast = _read_fast(path)

    assert _column(fast, "客户编号") == ["000123", "004567", "1234567"]
    assert _column(fast, "金额") == ["123", "4567", "1234567"]
    assert fast.frame.equals(_read_cell_by_cell(path, monkeypatch).frame)


def test_unsaved_formulas_are_named_on_the_arrow_path(tmp_path):
    table = _read_fast(fx.unsaved_formulas_xlsx(tmp_path))

    assert table.formula_columns == ("翻倍金额",)
    assert _column(table, "累计金额") == ["20", "30", "40"]


def test_number_texts_in_arrow_match_the_cell_by_cell_rule():
    import numpy as np
    import pyarrow as pa

    from tiering.ingest import _float_array_texts, _number_text

    generator = np.random.default_rng(7)
    numbers = np.concatenate(
        [
            generator.normal(0, 1e6, 2000).round(2),
            generator.normal(0, 1, 2000),
            10.0 ** generator.uniform(-9, 16, 2000),
            [0.1 + 0.2, 1e15, 999999999999999.0, 1e15 + 0.5, -0.0, 5e-324, 1e300],
        ]
    )

    texts, long_rows = _float_array_texts(pa.array(numbers))

    assert texts.to_pylist() == [_number_text(float(value)) for value in numbers]
    long_whole = (numbers == np.trunc(numbers)) & (np.abs(numbers) >= 1e15)
    assert set(long_rows) == set(np.flatnonzero(long_whole))


# --- first rows and sheet lists from the sheet XML, big text files -------------


def _grouped_header_workbook(folder):
    """A hidden sheet first; then a merged title, group labels merged over the
    column names, dates, a code with leading zeros, an error and a styled
    blank cell below and right of the data (calamine does not count it)."""
    import datetime as dt

    import xlsxwriter

    path = folder / "grouped.xlsx"
    book = xlsxwriter.Workbook(path)
    hidden = book.add_worksheet("旧表")
    hidden.write_row(0, 0, ["客户编号", "金额"])
    hidden.hide()
    sheet = book.add_worksheet("名单")
    sheet.activate()
    sheet.merge_range("A1:E1", "2024年客户名单")
    sheet.merge_range("A2:B2", "基本信息")
    sheet.merge_range("C2:E2", "交易")
    sheet.write_row(2, 0, ["客户编号", "姓名", "金额", "日期", "有效"])
    day = book.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(3, 0, ["00123", "张一", 120.5])
    sheet.write_datetime(3, 3, dt.date(2024, 3, 5), day)
    sheet.write_boolean(3, 4, True)
    sheet.write_row(4, 0, ["00124", "  ", 45356])
    sheet.write_datetime(4, 3, dt.datetime(2023, 12, 31, 14, 30, 5), stamp)
    sheet.write_formula(4, 4, "=NA()", None, "#N/A")
    sheet.write_blank("H9", None, book.add_format({"bg_color": "yellow"}))
    book.close()
    return path


def _through_calamine(monkeypatch, call, *args, **options):
    """Call ``head_rows`` or ``list_sheets`` the old way, cell by cell."""
    from tiering import ingest

    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_xlsx_sheets_from_xml", lambda *args: None)
        return call(*args, **options)


def _without_calamine(monkeypatch, call, *args, **options):
    """Call it so that opening the workbook with python-calamine fails."""
    from tiering import ingest

    def refuse(*args):
        raise AssertionError("python-calamine opened the workbook")

    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_open_sheets", refuse)
        return call(*args, **options)


@pytest.mark.parametrize("build", [fx.title_totals_xlsx, _grouped_header_workbook])
@pytest.mark.parametrize("hidden", [False, True])
def test_head_rows_from_the_sheet_xml_match_the_cell_by_cell_reader(
    tmp_path, monkeypatch, build, hidden
):
    path = build(tmp_path)
    sheet = list_sheets(path)[0].name if hidden else None

    slow = _through_calamine(monkeypatch, head_rows, path, sheet=sheet)
    fast = _without_calamine(monkeypatch, head_rows, path, sheet=sheet)

    pd.testing.assert_frame_equal(fast, slow)


def test_head_rows_from_the_sheet_xml_show_dates_and_stop_at_the_data(
    tmp_path, monkeypatch
):
    path = _grouped_header_workbook(tmp_path)

    head = _without_calamine(monkeypatch, head_rows, path)

    assert head.columns.tolist() == ["A", "B", "C", "D", "E"]
    assert head.index.tolist() == [1, 2, 3, 4, 5]
    assert head.loc[2].tolist() == ["基本信息", None, "交易", None, None]
    assert head.loc[4].tolist() == ["00123", "张一", "120.5", "2024-03-05", "TRUE"]
    assert head.loc[5].tolist() == ["00124", None, "45356", "2023-12-31 14:30:05", None]


def test_head_rows_show_dates_of_every_plain_format_as_calamine_does(
    tmp_path, monkeypatch
):
    import xlsxwriter

    from tiering import sheetxml

    formats = sorted(sheetxml._PLAIN_DATE_IDS) + [
        "yyyy-mm-dd",
        'yyyy"年"m"月"d"日"',
        '[$-804]yyyy"年"m"月"d"日";@',
        "yyyy\\-mm\\-dd hh:mm",
        "[Red]m/d/yyyy",
        "0.00",
    ]
    path = tmp_path / "dates.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, [f"格式{index}" for index in range(len(formats))])
    for col, number_format in enumerate(formats):
        shown = book.add_format({"num_format": number_format})
        for row, serial in enumerate([45356, 45356.25, 61, 2958465.5], start=1):
            sheet.write_number(row, col, serial, shown)
    book.close()

    fast = _without_calamine(monkeypatch, head_rows, path)

    pd.testing.assert_frame_equal(fast, _through_calamine(monkeypatch, head_rows, path))
    assert fast["A"].tolist()[1:] == [
        "2024-03-05",
        "2024-03-05 06:00:00",
        "1900-03-01",
        "9999-12-31 12:00:00",
    ]
    assert fast.iloc[0, -1] == "格式" + str(len(formats) - 1)
    assert fast.iloc[1:, -1].tolist() == ["45356", "45356.25", "61", "2958465.5"]


def test_head_rows_with_a_duration_format_are_read_cell_by_cell(tmp_path, monkeypatch):
    import xlsxwriter

    from tiering import ingest

    path = tmp_path / "duration.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", "通话时长"])
    sheet.write_string(1, 0, "K1")
    sheet.write_number(1, 1, 1.5, book.add_format({"num_format": "[h]:mm"}))
    book.close()

    assert ingest._xlsx_head_cells(path.read_bytes(), "d.xlsx", None, 12) is None
    pd.testing.assert_frame_equal(
        head_rows(path), _through_calamine(monkeypatch, head_rows, path)
    )


def test_list_sheets_reads_no_cells_and_matches_the_cell_by_cell_reader(
    tmp_path, monkeypatch
):
    path = fx.title_totals_xlsx(tmp_path)

    slow = _through_calamine(monkeypatch, list_sheets, path)
    fast = _without_calamine(monkeypatch, list_sheets, path)

    assert fast == slow
    assert [(s.name, s.hidden, s.rows) for s in fast] == [
        ("旧数据", True, 2),
        ("客户名单", False, 13),
    ]


def test_empty_cell_values_in_the_sheet_xml_are_empty():
    from tiering.sheetxml import _cell_value

    assert _cell_value(None, b"", b"<v></v>", []) is None
    assert _cell_value(b"s", None, b"", ["a"]) is None
    assert _cell_value(b"inlineStr", None, b"", []) is None
    assert _cell_value(b"e", b"#N/A", b"<v>#N/A</v>", []) == ""


class _SmallBlocks:
    """pyarrow.csv with 1 KiB blocks: a big file's block ends in small."""

    def __getattr__(self, name):
        import pyarrow.csv

        return getattr(pyarrow.csv, name)

    @staticmethod
    def ReadOptions(**options):
        import pyarrow.csv

        return pyarrow.csv.ReadOptions(**{**options, "block_size": 1024})


@pytest.mark.parametrize("broken", [False, True])
def test_quoted_values_across_parse_blocks_are_read_whole(
    tmp_path, monkeypatch, broken
):
    from tiering import ingest

    notes = [f"第{i}行\n备注" if broken else f"第{i}行，备注" for i in range(300)]
    lines = [f'"{i:05d}","{note}","{i * 10}"' for i, note in enumerate(notes)]
    text = "客户编号,备注,金额\n" + "\n".join(lines) + "\n"
    monkeypatch.setattr(ingest, "pacsv", _SmallBlocks())

    table = read_table(fx.text_csv(tmp_path, "q.csv", text))

    assert _column(table, "备注") == notes
    assert _column(table, "客户编号")[-1] == "00299"
    step = 2 if broken else 1
    assert table.frame["_row"].tolist() == list(range(2, 2 + 300 * step, step))
    assert table.skipped == ()


def test_text_past_the_decoded_sample_is_checked_as_utf8(tmp_path):
    from tiering.ingest import SAMPLE_BYTES

    # A GBK export whose first megabytes are ASCII, alike in every encoding.
    rows = [f"{i:06d},client{i}" for i in range(SAMPLE_BYTES // 10)]
    start = ("id,name\n" + "\n".join(rows) + "\n").encode("ascii")
    path = tmp_path / "late.csv"
    path.write_bytes(start + "999999,欧阳娜娜\n".encode("gbk"))

    table = read_table(path)

    assert len(start) > SAMPLE_BYTES
    assert table.encoding == "gb18030"
    assert _column(table, "name")[-1] == "欧阳娜娜"


def test_sample_of_a_long_utf8_file_is_that_of_its_whole_text():
    from tiering.ingest import SAMPLE_BYTES, _decode, _sample_lines

    # Four-byte characters, so the sample's end falls inside one.
    text = "编号,名称\n" + "".join(f"{i},𠮷{'𠮷' * (i % 7)}\n" for i in range(90000))
    data = text.encode("utf-8")

    encoding, start = _decode(data, "big.csv", whole=False)

    assert len(data) > SAMPLE_BYTES
    assert encoding == "utf-8"
    assert text.startswith(start)
    assert _sample_lines(start) == _sample_lines(text)


@pytest.mark.parametrize(
    "data",
    [
        "客户编号,金额\n".encode(),
        "𠮷".encode(),
        b"\xed\xa0\x80",  # a surrogate
        b"\xc0\xaf",  # an overlong slash
        b"\xf4\x90\x80\x80",  # past U+10FFFF
        b"\xe4\xb8",  # cut inside a character
        "张伟".encode("gbk"),
        b"",
    ],
)
def test_utf8_check_accepts_what_strict_decoding_accepts(data):
    from tiering.ingest import _is_utf8

    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False

    assert _is_utf8(data) is decodes


@pytest.mark.parametrize("call", [read_table, head_rows, list_sheets])
def test_workbook_with_a_damaged_sheet_part_is_refused(tmp_path, call):
    import zipfile

    path = fx.title_totals_xlsx(tmp_path)
    data = bytearray(path.read_bytes())
    member = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet2.xml")
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    for offset in range(start + 20, start + member.compress_size - 20):
        data[offset] ^= 0x5A

    with pytest.raises(InputFileError) as caught:
        call(bytes(data), "damaged.xlsx")

    assert caught.value.key == "error.file.not_spreadsheet"


TEXT_PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.mark.parametrize("filename", ["pdf.xlsx", "客户.xls", "export.csv", "upload"])
def test_pdf_is_refused_under_any_name_with_a_pdf_message(filename):
    with pytest.raises(InputFileError) as caught:
        read_table(TEXT_PDF, filename=filename)

    assert caught.value.key == "error.file.pdf"
    assert describe_error(caught.value, "zh") == (
        f"文件「{filename}」是 PDF 文档，不是表格，读不出其中的数据。"
        "请从 CRM 系统把这张表导出为 .xlsx 或 .csv 文件，再重新上传。"
    )
    assert describe_error(caught.value, "en") == (
        f"The file '{filename}' is a PDF document, not a spreadsheet, so its data "
        "cannot be read. Export the table from the CRM as .xlsx or .csv and "
        "upload that file."
    )


def test_text_named_xlsx_is_read_when_it_is_a_delimited_table():
    table = read_table("客户编号,姓名\n001,张一\n".encode(), filename="导出.xlsx")

    assert table.columns == ["客户编号", "姓名"]
    assert _column(table, "客户编号") == ["001"]


@pytest.mark.parametrize(
    "content",
    [
        b"client list\nmonthly export\nsee attachment\n",
        b"2024-03-05 10:00 export started\n2024-03-05 10:01 export done\n",
    ],
)
def test_text_named_xlsx_that_is_no_table_is_refused(content):
    with pytest.raises(InputFileError) as caught:
        read_table(content, filename="letter.xlsx")

    assert caught.value.key == "error.file.not_spreadsheet"


def test_one_column_text_named_csv_is_still_read():
    table = read_table(b"client_id\n1\n2\n", filename="ids.csv")

    assert _column(table, "client_id") == ["1", "2"]


RAGGED_CSV = "id,name,amount,date\n1,a,10\n2,b,20,2024-01-01,x,y\n3,c,30,2024-02-02\n"


def _notes(table):
    return [(n.row, n.reason_key, n.column, n.value, n.detail) for n in table.notes]


def test_rows_with_another_field_count_are_noted_with_their_row_numbers():
    table = read_table(RAGGED_CSV.encode(), filename="ragged.csv")

    assert table.columns == ["id", "name", "amount", "date", "E", "F"]
    assert len(table.frame) == 3
    assert _notes(table) == [
        (2, "ingest.reason.missing_fields", "date", "3", "4"),
        (3, "ingest.reason.extra_fields", "E, F", "6", "4"),
    ]


def test_field_count_notes_reach_the_data_issues_in_both_languages(duckdb_con):
    from tiering.mapping import detect_mapping
    from tiering.prepare import describe_issues, load_clients

    raw = read_table(RAGGED_CSV.encode(), filename="ragged.csv")
    prepared = load_clients(duckdb_con, raw, detect_mapping(raw))

    assert prepared.rows_loaded == 3
    zh = describe_issues(prepared.issues, "zh")
    assert zh["原因"].tolist() == [
        "第 2 行只有 3 个字段，表头有 4 个：从「date」列起末尾缺少的值按空值载入；"
        "请核对这一行。",
        "第 3 行有 6 个字段，表头只有 4 个：多出的值放在了新增的 E, F 列；请核对这一行。",
    ]
    assert zh["处理"].tolist() == ["需核对", "需核对"]
    en = describe_issues(prepared.issues, "en")
    assert en["Reason"].tolist() == [
        "Row 2 has 3 fields but the header has 4: the missing values at the end, "
        "from column 'date' on, were left empty; check this row.",
        "Row 3 has 6 fields but the header has 4: the extra values went to the "
        "added column(s) E, F; check this row.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Title lines above the header: rows keep the numbers an editor shows.
        (
            "客户名单\n\nid,name,amount\n1,a,2\n2,b\n3,c,4,zz\n",
            [
                (5, "ingest.reason.missing_fields", "amount", "2", "3"),
                (6, "ingest.reason.extra_fields", "D", "4", "3"),
            ],
        ),
        # A quoted line break: the short row is on line 4.
        (
            'id,name,amount\n1,"a\nb",2\n2,b\n',
            [(4, "ingest.reason.missing_fields", "amount", "2", "3")],
        ),
        # Empty fields at the end of a row are no extra values.
        ("id,name,amount\n1,a,2,,\n2,b,3,\n", []),
        # A short totals row is skipped with its own reason, not noted.
        ("id,name,amount\n1,a,2\n合计,2\n", []),
        # Values past a header that ends with a delimiter.
        ("id,name,\n1,a\n2,b,,x\n", [(3, "ingest.reason.extra_fields", "D", "4", "3")]),
    ],
)
def test_field_count_notes_follow_the_header_line(text, expected):
    table = read_table(text.encode(), filename="ragged.csv")

    assert _notes(table) == expected


def test_field_count_notes_list_a_thousand_rows_then_count_the_rest():
    text = "id,name,amount\n" + "".join(f"{i},a\n" for i in range(1500))

    table = read_table(text.encode(), filename="short.csv")

    notes = _notes(table)
    assert len(notes) == 1001
    assert notes[999] == (1001, "ingest.reason.missing_fields", "amount", "2", "3")
    assert notes[-1] == (1002, "ingest.reason.field_count_more", None, None, "500")
    assert describe_error_text(notes[-1], "en") == (
        "500 more rows from row 1002 on have another number of fields than the "
        "header and are not listed one by one; check them."
    )


def describe_error_text(note, lang):
    from tiering.i18n import t

    row, key, column, value, detail = note
    return t(key, lang, row=row, column=column, value=value, detail=detail)


# Semicolon exports (European CRMs) often carry decimal commas, and close
# every row with the delimiter; a comma split of them is as even, but narrower.
DECIMAL_COMMA_TABLES = [
    "客户编号;累计金额;购买次数\n00001;1,5;1\n00002;250,75;3\n",
    "客户编号;累计金额;购买次数;\n00001;1,5;1;\n00002;250,75;3;\n",
    "客户编号;累计金额;购买次数\n00001;1,5;1;\n00002;250,75;3;\n",
    '"客户编号";"累计金额";"购买次数";\n"00001";"1,5";"1";\n"00002";"250,75";"3";\n',
    "导出，2024,06\n客户编号;累计金额;购买次数\n00001;1,5;1\n00002;250,75;3\n",
    "客户编号\t累计金额\t购买次数\t\n00001\t1,5\t1\t\n00002\t250,75\t3\t\n",
    "客户编号|累计金额|购买次数|\n00001|1,5|1|\n00002|250,75|3|\n",
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize(
    "text",
    DECIMAL_COMMA_TABLES,
    ids=[
        "semicolon",
        "semicolon-closing-every-row",
        "semicolon-closing-data-rows",
        "quoted-semicolon",
        "title-with-commas",
        "tab-closing-every-row",
        "pipe-closing-every-row",
    ],
)
def test_delimiter_is_found_when_values_hold_decimal_commas(tmp_path, text, encoding):
    table = read_table(fx.text_csv(tmp_path, "semi.csv", text, encoding))

    assert table.columns == ["客户编号", "累计金额", "购买次数"]
    assert _column(table, "客户编号") == ["00001", "00002"]
    assert _column(table, "累计金额") == ["1,5", "250,75"]
    assert table.notes == ()


def test_header_with_a_comma_does_not_make_a_semicolon_file_comma_separated():
    text = "客户编号;金额（万元,含税）;购买次数\n00001;1,5;1\n00002;2,5;3\n"

    table = read_table(text.encode(), filename="semi.csv")

    assert table.delimiter == ";"
    assert table.columns == ["客户编号", "金额（万元,含税）", "购买次数"]


@pytest.mark.parametrize(
    "text",
    [
        "客户编号,备注,累计金额\n00001,a;b,100\n00002,c;d,200\n",
        "客户编号,备注;说明,累计金额\n00001,a;b,100\n00002,c;d,200\n",
        "客户编号,备注,累计金额,\n00001,a;b;c,100,\n00002,d,200,\n",
    ],
)
def test_comma_file_with_semicolons_in_its_values_stays_comma_separated(text):
    table = read_table(text.encode(), filename="comma.csv")

    assert table.delimiter == ","
    assert _column(table, "客户编号") == ["00001", "00002"]


# --- the upload page's read line --------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.004, "已读取 2 行，用时不到 0.1 秒。"),
        (0.1, "已读取 2 行，用时 0.1 秒（每秒 20 行）。"),
        (2.0, "已读取 2 行，用时 2.0 秒（每秒 1 行）。"),
    ],
)
def test_upload_page_gives_no_rate_for_a_read_under_a_tenth_of_a_second(
    tmp_data_dir, seconds, expected
):
    from streamlit.testing.v1 import AppTest

    content = "客户编号,累计金额\n00001,10\n00002,20\n".encode()
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    at.switch_page("pages/upload.py").run()
    # The page keeps the first read's time per file: set it for this file.
    at.session_state["read_seconds"] = {("名单.csv", len(content)): seconds}

    at.file_uploader[0].upload("名单.csv", content, "text/csv").run()

    assert not at.exception, at.exception
    assert expected in [caption.value for caption in at.caption]
