"""Insight beside the tiers: what would move a client up, and RFM classes.

What would move a client up (``next_steps``), in SQL over all clients:

1. ``contributions``: per client, each dimension's share of the composite
   (its weight over the weights of the dimensions the client has a score
   for) and, within a dimension, each metric's weight over the weights of the
   metrics it has a score for, exactly as ``scoring.compose_scores`` weighs
   them. One score step of a metric is worth
   ``25 × dimension share × metric share`` composite points.
2. ``gaps``: the line of the tier above the client's tier before gates (its
   ``min_score``; in quota mode the lowest composite now in that tier) minus
   the unrounded composite.
3. ``candidates``: for every metric scored below 5, the whole score steps
   ``k = ceil(gap / step points)`` it needs alone; feasible when
   ``score + k ≤ 5``. The best candidate needs the fewest steps, then gives
   the most points per step, then comes first in the standard. When no
   single metric closes the gap, the one that adds the most points is named.
4. ``targets``: the natural value at which the target score starts:
   thresholds from the cuts, range from the linear map (score 1 + round(4 ×
   fraction), so score s starts at fraction (s − 1.5) / 4), category the
   lowest-scoring category that reaches it, quantile the least value that
   scores it now (ranks move a little when the client itself moves, so this
   is the line as it stands today).

Metrics scored NULL (missing under ``exclude``) are not proposed: a new value
would change the renormalised weights. A client held back by a gate gets the
gate named instead. The shown points are rounded to 0.01.

RFM eight classes (``rfm_classes``): recency (days), frequency and amount
each high or low against the mean (default), the median or a manager's
value. High means strictly better than the split: fewer days, more purchases,
more amount, so a heavy tie at the median (most clients bought once) reads as
low, not high. A client missing any of the three is left unclassified.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import pandas as pd

from tiering.clv import clv_settings, clv_sql, has_clv_inputs
from tiering.i18n import t, template
from tiering.scoring import (
    SCORED,
    dimension_column,
    metric_column,
    table_columns,
)
from tiering.sql import quote_identifier
from tiering.standard import Metric, Standard

logger = logging.getLogger(__name__)

INSIGHT = "insight"
MONEY_FIELDS = frozenset({"amount", "assets", "income", "debt", "clv"})
SplitRule = Literal["mean", "median", "manual"]
SPLIT_RULES: tuple[SplitRule, ...] = ("mean", "median", "manual")
RFM_FIELDS = ("recency_days", "purchase_count", "amount")
# (R high, F high, M high) → class key; R high means a recent purchase.
RFM_CLASSES: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important_value",
    (True, False, True): "important_develop",
    (False, True, True): "important_keep",
    (False, False, True): "important_retain",
    (True, True, False): "general_value",
    (True, False, False): "general_develop",
    (False, True, False): "general_keep",
    (False, False, False): "general_retain",
}
# Needs and behaviour fields that can be grouped, and the buckets of numbers.
GROUP_FIELDS = (
    "motive",
    "preferred_layout",
    "preferred_area",
    "preferred_district",
    "price_sensitivity",
    "service_needs",
    "channel",
    "info_source",
    "decision_cycle_days",
)
BUCKETS: dict[str, tuple[float, ...]] = {
    "decision_cycle_days": (14, 30, 60, 120),
    "preferred_area": (90, 120, 144),
}


# --- what would move the client up ------------------------------------------


@dataclass(frozen=True)
class _Scored:
    """One metric that has a score column: its place in the standard."""

    index: int
    d_index: int
    dimension: str
    metric: Metric
    column: str


def _scored_metrics(standard: Standard, present: set[str]) -> list[_Scored]:
    rows = []
    index = 0
    for d_index, dimension in enumerate(standard.dimensions):
        for metric in dimension.metrics:
            column = metric_column(metric)
            if column in present and dimension_column(dimension.key) in present:
                rows.append(_Scored(index, d_index, dimension.key, metric, column))
            index += 1
    return rows


def _present_weights(
    standard: Standard, metrics: list[_Scored]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SQL sums of the weights a client has scores for, and their parameters.

    Returns the dimension-weight sum, the metric-weight sum per dimension key,
    and the parameters (``dw<d>``, ``mw<m>``).
    """
    params: dict[str, Any] = {}
    dimension_terms, within = [], {}
    for d_index, dimension in enumerate(standard.dimensions):
        own = [m for m in metrics if m.d_index == d_index]
        if not own:
            continue
        params[f"dw{d_index}"] = dimension.weight
        column = f"s.{quote_identifier(dimension_column(dimension.key))}"
        dimension_terms.append(
            f"CASE WHEN {column} IS NULL THEN 0 ELSE $dw{d_index} END"
        )
        terms = []
        for m in own:
            params[f"mw{m.index}"] = m.metric.weight
            score = f"s.{quote_identifier(m.column)}"
            terms.append(f"CASE WHEN {score} IS NULL THEN 0 ELSE $mw{m.index} END")
        within[dimension.key] = " + ".join(terms)
    return " + ".join(dimension_terms), within, params


