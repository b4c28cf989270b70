"""Generate the bundled sample: clients.xlsx and transactions.xlsx.

The sample is invented. It imitates a month-end export shared by a property
developer's sales office and a partner bank's mortgage desk: about 5,000
clients, each of whom bought one or more homes. The steps:

1. Draw a hidden wealth score per client; income, assets, purchase amounts,
   layout and motive follow it, debt ratio and price sensitivity go against it.
2. Draw each client's purchases (dates and amounts); the client table's count,
   total (万元) and last purchase date are rolled up from them, so the
   transaction workbook agrees with the client workbook.
3. Draw credit, relationship and behaviour columns from what came before
   (grade from wealth and debt, overdues from grade, satisfaction and
   referrals from contact), then blank some cells the way real exports do.
4. Write both workbooks with xlsxwriter: a merged title row above the header,
   ids and phones as text cells, dates as date cells, amounts as numbers.

A fixed seed and a fixed document date make the output identical on every
run, so the committed files can be regenerated and compared.

Usage: python sample_data/generate.py [--clients N] [--seed S] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

SEED = 20261130
N_CLIENTS = 5000
AS_OF = dt.date(2026, 11, 30)
FIRST_SALE = dt.date(2017, 3, 1)
# Fixed document date so that regenerating writes byte-identical files.
DOC_CREATED = dt.datetime(2026, 11, 30, 18, 0, 0)
OUT_DIR = Path(__file__).resolve().parent

PROJECTS = {  # developer project -> its sales consultants
    "云栖湾": ["王晓静", "陈志远", "刘思琪", "赵海峰"],
    "滨江壹号院": ["孙一鸣", "周雅婷", "吴俊杰"],
    "翠湖天地": ["郑佳怡", "冯立强", "何梦瑶"],
    "星河府": ["许文博", "马丽娜", "高子轩", "林婉清"],
    "锦绣澜庭": ["罗晨曦", "梁嘉豪", "宋雨桐"],
    "观澜华府": ["唐天佑", "韩若曦", "曹明哲"],
}
BRANCHES = {  # bank branch -> its relationship managers
    "城东支行": ["杜春华", "彭国栋"],
    "高新支行": ["姚欣然", "蒋浩然", "沈佳琪"],
    "滨江支行": ["叶秋实", "田晓东"],
    "湖西支行": ["邓雅琴", "范志宏"],
}
CHANNELS = ["线下", "线上", "中介"]
DISTRICTS = ["滨江新区", "高新区", "老城区", "城东", "湖西", "北部新城"]
LAYOUTS = ["一室", "两室", "三室", "四室", "复式", "别墅"]
LAYOUT_AREA = {
    "一室": 48,
    "两室": 82,
    "三室": 118,
    "四室": 150,
    "复式": 190,
    "别墅": 280,
}
PHONE_PREFIXES = [
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "158",
    "159",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
]
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞辉宇婷雪琳晨浩然博文思雨欣怡子涵梓轩佳一诗梦海波建国志成德荣嘉豪俊凯晓东春燕"
)

CLIENT_COLUMNS = [
    "客户编号",
    "客户姓名",
    "手机号",
    "置业顾问",
    "项目",
    "最近购买日期",
    "购买次数",
    "累计金额（万元）",
    "金融资产（万元）",
    "年收入（万元）",
    "负债率",
    "信用等级",
    "逾期次数",
    "互动次数",
    "最近互动日期",
    "满意度",
    "转介绍人数",
    "购房动机",
    "渠道",
    "信息来源",
    "决策周期（天）",
    "意向户型",
    "意向面积（㎡）",
    "意向区域",
    "价格敏感度",
    "服务需求",
]
TRANSACTION_COLUMNS = ["客户编号", "交易日期", "交易金额（元）", "渠道"]


def draw_clients(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Return one row per client with the hidden drivers of every column."""
    from_bank = rng.random(n) < 0.38
    wealth = rng.normal(0.0, 1.0, n) + np.where(from_bank, 0.15, 0.0)
    clients = pd.DataFrame({"from_bank": from_bank, "wealth": wealth})

    clients["client_id"] = _client_ids(rng, from_bank)
    clients["name"] = [_name(rng) for _ in range(n)]
    clients["phone"] = [_masked_phone(rng) for _ in range(n)]
    clients["branch"], clients["owner"] = _branches_and_owners(rng, from_bank)
    clients["motive"] = _motives(rng, wealth)
    return clients


