"""Score clients with a tier standard, in DuckDB SQL, in three cached steps.

1. ``score_metrics`` turns each metric's field into a score from 1 to 5 and
   stores them in the table ``metric_scores``. Quantile metrics rank values
   by percent rank, ``(rank − 1) / (n − 1)`` over the non-missing values, cut
   into equal bins: the lowest value scores 1 and the highest 5. ``rank()``
   gives tied values the rank of their first position, so equal values always
   get equal scores and row order never decides. Missing
   values score 1 (policy ``lowest``) or stay NULL (``exclude``). A metric
   whose field is not in the data is skipped and reported.
2. ``compose_scores`` averages metric scores into dimension scores and
   dimension scores into the composite with integer weights, skipping NULLs
   so the remaining weights are renormalised. The composite is
   ``25 × (weighted mean − 1)``, rounded to two decimals: 0 to 100.
   Stored in ``composite_scores``. Only weights feed this step.
3. ``assign_tiers`` cuts tiers from the composite (minimum scores, or quota
   shares with ties kept together), applies gates in order (cap or force),
   writes a reason per client, and stores everything in ``scored``.
   ``count_tiers`` answers the same question with counts only, for sliders.

Each step reads only what the step before wrote, so a cut-off change reruns
step 3 alone and a weight change steps 2 and 3.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from tiering.clv import add_clv_column
from tiering.errors import ScoringError
from tiering.fields import FIELD_BY_KEY
from tiering.i18n import template
from tiering.sql import quote_identifier
from tiering.standard import Gate, Metric, Standard

logger = logging.getLogger(__name__)

CLIENTS = "clients"
METRIC_SCORES = "metric_scores"
COMPOSITE_SCORES = "composite_scores"
SCORED = "scored"


@dataclass(frozen=True)
class CutPoint:
    """The range of values that received one score."""

    score: int
    lowest: float | None
    highest: float | None
    clients: int


@dataclass(frozen=True)
class MetricReport:
    """What happened to one metric: used or skipped, missing values, cuts."""

    key: str
    field: str
    method: str
    used: bool
    missing: int = 0
    distinct_scores: int = 0
    requested_bins: int = 5
    cut_points: tuple[CutPoint, ...] = ()


@dataclass(frozen=True)
class ScoredResult:
    """The outcome of a scoring run, for pages, the CLI and the export."""

    rows_scored: int
    rows_unscored: int
    tier_counts: pd.DataFrame
    metric_reports: tuple[MetricReport, ...]
    skipped_gates: tuple[int, ...] = ()


def metric_column(metric: Metric) -> str:
    """Return the column name that holds a metric's score."""
    return f"m_{metric.key}"


def dimension_column(dimension_key: str) -> str:
    """Return the column name that holds a dimension's score."""
    return f"d_{dimension_key}"


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Return ``{column: duckdb type}`` of a table, in table order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return dict(rows)


# --- step 1: metric scores -----------------------------------------------


def score_metrics(
    con: duckdb.DuckDBPyConnection, standard: Standard
) -> tuple[MetricReport, ...]:
    """Score every metric of ``standard`` over the ``clients`` table.

    Args:
        con: a connection holding the ``clients`` table.
        standard: the tier standard.

    Returns:
        One report per metric, in standard order; the scores are stored in
        the table ``metric_scores`` (``_row``, ``client_id``, ``m_<metric>``).

    Raises:
        ScoringError: no ``clients`` table, or no metric can be scored.
    """
    columns = table_columns(con, CLIENTS)
    if "client_id" not in columns:
        raise ScoringError("error.scoring.no_clients")
    if add_clv_column(con, standard):
        columns = table_columns(con, CLIENTS)
    # Zero-weight metrics are scored too, so a weight change never redoes step 1.
    used = [m for _, m in standard.metrics() if m.field in columns]
    if not used:
        raise ScoringError("error.scoring.no_metrics")

    selects, params = ["_row", "client_id"], {}
    for index, metric in enumerate(used):
        expression, metric_params = _metric_sql(metric, index)
        selects.append(f"{expression} AS {quote_identifier(metric_column(metric))}")
        params.update(metric_params)
    sql = f"CREATE OR REPLACE TABLE {METRIC_SCORES} AS SELECT {', '.join(selects)} "
    con.execute(sql + f"FROM {CLIENTS}", params)

    skipped = len(standard.metrics()) - len(used)
    logger.info("scored %d metrics, skipped %d", len(used), skipped)
    return tuple(
        _metric_report(con, metric, metric in used) for _, metric in standard.metrics()
    )


