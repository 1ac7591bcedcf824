"""A run as tables for spreadsheets: the one definition behind the CSV (command line and API)
and the XLSX workbook (backend/exports.py).

What finance loads must reconcile, so:

- money is rounded to cents once, as whole cents (no 1799999.999999999, no -0.00), and each
  money column is apportioned (largest remainder) so that its rows add up to the run's own
  figure to the cent: the totals row equals both the run's portfolio figures and the sum of
  the rows above it; department spends are the sums of their touchpoints' rounded spends;
- ids come with names (touchpoint, department, journeys); headers carry their unit; every
  priority-weighted figure says so;
- an infeasible run's table is its conflicts, not an empty file.

Names come from users: a text cell a spreadsheet would read as a formula (starting with =, +,
-, @, a tab or a carriage return) gets a leading apostrophe (OWASP's advice against CSV
injection); the XLSX writer also stores it as text, never as a formula.
"""

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from optimizer.objective import OBJECTIVES
from optimizer.result import RunResult

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Kind = Literal["text", "money", "quality", "ratio", "count", "moment"]
"""How a column's numbers are rounded and shown: money to cents, qualities in [0, 1] and
ratios (prices per unit of money) to 4 decimals, counts as integers, moments as datetimes."""

DECIMALS: dict[Kind, int] = {"money": 2, "quality": 4, "ratio": 4}

TOTAL = "Total"


