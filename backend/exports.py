"""A run for finance: CSV (the same as `journeyfolio optimize --format csv`) and XLSX
(openpyxl), both from the tables of `optimizer.sheets` (rounding, totals, names, units).

The workbook adds a Summary sheet; each sheet gets number formats (money `#,##0.00`,
qualities `0.000`), a bold frozen header row, a filter on it, a bold totals row and column
widths that fit. Text cells are neutralised against formulas (`optimizer.sheets.safe_cell`)
and stored as plain strings, never as formulas; characters XLSX cannot hold (control
characters, lone surrogates of text stored before the API refused them) become U+FFFD, so
stored text never fails an export. File names say what a file is:
`<portfolio>_<scenario or base>_run-<number>_<created date>.<csv|xlsx>`.
"""

import io
import re
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.result import RunResult
from optimizer.sheets import Kind, Sheet, Stored, allocation_csv, run_sheets, safe_cell
from optimizer.sheets import summary_sheet as summary_of

FORMATS: dict[Kind, str] = {
    "money": "#,##0.00",
    "quality": "0.000",
    "ratio": "0.0000",
    "count": "0",
    "moment": "yyyy-mm-dd hh:mm:ss",
}
MAX_WIDTH = 60


def file_name(
    *, portfolio_id: str, scenario_id: str | None, number: int, created_at: datetime, ext: str
) -> str:
    """`sonnenreisen-2027_pooled_run-12_2026-12-02.xlsx` (ids are slugs: safe in a name)."""
    day = created_at.astimezone(UTC).date().isoformat()
    return f"{portfolio_id}_{scenario_id or 'base'}_run-{number}_{day}.{ext}"


def to_csv(result: RunResult) -> str:
    return allocation_csv(result)


def _shown(value: object, kind: Kind) -> str:
    """About what a spreadsheet shows in the cell (for the column's width)."""
    if value is None:
        return ""
    if isinstance(value, float) and kind == "money":
        return f"{value:,.2f}"
    if isinstance(value, float) and kind in ("quality", "ratio"):
        return f"{value:,.4f}"
    if isinstance(value, datetime):
        return "yyyy-mm-dd hh:mm:ss"
    return str(value)


_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What XML 1.0 (and so openpyxl) cannot hold: control characters but tab and line breaks,
lone surrogates, the two non-characters."""


def xlsx_text(text: str) -> str:
    """`text` with every character XLSX cannot hold replaced by U+FFFD."""
    return _NOT_IN_XLSX.sub("\ufffd", text)


def _cell_value(value: object) -> object:
    if isinstance(value, datetime):
        # Excel has no time zones: the moment in UTC, to the second (the unit says UTC).
        return value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        return safe_cell(xlsx_text(value))
    return safe_cell(value)


def write_sheet(sheet: Worksheet, table: Sheet) -> None:
    sheet.title = table.title
    sheet.append(table.headers)
    rows = [*table.rows, *([table.totals] if table.totals is not None else [])]
    widths = [len(header) for header in table.headers]
    for r, row in enumerate(rows):
        sheet.append([_cell_value(value) for value in row])
        for c, (cell, value) in enumerate(zip(sheet[sheet.max_row], row, strict=True)):
            kind = table.kind(r, c)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
            elif kind in FORMATS:
                cell.number_format = FORMATS[kind]
            widths[c] = max(widths[c], len(_shown(value, kind)))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    if table.totals is not None:
        for cell in sheet[sheet.max_row]:
            cell.font = bold
    sheet.freeze_panes = "A2"
    last_data_row = 1 + len(table.rows)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.headers))}{last_data_row}"
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(width + 2, MAX_WIDTH)


def to_xlsx(result: RunResult, stored: Stored) -> bytes:
    """A workbook: Summary, then Allocation, Departments and Journeys (an optimal run) or
    Conflicts (an infeasible one)."""
    book = Workbook()
    first = book.active
    assert first is not None
    write_sheet(first, summary_of(result, stored))
    for table in run_sheets(result):
        write_sheet(book.create_sheet(), table)
    book.properties.title = xlsx_text(f"{result.portfolio_id} run {stored.number}")
    book.properties.creator = "Journeyfolio"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
