import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiering import scoring
from tiering.errors import ScoringError
from tiering.scoring import (
    compose_scores,
    composite_histogram,
    composite_cents,
    composite_index,
    count_tiers,
    count_tiers_indexed,
    histogram_indexed,
    read_gate_groups,
    read_metric_arrays,
    score_clients,
    score_metrics,
)
from tiering.standard import Standard, Tier

TIERS = [
    {"name": "钻石", "color": "#111111", "min_score": 75, "share": 10},
    {"name": "黄金", "color": "#555555", "min_score": 50, "share": 30},
    {"name": "普通", "color": "#999999", "min_score": 0, "share": 100},
]


def make_standard(metrics, dimensions=None, tiers=TIERS, **extra):
    dims = dimensions or [{"key": "value", "weight": 100, "metrics": metrics}]
    return Standard.from_dict(
        {"name": "t", "dimensions": dims, "tiers": tiers, **extra}
    )


def quantile(key, field, **extra):
    return {"key": key, "field": field, "method": "quantile", "weight": 100, **extra}


def load(con, columns):
    """Create the ``clients`` table from ``{column: values}``; ids 0001…"""
    n = len(next(iter(columns.values())))
    data = {
        "_row": list(range(2, n + 2)),
        "client_id": [f"{i:04d}" for i in range(1, n + 1)],
    }
    data.update(columns)
    frame = pd.DataFrame(data)
    con.execute("CREATE OR REPLACE TABLE clients AS SELECT * FROM frame")
    return con


# Two dimensions of one metric each: amount (quantile) and satisfaction.
VALUE_AND_RELATIONSHIP = [
    {"key": "value", "weight": 50, "metrics": [quantile("m", "amount")]},
    {
        "key": "rel",
        "weight": 50,
        "metrics": [
            {"key": "sat", "field": "satisfaction", "method": "range", "weight": 1}
        ],
    },
]


def slider_index(con, standard):
    """The composite index the standard page builds for ``standard``."""
    arrays = read_metric_arrays(con)
    return composite_index(arrays, read_gate_groups(con, standard), standard)


def scores(con, column):
    return [
        row[0]
        for row in con.execute(f"SELECT {column} FROM scored ORDER BY _row").fetchall()
    ]


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_clients_who_all_bought_once_get_one_frequency_score(con):
    load(con, {"purchase_count": [1.0] * 300})

    result = score_clients(
        con, make_standard([quantile("frequency", "purchase_count")])
    )

    assert set(scores(con, "m_frequency")) == {1}
    assert result.metric_reports[0].distinct_scores == 1


def test_five_bins_on_two_distinct_values_reports_two_scores(con):
    load(con, {"purchase_count": [1.0] * 150 + [2.0] * 150})

    result = score_clients(
        con, make_standard([quantile("frequency", "purchase_count")])
    )

    report = result.metric_reports[0]
    assert report.requested_bins == 5
    assert report.distinct_scores == 2
    assert [(c.lowest, c.highest, c.clients) for c in report.cut_points] == [
        (1.0, 1.0, 150),
        (2.0, 2.0, 150),
    ]


def test_row_order_never_decides_a_quantile_score(con):
    values = [5.0, 1.0, 3.0, 3.0, 3.0, 2.0, 4.0, 3.0, 1.0, 5.0]
    standard = make_standard([quantile("monetary", "amount")])
    load(con, {"amount": values})
    score_clients(con, standard)
    forward = dict(zip(values, scores(con, "m_monetary")))

    load(con, {"amount": list(reversed(values))})
    score_clients(con, standard)
    backward = dict(zip(reversed(values), scores(con, "m_monetary")))

    assert forward == backward


def test_lower_is_better_gives_recent_buyers_the_top_score(con):
    load(con, {"recency_days": [1.0, 10.0, 100.0, 200.0, 400.0]})

    score_clients(
        con,
        make_standard([quantile("recency", "recency_days", direction="lower_better")]),
    )

    assert scores(con, "m_recency") == [5, 4, 3, 2, 1]