def safe_cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells (CSV/XLSX injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _half_away(x: float) -> int:
    """Commercial rounding: halves away from zero (Python's round() goes to the even one)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def cents(amount: float) -> int:
    return _half_away(amount * 100)


def apportion(amounts: Sequence[float], total: float) -> list[int]:
    """Each amount in whole cents, rounded so that they add up to `total` in cents (the
    largest-remainder method): a rounding difference goes, one cent each, to the amounts
    that rounding moved furthest. A difference beyond rounding (more cents than amounts) is
    not spread: the rows then keep their own rounding."""
    exact = [amount * 100 for amount in amounts]
    parts = [_half_away(x) for x in exact]
    gap = cents(total) - sum(parts)
    if gap == 0 or abs(gap) > len(parts):
        return parts
    step = 1 if gap > 0 else -1
    # gap > 0: the amounts rounded down most get a cent; gap < 0: those rounded up most.
    order = sorted(range(len(parts)), key=lambda i: (exact[i] - parts[i]) * step, reverse=True)
    for i in order[: abs(gap)]:
        parts[i] += step
    return parts


def money(amount_cents: int) -> float:
    return amount_cents / 100


def number(value: float, kind: Kind) -> float:
    """`value` rounded for its kind, never -0.0."""
    return round(value, DECIMALS[kind]) + 0.0


@dataclass(frozen=True)
class Sheet:
    """One table: headers with units, a kind per column, rows, an optional totals row."""

    title: str
    headers: list[str]
    kinds: list[Kind]
    rows: list[list[object]]
    totals: list[object] | None = None
    cell_kinds: dict[tuple[int, int], Kind] = field(default_factory=dict)
    """(row, column) -> kind where a cell differs from its column (a key-value sheet)."""

    def kind(self, row: int, column: int) -> Kind:
        return self.cell_kinds.get((row, column), self.kinds[column])


def kinds(*parts: list[Kind]) -> list[Kind]:
    return [kind for part in parts for kind in part]


def _units(result: RunResult) -> tuple[str, str, str]:
    cur = result.currency
    weighted = f"{cur}, priority-weighted"
    marginal = f"{cur} of priority-weighted value per {cur}"
    return cur, weighted, marginal


# ------------------------------------------------------------------ the sheets


def _touchpoint_cents(result: RunResult) -> tuple[list[int], list[int]]:
    """Each touchpoint's spend and current spend in cents, adding up to the portfolio's."""
    touchpoints, p = result.touchpoints, result.portfolio
    return (
        apportion([t.spend for t in touchpoints], p.spend),
        apportion([t.current_spend for t in touchpoints], p.current_spend),
    )


def allocation_sheet(result: RunResult) -> Sheet:
    """One row per touchpoint; the totals row is the portfolio's spend and current spend."""
    cur, _, marginal = _units(result)
    touchpoints = result.touchpoints
    spend, current = _touchpoint_cents(result)
    departments = {d.id: d.name for d in result.departments}
    journeys = {j.id: j.name for j in result.journeys}
    rows: list[list[object]] = [
        [
            t.id,
            t.name,
            t.department,
            departments.get(t.department, ""),
            t.channel,
            money(current[i]),
            money(spend[i]),
            money(spend[i] - current[i]),
            money(cents(t.min_spend)),
            money(cents(t.max_spend)),
            number(t.quality, "quality"),
            number(t.current_quality, "quality"),
            number(t.marginal_value, "ratio"),
            t.reason,
            " ".join(t.journeys),
            "; ".join(journeys.get(j, j) for j in t.journeys),
        ]
        for i, t in enumerate(touchpoints)
    ]
    total_spend, total_current = sum(spend), sum(current)
    totals: list[object] = [TOTAL, "", "", "", ""]
    totals += [money(total_current), money(total_spend), money(total_spend - total_current)]
    totals += [None] * 8
    return Sheet(
        title="Allocation",
        headers=[
            "touchpoint",
            "touchpoint name",
            "department",
            "department name",
            "channel",
            f"current spend ({cur})",
            f"spend ({cur})",
            f"change ({cur})",
            f"min spend ({cur})",
            f"max spend ({cur})",
            "quality (0-1)",
            "current quality (0-1)",
            f"marginal value ({marginal})",
            "reason",
            "journeys",
            "journey names",
        ],
        kinds=kinds(["text"] * 5, ["money"] * 5, ["quality"] * 2, ["ratio"], ["text"] * 3),
        rows=rows,
        totals=totals,
    )


def department_sheet(result: RunResult) -> Sheet:
    """One row per department: the sums of its touchpoints' rounded spends."""
    cur = result.currency
    spend: dict[str, int] = {d.id: 0 for d in result.departments}
    current: dict[str, int] = {d.id: 0 for d in result.departments}
    for t, x, c in zip(result.touchpoints, *_touchpoint_cents(result), strict=True):
        spend[t.department] = spend.get(t.department, 0) + x
        current[t.department] = current.get(t.department, 0) + c
    rows: list[list[object]] = [
        [
            d.id,
            d.name,
            money(current[d.id]),
            money(spend[d.id]),
            money(spend[d.id] - current[d.id]),
            money(cents(d.cap)) if d.cap is not None else None,
            "yes" if d.cap_applies else "no",
            number(d.shadow_price, "ratio"),
        ]
        for d in result.departments
    ]
    total_spend, total_current = sum(spend.values()), sum(current.values())
    totals: list[object] = [TOTAL, "", money(total_current), money(total_spend)]
    totals += [money(total_spend - total_current), None, "", None]
    return Sheet(
        title="Departments",
        headers=[
            "department",
            "department name",
            f"current spend ({cur})",
            f"spend ({cur})",
            f"change ({cur})",
            f"cap ({cur})",
            "cap applies",
            f"shadow price of the cap ({result.shadow_prices.unit})",
        ],
        kinds=["text", "text", "money", "money", "money", "money", "text", "ratio"],
        rows=rows,
        totals=totals,
    )


def journey_sheet(result: RunResult) -> Sheet:
    """One row per journey; totals are the portfolio's value, weighted value, the current
    allocation's value and the spend attributed to journeys."""
    cur = result.currency
    journeys = result.journeys
    p = result.portfolio
    value = apportion([j.value for j in journeys], p.value)
    current = apportion([j.current_value for j in journeys], result.baselines.current.value)
    weighted_value = apportion([j.weighted_value for j in journeys], p.weighted_value)
    cost = apportion([j.attributed_cost for j in journeys], p.spend - p.unattributed_spend)
    touchpoints = {t.id: t.name for t in result.touchpoints}
    floors = result.shadow_prices.floors
    rows: list[list[object]] = [
        [
            j.id,
            j.name,
            j.persona,
            j.owner or "",
            number(j.quality, "quality"),
            number(j.current_quality, "quality"),
            number(j.floor, "quality") if j.floor is not None else None,
            money(value[i]),
            money(current[i]),
            number(j.priority, "ratio"),
            money(weighted_value[i]),
            money(cost[i]),
            number(j.value_per_cost, "ratio") if j.value_per_cost is not None else None,
            number(floors[j.id], "ratio") if j.id in floors else None,
            j.limited_by or "",
            touchpoints.get(j.limited_by, "") if j.limited_by else "",
        ]
        for i, j in enumerate(journeys)
    ]
    totals: list[object] = [TOTAL, "", "", "", None, None, None]
    totals += [money(sum(value)), money(sum(current)), None, money(sum(weighted_value))]
    totals += [money(sum(cost)), None, None, "", ""]
    return Sheet(
        title="Journeys",
        headers=[
            "journey",
            "journey name",
            "persona",
            "owner",
            "quality (0-1)",
            "current quality (0-1)",
            "floor (0-1)",
            f"value ({cur})",
            f"current value ({cur})",
            "priority (weight)",
            f"priority-weighted value ({cur})",
            f"attributed cost ({cur})",
            f"value per cost ({cur} of value per {cur})",
            f"price of the floor ({result.shadow_prices.floor_unit})",
            "limited by",
            "limited by (name)",
        ],
        kinds=kinds(
            ["text"] * 4,
            ["quality"] * 3,
            ["money"] * 2,
            ["ratio"],
            ["money"] * 2,
            ["ratio"] * 2,
            ["text"] * 2,
        ),
        rows=rows,
        totals=totals,
    )


def conflict_sheet(result: RunResult) -> Sheet:
    """What an infeasible scenario would need: one row per conflicting constraint."""
    cur = result.currency
    rows: list[list[object]] = [
        [
            c.constraint,
            money(cents(c.shortfall)) if c.unit == "money" else number(c.shortfall, "quality"),
            cur if c.unit == "money" else "quality (0-1)",
            c.message,
            " ".join(c.related),
        ]
        for c in result.conflicts
    ]
    return Sheet(
        title="Conflicts",
        headers=["constraint", "shortfall", "shortfall unit", "message", "related"],
        kinds=["text", "quality", "text", "text", "text"],
        rows=rows,
        cell_kinds={(r, 1): "money" for r, c in enumerate(result.conflicts) if c.unit == "money"},
    )


@dataclass(frozen=True)
class Stored:
    """Where a run is kept (the backend's side of the summary)."""

    portfolio_name: str
    run_id: str
    number: int
    created_at: datetime
    input_sha256: str
    plan: str
    """Plan-of-record state, in words ("yes: the approved plan", "no: the plan is run 3")."""


def objective_unit(result: RunResult) -> str:
    objective = OBJECTIVES.get(result.mode)
    cur = result.currency
    if objective is None or not objective.maximize:
        return f"{cur} of spend"
    if objective.spend_cost:
        return f"{cur}, priority-weighted value minus spend"
    return f"{cur}, priority-weighted"


def summary_sheet(result: RunResult, stored: Stored) -> Sheet:
    """The run on one page: what, when, which plan, and its headline figures."""
    cur, weighted, _ = _units(result)
    p = result.portfolio
    current, silo = result.baselines.current, result.baselines.silo
    optimal = result.status == "optimal"
    value, silo_value = cents(p.value), cents(silo.value)
    weighted_value, silo_weighted = cents(p.weighted_value), cents(silo.weighted_value)
    items: list[tuple[str, object, str, Kind]] = [
        ("portfolio", result.portfolio_id, "", "text"),
        ("portfolio name", stored.portfolio_name, "", "text"),
        ("scenario", result.scenario_id or "base", "", "text"),
        ("scenario name", result.scenario.name, "", "text"),
        ("run number", stored.number, "", "count"),
        ("run id", stored.run_id, "", "text"),
        ("input SHA-256", stored.input_sha256, "", "text"),
        ("created", stored.created_at, "UTC", "moment"),
        ("plan of record", stored.plan, "", "text"),
        ("status", result.status, "", "text"),
        ("mode", result.mode, "", "text"),
        ("pooled", "yes" if result.scenario.pooled else "no", "", "text"),
        ("budget", money(cents(p.budget)), cur, "money"),
        ("spend", money(cents(p.spend)), cur, "money"),
        ("unallocated", money(cents(p.unallocated)), cur, "money"),
        ("current spend", money(cents(p.current_spend)), cur, "money"),
        ("value", money(value), cur, "money"),
        ("priority-weighted value", money(weighted_value), weighted, "money"),
        ("objective", money(cents(p.objective)), objective_unit(result), "money"),
        ("current allocation's value", money(cents(current.value)), cur, "money"),
        ("silo allocation's value", money(silo_value), cur, "money"),
        (
            "price of silos (value minus the silo allocation's value)",
            money(value - silo_value if optimal else 0),
            cur,
            "money",
        ),
        (
            "price of silos, priority-weighted",
            money(weighted_value - silo_weighted if optimal else 0),
            weighted,
            "money",
        ),
        (
            "shadow price of the budget",
            number(result.shadow_prices.budget, "ratio"),
            result.shadow_prices.unit,
            "ratio",
        ),
        (
            "approximation gap",
            number(result.solver.approximation_gap * 100, "ratio"),
            "% of the value (relative bound)",
            "ratio",
        ),
        ("conflicts", len(result.conflicts), "", "count"),
    ]
    return Sheet(
        title="Summary",
        headers=["item", "value", "unit"],
        kinds=["text", "text", "text"],
        rows=[[item, value_, unit] for item, value_, unit, _ in items],
        cell_kinds={(r, 1): kind for r, (*_, kind) in enumerate(items)},
    )


def run_sheets(result: RunResult) -> list[Sheet]:
    """The tables of a run: the allocation, departments and journeys of an optimal run, the
    conflicts of an infeasible one."""
    if result.status != "optimal":
        return [conflict_sheet(result)]
    return [allocation_sheet(result), department_sheet(result), journey_sheet(result)]


# ------------------------------------------------------------------ CSV


def text_of(value: object, kind: Kind) -> str:
    """A cell as CSV text: numbers with their kind's fixed decimals (no exponent)."""
    if value is None:
        return ""
    if isinstance(value, float) and kind in DECIMALS:
        return f"{value:.{DECIMALS[kind]}f}"
    return str(safe_cell(value))


def sheet_csv(sheet: Sheet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(sheet.headers)
    rows = [*sheet.rows, *([sheet.totals] if sheet.totals is not None else [])]
    for r, row in enumerate(rows):
        writer.writerow([text_of(value, sheet.kind(r, c)) for c, value in enumerate(row)])
    return buffer.getvalue()


def allocation_csv(result: RunResult) -> str:
    """The run as one CSV: its allocation with a totals row, or, infeasible, its conflicts
    (`journeyfolio optimize --format csv` and `GET /runs/{id}/allocation.csv`)."""
    return sheet_csv(run_sheets(result)[0])


# ------------------------------------------------------------------ XLSX

FORMATS: dict[Kind, str] = {
    "money": "#,##0.00",
    "quality": "0.000",
    "ratio": "0.0000",
    "count": "0",
    "moment": "yyyy-mm-dd hh:mm:ss",
}
MAX_WIDTH = 60


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


def write_sheet(sheet: "Worksheet", table: Sheet) -> None:
    """`table` on `sheet`: number formats, a bold frozen header with a filter, a bold totals
    row, widths that fit; text never a formula (safe_cell) and XLSX-safe (xlsx_text)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.title = table.title
    sheet.append(table.headers)
    rows = [*table.rows, *([table.totals] if table.totals is not None else [])]
    widths = [len(header) for header in table.headers]
    for r, row in enumerate(rows):
        sheet.append([_cell_value(value) for value in row])
        # by row number: `sheet[sheet.max_row]` scans every cell, quadratic in the rows
        for c, value in enumerate(row):
            cell = sheet.cell(row=r + 2, column=c + 1)
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
        for c in range(len(table.headers)):
            sheet.cell(row=len(rows) + 1, column=c + 1).font = bold
    sheet.freeze_panes = "A2"
    last_data_row = 1 + len(table.rows)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.headers))}{last_data_row}"
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(width + 2, MAX_WIDTH)
