"""导出 Export: download the tiered list as an Excel workbook or a CSV."""

from datetime import datetime

import streamlit as st

import app_state
from app_state import tr
from tiering import owners
from tiering.export import ExportMeta, write_csv, write_workbook

ws = app_state.workspace()
lang = app_state.lang()
st.title(tr("page.export"))
result = app_state.scored_or_stop()
state = app_state.standard_state()

counts = result.tier_counts.drop(columns="color")
st.dataframe(
    counts.rename(
        columns={"tier": tr("results.column.tier"), "clients": tr("chart.clients")}
    ),
    hide_index=True,
)
st.caption(
    tr(
        "exportpage.summary",
        name=ws.dataset_name,
        rows=result.rows_scored,
        standard=ws.standard.name,
        version=app_state.standard_version(state),
        as_of=ws.prepared.as_of,
    )
)
stem = f"{ws.dataset_name.rsplit('.', 1)[0]}_{ws.standard.name}_v{ws.standard.version}"
if state != "published":
    stem += f"_{tr(f'exportpage.{state}_file')}"
meta = ExportMeta(
    dataset_name=ws.dataset_name,
    sheet=ws.raw.sheet if ws.raw is not None else None,
    generated_by=app_state.current_user(),
    generated_at=datetime.now(),
    as_of=ws.prepared.as_of,
    standard_edited=state == "edited",
    standard_unpublished=state == "unpublished",
)
con, standard, prepared = ws.con, ws.standard, ws.prepared

audit_xlsx, audit_csv = (
    app_state.export_recorder("xlsx"),
    app_state.export_recorder("csv"),
)


# Built here, in the script run: a download's data function runs outside it,
# where session state (which ensure_insight reads) is not available.
app_state.ensure_insight()


def workbook_bytes():
    """Build the workbook when the user clicks, not on every rerun."""
    audit_xlsx()
    return app_state.to_bytes(
        write_workbook, con, standard, prepared, result, meta, lang
    )


def csv_bytes():
    audit_csv()
    return app_state.to_bytes(write_csv, con, standard, lang, prepared=prepared)


left, right = st.columns(2)
left.download_button(
    tr("exportpage.xlsx"),
    workbook_bytes,
    file_name=f"{stem}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    type="primary",
    key="download_xlsx",
)
right.download_button(
    tr("exportpage.csv"),
    csv_bytes,
    file_name=f"{stem}.csv",
    mime="text/csv",
    on_click="ignore",
    key="download_csv",
)
st.caption(tr("exportpage.note"))

st.subheader(tr("owners.page.title"))
by_fields = owners.owner_fields(con)
if not by_fields:
    st.info(tr("owners.page.no_field"))
else:
    left, right = st.columns(2)
    by = left.radio(
        tr("owners.page.by"), by_fields, format_func=lambda f: tr(f"owners.by.{f}")
    )
    shape = right.radio(
        tr("owners.page.shape"),
        ["sheets", "zip"],
        format_func=lambda s: tr(f"owners.shape.{s}"),
    )

    def owner_bytes():
        writer = owners.write_owner_zip if shape == "zip" else owners.write_owner_workbook
        return app_state.to_bytes(writer, con, standard, by, lang)

    st.download_button(
        tr("owners.page.download"),
        owner_bytes,
        file_name=f"{stem}_{by}.{'zip' if shape == 'zip' else 'xlsx'}",
        on_click="ignore",
        key="download_owners",
    )