def _exact_composite(standard: Standard, metrics: list[_Scored]) -> str:
    """SQL for the unrounded composite: the weighted mean scoring uses."""
    numerator, denominator = [], []
    for d_index in sorted({m.d_index for m in metrics}):
        dimension = standard.dimensions[d_index]
        ref = f"s.{quote_identifier(dimension_column(dimension.key))}"
        numerator.append(f"coalesce({ref} * $dw{d_index}, 0)")
        denominator.append(f"CASE WHEN {ref} IS NULL THEN 0 ELSE $dw{d_index} END")
    mean = f"({' + '.join(numerator)}) / nullif({' + '.join(denominator)}, 0)"
    return f"25 * ({mean} - 1)"


def _tier_lines(standard: Standard) -> tuple[str, dict[str, Any]]:
    """SQL CTE ``lines`` (rank, line): the composite that reaches each tier."""
    names = standard.tier_names()
    if standard.tier_mode == "score":
        return (
            (
                "lines AS (SELECT unnest(range(0, len($line_mins))) AS rank, "
                "unnest($line_mins) AS line)"
            ),
            {"line_mins": [tier.min_score for tier in standard.tiers]},
        )
    # Quota mode has no fixed line: the lowest composite in the tier today.
    return (
        f"""lines AS (
            SELECT list_position($line_names, tier_before_gates) - 1 AS rank,
                   min(composite) AS line
            FROM {SCORED} WHERE tier_before_gates IS NOT NULL GROUP BY rank)""",
        {"line_names": names},
    )


def _gaps_sql(standard: Standard, metrics: list[_Scored], dim_total: str) -> str:
    """SQL CTE ``gaps``: next tier rank, its line and the exact points missing."""
    return f"""gaps AS (
        SELECT s._row,
               list_position($names, s.tier_before_gates) - 2 AS next_rank,
               l.line AS line,
               l.line - ({_exact_composite(standard, metrics)}) AS gap,
               round(l.line - s.composite, 2) AS shown_gap,
               {dim_total} AS dim_total
        FROM {SCORED} AS s
        LEFT JOIN lines AS l
          ON l.rank = list_position($names, s.tier_before_gates) - 2
        WHERE s.composite IS NOT NULL)"""