def _client_ids(rng: np.random.Generator, from_bank: np.ndarray) -> list[str]:
    """Developer ids look like C001234; bank ids are digits with leading zeros."""
    n_bank = int(from_bank.sum())
    developer = iter(
        np.sort(
            rng.choice(np.arange(1, 200_000), len(from_bank) - n_bank, replace=False)
        )
    )
    bank = iter(np.sort(rng.choice(np.arange(1, 100_000), n_bank, replace=False)))
    return [
        f"{next(bank):06d}" if is_bank else f"C{next(developer):06d}"
        for is_bank in from_bank
    ]


def _name(rng: np.random.Generator) -> str:
    """An invented two- or three-character Chinese name."""
    length = 1 if rng.random() < 0.3 else 2
    return str(rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN_CHARS, length))


def _masked_phone(rng: np.random.Generator) -> str:
    """A mobile number masked the way CRM exports mask it: 138****1234."""
    return f"{rng.choice(PHONE_PREFIXES)}****{rng.integers(0, 10_000):04d}"


def _branches_and_owners(
    rng: np.random.Generator, from_bank: np.ndarray
) -> tuple[list[str], list[str]]:
    """A project and consultant, or a bank branch and its manager, per client."""
    branches, owners = [], []
    for is_bank in from_bank:
        staff_by_unit = BRANCHES if is_bank else PROJECTS
        unit = str(rng.choice(list(staff_by_unit)))
        branches.append(unit)
        owners.append(str(rng.choice(staff_by_unit[unit])))
    return branches, owners


def _motives(rng: np.random.Generator, wealth: np.ndarray) -> np.ndarray:
    """Wealthier clients buy more often to invest or to upgrade."""
    invest = 0.12 + 0.10 * np.clip(wealth, -1.5, 2.5)
    upgrade = np.full_like(wealth, 0.30) + 0.04 * np.clip(wealth, -1.5, 2.5)
    pick = rng.random(len(wealth))
    return np.where(
        pick < invest, "投资", np.where(pick < invest + upgrade, "改善", "自住")
    )


def draw_purchases(rng: np.random.Generator, clients: pd.DataFrame) -> pd.DataFrame:
    """Return one row per purchase: client id, date, amount (元), channel."""
    wealth = clients["wealth"].to_numpy()
    motive_boost = clients["motive"].map({"投资": 0.9, "改善": 0.35, "自住": 0.0})
    # Most clients buy one home; investors and the wealthy buy again.
    extra = rng.poisson(np.exp(-1.9 + 0.45 * wealth + motive_boost.to_numpy()))
    counts = 1 + np.minimum(extra, 7)
    clients["channel"] = rng.choice(CHANNELS, len(clients), p=[0.55, 0.25, 0.20])

    buyer = np.repeat(np.arange(len(clients)), counts)
    # Uniform dates over the sales period: a client's last purchase is the
    # latest of its draws, so repeat buyers lean recent, as they do in life.
    span = (AS_OF - FIRST_SALE).days
    dates = np.datetime64(FIRST_SALE) + rng.integers(0, span + 1, len(buyer))
    # A home costs around 200 万元 here; wealth moves the price, noise spreads it.
    wan = np.exp(5.25 + 0.42 * wealth[buyer] + rng.normal(0, 0.33, len(buyer)))
    usual = clients["channel"].to_numpy()[buyer]
    other = rng.choice(CHANNELS, len(buyer))

    purchases = pd.DataFrame(
        {
            "客户编号": clients["client_id"].to_numpy()[buyer],
            "交易日期": dates.astype("datetime64[D]"),
            "交易金额（元）": np.round(np.clip(wan, 45, 3800) * 10_000, -2),
            "渠道": np.where(rng.random(len(buyer)) < 0.8, usual, other),
        }
    )
    return purchases.sort_values(["交易日期", "客户编号"], ignore_index=True)