def test_thresholds_score_in_natural_units(con):
    load(con, {"amount": [0.0, 1_000_000, 2_999_999, 3_000_000, None]})
    metric = {
        "key": "monetary",
        "field": "amount",
        "method": "thresholds",
        "weight": 100,
        "cuts": [500_000, 1_000_000, 2_000_000, 3_000_000],
    }

    result = score_clients(con, make_standard([metric]))

    assert scores(con, "m_monetary") == [1, 3, 4, 5, 1]
    assert result.metric_reports[0].missing == 1


def test_category_map_scores_values_and_other(con):
    load(con, {"motive": ["投资", " 自住 ", "度假", None]})
    metric = {
        "key": "motive",
        "field": "motive",
        "method": "category",
        "weight": 100,
        "categories": {"投资": 5, "自住": 3},
        "other": 2,
    }

    score_clients(con, make_standard([metric]))

    assert scores(con, "m_motive") == [5, 3, 2, 1]


def test_range_maps_an_existing_score_onto_one_to_five(con):
    load(con, {"credit_score": [300.0, 575.0, 850.0, 900.0]})
    metric = {
        "key": "credit",
        "field": "credit_score",
        "method": "range",
        "weight": 100,
        "low": 300,
        "high": 850,
    }

    score_clients(con, make_standard([metric]))

    assert scores(con, "m_credit") == [1, 3, 5, 5]


def test_excluded_missing_values_renormalise_the_weights(con):
    load(con, {"amount": [3_000_000.0, 3_000_000.0], "motive": ["投资", None]})
    monetary = {
        "key": "monetary",
        "field": "amount",
        "method": "thresholds",
        "weight": 50,
        "cuts": [1, 2, 3, 1_000_000],
    }
    motive = {
        "key": "motive",
        "field": "motive",
        "method": "category",
        "weight": 50,
        "categories": {"投资": 3},
        "missing": "exclude",
    }

    result = score_clients(con, make_standard([monetary, motive]))

    # Client 1: (5 + 3) / 2 = 4 → 75; client 2: motive excluded, 5 alone → 100.
    assert scores(con, "composite") == [75.0, 100.0]
    assert result.metric_reports[1].missing == 1


def test_missing_values_score_lowest_by_default_and_are_counted(con):
    load(con, {"amount": [None, 10.0, 20.0]})

    result = score_clients(con, make_standard([quantile("monetary", "amount")]))

    assert scores(con, "m_monetary")[0] == 1
    assert result.metric_reports[0].missing == 1


def test_a_client_with_every_metric_excluded_is_reported_unscored(con):
    load(con, {"motive": ["投资", None]})
    metric = {
        "key": "motive",
        "field": "motive",
        "method": "category",
        "weight": 100,
        "categories": {"投资": 5},
        "missing": "exclude",
    }

    result = score_clients(con, make_standard([metric]))

    assert (result.rows_scored, result.rows_unscored) == (1, 1)
    assert scores(con, "tier") == ["钻石", None]
    assert "未评分" in scores(con, "reason")[1]


def test_metrics_without_a_column_are_skipped_and_weights_renormalised(con):
    load(con, {"amount": [1.0, 2.0]})
    metrics = [quantile("monetary", "amount"), quantile("assets", "assets")]

    result = score_clients(con, make_standard(metrics))

    assert [r.used for r in result.metric_reports] == [True, False]
    assert scores(con, "composite") == [0.0, 100.0]


def test_no_matching_metric_is_a_clear_error(con):
    load(con, {"amount": [1.0]})

    with pytest.raises(ScoringError) as caught:
        score_clients(con, make_standard([quantile("assets", "assets")]))

    assert caught.value.key == "error.scoring.no_metrics"