def _candidates_sql(metrics: list[_Scored], within: dict[str, str]) -> str:
    """SQL CTE ``candidates``: per metric below 5, points per step and steps."""
    branches = []
    for m in metrics:
        score = f"s.{quote_identifier(m.column)}"
        field = f"c.{quote_identifier(m.metric.field)}"
        category = m.metric.method == "category"
        number = "NULL::DOUBLE" if category else f"TRY_CAST({field} AS DOUBLE)"
        text = f"CAST({field} AS VARCHAR)" if category else "NULL::VARCHAR"
        step = (
            f"25.0 * $dw{m.d_index} / nullif(g.dim_total, 0) * $mw{m.index} "
            f"/ nullif({within[m.dimension]}, 0)"
        )
        branches.append(
            f"""SELECT g._row, {m.index} AS metric_index, {score} AS score,
                   {number} AS value, {text} AS category_value,
                   {step} AS step_points, g.gap
            FROM gaps AS g JOIN {SCORED} AS s USING (_row)
            JOIN clients AS c USING (_row)
            WHERE g.gap > 0 AND {score} IS NOT NULL AND {score} < 5
              AND $mw{m.index} > 0"""
        )
    union = "\nUNION ALL\n".join(branches)
    return f"""candidate_steps AS ({union}),
    candidates AS (
        SELECT *,
               CAST(ceil(gap / step_points - 1e-9) AS INTEGER) AS steps,
               score + CAST(ceil(gap / step_points - 1e-9) AS INTEGER) <= 5
                   AS closes_gap
        FROM candidate_steps WHERE step_points > 0)"""


def _best_sql() -> str:
    """SQL CTE ``best``: one candidate per client, the fastest to close the gap."""
    return """best AS (
        SELECT *,
               CASE WHEN closes_gap THEN score + steps ELSE 5 END AS target_score,
               CASE WHEN closes_gap THEN steps ELSE 5 - score END
                   * step_points AS points_gained
        FROM candidates
        QUALIFY row_number() OVER (
            PARTITION BY _row
            ORDER BY closes_gap DESC,
                     CASE WHEN closes_gap THEN steps END ASC,
                     CASE WHEN closes_gap THEN step_points
                          ELSE (5 - score) * step_points END DESC,
                     metric_index) = 1)"""


def _target_rows(metrics: list[_Scored]) -> list[tuple[int, int, Any, Any]]:
    """(metric index, score, start value, category) for non-quantile metrics."""
    rows = []
    for m in metrics:
        metric = m.metric
        for score in range(2, 6):
            if metric.method == "thresholds":
                higher = metric.direction == "higher_better"
                cut = metric.cuts[score - 2 if higher else 5 - score]
                rows.append((m.index, score, cut, None))
            elif metric.method == "range":
                step = (metric.high - metric.low) * (score - 1.5) / 4
                higher = metric.direction == "higher_better"
                start = metric.low + step if higher else metric.high - step
                rows.append((m.index, score, start, None))
            elif metric.method == "category":
                reaching = sorted(
                    (points, name)
                    for name, points in metric.categories.items()
                    if points >= score
                )
                rows.append(
                    (m.index, score, None, reaching[0][1] if reaching else None)
                )
    return rows


def _targets_sql(metrics: list[_Scored], params: dict[str, Any]) -> str:
    """SQL CTE ``targets`` (metric_index, score, start, category)."""
    rows = _target_rows(metrics)
    params["target_index"] = [row[0] for row in rows] or [-1]
    params["target_score"] = [row[1] for row in rows] or [0]
    params["target_start"] = [row[2] for row in rows] or [None]
    params["target_category"] = [row[3] for row in rows] or [None]
    parts = [
        """SELECT unnest($target_index) AS metric_index,
                  unnest($target_score) AS score,
                  CAST(unnest($target_start) AS DOUBLE) AS start,
                  CAST(unnest($target_category) AS VARCHAR) AS category"""
    ]
    for m in metrics:
        if m.metric.method != "quantile":
            continue
        score = f"s.{quote_identifier(m.column)}"
        value = f"TRY_CAST(c.{quote_identifier(m.metric.field)} AS DOUBLE)"
        least = "min" if m.metric.direction == "higher_better" else "max"
        parts.append(
            f"""SELECT {m.index}, wanted.score,
                   {least}({value}) FILTER (WHERE {score} >= wanted.score),
                   NULL::VARCHAR
            FROM {SCORED} AS s JOIN clients AS c USING (_row),
                 (SELECT unnest(range(2, 6)) AS score) AS wanted
            GROUP BY wanted.score"""
        )
    return "targets AS (" + "\nUNION ALL\n".join(parts) + ")"


