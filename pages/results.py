"""分级结果 Results: tier distribution, dimension averages, R×F, client lookup."""

import streamlit as st

import app_state
from app_state import tr
from tiering import charts, insight, results

ws = app_state.workspace()
lang = app_state.lang()
st.title(tr("page.results"))
result = app_state.scored_or_stop()

st.caption(
    tr(
        "results.summary",
        scored=result.rows_scored,
        unscored=result.rows_unscored,
        name=ws.standard.name,
        version=app_state.standard_version(),
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
    app_state.ensure_insight()
    step = insight.client_next_step(ws.con, client_id)
    if step and step.get("next_step"):
        st.success(tr("insight.page.next_step", step=step["next_step"]))
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

st.subheader(tr("insight.page.rfm"))
rule = st.radio(
    tr("insight.page.split"),
    insight.SPLIT_RULES,
    format_func=lambda r: tr(f"insight.split.{r}"),
    horizontal=True,
    key="rfm_rule",
)
manual = {}
if rule == "manual":
    columns = st.columns(3)
    for column, name in zip(columns, insight.RFM_FIELDS):
        manual[name] = column.number_input(tr(f"insight.split.{name}"), value=None)
app_state.ensure_insight(insight.RfmSplit(rule, **manual))
split = insight.rfm_split_values(ws.con, insight.RfmSplit(rule, **manual))
if split is None:
    st.info(tr("insight.page.no_rfm"))
else:
    st.dataframe(insight.rfm_mapping_table(split, lang), hide_index=True, key="rfm_map")
    crossed = insight.rfm_by_tier(ws.con, ws.standard, lang)
    left, right = st.columns(2)
    left.dataframe(crossed, key="rfm_by_tier")
    right.plotly_chart(charts.rfm_treemap(crossed, lang), key="rfm_treemap")

st.subheader(tr("insight.page.groups"))
fields = insight.group_fields(ws.con)
if fields:
    chosen = st.selectbox(
        tr("insight.page.group_field"), fields, format_func=lambda f: tr(f"insight.field.{f}")
    )
    st.dataframe(
        insight.groups_by_tier(ws.con, ws.standard, chosen, lang),
        hide_index=True,
        key="groups",
    )

st.subheader(tr("insight.page.clv"))
st.markdown(tr("insight.page.clv_formula"))
