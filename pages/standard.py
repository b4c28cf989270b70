"""分级标准 Standard: tune weights, cut-offs and metrics and see counts at once."""

import copy

import pandas as pd
import streamlit as st

import app_state
from app_state import tr
from tiering import charts, results
from tiering.impact import impact
from tiering.standard import Standard, dumps_standard, loads_standard

ws = app_state.workspace()
lang = app_state.lang()
st.title(tr("page.standard"))
if ws.con is None:
    st.info(tr("app.no_data"))
    st.stop()
token = ws.standard_token


def edited_standard(data):
    """Validate widget edits; keep the previous standard if they are invalid."""
    try:
        return Standard.from_dict(data)
    except Exception as error:
        app_state.show_error(error)
        return ws.standard


@st.fragment
def live_tuning():
    """Weights, tier lines and the counts they give, rerun alone on each move."""
    data = copy.deepcopy(ws.standard.to_dict())
    st.subheader(tr("standard.weights"))
    columns = st.columns(len(data["dimensions"]))
    for column, dimension in zip(columns, data["dimensions"]):
        label = dimension["label"].get(lang) or dimension["key"]
        dimension["weight"] = column.slider(label, 0, 100, int(dimension["weight"]), key=f"dw_{dimension['key']}_{token}")

    st.subheader(tr("standard.tiers"))
    modes = ["score", "quota"]
    # Keyed by language too: relabelled options left the browser's radio
    # showing no choice; a new widget starts from the draft's mode.
    data["tier_mode"] = st.radio(tr("standard.mode"), modes, index=modes.index(data["tier_mode"]), format_func=lambda m: tr(f"standard.mode.{m}"), horizontal=True, key=f"mode_{token}_{lang}")
    columns = st.columns(len(data["tiers"]) - 1)
    for column, tier in zip(columns, data["tiers"][:-1]):
        if data["tier_mode"] == "score":
            tier["min_score"] = column.slider(tr("standard.cutoff", tier=tier["name"]), 0.0, 100.0, float(tier["min_score"]), 0.5, key=f"cut_{tier['name']}_{token}")
        else:
            tier["share"] = column.slider(tr("standard.share", tier=tier["name"]), 0.0, 100.0, float(tier["share"]), 0.5, key=f"share_{tier['name']}_{token}")

    try:
        standard = Standard.from_dict(data)
    except Exception as error:
        app_state.show_error(error)
        # Counts of the last valid standard, marked so none reads them as current.
        standard = ws.standard
        st.warning(tr("standard.stale_counts"), icon=":material/history:")
    app_state.set_standard(standard)
    # Here, not only in the sidebar: a slider move reruns just this fragment.
    if app_state.standard_edited():
        st.caption(tr("standard.draft_edited"))
    try:
        counts = app_state.tier_counts(standard)
    except Exception as error:  # e.g. no metric of the standard fits the data
        app_state.show_error(error)
        return
    metrics = st.columns(len(counts))
    total = max(int(counts["clients"].sum()), 1)
    for column, (_, row) in zip(metrics, counts.iterrows()):
        column.metric(row["tier"], f"{row['clients']:,}", f"{row['clients'] / total:.1%}", delta_color="off", delta_arrow="off", border=True)
    left, right = st.columns(2)
    lines = app_state.tier_lines(standard) if standard.tier_mode == "quota" else None
    histogram = charts.composite_histogram(app_state.histogram(), standard, app_state.HISTOGRAM_WIDTH, lang, lines)
    left.plotly_chart(histogram, key="histogram")
    right.plotly_chart(charts.tier_distribution(counts, lang), key="tier_counts")


live_tuning()

st.subheader(tr("standard.metrics"))
data = copy.deepcopy(ws.standard.to_dict())
for dimension in data["dimensions"]:
    with st.expander(dimension["label"].get(lang) or dimension["key"]):
        for metric in dimension["metrics"]:
            name = metric["label"].get(lang) or metric["key"]
            key = f"{metric['key']}_{token}"
            cols = st.columns([2, 1, 3])
            cols[0].markdown(f"**{name}** · {tr('method.' + metric['method'])}")
            metric["weight"] = cols[1].number_input(tr("standard.metric_weight"), 0, 100, int(metric["weight"]), key=f"mw_{key}")
            if metric["method"] == "thresholds":
                cuts = cols[2].text_input(tr("standard.cuts"), ", ".join(f"{c:g}" for c in metric["cuts"]), key=f"cuts_{key}", help=tr("standard.cuts_help"))
                try:
                    metric["cuts"] = [float(part) for part in cuts.replace("，", ",").split(",")]
                except ValueError:
                    st.error(tr("standard.cuts_invalid", metric=name))
            elif metric["method"] == "category":
                table = pd.DataFrame({"value": list(metric["categories"]), "score": list(metric["categories"].values())})
                edited = cols[2].data_editor(table, num_rows="dynamic", hide_index=True, key=f"cat_{key}")
                metric["categories"] = {str(v): int(s) for v, s in zip(edited["value"], edited["score"]) if str(v).strip() and pd.notna(s)}
            elif metric["method"] == "quantile":
                metric["bins"] = cols[2].select_slider(tr("standard.bins"), [2, 3, 4, 5], metric["bins"], key=f"bins_{key}")
if st.button(tr("standard.apply_metrics"), key="apply_metrics"):
    app_state.set_standard(edited_standard(data))
    st.rerun()

reports = results.metric_report_frame(ws.reports, ws.standard, lang)
st.dataframe(reports, hide_index=True)

st.subheader(tr("standard.file"))
left, right = st.columns(2)
# Built on click from the workspace, so it holds the sliders' latest moves
# (they rerun only their fragment, not this button).
left.download_button(tr("standard.save"), lambda: dumps_standard(ws.standard).encode("utf-8"), file_name=f"{ws.standard.name}_v{ws.standard.version}.json", mime="application/json", on_click="ignore", key="save_standard")
uploaded = right.file_uploader(tr("standard.load"), type=["json"], key=f"standard_file_{token}")
if uploaded is not None:
    try:
        app_state.set_standard(loads_standard(uploaded.getvalue(), uploaded.name), reset_widgets=True)
        st.rerun()
    except Exception as error:
        app_state.show_error(error)

st.subheader(tr("manage.impact.title"))
if st.button(tr("manage.impact.button"), key="impact_preview"):
    try:
        published = app_state.published_standard()
        preview = impact(ws.con, published, ws.standard, lang)
        st.info(tr("manage.impact.summary", version=published.version, clients=preview.clients, moved=preview.moved, up=len(preview.upgraded), down=len(preview.downgraded)))
        left, right = st.columns(2)
        left.dataframe(preview.matrix, key="impact_matrix")
        right.dataframe(preview.counts.rename(columns=lambda c: tr(f"manage.col.{c}")), hide_index=True)
        for name in ("upgraded", "downgraded"):
            frame = getattr(preview, name)
            with st.expander(f"{tr('manage.sheet.' + name)}（{len(frame):,}）"):
                st.dataframe(frame.rename(columns=lambda c: tr(f"manage.col.{c}")), hide_index=True)
    except Exception as error:
        app_state.show_error(error)
note = st.text_input(tr("manage.publish.note"), key="publish_note")
if st.button(tr("manage.publish.button"), key="publish", type="primary"):
    try:
        stored = app_state.store().publish(ws.standard, app_state.current_user(), note)
        app_state.set_standard(stored, reset_widgets=True)
        st.success(tr("manage.publish.done", name=stored.name, version=stored.version))
    except Exception as error:
        app_state.show_error(error)
