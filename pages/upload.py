"""导入数据 Upload: read a file, check the column mapping, load and score it."""

import time
from pathlib import Path

import pandas as pd
import streamlit as st

import app_state
from app_state import tr
from tiering.export import write_issues_workbook
from tiering.fields import FIELDS
from tiering.mapping import Mapping, detect_mapping, find_remembered_mapping, remember_mapping
from tiering.prepare import describe_issues

UNITS = {"×1": 1.0, "×1万": 10_000.0, "×1亿": 100_000_000.0}
DUPLICATE_POLICIES = ["latest", "first", "stop"]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ws = app_state.workspace()
st.title(tr("page.upload"))
st.caption(tr("upload.intro"))

if st.button(tr("upload.sample"), type="primary", key="load_sample"):
    try:
        app_state.load_sample()
        st.success(tr("upload.sample_loaded", rows=ws.prepared.clients))
    except Exception as error:
        app_state.show_error(error)

left, right = st.columns(2)
client_file = left.file_uploader(tr("upload.clients"), type=["xlsx", "xlsm", "xls", "csv", "txt"])
transaction_file = right.file_uploader(tr("upload.transactions"), type=["xlsx", "xlsm", "xls", "csv", "txt"])


def read(uploaded, key):
    """Read an uploaded file, offering a sheet choice and a header-row fix."""
    content = uploaded.getvalue()
    holder = st.empty()
    try:
        with holder:
            progress = app_state.progress_bar()
            started = time.perf_counter()
            raw = app_state.read_cached(
                content, uploaded.name, None, None, uploaded.file_id, progress
            )
            seconds = time.perf_counter() - started
    finally:  # a refused file must not leave "Reading the file…" behind
        holder.empty()
    # The first read of a file is the real one; later reruns hit the cache.
    timings = st.session_state.setdefault("read_seconds", {})
    timings.setdefault((uploaded.name, len(content)), seconds)
    seconds = timings[(uploaded.name, len(content))]
    if seconds < 0.1:  # a rate from a few milliseconds would be noise
        st.caption(tr("ingest.read_quick", rows=raw.data_rows))
    else:
        st.caption(tr("upload.read_speed", rows=raw.data_rows, seconds=f"{seconds:.1f}", rate=int(raw.data_rows / seconds)))
    visible = [s.name for s in raw.sheets if not s.hidden]
    if len(raw.sheets) > 1:
        sheet = st.selectbox(tr("upload.sheet", file=uploaded.name), visible, index=visible.index(raw.sheet) if raw.sheet in visible else 0, key=f"sheet_{key}")
        if sheet != raw.sheet:
            raw = app_state.read_cached(content, uploaded.name, sheet, None, uploaded.file_id)

    with st.expander(tr("upload.header_preview", file=uploaded.name, row=raw.header_row)):
        st.dataframe(app_state.head_cached(content, uploaded.name, raw.sheet, uploaded.file_id))
        header = st.number_input(tr("upload.header_row"), min_value=1, value=raw.header_row, step=1, key=f"header_{key}_{uploaded.name}_{raw.sheet}")
    if header != raw.header_row:
        raw = app_state.read_cached(content, uploaded.name, raw.sheet, int(header), uploaded.file_id)
    if raw.formula_columns:
        st.warning(tr("upload.formula_columns", file=uploaded.name, columns="、".join(raw.formula_columns)))
    return raw


def mapping_editor(raw, key):
    """Show the remembered or detected mapping as an editable table."""
    remembered = find_remembered_mapping(raw)
    detected = remembered.mapping if remembered else detect_mapping(raw)
    if remembered:
        st.info(tr("upload.mapping_remembered", name=remembered.name))
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
    # An emptied cell comes back as None or NaN, depending on the round trip.
    chosen = {row["field"]: row[tr("upload.map.column")] for _, row in edited.iterrows() if pd.notna(row[tr("upload.map.column")]) and row[tr("upload.map.column")]}
    units = {row["field"]: UNITS[row[tr("upload.map.unit")]] for _, row in edited.iterrows() if row[tr("upload.map.unit")] in UNITS and UNITS[row[tr("upload.map.unit")]] != 1.0}
    name = st.text_input(tr("upload.mapping_name"), value=remembered.name if remembered else Path(raw.source_name).stem, key=f"mapname_{key}_{raw.source_name}_{raw.sheet}")
    return chosen, units, detected, name


