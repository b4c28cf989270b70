"""The command line: `python -m tiering score …` on the sample and real data."""

import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tiering import cli

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _run(*args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "tiering", "score", *map(str, args)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _read_csv(path):
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _printed_counts(stdout, separator):
    """The tier lines: the ones before the row accounting."""
    counts = {}
    for line in stdout.splitlines():
        tier, _, clients = line.partition(separator)
        if not clients.removesuffix(" 人").isdigit():
            break
        counts[tier] = int(clients.removesuffix(" 人"))
    return counts


def test_score_sample_writes_workbook_and_prints_counts_per_tier(
    sample_clients_path, tmp_path
):
    out = tmp_path / "tiers.xlsx"

    run = _run(sample_clients_path, "--out", out)

    assert run.returncode == 0, run.stderr
    counts = _printed_counts(run.stdout, "：")
    assert list(counts) == ["钻石", "黄金", "白银", "普通"]
    assert run.stdout.splitlines()[-1].startswith(f"已分级 {sum(counts.values())} 人")
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames[:2] == ["汇总", "全部客户"]
    for tier, clients in counts.items():
        assert book[tier].max_row == clients + 1


def test_score_with_lang_en_names_added_columns_in_english(
    sample_clients_path, tmp_path
):
    out = tmp_path / "tiers.csv"

    run = _run(sample_clients_path, "--lang", "en", "--out", out)

    assert run.returncode == 0, run.stderr
    columns = list(_read_csv(out).columns)
    for name in ("tier", "score", "value_score", "credit_score"):
        assert name in columns
    # The id shows once, as the file's own column, not a second client_id.
    assert "client_id" not in columns
    assert (
        columns.index("客户编号")
        < columns.index("value_score")
        < columns.index("tier")
    )
    assert any(line.startswith("Scored ") for line in run.stdout.splitlines())


def test_score_transactions_gives_one_row_per_client(
    sample_transactions_path, tmp_path
):
    out = tmp_path / "tiers.csv"

    run = _run(sample_transactions_path, "--lang", "en", "--out", out)

    assert run.returncode == 0, run.stderr
    tiers = _read_csv(out)
    # The id shows once, as the file's own column.
    assert tiers["客户编号"].is_unique and "client_id" not in tiers.columns
    assert "frequency_points" in tiers.columns
    assert len(tiers) == sum(_printed_counts(run.stdout, ": ").values())


@pytest.mark.parametrize(
    "lang, headers",
    [
        ("zh", ["客户编号", "最近购买日期", "购买次数", "累计金额", "渠道"]),
        (
            "en",
            [
                "客户编号",
                "Last purchase date",
                "Purchase count",
                "Total amount",
                "渠道",
            ],
        ),
        ("zh-xlsx", ["客户编号", "最近购买日期", "购买次数", "累计金额", "渠道"]),
    ],
)
def test_score_transactions_names_the_rolled_up_columns_and_the_id_once(
    sample_transactions_path, tmp_path, lang, headers
):
    suffix = "xlsx" if lang.endswith("xlsx") else "csv"
    out = tmp_path / f"tiers.{suffix}"

    run = _run(sample_transactions_path, "--lang", lang[:2], "--out", out)

    assert run.returncode == 0, run.stderr
    if suffix == "csv":
        columns = list(_read_csv(out).columns)
    else:
        book = openpyxl.load_workbook(out, read_only=True)
        columns = [cell.value for cell in next(book.worksheets[1].iter_rows())]
    assert columns[:5] == headers
    assert not [name for name in columns if name.startswith("客户编号_")]
    assert not {"last_purchase_date", "purchase_count", "amount"} & set(columns)


def test_score_clients_with_transactions_shows_the_values_scored(tmp_path):
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "客户编号,最近购买日期,购买次数,累计金额\n"
        "K1,2024-05-01,9,9000000\n"
        "K2,,,\n"
        "K3,2019-01-01,1,100\n",
        encoding="utf-8",
    )
    transactions = tmp_path / "tx.csv"
    transactions.write_text(
        "客户编号,交易日期,交易金额\n"
        "K2,2024-04-01,5000000\nK2,2024-06-01,4000000\nK2,2024-06-20,3000000\n"
        "K1,2020-01-01,10\n",
        encoding="utf-8",
    )
    out = tmp_path / "tiers.csv"

    run = _run(clients, "--transactions", transactions, "--out", out)

    assert run.returncode == 0, run.stderr
    tiers = _read_csv(out).set_index("客户编号")
    scored = [
        "最近购买日期（评分所用）",
        "购买次数（评分所用）",
        "累计金额（评分所用）",
    ]
    # K2's own cells are blank: what it was scored with came from its purchases.
    assert list(tiers.loc["K2", ["最近购买日期", "购买次数", "累计金额"]]) == [""] * 3
    assert list(tiers.loc["K2", scored]) == ["2024-06-20", "3", "12000000"]
    # K1 has its own values, and they win over its transactions.
    assert list(tiers.loc["K1", scored]) == ["2024-05-01", "9", "9000000"]
    # The top tier, which its own blank cells could never explain.
    assert tiers.loc["K2", "分级"] == next(iter(_printed_counts(run.stdout, "：")))


