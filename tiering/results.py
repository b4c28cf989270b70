"""Views over the ``scored`` table for the results page.

Each function runs one SQL query and returns a small DataFrame: tier
distribution, average dimension scores per tier, the R×F matrix, a filtered
client list, and one client's score breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from tiering.i18n import t
from tiering.insight import apportion_points
from tiering.scoring import (
    SCORED,
    CutPoint,
    MetricReport,
    dimension_column,
    metric_column,
    table_columns,
)
from tiering.sql import quote_identifier
from tiering.standard import Standard

CLIENT_LIST_LIMIT = 5000


def dimension_means_by_tier(
    con: duckdb.DuckDBPyConnection, standard: Standard, lang: str = "zh"
) -> pd.DataFrame:
    """Return the average score (1–5) of each dimension per tier, best tier first.

    Columns: tier and client count, then one column per dimension, all
    headed in ``lang``.
    """
    present = set(table_columns(con, SCORED))
    dimensions = [d for d in standard.dimensions if dimension_column(d.key) in present]
    averages = ", ".join(
        f"round(avg({quote_identifier(dimension_column(d.key))}), 2) "
        f"AS {quote_identifier(standard.label(d, lang))}"
        for d in dimensions
    )
    tier = quote_identifier(t("results.column.tier", lang))
    clients = quote_identifier(t("chart.clients", lang))
    frame = con.execute(
        f"""
        SELECT tier_rank, tier AS {tier}, count(*) AS {clients}, {averages}
        FROM {SCORED} WHERE tier IS NOT NULL
        GROUP BY tier_rank, tier ORDER BY tier_rank
        """
    ).df()
    return frame.drop(columns="tier_rank")


def rf_matrix(
    con: duckdb.DuckDBPyConnection, standard: Standard
) -> pd.DataFrame | None:
    """Return clients counted by recency score (rows) × frequency score (columns).

    Uses the metrics whose fields are ``recency_days`` and ``purchase_count``;
    returns None when either is not scored.
    """
    by_field = {m.field: metric_column(m) for _, m in standard.metrics()}
    present = set(table_columns(con, SCORED))
    recency, frequency = by_field.get("recency_days"), by_field.get("purchase_count")
    if recency not in present or frequency not in present:
        return None
    counts = con.execute(
        f"""
        SELECT {quote_identifier(recency)} AS r, {quote_identifier(frequency)} AS f,
               count(*) AS clients
        FROM {SCORED} GROUP BY r, f
        """
    ).df()
    matrix = counts.pivot_table(index="r", columns="f", values="clients", fill_value=0)
    return matrix.reindex(index=range(5, 0, -1), columns=range(1, 6), fill_value=0)


def client_list(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    tiers: list[str] | None = None,
    search: str = "",
    limit: int = CLIENT_LIST_LIMIT,
    lang: str = "zh",
) -> tuple[pd.DataFrame, int]:
    """Return scored clients filtered by tier and an id/name search.

    Args:
        tiers: tier names to keep; None keeps all.
        search: text that the client id or name must contain (case-insensitive).
        limit: at most this many rows are returned (the best first).
        lang: language of the column headings.

    Returns:
        The rows (client id, name, composite, tier, dimension scores rounded
        to two decimals, reason) under headings in ``lang``, and the number
        of matching clients before the limit.
    """
    clients_columns = table_columns(con, "clients")
    name = "c.name" if "name" in clients_columns else "NULL::VARCHAR"
    scored_columns = table_columns(con, SCORED)
    dimension_columns = [
        f"round(s.{quote_identifier(dimension_column(d.key))}, 2) "
        f"AS {quote_identifier(standard.label(d, lang))}"
        for d in standard.dimensions
        if dimension_column(d.key) in scored_columns
    ]
    conditions, params = ["TRUE"], {}
    if tiers is not None:
        conditions.append("list_contains($tiers, s.tier)")
        params["tiers"] = list(tiers)
    if search.strip():
        conditions.append(
            f"(contains(lower(s.client_id), $search) "
            f"OR contains(lower(coalesce({name}, '')), $search))"
        )
        params["search"] = search.strip().lower()
    where = " AND ".join(conditions)
    base = f"FROM {SCORED} AS s JOIN clients AS c USING (_row) WHERE {where}"
    (total,) = con.execute(f"SELECT count(*) {base}", params).fetchall()[0]
    params["limit"] = limit
    heading = {
        key: quote_identifier(t(f"results.column.{key}", lang))
        for key in ("client_id", "name", "composite", "tier", "reason")
    }
    rows = con.execute(
        f"""
        SELECT s.client_id AS {heading["client_id"]}, {name} AS {heading["name"]},
               s.composite AS {heading["composite"]}, s.tier AS {heading["tier"]},
               {", ".join(dimension_columns) or "NULL AS none"},
               s.reason AS {heading["reason"]}
        {base}
        ORDER BY s.tier_rank NULLS LAST, s.composite DESC, s.client_id
        LIMIT $limit
        """,
        params,
    ).df()
    return rows, int(total)


@dataclass(frozen=True)
class Breakdown:
    """One client's explanation: metric and dimension scores, composite, tier."""

    client_id: str
    metrics: pd.DataFrame
    dimensions: pd.DataFrame
    composite: float | None
    tier_before_gates: str | None
    gate: str | None
    tier: str | None
    reason: str
    next_tier: str | None
    points_to_next: float | None


