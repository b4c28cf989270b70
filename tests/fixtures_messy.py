"""Write small, invented messy files of each shape real exports have.

Every function writes one file under the folder it is given and returns its
path; the tests hold the exact values expected back. Nothing here is real
client data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

ID_CARD = "110105199003071234"
LONG_NUMBER = 123456789012345678  # stored as a number: Excel keeps 15 digits


def title_totals_xlsx(folder: Path) -> Path:
    """A workbook like a CRM month-end export.

    A hidden first sheet, then 客户名单: a merged title on row 1, an 导出时间
    line on row 2, a blank row 3, the header on row 4, six clients on rows
    5-10 (ids with leading zeros as text, an 18-digit id card as text, an
    amount in 万元, date cells, a consultant merged down rows 5-6), a blank
    row 11, a 合计 row 12 and a 备注 row 13.
    """
    path = folder / "客户名单.xlsx"
    book = xlsxwriter.Workbook(path)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    text = book.add_format({"num_format": "@"})

    hidden = book.add_worksheet("旧数据")
    hidden.write_row(0, 0, ["客户编号", "金额"])
    hidden.write_row(1, 0, ["X1", 1])
    hidden.hide()

    sheet = book.add_worksheet("客户名单")
    sheet.activate()
    sheet.merge_range("A1:F1", "2024年3月客户名单")
    sheet.write("A2", "导出时间：2024-03-31 18:00")
    sheet.write_row(
        3,
        0,
        [
            "客户编号",
            "客户姓名",
            "身份证号",
            "成交金额（万元）",
            "最近成交日期",
            "置业顾问",
        ],
    )
    rows = [
        ("00123", "张一", ID_CARD, 120.5, dt.date(2024, 3, 5)),
        ("00124", "李二", "", 300, dt.date(2024, 1, 15)),
        ("00125", "王三", "", 0.75, dt.datetime(2023, 12, 31, 14, 30)),
        ("00126", "赵四", "", 45356, None),
        (LONG_NUMBER, "钱五", "", 10, dt.date(2024, 2, 1)),
        ("A-7", "孙六", "", "1,200", dt.date(2024, 2, 2)),
    ]
    for offset, (client_id, name, id_card, amount, date) in enumerate(rows):
        row = 4 + offset
        if isinstance(client_id, int):
            sheet.write_number(row, 0, client_id)
        else:
            sheet.write_string(row, 0, client_id, text)
        sheet.write_string(row, 1, name)
        if id_card:
            sheet.write_string(row, 2, id_card, text)
        sheet.write(row, 3, amount)
        if date is not None:
            sheet.write_datetime(row, 4, date, date_format)
    sheet.merge_range("F5:F6", "陈顾问")
    sheet.write_column(6, 5, ["周顾问", "周顾问", "吴顾问", "吴顾问"])
    sheet.write_row(11, 0, ["合计", "", "", 1676.25])
    sheet.write("A13", "备注：金额单位为万元")
    book.close()
    return path


def text_csv(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``name`` in ``encoding`` (no newline translation)."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


GBK_TEXT = (
    (
        "客户编号,客户姓名,累计金额,最近购买日期\r\n"
        '00001,张伟,"1,200.50",2024/3/5\r\n'
        "00002,王芳,3000,2024-03-06\r\n"
    )
    + "".join(
        f"{i:05d},客户{i},{i}00,2024-01-{(i % 28) + 1:02d}\r\n" for i in range(3, 400)
    )
    + ("00400,欧阳娜娜,100,2024-02-01\r\n")
)

GB18030_TAIL = "00401,吉𠮷,5,2024-02-02\r\n00402,王䶮,6,2024-02-03\r\n"

SEMICOLON_TEXT = (
    "client_id;name;amount;last_purchase_date\n"
    "007;Anna;1.234,00;2024-03-05\n"
    '008;"Berg; Ltd";99;2024-03-01\n'
)

WHITESPACE_TEXT = (
    " customer_id  date number_of_cds  dollar_value\r\n"
    " 00001 19970101  1   11.77\r\n"
    " 00002 19970112  1   12.00\r\n"
    " 00002 19970112  5   77.00\r\n"
    " 00003 19970102  2   20.76\r\n"
)

# (cell text, value in 元) for the amount column; None means missing.
AMOUNTS = [
    ("1,200", 1200.0),
    ("¥3,000.50", 3000.5),
    ("￥1,100万", 11_000_000.0),
    ("2.5亿", 250_000_000.0),
    ("(500)", -500.0),
    ("１２３", 123.0),
    ("RMB 88元", 88.0),
    ("-", None),
    ("—", None),
    ("暂无", None),
    ("N/A", None),
    ("#N/A", None),
    ("#DIV/0!", None),
    ("", None),
    ("12%", 0.12),
    ("abc", None),
]

# (cell text, date) for the date column; None means missing or unreadable.
DATES = [
    ("2024-03-05", dt.date(2024, 3, 5)),
    ("2024/3/5", dt.date(2024, 3, 5)),
    ("20240305", dt.date(2024, 3, 5)),
    ("2024年3月5日", dt.date(2024, 3, 5)),
    ("45356", dt.date(2024, 3, 5)),
    ("2024-03-05 23:30:00", dt.date(2024, 3, 5)),
    ("2024-03-05T20:00:00Z", dt.date(2024, 3, 6)),
    ("2024-03-05T09:00:00+08:00", dt.date(2024, 3, 5)),
    ("2024.3.5", dt.date(2024, 3, 5)),
    ("15-01-2024", dt.date(2024, 1, 15)),
    ("05-03-2024", dt.date(2024, 3, 5)),
    ("2024-02-30", None),
    ("下周", None),
    ("-", None),
]


def values_csv(folder: Path) -> Path:
    """One client per amount and per date case, ids C01…, UTF-8."""
    count = max(len(AMOUNTS), len(DATES))
    lines = ["客户编号,累计金额,最近购买日期"]
    for index in range(count):
        amount = AMOUNTS[index][0] if index < len(AMOUNTS) else "1"
        date = DATES[index][0] if index < len(DATES) else "2024-01-01"
        lines.append(f'C{index + 1:02d},"{amount}",{date}')
    return text_csv(folder, "values.csv", "\n".join(lines) + "\n")


DUPLICATES_TEXT = (
    "客户编号,最近购买日期,累计金额\n"
    "A1,2024-01-01,10\n"  # row 2
    "A2,2024-02-01,20\n"  # row 3
    "A1,2024-03-01,30\n"  # row 4: latest A1
    "A1,2023-12-01,40\n"  # row 5
    ",2024-01-01,50\n"  # row 6: no id
    "  ,2024-01-01,60\n"  # row 7: blank id
    "A3,,70\n"  # row 8
)


def fake_encrypted_workbook(folder: Path) -> Path:
    """An OLE2 container whose directory names an EncryptedPackage stream.

    Excel saves a password-protected .xlsx this way. The container is
    minimal (header and one directory entry name), enough for the check that
    reads the stream name; it is not a complete compound file.
    """
    header = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504
    entry = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00")
    path = folder / "加密.xlsx"
    path.write_bytes(header + entry + b"\x00" * 448)
    return path


TAB_AS_XLS_TEXT = "客户编号\t累计金额\n001\t100\n002\t200\n"

HTML_AS_XLS_TEXT = (
    "<html><head><meta charset='utf-8'></head><body><table>"
    "<tr><td colspan='2'>客户导出</td></tr>"
    "<tr><th>客户编号</th><th>累计金额</th></tr>"
    "<tr><td>0001</td><td>1,000</td></tr>"
    "<tr><td>0002</td><td>2,000</td></tr>"
    "</table></body></html>"
)


def zero_padded_xlsx(folder: Path) -> Path:
    """Codes stored as numbers, shown zero-padded by their number format.

    客户编号 uses ``000000`` (123 shows as 000123), 会员号 ``"C"0000`` (7 shows
    as C0007); row 3 has an id typed as text; 金额 uses ``000000`` too but is
    not a code, so it stays as typed.
    """
    path = folder / "补零.xlsx"
    book = xlsxwriter.Workbook(path)
    zeros = book.add_format({"num_format": "000000"})
    prefixed = book.add_format({"num_format": '"C"0000'})
    sheet = book.add_worksheet("名单")
    sheet.write_row(0, 0, ["客户编号", "会员号", "累计金额"])
    sheet.write_number(1, 0, 123, zeros)
    sheet.write_number(1, 1, 7, prefixed)
    sheet.write_number(1, 2, 5, zeros)
    sheet.write_string(2, 0, "000456")
    sheet.write_number(2, 1, 12345, prefixed)
    sheet.write_number(2, 2, 6)
    sheet.write_number(3, 0, 1234567, zeros)
    sheet.write_number(3, 1, 8)
    sheet.write_number(3, 2, 7, zeros)
    book.close()
    return path


def unsaved_formulas_xlsx(folder: Path, id_formulas: bool = False) -> Path:
    """A workbook written by a program that stores formulas but no results.

    Columns 客户编号, 累计金额, 翻倍金额 (=B*2, never calculated); three
    clients on rows 2-4. With ``id_formulas`` the ids are formulas too.
    """
    import openpyxl

    path = folder / "公式.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append(["客户编号", "累计金额", "翻倍金额"])
    for row in range(2, 5):
        client_id = f'="K"&ROW()' if id_formulas else f"K{row}"
        sheet.append([client_id, row * 10, f"=B{row}*2"])
    book.save(path)
    return path


# A note written between data rows (row 4) and a notes block at the bottom
# (row 7) followed by a grid that is not clients (rows 8-9).
MID_NOTE_TEXT = (
    "客户编号,客户姓名,累计金额\n"
    "001,张一,10\n"  # row 2
    "002,李二,20\n"  # row 3
    "备注：以下为二月新增客户\n"  # row 4: a stray note
    "003,王三,30\n"  # row 5
    "合计,,60\n"  # row 6
    "说明：金额单位为元\n"  # row 7: the notes block starts
    "等级,最低分\n"  # row 8
    "钻石,80\n"  # row 9
)

LATIN1_TEXT = (
    "client_id;name;city;amount\n"
    "D01;Müller;Köln;1200\n"
    "D02;Café Noir;Paris;300\n"
    "D03;José;Sevilla;45\n"
)

# GB18030 accepts these bytes too (ü, é followed by letters), yielding rare
# characters: only the verdict on the text can tell.
LATIN1_GB_VALID_TEXT = (
    "client_id;name;amount\nD01;Müller;1200\nD02;Cafés;300\nD03;Jürgen;45\n"
)

CLIENT_TABLE_TEXT = (
    "客户编号,客户姓名\n"
    "A1,张一\n"  # row 2
    "A2,李二\n"  # row 3
)

# Transactions for A1 and A2, and three rows for clients not in the table.
ORPHAN_TRANSACTIONS_TEXT = (
    "客户编号,交易日期,交易金额\n"
    "A1,2024-01-05,100\n"  # row 2
    "B9,2024-01-06,200\n"  # row 3: unknown
    "A2,2024-02-01,300\n"  # row 4
    ",2024-02-02,50\n"  # row 5: no id
    "B9,2024-02-03,70\n"  # row 6: unknown
    "C7,2024-03-01,80\n"  # row 7: unknown
    "A1,2024-03-02,10\n"  # row 8
)