def roll_up(clients: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """Add count, total (万元) and last purchase date from the purchases."""
    per_client = purchases.groupby("客户编号").agg(
        purchase_count=("交易日期", "size"),
        amount_yuan=("交易金额（元）", "sum"),
        last_purchase_date=("交易日期", "max"),
    )
    clients = clients.join(per_client, on="client_id")
    clients["amount_wan"] = (clients["amount_yuan"] / 10_000).round(2)
    return clients


def draw_credit(rng: np.random.Generator, clients: pd.DataFrame) -> None:
    """Income, assets, debt ratio, grade and overdues, all tied to wealth."""
    n, wealth = len(clients), clients["wealth"].to_numpy()
    clients["income"] = np.round(
        np.exp(3.35 + 0.55 * wealth + rng.normal(0, 0.3, n)), 1
    )
    clients["assets"] = np.round(
        np.exp(4.0 + 0.95 * wealth + rng.normal(0, 0.55, n))
        + clients["from_bank"] * 15,
        1,
    )
    clients["debt_ratio"] = np.round(
        np.clip(0.42 - 0.07 * wealth + rng.normal(0, 0.14, n), 0.02, 0.95), 2
    )

    credit = 0.6 * wealth - 2.5 * (clients["debt_ratio"] - 0.42) + rng.normal(0, 0.8, n)
    clients["credit_grade"] = pd.cut(
        credit, [-np.inf, -2.1, -0.75, 0.35, np.inf], labels=["D", "C", "B", "A"]
    ).astype(str)
    overdue_mean = clients["credit_grade"].map(
        {"A": 0.03, "B": 0.25, "C": 1.1, "D": 3.2}
    )
    clients["overdue_count"] = rng.poisson(overdue_mean.to_numpy())


def draw_relationship(rng: np.random.Generator, clients: pd.DataFrame) -> None:
    """Contacts in the last year, the last contact, satisfaction, referrals."""
    n, wealth = len(clients), clients["wealth"].to_numpy()
    engagement = (
        0.25 * wealth
        + 0.3 * (clients["purchase_count"].to_numpy() - 1)
        + rng.normal(0, 0.6, n)
    )
    clients["interactions"] = rng.poisson(np.exp(1.5 + 0.5 * engagement))

    days_since = rng.exponential(
        np.clip(150 / (1 + clients["interactions"]), 8, None)
    ).astype(int)
    last_contact = [
        AS_OF - dt.timedelta(days=int(min(days, 700))) for days in days_since
    ]
    clients["last_interaction_date"] = np.where(
        clients["interactions"] > 0, last_contact, None
    )

    satisfaction = np.round(3.6 + 0.45 * engagement + rng.normal(0, 0.7, n))
    clients["satisfaction"] = np.clip(satisfaction, 1, 5).astype(int)
    clients["referrals"] = rng.poisson(
        np.exp(-1.7 + 0.55 * (clients["satisfaction"] - 3) + 0.3 * engagement)
    )


def draw_needs(rng: np.random.Generator, clients: pd.DataFrame) -> None:
    """Information source, decision cycle, layout, area, district, needs."""
    n, wealth = len(clients), clients["wealth"].to_numpy()
    clients["info_source"] = _info_sources(rng, clients)
    cycle = np.exp(3.8 - 0.25 * (clients["motive"] == "投资") + rng.normal(0, 0.7, n))
    clients["decision_cycle_days"] = np.clip(cycle, 3, 365).astype(int)

    layout_index = np.clip(
        np.round(1.6 + 0.9 * wealth + rng.normal(0, 0.7, n)), 0, len(LAYOUTS) - 1
    ).astype(int)
    clients["preferred_layout"] = [LAYOUTS[i] for i in layout_index]
    area = clients["preferred_layout"].map(LAYOUT_AREA) * rng.normal(1.0, 0.1, n)
    clients["preferred_area"] = np.round(area).astype(int)
    clients["preferred_district"] = rng.choice(
        DISTRICTS, n, p=[0.22, 0.2, 0.14, 0.16, 0.14, 0.14]
    )

    sensitivity = -0.8 * wealth + rng.normal(0, 0.8, n)
    clients["price_sensitivity"] = pd.cut(
        sensitivity, [-np.inf, -0.6, 0.6, np.inf], labels=["低", "中", "高"]
    ).astype(str)
    clients["service_needs"] = rng.choice(
        ["按揭贷款", "装修咨询", "租赁托管", "学区咨询", "无"],
        n,
        p=[0.38, 0.22, 0.1, 0.15, 0.15],
    )


def _info_sources(rng: np.random.Generator, clients: pd.DataFrame) -> list[str]:
    """Bank clients hear of a home through the bank; agents bring their own."""
    sources = []
    for client in clients.itertuples():
        if client.from_bank and rng.random() < 0.5:
            sources.append("银行推荐")
        elif client.channel == "中介":
            sources.append("中介推荐")
        else:
            sources.append(
                str(
                    rng.choice(
                        [
                            "朋友推荐",
                            "老客户转介绍",
                            "线上广告",
                            "户外广告",
                            "自然到访",
                            "房展会",
                        ],
                        p=[0.18, 0.12, 0.3, 0.12, 0.18, 0.1],
                    )
                )
            )
    return sources


def blank_some(rng: np.random.Generator, clients: pd.DataFrame) -> None:
    """Blank cells at rates seen in CRM exports: optional fields go unfilled."""
    rates = {
        "phone": 0.02,
        "assets": 0.07,
        "income": 0.09,
        "debt_ratio": 0.05,
        "satisfaction": 0.14,
        "info_source": 0.05,
        "decision_cycle_days": 0.1,
        "preferred_area": 0.12,
        "preferred_district": 0.04,
        "price_sensitivity": 0.08,
        "referrals": 0.03,
    }
    for column, rate in rates.items():
        clients[column] = (
            clients[column].astype(object).where(rng.random(len(clients)) >= rate, None)
        )


def client_table(clients: pd.DataFrame) -> pd.DataFrame:
    """The client sheet as it is exported: Chinese headers, export order."""
    source = [
        "client_id",
        "name",
        "phone",
        "owner",
        "branch",
        "last_purchase_date",
        "purchase_count",
        "amount_wan",
        "assets",
        "income",
        "debt_ratio",
        "credit_grade",
        "overdue_count",
        "interactions",
        "last_interaction_date",
        "satisfaction",
        "referrals",
        "motive",
        "channel",
        "info_source",
        "decision_cycle_days",
        "preferred_layout",
        "preferred_area",
        "preferred_district",
        "price_sensitivity",
        "service_needs",
    ]
    table = clients[source].copy()
    table.columns = CLIENT_COLUMNS
    return table


def write_clients(table: pd.DataFrame, path: Path) -> None:
    """Write the client workbook: a merged title row, then header and data."""
    workbook = _new_workbook(path)
    sheet = workbook.add_worksheet("客户名单")
    formats = _formats(workbook)

    title = f"{AS_OF.year}年{AS_OF.month}月 客户名单（导出时间：{AS_OF.isoformat()}）"
    sheet.merge_range(0, 0, 0, len(CLIENT_COLUMNS) - 1, title, formats["title"])
    _write_table(sheet, table, formats, first_row=1)
    sheet.freeze_panes(2, 2)
    sheet.autofilter(1, 0, len(table) + 1, len(CLIENT_COLUMNS) - 1)
    _write_notes(workbook, formats)
    workbook.close()


def write_transactions(purchases: pd.DataFrame, path: Path) -> None:
    """Write the transaction workbook: one row per purchase, header on row 1."""
    workbook = _new_workbook(path)
    sheet = workbook.add_worksheet("交易明细")
    formats = _formats(workbook)

    _write_table(sheet, purchases[TRANSACTION_COLUMNS], formats, first_row=0)
    sheet.freeze_panes(1, 0)
    workbook.close()


def _new_workbook(path: Path) -> xlsxwriter.Workbook:
    """A workbook with fixed metadata, so reruns give identical bytes."""
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
    )
    workbook.set_properties(
        {
            "title": path.stem,
            "author": "Tiering Studio sample generator",
            "created": DOC_CREATED,
        }
    )
    return workbook


