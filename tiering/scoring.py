"""Score clients with a tier standard, in DuckDB SQL, in three cached steps.

1. ``score_metrics`` turns each metric's field into a score from 1 to 5 and
   stores them in the table ``metric_scores``. Quantile metrics rank values
   by percent rank, ``(rank − 1) / (n − 1)`` over the non-missing values, cut
   into equal bins: the lowest value scores 1 and the highest 5. Tied values
   share the rank of their first position, so equal values always get equal
   scores and row order never decides. Rather than sorting every client per
   metric, the few values a client must beat for each score are found first
   (order statistics, see ``_quantile_lines``); scoring is then a plain
   comparison. Missing values score 1 (policy ``lowest``) or stay NULL
   (``exclude``). A metric whose field is not in the data is skipped and
   reported.
2. ``compose_scores`` averages metric scores into dimension scores and
   dimension scores into the composite with integer weights, skipping NULLs
   so the remaining weights are renormalised. The composite is
   ``25 × (weighted mean − 1)``, rounded to two decimals: 0 to 100.
   Stored in ``composite_scores``. Only weights feed this step.
3. ``assign_tiers`` cuts tiers from the composite (minimum scores, or quota
   shares with ties kept together), applies gates in order (cap or force),
   writes a reason per client, and stores everything in ``scored``.
   ``count_tiers`` answers the same question with counts only, in SQL.

Each step reads only what the step before wrote, so a cut-off change reruns
step 3 alone and a weight change steps 2 and 3. Every step is a projection
over the rows of ``clients`` in their order (``_row``), so the three tables
line up row for row and are joined by position, without hashing or sorting;
a row out of step raises an error instead of pairing the wrong client.
``score_clients`` with minimum scores runs the three steps as one parallel
projection over ``clients`` that writes ``scored``, and copies the two
intermediate tables out of it (quota lines need every composite first, so
quota standards run the steps in turn); the tables come out the same.

Text fields hold few distinct values, so category metrics and gates on text
are worked out once per distinct value and rows are matched to those
values as stored, instead of trimming and upper-casing every row.

For sliders, the metric scores and the gate groups are read into numpy
once (``read_metric_arrays``, ``read_gate_groups``). ``composite_index``
composes the weights there, to the same cent as the SQL, and counts the
composites per value and gate group; ``count_tiers_indexed`` and
``histogram_indexed`` then answer a cut-off or quota move with the same
counts as ``count_tiers`` and ``composite_histogram``. No slider move runs SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from tiering.clv import add_clv_column
from tiering.errors import ScoringError
from tiering.fields import FIELD_BY_KEY
from tiering.i18n import template
from tiering.sql import quote_identifier
from tiering.standard import Dimension, Gate, Metric, Standard

logger = logging.getLogger(__name__)

CLIENTS = "clients"
METRIC_SCORES = "metric_scores"
COMPOSITE_SCORES = "composite_scores"
SCORED = "scored"
# Composites run from 0 to 100 points: 10,001 whole cents.
CENTS_RANGE = 10_001
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


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
        the table ``metric_scores`` (``_row``, ``m_<metric>``), row for row in
        the order of ``clients``.

    Raises:
        ScoringError: no ``clients`` table, or no metric can be scored.
    """
    used = _scorable_metrics(con, standard)
    selects, params, categories = _metric_selects(con, used)
    # A plain projection keeps the row order of clients (DuckDB preserves
    # insertion order), which the later steps rely on to join by position.
    sql = f"CREATE OR REPLACE TABLE {METRIC_SCORES} AS SELECT _row, {selects} "
    con.execute(sql + f"FROM {CLIENTS}", params)

    return _metric_reports(con, standard, used, categories)


def _scorable_metrics(
    con: duckdb.DuckDBPyConnection, standard: Standard
) -> list[Metric]:
    """The metrics whose field is in ``clients`` (adding the CLV field if used)."""
    columns = table_columns(con, CLIENTS)
    if "client_id" not in columns:
        raise ScoringError("error.scoring.no_clients")
    if add_clv_column(con, standard):
        columns = table_columns(con, CLIENTS)
    # Zero-weight metrics are scored too, so a weight change never redoes step 1.
    used = [m for _, m in standard.metrics() if m.field in columns]
    if not used:
        raise ScoringError("error.scoring.no_metrics")
    skipped = len(standard.metrics()) - len(used)
    logger.info("scoring %d metrics, skipped %d", len(used), skipped)
    return used


def _metric_selects(
    con: duckdb.DuckDBPyConnection, used: list[Metric]
) -> tuple[str, dict[str, Any], dict[str, list[tuple]]]:
    """The select list of the metric scores over ``clients``, its parameters,
    and the distinct values of each category metric (see ``_category_values``).
    """
    lines = _quantile_lines(con, [m for m in used if m.method == "quantile"])
    categories = _category_values(con, [m for m in used if m.method == "category"])
    selects, params = [], {}
    for index, metric in enumerate(used):
        expression, metric_params = _metric_sql(
            metric, index, lines.get(metric.key), categories.get(metric.key)
        )
        selects.append(f"{expression} AS {quote_identifier(metric_column(metric))}")
        params.update(metric_params)
    return ", ".join(selects), params, categories


# A category or gate field with more distinct values than this is treated
# row by row: a CASE arm per value would cost more than the string functions.
DISTINCT_VALUES_LIMIT = 64