def _metric_sql(metric: Metric, index: int) -> tuple[str, dict[str, Any]]:
    """Return the SQL expression giving ``metric``'s score, and its parameters."""
    column = quote_identifier(metric.field)
    prefix = f"m{index}_"
    if metric.method == "category":
        value = f"upper(trim(CAST({column} AS VARCHAR)))"
        params = {
            f"{prefix}values": [key.strip().upper() for key in metric.categories],
            f"{prefix}scores": list(metric.categories.values()),
            f"{prefix}other": metric.other,
        }
        score = (
            f"coalesce(${prefix}scores[list_position(${prefix}values, {value})], "
            f"${prefix}other)"
        )
        return _with_missing(metric, value, score), params

    value = f"TRY_CAST({column} AS DOUBLE)"
    if metric.method == "quantile":
        order = "DESC" if metric.direction == "lower_better" else "ASC"
        # Percent rank among non-missing values: the lowest value scores 1,
        # the highest 5, ties share the rank of their first position.
        rank = f"rank() OVER (ORDER BY {value} {order} NULLS LAST)"
        percent = f"(({rank} - 1) / nullif(count({value}) OVER () - 1, 0))"
        score = (
            f"least(${prefix}bins, 1 + CAST(floor(${prefix}bins * "
            f"coalesce({percent}, 0)) AS INTEGER))"
        )
        return _with_missing(metric, value, score), {f"{prefix}bins": metric.bins}
    if metric.method == "thresholds":
        score = _threshold_case(value, metric, prefix)
        params = {f"{prefix}c{i}": cut for i, cut in enumerate(metric.cuts)}
        return _with_missing(metric, value, score), params

    # range: a column that already holds a score, mapped linearly onto 1..5
    clamped = f"least(greatest({value}, ${prefix}low), ${prefix}high)"
    fraction = f"({clamped} - ${prefix}low) / (${prefix}high - ${prefix}low)"
    if metric.direction == "lower_better":
        fraction = f"(1 - {fraction})"
    score = f"CAST(1 + round(4 * {fraction}) AS INTEGER)"
    params = {f"{prefix}low": metric.low, f"{prefix}high": metric.high}
    return _with_missing(metric, value, score), params


def _threshold_case(value: str, metric: Metric, prefix: str) -> str:
    if metric.direction == "lower_better":
        arms = [f"WHEN {value} <= ${prefix}c{i} THEN {5 - i}" for i in range(4)]
    else:
        arms = [f"WHEN {value} >= ${prefix}c{i} THEN {i + 2}" for i in range(3, -1, -1)]
    return f"CASE {' '.join(arms)} ELSE 1 END"


def _with_missing(metric: Metric, value: str, score: str) -> str:
    missing_score = "1" if metric.missing == "lowest" else "NULL"
    null_test = f"{value} IS NULL"
    if metric.method == "category":
        null_test += f" OR {value} = ''"
    return (
        f"CAST(CASE WHEN {null_test} THEN {missing_score} ELSE {score} END AS INTEGER)"
    )


def _metric_report(
    con: duckdb.DuckDBPyConnection, metric: Metric, used: bool
) -> MetricReport:
    if not used:
        return MetricReport(metric.key, metric.field, metric.method, used=False)
    score = quote_identifier(metric_column(metric))
    raw = quote_identifier(metric.field)
    numeric = metric.method != "category"
    value = f"TRY_CAST(c.{raw} AS DOUBLE)" if numeric else "NULL::DOUBLE"
    blank = f" OR trim(CAST(c.{raw} AS VARCHAR)) = ''" if not numeric else ""
    rows = con.execute(
        f"""
        SELECT s.{score} AS score, min({value}), max({value}), count(*)
        FROM {METRIC_SCORES} AS s JOIN {CLIENTS} AS c USING (_row)
        WHERE NOT (c.{raw} IS NULL{blank})
        GROUP BY s.{score} ORDER BY s.{score}
        """
    ).fetchall()
    (missing,) = con.execute(
        f"SELECT count(*) FROM {CLIENTS} AS c WHERE c.{raw} IS NULL{blank}"
    ).fetchone()
    cut_points = tuple(CutPoint(int(s), lo, hi, int(n)) for s, lo, hi, n in rows)
    return MetricReport(
        key=metric.key,
        field=metric.field,
        method=metric.method,
        used=True,
        missing=int(missing),
        distinct_scores=len(cut_points),
        requested_bins=metric.bins if metric.method == "quantile" else 5,
        cut_points=cut_points,
    )