def test_dimension_weights_combine_into_the_composite(con):
    load(con, {"amount": [100.0], "satisfaction": [1.0]})
    dims = [
        {"key": "value", "weight": 75, "metrics": [quantile("monetary", "amount")]},
        {
            "key": "relationship",
            "weight": 25,
            "metrics": [
                {"key": "sat", "field": "satisfaction", "method": "range", "weight": 1}
            ],
        },
    ]

    score_clients(con, make_standard(None, dimensions=dims))

    # One client: monetary rank 1 of 1 → score 1; satisfaction 1 → 1; composite 0.
    assert scores(con, "d_value") == [1.0]
    assert scores(con, "composite") == [0.0]


def test_quota_tiers_take_the_top_shares(con):
    load(con, {"satisfaction": [1.0, 2.0, 3.0, 4.0, 5.0] * 2})
    metric = {"key": "sat", "field": "satisfaction", "method": "range", "weight": 1}
    tiers = [
        {"name": "A", "color": "#111111", "min_score": 0, "share": 20},
        {"name": "B", "color": "#555555", "min_score": 0, "share": 60},
        {"name": "C", "color": "#999999", "min_score": 0, "share": 100},
    ]

    result = score_clients(con, make_standard([metric], tiers=tiers, tier_mode="quota"))

    assert result.tier_counts["clients"].tolist() == [2, 4, 4]
    assert scores(con, "tier")[:5] == ["C", "C", "B", "B", "A"]


def test_quota_ties_stay_together_in_the_higher_tier(con):
    load(con, {"amount": [10.0] * 3 + [1.0] * 7})
    metric = {
        "key": "monetary",
        "field": "amount",
        "method": "range",
        "weight": 1,
        "low": 0,
        "high": 10,
    }
    tiers = [
        {"name": "A", "color": "#111111", "min_score": 0, "share": 20},
        {"name": "B", "color": "#999999", "min_score": 0, "share": 100},
    ]

    result = score_clients(con, make_standard([metric], tiers=tiers, tier_mode="quota"))

    assert result.tier_counts["clients"].tolist() == [3, 7]


def test_gates_cap_and_force_tiers_and_say_so(con):
    load(
        con,
        {
            "amount": [100.0, 100.0, 100.0, 0.0],
            "credit_grade": ["A", "d", "A", "A"],
            "overdue_count": [0.0, 0.0, 5.0, 0.0],
        },
    )
    metric = {
        "key": "m",
        "field": "amount",
        "method": "range",
        "weight": 1,
        "low": 0,
        "high": 100,
    }
    gates = [
        {
            "field": "credit_grade",
            "op": "in",
            "value": ["D"],
            "action": "cap",
            "tier": "普通",
            "label": "信用D",
        },
        {
            "field": "overdue_count",
            "op": ">=",
            "value": 3,
            "action": "force",
            "tier": "黄金",
            "label": "逾期",
        },
    ]

    score_clients(con, make_standard([metric], gates=gates), lang="en")

    assert scores(con, "tier_before_gates") == ["钻石", "钻石", "钻石", "普通"]
    assert scores(con, "tier") == ["钻石", "普通", "黄金", "普通"]
    assert scores(con, "gate") == [None, "信用D", "逾期", None]
    assert "rule '信用D' set the tier to 普通" in scores(con, "reason")[1]


def test_a_gate_on_a_missing_column_is_skipped_and_reported(con):
    load(con, {"amount": [1.0, 2.0]})
    gate = {"field": "credit_grade", "op": "==", "value": "D", "tier": "普通"}

    result = score_clients(con, make_standard([quantile("m", "amount")], gates=[gate]))

    assert result.skipped_gates == (0,)


def test_count_tiers_matches_the_full_run_after_a_cut_off_change(con):
    load(con, {"amount": [float(v) for v in range(50)]})
    standard = make_standard([quantile("m", "amount")])
    score_clients(con, standard)
    moved = standard.with_tiers(
        [
            Tier("钻石", "#111111", min_score=90, share=10),
            Tier("黄金", "#555555", min_score=20, share=30),
            Tier("普通", "#999999", min_score=0, share=100),
        ]
    )

    fast = count_tiers(con, moved)
    full = score_clients(con, moved).tier_counts

    assert fast.equals(full)
    assert fast["clients"].sum() == 50


