"""服务策略 Playbook: per tier, the services, follow-up cadence and owner role."""

import streamlit as st

import app_state
from app_state import tr
from tiering import insight
from tiering.errors import StandardError

ws = app_state.workspace()
lang = app_state.lang()
st.title(tr("page.playbook"))
st.caption(tr("insight.playbook.help"))

headers = insight.playbook_headers(lang)
table = insight.playbook_frame(ws.standard, lang).rename(columns=headers)
edited = st.data_editor(
    table,
    hide_index=True,
    disabled=[headers["tier"]],
    column_config={
        headers["cadence_days"]: st.column_config.NumberColumn(
            min_value=1, max_value=365, step=1
        )
    },
    key=f"playbook_{ws.standard_token}",
)
if st.button(tr("insight.playbook.save"), type="primary", key="save_playbook"):
    try:
        changed = insight.with_playbook(
            ws.standard, edited.rename(columns={v: k for k, v in headers.items()})
        )
    except StandardError as error:
        app_state.show_error(error)
    else:
        app_state.set_standard(changed)
        st.success(tr("insight.playbook.saved"))