def _step_text_sql(metrics: list[_Scored], params: dict[str, Any], lang: str) -> str:
    """SQL for the next-step sentence of one client (columns of ``explained``)."""
    params["metric_labels"] = [
        m.metric.label.get(lang) or m.metric.label.get("zh") or m.metric.key
        for m in metrics
    ]
    params["metric_indexes"] = [m.index for m in metrics]
    params["money_indexes"] = [
        m.index for m in metrics if m.metric.field in MONEY_FIELDS
    ] or [-1]
    params["lower_indexes"] = [
        m.index for m in metrics if m.metric.direction == "lower_better"
    ] or [-1]
    for key in ("up", "down", "fill", "category", "short", "reach", "top", "gate"):
        params[f"text_{key}"] = template(f"insight.next.{key}", lang)
    params["money_wan"] = template("insight.unit.wan", lang)
    params["money_yuan"] = template("insight.unit.yuan", lang)
    label = "$metric_labels[list_position($metric_indexes, b.metric_index)]"
    lower = "list_contains($lower_indexes, b.metric_index)"
    delta = f"CASE WHEN {lower} THEN b.value - tg.start ELSE tg.start - b.value END"
    sentence = f"""CASE
        WHEN tg.category IS NOT NULL
            THEN format($text_category, {label}, tg.category)
        WHEN b.value IS NULL
            THEN format($text_fill, {label}, {_amount("tg.start")})
        WHEN {lower}
            THEN format($text_down, {label}, {_amount(delta)},
                        {_amount("tg.start")})
        ELSE format($text_up, {label}, {_amount(delta)},
                    {_amount("tg.start")})
    END"""
    return f"""CASE
        WHEN e.gate IS NOT NULL AND e.tier_rank > e.rank_before
            THEN format($text_gate, e.gate)
        WHEN e.next_rank < 0 THEN $text_top
        WHEN b.metric_index IS NULL THEN NULL
        WHEN NOT b.closes_gap
            THEN format($text_short, {sentence},
                        {_plain("e.shown_gap - b.points_gained")}, e.next_tier)
        ELSE format($text_reach, {sentence}, e.next_tier)
    END"""


def _plain(expression: str) -> str:
    """SQL text of a number rounded to 0.01 without trailing zeros."""
    text = f"format('{{:.2f}}', round({expression}, 2))"
    return f"regexp_replace(regexp_replace({text}, '0+$', ''), '\\.$', '')"


def _amount(expression: str) -> str:
    """SQL text of a number: money in 万元 from 10,000 up, else plain."""
    money = "list_contains($money_indexes, b.metric_index)"
    return f"""(CASE
        WHEN {money} AND abs({expression}) >= 10000
            THEN {_plain(f"({expression}) / 10000")} || $money_wan
        WHEN {money} THEN {_plain(expression)} || $money_yuan
        ELSE {_plain(expression)} END)"""