def test_score_clients_joined_with_transactions(
    sample_clients_path, sample_transactions_path, tmp_path
):
    out = tmp_path / "tiers.csv"

    run = _run(
        sample_clients_path,
        "--transactions",
        sample_transactions_path,
        "--lang",
        "en",
        "--out",
        out,
    )

    assert run.returncode == 0, run.stderr
    # The file's own id column, shown once; one row per client.
    assert _read_csv(out)["客户编号"].is_unique
    assert "Transaction table: used " in run.stdout, run.stdout


def test_transactions_naming_no_client_are_counted_as_excluded(
    sample_clients_path, tmp_path
):
    transactions = tmp_path / "交易.csv"
    transactions.write_text(
        "客户编号,交易日期,金额\nC108213,2026-01-05,10\nNOPE1,2026-01-06,20\n"
        "NOPE2,2026-01-07,30\n",
        encoding="utf-8",
    )

    run = _run(
        sample_clients_path, "--transactions", transactions, "--out",
        tmp_path / "tiers.csv",
    )

    assert run.returncode == 0, run.stderr
    assert "交易表：使用 1 行，排除 2 行，无法使用 0 行。" in run.stdout, run.stdout
    assert "WARNING" not in run.stderr, run.stderr


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 8,
        b"",
        b"this is not a workbook at all",
    ],
    ids=["binary", "empty", "one-line-text"],
)
def test_unreadable_file_exits_2_with_message_and_no_traceback(tmp_path, content):
    bad = tmp_path / "客户.xlsx"
    bad.write_bytes(content)

    run = _run(bad, "--out", tmp_path / "out.xlsx")

    assert run.returncode == 2
    assert "客户.xlsx" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_missing_file_exits_2_with_message_in_english(tmp_path):
    run = _run(tmp_path / "nowhere.csv", "--lang", "en", "--out", tmp_path / "o.csv")

    assert run.returncode == 2
    assert run.stderr.strip() == (
        "The file 'nowhere.csv' was not found. Check the path and name and try again."
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--as-of", "2024-13-01"], "统计基准日「2024-13-01」不是有效日期"),
        (["--as-of", "1800-01-01"], "统计基准日「1800-01-01」超出范围"),
        (["--as-of", "9999-12-31"], "统计基准日「9999-12-31」超出范围"),
        (["--out", "tiers.pdf"], "只支持 .xlsx 或 .csv 输出"),
    ],
)
def test_bad_arguments_exit_2_with_message(sample_clients_path, args, expected):
    argv = ["score", str(sample_clients_path), "--out", "x.xlsx", *args]
    stderr = io.StringIO()

    code = _main_capturing(argv, stderr)

    assert code == 2
    assert expected in stderr.getvalue()


def test_unexpected_failure_exits_1_with_generic_sentence(monkeypatch, tmp_path):
    def explode(args):
        raise RuntimeError("client 00123 broke it")

    monkeypatch.setattr(cli, "run_score", explode)
    stderr = io.StringIO()

    code = _main_capturing(["score", "x.csv", "--out", str(tmp_path / "o.csv")], stderr)

    assert code == 1
    assert stderr.getvalue().startswith("处理时出现意外错误")


def _main_capturing(argv, stderr):
    real_stderr = sys.stderr
    sys.stderr = stderr
    try:
        return cli.main(argv)
    finally:
        sys.stderr = real_stderr


def test_file_without_id_column_exits_2_until_row_ids_chosen(tmp_path):
    table = tmp_path / "clients.csv"
    table.write_text("amount,grade\n100,A\n200,B\n300,C\n", encoding="utf-8")

    refused = _run(table, "--out", tmp_path / "a.csv")
    accepted = _run(table, "--row-ids", "--lang", "en", "--out", tmp_path / "b.csv")

    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert len(_read_csv(tmp_path / "b.csv")) == 3