def test_a_weight_change_reuses_the_metric_scores(con):
    load(con, {"amount": [1.0, 2.0, 3.0], "satisfaction": [5.0, 3.0, 1.0]})
    standard = make_standard(None, dimensions=VALUE_AND_RELATIONSHIP)
    score_metrics(con, standard)
    con.execute("DROP TABLE clients")  # step 2 must not need the raw table

    compose_scores(con, standard.with_dimension_weights({"value": 100, "rel": 0}))

    composite = [
        r[0]
        for r in con.execute(
            "SELECT composite FROM composite_scores ORDER BY _row"
        ).fetchall()
    ]
    assert composite == [0.0, 50.0, 100.0]


@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(
        st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=2, max_size=60
    ),
    method=st.sampled_from(["quantile", "thresholds"]),
)
def test_more_amount_never_lowers_a_score(amounts, method):
    con = duckdb.connect()
    load(con, {"amount": amounts})
    metric = {"key": "m", "field": "amount", "method": method, "weight": 1}
    if method == "thresholds":
        metric["cuts"] = [1e3, 1e5, 1e6, 1e8]

    score_clients(con, make_standard([metric]))

    pairs = sorted(zip(amounts, scores(con, "m_m")))
    assert all(a[1] <= b[1] for a, b in zip(pairs, pairs[1:]))
    assert all(1 <= score <= 5 for _, score in pairs)
    con.close()


def reference_quantile_scores(con, field, bins, direction):
    """The percent-rank definition, as rank() over every client, row by row."""
    order = "DESC" if direction == "lower_better" else "ASC"
    return [
        row[0]
        for row in con.execute(
            f"""
            SELECT CASE WHEN {field} IS NULL THEN 1 ELSE least({bins}, 1 + CAST(floor(
                {bins} * coalesce((rank() OVER (ORDER BY {field} {order}) - 1)
                / nullif(count({field}) OVER () - 1, 0), 0)) AS INTEGER)) END
            FROM clients ORDER BY _row
            """
        ).fetchall()
    ]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.integers(0, 12).map(float), st.floats(-1e6, 1e6)),
        min_size=1,
        max_size=80,
    ),
    bins=st.sampled_from([2, 3, 4, 5]),
    direction=st.sampled_from(["higher_better", "lower_better"]),
)
def test_quantile_scores_follow_the_tied_percent_rank(values, bins, direction):
    con = duckdb.connect()
    load(con, {"amount": values})
    metric = quantile("m", "amount", bins=bins, direction=direction)

    score_clients(con, make_standard([metric]))

    assert scores(con, "m_m") == reference_quantile_scores(
        con, "amount", bins, direction
    )
    con.close()


