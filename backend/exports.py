"""A run's allocation for finance: CSV and XLSX (openpyxl).

Names come from users, so a cell that a spreadsheet would read as a formula (starting with
=, +, -, @, a tab or a carriage return) is neutralised with a leading apostrophe (OWASP's
advice for CSV injection) and, in XLSX, stored as a plain string, never as a formula.
"""

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

from optimizer.result import RunResult

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

TOUCHPOINT_COLUMNS = (
    ("touchpoint", "Touchpoint id"),
    ("name", "Touchpoint"),
    ("department", "Department"),
    ("channel", "Channel"),
    ("current_spend", "Current spend"),
    ("spend", "Spend"),
    ("change", "Change"),
    ("min_spend", "Min spend"),
    ("max_spend", "Max spend"),
    ("current_quality", "Current quality"),
    ("quality", "Quality"),
    ("marginal_value", "Marginal value"),
    ("reason", "Reason"),
    ("journeys", "Journeys"),
)


def neutralise(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def allocation_rows(result: RunResult) -> list[list[Any]]:
    """One row per touchpoint (header first), names neutralised."""
    rows: list[list[Any]] = [[title for _, title in TOUCHPOINT_COLUMNS]]
    for t in result.touchpoints:
        rows.append(
            [
                neutralise(t.id),
                neutralise(t.name),
                neutralise(t.department),
                neutralise(t.channel),
                t.current_spend,
                t.spend,
                t.change,
                t.min_spend,
                t.max_spend,
                t.current_quality,
                t.quality,
                t.marginal_value,
                t.reason,
                neutralise(" ".join(t.journeys)),
            ]
        )
    return rows


def to_csv(result: RunResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(allocation_rows(result))
    return out.getvalue()


def _write(sheet: Any, rows: list[list[Any]]) -> None:
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell: Cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "=" (never a formula)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def to_xlsx(result: RunResult, *, run_id: str, created_at: str, input_sha256: str) -> bytes:
    """A workbook: Summary, Allocation (touchpoints), Departments, Journeys."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    p = result.portfolio
    _write(
        summary,
        [
            ["Key", "Value"],
            ["Portfolio", neutralise(result.portfolio_id)],
            ["Scenario", neutralise(result.scenario.name)],
            ["Scenario id", neutralise(result.scenario_id or "")],
            ["Run", run_id],
            ["Created at", created_at],
            ["Input SHA-256", input_sha256],
            ["Status", result.status],
            ["Mode", result.mode],
            ["Currency", result.currency],
            ["Budget", p.budget],
            ["Spend", p.spend],
            ["Unallocated", p.unallocated],
            ["Value", p.value],
            ["Weighted value", p.weighted_value],
            ["Objective", p.objective],
            ["Price of silos", result.price_of_silos],
        ],
    )
    _write(book.create_sheet("Allocation"), allocation_rows(result))
    departments: list[list[Any]] = [
        ["Department id", "Department", "Current spend", "Spend", "Cap", "Shadow price"]
    ]
    for d in result.departments:
        departments.append(
            [neutralise(d.id), neutralise(d.name), d.current_spend, d.spend, d.cap, d.shadow_price]
        )
    _write(book.create_sheet("Departments"), departments)
    journeys: list[list[Any]] = [
        [
            "Journey id",
            "Journey",
            "Owner",
            "Quality",
            "Current quality",
            "Value",
            "Attributed cost",
            "Value per cost",
            "Floor",
            "Limited by",
        ]
    ]
    for j in result.journeys:
        journeys.append(
            [
                neutralise(j.id),
                neutralise(j.name),
                neutralise(j.owner or ""),
                j.quality,
                j.current_quality,
                j.value,
                j.attributed_cost,
                j.value_per_cost,
                j.floor,
                neutralise(j.limited_by or ""),
            ]
        )
    _write(book.create_sheet("Journeys"), journeys)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
