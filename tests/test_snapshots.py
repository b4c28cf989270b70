"""Snapshots, comparisons, drift, grace period, overrides, impact and the CLI."""

import datetime as dt
import io

import duckdb
import openpyxl
import pytest

from tiering.cli import main
from tiering.impact import impact
from tiering.snapshots import apply_overrides, compare, take_snapshot, write_comparison
from tiering.standard import Standard, load_standard
from tiering.store import Store

MONTHS = [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)]


def one_metric_standard(grace_periods=0):
    """Composite = 25 × (amount score − 1): score 5 → 100, score 1 → 0."""
    return Standard.from_dict(
        {
            "name": "测试标准",
            "grace_periods": grace_periods,
            "dimensions": [
                {
                    "key": "value", "weight": 100,
                    "metrics": [{"key": "amount", "field": "amount", "weight": 100,
                                 "method": "thresholds", "cuts": [10, 20, 30, 40]}],
                }
            ],
            "tiers": [
                {"name": "钻石", "min_score": 75},
                {"name": "黄金", "min_score": 50},
                {"name": "普通", "min_score": 0},
            ],
        }
    )


def stored_month(store, amounts):
    """Save a dataset of {client_id: amount} and return its id."""
    con = duckdb.connect()
    con.execute("CREATE TABLE clients (_row INTEGER, client_id VARCHAR, amount DOUBLE)")
    con.executemany(
        "INSERT INTO clients VALUES (?, ?, ?)",
        [(i + 1, cid, amount) for i, (cid, amount) in enumerate(amounts.items())],
    )
    dataset_id = store.save_dataset(con, "month.xlsx", "王经理")
    con.close()
    return dataset_id


def tiers_of(store, snapshot):
    rows = store.snapshot_results(snapshot.id).to_pylist()
    return {row["client_id"]: row for row in rows}


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / "tiering.duckdb")
    yield opened
    opened.close()


def run_months(store, standard, months):
    published = store.publish(standard, "王经理")
    return [
        take_snapshot(store, stored_month(store, amounts), published, day, "王经理")
        for day, amounts in zip(MONTHS, months)
    ]


THREE_MONTHS = [
    {"X": 45, "Y": 45, "Z": 25},   # X, Y 钻石; Z 黄金
    {"X": 25, "Y": 25, "Z": 45},   # X, Y fall to 黄金's line; Z rises
    {"X": 25, "Y": 45, "Z": 45},   # X still below; Y back
]


def test_grace_period_keeps_a_falling_client_until_n_snapshots_below(store):
    january, february, march = run_months(store, one_metric_standard(2), THREE_MONTHS)

    feb, mar = tiers_of(store, february), tiers_of(store, march)

    assert (feb["X"]["tier"], feb["X"]["watch"], feb["X"]["periods_below"]) == ("钻石", True, 1)
    assert "关注客户" in feb["X"]["reason"]
    assert feb["Z"]["tier"] == "钻石" and not feb["Z"]["watch"]
    assert (mar["X"]["tier"], mar["X"]["watch"]) == ("黄金", False)
    assert "保级期满" in mar["X"]["reason"]
    assert (mar["Y"]["tier"], mar["Y"]["watch"], mar["Y"]["periods_below"]) == ("钻石", False, 0)
    assert mar["X"]["previous_tier"] == "钻石"
    assert mar["X"]["tier_changed_on"] == MONTHS[2]
    assert mar["Y"]["tier_changed_on"] == MONTHS[0]


def test_bank_practice_of_three_keeps_the_client_through_the_third_month(store):
    *_, march = run_months(store, one_metric_standard(3), THREE_MONTHS)

    assert tiers_of(store, march)["X"]["tier"] == "钻石"
    assert tiers_of(store, march)["X"]["periods_below"] == 2


def test_without_grace_a_client_moves_down_at_once(store):
    _, february, _ = run_months(store, one_metric_standard(0), THREE_MONTHS)

    assert tiers_of(store, february)["X"]["tier"] == "黄金"


def test_a_standard_without_grace_periods_stays_valid_and_round_trips(default_standard_path):
    standard = load_standard(default_standard_path)

    assert standard.grace_periods == 0
    assert Standard.from_dict(standard.to_dict()) == standard
    assert Standard.from_dict(one_metric_standard(3).to_dict()).grace_periods == 3


@pytest.mark.parametrize("value", [-1, 13, 1.5, "3", True])
def test_an_invalid_grace_period_names_the_field(value):
    data = one_metric_standard().to_dict() | {"grace_periods": value}

    with pytest.raises(Exception) as caught:
        Standard.from_dict(data)

    assert caught.value.facts["field"] == "grace_periods"


def test_the_migration_matrix_adds_up_to_the_clients_in_both(store):
    january = {f"C{i:03d}": float(i % 50) for i in range(100)}
    february = {f"C{i:03d}": float((i * 7) % 50) for i in range(20, 130)}
    first, second = run_months(store, one_metric_standard(), [january, february])

    comparison = compare(store, first.id, second.id)

    both = len(set(january) & set(february))
    assert int(comparison.matrix.to_numpy().sum()) == both == 80
    assert len(comparison.new) == 30 and len(comparison.lost) == 20
    movers = len(comparison.upgraded) + len(comparison.downgraded)
    diagonal = sum(comparison.matrix.iat[i, i] for i in range(len(comparison.matrix)))
    assert movers + diagonal == both