def next_steps_sql(
    standard: Standard, present: set[str], lang: str = "zh"
) -> tuple[str, dict[str, Any]]:
    """Return the SQL (and parameters) of every scored client's next step.

    Args:
        standard: the standard the ``scored`` table was built with.
        present: the columns of ``scored``.
        lang: language of the sentence.

    Returns:
        A SELECT giving ``_row``, ``next_tier``, ``points_to_next`` (rounded
        to 0.01; NULL in the best tier), ``next_metric`` (metric key),
        ``target_score`` and ``next_step`` (the sentence), one row per
        scored client.
    """
    metrics = _scored_metrics(standard, present)
    dim_total, within, params = _present_weights(standard, metrics)
    lines, line_params = _tier_lines(standard)
    params.update(line_params)
    params["names"] = standard.tier_names()
    ctes = [lines, _gaps_sql(standard, metrics, dim_total or "0")]
    if metrics:
        ctes += [_candidates_sql(metrics, within), _best_sql()]
    else:
        ctes.append(
            "best AS (SELECT NULL::INTEGER AS _row, NULL::INTEGER AS metric_index, "
            "NULL::INTEGER AS target_score, NULL::DOUBLE AS value, "
            "NULL::BOOLEAN AS closes_gap, NULL::DOUBLE AS points_gained WHERE false)"
        )
    ctes.append(_targets_sql(metrics, params))
    ctes.append(
        f"""explained AS (
            SELECT s._row, s.gate, s.tier_rank,
                   list_position($names, s.tier_before_gates) - 1 AS rank_before,
                   g.next_rank, g.shown_gap,
                   CASE WHEN g.next_rank >= 0 THEN $names[g.next_rank + 1] END
                       AS next_tier
            FROM {SCORED} AS s JOIN gaps AS g USING (_row))"""
    )
    keys = [m.metric.key for m in metrics]
    params["metric_keys"] = keys or [""]
    params["metric_indexes"] = [m.index for m in metrics] or [-1]
    joined = ",\n".join(ctes)
    sql = f"""
        WITH {joined}
        SELECT e._row, e.next_tier,
               CASE WHEN e.next_rank >= 0 THEN greatest(e.shown_gap, 0) END
                   AS points_to_next,
               $metric_keys[list_position($metric_indexes, b.metric_index)]
                   AS next_metric,
               b.target_score,
               {_step_text_sql(metrics, params, lang)} AS next_step
        FROM explained AS e
        LEFT JOIN best AS b USING (_row)
        LEFT JOIN targets AS tg
          ON tg.metric_index = b.metric_index AND tg.score = b.target_score
    """
    return sql, params


def apportion_points(points: list[float], total: float) -> list[float]:
    """Round contributions to 0.01 so that they sum exactly to ``total``.

    Each value is rounded down to whole cents, then the cents still missing
    go to the values with the largest remainders (largest-remainder
    rounding), so a table of rounded points always adds up to the shown,
    rounded composite. Plain rounding could be off by up to 0.005 per metric.

    Args:
        points: the unrounded contributions (they sum to the unrounded
            composite, within 0.005 of ``total``).
        total: the composite as shown, rounded to 0.01.

    Returns:
        The rounded contributions, in the same order.
    """
    if not points:
        return []
    cents = [math.floor(value * 100 + 1e-9) for value in points]
    missing = round(total * 100) - sum(cents)
    order = sorted(
        range(len(points)), key=lambda i: points[i] * 100 - cents[i], reverse=True
    )
    for position in range(abs(missing)):
        index = order[position % len(points)]
        cents[index] += 1 if missing > 0 else -1
    return [cent / 100 for cent in cents]


# --- RFM eight classes -------------------------------------------------------


@dataclass(frozen=True)
class RfmSplit:
    """How R, F and M are split into high and low, and the values used."""

    rule: SplitRule = "mean"
    recency_days: float | None = None
    purchase_count: float | None = None
    amount: float | None = None


def rfm_split_values(
    con: duckdb.DuckDBPyConnection, split: RfmSplit = RfmSplit()
) -> RfmSplit | None:
    """Return the split values for R, F and M under ``split.rule``.

    Args:
        con: a connection holding ``clients``.
        split: the rule; for ``manual`` the three values it carries are kept
            (a value left None falls back to the mean).

    Returns:
        A ``RfmSplit`` with all three values filled, or None when the clients
        lack recency, frequency or amount.
    """
    columns = table_columns(con, "clients")
    if not all(name in columns for name in RFM_FIELDS):
        return None
    function = "median" if split.rule == "median" else "avg"
    selects = ", ".join(f"{function}({quote_identifier(name)})" for name in RFM_FIELDS)
    computed = con.execute(f"SELECT {selects} FROM clients").fetchall()[0]
    values = {}
    for name, value in zip(RFM_FIELDS, computed, strict=True):
        manual = getattr(split, name) if split.rule == "manual" else None
        values[name] = float(manual if manual is not None else (value or 0.0))
    return RfmSplit(rule=split.rule, **values)


