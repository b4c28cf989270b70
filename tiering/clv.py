"""Customer lifetime value (CLV) from a formula a manager can check by hand.

For one client::

    average purchase value  a = amount / purchase_count
    purchases per year      f = purchase_count / history_years
    yearly margin           m = a × margin × f
    CLV = m × Σ_{t=1..H} r^(t−1) / (1 + d)^t

with H the horizon in years, r the retention rate (the chance a client still
buys in a later year; the first year counts in full) and d the discount rate.
Each year's margin is discounted at the end of that year. Example: amount
300,000 元 over 3 purchases in 3 years, margin 0.3, H = 2, r = 0.8, d = 0.1:
a = 100,000, f = 1, m = 30,000, factor = 1/1.1 + 0.8/1.21 = 1.570248,
CLV = 47,107.44 元. The result is rounded to 0.01.

The factor depends only on the standard, so it is computed once in Python and
bound as one parameter; the per-client part runs in DuckDB. A client with no
amount or no purchase has no CLV (NULL), which the standard's missing-value
policy then scores.

# The probabilistic BG/NBD + Gamma-Gamma estimate (pymc-marketing) is not
# built: it needs per-client first and last purchase dates that the clients
# table does not keep, and a heavy dependency; the formula is what managers
# asked to check by hand.
"""

from __future__ import annotations

import logging

import duckdb

from tiering.sql import quote_identifier
from tiering.standard import Clv, Standard

logger = logging.getLogger(__name__)

CLV_FIELD = "clv"
_INPUTS = ("amount", "purchase_count")


def clv_settings(standard: Standard) -> Clv:
    """Return the standard's CLV parameters, or the defaults when it has none."""
    return standard.clv or Clv()


def discount_factor(settings: Clv) -> float:
    """Return Σ_{t=1..H} r^(t−1) / (1 + d)^t for the settings' H, r and d."""
    return sum(
        settings.retention ** (year - 1) / (1 + settings.discount) ** year
        for year in range(1, settings.horizon_years + 1)
    )


def clv_sql(settings: Clv, table_alias: str = "") -> tuple[str, dict[str, float]]:
    """Return the SQL expression of one client's CLV and its parameters.

    Args:
        settings: the CLV parameters.
        table_alias: prefix for the ``amount`` and ``purchase_count``
            columns, e.g. ``"c."``.

    Returns:
        The expression (NULL without amount or purchases) and the parameters
        ``clv_margin``, ``clv_history`` and ``clv_factor`` it binds.
    """
    amount = f"{table_alias}{quote_identifier('amount')}"
    count = f"{table_alias}{quote_identifier('purchase_count')}"
    average = f"({amount} / nullif({count}, 0))"
    per_year = f"({count} / $clv_history)"
    expression = f"round({average} * $clv_margin * {per_year} * $clv_factor, 2)"
    params = {
        "clv_margin": settings.margin,
        "clv_history": settings.history_years,
        "clv_factor": discount_factor(settings),
    }
    return expression, params


def has_clv_inputs(columns: set[str] | dict[str, str]) -> bool:
    """Return True when the columns hold both amount and purchase count."""
    return all(name in columns for name in _INPUTS)


def add_clv_column(con: duckdb.DuckDBPyConnection, standard: Standard) -> bool:
    """Add (or refresh) the derived ``clv`` column of ``clients`` when scored.

    Only done when a metric of ``standard`` uses the field ``clv`` and the
    clients carry amount and purchase count, so other standards leave the
    table untouched.

    Returns:
        True when the column was written.
    """
    if not any(metric.field == CLV_FIELD for _, metric in standard.metrics()):
        return False
    columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'clients'"
        ).fetchall()
    }
    if not has_clv_inputs(columns):
        return False
    expression, params = clv_sql(clv_settings(standard))
    con.execute("ALTER TABLE clients ADD COLUMN IF NOT EXISTS clv DOUBLE")
    con.execute(f"UPDATE clients SET clv = {expression}", params)
    logger.info("CLV column written for standard version %d", standard.version)
    return True