# --- step 2: dimension scores and the composite ---------------------------


def compose_scores(con: duckdb.DuckDBPyConnection, standard: Standard) -> None:
    """Combine metric scores into dimension scores and the composite.

    Reads ``metric_scores`` and writes ``composite_scores`` (``_row``,
    ``client_id``, the metric scores, ``d_<dimension>``, ``composite``).
    Metrics and dimensions with no score are left out of their weighted mean,
    which renormalises the remaining weights.
    """
    available = set(table_columns(con, METRIC_SCORES))
    params: dict[str, Any] = {}
    dimension_selects, composite_terms = [], []
    for d_index, dimension in enumerate(standard.dimensions):
        terms = [
            (quote_identifier(metric_column(metric)), f"w{d_index}_{m_index}")
            for m_index, metric in enumerate(dimension.metrics)
            if metric_column(metric) in available
        ]
        if not terms:
            continue
        for _, name in terms:
            params[name] = dimension.metrics[int(name.split("_")[1])].weight
        d_column = quote_identifier(dimension_column(dimension.key))
        dimension_selects.append(f"{_weighted_mean(terms)} AS {d_column}")
        params[f"dw{d_index}"] = dimension.weight
        composite_terms.append((d_column, f"dw{d_index}"))
    if not composite_terms:
        raise ScoringError("error.scoring.no_metrics")

    metric_names = [quote_identifier(c) for c in available if c.startswith("m_")]
    composite = f"round(25 * ({_weighted_mean(composite_terms)} - 1), 2)"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {COMPOSITE_SCORES} AS
        WITH dimension_scores AS (
            SELECT _row, client_id, {", ".join(metric_names)},
                   {", ".join(dimension_selects)}
            FROM {METRIC_SCORES}
        )
        SELECT *, {composite} AS composite FROM dimension_scores
        """,
        params,
    )


def _weighted_mean(terms: list[tuple[str, str]]) -> str:
    """SQL for the weighted mean of non-NULL columns; NULL if all are NULL."""
    numerator = " + ".join(f"coalesce({col} * ${w}, 0)" for col, w in terms)
    denominator = " + ".join(
        f"CASE WHEN {col} IS NULL THEN 0 ELSE ${w} END" for col, w in terms
    )
    return f"(({numerator}) / nullif({denominator}, 0))"


# --- step 3: tiers, gates and reasons -------------------------------------


def _tier_ranks_sql(
    standard: Standard, clients_columns: dict[str, str]
) -> tuple[str, dict[str, Any], tuple[int, ...]]:
    """SQL selecting ``_row``, ``client_id``, ``composite``, ``rank_before``,
    ``tier_rank`` and ``gate_index`` from ``composite_scores``.

    Returns the SQL, its parameters, and the indexes of gates skipped because
    their field is not in the data.
    """
    params: dict[str, Any] = {}
    names = standard.tier_names()
    gate_fields = sorted(
        {g.field for g in standard.gates if g.field in clients_columns} - {"client_id"}
    )
    extra = "".join(f", g.{quote_identifier(f)}" for f in gate_fields)
    steps = [
        f"""scoring_input AS (
            SELECT s._row, s.client_id, s.composite{extra}
            FROM {COMPOSITE_SCORES} AS s JOIN {CLIENTS} AS g ON g._row = s._row)""",
        f"gate_step_0 AS ({_base_rank_sql(standard, params)})",
    ]
    skipped = []
    for i, gate in enumerate(standard.gates):
        if gate.field not in clients_columns:
            skipped.append(i)
            continue
        condition = _gate_condition(gate, i, clients_columns[gate.field], params)
        target = names.index(gate.tier)
        new_rank = (
            f"greatest(tier_rank, {target})" if gate.action == "cap" else str(target)
        )
        applies = f"tier_rank IS NOT NULL AND ({condition})"
        previous = f"gate_step_{len(steps) - 2}"
        steps.append(
            f"""gate_step_{len(steps) - 1} AS (
                SELECT * REPLACE (
                    CASE WHEN {applies} THEN {new_rank} ELSE tier_rank END
                        AS tier_rank,
                    CASE WHEN {applies} AND {new_rank} <> tier_rank THEN {i}
                         ELSE gate_index END AS gate_index)
                FROM {previous})"""
        )
    last = f"gate_step_{len(steps) - 2}"
    sql = "WITH " + ",\n".join(steps) + f"\nSELECT * FROM {last}"
    return sql, params, tuple(skipped)


def _base_rank_sql(standard: Standard, params: dict[str, Any]) -> str:
    """SQL ranking each client's tier before gates (0 = best, NULL = unscored)."""
    last = len(standard.tiers) - 1
    arms = []
    for i, tier in enumerate(standard.tiers[:-1]):
        if standard.tier_mode == "quota":
            params[f"share{i}"] = tier.share / 100
            arms.append(f"WHEN position < $share{i} * scored_clients THEN {i}")
        else:
            params[f"min{i}"] = tier.min_score
            arms.append(f"WHEN composite >= $min{i} THEN {i}")
    rank = f"CASE WHEN composite IS NULL THEN NULL {' '.join(arms)} ELSE {last} END"
    # Quota ranks keep ties together: rank() gives tied composites one position.
    positioned = (
        "SELECT *, rank() OVER (ORDER BY composite DESC NULLS LAST) - 1 AS position,"
        " count(composite) OVER () AS scored_clients FROM scoring_input"
    )
    source = f"({positioned})" if standard.tier_mode == "quota" else "scoring_input"
    return (
        f"SELECT *, {rank} AS rank_before, {rank} AS tier_rank, "
        f"NULL::INTEGER AS gate_index FROM {source}"
    )