# --- real data (public datasets beside the repository) ------------------------


def test_cdnow_transactions_tier_every_customer_once(real_data_dir, tmp_path):
    out = tmp_path / "cdnow.csv"

    run = _run(real_data_dir / "cdnow_master.txt", "--lang", "en", "--out", out)

    assert run.returncode == 0, run.stderr
    tiers = _read_csv(out)
    counts = _printed_counts(run.stdout, ": ")
    assert len(tiers) == 23_570 and tiers["customer_id"].is_unique
    assert sum(counts.values()) == 23_570
    assert tiers["tier"].value_counts().to_dict() == {
        tier: clients for tier, clients in counts.items() if clients
    }
    assert tiers["customer_id"].str.len().eq(5).all()


def test_cdnow_best_customer_lands_in_top_tier(real_data_dir, tmp_path):
    source = real_data_dir / "cdnow_master.txt"
    out = tmp_path / "cdnow.csv"
    purchases = pd.read_csv(source, sep=r"\s+", dtype={"customer_id": str})
    per_client = purchases.groupby("customer_id").agg(
        amount=("dollar_value", "sum"), frequency=("date", "size"), last=("date", "max")
    )
    best = per_client.rank(pct=True).sum(axis=1).idxmax()

    run = _run(source, "--lang", "en", "--out", out)

    assert run.returncode == 0, run.stderr
    tiers = _read_csv(out).set_index("customer_id")
    top_tier = next(iter(_printed_counts(run.stdout, ": ")))
    assert per_client.loc[best, "last"] == per_client["last"].max()
    assert tiers.loc[best, "tier"] == top_tier


def test_bank_marketing_with_row_ids_tiers_each_client_once(real_data_dir, tmp_path):
    out = tmp_path / "bank.xlsx"

    run = _run(
        real_data_dir / "bank_marketing_uci_4521.csv",
        "--row-ids",
        "--lang",
        "en",
        "--out",
        out,
    )

    assert run.returncode == 0, run.stderr
    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book["All clients"].iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    ids = [row[header.index("client_id")] for row in data]
    assert len(ids) == len(set(ids)) == 4_521
    assert all(isinstance(value, str) for value in ids)
    assert all(row[header.index("tier")] for row in data)
    counts = _printed_counts(run.stdout, ": ")
    assert sum(counts.values()) == 4_521


def test_row_ids_on_a_file_with_no_known_column_exits_2_with_a_sentence(tmp_path):
    table = tmp_path / "nothing.csv"
    table.write_text("a,b,c\n1,2,3\n4,5,6\n", encoding="utf-8")

    done = _run(table, "--row-ids", "--lang", "en", "--out", tmp_path / "o.csv")

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "unexpected" not in done.stderr.lower()


def test_an_output_folder_that_does_not_exist_is_refused_before_reading(tmp_path):
    # The input is not even readable: the output is checked first.
    table = tmp_path / "clients.csv"
    table.write_text("%PDF-1.4\n", encoding="utf-8")

    done = _run(table, "--lang", "en", "--out", tmp_path / "missing" / "o.xlsx")

    assert done.returncode == 2, done.stderr
    assert "Cannot write 'o.xlsx'" in done.stderr


def test_metrics_without_a_column_are_named_in_the_summary(tmp_path):
    table = tmp_path / "clients.csv"
    table.write_text(
        "客户编号,信用等级\n001,A\n002,B\n003,C\n", encoding="utf-8"
    )

    done = _run(table, "--lang", "en", "--out", tmp_path / "o.csv")

    assert done.returncode == 0, done.stderr
    assert "metrics have no column in the data and were not scored" in done.stderr
    assert "(Recency (days), Frequency, Monetary, Assets, Overdue count" in done.stderr


def test_metrics_without_a_column_are_named_by_their_chinese_labels(tmp_path):
    table = tmp_path / "clients.csv"
    table.write_text("客户编号,信用等级\n001,A\n002,B\n003,C\n", encoding="utf-8")

    done = _run(table, "--out", tmp_path / "o.csv")

    assert done.returncode == 0, done.stderr
    assert "（最近购买（天）、购买次数、累计金额、金融资产、逾期次数、" in done.stderr
    assert "recency" not in done.stderr