def test_psi_is_zero_for_the_same_clients_and_grows_with_a_shift(store):
    same = {f"C{i:03d}": float(i % 50) for i in range(100)}
    richer = {f"C{i:03d}": 45.0 for i in range(100)}
    first, second, third = run_months(store, one_metric_standard(), [same, same, richer])

    stable = compare(store, first.id, second.id).psi
    shifted = compare(store, second.id, third.id).psi

    assert list(stable["psi"]) == [0.0, 0.0]
    assert shifted["psi"].iloc[0] > 0.25
    assert shifted["level"].iloc[0] == "显著变化，建议复核标准"


def test_an_override_wins_after_gates_and_shows_in_reason_and_audit(store):
    store.set_override("Z", "钻石", "战略合作", "李行长")

    january, = run_months(store, one_metric_standard(), THREE_MONTHS[:1])

    row = tiers_of(store, january)["Z"]
    assert row["tier"] == "钻石" and row["override_tier"] == "钻石"
    assert "人工调整为「钻石」：战略合作（李行长）" in row["reason"]
    assert "override" in set(store.audit_log()["action"])


def test_overrides_apply_to_a_session_scored_table():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE scored AS SELECT * FROM (VALUES ('00123', '普通', 2, '综合分 10'))"
        " AS t(client_id, tier, tier_rank, reason)"
    )
    overrides = __import__("pandas").DataFrame(
        [{"client_id": "00123", "tier": "黄金", "reason": "特批", "set_by": "王经理"}]
    )

    changed = apply_overrides(con, overrides, one_metric_standard())

    assert changed == 1
    assert con.execute("SELECT tier, tier_rank, reason FROM scored").fetchall() == [
        ("黄金", 1, "综合分 10；人工调整为「黄金」：特批（王经理）")
    ]


def test_the_comparison_workbook_keeps_ids_as_text(store):
    first, second = run_months(
        store, one_metric_standard(), [{"00123": 45, "=1+1": 25}, {"00123": 25, "=1+1": 45}]
    )
    buffer = io.BytesIO()

    write_comparison(buffer, compare(store, first.id, second.id))

    workbook = openpyxl.load_workbook(buffer)
    assert workbook.sheetnames == ["概览", "分数稳定性", "升级客户", "降级客户", "新增客户", "流失客户"]
    assert workbook["降级客户"]["A2"].value == "00123"
    assert workbook["升级客户"]["A2"].value == "=1+1"
    assert workbook["升级客户"]["A2"].data_type == "s"


def test_impact_compares_draft_and_published_without_touching_session_tables():
    con = duckdb.connect()
    con.execute("CREATE TABLE clients (_row INTEGER, client_id VARCHAR, amount DOUBLE)")
    con.executemany("INSERT INTO clients VALUES (?, ?, ?)", [(i, f"C{i}", i) for i in range(1, 51)])
    con.execute("CREATE TABLE scored AS SELECT 'untouched' AS marker")
    published = one_metric_standard()
    draft = published.with_tiers(
        [published.tiers[0].__class__("钻石", "#1f4e79", 50, 100)] + list(published.tiers[1:])
    )

    preview = impact(con, published, draft)

    assert preview.clients == 50
    assert int(preview.matrix.to_numpy().sum()) == 50
    assert preview.moved == len(preview.upgraded) > 0
    assert preview.counts["change"].sum() == 0
    assert con.execute("SELECT * FROM scored").fetchall() == [("untouched",)]


def test_cli_snapshots_twice_and_writes_the_comparison(tmp_path, sample_clients_path, capsys):
    db = str(tmp_path / "cli.duckdb")

    assert main(["snapshot", str(sample_clients_path), "--as-of", "2024-06-30", "--db", db]) == 0
    assert main(["snapshot", str(sample_clients_path), "--as-of", "2024-07-31", "--db", db]) == 0
    out = tmp_path / "report.xlsx"
    assert main(["compare", "1", "2", "--out", str(out), "--db", db]) == 0

    printed = capsys.readouterr().out
    assert "已保存快照 #1" in printed and "已保存快照 #2" in printed
    assert "两期共有客户 5,000 位" in printed
    assert out.exists()
    store = Store(db)
    assert [v.version for v in store.versions()] == [1]
    store.close()


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "1", "2", "--out", "r.csv"], "对比报告须保存为 .xlsx 文件"),
        (["compare", "1", "7", "--out", "r.xlsx"], "找不到编号为 1 的快照"),
        (["snapshot", "missing.xlsx", "--as-of", "2024-02-30"], "不是有效日期"),
    ],
)
def test_cli_bad_input_exits_2_with_a_sentence(tmp_path, args, message, capsys):
    code = main(args + ["--db", str(tmp_path / "cli.duckdb")])

    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
