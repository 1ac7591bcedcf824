"""Spreadsheet tables: download the portfolio (or the template) as a workbook, upload one,
see what it would change (or which cells are wrong), then apply it."""

import streamlit as st

from frontend import common, frames
from frontend.client import TABLE_MEDIA, ApiError

UPLOAD = "tables_upload"
"""(file name, bytes) of the uploaded workbook, kept across reruns."""

portfolio = common.pick_portfolio()
pid = portfolio["id"]
common.show_flash()

st.title("Spreadsheet tables")
st.caption(
    "The portfolio as tables for Excel: one sheet per table (portfolio, departments, personas, "
    "touchpoints with their curves, journeys, links, dependencies, KPIs and actuals, "
    "scenarios), or the same tables as CSV files in a ZIP. Edit them and upload the file: "
    "you see what would change before anything is written, and a wrong cell is named by "
    "sheet, row and column."
)

xlsx_column, zip_column, template_column = st.columns(3)
with common.api_errors():
    xlsx_column.download_button(
        "Download tables (XLSX)",
        common.api().tables(pid, "xlsx"),
        file_name=f"{pid}_tables.xlsx",
        mime=TABLE_MEDIA["xlsx"],
        icon=":material/download:",
    )
    zip_column.download_button(
        "Download tables (CSV, zipped)",
        common.api().tables(pid, "zip"),
        file_name=f"{pid}_tables.zip",
        mime=TABLE_MEDIA["zip"],
        icon=":material/download:",
    )
    template_column.download_button(
        "Download the empty template",
        common.api().template("xlsx"),
        file_name="journeyfolio_template.xlsx",
        mime=TABLE_MEDIA["xlsx"],
        icon=":material/download:",
    )

st.subheader(f"Replace {portfolio['name']} by a workbook")
uploaded = st.file_uploader(
    "An XLSX workbook or a ZIP of CSV files", type=["xlsx", "zip"], key="_tables_file"
)
if uploaded is not None:
    st.session_state[UPLOAD] = (uploaded.name, uploaded.getvalue())
upload = st.session_state.get(UPLOAD)
if not upload:
    st.stop()

name, content = upload
kind = "zip" if name.lower().endswith(".zip") else "xlsx"
try:
    with st.spinner("Checking the tables..."):
        preview = common.api().preview_tables(pid, content, kind)
except ApiError as error:
    if error.status == 422:
        st.error(
            f"**{name}** cannot be imported: {len(error.problems)} problem(s), each with its "
            "sheet, row and column. Nothing was changed.",
            icon=":material/error:",
        )
        st.dataframe(
            {
                "where": [p.split(": ", 1)[0] for p in error.problems],
                "problem": [p.split(": ", 1)[-1] for p in error.problems],
            },
            hide_index=True,
            width="stretch",
        )
        st.stop()
    common.fail(error)

changes = preview.body["changes"]
if changes == 0:
    st.info(f"**{name}** is the portfolio as it is: nothing would change.")
    st.stop()
st.write(f"**{name}** would make {changes} change(s):")
st.dataframe(frames.table_changes(preview.body), hide_index=True, width="stretch")
if st.button(f"Apply {changes} change(s)", icon=":material/upload:", type="primary"):
    with st.spinner("Importing..."), common.api_errors():
        common.api().replace_tables(pid, content, kind, etag=preview.etag)
    st.session_state.pop(UPLOAD, None)
    common.items.clear()
    common.flash(f"{name} is imported: {changes} change(s) applied.")
    st.rerun()
