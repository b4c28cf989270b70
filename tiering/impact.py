"""What a draft standard would change, before it is published.

``impact`` copies the loaded ``clients`` into a scratch DuckDB connection (so
the session's own scores stay as they are), scores them with the published
standard and then with the draft, and compares the two in SQL: the migration
matrix (published tier × draft tier), the clients who would move up or down
with both composites, and the change in clients per tier.

``diff_standards`` lists what differs between two versions, field by field,
as flat (path, old, new) rows. Lists of dimensions and metrics are keyed by
their ``key`` and tiers by their ``name``, so a path reads
``dimensions[value].metrics[amount].weight`` rather than list positions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from tiering.i18n import t
from tiering.scoring import score_clients
from tiering.snapshots import migration_matrix, movers
from tiering.standard import Standard

logger = logging.getLogger(__name__)

# Fields that differ between any two versions and say nothing about the rule.
_IGNORED_FIELDS = ("version",)


@dataclass(frozen=True)
class Impact:
    """The per-client difference between the published standard and a draft."""

    matrix: pd.DataFrame
    upgraded: pd.DataFrame
    downgraded: pd.DataFrame
    counts: pd.DataFrame
    moved: int
    clients: int


def impact(
    con: duckdb.DuckDBPyConnection,
    published: Standard,
    draft: Standard,
    lang: str = "zh",
) -> Impact:
    """Score the loaded clients with both standards and compare them.

    Args:
        con: a dataset connection holding ``clients``; left unchanged.
        published: the standard in force.
        draft: the edited standard.
        lang: language of the reasons and the unscored label.

    Returns:
        An ``Impact``: matrix rows are published tiers, columns draft tiers.

    Raises:
        ScoringError: a standard does not fit the data.
    """
    scratch = duckdb.connect()
    try:
        scratch.register("session_clients", con.sql("SELECT * FROM clients").to_arrow_table())
        scratch.execute("CREATE TABLE clients AS SELECT * FROM session_clients")
        scratch.unregister("session_clients")
        for table, standard in (("a_rows", published), ("b_rows", draft)):
            score_clients(scratch, standard, lang)
            scratch.execute(
                f"CREATE TABLE {table} AS SELECT client_id, composite, tier, tier_rank, "
                "NULL::VARCHAR AS previous_tier, NULL::DATE AS tier_changed_on, "
                "false AS watch FROM scored"
            )
        order = draft.tier_names() + [
            name for name in published.tier_names() if name not in draft.tier_names()
        ]
        matrix = migration_matrix(scratch, order, t("manage.unscored", lang))
        upgraded, downgraded = movers(scratch, "<"), movers(scratch, ">")
        counts = _count_change(scratch, order)
    finally:
        scratch.close()
    columns = ["client_id", "tier_before", "tier_after", "composite_before", "composite_after"]
    moved = len(upgraded) + len(downgraded)
    logger.info("impact preview: %d clients change tier", moved)
    return Impact(
        matrix=matrix,
        upgraded=upgraded[columns],
        downgraded=downgraded[columns],
        counts=counts,
        moved=moved,
        clients=int(matrix.to_numpy().sum()),
    )


def _count_change(con: duckdb.DuckDBPyConnection, order: list[str]) -> pd.DataFrame:
    counts = con.execute(
        """
        SELECT tier, count(*) FILTER (side = 'a') AS before,
               count(*) FILTER (side = 'b') AS after
        FROM (SELECT 'a' AS side, tier FROM a_rows
              UNION ALL SELECT 'b', tier FROM b_rows)
        WHERE tier IS NOT NULL GROUP BY tier
        """
    ).df()
    counts = counts.set_index("tier").reindex(order, fill_value=0).reset_index()
    counts["change"] = counts["after"] - counts["before"]
    return counts


def diff_standards(old: Standard, new: Standard) -> list[tuple[str, Any, Any]]:
    """List every field that differs between two standards.

    Args:
        old: the earlier version.
        new: the later version.

    Returns:
        (path, old value, new value) rows in document order; a value is None
        where the field exists on one side only. The version number is left
        out, since it always differs.
    """
    old_flat, new_flat = _flatten(old.to_dict()), _flatten(new.to_dict())
    paths = list(old_flat) + [path for path in new_flat if path not in old_flat]
    return [
        (path, old_flat.get(path), new_flat.get(path))
        for path in paths
        if path.split(".")[0] not in _IGNORED_FIELDS
        and old_flat.get(path) != new_flat.get(path)
    ]


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Flatten nested dicts and lists into {dotted path: leaf value}."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        flat = {}
        for index, item in enumerate(value):
            name = item.get("key") or item.get("name") or index
            flat.update(_flatten(item, f"{path}[{name}]"))
        return flat
    return {path: value}