def rfm_class_sql(split: RfmSplit) -> tuple[str, dict[str, Any]]:
    """SQL of a client's RFM class key (over ``clients AS c``), and parameters."""
    recent = f"c.{quote_identifier('recency_days')} < $rfm_r"
    frequent = f"c.{quote_identifier('purchase_count')} > $rfm_f"
    spending = f"c.{quote_identifier('amount')} > $rfm_m"
    arms = " ".join(
        f"WHEN {'' if r else 'NOT '}({recent}) AND {'' if f else 'NOT '}({frequent}) "
        f"AND {'' if m else 'NOT '}({spending}) THEN '{key}'"
        for (r, f, m), key in RFM_CLASSES.items()
    )
    fields = " OR ".join(f"c.{quote_identifier(name)} IS NULL" for name in RFM_FIELDS)
    params = {
        "rfm_r": split.recency_days,
        "rfm_f": split.purchase_count,
        "rfm_m": split.amount,
    }
    return f"CASE WHEN {fields} THEN NULL {arms} END", params


def rfm_mapping_table(split: RfmSplit, lang: str = "zh") -> pd.DataFrame:
    """Return the eight classes with their R, F, M levels and the split values.

    The table the page shows so that a reader sees which definition is used.
    """
    high, low = t("insight.rfm.high", lang), t("insight.rfm.low", lang)
    rows = [
        {
            t("insight.rfm.class", lang): t(f"insight.rfm.{key}", lang),
            f"R ({t('insight.rfm.r_rule', lang, value=_short(split.recency_days))})": high
            if r
            else low,
            f"F ({t('insight.rfm.f_rule', lang, value=_short(split.purchase_count))})": high
            if f
            else low,
            f"M ({t('insight.rfm.m_rule', lang, value=_short(split.amount))})": high
            if m
            else low,
        }
        for (r, f, m), key in RFM_CLASSES.items()
    ]
    return pd.DataFrame(rows)


def _short(value: float | None) -> str:
    if value is None:
        return "—"
    return (
        f"{value:,.0f}"
        if abs(value) >= 1000
        else f"{value:.2f}".rstrip("0").rstrip(".")
    )


def rfm_by_tier(
    con: duckdb.DuckDBPyConnection, standard: Standard, lang: str = "zh"
) -> pd.DataFrame:
    """Return clients per RFM class (rows) and tier (columns) from ``insight``.

    Classes follow the mapping table's order; unclassified clients form the
    last row. Zero counts are kept.
    """
    counts = con.execute(
        f"""
        SELECT i.rfm_class AS rfm_class, s.tier AS tier, count(*) AS clients
        FROM {INSIGHT} AS i JOIN {SCORED} AS s USING (_row)
        WHERE s.tier IS NOT NULL GROUP BY ALL
        """
    ).df()
    keys = list(RFM_CLASSES.values())
    counts["rfm_class"] = counts["rfm_class"].fillna("none")
    table = counts.pivot_table(
        index="rfm_class", columns="tier", values="clients", fill_value=0
    ).reindex(index=keys + ["none"], columns=standard.tier_names(), fill_value=0)
    table = table.loc[(table.sum(axis=1) > 0) | table.index.isin(keys)]
    table.index = [t(f"insight.rfm.{key}", lang) for key in table.index]
    table.index.name = t("insight.rfm.class", lang)
    table.columns.name = None
    return table.astype(int)


# --- needs and behaviour groups ----------------------------------------------