def _formats(workbook: xlsxwriter.Workbook) -> dict:
    """Cell formats shared by both workbooks."""
    return {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "header": workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1}
        ),
        "text": workbook.add_format({"num_format": "@"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "yuan": workbook.add_format({"num_format": "#,##0"}),
        "ratio": workbook.add_format({"num_format": "0.00"}),
        "int": workbook.add_format({"num_format": "0"}),
    }


# How each column is written; any column not listed is plain text.
_COLUMN_KIND = {
    "最近购买日期": "date",
    "最近互动日期": "date",
    "交易日期": "date",
    "累计金额（万元）": "money",
    "金融资产（万元）": "money",
    "年收入（万元）": "money",
    "交易金额（元）": "yuan",
    "负债率": "ratio",
    "购买次数": "int",
    "逾期次数": "int",
    "互动次数": "int",
    "满意度": "int",
    "转介绍人数": "int",
    "决策周期（天）": "int",
    "意向面积（㎡）": "int",
}


def _write_table(sheet, table: pd.DataFrame, formats: dict, first_row: int) -> None:
    """Header at ``first_row``, data below; blanks stay empty cells."""
    for col, header in enumerate(table.columns):
        kind = _COLUMN_KIND.get(header, "text")
        sheet.write_string(first_row, col, header, formats["header"])
        sheet.set_column(
            col, col, 14 if kind == "date" else max(10, 2 * len(header) + 2)
        )
        for offset, value in enumerate(table[header].tolist(), start=1):
            _write_cell(sheet, first_row + offset, col, value, kind, formats)


def _write_cell(sheet, row: int, col: int, value, kind: str, formats: dict) -> None:
    """Write one cell by kind: ids and phones as text, dates as dates."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return
    if kind == "date":
        sheet.write_datetime(
            row, col, pd.Timestamp(value).to_pydatetime(), formats["date"]
        )
    elif kind == "text":
        sheet.write_string(row, col, str(value), formats["text"])
    else:
        sheet.write_number(row, col, float(value), formats[kind])


def _write_notes(workbook: xlsxwriter.Workbook, formats: dict) -> None:
    """A second sheet explaining the columns, as many exports carry."""
    sheet = workbook.add_worksheet("字段说明")
    notes = [
        ("客户编号", "C 开头为开发商案场客户，纯数字为银行按揭客户；均为文本"),
        ("项目", "开发商项目名称，银行客户为经办支行"),
        ("置业顾问", "银行客户为客户经理"),
        ("累计金额（万元）", "历次购房成交金额合计，单位万元"),
        ("互动次数", "近 12 个月回访、到访与电话沟通次数"),
        ("负债率", "月供与月收入之比"),
    ]
    sheet.write_row(0, 0, ["字段", "说明"], formats["header"])
    for row, (field, meaning) in enumerate(notes, start=1):
        sheet.write_row(row, 0, [field, meaning])
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 60)


def generate(
    n_clients: int = N_CLIENTS, seed: int = SEED, out_dir: Path = OUT_DIR
) -> tuple[Path, Path]:
    """Write clients.xlsx and transactions.xlsx into ``out_dir``; return both paths."""
    rng = np.random.default_rng(seed)
    clients = draw_clients(rng, n_clients)
    purchases = draw_purchases(rng, clients)
    clients = roll_up(clients, purchases)
    draw_credit(rng, clients)
    draw_relationship(rng, clients)
    draw_needs(rng, clients)
    blank_some(rng, clients)

    out_dir.mkdir(parents=True, exist_ok=True)
    clients_path, transactions_path = (
        out_dir / "clients.xlsx",
        out_dir / "transactions.xlsx",
    )
    write_clients(client_table(clients), clients_path)
    write_transactions(purchases, transactions_path)
    return clients_path, transactions_path


def main() -> None:
    """Parse the command line and write the sample."""
    parser = argparse.ArgumentParser(description="Write the bundled sample workbooks.")
    parser.add_argument(
        "--clients", type=int, default=N_CLIENTS, help="number of clients"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument(
        "--out-dir", type=Path, default=OUT_DIR, help="folder to write into"
    )
    args = parser.parse_args()

    for path in generate(args.clients, args.seed, args.out_dir):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