def _category_values(
    con: duckdb.DuckDBPyConnection, metrics: list[Metric]
) -> dict[str, list[tuple]]:
    """Per category metric on a text field: its distinct values, each with
    its score, whether it counts as missing, and its number of clients.

    Category fields hold a handful of values, so scoring them once each
    (with the same SQL as a row) and matching rows to them by plain
    equality spares ``upper(trim())`` on every row. Fields with more than
    ``DISTINCT_VALUES_LIMIT`` values are left out.
    """
    text_fields = {
        name for name, kind in table_columns(con, CLIENTS).items() if kind == "VARCHAR"
    }
    found = {}
    for index, metric in enumerate(metrics):
        if metric.field not in text_fields:
            continue
        column = quote_identifier(metric.field)
        score, params = _metric_sql(metric, index)
        rows = con.execute(
            f"""
            WITH distinct_values AS (
                SELECT {column}, count(*) AS value_clients FROM {CLIENTS}
                GROUP BY ALL LIMIT {DISTINCT_VALUES_LIMIT + 2}
            )
            SELECT {column}, {score},
                   {column} IS NULL OR trim(CAST({column} AS VARCHAR)) = '',
                   value_clients
            FROM distinct_values
            """,
            params,
        ).fetchall()
        # NULL is matched by IS NULL, not by a value arm.
        if sum(1 for row in rows if row[0] is not None) <= DISTINCT_VALUES_LIMIT:
            found[metric.key] = rows
    return found


def _quantile_lines(
    con: duckdb.DuckDBPyConnection, metrics: list[Metric]
) -> dict[str, list[float]]:
    """Return, per quantile metric, the values a client must pass for each score.

    A value ``v`` among ``n`` non-missing values has ``below(v)`` values
    strictly worse than it (smaller, or larger for lower_better), so its
    percent rank is ``below / (n − 1)`` and it scores
    ``min(bins, 1 + floor(bins × below / (n − 1)))``. It scores at least
    ``s`` exactly when ``below ≥ k = ceil((s − 1)(n − 1) / bins)``, that is
    when it is better than the k-th worst value. The k-th worst values are
    order statistics, found without sorting by ``quantile_disc`` and then
    checked by counting; the list holds, for scores 2..bins, the value to
    beat (empty when fewer than two values exist: everyone scores 1).
    """
    if not metrics:
        return {}
    values = [f"TRY_CAST({quote_identifier(m.field)} AS DOUBLE)" for m in metrics]
    counts = con.execute(
        f"SELECT {', '.join(f'count({v})' for v in values)} FROM {CLIENTS}"
    ).fetchall()[0]
    wanted = {}  # metric index → order-statistic positions (0-based, ascending)
    for index, (metric, n) in enumerate(zip(metrics, counts)):
        if n >= 2:
            wanted[index] = [
                _order_position(metric, n, s) for s in range(2, metric.bins + 1)
            ]
    candidates = _order_statistics(con, values, wanted, counts)
    return {
        metric.key: candidates.get(index, []) for index, metric in enumerate(metrics)
    }


def _order_position(metric: Metric, n: int, score: int) -> int:
    """0-based ascending position of the value to beat for ``score``."""
    beaten = ((score - 1) * (n - 1) + metric.bins - 1) // metric.bins
    return n - beaten if metric.direction == "lower_better" else beaten - 1


def _order_statistics(
    con: duckdb.DuckDBPyConnection,
    values: list[str],
    wanted: dict[int, list[int]],
    counts: tuple[int, ...],
) -> dict[int, list[float]]:
    """The values at the wanted ascending positions, exactly.

    ``quantile_disc`` finds them by selection; a count of the values below
    and at each one proves it holds that position, and a position it misses
    is read by sorting instead.
    """
    if not wanted:
        return {}
    # Asking for the middle of position j's slot, (j + ½) / n, keeps float
    # rounding away from the slot's edges.
    selects = [f"quantile_disc({values[i]}, $at{i})" for i in wanted]
    at = {
        f"at{i}": [(j + 0.5) / counts[i] for j in positions]
        for i, positions in wanted.items()
    }
    row = con.execute(f"SELECT {', '.join(selects)} FROM {CLIENTS}", at).fetchall()[0]
    found = dict(zip(wanted, row))
    checks, params = [], {}
    for i, positions in wanted.items():
        for p, value in enumerate(found[i]):
            params[f"q{i}_{p}"] = value
            # count_if runs several times faster here than count(*) FILTER.
            checks.append(f"count_if({values[i]} < $q{i}_{p})")
            checks.append(f"count_if({values[i]} <= $q{i}_{p})")
    tallies = iter(
        con.execute(f"SELECT {', '.join(checks)} FROM {CLIENTS}", params).fetchall()[0]
    )
    exact = {}
    for i, positions in wanted.items():
        exact[i] = []
        for position, value in zip(positions, found[i]):
            below, through = next(tallies), next(tallies)
            if not below <= position < through:
                logger.warning("quantile_disc missed a position; sorting instead")
                (value,) = con.execute(
                    f"SELECT v FROM (SELECT {values[i]} AS v FROM {CLIENTS}) "
                    "WHERE v IS NOT NULL ORDER BY v LIMIT 1 OFFSET $position",
                    {"position": position},
                ).fetchall()[0]
            exact[i].append(value)
    return exact