def group_fields(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the needs and behaviour fields present in ``clients``."""
    columns = table_columns(con, "clients")
    return [name for name in GROUP_FIELDS if name in columns]


def _group_expression(field_key: str, params: dict[str, Any]) -> str:
    column = f"c.{quote_identifier(field_key)}"
    if field_key not in BUCKETS:
        return f"coalesce(nullif(trim(CAST({column} AS VARCHAR)), ''), $blank)"
    edges = BUCKETS[field_key]
    params["edges"] = list(edges)
    arms = [f"WHEN {column} IS NULL THEN $blank"]
    low = None
    for i, edge in enumerate(edges):
        label = f"≤ {edge:g}" if low is None else f"{low:g}–{edge:g}"
        params[f"bucket{i}"] = label
        arms.append(f"WHEN {column} <= $edges[{i + 1}] THEN $bucket{i}")
        low = edge
    params["bucket_top"] = f"> {edges[-1]:g}"
    return f"CASE {' '.join(arms)} ELSE $bucket_top END"


def groups_by_tier(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    field_key: str,
    lang: str = "zh",
) -> pd.DataFrame:
    """Cross one needs or behaviour field with the tiers.

    Numbers are bucketed (decision cycle in days, area in ㎡); blanks form
    their own group.

    Args:
        con: a connection holding ``clients`` and ``scored``.
        standard: gives the tier order.
        field_key: one of ``GROUP_FIELDS`` present in ``clients``.
        lang: language of the headings.

    Returns:
        One row per group and tier: clients, share of the tier's clients (%)
        and the average composite, best tier first.
    """
    params: dict[str, Any] = {"blank": t("insight.group.blank", lang)}
    group = _group_expression(field_key, params)
    frame = con.execute(
        f"""
        WITH grouped AS (
            SELECT {group} AS grp, s.tier, s.tier_rank, s.composite
            FROM {SCORED} AS s JOIN clients AS c USING (_row)
            WHERE s.tier IS NOT NULL
        )
        SELECT grp, tier, count(*) AS clients,
               round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY tier), 1)
                   AS share,
               round(avg(composite), 2) AS composite
        FROM grouped GROUP BY grp, tier, tier_rank
        ORDER BY tier_rank, clients DESC, grp
        """,
        params,
    ).df()
    return frame.rename(
        columns={
            "grp": t("insight.group.group", lang),
            "tier": t("results.column.tier", lang),
            "clients": t("chart.clients", lang),
            "share": t("insight.group.share", lang),
            "composite": t("insight.group.composite", lang),
        }
    )


# --- the insight table --------------------------------------------------------


def _follow_up_sql(
    standard: Standard, columns: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """SQL of the next follow-up date from the tier's cadence in the playbook."""
    if not standard.playbook:
        return "NULL::DATE", {}
    params = {
        "playbook_tiers": [entry.tier for entry in standard.playbook],
        "playbook_days": [entry.cadence_days for entry in standard.playbook],
    }
    cadence = "$playbook_days[list_position($playbook_tiers, s.tier)]"
    start = "$as_of"
    if "last_interaction_date" in columns:
        start = f"coalesce(c.{quote_identifier('last_interaction_date')}, $as_of)"
    return f"CAST({start} + to_days(CAST({cadence} AS INTEGER)) AS DATE)", params


