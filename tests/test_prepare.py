"""Loading read tables into DuckDB: typing, rollups and row accounting."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import duckdb
import fixtures_messy as fx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiering.errors import MappingError
from tiering.i18n import describe_error
from tiering.ingest import read_table
from tiering.mapping import detect_mapping
from tiering.prepare import describe_issues, load_clients, parse_dates, parse_numbers

REAL = Path(
    os.environ.get("TIERING_REAL_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
)
needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"public datasets not at {REAL}"
)


def _load(con, path, **options):
    raw = read_table(path)
    mapping = options.pop("mapping", None) or detect_mapping(raw)
    prepared = load_clients(con, raw, mapping, **options)
    _assert_rows_add_up(prepared)
    return prepared


def _assert_rows_add_up(prepared):
    assert prepared.rows_in_file == (
        prepared.rows_loaded + prepared.rows_excluded + prepared.rows_rejected
    )
    issues = prepared.issues
    main = (
        issues[issues["file"] != "transactions"] if prepared.kind == "both" else issues
    )
    assert (main["status"] == "excluded").sum() == prepared.rows_excluded
    assert (main["status"] == "rejected").sum() == prepared.rows_rejected
    if prepared.kind != "both":
        return
    assert prepared.transaction_rows_in_file == (
        prepared.transaction_rows_loaded
        + prepared.transaction_rows_excluded
        + prepared.transaction_rows_rejected
    )
    tx = issues[issues["file"] == "transactions"]
    assert (tx["status"] == "excluded").sum() == prepared.transaction_rows_excluded
    assert (tx["status"] == "rejected").sum() == prepared.transaction_rows_rejected


def _column(con, name, table="clients"):
    return [
        row[0]
        for row in con.execute(f'SELECT "{name}" FROM {table} ORDER BY _row').fetchall()
    ]


def _issues(prepared, status):
    frame = prepared.issues[prepared.issues["status"] == status]
    return list(zip(frame["row"], frame["reason_key"]))


# --- client workbook ---------------------------------------------------------------


def test_workbook_loads_typed_clients_in_natural_units(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.title_totals_xlsx(tmp_path))

    assert (
        prepared.rows_in_file,
        prepared.rows_loaded,
        prepared.rows_excluded,
        prepared.rows_rejected,
    ) == (9, 6, 3, 0)
    assert _column(duckdb_con, "client_id") == [
        "00123",
        "00124",
        "00125",
        "00126",
        "123456789012346000",
        "A-7",
    ]
    assert _column(duckdb_con, "amount") == [
        1_205_000.0,
        3_000_000.0,
        7_500.0,
        453_560_000.0,
        100_000.0,
        12_000_000.0,
    ]
    assert _column(duckdb_con, "last_purchase_date") == [
        dt.date(2024, 3, 5),
        dt.date(2024, 1, 15),
        dt.date(2023, 12, 31),
        None,
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 2),
    ]


def test_as_of_defaults_to_latest_purchase_and_gives_recency(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.title_totals_xlsx(tmp_path))

    assert prepared.as_of == dt.date(2024, 3, 5)
    assert _column(duckdb_con, "recency_days") == [0, 50, 65, None, 33, 32]


def test_explicit_as_of_is_used(duckdb_con, tmp_path):
    prepared = _load(
        duckdb_con, fx.title_totals_xlsx(tmp_path), as_of=dt.date(2024, 3, 31)
    )

    assert prepared.as_of == dt.date(2024, 3, 31)
    assert _column(duckdb_con, "recency_days")[0] == 26


def test_skipped_rows_and_lossy_ids_are_reported(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.title_totals_xlsx(tmp_path))

    assert _issues(prepared, "excluded") == [
        (11, "ingest.reason.blank_row"),
        (12, "ingest.reason.total_row"),
        (13, "ingest.reason.note_row"),
    ]
    assert _issues(prepared, "flagged") == [(9, "ingest.reason.id_precision_lost")]


def test_source_table_keeps_every_original_column_as_text(duckdb_con, tmp_path):
    _load(duckdb_con, fx.title_totals_xlsx(tmp_path))

    types = dict(
        duckdb_con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'source'"
        ).fetchall()
    )
    assert types["_row"] == "INTEGER"
    assert types["成交金额（万元）"] == "VARCHAR"
    assert _column(duckdb_con, "客户编号", "source")[0] == "00123"
    assert _column(duckdb_con, "_row", "source") == [5, 6, 7, 8, 9, 10]


def test_clients_columns_are_typed_by_field_kind(duckdb_con, tmp_path):
    _load(duckdb_con, fx.title_totals_xlsx(tmp_path))

    types = dict(
        duckdb_con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'clients'"
        ).fetchall()
    )
    assert types == {
        "_row": "INTEGER",
        "client_id": "VARCHAR",
        "name": "VARCHAR",
        "id_card": "VARCHAR",
        "owner": "VARCHAR",
        "last_purchase_date": "DATE",
        "amount": "DOUBLE",
        "recency_days": "INTEGER",
    }


# --- amounts and dates as text ----------------------------------------------------------


def test_amount_and_date_texts_parse_to_exact_values(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.values_csv(tmp_path))

    amounts = _column(duckdb_con, "amount")[: len(fx.AMOUNTS)]
    dates = _column(duckdb_con, "last_purchase_date")[: len(fx.DATES)]
    assert amounts == [value for _, value in fx.AMOUNTS]
    assert dates == [value for _, value in fx.DATES]
    assert prepared.rows_loaded == len(fx.AMOUNTS)


def test_unreadable_values_are_flagged_and_placeholders_are_not(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.values_csv(tmp_path))

    issues = prepared.issues
    flagged = issues[issues["reason_key"].str.startswith("ingest.reason.bad_")]
    assert set(flagged["status"]) == {"flagged"}
    assert list(zip(flagged["row"], flagged["column"], flagged["value"])) == [
        (13, "最近购买日期", "2024-02-30"),
        (14, "最近购买日期", "下周"),
        (17, "累计金额", "abc"),
    ]
    # (500) reads as -500: loaded, and flagged as an amount below zero.
    odd = issues[issues["reason_key"] == "ingest.reason.out_of_range"]
    assert list(zip(odd["row"], odd["column"], odd["value"], odd["status"])) == [
        (6, "累计金额", "-500", "flagged")
    ]


def test_reinterpreted_values_are_listed_as_coerced(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.values_csv(tmp_path))

    coerced = prepared.issues[prepared.issues["status"] == "coerced"]
    assert list(zip(coerced["value"], coerced["detail"])) == [
        ("￥1,100万", "11,000,000"),
        ("2.5亿", "250,000,000"),
        ("(500)", "-500"),
        ("45356", "2024-03-05"),
        ("１２３", "123"),
        ("12%", "0.12"),
    ]


def test_day_first_is_decided_per_column(duckdb_con, tmp_path):
    text = "客户编号,最近购买日期\nA,03/04/2024\nB,12/25/2024\n"

    _load(duckdb_con, fx.text_csv(tmp_path, "us.csv", text))

    assert _column(duckdb_con, "last_purchase_date") == [
        dt.date(2024, 3, 4),
        dt.date(2024, 12, 25),
    ]


def test_header_unit_is_not_applied_twice_to_a_value_with_its_own_unit(
    duckdb_con, tmp_path
):
    text = "客户编号,金额（万元）\nA,12\nB,1.5万\n"

    _load(duckdb_con, fx.text_csv(tmp_path, "u.csv", text))

    assert _column(duckdb_con, "amount") == [120_000.0, 15_000.0]


# --- plain values read by a cast, the rest by the parsers ---------------------------

# Texts a plain cast reads (or misreads: inf, NaN, a padded or odd date) mixed
# with texts only the parsers read, in one column each.
MIXED_AMOUNTS = [
    "12",
    "-3.5",
    " 7 ",
    "1e3",
    "inf",
    "-Infinity",
    "NaN",
    "1,200",
    "1.5万",
    "(500)",
    "１２３",
    "abc",
    "1,5",
    "3\n4",
    "-",
    "",
]
MIXED_DATES = [
    "2024-03-05",
    "2024-02-30",
    " 2024-03-05",
    "2024-3-5",
    "2024/03/05",
    "20240305",
    "45356",
    "2024-03-05 23:30:00",
    "2024-03-05T20:00:00Z",
    "24-03-05",
    "0024-03-05",
    "10000-01-01",
    "epoch",
    "05-03-2024",
    "下周",
    "-",
    "",
]


def _csv_text(header, rows):
    lines = [",".join(header)]
    lines += [",".join(f'"{value}"' for value in row) for row in rows]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None)
@given(
    amounts=st.lists(st.sampled_from(MIXED_AMOUNTS), min_size=1, max_size=12),
    dates=st.lists(st.sampled_from(MIXED_DATES), min_size=12, max_size=12),
)
def test_loaded_values_match_the_parsers_whatever_the_mix(
    amounts, dates, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("mix")
    rows = [(f"C{index}", amount, dates[index]) for index, amount in enumerate(amounts)]
    path = fx.text_csv(
        folder, "mix.csv", _csv_text(["客户编号", "累计金额", "最近购买日期"], rows)
    )
    con = duckdb.connect(":memory:")

    try:
        prepared = _load(con, path)
        raw = read_table(path)
        loaded = con.execute(
            "SELECT amount, last_purchase_date FROM clients ORDER BY _row"
        ).fetchall()
    finally:
        con.close()

    texts = raw.frame[["累计金额", "最近购买日期"]].astype(object)
    texts = texts.where(texts.notna(), None)
    expected_amounts = parse_numbers(PARSER_CON, list(texts["累计金额"]))
    expected_dates = parse_dates(PARSER_CON, list(texts["最近购买日期"]))
    assert [amount for amount, _ in loaded] == expected_amounts
    assert [date for _, date in loaded] == expected_dates
    assert prepared.rows_loaded == len(rows)


def test_unreadable_infinity_is_flagged_like_any_bad_number(duckdb_con, tmp_path):
    text = "客户编号,累计金额\nA,12\nB,inf\nC,NaN\nD,7\n"

    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "inf.csv", text))

    assert _column(duckdb_con, "amount") == [12.0, None, None, 7.0]
    assert _issues(prepared, "flagged") == [(3, "ingest.reason.bad_number")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,200", 1_200.0),
        ("12,345", 12_345.0),
        ("1,200,000.50", 1_200_000.5),
        ("¥3,000", 3_000.0),
        ("(1,200)", -1_200.0),
        ("1,200万", 12_000_000.0),
        ("１，２００", 1_200.0),
        ("1 200", 1_200.0),
        ("34\n", 34.0),
        ("¥3,000\r\n", 3_000.0),
        ("1,5", None),
        ("12,34", None),
        ("1234,567", None),
        ("1.200,50", None),
        ("3\n4", None),
        ("3\r\n4", None),
    ],
)
def test_commas_group_only_thousands_and_line_breaks_split_no_number(text, expected):
    assert parse_numbers(PARSER_CON, [text]) == [expected]


def test_misgrouped_commas_and_line_breaks_in_a_csv_are_reported(duckdb_con, tmp_path):
    text = (
        "客户编号,购买次数,累计金额\n"
        'A,"1,5","1,200,000.50"\nB,两次,"12,34"\nC,无,"1,200"\nD,"3\n4",100\n'
    )

    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "n.csv", text))

    assert _column(duckdb_con, "purchase_count") == [None, None, None, None]
    assert _column(duckdb_con, "amount") == [1_200_000.5, None, 1_200.0, 100.0]
    bad = _reasons(prepared, "ingest.reason.bad_number")
    assert [row[:4] for row in bad] == [
        (2, "购买次数", "1,5", "flagged"),
        (3, "购买次数", "两次", "flagged"),
        (3, "累计金额", "12,34", "flagged"),
        (5, "购买次数", "3\n4", "flagged"),
    ]
    reason = describe_issues(prepared.issues, "en")["Reason"].tolist()
    assert (
        "Row 2, column '购买次数': '1,5' is not a number and is treated as "
        "missing. Correct it and upload again."
    ) in reason


def test_plain_and_written_out_dates_share_a_column(duckdb_con, tmp_path):
    text = "客户编号,最近购买日期\nA,2024-01-02\nB,03/04/2024\nC,13/04/2024\nD,45356\n"

    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "d.csv", text))

    assert _column(duckdb_con, "last_purchase_date") == [
        dt.date(2024, 1, 2),
        dt.date(2024, 4, 3),
        dt.date(2024, 4, 13),
        dt.date(2024, 3, 5),
    ]
    coerced = prepared.issues[prepared.issues["status"] == "coerced"]
    assert list(zip(coerced["row"], coerced["value"])) == [(5, "45356")]


def test_text_fields_are_trimmed_only_where_needed(duckdb_con, tmp_path):
    text = (
        '客户编号,客户姓名,置业顾问\n" A1 ",张三,顾问1\nA2,"　李四 ",顾问2\n" ",王五,\n'
    )

    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "t.csv", text))

    assert _column(duckdb_con, "client_id") == ["A1", "A2"]
    assert _column(duckdb_con, "name") == ["张三", "李四"]
    assert _column(duckdb_con, "owner") == ["顾问1", "顾问2"]
    assert _issues(prepared, "rejected") == [(4, "ingest.reason.missing_id")]


def test_clients_rows_are_stored_in_row_order(duckdb_con, tmp_path):
    plain = "客户编号,累计金额\n" + "".join(f"C{i},{i}\n" for i in range(50))
    parsed = "客户编号,累计金额\n" + "".join(f"C{i},{i}万\n" for i in range(50))

    for name, text in (("plain.csv", plain), ("parsed.csv", parsed)):
        _load(duckdb_con, fx.text_csv(tmp_path, name, text))
        rows = [
            row[0] for row in duckdb_con.execute("SELECT _row FROM clients").fetchall()
        ]

        assert rows == list(range(2, 52))


def test_a_load_leaves_no_staging_and_the_thread_setting_as_it_was(
    duckdb_con, tmp_path
):
    duckdb_con.execute("SET threads = 2")

    _load(duckdb_con, fx.values_csv(tmp_path))

    assert duckdb_con.execute("SELECT current_setting('threads')").fetchone() == (2,)
    leftovers = duckdb_con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_tiering_') "
        "UNION ALL SELECT view_name FROM duckdb_views() "
        "WHERE starts_with(view_name, '_tiering_')"
    ).fetchall()
    assert leftovers == []


# --- ids ------------------------------------------------------------------------------


def test_duplicate_ids_keep_the_latest_purchase(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "d.csv", fx.DUPLICATES_TEXT))

    assert _column(duckdb_con, "client_id") == ["A2", "A1", "A3"]
    assert _column(duckdb_con, "_row") == [3, 4, 8]
    assert _issues(prepared, "excluded") == [
        (2, "ingest.reason.duplicate_id_latest"),
        (5, "ingest.reason.duplicate_id_latest"),
    ]
    assert _issues(prepared, "rejected") == [
        (6, "ingest.reason.missing_id"),
        (7, "ingest.reason.missing_id"),
    ]
    assert (prepared.rows_in_file, prepared.rows_loaded) == (7, 3)


def test_duplicate_ids_can_keep_the_first_row(duckdb_con, tmp_path):
    path = fx.text_csv(tmp_path, "d.csv", fx.DUPLICATES_TEXT)

    prepared = _load(duckdb_con, path, duplicates="first")

    assert _column(duckdb_con, "_row") == [2, 3, 8]
    assert [row for row, _ in _issues(prepared, "excluded")] == [4, 5]


def test_duplicate_ids_can_stop_the_load(duckdb_con, tmp_path):
    path = fx.text_csv(tmp_path, "d.csv", fx.DUPLICATES_TEXT)

    with pytest.raises(MappingError) as caught:
        _load(duckdb_con, path, duplicates="stop")

    assert caught.value.key == "error.mapping.duplicate_ids"
    assert caught.value.facts == {"column": "客户编号", "count": 2, "row": 4}
    assert "第 4 行" in describe_error(caught.value)


def test_missing_id_column_is_refused_unless_row_ids_are_chosen(duckdb_con, tmp_path):
    raw = read_table(fx.text_csv(tmp_path, "n.csv", "姓名,金额\n甲,1\n乙,2\n"))
    mapping = detect_mapping(raw)

    with pytest.raises(MappingError) as caught:
        load_clients(duckdb_con, raw, mapping)
    prepared = load_clients(duckdb_con, raw, dataclasses.replace(mapping, row_ids=True))

    assert caught.value.key == "error.mapping.no_client_id"
    assert "行号" in describe_error(caught.value)
    assert _column(duckdb_con, "client_id") == ["2", "3"]
    assert prepared.rows_loaded == 2


def test_issue_reasons_are_sentences_in_both_languages(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "d.csv", fx.DUPLICATES_TEXT))

    zh = describe_issues(prepared.issues, "zh")
    en = describe_issues(prepared.issues, "en")

    assert list(zh.columns) == ["行号", "列", "值", "处理", "原因"]
    assert list(en.columns) == ["Row", "Column", "Value", "Status", "Reason"]
    assert "第 6 行缺少客户编号，请补全后重新上传。" in zh["原因"].tolist()
    assert "Row 6 has no client ID. Add it and upload again." in en["Reason"].tolist()


# --- transactions ---------------------------------------------------------------------


def test_transaction_log_is_rolled_up_per_client(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.text_csv(tmp_path, "log.txt", fx.WHITESPACE_TEXT))

    assert prepared.kind == "transactions"
    assert (prepared.rows_in_file, prepared.rows_loaded) == (4, 4)
    assert prepared.as_of == dt.date(1997, 1, 12)
    rows = duckdb_con.execute(
        "SELECT _row, client_id, last_purchase_date, purchase_count, amount, recency_days "
        "FROM clients ORDER BY _row"
    ).fetchall()
    assert rows == [
        (1, "00001", dt.date(1997, 1, 1), 1.0, 11.77, 11),
        (2, "00002", dt.date(1997, 1, 12), 2.0, 89.0, 0),
        (3, "00003", dt.date(1997, 1, 2), 1.0, 20.76, 10),
    ]
    assert duckdb_con.execute("SELECT * FROM source ORDER BY _row").fetchall()[1] == (
        2,
        "00002",
        "1997-01-12",
        "2",
        "89",
    )


def test_client_table_and_transactions_are_joined_on_client_id(duckdb_con, tmp_path):
    clients = read_table(
        fx.text_csv(tmp_path, "c.csv", "客户编号,姓名\n00002,乙\n00001,甲\n,丙\n")
    )
    transactions = read_table(fx.text_csv(tmp_path, "log.txt", fx.WHITESPACE_TEXT))

    prepared = load_clients(
        duckdb_con,
        clients,
        detect_mapping(clients),
        transactions,
        detect_mapping(transactions),
    )

    _assert_rows_add_up(prepared)
    assert prepared.kind == "both"
    assert (prepared.rows_in_file, prepared.rows_loaded, prepared.rows_rejected) == (
        3,
        2,
        1,
    )
    rows = duckdb_con.execute(
        "SELECT client_id, name, purchase_count, amount FROM clients ORDER BY _row"
    ).fetchall()
    assert rows == [("00002", "乙", 2.0, 89.0), ("00001", "甲", 1.0, 11.77)]


def test_transactions_alone_can_be_passed_as_transactions(duckdb_con, tmp_path):
    transactions = read_table(fx.text_csv(tmp_path, "log.txt", fx.WHITESPACE_TEXT))

    prepared = load_clients(
        duckdb_con, None, None, transactions, detect_mapping(transactions)
    )

    assert prepared.kind == "transactions"
    assert prepared.clients == 3


# --- parsers: round trips ---------------------------------------------------------------

PARSER_CON = duckdb.connect(":memory:")
amounts_in_cents = st.integers(min_value=-(10**12), max_value=10**12)


@settings(max_examples=40, deadline=None)
@given(
    cents=amounts_in_cents,
    style=st.sampled_from(["plain", "comma", "yen", "rmb", "paren"]),
)
def test_formatted_amounts_parse_back(cents, style):
    value = cents / 100
    text = {
        "plain": f"{value:.2f}",
        "comma": f"{value:,.2f}",
        "yen": f"¥{value:,.2f}",
        "rmb": f"RMB {value:,.2f}元",
        "paren": f"({abs(value):,.2f})" if value < 0 else f"{value:,.2f}",
    }[style]

    assert parse_numbers(PARSER_CON, [text]) == [pytest.approx(value, abs=1e-6)]


@settings(max_examples=40, deadline=None)
@given(wan=st.integers(min_value=0, max_value=10**8))
def test_amounts_in_wan_parse_back(wan):
    text = f"{wan / 100:,.2f}万"

    assert parse_numbers(PARSER_CON, [text]) == [pytest.approx(wan * 100, rel=1e-12)]


@settings(max_examples=40, deadline=None)
@given(
    day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)),
    style=st.sampled_from(
        ["iso", "slash", "compact", "chinese", "dots", "time", "dmy"]
    ),
)
def test_formatted_dates_parse_back(day, style):
    text = {
        "iso": day.isoformat(),
        "slash": f"{day.year}/{day.month}/{day.day}",
        "compact": day.strftime("%Y%m%d"),
        "chinese": f"{day.year}年{day.month}月{day.day}日",
        "dots": f"{day.year}.{day.month:02d}.{day.day:02d}",
        "time": f"{day.isoformat()} 08:15:00",
        "dmy": day.strftime("%d-%m-%Y"),
    }[style]

    assert parse_dates(PARSER_CON, [text]) == [day]


@settings(max_examples=40, deadline=None)
@given(day=st.dates(min_value=dt.date(1927, 6, 1), max_value=dt.date(2099, 12, 31)))
def test_excel_serial_numbers_parse_back(day):
    serial = (day - dt.date(1899, 12, 30)).days

    assert parse_dates(PARSER_CON, [str(serial)]) == [day]


# --- real public files -----------------------------------------------------------------


@needs_real
def test_real_cdnow_rolls_up_to_23570_customers(duckdb_con):
    prepared = _load(duckdb_con, REAL / "cdnow_master.txt")

    assert prepared.kind == "transactions"
    assert (prepared.rows_in_file, prepared.rows_loaded) == (69_659, 69_659)
    assert prepared.clients == 23_570
    first = duckdb_con.execute(
        "SELECT client_id FROM clients ORDER BY _row LIMIT 1"
    ).fetchone()
    assert first == ("00001",)
    total = duckdb_con.execute("SELECT round(sum(amount), 2) FROM clients").fetchone()[
        0
    ]
    assert total == 2_500_315.63
    assert prepared.as_of == dt.date(1998, 6, 30)


@needs_real
def test_real_bank_marketing_needs_row_ids(duckdb_con):
    raw = read_table(REAL / "bank_marketing_uci_4521.csv")
    mapping = detect_mapping(raw)

    with pytest.raises(MappingError):
        load_clients(duckdb_con, raw, mapping)
    prepared = load_clients(duckdb_con, raw, dataclasses.replace(mapping, row_ids=True))

    _assert_rows_add_up(prepared)
    assert prepared.rows_loaded == 4_521
    assert (
        duckdb_con.execute("SELECT count(DISTINCT client_id) FROM clients").fetchone()[
            0
        ]
        == 4_521
    )


@needs_real
def test_real_filing_form_rows_without_codes_are_rejected(duckdb_con):
    prepared = _load(duckdb_con, REAL / "cn_customer_filing_form_2016.xlsx")

    assert prepared.mapping.columns["client_id"] == "客户代号"
    assert prepared.rows_loaded == 0
    assert prepared.rows_rejected == prepared.rows_in_file - prepared.rows_excluded


# --- gaps closed: orphan transactions, capped conversions, formulas ----------


def _csv(folder, name, text):
    return read_table(fx.text_csv(folder, name, text))


def test_transactions_for_clients_not_in_the_table_are_listed(duckdb_con, tmp_path):
    clients = _csv(tmp_path, "clients.csv", fx.CLIENT_TABLE_TEXT)
    transactions = _csv(tmp_path, "tx.csv", fx.ORPHAN_TRANSACTIONS_TEXT)

    prepared = load_clients(
        duckdb_con,
        clients,
        detect_mapping(clients),
        transactions=transactions,
        transaction_mapping=detect_mapping(transactions),
    )

    _assert_rows_add_up(prepared)
    tx = prepared.issues[prepared.issues["file"] == "transactions"]
    assert list(zip(tx["row"], tx["value"], tx["status"], tx["reason_key"])) == [
        (3, "B9", "excluded", "ingest.reason.unknown_client"),
        (5, None, "rejected", "ingest.reason.missing_id"),
        (6, "B9", "excluded", "ingest.reason.unknown_client"),
        (7, "C7", "excluded", "ingest.reason.unknown_client"),
    ]
    assert _column(duckdb_con, "amount") == [110.0, 300.0]
    assert describe_issues(tx.head(1), "zh").iloc[0, -1] == (
        "交易表第 3 行的客户编号「B9」不在客户表中，未计入任何客户。"
        "请核对编号，或把该客户补进客户表后重新上传。"
    )


def test_coerced_values_are_capped_per_column_with_a_count_line(duckdb_con, tmp_path):
    lines = ["客户编号,累计金额"] + [f"C{i:04d},{i}万" for i in range(1, 1006)]
    path = fx.text_csv(tmp_path, "many.csv", "\n".join(lines) + "\n")

    prepared = _load(duckdb_con, path)

    coerced = prepared.issues[prepared.issues["status"] == "coerced"]
    assert len(coerced) == 1001
    last = coerced.iloc[-1]
    assert (last["row"], last["reason_key"], last["detail"]) == (
        1002,
        "ingest.reason.coerced_more",
        "5",
    )
    assert describe_issues(coerced.tail(1), "en").iloc[0, -1] == (
        "Column '累计金额': 5 more values from row 1002 on were converted the same "
        "way and are not listed one by one."
    )
    assert prepared.rows_loaded == 1005


def test_flagged_values_are_never_capped(duckdb_con, tmp_path, monkeypatch):
    monkeypatch.setattr("tiering.prepare.COERCED_LIMIT", 2)
    lines = ["客户编号,累计金额"] + [f"C{i},abc" for i in range(5)]
    lines += [f"D{i},{i}万" for i in range(5)]
    path = fx.text_csv(tmp_path, "flags.csv", "\n".join(lines) + "\n")

    prepared = _load(duckdb_con, path)

    assert len(_issues(prepared, "flagged")) == 5
    assert len(_issues(prepared, "coerced")) == 3


def test_formula_columns_without_values_are_flagged(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, fx.unsaved_formulas_xlsx(tmp_path))

    flagged = prepared.issues[prepared.issues["status"] == "flagged"]
    assert list(zip(flagged["row"], flagged["column"])) == [(1, "翻倍金额")]
    assert describe_issues(flagged, "zh").iloc[0, -1] == (
        "工作表「客户」的「翻倍金额」列是公式，但文件没有保存计算结果，读出来是空的。"
        "请用 Excel 打开文件、保存后重新上传。"
    )
    assert prepared.rows_loaded == 3


def test_client_id_column_of_unsaved_formulas_is_refused(duckdb_con, tmp_path):
    raw = read_table(fx.unsaved_formulas_xlsx(tmp_path, id_formulas=True))

    with pytest.raises(MappingError) as caught:
        load_clients(duckdb_con, raw, detect_mapping(raw))

    assert describe_error(caught.value, "zh") == (
        "文件「公式.xlsx」工作表「客户」的客户编号列「客户编号」全是公式，且没有保存计算结果。"
        "请用 Excel 打开文件、保存后重新上传，或把该列另存为数值。"
    )
    assert describe_error(caught.value, "en") == (
        "The client ID column '客户编号' on sheet '客户' of '公式.xlsx' holds only "
        "formulas whose results were never saved. Open the file in Excel, save it "
        "and upload it again, or paste the column as values."
    )


def test_zero_padded_codes_load_as_shown(duckdb_con, tmp_path):
    _load(duckdb_con, fx.zero_padded_xlsx(tmp_path))

    assert _column(duckdb_con, "client_id") == ["000123", "000456", "1234567"]


@pytest.mark.parametrize(
    ("make", "counts"),
    [
        (lambda folder: fx.title_totals_xlsx(folder), (9, 6, 3, 0)),
        (lambda folder: fx.zero_padded_xlsx(folder), (3, 3, 0, 0)),
        (lambda folder: fx.unsaved_formulas_xlsx(folder), (3, 3, 0, 0)),
        (lambda folder: fx.values_csv(folder), (16, 16, 0, 0)),
        (
            lambda folder: fx.text_csv(folder, "n.csv", fx.MID_NOTE_TEXT),
            (8, 3, 5, 0),
        ),
        (
            lambda folder: fx.text_csv(folder, "d.csv", fx.DUPLICATES_TEXT),
            (7, 3, 2, 2),
        ),
        (
            lambda folder: fx.text_csv(folder, "l.csv", fx.LATIN1_TEXT, "latin-1"),
            (3, 3, 0, 0),
        ),
        (
            lambda folder: fx.text_csv(folder, "g.csv", fx.GBK_TEXT, "gbk"),
            (400, 400, 0, 0),
        ),
        (
            lambda folder: fx.text_csv(folder, "x.xls", fx.HTML_AS_XLS_TEXT),
            (2, 2, 0, 0),
        ),
    ],
)
def test_every_data_row_is_scored_excluded_or_rejected(
    duckdb_con, tmp_path, make, counts
):
    prepared = _load(duckdb_con, make(tmp_path), shape="clients")

    assert (
        prepared.rows_in_file,
        prepared.rows_loaded,
        prepared.rows_excluded,
        prepared.rows_rejected,
    ) == counts


def test_issues_workbook_holds_the_report_sheet(duckdb_con, tmp_path):
    import io

    import openpyxl

    from tiering.export import write_issues_workbook

    prepared = _load(duckdb_con, fx.title_totals_xlsx(tmp_path))
    buffer = io.BytesIO()

    write_issues_workbook(buffer, prepared, "zh")

    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "数据问题"
    assert rows[0] == ("行号", "列", "值", "处理", "原因")
    assert [row[0] for row in rows[1:]] == [9, 11, 12, 13]


# --- values out of place: future dates, undecided day/month, impossible values ----


def _text_csv(tmp_path, text, name="clients.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _reasons(prepared, key):
    frame = prepared.issues[prepared.issues["reason_key"] == key]
    return list(
        zip(frame["row"], frame["column"], frame["value"], frame["status"], frame["detail"])
    )


def test_future_date_is_flagged_and_does_not_move_as_of(duckdb_con, tmp_path):
    path = _text_csv(
        tmp_path,
        "客户编号,最近购买日期,购买次数\n"
        "001,2026-01-10,2\n002,2030-01-01,3\n003,2026-02-01,1\n",
    )
    prepared = _load(duckdb_con, path, today=dt.date(2026, 3, 1))

    assert prepared.as_of == dt.date(2026, 2, 1)
    assert _reasons(prepared, "ingest.reason.future_date") == [
        (3, "最近购买日期", "2030-01-01", "flagged", "2026-03-01")
    ]
    # Kept, and its recency is 0, not a negative number beating every client.
    assert _column(duckdb_con, "client_id") == ["001", "002", "003"]
    assert _column(duckdb_con, "recency_days") == [22, 0, 0]
    reason = describe_issues(prepared.issues, "zh")["原因"].tolist()
    assert any("晚于今天" in text and "按 0 计" in text for text in reason)


def test_future_transaction_dates_do_not_move_as_of(duckdb_con, tmp_path):
    path = _text_csv(
        tmp_path,
        "客户编号,交易日期,金额\n"
        "001,2026-01-10,100\n001,2026-01-20,50\n002,2031-05-05,70\n002,2026-01-05,10\n",
    )
    prepared = _load(duckdb_con, path, shape="transactions", today=dt.date(2026, 3, 1))

    assert prepared.kind == "transactions"
    assert prepared.as_of == dt.date(2026, 1, 20)
    assert [row[0] for row in _reasons(prepared, "ingest.reason.future_date")] == [4]


AS_OF_TEXT = (
    "客户编号,最近购买日期,购买次数\n"
    "001,2019-12-01,2\n002,2024-05-30,3\n003,2030-01-01,1\n004,2019-06-01,1\n"
)


def test_dates_after_an_explicit_as_of_are_flagged_and_kept(duckdb_con, tmp_path):
    path = _text_csv(tmp_path, AS_OF_TEXT)

    prepared = _load(
        duckdb_con, path, as_of=dt.date(2020, 1, 1), today=dt.date(2026, 3, 1)
    )

    assert prepared.as_of == dt.date(2020, 1, 1)
    assert _reasons(prepared, "ingest.reason.after_as_of") == [
        (3, "最近购买日期", "2024-05-30", "flagged", "2020-01-01")
    ]
    # After today too: reported once, as a future date.
    assert [row[0] for row in _reasons(prepared, "ingest.reason.future_date")] == [4]
    assert _column(duckdb_con, "client_id") == ["001", "002", "003", "004"]
    assert _column(duckdb_con, "recency_days") == [31, 0, 0, 214]
    zh = describe_issues(prepared.issues, "zh")["原因"].tolist()
    en = describe_issues(prepared.issues, "en")["Reason"].tolist()
    assert (
        "第 3 行「最近购买日期」的日期 2024-05-30 晚于统计基准日 2020-01-01，"
        "距基准日的天数按 0 计，会与其他这样的客户并列。请核对统计基准日或这个日期。"
    ) in zh
    assert (
        "Row 3, column '最近购买日期': the date 2024-05-30 is after the as-of date "
        "2020-01-01, so the client's days since it count as 0, tied with every "
        "such client. Check the as-of date or the value."
    ) in en


def test_dates_are_not_checked_against_an_as_of_taken_from_the_data(
    duckdb_con, tmp_path
):
    path = _text_csv(tmp_path, AS_OF_TEXT)

    prepared = _load(duckdb_con, path, today=dt.date(2026, 3, 1))

    assert prepared.as_of == dt.date(2024, 5, 30)
    assert _reasons(prepared, "ingest.reason.after_as_of") == []
    assert [row[0] for row in _reasons(prepared, "ingest.reason.future_date")] == [4]


def test_transaction_dates_after_an_explicit_as_of_are_flagged(duckdb_con, tmp_path):
    path = _text_csv(
        tmp_path,
        "客户编号,交易日期,金额\n"
        "001,2019-10-10,100\n001,2020-01-20,50\n002,2021-05-05,70\n002,2019-01-05,10\n",
    )

    prepared = _load(
        duckdb_con,
        path,
        shape="transactions",
        as_of=dt.date(2020, 1, 1),
        today=dt.date(2026, 3, 1),
    )

    assert [row[:2] for row in _reasons(prepared, "ingest.reason.after_as_of")] == [
        (3, "交易日期"),
        (4, "交易日期"),
    ]
    assert _column(duckdb_con, "recency_days") == [0, 0]


def _counted(prepared, key):
    """Count lines of ``key``: row, column, status and how many more."""
    return [row[:2] + row[3:] for row in _reasons(prepared, key)]


def test_many_late_dates_are_listed_to_a_thousand_then_counted_exactly(
    duckdb_con, tmp_path
):
    # Rows 2..4001: every fourth date is after today (1,000 of them, all
    # listed), the other 3,000 only after the as-of date.
    future = [i % 4 == 3 for i in range(4000)]
    lines = ["客户编号,最近购买日期"] + [
        f"C{i:04d},{'2030-01-01' if late else '2024-05-30'}"
        for i, late in enumerate(future)
    ]
    path = _text_csv(tmp_path, "\n".join(lines) + "\n")
    after_as_of_rows = [i + 2 for i, late in enumerate(future) if not late]

    prepared = _load(
        duckdb_con, path, as_of=dt.date(2020, 1, 1), today=dt.date(2026, 3, 1)
    )

    listed = _reasons(prepared, "ingest.reason.after_as_of")
    assert [row[0] for row in listed] == after_as_of_rows[:1000]
    assert _counted(prepared, "ingest.reason.after_as_of_more") == [
        (after_as_of_rows[1000], "最近购买日期", "flagged", "2000")
    ]
    assert len(_reasons(prepared, "ingest.reason.future_date")) == 1000
    assert _reasons(prepared, "ingest.reason.future_date_more") == []
    # Every row is still loaded and counted 0 days, listed or not.
    assert prepared.rows_loaded == 4000
    assert set(_column(duckdb_con, "recency_days")) == {0}
    more = prepared.issues[
        prepared.issues["reason_key"] == "ingest.reason.after_as_of_more"
    ]
    assert describe_issues(more, "en").iloc[0, -1] == (
        f"Column '最近购买日期': 2000 more dates from row {after_as_of_rows[1000]} "
        "on are after the as-of date as well and are not listed one by one; their "
        "clients' days since them count as 0 too. Check the as-of date or the values."
    )
    assert describe_issues(more, "zh").iloc[0, -1] == (
        f"「最近购买日期」从第 {after_as_of_rows[1000]} 行起还有 2000 个日期同样晚于"
        "统计基准日，未逐一列出；这些客户距基准日的天数同样按 0 计。"
        "请核对统计基准日或这些日期。"
    )


def test_many_unreadable_values_are_listed_to_a_thousand_then_counted(
    duckdb_con, tmp_path
):
    lines = ["客户编号,最近购买日期,购买次数"] + [
        f"C{i:04d},{'bad' if i < 1500 else '2025-01-01'},{'x' if i < 1001 else 3}"
        for i in range(2000)
    ]
    path = _text_csv(tmp_path, "\n".join(lines) + "\n")

    prepared = _load(duckdb_con, path, today=dt.date(2026, 3, 1))

    assert len(_reasons(prepared, "ingest.reason.bad_date")) == 1000
    assert len(_reasons(prepared, "ingest.reason.bad_number")) == 1000
    assert _counted(prepared, "ingest.reason.bad_date_more") == [
        (1002, "最近购买日期", "flagged", "500")
    ]
    assert _counted(prepared, "ingest.reason.bad_number_more") == [
        (1002, "购买次数", "flagged", "1")
    ]
    assert prepared.rows_loaded == 2000
    more = prepared.issues[
        prepared.issues["reason_key"] == "ingest.reason.bad_date_more"
    ]
    assert describe_issues(more, "zh").iloc[0, -1].startswith(
        "「最近购买日期」从第 1002 行起还有 500 个值同样不是可识别的日期"
    )


def test_many_future_dates_are_counted_per_column(duckdb_con, tmp_path):
    lines = ["客户编号,最近购买日期,最近联系日期"] + [
        f"C{i:04d},2030-01-01,{'2031-02-02' if i < 1002 else '2025-01-01'}"
        for i in range(1500)
    ]
    path = _text_csv(tmp_path, "\n".join(lines) + "\n")

    prepared = _load(duckdb_con, path, today=dt.date(2026, 3, 1))

    assert len(_reasons(prepared, "ingest.reason.future_date")) == 2000
    assert _counted(prepared, "ingest.reason.future_date_more") == [
        (1002, "最近购买日期", "flagged", "500"),
        (1002, "最近联系日期", "flagged", "2"),
    ]
    more = prepared.issues[
        prepared.issues["reason_key"] == "ingest.reason.future_date_more"
    ]
    assert describe_issues(more.head(1), "en").iloc[0, -1] == (
        "Column '最近购买日期': 500 more dates from row 1002 on are after today as "
        "well and are not listed one by one; their clients' days since them count "
        "as 0 too. Check them and upload again."
    )


def test_dates_after_today_up_to_a_later_as_of_count_and_are_not_flagged(
    duckdb_con, tmp_path
):
    path = _text_csv(
        tmp_path,
        "客户编号,最近购买日期\n001,2026-01-10\n002,2026-04-15\n003,2026-08-01\n",
    )

    prepared = _load(
        duckdb_con, path, as_of=dt.date(2026, 6, 30), today=dt.date(2026, 3, 1)
    )

    # 2026-04-15 is after today but before the as-of date chosen: 76 days,
    # like any other date. Only the date after the as-of date is flagged.
    assert _column(duckdb_con, "recency_days") == [171, 76, 0]
    assert _reasons(prepared, "ingest.reason.future_date") == []
    assert _reasons(prepared, "ingest.reason.after_as_of") == [
        (4, "最近购买日期", "2026-08-01", "flagged", "2026-06-30")
    ]
    assert prepared.issues["reason_key"].tolist() == ["ingest.reason.after_as_of"]


def test_undecided_day_month_column_is_flagged_once(duckdb_con, tmp_path):
    path = _text_csv(
        tmp_path,
        "客户编号,最近购买日期\n001,03/04/2025\n002,07/07/2025\n003,05/06/2025\n",
    )
    prepared = _load(duckdb_con, path)

    assert _column(duckdb_con, "last_purchase_date")[0] == dt.date(2025, 4, 3)
    assert _reasons(prepared, "ingest.reason.day_first_guess") == [
        (2, "最近购买日期", "03/04/2025", "flagged", "2")
    ]
    reason = describe_issues(prepared.issues, "en")["Reason"].tolist()
    assert any("day/month/year" in text and "2025-03-04" in text for text in reason)


def test_decided_day_month_column_is_not_flagged(duckdb_con, tmp_path):
    path = _text_csv(tmp_path, "客户编号,最近购买日期\n001,03/04/2025\n002,13/06/2025\n")
    prepared = _load(duckdb_con, path)

    assert _reasons(prepared, "ingest.reason.day_first_guess") == []
    assert _column(duckdb_con, "last_purchase_date")[0] == dt.date(2025, 4, 3)


def test_coerced_amount_shows_the_columns_unit(duckdb_con, tmp_path):
    path = _text_csv(tmp_path, "客户编号,累计金额（万元）\n001,120万\n002,3\n")
    prepared = _load(duckdb_con, path)

    assert _column(duckdb_con, "amount") == [1_200_000.0, 30_000.0]
    coerced = prepared.issues[prepared.issues["status"] == "coerced"]
    assert coerced["detail"].tolist() == ["120 万元 (1,200,000 元)"]
    reason = describe_issues(prepared.issues, "zh")["原因"].tolist()
    assert reason == ["第 2 行「累计金额（万元）」的「120万」按 120 万元 (1,200,000 元) 读取。"]


def test_impossible_values_are_flagged_and_still_loaded(duckdb_con, tmp_path):
    path = _text_csv(
        tmp_path,
        "客户编号,购买次数,逾期次数,负债率,满意度,资产（万元）\n"
        "001,-3,0,0.4,4,10\n"
        "002,2,-1,5,9,20\n"
        "003,1,0,50%,12,-2\n"
        "004,1,0,,,\n",
    )
    prepared = _load(duckdb_con, path)

    flagged = _reasons(prepared, "ingest.reason.out_of_range")
    assert [row[:4] for row in flagged] == [
        (2, "购买次数", "-3", "flagged"),
        (3, "逾期次数", "-1", "flagged"),
        (3, "负债率", "5", "flagged"),
        (4, "满意度", "12", "flagged"),
        (4, "资产（万元）", "-2", "flagged"),
    ]
    assert [row[4] for row in flagged] == ["≥ 0", "≥ 0", "0–1", "0–10", "≥ 0"]
    # Satisfaction 9 may be right on a 1-10 scale: not flagged.
    assert _column(duckdb_con, "purchase_count") == [-3.0, 2.0, 1.0, 1.0]
    assert _column(duckdb_con, "debt_ratio") == [0.4, 5.0, 0.5, None]
    assert _column(duckdb_con, "assets") == [100_000.0, 200_000.0, -20_000.0, None]


# --- the default as-of date and the transaction table's row accounting --------

INTERACTION_TEXT = (
    "客户编号,最近购买日期,最近互动日期\n"
    "001,2025-05-15,2026-01-01\n"
    "002,2025-03-01,2026-10-01\n"
    "003,2025-01-20,2026-06-15\n"
)


@pytest.mark.parametrize(
    "extra_row",
    [
        "",
        # A repeated id: the as-of date is then read from the kept rows.
        "003,2024-01-01,2026-02-02\n",
    ],
)
def test_as_of_defaults_to_the_latest_purchase_or_interaction_date(
    duckdb_con, tmp_path, extra_row
):
    path = _text_csv(tmp_path, INTERACTION_TEXT + extra_row)

    prepared = _load(duckdb_con, path, today=dt.date(2026, 12, 4))

    assert prepared.as_of == dt.date(2026, 10, 1)
    assert _column(duckdb_con, "interaction_recency_days") == [273, 0, 108]
    assert _column(duckdb_con, "recency_days") == [504, 579, 619]
    assert _reasons(prepared, "ingest.reason.after_as_of") == []


def test_as_of_defaults_to_the_latest_date_of_clients_and_transactions(
    duckdb_con, tmp_path
):
    clients = _csv(
        tmp_path,
        "clients.csv",
        "客户编号,最近互动日期\nA1,2024-02-10\nA2,2024-06-30\n",
    )
    transactions = _csv(tmp_path, "tx.csv", fx.ORPHAN_TRANSACTIONS_TEXT)

    prepared = load_clients(
        duckdb_con,
        clients,
        detect_mapping(clients),
        transactions=transactions,
        transaction_mapping=detect_mapping(transactions),
        today=dt.date(2026, 12, 4),
    )

    assert prepared.as_of == dt.date(2024, 6, 30)
    assert _column(duckdb_con, "recency_days") == [120, 150]
    assert _column(duckdb_con, "interaction_recency_days") == [141, 0]


def test_future_interaction_date_is_flagged_and_does_not_move_as_of(
    duckdb_con, tmp_path
):
    path = _text_csv(
        tmp_path,
        "客户编号,最近购买日期,最近互动日期\n"
        "001,2026-01-10,2026-02-01\n002,2026-01-05,2031-01-01\n",
    )

    prepared = _load(duckdb_con, path, today=dt.date(2026, 3, 1))

    assert prepared.as_of == dt.date(2026, 2, 1)
    assert _reasons(prepared, "ingest.reason.future_date") == [
        (3, "最近互动日期", "2031-01-01", "flagged", "2026-03-01")
    ]
    assert _column(duckdb_con, "interaction_recency_days") == [0, 0]


def test_interaction_dates_after_an_explicit_as_of_are_flagged(duckdb_con, tmp_path):
    path = _text_csv(tmp_path, INTERACTION_TEXT)

    prepared = _load(
        duckdb_con, path, as_of=dt.date(2026, 3, 1), today=dt.date(2026, 12, 4)
    )

    assert [row[:3] for row in _reasons(prepared, "ingest.reason.after_as_of")] == [
        (3, "最近互动日期", "2026-10-01"),
        (4, "最近互动日期", "2026-06-15"),
    ]


def test_transaction_rows_excluded_and_rejected_are_counted(
    duckdb_con, tmp_path, caplog
):
    clients = _csv(tmp_path, "clients.csv", fx.CLIENT_TABLE_TEXT)
    transactions = _csv(tmp_path, "tx.csv", fx.ORPHAN_TRANSACTIONS_TEXT)

    with caplog.at_level("INFO", logger="tiering.prepare"):
        prepared = load_clients(
            duckdb_con,
            clients,
            detect_mapping(clients),
            transactions=transactions,
            transaction_mapping=detect_mapping(transactions),
        )

    _assert_rows_add_up(prepared)
    assert (
        prepared.transaction_rows_in_file,
        prepared.transaction_rows_loaded,
        prepared.transaction_rows_excluded,
        prepared.transaction_rows_rejected,
    ) == (7, 3, 3, 1)
    # The issues list every such row; a CLI user meets no raw log line.
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_client_table_alone_counts_no_transaction_rows(duckdb_con, tmp_path):
    prepared = _load(duckdb_con, _text_csv(tmp_path, INTERACTION_TEXT))

    assert (
        prepared.transaction_rows_in_file,
        prepared.transaction_rows_excluded,
    ) == (0, 0)


# --- issues of two tables say which table each row number counts in -----------

CLIENTS_WITH_TEXT_AMOUNT = "客户编号,累计金额\nA1,100\nA2,200\nA3,300\nA4,abc\n"


def _load_both(con, folder):
    clients = _csv(folder, "clients.csv", CLIENTS_WITH_TEXT_AMOUNT)
    transactions = _csv(folder, "tx.csv", fx.ORPHAN_TRANSACTIONS_TEXT)
    return load_clients(
        con,
        clients,
        detect_mapping(clients),
        transactions=transactions,
        transaction_mapping=detect_mapping(transactions),
    )


@pytest.mark.parametrize(
    "lang, header, clients, transactions",
    [
        ("zh", ["表", "行号", "列", "值", "处理", "原因"], "客户表", "交易表"),
        (
            "en",
            ["Table", "Row", "Column", "Value", "Status", "Reason"],
            "Client table",
            "Transaction table",
        ),
    ],
)
def test_issues_of_two_tables_name_the_table_of_each_row(
    duckdb_con, tmp_path, lang, header, clients, transactions
):
    prepared = _load_both(duckdb_con, tmp_path)

    described = describe_issues(prepared.issues, lang)

    assert list(described.columns) == header
    rows = list(zip(described.iloc[:, 0], described.iloc[:, 1]))
    assert (clients, 5) in rows
    assert (transactions, 5) in rows
    assert [table for table, _ in rows] == [
        clients if file == "clients" else transactions
        for file in prepared.issues["file"]
    ]


def test_issues_of_a_transaction_table_alone_name_no_table(duckdb_con, tmp_path):
    transactions = _csv(tmp_path, "tx.csv", fx.ORPHAN_TRANSACTIONS_TEXT)
    prepared = load_clients(
        duckdb_con, None, None, transactions, detect_mapping(transactions)
    )

    described = describe_issues(prepared.issues, "zh")

    assert list(described.columns) == ["行号", "列", "值", "处理", "原因"]


def test_issues_workbook_of_two_tables_has_the_table_column(duckdb_con, tmp_path):
    from openpyxl import load_workbook

    from tiering.export import write_issues_workbook

    prepared = _load_both(duckdb_con, tmp_path)
    target = tmp_path / "issues.xlsx"

    write_issues_workbook(target, prepared, "zh")

    sheet = load_workbook(target).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:2] == ["表", "行号"]
    assert ["客户表", 5] in [row[:2] for row in rows[1:]]
    assert ["交易表", 5] in [row[:2] for row in rows[1:]]