def _metric_sql(
    metric: Metric,
    index: int,
    quantile_lines: list[float] | None = None,
    category_values: list[tuple] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Return the SQL expression giving ``metric``'s score, and its parameters.

    ``quantile_lines`` are the values to beat for scores 2..bins of a
    quantile metric (see ``_quantile_lines``); ``category_values`` the
    distinct values of a category field with their scores (see
    ``_category_values``).
    """
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
        by_row = _with_missing(metric, value, score)
        if category_values is None:
            return by_row, params
        return _category_case(metric, prefix, category_values, by_row, params)

    value = f"TRY_CAST({column} AS DOUBLE)"
    if metric.method == "quantile":
        # Beating the line of score s gives s; ties share a value, so they
        # share a score, and row order never decides.
        beats = "<" if metric.direction == "lower_better" else ">"
        lines = list(quantile_lines or [])
        arms = [
            f"WHEN {value} {beats} ${prefix}q{s} THEN {s}"
            for s in range(len(lines) + 1, 1, -1)
        ]
        params = {f"{prefix}q{s}": lines[s - 2] for s in range(2, len(lines) + 2)}
        score = f"CASE {' '.join(arms)} ELSE 1 END" if arms else "1"
        return _with_missing(metric, value, score), params
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


def _category_case(
    metric: Metric,
    prefix: str,
    category_values: list[tuple],
    by_row: str,
    params: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """A category score matched on the field's distinct values as stored.

    The scores were computed by ``by_row`` itself, once per value; a value
    not in the list (none, while ``clients`` is unchanged) still falls back
    to ``by_row``.
    """
    column = quote_identifier(metric.field)
    missing_score = "1" if metric.missing == "lowest" else "NULL"
    arms = [f"WHEN {column} IS NULL THEN {missing_score}"]
    params = dict(params)
    for position, (value, score, *_) in enumerate(category_values):
        if value is None:
            continue
        params[f"{prefix}v{position}"] = value
        # The score is an integer this module computed, never user text.
        literal = "NULL" if score is None else str(int(score))
        arms.append(f"WHEN {column} = ${prefix}v{position} THEN {literal}")
    return f"CAST(CASE {' '.join(arms)} ELSE {by_row} END AS INTEGER)", params


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


def _metric_reports(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    used: list[Metric],
    categories: dict[str, list[tuple]],
) -> tuple[MetricReport, ...]:
    """One report per metric of ``standard``, from ``metric_scores``.

    Clients are grouped by missing value and score; category metrics with
    known distinct values are summed from those, the rest in one query.
    """
    groups = _report_groups(con, [m for m in used if m.key not in categories])
    for key, values in categories.items():
        tally: dict[tuple, int] = {}
        for _, score, missing, clients in values:
            tally[(missing, score)] = tally.get((missing, score), 0) + clients
        groups[key] = [
            (missing, score, None, None, clients)
            for (missing, score), clients in sorted(tally.items(), key=_group_order)
        ]
    return tuple(
        _metric_report(metric, groups.get(metric.key))
        for _, metric in standard.metrics()
    )


def _group_order(item: tuple) -> tuple:
    """Missing last, then score ascending with NULL last (as SQL sorts them)."""
    (missing, score), _ = item
    return _row_order((0, missing, score))


def _report_groups(
    con: duckdb.DuckDBPyConnection, metrics: list[Metric]
) -> dict[str, list[tuple]]:
    """Per metric, (missing, score, lowest, highest, clients) per group.

    A numeric value is missing when NULL: those are counted apart, so the
    rest group by the stored score alone, which DuckDB groups without
    hashing (its range, 1 to 5, is known).
    """
    if not metrics:
        return {}
    selects, missing_counts = [], []
    for index, metric in enumerate(metrics):
        score = quote_identifier(metric_column(metric))
        raw = quote_identifier(metric.field)
        # metric_scores holds clients' rows in their order: joined by position.
        joined = f"FROM {METRIC_SCORES} AS s POSITIONAL JOIN {CLIENTS} AS c"
        if metric.method == "category":
            blank = f"c.{raw} IS NULL OR trim(CAST(c.{raw} AS VARCHAR)) = ''"
            selects.append(
                f"""SELECT {index} AS metric, {blank} AS missing,
                       s.{score} AS score, NULL::DOUBLE, NULL::DOUBLE, count(*)
                {joined} GROUP BY ALL"""
            )
            continue
        value = f"TRY_CAST(c.{raw} AS DOUBLE)"
        selects.append(
            f"""SELECT {index} AS metric, false AS missing, s.{score} AS score,
                   min({value}), max({value}), count(*)
            {joined} WHERE c.{raw} IS NOT NULL GROUP BY s.{score}"""
        )
        missing_counts.append((index, f"count(*) - count({raw})"))
    rows = con.execute(" UNION ALL ".join(selects)).fetchall()
    if missing_counts:
        # fetchall, not fetchone: a result left unfinished blocks the next
        # con.register() (scoring may be the last query before one).
        [counts] = con.execute(
            f"SELECT {', '.join(c for _, c in missing_counts)} FROM {CLIENTS}"
        ).fetchall()
        rows += [
            (index, True, None, None, None, n)
            for (index, _), n in zip(missing_counts, counts)
            if n
        ]
    groups: dict[str, list[tuple]] = {metric.key: [] for metric in metrics}
    for index, *group in sorted(rows, key=_row_order):
        groups[metrics[index].key].append(tuple(group))
    return groups


def _row_order(row: tuple) -> tuple:
    """Metric, then missing last, then score ascending with NULL last."""
    index, missing, score, *_ = row
    return (index, missing, score is None, score or 0)


def _metric_report(metric: Metric, groups: list[tuple] | None) -> MetricReport:
    """The report of one metric from its groups; None: the metric was skipped."""
    if groups is None:
        return MetricReport(metric.key, metric.field, metric.method, used=False)
    rows = [row[1:] for row in groups if not row[0]]
    missing = sum(row[-1] for row in groups if row[0])
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
    ``d_<dimension>``, ``composite``), row for row in the same order.
    Metrics and dimensions with no score are left out of their weighted mean,
    which renormalises the remaining weights.
    """
    sql, params = _composite_sql(con, standard)
    # Narrow, and in the row order of metric_scores (a plain projection), so
    # that step 3 joins the three tables by position.
    con.execute(f"CREATE OR REPLACE TABLE {COMPOSITE_SCORES} AS {sql}", params)


def _composite_sql(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    source: str = METRIC_SCORES,
    carry: str = "_row",
    available: set[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """SQL selecting ``carry`` (``_row``), the dimension scores and the
    composite from ``source`` (``metric_scores``), and its parameters.

    ``available`` names the metric score columns of ``source`` (by default
    those of the table ``metric_scores``).
    """
    if available is None:
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

    composite = f"round(25 * ({_weighted_mean(composite_terms)} - 1), 2)"
    sql = f"""
        WITH dimension_scores AS (
            SELECT {carry}, {", ".join(dimension_selects)} FROM {source}
        )
        SELECT *, {composite} AS composite FROM dimension_scores
        """
    return sql, params


def _composite_columns(standard: Standard, available: set[str]) -> list[str]:
    """The columns ``_composite_sql`` adds: scored dimensions, then the composite."""
    dimensions = [
        dimension_column(d.key)
        for d in standard.dimensions
        if any(metric_column(m) in available for m in d.metrics)
    ]
    return dimensions + ["composite"]


def _weighted_mean(terms: list[tuple[str, str]]) -> str:
    """SQL for the weighted mean of non-NULL columns; NULL if all are NULL."""
    numerator = " + ".join(f"coalesce({col} * ${w}, 0)" for col, w in terms)
    denominator = " + ".join(
        f"CASE WHEN {col} IS NULL THEN 0 ELSE ${w} END" for col, w in terms
    )
    return f"(({numerator}) / nullif({denominator}, 0))"


# --- step 3: tiers, gates and reasons -------------------------------------


def _tier_ranks_sql(
    standard: Standard,
    clients_columns: dict[str, str],
    lines: list[float | None] | None = None,
    score_columns: list[str] = (),
    source: str | None = None,
    gate_values: dict[int, list] | None = None,
) -> tuple[str, dict[str, Any], tuple[int, ...]]:
    """SQL selecting ``_row``, ``client_id``, ``composite``, ``rank_before``,
    ``tier_rank`` and ``gate_index`` (and the gate fields) per client.

    Without ``lines`` this is the reference form: ``composite_scores``
    joined to ``clients`` on ``_row``, quota positions by ``rank()``. With
    ``lines`` (the composite each tier but the last starts at, see
    ``_tier_lines``) the tables are joined by position, every step is a
    projection that keeps the row order, and ``score_columns`` of
    ``metric_scores`` and ``composite_scores`` are selected too; or, given
    ``source``, that query supplies all of these columns and the gate fields.
    ``gate_values`` are the values text gates apply to (see ``_gate_values``).

    Returns the SQL, its parameters, and the indexes of gates skipped because
    their field is not in the data.
    """
    params: dict[str, Any] = {}
    names = standard.tier_names()
    gate_fields = sorted(
        {g.field for g in standard.gates if g.field in clients_columns} - {"client_id"}
    )
    extra = "".join(f", g.{quote_identifier(f)}" for f in gate_fields)
    if lines is None:
        source = f"""SELECT s._row, g.client_id, s.composite{extra}
            FROM {COMPOSITE_SCORES} AS s JOIN {CLIENTS} AS g ON g._row = s._row"""
        base = _base_rank_sql(standard, params)
    elif source is not None:
        base = _line_rank_sql(standard, lines, params)
    else:
        scores = "".join(f", {quote_identifier(c)}" for c in score_columns)
        # A misaligned row would pair a client with another's scores: fail loudly.
        source = f"""SELECT CASE WHEN g._row = m._row AND g._row = s._row
                    THEN g._row ELSE error('scores out of step with clients') END
                    AS _row, g.client_id{scores}{extra}
            FROM {CLIENTS} AS g POSITIONAL JOIN {METRIC_SCORES} AS m
                 POSITIONAL JOIN {COMPOSITE_SCORES} AS s"""
        base = _line_rank_sql(standard, lines, params)
    steps = [f"scoring_input AS ({source})", f"gate_step_0 AS ({base})"]
    skipped = []
    for i, gate in enumerate(standard.gates):
        if gate.field not in clients_columns:
            skipped.append(i)
            continue
        condition = _gate_condition(
            gate, i, clients_columns[gate.field], params, (gate_values or {}).get(i)
        )
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


def _line_rank_sql(
    standard: Standard, lines: list[float | None], params: dict[str, Any]
) -> str:
    """SQL ranking each client's tier before gates from composite lines."""
    arms = []
    for i, line in enumerate(lines):
        params[f"line{i}"] = line
        arms.append(f"WHEN composite >= $line{i} THEN {i}")
    last = len(standard.tiers) - 1
    rank = f"CASE WHEN composite IS NULL THEN NULL {' '.join(arms)} ELSE {last} END"
    return (
        f"SELECT *, {rank} AS rank_before, {rank} AS tier_rank, "
        "NULL::INTEGER AS gate_index FROM scoring_input"
    )


def _tier_lines(
    con: duckdb.DuckDBPyConnection, standard: Standard
) -> list[float | None]:
    """The composite each tier but the last starts at (None: nobody reaches it).

    In score mode these are the minimum scores. In quota mode a client's
    position is the number of clients with a higher composite (ties share
    it), and tier i takes positions below ``share × scored clients``; the
    line is the lowest composite whose position qualifies, found over the
    distinct composites (at most 10,001 after rounding to 0.01).
    """
    if standard.tier_mode != "quota":
        return [tier.min_score for tier in standard.tiers[:-1]]
    shares = {f"share{i}": t.share / 100 for i, t in enumerate(standard.tiers[:-1])}
    lines = ", ".join(
        f"min(composite) FILTER (position < $share{i} * scored_clients)"
        for i in range(len(shares))
    )
    row = con.execute(
        f"""
        WITH distinct_scores AS (
            SELECT composite, count(*) AS clients FROM {COMPOSITE_SCORES}
            WHERE composite IS NOT NULL GROUP BY composite
        ), positions AS (
            SELECT composite,
                   sum(clients) OVER (ORDER BY composite DESC) - clients AS position,
                   sum(clients) OVER () AS scored_clients
            FROM distinct_scores
        )
        SELECT {lines} FROM positions
        """,
        shares,
    ).fetchall()
    return list(row[0]) if row else []


def _gate_values(
    con: duckdb.DuckDBPyConnection, standard: Standard, columns: dict[str, str]
) -> dict[int, list]:
    """Per gate on a text field: the distinct values, as stored, it applies to.

    Testing a row against this short list is cheaper than trimming and
    upper-casing it; fields with more than ``DISTINCT_VALUES_LIMIT`` values
    are left out and tested row by row. A NULL field never passes a gate
    other than ``missing``, so NULL needs no place in the list.
    """
    found = {}
    for index, gate in enumerate(standard.gates):
        if gate.op == "missing" or columns.get(gate.field) != "VARCHAR":
            continue
        column = quote_identifier(gate.field)
        params: dict[str, Any] = {}
        condition = _gate_condition(gate, index, columns[gate.field], params)
        [(count, values)] = con.execute(
            f"""
            WITH distinct_values AS (
                SELECT DISTINCT {column} FROM {CLIENTS}
                LIMIT {DISTINCT_VALUES_LIMIT + 2}
            )
            SELECT count({column}),
                   list({column}) FILTER (coalesce({condition}, false))
            FROM distinct_values
            """,
            params,
        ).fetchall()
        if count <= DISTINCT_VALUES_LIMIT:
            found[index] = values or []
    return found


def _gate_condition(
    gate: Gate,
    index: int,
    column_type: str,
    params: dict[str, Any],
    values: list | None = None,
) -> str:
    """SQL condition for one gate, with its value bound as ``$g<index>``.

    With ``values`` (see ``_gate_values``) the field is looked up in them.
    """
    column = quote_identifier(gate.field)
    name = f"g{index}"
    if gate.op == "missing":
        return f"{column} IS NULL"
    if values is not None:
        if not values:
            return "false"
        params[name] = values
        return f"list_contains(${name}, {column})"
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
    columns = table_columns(con, CLIENTS)
    sql, params, _ = _tier_ranks_sql(
        standard, columns, gate_values=_gate_values(con, standard, columns)
    )
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
    score_columns = [
        column
        for table in (METRIC_SCORES, COMPOSITE_SCORES)
        for column in table_columns(con, table)
        if column != "_row"
    ]
    columns = table_columns(con, CLIENTS)
    sql, params, skipped = _tier_ranks_sql(
        standard,
        columns,
        _tier_lines(con, standard),
        score_columns,
        gate_values=_gate_values(con, standard, columns),
    )
    return _write_scored(
        con, standard, (sql, params, skipped), score_columns, reports, lang
    )


def _write_scored(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    ranks: tuple[str, dict[str, Any], tuple[int, ...]],
    score_columns: list[str],
    reports: tuple[MetricReport, ...],
    lang: str,
) -> ScoredResult:
    """Write ``scored`` from the ranks SQL (see ``_tier_ranks_sql``) and count it."""
    sql, params, skipped = ranks
    params = {**params, **_reason_parameters(standard, lang)}
    selected = "".join(f"{quote_identifier(c)}, " for c in score_columns)
    # Next steps and segments (tiering.insight) describe the old tiers.
    con.execute("DROP TABLE IF EXISTS insight")
    # Every step is a projection over clients' rows in their order (by
    # _row), so the table comes out in _row order without a sort.
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {SCORED} AS
        WITH ranks AS ({sql})
        SELECT _row, client_id, {selected}
               $names[rank_before + 1] AS tier_before_gates,
               $gate_labels[gate_index + 1] AS gate,
               $names[tier_rank + 1] AS tier,
               tier_rank,
               {_reason_sql()} AS reason
        FROM ranks
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
    """Reason texts, built here per tier and per (gate, tier) pair.

    Only the composite varies per client, so the SQL joins a few bound
    texts around it instead of formatting a template per row.
    """
    labels = [
        gate.label.get(lang) or gate.label.get("zh") or f"{gate.field} {gate.op}"
        for gate in standard.gates
    ]
    names = standard.tier_names()
    if standard.tier_mode == "quota":
        line, lines = (
            template("scoring.reason.quota", lang),
            [t.share for t in standard.tiers],
        )
    else:
        line, lines = (
            template("scoring.reason.score", lang),
            [t.min_score for t in standard.tiers],
        )
    # The templates put the composite first, as {:.2f}.
    head, tail = line.split("{:.2f}", 1)
    gate = template("scoring.reason.gate", lang)
    return {
        "names": names,
        "gate_labels": labels or [""],
        "reason_head": head,
        "reason_tails": [tail.format(n, float(v)) for n, v in zip(names, lines)],
        # Indexed by gate_index × tiers + tier_rank.
        "reason_gates": [gate.format(label, n) for label in labels for n in names]
        or [""],
        "reason_unscored": template("scoring.reason.unscored", lang),
    }


def _reason_sql() -> str:
    """SQL for the reason text: composite against the tier line, then the gate."""
    # Composites are rounded to 0.01, so a DECIMAL prints them as {:.2f} does.
    composite = "CAST(CAST(composite AS DECIMAL(8, 2)) AS VARCHAR)"
    gate = "$reason_gates[gate_index * len($names) + tier_rank + 1]"
    # concat builds each text once and reads a NULL (no gate) as empty.
    return (
        "CASE WHEN composite IS NULL THEN $reason_unscored ELSE "
        f"concat($reason_head, {composite}, $reason_tails[rank_before + 1], "
        f"{gate}) END"
    )


# --- the whole run ----------------------------------------------------------


def score_clients(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    lang: str = "zh",
    progress: Callable[[str, int, int], None] | None = None,
) -> ScoredResult:
    """Run all three steps: metric scores, composite, tiers.

    With minimum scores the steps run as one pass over ``clients``; the
    tables written are the same as ``score_metrics``, ``compose_scores``
    and ``assign_tiers`` write in turn.

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
    if standard.tier_mode == "quota":
        # A quota line depends on every client's composite, so the composite
        # is stored before the tiers are cut: the three steps in turn.
        reports = score_metrics(con, standard)
        if progress:
            progress("score", 1, 3)
        compose_scores(con, standard)
        if progress:
            progress("score", 2, 3)
        result = assign_tiers(con, standard, reports, lang)
    else:
        result = _score_in_one_pass(con, standard, lang, progress)
    if progress:
        progress("score", 3, 3)
    return result


def _score_in_one_pass(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    lang: str,
    progress: Callable[[str, int, int], None] | None,
) -> ScoredResult:
    """Steps 1 to 3 as one projection over ``clients``, for minimum scores.

    Each client's metric scores, composite, tier and reason are computed in
    a single parallel pass that writes ``scored``; ``metric_scores`` and
    ``composite_scores`` are then copied out of it for later weight and
    cut-off changes. The tables are the same as the three steps write.
    """
    used = _scorable_metrics(con, standard)
    selects, params, categories = _metric_selects(con, used)
    if progress:
        progress("score", 1, 3)

    columns = table_columns(con, CLIENTS)
    gate_fields = sorted(
        {g.field for g in standard.gates if g.field in columns} - {"_row", "client_id"}
    )
    carried = "".join(f", {quote_identifier(f)}" for f in gate_fields)
    metric_names = [metric_column(m) for m in used]
    composite, composite_params = _composite_sql(
        con, standard, source="row_metrics", carry="*", available=set(metric_names)
    )
    source = f"""
        WITH row_metrics AS (
            SELECT _row, client_id{carried}, {selects} FROM {CLIENTS}
        ), row_composites AS ({composite})
        SELECT * FROM row_composites"""
    score_columns = metric_names + _composite_columns(standard, set(metric_names))
    sql, rank_params, skipped = _tier_ranks_sql(
        standard,
        columns,
        _tier_lines(con, standard),
        score_columns,
        source=source,
        gate_values=_gate_values(con, standard, columns),
    )
    ranks = (sql, {**params, **composite_params, **rank_params}, skipped)
    result = _write_scored(con, standard, ranks, score_columns, (), lang)
    if progress:
        progress("score", 2, 3)

    dimensions = [c for c in score_columns if c not in metric_names]
    for table, names in ((METRIC_SCORES, metric_names), (COMPOSITE_SCORES, dimensions)):
        listed = "".join(f", {quote_identifier(c)}" for c in names)
        # A projection of scored keeps its row order, which is clients'.
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT _row{listed} FROM {SCORED}"
        )
    reports = _metric_reports(con, standard, used, categories)
    return replace(result, metric_reports=reports)


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


# --- slider moves: counts and histogram from the composites in memory -------


@dataclass(frozen=True)
class CompositeIndex:
    """The scored clients' composites, counted per value and per gate group.

    Built once per set of weights (``composite_index``), it answers a
    cut-off or quota move without SQL (``count_tiers_indexed``): the gates
    that apply to a client depend on its fields alone, never on cut-offs, so
    each gate group's counts at or above any line are a binary search away.
    """

    gates: tuple[Gate, ...]
    # Distinct composites, ascending.
    composites: np.ndarray
    # Per gate group (a row), clients with a composite at or above each value;
    # one extra last column of zeros.
    at_or_above: np.ndarray
    # Per gate group, bit i set when gate i applies to its clients.
    masks: tuple[int, ...]

    @property
    def scored_clients(self) -> int:
        """Clients with a composite."""
        return int(self.at_or_above[:, 0].sum()) if len(self.masks) else 0


@dataclass(frozen=True)
class MetricArrays:
    """Every client's metric scores in memory, for weight sliders.

    Read once per scoring of the metrics (``read_metric_arrays``). A weight
    move then composes in numpy, to the same cent, what ``compose_scores``
    would store (``composite_cents``), with no SQL.
    """

    rows: np.ndarray
    # Per metric score column: the score, 0 where the client has none.
    values: dict[str, np.ndarray]
    # Per metric score column: True where the client has a score.
    present: dict[str, np.ndarray]
    # Dimension scores of the last metric weights asked for, so a dimension
    # weight move recomputes only the composite: {dimension key: ((metric
    # column, weight) pairs, score, present)}.
    _dimensions: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class GateGroups:
    """Which gates apply to each client, as a small number of groups.

    Gates depend on a client's fields alone, never on weights or cut-offs,
    so the groups are read once per set of gates (``read_gate_groups``).
    """

    gates: tuple[Gate, ...]
    rows: np.ndarray
    # Distinct bit masks (bit i: gate i applies), and each client's slot in them.
    masks: tuple[int, ...]
    slot: np.ndarray


def read_metric_arrays(con: duckdb.DuckDBPyConnection) -> MetricArrays:
    """Read ``metric_scores`` into memory (see ``MetricArrays``)."""
    columns = {
        name: kind
        for name, kind in table_columns(con, METRIC_SCORES).items()
        if name != "_row"
    }
    selects = []
    for i, (name, kind) in enumerate(columns.items()):
        column = quote_identifier(name)
        # Scores run from 1 to 5: a byte each keeps a million clients' scores
        # in a megabyte per metric.
        small = "::TINYINT" if kind in INTEGER_TYPES else ""
        selects.append(f"coalesce({column}, 0){small} AS v{i}")
        selects.append(f"{column} IS NOT NULL AS p{i}")
    table = con.execute(
        f"SELECT _row, {', '.join(selects)} FROM {METRIC_SCORES}"
    ).fetchnumpy()
    return MetricArrays(
        np.asarray(table["_row"]),
        {name: np.asarray(table[f"v{i}"]) for i, name in enumerate(columns)},
        {name: np.asarray(table[f"p{i}"]) for i, name in enumerate(columns)},
    )


def read_gate_groups(
    con: duckdb.DuckDBPyConnection, standard: Standard
) -> GateGroups:
    """Read which of ``standard``'s gates apply to each client (``GateGroups``)."""
    columns = table_columns(con, CLIENTS)
    params: dict[str, Any] = {}
    values = _gate_values(con, standard, columns)
    bits = [
        f"CASE WHEN coalesce("
        f"{_gate_condition(g, i, columns[g.field], params, values.get(i))}, "
        f"false) THEN {1 << i} ELSE 0 END"
        for i, g in enumerate(standard.gates)
        if g.field in columns
    ]
    table = con.execute(
        f"SELECT _row, {' + '.join(bits) or '0'} AS gate_mask FROM {CLIENTS}",
        params,
    ).fetchnumpy()
    # Few gates make small masks: counting them sorts nothing.
    gate_mask = np.asarray(table["gate_mask"]).astype(np.int64)
    masks = np.flatnonzero(np.bincount(gate_mask, minlength=1))
    slot_of = np.zeros(int(masks[-1]) + 1 if len(masks) else 1, dtype=np.int64)
    slot_of[masks] = np.arange(len(masks))
    return GateGroups(
        standard.gates,
        np.asarray(table["_row"]),
        tuple(int(m) for m in masks),
        slot_of[gate_mask],
    )


def composite_cents(arrays: MetricArrays, standard: Standard) -> np.ndarray:
    """Each client's composite under ``standard``'s weights, in cents.

    The same value ``compose_scores`` stores, computed in numpy: the weighted
    means are added up in the SQL's order, and rounded as DuckDB's
    ``round(x, 2)`` rounds, so each composite matches to the cent.

    Returns:
        An int64 array in the order of ``arrays.rows``; -1 where the client
        has no composite.

    Raises:
        ScoringError: no metric of the standard is scored.
    """
    terms = []
    for dimension in standard.dimensions:
        scored = _dimension_scores(arrays, dimension)
        if scored is not None:
            terms.append((*scored, dimension.weight))
    if not terms:
        raise ScoringError("error.scoring.no_metrics")
    mean, present = _weighted_mean_arrays(terms)
    cents = _round_cents(25 * (mean - 1))
    cents[~present] = -1
    return cents


def _dimension_scores(arrays: MetricArrays, dimension: Dimension):
    """A dimension's (score, present) arrays, or None when none of its
    metrics is scored; kept in ``arrays`` until its metric weights change."""
    columns = [
        (metric_column(m), m.weight)
        for m in dimension.metrics
        if metric_column(m) in arrays.values
    ]
    if not columns:
        return None
    # Keyed by metrics and weights: a standard may regroup the same metrics.
    key = tuple(columns)
    kept = arrays._dimensions.get(dimension.key)
    if kept is None or kept[0] != key:
        terms = [(arrays.values[c], arrays.present[c], w) for c, w in columns]
        kept = (key, *_weighted_mean_arrays(terms))
        arrays._dimensions[dimension.key] = kept
    return kept[1], kept[2]


def _weighted_mean_arrays(terms: list[tuple[np.ndarray, np.ndarray, int]]):
    """``_weighted_mean`` in numpy: (mean, present) of (values, present, weight)
    terms, summed term by term in the SQL's order so that the doubles agree."""
    numerator = np.zeros(len(terms[0][0]))
    denominator = np.zeros(len(terms[0][0]))
    for values, present, weight in terms:
        # Values are 0 where absent, as coalesce(value * weight, 0) is.
        numerator += np.multiply(values, weight, dtype=np.float64)
        denominator += np.multiply(present, weight, dtype=np.float64)
    present = denominator != 0
    mean = np.divide(
        numerator, denominator, out=np.zeros_like(numerator), where=present
    )
    return mean, present


def _round_cents(values: np.ndarray) -> np.ndarray:
    """``round(values, 2)`` as DuckDB computes it, times 100, as int64.

    DuckDB rounds the exact binary value half away from zero: 0.015, stored
    just under, goes down to 0.01. ``values * 100`` in doubles can land on
    the half cent either way, so the product's rounding error is recovered
    exactly (Dekker's split: 100 has few bits, so ``high * 100`` is exact)
    and decides which side of the half cent the true product is on.
    """
    size = np.abs(values)
    product = size * 100
    scaled = size * 134_217_729.0  # 2**27 + 1 splits a double in halves
    high = scaled - (scaled - size)
    error = (high * 100 - product) + (size - high) * 100
    cents = np.floor(product)
    # product - cents and the half are exact; the sum's sign is the answer.
    up = (product - cents - 0.5) + error >= 0
    return np.copysign(cents + up, values).astype(np.int64)


def composite_index(
    arrays: MetricArrays, groups: GateGroups, standard: Standard
) -> CompositeIndex:
    """Count the composites of ``standard``'s weights per value and gate group.

    Args:
        arrays: the metric scores (``read_metric_arrays``).
        groups: the gate groups of the standard's gates (``read_gate_groups``).
        standard: the standard whose weights apply.

    Returns:
        A ``CompositeIndex``; build it again when the weights change.

    Raises:
        ValueError: the groups were read for other gates or other clients.
        ScoringError: no metric of the standard is scored.
    """
    if groups.gates != standard.gates:
        raise ValueError("the gate groups were read for other gates")
    if not np.array_equal(arrays.rows, groups.rows):
        raise ValueError("the metric scores are out of step with the clients")
    cents = composite_cents(arrays, standard)

    scored = cents >= 0
    slots = len(groups.masks)
    per_key = np.bincount(
        groups.slot[scored] * CENTS_RANGE + cents[scored],
        minlength=max(slots, 1) * CENTS_RANGE,
    ).reshape(-1, CENTS_RANGE)[:slots]
    present = per_key.any(axis=0)
    counts = np.zeros((slots, int(present.sum()) + 1), dtype=np.int64)
    counts[:, :-1] = per_key[:, present]
    at_or_above = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]
    return CompositeIndex(
        standard.gates, np.flatnonzero(present) / 100, at_or_above, groups.masks
    )


def count_tiers_indexed(index: CompositeIndex, standard: Standard) -> pd.DataFrame:
    """Return what ``count_tiers`` returns, from an index, in microseconds.

    ``standard`` must have the gates the index was built with.

    Raises:
        ValueError: the standard's gates differ from the index's.
    """
    if standard.gates != index.gates:
        raise ValueError("the composite index was built for other gates")
    # Clients at or above line i reach tier i or better before gates; the
    # first matching tier wins, so each line is the lowest of those above it.
    lines = tier_lines_indexed(index, standard)
    last = len(standard.tiers) - 1
    names = standard.tier_names()
    counts: dict[int, int] = {}
    for row, mask in enumerate(index.masks):
        at_or_above = index.at_or_above[row]
        reached = [
            int(at_or_above[np.searchsorted(index.composites, line)])
            if line is not None
            else 0
            for line in lines
        ] + [int(at_or_above[0])]
        for before in range(last + 1):
            clients = reached[before] - (reached[before - 1] if before else 0)
            rank = before
            for i, gate in enumerate(standard.gates):
                if mask >> i & 1:
                    target = names.index(gate.tier)
                    rank = max(rank, target) if gate.action == "cap" else target
            counts[rank] = counts.get(rank, 0) + clients
    return _counts_frame(standard, counts)


def tier_lines_indexed(
    index: CompositeIndex, standard: Standard
) -> list[float | None]:
    """The composite each tier but the last starts at, from an index.

    In score mode the cut-offs; in quota mode the composites the shares fall
    on (``_tier_lines``). Each line is lowered to the lowest line above it,
    as tiers are assigned; None where no line applies.
    """
    if standard.tier_mode == "quota":
        total = index.at_or_above.sum(axis=0)
        # Clients with a higher composite than each distinct value.
        positions = total[1:]
        scored = index.scored_clients
        lines = []
        for tier in standard.tiers[:-1]:
            qualifies = np.flatnonzero(positions < tier.share / 100 * scored)
            lines.append(
                float(index.composites[qualifies[0]]) if len(qualifies) else None
            )
    else:
        lines = [tier.min_score for tier in standard.tiers[:-1]]
    lowest, lowered = None, []
    for line in lines:
        if line is not None:
            lowest = line if lowest is None else min(lowest, line)
        lowered.append(lowest)
    return lowered


def histogram_indexed(index: CompositeIndex, width: float = 2.0) -> pd.DataFrame:
    """Return what ``composite_histogram`` returns, from an index."""
    clients = index.at_or_above.sum(axis=0)
    per_value = clients[:-1] - clients[1:]
    starts = np.floor(index.composites / width) * width
    bands, slot = np.unique(starts, return_inverse=True)
    totals = np.bincount(slot, weights=per_value, minlength=len(bands))
    return pd.DataFrame({"start": bands, "clients": totals.astype(np.int64)})