GATE_CHOICES = [
    {
        "field": "credit_grade",
        "op": "in",
        "value": ["D"],
        "action": "cap",
        "tier": "普通",
    },
    {"field": "overdue_count", "op": ">=", "value": 3, "action": "cap", "tier": "黄金"},
    {
        "field": "overdue_count",
        "op": "==",
        "value": 1,
        "action": "force",
        "tier": "钻石",
    },
    {"field": "credit_grade", "op": "missing", "action": "force", "tier": "黄金"},
]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            # Few distinct amounts and satisfactions, so composites tie often.
            st.one_of(st.none(), st.integers(0, 6).map(float)),
            st.one_of(st.none(), st.integers(1, 5).map(float)),
            st.sampled_from(["A", "D", None]),
            st.one_of(st.none(), st.integers(0, 4).map(float)),
        ),
        min_size=1,
        max_size=60,
    ),
    gates=st.lists(st.sampled_from(GATE_CHOICES), max_size=3),
    mode=st.sampled_from(["score", "quota"]),
    cuts=st.lists(st.floats(0, 100).map(lambda x: round(x, 1)), min_size=2, max_size=2),
    shares=st.lists(
        st.floats(0, 100).map(lambda x: round(x, 1)), min_size=2, max_size=2
    ),
)
def test_slider_counts_from_the_index_equal_the_sql_counts(
    rows, gates, mode, cuts, shares
):
    con = duckdb.connect()
    amount, satisfaction, grade, overdue = (list(c) for c in zip(*rows))
    load(
        con,
        {
            "amount": amount,
            "satisfaction": satisfaction,
            "credit_grade": grade,
            "overdue_count": overdue,
        },
    )
    metrics = [
        quantile("m", "amount", bins=3),
        {
            "key": "sat",
            "field": "satisfaction",
            "method": "range",
            "weight": 50,
            "missing": "exclude",
        },
    ]
    high, low = sorted(cuts, reverse=True)
    small, large = sorted(shares)
    tiers = [
        {"name": "钻石", "color": "#111111", "min_score": high, "share": small},
        {"name": "黄金", "color": "#555555", "min_score": low, "share": large},
        {"name": "普通", "color": "#999999", "min_score": 0, "share": 100},
    ]
    standard = make_standard(metrics, tiers=tiers, gates=gates, tier_mode=mode)
    full = score_clients(con, standard).tier_counts

    index = slider_index(con, standard)

    assert count_tiers_indexed(index, standard).equals(full)
    assert count_tiers(con, standard).equals(full)
    assert histogram_indexed(index, 2.0).equals(composite_histogram(con, 2.0))
    con.close()


def test_an_index_from_new_weights_matches_the_stored_composite(con):
    load(
        con,
        {
            "amount": [float(v % 7) for v in range(40)],
            "satisfaction": [float(1 + v % 5) for v in range(40)],
        },
    )
    standard = make_standard(None, dimensions=VALUE_AND_RELATIONSHIP)
    score_clients(con, standard)
    arrays = read_metric_arrays(con)
    groups = read_gate_groups(con, standard)
    composite_index(arrays, groups, standard)
    moved = standard.with_dimension_weights({"value": 80, "rel": 20})

    unstored = composite_index(arrays, groups, moved)
    compose_scores(con, moved)

    assert count_tiers_indexed(unstored, moved).equals(count_tiers(con, moved))
    assert histogram_indexed(unstored).equals(composite_histogram(con))


SCORE_OR_NONE = st.one_of(st.none(), st.integers(1, 5))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(*[SCORE_OR_NONE] * 5), min_size=1, max_size=60),
    metric_weights=st.lists(st.integers(0, 100), min_size=5, max_size=5),
    dimension_weights=st.lists(st.integers(0, 100), min_size=3, max_size=3),
)
def test_composites_in_numpy_match_the_sql_to_the_cent(
    rows, metric_weights, dimension_weights
):
    # Five metrics in three dimensions (2 + 2 + 1); weights of 0 allowed
    # where the standard allows them.
    metric_weights[0] = metric_weights[0] or 1
    metric_weights[2] = metric_weights[2] or 1
    metric_weights[4] = metric_weights[4] or 1
    dimension_weights[0] = dimension_weights[0] or 1
    metric = [
        quantile(f"k{i}", "amount", weight=metric_weights[i]) for i in range(5)
    ]
    dims = [
        {"key": key, "weight": weight, "metrics": chosen}
        for key, weight, chosen in zip(
            "abc", dimension_weights, (metric[:2], metric[2:4], metric[4:])
        )
    ]
    standard = make_standard(None, dimensions=dims)
    con = duckdb.connect()
    frame = pd.DataFrame(
        [(i + 2, *row) for i, row in enumerate(rows)],
        columns=["_row"] + [f"m_k{i}" for i in range(5)],
    ).astype("Int64")
    con.execute("CREATE TABLE metric_scores AS SELECT * FROM frame")

    compose_scores(con, standard)
    stored = con.execute("SELECT composite FROM composite_scores").fetchall()
    arrays = read_metric_arrays(con)
    con.close()

    expected = [-1 if c is None else round(c * 100) for (c,) in stored]
    assert composite_cents(arrays, standard).tolist() == expected