def _gate_condition(
    gate: Gate, index: int, column_type: str, params: dict[str, Any]
) -> str:
    """SQL condition for one gate, with its value bound as ``$g<index>``."""
    column = quote_identifier(gate.field)
    name = f"g{index}"
    if gate.op == "missing":
        return f"{column} IS NULL"
    numeric = FIELD_BY_KEY.get(gate.field) is None or column_type.upper() in (
        "DOUBLE",
        "INTEGER",
        "BIGINT",
        "FLOAT",
        "DECIMAL",
        "HUGEINT",
        "SMALLINT",
    )
    if gate.op in ("in", "not_in"):
        if numeric:
            params[name] = [float(v) for v in gate.value]
            test = f"list_contains(${name}, TRY_CAST({column} AS DOUBLE))"
        else:
            params[name] = [str(v).strip().upper() for v in gate.value]
            test = f"list_contains(${name}, upper(trim(CAST({column} AS VARCHAR))))"
        return test if gate.op == "in" else f"NOT {test}"
    if numeric:
        params[name] = float(gate.value)
        return f"TRY_CAST({column} AS DOUBLE) {gate.op.replace('==', '=')} ${name}"
    params[name] = str(gate.value).strip().upper()
    return (
        f"upper(trim(CAST({column} AS VARCHAR))) {gate.op.replace('==', '=')} ${name}"
    )


def count_tiers(con: duckdb.DuckDBPyConnection, standard: Standard) -> pd.DataFrame:
    """Return clients per tier for ``standard`` without rebuilding ``scored``.

    The fast path for a cut-off or quota slider: it reads ``composite_scores``
    (and the gate fields) and returns ``tier``, ``color``, ``clients`` for
    every tier, best first, zero counts included.
    """
    sql, params, _ = _tier_ranks_sql(standard, table_columns(con, CLIENTS))
    counts = dict(
        con.execute(
            f"SELECT tier_rank, count(*) FROM ({sql}) "
            "WHERE tier_rank IS NOT NULL GROUP BY tier_rank",
            params,
        ).fetchall()
    )
    return _counts_frame(standard, counts)


def _counts_frame(standard: Standard, counts: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tier": standard.tier_names(),
            "color": [tier.color for tier in standard.tiers],
            "clients": [int(counts.get(i, 0)) for i in range(len(standard.tiers))],
        }
    )


