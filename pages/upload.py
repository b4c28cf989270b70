"""导入数据 Upload: read a file, check the column mapping, load and score it."""

import pandas as pd
import streamlit as st

import app_state
from app_state import tr
from tiering.fields import FIELDS
from tiering.mapping import Mapping, detect_mapping
from tiering.prepare import describe_issues

UNITS = {"×1": 1.0, "×1万": 10_000.0, "×1亿": 100_000_000.0}

ws = app_state.workspace()
st.title(tr("page.upload"))
st.caption(tr("upload.intro"))

if st.button(tr("upload.sample"), type="primary", key="load_sample"):
    try:
        app_state.load_sample()
        st.success(tr("upload.sample_loaded", rows=ws.prepared.rows_loaded))
    except Exception as error:
        app_state.show_error(error)

left, right = st.columns(2)
client_file = left.file_uploader(tr("upload.clients"), type=["xlsx", "xlsm", "xls", "csv", "txt"])
transaction_file = right.file_uploader(tr("upload.transactions"), type=["xlsx", "xlsm", "xls", "csv", "txt"])


def read(uploaded, key):
    """Read an uploaded file, offering a sheet choice for workbooks."""
    raw = app_state.read_cached(uploaded.getvalue(), uploaded.name, None, None)
    visible = [s.name for s in raw.sheets if not s.hidden]
    if len(raw.sheets) > 1:
        sheet = st.selectbox(tr("upload.sheet", file=uploaded.name), visible, index=visible.index(raw.sheet) if raw.sheet in visible else 0, key=f"sheet_{key}")
        if sheet != raw.sheet:
            raw = app_state.read_cached(uploaded.getvalue(), uploaded.name, sheet, None)
    return raw


def mapping_editor(raw, key):
    """Show the detected mapping as an editable table and return the result."""
    detected = detect_mapping(raw)
    columns = [c for c in raw.frame.columns if c != "_row"]
    unit_names = {value: name for name, value in UNITS.items()}
    table = pd.DataFrame({
        "field": [f.key for f in FIELDS],
        tr("upload.map.field"): [tr(f"field.{f.key}") for f in FIELDS],
        tr("upload.map.column"): [detected.columns.get(f.key) for f in FIELDS],
        tr("upload.map.unit"): [unit_names.get(detected.unit(f.key), "×1") if f.kind == "number" else None for f in FIELDS],
    })
    edited = st.data_editor(
        table,
        column_config={
            "field": None,
            tr("upload.map.field"): st.column_config.TextColumn(disabled=True),
            tr("upload.map.column"): st.column_config.SelectboxColumn(options=columns),
            tr("upload.map.unit"): st.column_config.SelectboxColumn(options=list(UNITS)),
        },
        hide_index=True, width="stretch", key=f"mapping_{key}_{raw.source_name}_{raw.sheet}",
    )
    chosen = {row["field"]: row[tr("upload.map.column")] for _, row in edited.iterrows() if row[tr("upload.map.column")]}
    units = {row["field"]: UNITS[row[tr("upload.map.unit")]] for _, row in edited.iterrows() if row[tr("upload.map.unit")] in UNITS and UNITS[row[tr("upload.map.unit")]] != 1.0}
    return chosen, units, detected


try:
    raws = {}
    if client_file is not None:
        raws["clients"] = read(client_file, "clients")
    if transaction_file is not None:
        raws["transactions"] = read(transaction_file, "transactions")
    mappings = {}
    for key, raw in raws.items():
        with st.expander(tr("upload.mapping_title", file=raw.source_name, header=raw.header_row), expanded=True):
            chosen, units, detected = mapping_editor(raw, key)
            row_ids = False
            if key == "clients" and "client_id" not in chosen:
                st.warning(tr("upload.no_id"))
                row_ids = st.checkbox(tr("upload.row_ids"), key="row_ids")
            mappings[key] = Mapping(columns=chosen, units=units, row_ids=row_ids, sheet=raw.sheet, header_row=raw.header_row)
            st.dataframe(raw.frame.head(20), hide_index=True)
    if raws and st.button(tr("upload.apply"), type="primary", key="apply_upload"):
        with st.spinner(tr("upload.loading")):
            app_state.load_dataset(
                raws.get("clients"), mappings.get("clients"),
                raws.get("transactions"), mappings.get("transactions"),
            )
        st.success(tr("upload.loaded", rows=ws.prepared.rows_loaded, seconds=f"{ws.load_seconds:.1f}"))
except Exception as error:
    app_state.show_error(error)

if ws.prepared is not None:
    st.subheader(tr("upload.report", name=ws.dataset_name))
    report = ws.prepared
    cols = st.columns(4)
    cols[0].metric(tr("upload.rows_in_file"), f"{report.rows_in_file:,}")
    cols[1].metric(tr("upload.rows_loaded"), f"{report.rows_loaded:,}")
    cols[2].metric(tr("upload.rows_excluded"), f"{report.rows_excluded:,}")
    cols[3].metric(tr("upload.rows_rejected"), f"{report.rows_rejected:,}")
    st.caption(tr("upload.as_of", date=report.as_of))
    if len(report.issues):
        issues = describe_issues(report.issues, app_state.lang())
        st.dataframe(issues, hide_index=True)
        st.download_button(tr("upload.issues_download"), issues.to_csv(index=False).encode("utf-8-sig"), file_name="data_issues.csv", mime="text/csv", on_click="ignore")
    else:
        st.success(tr("upload.no_issues"))
    if report.unmapped_columns:
        st.caption(tr("upload.unmapped", columns="、".join(report.unmapped_columns)))