def test_composites_follow_metrics_regrouped_into_other_dimensions(con):
    frame = pd.DataFrame(
        {"_row": [2, 3, 4], "m_a": [5, 1, 3], "m_b": [1, 5, 2], "m_c": [2, 2, 5]}
    )
    con.execute("CREATE TABLE metric_scores AS SELECT * FROM frame")

    def dims(*groups):
        return [
            {
                "key": key,
                "weight": weight,
                "metrics": [quantile(m, "amount", weight=50) for m in group],
            }
            for key, weight, group in groups
        ]

    first = make_standard(None, dimensions=dims(("x", 10, "ab"), ("y", 90, "c")))
    # The same weights per dimension, but y now holds b instead of c.
    regrouped = make_standard(
        None, dimensions=dims(("x", 10, "a"), ("y", 90, "b"), ("z", 1, "c"))
    )
    arrays = read_metric_arrays(con)
    composite_cents(arrays, first)

    compose_scores(con, regrouped)
    stored = con.execute("SELECT composite FROM composite_scores").fetchall()

    expected = [round(c * 100) for (c,) in stored]
    assert composite_cents(arrays, regrouped).tolist() == expected


def test_composites_are_rounded_as_duckdb_rounds_half_cents():
    # Doubles just under, on and over a half cent, and composites such as
    # 25 * 1/8 = 3.125 that the weighted means land on exactly.
    values = np.concatenate(
        [
            np.arange(0, 10_001) / 100 + 0.005,
            np.nextafter(np.arange(0, 10_001) / 100 + 0.005, 0),
            np.nextafter(np.arange(0, 10_001) / 100 + 0.005, 200),
            25 * (np.arange(1, 4_001) / 40),
            np.random.default_rng(5).uniform(0, 100, 50_000),
        ]
    )
    con = duckdb.connect()
    halves = pd.DataFrame({"x": values})

    rounded = con.execute("SELECT round(x, 2) AS r FROM halves").fetchnumpy()["r"]
    con.close()

    assert np.array_equal(scoring._round_cents(values), np.rint(rounded * 100))


def test_the_index_refuses_a_standard_with_other_gates(con):
    load(con, {"amount": [1.0, 2.0], "credit_grade": ["A", "D"]})
    standard = make_standard([quantile("m", "amount")])
    score_clients(con, standard)
    arrays = read_metric_arrays(con)
    index = composite_index(arrays, read_gate_groups(con, standard), standard)
    gated = make_standard([quantile("m", "amount")], gates=GATE_CHOICES[:1])

    with pytest.raises(ValueError):
        count_tiers_indexed(index, gated)
    with pytest.raises(ValueError):
        composite_index(arrays, read_gate_groups(con, standard), gated)


def test_scored_rows_keep_the_client_order_and_reasons(con):
    load(con, {"amount": [3.0, 1.0, 2.0], "credit_grade": ["D", "A", "A"]})
    gate = {**GATE_CHOICES[0], "label": {"zh": "信用D", "en": "grade D"}}
    standard = make_standard([quantile("m", "amount")], gates=[gate])

    score_clients(con, standard, lang="en")

    rows = con.execute("SELECT _row, client_id, reason FROM scored").fetchall()
    assert [r[:2] for r in rows] == [(2, "0001"), (3, "0002"), (4, "0003")]
    assert rows[0][2] == (
        "Composite 100.00, at or above the 钻石 line of 75; rule 'grade D' set the "
        "tier to 普通"
    )
    assert rows[1][2] == "Composite 0.00, at or above the 普通 line of 0"


