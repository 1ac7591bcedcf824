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
from datetime import UTC, datetime

from openpyxl import Workbook

from optimizer.result import RunResult
from optimizer.sheets import Stored, allocation_csv, run_sheets, write_sheet, xlsx_text
from optimizer.sheets import summary_sheet as summary_of


def file_name(
    *, portfolio_id: str, scenario_id: str | None, number: int, created_at: datetime, ext: str
) -> str:
    """`sonnenreisen-2027_pooled_run-12_2026-12-02.xlsx` (ids are slugs: safe in a name)."""
    day = created_at.astimezone(UTC).date().isoformat()
    return f"{portfolio_id}_{scenario_id or 'base'}_run-{number}_{day}.{ext}"


def to_csv(result: RunResult) -> str:
    return allocation_csv(result)


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
