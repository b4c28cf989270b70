"""Insight and action: next steps, exact explanations, RFM classes, CLV,
needs groups, the service playbook and lists per owner."""

import datetime as dt
import io
import math
import zipfile

import duckdb
import openpyxl
import pytest

from tiering import clv, insight, owners
from tiering.errors import StandardError
from tiering.export import ExportMeta, build_export_frame, write_workbook
from tiering.ingest import read_table
from tiering.mapping import detect_mapping
from tiering.prepare import load_clients
from tiering.results import client_breakdown
from tiering.scoring import score_clients
from tiering.standard import Clv, Standard, load_standard


@pytest.fixture(scope="module")
def sample_con(sample_clients_path, default_standard_path):
    con = duckdb.connect()
    raw = read_table(sample_clients_path)
    prepared = load_clients(con, raw, detect_mapping(raw))
    standard = load_standard(default_standard_path)
    score_clients(con, standard)
    insight.build_insight_table(con, standard, prepared.as_of)
    yield con, standard, prepared
    con.close()


def _small_standard(**extra):
    data = {
        "name": "小标准",
        "dimensions": [
            {
                "key": "value",
                "weight": 60,
                "metrics": [
                    {
                        "key": "amount",
                        "field": "amount",
                        "weight": 50,
                        "label": {"zh": "累计金额", "en": "Amount"},
                        "method": "thresholds",
                        "cuts": [100000, 500000, 1000000, 3000000],
                    },
                    {
                        "key": "count",
                        "field": "purchase_count",
                        "weight": 50,
                        "label": {"zh": "购买次数", "en": "Purchases"},
                        "method": "thresholds",
                        "cuts": [2, 3, 4, 6],
                    },
                ],
            },
            {
                "key": "relationship",
                "weight": 40,
                "metrics": [
                    {
                        "key": "interactions",
                        "field": "interactions",
                        "weight": 100,
                        "label": {"zh": "互动次数", "en": "Interactions"},
                        "method": "thresholds",
                        "cuts": [2, 4, 6, 8],
                    },
                ],
            },
        ],
        "tiers": [
            {"name": "钻石", "min_score": 75},
            {"name": "黄金", "min_score": 50},
            {"name": "普通", "min_score": 0},
        ],
    }
    data.update(extra)
    return Standard.from_dict(data)