TEXT_VALUES = ["A", " a", "b ", "B", "", "  ", None, "投资", "c"]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(TEXT_VALUES),
            st.sampled_from(TEXT_VALUES),
            st.one_of(st.none(), st.integers(0, 6).map(float)),
        ),
        min_size=1,
        max_size=40,
    ),
    missing=st.sampled_from(["lowest", "exclude"]),
    gate_ops=st.lists(
        st.tuples(
            st.sampled_from(["credit_grade", "channel"]),
            st.sampled_from(["in", "not_in", "==", "!=", ">=", "missing"]),
            st.sampled_from(["a", " B ", "投资", "c"]),
        ),
        max_size=3,
    ),
    mode=st.sampled_from(["score", "quota"]),
)
def test_text_matched_by_distinct_values_scores_as_row_by_row(
    rows, missing, gate_ops, mode
):
    grade, channel, amount = (list(c) for c in zip(*rows))
    metrics = [
        quantile("m", "amount", bins=3),
        {
            "key": "grade",
            "field": "credit_grade",
            "method": "category",
            "weight": 50,
            "categories": {"A": 5, " b": 3},
            "other": 2,
            "missing": missing,
        },
    ]
    gates = [
        {
            "field": field,
            "op": op,
            "value": [value] if op in ("in", "not_in") else value,
            "action": "cap" if i % 2 else "force",
            "tier": ["普通", "黄金"][i % 2],
        }
        for i, (field, op, value) in enumerate(gate_ops)
    ]
    standard = make_standard(metrics, gates=gates, tier_mode=mode)

    def run(limit, in_steps=False):
        con = duckdb.connect()
        load(con, {"credit_grade": grade, "channel": channel, "amount": amount})
        saved, scoring.DISTINCT_VALUES_LIMIT = scoring.DISTINCT_VALUES_LIMIT, limit
        try:
            if in_steps:
                reports = score_metrics(con, standard)
                compose_scores(con, standard)
                result = scoring.assign_tiers(con, standard, reports)
            else:
                result = score_clients(con, standard)
            tables = [
                con.execute(f"SELECT * FROM {t}").df()
                for t in ("scored", "metric_scores", "composite_scores")
            ]
            index = slider_index(con, standard)
            slider = (count_tiers_indexed(index, standard), count_tiers(con, standard))
        finally:
            scoring.DISTINCT_VALUES_LIMIT = saved
            con.close()
        return result, tables, slider

    # Limit 0 leaves every text field to the row-by-row SQL.
    row_by_row, matched, in_steps = run(0), run(64), run(64, in_steps=True)

    for other in (matched, in_steps):
        assert other[0].metric_reports == row_by_row[0].metric_reports
        assert other[0].tier_counts.equals(row_by_row[0].tier_counts)
        assert all(a.equals(b) for a, b in zip(other[1], row_by_row[1]))
        assert all(a.equals(row_by_row[0].tier_counts) for a in other[2])


def test_one_pass_and_steps_report_missing_values_and_cut_points_alike(con):
    load(
        con,
        {
            "amount": [None, 5.0, 1.0, 5.0, 3.0, None],
            "credit_grade": ["A", " ", None, "b", "A", "x"],
        },
    )
    metrics = [
        quantile("m", "amount"),
        {
            "key": "grade",
            "field": "credit_grade",
            "method": "category",
            "weight": 1,
            "categories": {"A": 5, "B": 3},
            "missing": "exclude",
        },
    ]
    standard = make_standard(metrics)

    one_pass = score_clients(con, standard).metric_reports
    steps = score_metrics(con, standard)

    assert one_pass == steps
    amount, grade = one_pass
    assert amount.missing == 2
    assert [(c.score, c.lowest, c.highest, c.clients) for c in amount.cut_points] == [
        (1, 1.0, 1.0, 1),
        (2, 3.0, 3.0, 1),
        (4, 5.0, 5.0, 2),
    ]
    assert grade.missing == 2
    assert [(c.score, c.clients) for c in grade.cut_points] == [(1, 1), (3, 1), (5, 2)]
