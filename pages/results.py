"""分级结果 Results: tier distribution, dimension averages, R×F, client lookup."""

import streamlit as st

import app_state
from app_state import tr
from tiering import charts, results

ws = app_state.workspace()
lang = app_state.lang()
st.title(tr("page.results"))
if ws.con is None:
    st.info(tr("app.no_data"))
    st.stop()

try:
    result = app_state.ensure_scored()
except Exception as error:
    app_state.show_error(error)
    st.stop()

st.caption(
    tr(
        "results.summary",
        scored=result.rows_scored,
        unscored=result.rows_unscored,
        name=ws.standard.name,
        version=ws.standard.version,
    )
)
left, right = st.columns(2)
left.plotly_chart(
    charts.tier_distribution(result.tier_counts, lang), key="distribution"
)
matrix = results.rf_matrix(ws.con, ws.standard)
if matrix is not None:
    right.plotly_chart(charts.rf_heatmap(matrix, lang), key="rf")

st.subheader(tr("results.dimension_means"))
st.dataframe(
    results.dimension_means_by_tier(ws.con, ws.standard, lang), hide_index=True
)

st.subheader(tr("results.clients"))
left, right = st.columns([2, 1])
chosen_tiers = left.multiselect(
    tr("results.filter_tiers"),
    ws.standard.tier_names(),
    default=ws.standard.tier_names(),
)
search = right.text_input(tr("results.search"))
clients, total = results.client_list(
    ws.con, ws.standard, chosen_tiers, search, lang=lang
)
st.caption(tr("results.showing", shown=len(clients), total=total))
st.dataframe(clients, hide_index=True, key="client_table")

st.subheader(tr("results.explain"))
client_id = st.selectbox(
    tr("results.pick_client"),
    clients.iloc[:, 0].tolist(),
    index=None,
    placeholder=tr("results.pick_placeholder"),
)
if client_id:
    breakdown = results.client_breakdown(ws.con, ws.standard, client_id, lang)
    st.markdown(f"**{breakdown.tier or '—'}** · {breakdown.reason}")
    if breakdown.next_tier:
        st.info(
            tr(
                "results.next_tier",
                points=breakdown.points_to_next,
                tier=breakdown.next_tier,
            )
        )
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.breakdown_waterfall(breakdown, lang), key="waterfall")
    table = breakdown.metrics.drop(columns="dimension_key").round(2)
    right.dataframe(
        table.rename(columns=lambda c: tr(f"results.breakdown.{c}")), hide_index=True
    )