def metric_row(counts, loaded_label):
    """Rows in file, loaded (or used), excluded and rejected, side by side."""
    labels = ["upload.rows_in_file", loaded_label, "upload.rows_excluded", "upload.rows_rejected"]
    for column, label, count in zip(st.columns(4), labels, counts):
        column.metric(tr(label), f"{count:,}")


def show_row_counts(report):
    """Account for every input row, per table when two were loaded together."""
    if report.kind == "both":
        st.caption(tr("upload.counts.clients", file=ws.raw.source_name))
    elif report.kind == "transactions":
        st.caption(tr("upload.counts.transactions", file=ws.dataset_name))
    # A transaction table's rows are used to build its clients, not loaded as clients.
    loaded_label = "upload.rows_used" if report.kind == "transactions" else "upload.rows_loaded"
    metric_row([report.rows_in_file, report.rows_loaded, report.rows_excluded, report.rows_rejected], loaded_label)
    if report.kind == "transactions":
        st.caption(tr("upload.rolled_up", rows=report.rows_loaded, clients=report.clients))
    if report.kind == "both":
        st.caption(tr("upload.counts.transactions", file=ws.transactions.source_name))
        metric_row([report.transaction_rows_in_file, report.transaction_rows_loaded, report.transaction_rows_excluded, report.transaction_rows_rejected], "upload.rows_used")


earlier = ws.prepared
refused = False
try:
    raws, names = {}, {}
    if client_file is not None:
        raws["clients"] = read(client_file, "clients")
    if transaction_file is not None:
        raws["transactions"] = read(transaction_file, "transactions")
    for key, raw in list(raws.items()):
        if raw.data_rows == 0:  # only a header: say so before any mapping
            st.error(tr("upload.no_rows", file=raw.source_name, header=raw.header_row), icon="⚠️")
            refused = True
            del raws[key]
    mappings = {}
    for key, raw in raws.items():
        with st.expander(tr("upload.mapping_title", file=raw.source_name, header=raw.header_row), expanded=True):
            chosen, units, detected, names[key] = mapping_editor(raw, key)
            row_ids = detected.row_ids
            if key == "clients" and "client_id" not in chosen:
                st.warning(tr("upload.no_id"))
                row_ids = st.checkbox(tr("upload.row_ids"), value=row_ids, key="row_ids")
            mappings[key] = Mapping(columns=chosen, units=units, row_ids=row_ids, sheet=raw.sheet, header_row=raw.header_row)
            st.dataframe(raw.frame.head(20).rename(columns={"_row": tr("upload.row_number")}), hide_index=True)
    if raws:
        duplicates = st.selectbox(tr("upload.duplicates"), DUPLICATE_POLICIES, format_func=lambda policy: tr(f"upload.duplicates.{policy}"), key="duplicates")
    # A chosen file refused above would be left out of the load without a word.
    if raws and not refused and st.button(tr("upload.apply"), type="primary", key="apply_upload"):
        with st.spinner(tr("upload.loading")):
            app_state.load_dataset(
                raws.get("clients"), mappings.get("clients"),
                raws.get("transactions"), mappings.get("transactions"),
                duplicates=duplicates, progress=app_state.progress_bar(),
            )
        st.success(tr("upload.loaded", rows=ws.prepared.clients, seconds=f"{ws.load_seconds:.1f}"))
        for key, raw in raws.items():
            remember_mapping(mappings[key], raw, names[key])
            st.caption(tr("upload.mapping_saved", name=names[key].strip()))
except Exception as error:
    refused = True
    app_state.show_error(error)

# A refusal leaves the earlier data loaded: its report must not read as the
# result of this upload. (A failure after the load, saving the mapping,
# still shows the new data's report.)
if refused and earlier is not None and ws.prepared is earlier:
    st.info(tr("upload.kept_data", name=ws.dataset_name, rows=ws.prepared.clients))
elif ws.prepared is not None:
    st.subheader(tr("upload.report", name=ws.dataset_name))
    report = ws.prepared
    show_row_counts(report)
    st.caption(tr("upload.as_of", date=report.as_of))
    if len(report.issues):
        issues = describe_issues(report.issues, app_state.lang())
        st.dataframe(issues, hide_index=True)
        workbook = app_state.to_bytes(write_issues_workbook, report, app_state.lang())
        st.download_button(tr("upload.issues_download"), workbook, file_name="data_issues.xlsx", mime=XLSX_MIME, on_click="ignore", key="issues_download")
    else:
        st.success(tr("upload.no_issues"))
    if report.unmapped_columns:
        st.caption(tr("upload.unmapped", columns="、".join(report.unmapped_columns)))