def test_semicolon_file_with_decimal_commas_is_scored(tmp_path):
    # Its data rows end with the delimiter, its header does not.
    table = tmp_path / "crm.csv"
    table.write_text(
        "客户编号;累计金额;购买次数\n00001;100,5;1;\n00002;2,5;3;\n00003;80,0;2;\n",
        encoding="utf-8-sig",
    )

    done = _run(table, "--lang", "en", "--out", tmp_path / "o.csv")

    assert done.returncode == 0, done.stderr
    tiered = _read_csv(tmp_path / "o.csv")
    assert sorted(tiered["客户编号"]) == ["00001", "00002", "00003"]


def test_a_mapping_file_that_is_no_mapping_gives_one_sentence_and_no_log(tmp_path):
    out = tmp_path / "o.xlsx"

    clients = PROJECT_DIR / "sample_data" / "clients.xlsx"

    done = _run(clients, "--mapping", "README.md", "--out", out)

    assert done.returncode == 2
    assert done.stderr == "列对应文件无法读取或格式不对。请重新设置列对应并保存。\n"


@pytest.mark.parametrize("option", [None, "--transactions", "--mapping", "--standard"])
def test_a_folder_given_for_a_file_is_named_as_a_folder(tmp_path, option):
    folder = tmp_path / "exports"
    folder.mkdir()
    clients = PROJECT_DIR / "sample_data" / "clients.xlsx"
    args = [folder] if option is None else [clients, option, folder]

    done = _run(*args, "--out", tmp_path / "o.xlsx")

    assert done.returncode == 2
    assert done.stderr == (
        "「exports」是文件夹，不是文件。请给出其中某个文件的路径后重试。\n"
    )


def test_warnings_of_a_run_that_ends_well_are_still_shown(tmp_path):
    table = tmp_path / "clients.csv"
    table.write_text("客户编号,累计金额\n001,10\n002,20\n", encoding="utf-8")
    script = (
        "import logging, sys\n"
        "from tiering import cli\n"
        "real = cli.run_score\n"
        "def run(args):\n"
        "    logging.getLogger('tiering.test').warning('a setting was ignored')\n"
        "    return real(args)\n"
        "cli.run_score = run\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    argv = ["score", str(table), "--out", str(tmp_path / "o.csv")]

    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "WARNING tiering.test: a setting was ignored" in done.stderr


def test_data_issues_beside_a_csv_go_to_a_workbook_and_are_announced(tmp_path):
    import openpyxl

    source = tmp_path / "eu.csv"
    source.write_text(
        "客户编号;累计金额;购买次数\n00001;1234,56;1\n00002;99,5;2\n00003;100;3\n",
        encoding="utf-8",
    )
    out = tmp_path / "tiers.csv"

    run = _run(source, "--out", out)

    assert run.returncode == 0, run.stderr
    issues = tmp_path / "tiers_数据问题.xlsx"
    assert f"数据问题清单共 2 行，已写入 {issues}" in run.stdout, run.stdout
    sheet = openpyxl.load_workbook(issues).worksheets[0]
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert any("1234,56" in text and "不是数字" in text for text in texts), texts


def test_data_issues_in_a_workbook_are_announced(tmp_path):
    source = tmp_path / "eu.csv"
    source.write_text("客户编号,购买次数\n00001,x\n00002,2\n", encoding="utf-8")
    out = tmp_path / "tiers.xlsx"

    run = _run(source, "--lang", "en", "--out", out)

    assert run.returncode == 0, run.stderr
    assert (
        "Data issue lines: 1, in the 'Data issues' sheet of the output."
    ) in run.stdout, run.stdout
    assert not (tmp_path / "tiers_issues.xlsx").exists()


def test_a_clean_csv_run_replaces_the_issues_of_an_earlier_run(tmp_path):
    import openpyxl

    out = tmp_path / "tiers.csv"
    messy = tmp_path / "messy.csv"
    messy.write_text("客户编号,购买次数\n00001,x\n00002,2\n", encoding="utf-8")
    clean = tmp_path / "clean.csv"
    clean.write_text("客户编号,购买次数\n00001,1\n00002,2\n", encoding="utf-8")
    issues = tmp_path / "tiers_数据问题.xlsx"
    assert _run(messy, "--out", out).returncode == 0

    run = _run(clean, "--out", out)

    assert run.returncode == 0, run.stderr
    assert f"没有数据问题，已写入 {issues}" in run.stdout, run.stdout
    sheet = openpyxl.load_workbook(issues).worksheets[0]
    assert sheet["A2"].value.startswith("所有数据行均已载入")