def _small_con(rows):
    """clients(_row, client_id, amount, purchase_count, interactions, owner,
    recency_days, last_interaction_date)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE clients (_row INTEGER, client_id VARCHAR, amount DOUBLE, "
        "purchase_count DOUBLE, interactions DOUBLE, owner VARCHAR, "
        "recency_days INTEGER, last_interaction_date DATE)"
    )
    con.executemany("INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


SMALL_ROWS = [
    (2, "00001", 3_200_000, 6, 7, "王芳", 10, dt.date(2024, 5, 1)),
    (3, "00002", 650_000, 3, 3, "李强", 200, None),
    (4, "00003", 50_000, 1, 1, None, 400, None),
    (5, "00004", 1_200_000, 2, 5, "王芳", 30, dt.date(2024, 6, 1)),
]


# --- what would move it up ----------------------------------------------------


def test_next_step_names_the_metric_and_the_natural_change():
    con = _small_con(SMALL_ROWS)
    standard = _small_standard()
    score_clients(con, standard)

    insight.build_insight_table(con, standard, dt.date(2024, 6, 30))
    steps = dict(
        con.execute(
            "SELECT client_id, next_step FROM insight JOIN scored USING (_row)"
        ).fetchall()
    )

    # 00002: scores 3, 3, 2 → composite 40 (普通), 10 short of 黄金; one
    # interaction step is worth 25 × 0.4 = 10 points, an amount step 7.5.
    assert steps["00001"] == "已是最高等级"
    assert steps["00002"] == "互动次数再增加 1（达到 4） → 升至 黄金"
    # 00004: composite 50, 25 short of 钻石: no metric closes it alone;
    # purchases 2 → 5 adds the most (3 × 7.5).
    assert (
        steps["00004"]
        == "单项指标不足以升级：购买次数再增加 4（达到 6）后仍差 2.5 分才到 钻石"
    )
    assert (
        steps["00003"]
        == "单项指标不足以升级：互动次数再增加 7（达到 8）后仍差 10 分才到 黄金"
    )


def test_next_step_change_actually_moves_the_client_up():
    con = _small_con(SMALL_ROWS)
    standard = _small_standard()
    score_clients(con, standard)
    insight.build_insight_table(con, standard)
    before = dict(con.execute("SELECT client_id, tier_rank FROM scored").fetchall())
    plan = con.execute(
        "SELECT s.client_id, i.next_metric, i.target_score FROM insight AS i "
        "JOIN scored AS s USING (_row) WHERE i.next_step LIKE '%→ 升至%'"
    ).fetchall()
    fields = {
        "amount": "amount",
        "count": "purchase_count",
        "interactions": "interactions",
    }
    cuts = {m.key: m.cuts for _, m in standard.metrics()}
    assert plan

    for client_id, metric, target in plan:
        con.execute(
            f"UPDATE clients SET {fields[metric]} = ? WHERE client_id = ?",
            [cuts[metric][target - 2], client_id],
        )
    score_clients(con, standard)

    after = dict(con.execute("SELECT client_id, tier_rank FROM scored").fetchall())
    for client_id, _, _ in plan:
        assert after[client_id] == before[client_id] - 1


def test_every_sample_client_below_the_top_has_a_next_step(sample_con):
    con, _, _ = sample_con

    missing = con.execute(
        "SELECT count(*) FROM insight JOIN scored USING (_row) "
        "WHERE scored.tier IS NOT NULL AND insight.next_step IS NULL"
    ).fetchone()[0]

    assert missing == 0


def test_next_step_in_english_uses_english_words():
    con = _small_con(SMALL_ROWS)
    standard = _small_standard()
    score_clients(con, standard)

    insight.build_insight_table(con, standard, lang="en")

    texts = [row[0] for row in con.execute("SELECT next_step FROM insight").fetchall()]
    assert "Already in the top tier" in texts
    assert any("→" in text and "升" not in text for text in texts)


# --- exact explanations ---------------------------------------------------------


def test_shown_contributions_sum_to_the_shown_composite(sample_con):
    con, standard, _ = sample_con
    ids = [
        row[0]
        for row in con.execute(
            "SELECT client_id FROM scored WHERE composite IS NOT NULL ORDER BY _row"
        ).fetchall()
    ][::25]

    for client_id in ids:
        breakdown = client_breakdown(con, standard, client_id)
        points = list(breakdown.metrics["points"])
        assert all(round(p, 2) == p for p in points)
        assert math.isclose(sum(points), breakdown.composite, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("points", "total", "expected"),
    [
        ([1.005, 1.005, 1.005], 3.02, [1.01, 1.01, 1.0]),
        ([10.0, 20.0], 30.0, [10.0, 20.0]),
        ([3.333333, 3.333333, 3.333334], 10.0, [3.33, 3.33, 3.34]),
    ],
)
def test_apportioned_points_sum_exactly(points, total, expected):
    assert insight.apportion_points(points, total) == expected


# --- RFM eight classes ------------------------------------------------------------


def _rfm_con():
    # Means: recency 100, count 3, amount 400.
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE clients AS SELECT * FROM (VALUES "
        "(1, 'a', 10, 5.0, 900.0), (2, 'b', 10, 1.0, 500.0), "
        "(3, 'c', 190, 6.0, 600.0), (4, 'd', 190, 1.0, 100.0), "
        "(5, 'e', 50, 4.0, 100.0), (6, 'f', 50, 1.0, 100.0), "
        "(7, 'g', 200, 2.0, 300.0), (8, 'h', 100, 4.0, 600.0)) "
        "AS v(_row, client_id, recency_days, purchase_count, amount)"
    )
    return con


def test_rfm_split_values_are_the_means():
    split = insight.rfm_split_values(_rfm_con())

    assert (split.recency_days, split.purchase_count, split.amount) == (100, 3, 400)


def test_rfm_classes_against_known_means():
    con = _rfm_con()
    split = insight.rfm_split_values(con)
    sql, params = insight.rfm_class_sql(split)

    classes = dict(
        con.execute(f"SELECT client_id, {sql} FROM clients AS c", params).fetchall()
    )

    assert classes == {
        "a": "important_value",
        "b": "important_develop",
        "c": "important_keep",
        "d": "general_retain",
        "e": "general_value",
        "f": "general_develop",
        "g": "general_retain",
        # recency 100 is not below the mean 100: R low; F 4 > 3; M 600 > 400.
        "h": "important_keep",
    }


def test_rfm_manual_and_median_splits():
    con = _rfm_con()

    manual = insight.rfm_split_values(
        con, insight.RfmSplit("manual", recency_days=30, purchase_count=None, amount=1)
    )
    median = insight.rfm_split_values(con, insight.RfmSplit("median"))

    assert (manual.recency_days, manual.purchase_count, manual.amount) == (30, 3, 1)
    assert (median.recency_days, median.purchase_count, median.amount) == (75, 3, 400)


def test_rfm_mapping_table_lists_the_eight_named_classes():
    table = insight.rfm_mapping_table(insight.rfm_split_values(_rfm_con()))

    assert list(table.iloc[:, 0]) == [
        "重要价值客户",
        "重要发展客户",
        "重要保持客户",
        "重要挽留客户",
        "一般价值客户",
        "一般发展客户",
        "一般保持客户",
        "一般挽留客户",
    ]
    assert "100" in table.columns[1]


def test_rfm_by_tier_counts_every_tiered_sample_client(sample_con):
    con, standard, _ = sample_con

    table = insight.rfm_by_tier(con, standard)

    tiered = con.execute("SELECT count(*) FROM scored WHERE tier IS NOT NULL")
    assert table.to_numpy().sum() == tiered.fetchone()[0]
    assert list(table.columns) == standard.tier_names()


# --- CLV --------------------------------------------------------------------------


def test_clv_factor_and_value_match_a_hand_computation():
    settings = Clv(
        margin=0.3, horizon_years=2, retention=0.8, discount=0.1, history_years=3
    )
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE clients AS SELECT 300000.0 AS amount, 3.0 AS purchase_count "
        "UNION ALL SELECT 10000.0, 0.0"
    )
    expression, params = clv.clv_sql(settings)

    values = [
        row[0]
        for row in con.execute(f"SELECT {expression} FROM clients", params).fetchall()
    ]

    assert clv.discount_factor(settings) == pytest.approx(1 / 1.1 + 0.8 / 1.21)
    # 100,000 a purchase × 0.3 × 1 a year = 30,000 a year; × 1.570248.
    assert values == [47107.44, None]


def test_clv_metric_is_scored_as_a_derived_field():
    data = _small_standard().to_dict()
    data["dimensions"][0]["metrics"].append(
        {"key": "clv", "field": "clv", "weight": 30, "method": "quantile"}
    )
    data["clv"] = {"margin": 0.2, "horizon_years": 3}
    standard = Standard.from_dict(data)
    con = _small_con(SMALL_ROWS)

    result = score_clients(con, standard)

    report = {r.key: r for r in result.metric_reports}["clv"]
    assert report.used and report.missing == 0
    assert con.execute("SELECT count(m_clv) FROM scored").fetchone()[0] == 4


# --- standard fields --------------------------------------------------------------


def test_standard_with_clv_and_playbook_round_trips_exactly(default_standard_path):
    standard = load_standard(default_standard_path)

    assert [e.tier for e in standard.playbook] == ["钻石", "黄金", "白银", "普通"]
    assert Standard.from_dict(standard.to_dict()) == standard
    assert standard.to_dict() == Standard.from_dict(standard.to_dict()).to_dict()


def test_old_json_without_the_new_blocks_stays_valid():
    standard = _small_standard()

    assert standard.clv is None and standard.playbook == ()
    assert Standard.from_dict(standard.to_dict()) == standard


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"clv": {"margin": 1.5}}, "clv.margin"),
        ({"clv": {"horizon_years": 0}}, "clv.horizon_years"),
        (
            {"playbook": [{"tier": "钻石", "cadence_days": 0}]},
            "playbook[0].cadence_days",
        ),
        ({"playbook": [{"tier": "青铜"}]}, "playbook[0].tier"),
    ],
)
def test_bad_clv_or_playbook_field_is_named(extra, field):
    with pytest.raises(StandardError) as caught:
        _small_standard(**extra)

    assert caught.value.facts["field"] == field


# --- needs and behaviour groups ----------------------------------------------------


def test_groups_by_tier_buckets_the_decision_cycle(sample_con):
    con, standard, _ = sample_con

    frame = insight.groups_by_tier(con, standard, "decision_cycle_days")

    assert set(frame["分组"]) <= {
        "≤ 14",
        "14–30",
        "30–60",
        "60–120",
        "> 120",
        "（空白）",
    }
    assert (
        frame["客户数"].sum()
        == con.execute("SELECT count(*) FROM scored WHERE tier IS NOT NULL").fetchone()[
            0
        ]
    )
    shares = frame.groupby("等级")["占该级比例（%）"].sum()
    assert all(abs(share - 100) < 0.5 for share in shares)


# --- playbook and follow-up ----------------------------------------------------------


def test_follow_up_is_last_interaction_or_as_of_plus_cadence():
    playbook = [
        {"tier": "钻石", "cadence_days": 7},
        {"tier": "黄金", "cadence_days": 14},
        {"tier": "普通", "cadence_days": 90},
    ]
    standard = _small_standard(playbook=playbook)
    con = _small_con(SMALL_ROWS)
    score_clients(con, standard)

    insight.build_insight_table(con, standard, dt.date(2024, 6, 30))

    dates = dict(
        con.execute(
            "SELECT client_id, next_follow_up FROM insight JOIN scored USING (_row)"
        ).fetchall()
    )
    assert dates["00001"] == dt.date(2024, 5, 8)
    assert dates["00003"] == dt.date(2024, 9, 28)


def test_edited_playbook_reaches_the_workbook(sample_con):
    con, standard, prepared = sample_con
    table = insight.playbook_frame(standard)
    table.loc[table["tier"] == "黄金", "cadence_days"] = 21
    changed = insight.with_playbook(standard, table)
    insight.build_insight_table(con, changed, prepared.as_of)
    buffer = io.BytesIO()

    write_workbook(buffer, con, changed, prepared, None, ExportMeta("sample"))

    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    rows = list(book["服务策略"].iter_rows(values_only=True))
    assert rows[0][:3] == ("等级", "服务内容", "回访频率（天）")
    assert (rows[2][0], rows[2][2]) == ("黄金", 21)
    frame = build_export_frame(con, changed)
    gold = frame[frame["分级"] == "黄金"]
    assert gold["下次回访日期"].notna().all()
    assert {"升级建议", "客户价值八分类"} <= set(frame.columns)
    insight.build_insight_table(con, standard, prepared.as_of)


# --- lists per owner -----------------------------------------------------------------


def test_every_client_is_in_exactly_one_owner_list(sample_con):
    con, standard, _ = sample_con

    lists = owners.owner_lists(con, standard, "owner")

    ids = [cid for frame in lists.values() for cid in frame["客户编号"]]
    everyone = [
        row[0] for row in con.execute("SELECT client_id FROM scored").fetchall()
    ]
    assert len(ids) == len(set(ids)) == len(everyone)
    assert set(ids) == set(everyone)


def test_clients_without_an_owner_go_to_the_unassigned_list():
    standard = _small_standard()
    con = _small_con(SMALL_ROWS)
    score_clients(con, standard)

    lists = owners.owner_lists(con, standard, "owner")

    assert {k: list(v["客户编号"]) for k, v in lists.items()} == {
        "未分配": ["00003"],
        "李强": ["00002"],
        "王芳": ["00001", "00004"],
    }


def test_owner_zip_holds_one_workbook_per_owner_with_its_clients(sample_con):
    con, standard, _ = sample_con
    buffer = io.BytesIO()

    owners.write_owner_zip(buffer, con, standard, "branch")

    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    lists = owners.owner_lists(con, standard, "branch")
    assert len(archive.namelist()) == len(lists)
    first = archive.namelist()[0]
    book = openpyxl.load_workbook(io.BytesIO(archive.read(first)), read_only=True)
    assert book.sheetnames[-1] == "服务策略"
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert len(rows) - 1 == len(lists[first.removesuffix(".xlsx")])


def test_owner_workbook_has_a_sheet_per_owner(sample_con):
    con, standard, _ = sample_con
    buffer = io.BytesIO()

    owners.write_owner_workbook(buffer, con, standard, "owner")

    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    lists = owners.owner_lists(con, standard, "owner")
    assert len(book.sheetnames) == len(lists) + 1


def test_split_by_an_unmapped_field_says_what_to_do():
    from tiering.errors import ExportError
    from tiering.i18n import describe_error

    con = _rfm_con()
    con.execute("CREATE TABLE scored AS SELECT _row, client_id FROM clients")

    with pytest.raises(ExportError) as caught:
        owners.owner_lists(con, _small_standard(), "branch")

    assert "导入数据" in describe_error(caught.value)