def assign_tiers(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    reports: tuple[MetricReport, ...] = (),
    lang: str = "zh",
) -> ScoredResult:
    """Cut tiers, apply gates and write the ``scored`` table with reasons.

    Args:
        con: a connection holding ``composite_scores`` and ``clients``.
        standard: the tier standard.
        reports: the metric reports from ``score_metrics``, passed through.
        lang: language of the reason text.

    Returns:
        The counts per tier and of scored and unscored clients.
    """
    sql, params, skipped = _tier_ranks_sql(standard, table_columns(con, CLIENTS))
    params.update(_reason_parameters(standard, lang))
    # Next steps and segments (tiering.insight) describe the old tiers.
    con.execute("DROP TABLE IF EXISTS insight")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {SCORED} AS
        WITH ranks AS ({sql})
        SELECT c.*,
               $names[ranks.rank_before + 1] AS tier_before_gates,
               $gate_labels[ranks.gate_index + 1] AS gate,
               $names[ranks.tier_rank + 1] AS tier,
               ranks.tier_rank,
               {_reason_sql(standard)} AS reason
        FROM {COMPOSITE_SCORES} AS c JOIN ranks USING (_row)
        ORDER BY c._row
        """,
        params,
    )
    counts = dict(
        con.execute(
            f"SELECT tier_rank, count(*) FROM {SCORED} GROUP BY tier_rank"
        ).fetchall()
    )
    unscored = int(counts.pop(None, 0))
    scored_rows = sum(int(n) for n in counts.values())
    logger.info("tiered %d clients, %d unscored", scored_rows, unscored)
    return ScoredResult(
        rows_scored=scored_rows,
        rows_unscored=unscored,
        tier_counts=_counts_frame(standard, counts),
        metric_reports=tuple(reports),
        skipped_gates=skipped,
    )


def _reason_parameters(standard: Standard, lang: str) -> dict[str, Any]:
    labels = [
        gate.label.get(lang) or gate.label.get("zh") or f"{gate.field} {gate.op}"
        for gate in standard.gates
    ]
    params = {
        "names": standard.tier_names(),
        "gate_labels": labels or [""],
        "reason_gate": template("scoring.reason.gate", lang),
        "reason_unscored": template("scoring.reason.unscored", lang),
    }
    # DuckDB refuses unused parameters, so bind only the mode's own ones.
    if standard.tier_mode == "quota":
        params["shares"] = [tier.share for tier in standard.tiers]
        params["reason_line"] = template("scoring.reason.quota", lang)
    else:
        params["mins"] = [tier.min_score for tier in standard.tiers]
        params["reason_line"] = template("scoring.reason.score", lang)
    return params


def _reason_sql(standard: Standard) -> str:
    """SQL for the reason text: composite against the tier line, then the gate."""
    line = "$shares" if standard.tier_mode == "quota" else "$mins"
    base = (
        "format($reason_line, c.composite, $names[ranks.rank_before + 1], "
        f"{line}[ranks.rank_before + 1])"
    )
    gate = (
        "CASE WHEN ranks.gate_index IS NULL THEN '' ELSE format($reason_gate, "
        "$gate_labels[ranks.gate_index + 1], $names[ranks.tier_rank + 1]) END"
    )
    return (
        f"CASE WHEN c.composite IS NULL THEN $reason_unscored ELSE {base} || {gate} END"
    )


# --- the whole run ----------------------------------------------------------


def score_clients(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    lang: str = "zh",
    progress: Callable[[str, int, int], None] | None = None,
) -> ScoredResult:
    """Run all three steps: metric scores, composite, tiers.

    Args:
        con: a connection holding the ``clients`` table (see
            ``prepare.load_clients``).
        standard: the tier standard.
        lang: language of the reason text.
        progress: called with ("score", steps done, 3) after each step.

    Returns:
        A ``ScoredResult``; the rows are in the table ``scored``.

    Raises:
        ScoringError: no clients table, or no metric of the standard matches
            a column of the data.
    """
    reports = score_metrics(con, standard)
    if progress:
        progress("score", 1, 3)
    compose_scores(con, standard)
    if progress:
        progress("score", 2, 3)
    result = assign_tiers(con, standard, reports, lang)
    if progress:
        progress("score", 3, 3)
    return result


def composite_histogram(
    con: duckdb.DuckDBPyConnection, width: float = 2.0
) -> pd.DataFrame:
    """Return clients per composite band of ``width`` points (``start``, ``clients``)."""
    return con.execute(
        f"""
        SELECT floor(composite / $width) * $width AS start, count(*) AS clients
        FROM {COMPOSITE_SCORES} WHERE composite IS NOT NULL
        GROUP BY start ORDER BY start
        """,
        {"width": width},
    ).df()