def build_insight_table(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    as_of: dt.date | None = None,
    lang: str = "zh",
    split: RfmSplit = RfmSplit(),
) -> None:
    """Write the table ``insight``: one row per client of ``scored``.

    Columns: ``_row``, ``next_tier``, ``points_to_next``, ``next_metric``,
    ``target_score``, ``next_step`` (sentence in ``lang``), ``rfm_class``
    (class key, NULL when unclassified), ``rfm_name`` (its name), ``clv`` (NULL without amount and
    purchase count) and ``next_follow_up`` (the last interaction date, or
    ``as_of`` when unknown, plus the tier's cadence; NULL without a
    playbook entry). Scoring drops the table when tiers are recut, so it is
    never stale; the export joins it when present.

    Args:
        con: a connection holding ``clients`` and ``scored``.
        standard: the standard ``scored`` was built with.
        as_of: the date of the run; default today.
        lang: language of the next-step sentence.
        split: how the RFM classes split high and low.
    """
    columns = table_columns(con, "clients")
    sql, params = next_steps_sql(standard, set(table_columns(con, SCORED)), lang)
    values = rfm_split_values(con, split)
    rfm, rfm_params = ("NULL::VARCHAR", {}) if values is None else rfm_class_sql(values)
    clv, clv_params = ("NULL::DOUBLE", {})
    if has_clv_inputs(columns):
        clv, clv_params = clv_sql(clv_settings(standard), "c.")
    follow_up, follow_params = _follow_up_sql(standard, columns)
    params.update(rfm_params | clv_params | follow_params)
    params["rfm_keys"] = list(RFM_CLASSES.values())
    params["rfm_names"] = [t(f"insight.rfm.{key}", lang) for key in params["rfm_keys"]]
    if follow_params:
        params["as_of"] = as_of or dt.date.today()
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {INSIGHT} AS
        WITH steps AS ({sql})
        SELECT s._row, st.next_tier, st.points_to_next, st.next_metric,
               st.target_score, st.next_step,
               {rfm} AS rfm_class,
               $rfm_names[list_position($rfm_keys, {rfm})] AS rfm_name,
               {clv} AS clv, {follow_up} AS next_follow_up
        FROM {SCORED} AS s JOIN clients AS c USING (_row)
        LEFT JOIN steps AS st USING (_row)
        ORDER BY s._row
        """,
        params,
    )
    logger.info("insight table built for standard version %d", standard.version)


def export_columns(lang: str = "zh") -> list[tuple[str, str, str]]:
    """Return (header, SQL over ``insight_row``, kind) of the columns the export adds.

    The RFM class is written by name, in the language the table was built in.
    """
    return [
        (
            t("insight.column.points_to_next", lang),
            "insight_row.points_to_next",
            "number",
        ),
        (t("insight.column.next_step", lang), "insight_row.next_step", "text"),
        (t("insight.column.rfm_class", lang), "insight_row.rfm_name", "text"),
        (t("insight.column.clv", lang), "insight_row.clv", "number"),
        (
            t("insight.column.next_follow_up", lang),
            "insight_row.next_follow_up",
            "date",
        ),
    ]


def playbook_frame(standard: Standard, lang: str = "zh") -> pd.DataFrame:
    """Return the playbook as a table, one row per tier, best tier first.

    Tiers without an entry get an empty row, so an editor shows every tier.
    """
    entries = {entry.tier: entry for entry in standard.playbook}
    rows = []
    for name in standard.tier_names():
        entry = entries.get(name)
        rows.append(
            {
                "tier": name,
                "services": entry.services if entry else "",
                "cadence_days": entry.cadence_days if entry else None,
                "owner_role": entry.owner_role if entry else "",
                "note": entry.note if entry else "",
            }
        )
    return pd.DataFrame(rows)


def playbook_headers(lang: str = "zh") -> dict[str, str]:
    """Return the playbook table's column headings in ``lang``."""
    keys = ("tier", "services", "cadence_days", "owner_role", "note")
    return {key: t(f"insight.playbook.{key}", lang) for key in keys}


def with_playbook(standard: Standard, table: pd.DataFrame) -> Standard:
    """Return ``standard`` with the playbook edited in ``table``.

    Rows without a cadence are left out (that tier has no entry).

    Raises:
        StandardError: a cadence or text is invalid; names the row.
    """
    entries = []
    for row in table.to_dict("records"):
        cadence = row.get("cadence_days")
        if cadence is None or pd.isna(cadence):
            continue
        entries.append(
            {
                "tier": row["tier"],
                "services": str(row.get("services") or ""),
                "cadence_days": int(cadence)
                if float(cadence).is_integer()
                else cadence,
                "owner_role": str(row.get("owner_role") or ""),
                "note": str(row.get("note") or ""),
            }
        )
    data = standard.to_dict()
    data["playbook"] = entries
    return Standard.from_dict(data)


def client_next_step(
    con: duckdb.DuckDBPyConnection, client_id: str
) -> dict[str, Any] | None:
    """Return one client's row of ``insight`` as a dict; None if absent."""
    frame = con.execute(
        f"""
        SELECT i.* FROM {INSIGHT} AS i JOIN {SCORED} AS s USING (_row)
        WHERE s.client_id = $id
        """,
        {"id": client_id},
    ).df()
    return None if frame.empty else frame.iloc[0].to_dict()
