"""Tiering Studio entry point: navigation, sidebar, and the first load.

Run with ``streamlit run app.py``. A new session opens on the bundled sample
so the first thing a user sees is tiered clients.
"""

import logging

import streamlit as st

import app_state
from app_state import tr

logging.basicConfig(
    level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
)

st.set_page_config(page_title="Tiering Studio 客户分级工作台", page_icon="💎", layout="wide")

with st.sidebar:
    st.selectbox(
        "语言 / Language",
        options=["zh", "en"],
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        key="lang",
    )
    st.text_input(tr("app.user.label"), key="user_name", placeholder=tr("app.user.placeholder"))

workspace = app_state.workspace()
# Retried on every run until it succeeds: a rerun that interrupts the first
# load (a widget touched early) must not leave the session without data.
if workspace.con is None and not st.session_state.get("sample_failed"):
    try:
        app_state.load_sample()
    except Exception as error:  # the app must still open on a broken sample
        st.session_state["sample_failed"] = True
        app_state.show_error(error)


def describe_session(holder):
    """Name the loaded data and the standard in the sidebar."""
    with holder.container():
        if workspace.con is not None:
            st.caption(tr("app.dataset", name=workspace.dataset_name, rows=workspace.prepared.clients))
        version = app_state.standard_version()  # says so if edited, not published
        st.caption(tr("app.standard", name=workspace.standard.name, version=version))


# Written again after the page runs, so a load or a publish on it shows at
# once; the first writing stays when the page stops early (st.stop).
session_holder = st.sidebar.empty()
describe_session(session_holder)

pages = [
    st.Page("pages/upload.py", title=tr("page.upload"), icon=":material/upload_file:", url_path="upload"),
    st.Page("pages/standard.py", title=tr("page.standard"), icon=":material/tune:", url_path="standard"),
    st.Page("pages/results.py", title=tr("page.results"), icon=":material/leaderboard:", url_path="results", default=True),
    st.Page("pages/playbook.py", title=tr("page.playbook"), icon=":material/support_agent:", url_path="playbook"),
    st.Page("pages/export.py", title=tr("page.export"), icon=":material/download:", url_path="export"),
    st.Page("pages/manage.py", title=tr("page.manage"), icon=":material/history:", url_path="manage"),
]
st.navigation(pages).run()
describe_session(session_holder)