def client_breakdown(
    con: duckdb.DuckDBPyConnection, standard: Standard, client_id: str, lang: str = "zh"
) -> Breakdown | None:
    """Explain why one client is in its tier; None if the id is not scored.

    The metric table gives each metric's value, score, weight and the points
    it adds to the composite, rounded to 0.01 by largest remainder so that
    the shown contributions sum exactly to the shown composite.
    """
    row = con.execute(
        f"SELECT * FROM {SCORED} WHERE client_id = $id", {"id": client_id}
    ).df()
    if row.empty:
        return None
    scored = row.iloc[0]
    clients = (
        con.execute("SELECT * FROM clients WHERE client_id = $id", {"id": client_id})
        .df()
        .iloc[0]
    )
    dimensions = _dimension_rows(standard, scored, lang)
    metrics = _metric_rows(standard, scored, clients, dimensions, lang)
    if not metrics.empty and not pd.isna(scored["composite"]):
        # Shown to 0.01 and still summing to the shown composite (issue 6).
        metrics["points"] = apportion_points(
            list(metrics["points"]), float(scored["composite"])
        )
    next_tier, gap = _next_tier_gap(standard, scored)
    return Breakdown(
        client_id=client_id,
        metrics=metrics,
        dimensions=dimensions,
        composite=None if pd.isna(scored["composite"]) else float(scored["composite"]),
        tier_before_gates=_text(scored["tier_before_gates"]),
        gate=_text(scored["gate"]),
        tier=_text(scored["tier"]),
        reason=str(scored["reason"]),
        next_tier=next_tier,
        points_to_next=gap,
    )


def _text(value: object) -> str | None:
    return (
        None
        if value is None or (isinstance(value, float) and pd.isna(value))
        else str(value)
    )


def _dimension_rows(standard: Standard, scored: pd.Series, lang: str) -> pd.DataFrame:
    rows = []
    for dimension in standard.dimensions:
        score = scored.get(dimension_column(dimension.key))
        if score is None or pd.isna(score):
            continue
        rows.append(
            (
                dimension.key,
                standard.label(dimension, lang),
                float(score),
                dimension.weight,
            )
        )
    frame = pd.DataFrame(rows, columns=["key", "label", "score", "weight"])
    total = frame["weight"].sum()
    frame["share"] = frame["weight"] / total if total else 0.0
    # 25 × (weighted mean − 1) splits into one term per dimension.
    frame["points"] = 25 * frame["share"] * (frame["score"] - 1)
    return frame


def _metric_rows(
    standard: Standard,
    scored: pd.Series,
    clients: pd.Series,
    dimensions: pd.DataFrame,
    lang: str,
) -> pd.DataFrame:
    shares = dict(zip(dimensions["key"], dimensions["share"]))
    rows = []
    for dimension, metric in standard.metrics():
        score = scored.get(metric_column(metric))
        if score is None or pd.isna(score) or dimension.key not in shares:
            continue
        rows.append(
            {
                "dimension": standard.label(dimension, lang),
                "dimension_key": dimension.key,
                "metric": standard.label(metric, lang),
                "value": clients.get(metric.field),
                "score": int(score),
                "weight": metric.weight,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["dimension", "dimension_key", "metric", "value", "score", "weight"],
    )
    if frame.empty:
        frame["points"] = []
        return frame
    within = frame.groupby("dimension_key")["weight"].transform("sum")
    share = frame["dimension_key"].map(shares)
    frame["points"] = 25 * share * frame["weight"] / within * (frame["score"] - 1)
    return frame


def _next_tier_gap(
    standard: Standard, scored: pd.Series
) -> tuple[str | None, float | None]:
    """The tier above the client's pre-gate tier and the points missing to it."""
    rank = scored.get("tier_rank")
    if standard.tier_mode != "score" or rank is None or pd.isna(rank) or int(rank) == 0:
        return None, None
    above = standard.tiers[int(rank) - 1]
    return above.name, round(max(0.0, above.min_score - float(scored["composite"])), 2)


def metric_report_frame(
    reports: tuple[MetricReport, ...], standard: Standard, lang: str = "zh"
) -> pd.DataFrame:
    """Return one row per metric: used or skipped, missing values, scores
    used out of the bins asked for, and the value range behind each score.
    """
    labels = {
        metric.key: standard.label(metric, lang) for _, metric in standard.metrics()
    }
    rows = []
    for report in reports:
        rows.append(
            {
                t("report.metric", lang): labels.get(report.key, report.key),
                t("report.used", lang): "✓"
                if report.used
                else t("report.skipped", lang),
                t("report.missing", lang): report.missing,
                t("report.distinct", lang): (
                    f"{report.distinct_scores} / {report.requested_bins}"
                    if report.used
                    else ""
                ),
                t("report.cuts", lang): "; ".join(
                    _cut_text(cut) for cut in report.cut_points
                ),
            }
        )
    return pd.DataFrame(rows)


def _cut_text(cut: CutPoint) -> str:
    if cut.lowest is None:
        return f"{cut.score}: ({cut.clients:,})"
    if cut.lowest == cut.highest:
        return f"{cut.score}: {_number(cut.lowest)} ({cut.clients:,})"
    return (
        f"{cut.score}: {_number(cut.lowest)}–{_number(cut.highest)} ({cut.clients:,})"
    )


def _number(value: float) -> str:
    """A value as people read it: thousands separated, no needless decimals."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"
