"""Plotly figures for the pages; every label goes through the i18n module."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from tiering.i18n import t
from tiering.results import Breakdown
from tiering.standard import Standard

_LAYOUT = {"margin": {"l": 40, "r": 20, "t": 40, "b": 40}, "height": 340}
# Lines closer than this many points get their labels at stepped heights
# (LABEL_STEP of the plot apart), or the labels would print over each other.
LABEL_CLOSE = 12.0
LABEL_STEP = 0.09


def tier_distribution(counts: pd.DataFrame, lang: str = "zh") -> go.Figure:
    """Bar chart of clients per tier, in tier colours, best tier first."""
    figure = go.Figure(
        go.Bar(
            x=counts["tier"],
            y=counts["clients"],
            marker_color=counts["color"],
            text=counts["clients"],
            textposition="outside",
        )
    )
    figure.update_layout(
        title=t("chart.tiers.title", lang),
        yaxis_title=t("chart.clients", lang),
        **_LAYOUT,
    )
    return figure


def composite_histogram(
    histogram: pd.DataFrame,
    standard: Standard,
    width: float,
    lang: str = "zh",
    lines: list[float | None] | None = None,
) -> go.Figure:
    """Histogram of composite scores with each tier's cut-off drawn as a line.

    ``histogram`` holds ``start`` and ``clients`` per band of ``width`` points.
    ``lines`` are the composites each tier but the last starts at, where the
    standard does not fix them (quota mode, see
    ``scoring.tier_lines_indexed``); a tier no client reaches has None.
    """
    figure = go.Figure(
        go.Bar(
            x=histogram["start"] + width / 2,
            y=histogram["clients"],
            width=width,
            marker_color="#7f8c9a",
            name=t("chart.clients", lang),
        )
    )
    if lines is None:
        lines = [tier.min_score for tier in standard.tiers[:-1]]
    drawn: list[float] = []
    for tier, line in zip(standard.tiers[:-1], lines):
        if line is None:
            continue
        # A label steps down below each close line drawn before it.
        step = sum(abs(line - other) < LABEL_CLOSE for other in drawn)
        drawn.append(line)
        figure.add_vline(
            x=line,
            line_color=tier.color,
            line_width=3,
            annotation_text=f"{tier.name} ≥ {line:g}",
            annotation_position=_label_side(line),
            annotation_y=1 - LABEL_STEP * step,
        )
    figure.update_layout(
        title=t("chart.histogram.title", lang),
        xaxis_title=t("chart.composite", lang),
        yaxis_title=t("chart.clients", lang),
        xaxis_range=[0, 100],
        bargap=0.05,
        **_LAYOUT,
    )
    return figure


def rf_heatmap(matrix: pd.DataFrame, lang: str = "zh") -> go.Figure:
    """Heatmap of clients by recency score (rows) and frequency score (columns)."""
    figure = go.Figure(
        go.Heatmap(
            z=matrix.values,
            x=[str(c) for c in matrix.columns],
            y=[str(r) for r in matrix.index],
            colorscale="Blues",
            text=matrix.values,
            texttemplate="%{text}",
        )
    )
    figure.update_layout(
        title=t("chart.rf.title", lang),
        xaxis_title=t("chart.rf.frequency", lang),
        yaxis_title=t("chart.rf.recency", lang),
        **_LAYOUT,
    )
    return figure


def breakdown_waterfall(breakdown: Breakdown, lang: str = "zh") -> go.Figure:
    """Waterfall of the points each metric adds; the last bar is the composite."""
    metrics = breakdown.metrics
    labels = [f"{d} · {m}" for d, m in zip(metrics["dimension"], metrics["metric"])]
    figure = go.Figure(
        go.Waterfall(
            x=labels + [t("chart.composite", lang)],
            y=list(metrics["points"].round(2)) + [breakdown.composite or 0],
            measure=["relative"] * len(labels) + ["total"],
            connector={"line": {"color": "#bbbbbb"}},
        )
    )
    figure.update_layout(
        title=t("chart.waterfall.title", lang, client=breakdown.client_id),
        yaxis_title=t("chart.points", lang),
        yaxis_range=[0, 100],
        **_LAYOUT,
    )
    return figure


def migration_sankey(
    matrix: pd.DataFrame, colors: dict[str, str], lang: str = "zh"
) -> go.Figure:
    """Sankey of clients flowing from earlier tiers (left) to later ones (right).

    ``matrix`` has earlier tiers as rows and later tiers as columns (see
    ``tiering.snapshots.compare``); empty cells draw no link.
    """
    sources, targets = list(matrix.index), list(matrix.columns)
    node_colors = [colors.get(str(tier), "#a6a6a6") for tier in sources + targets]
    links = [
        (i, len(sources) + j, int(matrix.iat[i, j]))
        for i in range(len(sources))
        for j in range(len(targets))
        if matrix.iat[i, j] > 0
    ]
    figure = go.Figure(
        go.Sankey(
            node={
                "label": [str(tier) for tier in sources + targets],
                "color": node_colors,
                "pad": 18,
            },
            link={
                "source": [link[0] for link in links],
                "target": [link[1] for link in links],
                "value": [link[2] for link in links],
                "color": "rgba(127, 140, 154, 0.35)",
            },
        )
    )
    figure.update_layout(title=t("chart.sankey.title", lang), **_LAYOUT)
    return figure


def rfm_treemap(table: pd.DataFrame, lang: str = "zh") -> go.Figure:
    """Treemap of clients by RFM class, then tier (``insight.rfm_by_tier``)."""
    labels, parents, values = [], [], []
    for name, row in table.iterrows():
        labels.append(str(name))
        parents.append("")
        values.append(int(row.sum()))
        for tier, clients in row.items():
            if clients:
                labels.append(f"{name} · {tier}")
                parents.append(str(name))
                values.append(int(clients))
    figure = go.Figure(
        go.Treemap(
            labels=labels, parents=parents, values=values, branchvalues="total"
        )
    )
    figure.update_layout(title=t("insight.chart.rfm_treemap", lang), **_LAYOUT)
    return figure


def _label_side(score: float) -> str:
    """Where a cut-off line's label sits: inwards near either edge, not clipped."""
    if score > 90:
        return "top left"
    if score < 10:
        return "top right"
    return "top"
