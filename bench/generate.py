"""Generate client tables for the benchmark: 10k, 100k and 1M rows.

Each table has 21 columns of the kinds real CRM exports carry: text ids with
leading zeros, Chinese names, phones and ID-card numbers, owners and branches,
dates, counts, amounts, categories and some blank cells. The headers are the
Chinese names the default standard's fields are detected by, so the bundled
standard scores every metric.

Written as ``clients_<size>.xlsx`` (xlsxwriter in constant-memory mode, dates
as real date cells) and ``clients_<size>.csv`` (UTF-8) into the folder given
on the command line (default ``bench/data/``). A file that already exists is
kept: the 1M workbook takes minutes to write, so it is made once and reused.

    .venv/bin/python bench/generate.py [--out bench/data] [--sizes 10k,100k,1m]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import xlsxwriter

SEED = 20260505
DEFAULT_OUT = Path(__file__).resolve().parent / "data"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
AS_OF = dt.date(2026, 6, 30)
EXCEL_EPOCH = dt.date(1899, 12, 30)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰凤红建国志文")
OWNERS = [f"顾问{i:03d}" for i in range(1, 121)]
BRANCHES = ["浦东支行", "徐汇支行", "静安支行", "海淀支行", "朝阳支行", "天河支行",
            "南山支行", "福田支行", "武侯支行", "江北支行", "鼓楼支行", "西湖支行"]
GRADES = ["A", "B", "C", "D"]
MOTIVES = ["自住", "投资", "改善"]
CHANNELS = ["线上", "门店", "中介", "老带新"]

# (header, kind): kinds decide how a column is written to the workbook.
COLUMNS = [
    ("客户编号", "text"),
    ("客户姓名", "text"),
    ("手机号", "text"),
    ("身份证号", "text"),
    ("置业顾问", "text"),
    ("支行", "text"),
    ("最近购买日期", "date"),
    ("购买次数", "number"),
    ("累计金额", "number"),
    ("资产", "number"),
    ("年收入", "number"),
    ("负债率", "number"),
    ("信用等级", "text"),
    ("逾期次数", "number"),
    ("互动次数", "number"),
    ("最近互动日期", "date"),
    ("满意度", "number"),
    ("推荐人数", "number"),
    ("购房动机", "text"),
    ("渠道", "text"),
    ("决策周期", "number"),
]


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """Return ``values`` as objects with about ``share`` of them set to None."""
    out = values.astype(object)
    out[rng.random(len(values)) < share] = None
    return out


def _choice(rng: np.random.Generator, options: list[str], size: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), size)]


def make_columns(size: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """Return the table as ``{header: object array}``; dates as ``datetime64[D]``
    (NaT for blank), numbers as float (NaN for blank), text as str or None."""
    rng = np.random.default_rng(seed)
    ids = np.char.zfill(rng.permutation(size * 3)[:size].astype(str), 9)
    names = (
        _choice(rng, SURNAMES, size)
        + _choice(rng, GIVEN, size)
        + np.where(rng.random(size) < 0.6, _choice(rng, GIVEN, size), "")
    )
    phones = (
        "1" + _choice(rng, list("3456789"), size)
        + np.char.zfill(rng.integers(0, 10**9, size).astype(str), 9)
    )
    id_cards = (
        _choice(rng, ["310101", "110105", "440305", "510107"], size)
        + np.char.zfill(rng.integers(0, 10**12, size).astype(str), 12)
    )
    as_of = np.datetime64(AS_OF, "D")
    last_purchase = as_of - rng.integers(0, 1500, size).astype("timedelta64[D]")
    last_contact = as_of - rng.integers(0, 400, size).astype("timedelta64[D]")
    last_purchase[rng.random(size) < 0.02] = np.datetime64("NaT")
    last_contact[rng.random(size) < 0.05] = np.datetime64("NaT")

    def numbers(values: np.ndarray, share: float) -> np.ndarray:
        values = values.astype(np.float64)
        values[rng.random(size) < share] = np.nan
        return values

    return {
        "客户编号": ids.astype(object),
        "客户姓名": _blank(rng, names.astype(object), 0.01),
        "手机号": _blank(rng, phones.astype(object), 0.03),
        "身份证号": _blank(rng, id_cards.astype(object), 0.05),
        "置业顾问": _choice(rng, OWNERS, size),
        "支行": _choice(rng, BRANCHES, size),
        "最近购买日期": last_purchase,
        "购买次数": numbers(rng.geometric(0.45, size), 0.01),
        "累计金额": numbers(np.round(rng.lognormal(12.5, 1.2, size), 2), 0.02),
        "资产": numbers(np.round(rng.lognormal(13, 1.5, size), 2), 0.1),
        "年收入": numbers(np.round(rng.lognormal(12, 0.7, size), -2), 0.15),
        "负债率": numbers(np.round(rng.beta(2, 5, size), 3), 0.1),
        "信用等级": _blank(rng, _choice(rng, GRADES, size), 0.05),
        "逾期次数": numbers(rng.poisson(0.4, size), 0.05),
        "互动次数": numbers(rng.poisson(6, size), 0.02),
        "最近互动日期": last_contact,
        "满意度": numbers(rng.integers(1, 6, size), 0.2),
        "推荐人数": numbers(rng.poisson(0.7, size), 0.1),
        "购房动机": _blank(rng, _choice(rng, MOTIVES, size), 0.1),
        "渠道": _blank(rng, _choice(rng, CHANNELS, size), 0.05),
        "决策周期": numbers(rng.integers(3, 365, size), 0.2),
    }


def _text_column(values: np.ndarray, kind: str) -> pa.Array:
    """One column as CSV text: numbers without ``.0``, dates as ISO."""
    if kind == "date":
        return pa.array(values.astype("datetime64[D]"), type=pa.date32()).cast(
            pa.string()
        )
    if kind == "number":
        whole = np.isfinite(values) & (values == np.trunc(values))
        text = np.where(
            whole, np.nan_to_num(values).astype(np.int64).astype(str), values.astype(str)
        ).astype(object)
        text[~np.isfinite(values)] = None
        return pa.array(text, type=pa.string())
    return pa.array(values, type=pa.string())


def write_csv(columns: dict[str, np.ndarray], path: Path) -> None:
    """Write the table as UTF-8 CSV, blanks as empty fields."""
    kinds = dict(COLUMNS)
    table = pa.table(
        {name: _text_column(values, kinds[name]) for name, values in columns.items()}
    )
    pacsv.write_csv(
        table,
        str(path),
        write_options=pacsv.WriteOptions(quoting_style="needed"),
    )


def write_xlsx(columns: dict[str, np.ndarray], path: Path) -> None:
    """Write the table as .xlsx: text cells, number cells, date cells."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("客户")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, (name, _) in enumerate(COLUMNS):
        sheet.write_string(0, col, name)

    # Dates become Excel serial numbers with a date format, computed at once.
    epoch = np.datetime64(EXCEL_EPOCH, "D")
    prepared = []
    for name, kind in COLUMNS:
        values = columns[name]
        if kind == "date":
            serial = (values - epoch).astype(np.float64)
            serial[np.isnat(values)] = np.nan
            prepared.append((sheet.write_number, serial.tolist(), date_format))
        elif kind == "number":
            prepared.append((sheet.write_number, values.tolist(), None))
        else:
            prepared.append((sheet.write_string, values.tolist(), None))

    size = len(columns["客户编号"])
    for row in range(size):
        for col, (write, values, cell_format) in enumerate(prepared):
            value = values[row]
            if value is None or value != value:  # None or NaN: a blank cell
                continue
            write(row + 1, col, value, cell_format)
    workbook.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--force", action="store_true", help="rewrite existing files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    for label in args.sizes.split(","):
        size = SIZES[label.strip().lower()]
        csv_path = args.out / f"clients_{label}.csv"
        xlsx_path = args.out / f"clients_{label}.xlsx"
        if csv_path.exists() and xlsx_path.exists() and not args.force:
            print(f"{label}: kept {csv_path.name}, {xlsx_path.name}")
            continue
        started = time.perf_counter()
        columns = make_columns(size)
        write_csv(columns, csv_path)
        write_xlsx(columns, xlsx_path)
        seconds = time.perf_counter() - started
        print(f"{label}: wrote {size:,} rows in {seconds:.1f} s")


if __name__ == "__main__":
    main()
