"""动态管理 Management: snapshots, comparisons, versions, overrides, audit log."""

import io

import pandas as pd
import streamlit as st

import app_state
from app_state import tr
from tiering import charts
from tiering.impact import diff_standards
from tiering.snapshots import compare, describe_snapshot, take_snapshot, write_comparison

ws = app_state.workspace()
lang = app_state.lang()
st.title(tr("page.manage"))
try:
    store = app_state.store()
except Exception as error:
    app_state.show_error(error)
    st.stop()

tabs = st.tabs([tr(f"manage.tab.{name}") for name in ("snapshots", "compare", "versions", "overrides", "audit")])


def headed(frame):
    """Rename engine columns to the user's language."""
    return frame.rename(columns={c: tr(f"manage.col.{c}") for c in frame.columns})


with tabs[0]:
    if ws.con is None:
        st.info(tr("app.no_data"))
    else:
        st.caption(tr("manage.snapshot.help", name=ws.dataset_name))
        as_of = st.date_input(tr("manage.snapshot.as_of"), value=ws.prepared.as_of, key="snapshot_as_of")
        if st.button(tr("manage.snapshot.take"), key="take_snapshot", type="primary"):
            try:
                standard = app_state.published_standard()
                info = take_snapshot(store, app_state.stored_dataset_id(), standard, as_of, app_state.current_user(), lang)
                st.success(tr("manage.snapshot.taken", line=describe_snapshot(info, lang)))
            except Exception as error:
                app_state.show_error(error)
    snapshots = store.snapshots()
    if snapshots:
        st.dataframe(pd.DataFrame([s.__dict__ for s in snapshots]).rename(columns=lambda c: tr(f"manage.snap.{c}")), hide_index=True, key="snapshot_table")
    else:
        st.info(tr("manage.snapshot.none"))

with tabs[1]:
    if len(snapshots) < 2:
        st.info(tr("manage.compare.need_two"))
    else:
        by_id = {s.id: s for s in snapshots}
        left, right = st.columns(2)
        before = left.selectbox(tr("manage.compare.before"), list(by_id), index=1, format_func=lambda i: describe_snapshot(by_id[i], lang), key="compare_before")
        after = right.selectbox(tr("manage.compare.after"), list(by_id), index=0, format_func=lambda i: describe_snapshot(by_id[i], lang), key="compare_after")
        try:
            comparison = compare(store, before, after, lang)
        except Exception as error:
            app_state.show_error(error)
            comparison = None
    if len(snapshots) >= 2 and comparison is not None:
        st.subheader(tr("manage.compare.matrix"))
        st.dataframe(comparison.matrix, key="migration_matrix")
        st.plotly_chart(charts.migration_sankey(comparison.matrix, comparison.tier_colors, lang), key="sankey")
        st.subheader(tr("manage.compare.psi"))
        st.dataframe(headed(comparison.psi), hide_index=True)
        st.caption(tr("manage.compare.psi_help"))
        for name in ("upgraded", "downgraded", "new", "lost"):
            frame = getattr(comparison, name)
            with st.expander(f"{tr('manage.sheet.' + name)}（{len(frame):,}）"):
                st.dataframe(headed(frame), hide_index=True)
        buffer = io.BytesIO()
        write_comparison(buffer, comparison, lang)
        st.download_button(tr("manage.compare.download"), buffer.getvalue(), file_name=f"compare_{before}_{after}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore", key="download_compare")

with tabs[2]:
    versions = store.versions()
    if not versions:
        st.info(tr("manage.versions.none"))
    else:
        st.dataframe(pd.DataFrame([v.__dict__ for v in versions]).rename(columns=lambda c: tr(f"manage.ver.{c}")), hide_index=True)
        keys = [(v.name, v.version) for v in versions]
        label = lambda k: f"{k[0]} v{k[1]}"  # noqa: E731
        left, right = st.columns(2)
        old = left.selectbox(tr("manage.versions.old"), keys, index=min(1, len(keys) - 1), format_func=label, key="diff_old")
        new = right.selectbox(tr("manage.versions.new"), keys, index=0, format_func=label, key="diff_new")
        rows = diff_standards(store.load_version(*old), store.load_version(*new))
        if rows:
            st.dataframe(pd.DataFrame([(p, str(a), str(b)) for p, a, b in rows], columns=[tr("manage.diff.field"), label(old), label(new)]), hide_index=True)
        else:
            st.caption(tr("manage.versions.same"))
        st.subheader(tr("manage.rollback.title"))
        target = st.selectbox(tr("manage.rollback.version"), keys, format_func=label, key="rollback_version")
        note = st.text_input(tr("manage.rollback.note"), key="rollback_note")
        if st.button(tr("manage.rollback.button"), key="rollback"):
            try:
                stored = store.rollback(target[0], target[1], app_state.current_user(), note or tr("manage.rollback.default_note", version=target[1]))
                app_state.set_standard(stored, reset_widgets=True)
                st.success(tr("manage.rollback.done", version=stored.version))
            except Exception as error:
                app_state.show_error(error)

with tabs[3]:
    try:
        tiers = app_state.published_standard().tier_names()
    except Exception as error:
        app_state.show_error(error)
        tiers = ws.standard.tier_names()
    cols = st.columns([2, 1, 3])
    client_id = cols[0].text_input(tr("manage.col.client_id"), key="override_client")
    tier = cols[1].selectbox(tr("manage.col.tier"), tiers, key="override_tier")
    reason = cols[2].text_input(tr("manage.override.reason"), key="override_reason")
    if st.button(tr("manage.override.add"), key="add_override"):
        try:
            store.set_override(client_id, tier, reason, app_state.current_user())
            app_state.refresh_overrides()
            st.success(tr("manage.override.added", client=client_id.strip(), tier=tier))
        except Exception as error:
            app_state.show_error(error)
    active = store.overrides()
    if active.empty:
        st.caption(tr("manage.override.none"))
    else:
        st.dataframe(active[["client_id", "tier", "reason", "set_by", "set_at"]].rename(columns=lambda c: tr(f"manage.ovr.{c}")), hide_index=True)
        remove = st.selectbox(tr("manage.override.remove_client"), list(active["client_id"]), key="remove_client")
        if st.button(tr("manage.override.remove"), key="remove_override"):
            store.remove_override(remove, app_state.current_user())
            app_state.refresh_overrides()
            st.rerun()

with tabs[4]:
    st.dataframe(store.audit_log().rename(columns=lambda c: tr(f"manage.audit.{c}")), hide_index=True, key="audit_table")
