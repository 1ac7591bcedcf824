"""A run's allocation for finance: CSV (the same as `journeyfolio optimize --format csv`) and
XLSX (openpyxl).

Names come from users, so a text cell a spreadsheet would read as a formula (starting with
=, +, -, @, a tab or a carriage return) gets a leading apostrophe (OWASP's advice against CSV
injection, `optimizer.tables.safe_cell`) and, in XLSX, is stored as a plain string, never as
a formula.
"""

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from optimizer.result import RunResult
from optimizer.tables import ALLOCATION_COLUMNS, allocation_csv, allocation_rows, safe_cell


def to_csv(result: RunResult) -> str:
    return allocation_csv(result)


def _write(sheet: Any, header: list[str], rows: list[list[Any]]) -> None:
    sheet.append(header)
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def to_xlsx(result: RunResult, *, run_id: str, created_at: str, input_sha256: str) -> bytes:
    """A workbook: Summary, Allocation (one row per touchpoint), Departments, Journeys."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    p = result.portfolio
    _write(
        summary,
        ["key", "value"],
        [
            ["portfolio", result.portfolio_id],
            ["scenario", result.scenario.name],
            ["scenario_id", result.scenario_id or ""],
            ["run_id", run_id],
            ["created_at", created_at],
            ["input_sha256", input_sha256],
            ["status", result.status],
            ["mode", result.mode],
            ["currency", result.currency],
            ["budget", p.budget],
            ["spend", p.spend],
            ["unallocated", p.unallocated],
            ["value", p.value],
            ["weighted_value", p.weighted_value],
            ["objective", p.objective],
            ["price_of_silos", result.price_of_silos],
        ],
    )
    _write(book.create_sheet("Allocation"), list(ALLOCATION_COLUMNS), allocation_rows(result))
    _write(
        book.create_sheet("Departments"),
        ["department", "name", "current_spend", "spend", "cap", "shadow_price"],
        [
            [d.id, d.name, d.current_spend, d.spend, d.cap, d.shadow_price]
            for d in result.departments
        ],
    )
    _write(
        book.create_sheet("Journeys"),
        [
            "journey",
            "name",
            "owner",
            "quality",
            "current_quality",
            "value",
            "attributed_cost",
            "value_per_cost",
            "floor",
            "limited_by",
        ],
        [
            [
                j.id,
                j.name,
                j.owner or "",
                j.quality,
                j.current_quality,
                j.value,
                j.attributed_cost,
                j.value_per_cost,
                j.floor,
                j.limited_by or "",
            ]
            for j in result.journeys
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
