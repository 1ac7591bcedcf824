"""Run results for people: text reports (spreadsheets: optimizer/sheets.py), and the
frontier as CSV."""

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tabulate import tabulate

from optimizer.objective import OBJECTIVES
from optimizer.result import RunResult

if TYPE_CHECKING:
    from optimizer.ask import AskResult
    from optimizer.frontier import FrontierResult
    from optimizer.robustness import RobustnessResult


def money(x: float) -> str:
    return f"{x:,.0f}"


def signed(x: float) -> str:
    return f"{x:+,.0f}" if round(x) != 0 else "0"


def percent(part: float, whole: float) -> str:
    return f"{part / whole * 100:+.1f} %" if whole else "n/a"


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """Header, a rule and the rows, indented two spaces; the columns in `right` right-aligned.
    Cells are text already formatted (money, signs): tabulate must not parse them as numbers."""
    text = tabulate(
        rows,
        headers=list(header),
        tablefmt="simple",
        colalign=["right" if i in right else "left" for i in range(len(header))],
        disable_numparse=True,
    )
    return ["  " + line.rstrip() for line in text.splitlines()]


def run_table(result: RunResult, *, portfolio_name: str | None = None) -> str:
    cur = result.currency
    p = result.portfolio
    scenario = result.scenario
    title = portfolio_name or result.portfolio_id
    label = f"scenario {scenario.id} ({scenario.name})" if scenario.id else scenario.name
    pooled = "pooled" if scenario.pooled else "department caps apply"
    out = [f"{title}: {label}", f"mode {result.mode}, {pooled}, status {result.status.upper()}", ""]

    if result.status != "optimal":
        out.append("The scenario cannot be met. What would have to give:")
        for conflict in result.conflicts:
            out.append(f"  - {conflict.message}")
        cur_b = result.baselines.current
        out += [
            "",
            f"  Current allocation: value {money(cur_b.value)} {cur}, "
            f"spend {money(cur_b.spend)} {cur}",
        ]
        return "\n".join(out) + "\n"

    current = result.baselines.current
    silo = result.baselines.silo
    spending = not OBJECTIVES[result.mode].maximize  # the mode minimizes spend
    headline = [
        (
            "Portfolio value",
            f"{money(p.value)} {cur}",
            f"current {money(current.value)} ({percent(p.value - current.value, current.value)})",
        ),
        ("Spend", f"{money(p.spend)} {cur}", f"of budget {money(p.budget)}"),
        (
            "Unallocated",
            f"{money(p.unallocated)} {cur}",
            ("not needed to meet the floors" if spending else "creates no value where it could go")
            if p.unallocated > 0.5
            else "",
        ),
        (
            "Price of silos",
            f"{money(result.price_of_silos_value)} {cur}",
            f"silo allocation worth {money(silo.value)} {cur}",
        ),
        (
            "Value of one more",
            f"{result.shadow_prices.budget:,.2f}",
            f"{result.shadow_prices.unit} of total budget",
        ),
    ]
    if spending:
        headline[-1] = (
            "Objective",
            f"{money(p.objective)} {cur}",
            "least spend that meets every floor",
        )
    if p.weighted_value != p.value:
        headline.insert(
            1,
            (
                "Priority-weighted value",
                f"{money(p.weighted_value)} {cur}",
                "priorities applied (not money)",
            ),
        )
        position = next(i for i, h in enumerate(headline) if h[0] == "Price of silos") + 1
        headline.insert(
            position,
            (
                "Price of silos, priority-weighted",
                f"{money(result.price_of_silos)} {cur}",
                f"silo allocation worth {money(silo.weighted_value)} {cur} priority-weighted",
            ),
        )
    lines = tabulate(
        headline, tablefmt="plain", colalign=("left", "right", "left"), disable_numparse=True
    )
    out += ["  " + line.rstrip() for line in lines.splitlines()]

    out += ["", "Touchpoints (by spend)"]
    rows = [
        [
            t.id,
            t.department,
            money(t.spend),
            signed(t.change),
            f"{t.quality:.2f}",
            f"{t.marginal_value:,.2f}",
            t.reason,
        ]
        for t in sorted(result.touchpoints, key=lambda t: -t.spend)
    ]
    out += _grid(
        ["touchpoint", "department", "spend", "change", "quality", "marginal", "reason"],
        rows,
        {2, 3, 4, 5},
    )
    out.append(f"  (marginal: {cur} of priority-weighted value per extra {cur} spent there)")

    out += ["", "Journeys (by value)"]
    rows = [
        [
            j.id,
            f"{j.quality:.3f}",
            f"{j.current_quality:.3f}",
            money(j.value),
            money(j.attributed_cost),
            f"{j.value_per_cost:,.1f}" if j.value_per_cost is not None else "-",
            f"{j.floor:.2f}" if j.floor is not None else "",
            (j.limited_by or "") + (" (critical)" if j.limited_by_critical else ""),
        ]
        for j in sorted(result.journeys, key=lambda j: -j.value)
    ]
    out += _grid(
        ["journey", "quality", "current", "value", "cost", "value/cost", "floor", "limited by"],
        rows,
        {1, 2, 3, 4, 5, 6},
    )
    if result.left_out:
        out += ["", "Left out by lifecycle"]
        out += [f"  {x.journey}: {x.reason}" for x in result.left_out]

    out += ["", "Departments"]
    rows = [
        [
            d.id,
            money(d.spend),
            money(d.current_spend),
            (money(d.cap) if d.cap is not None else "-")
            + ("" if d.cap_applies or d.cap is None else " (pooled)"),
            f"{d.shadow_price:,.2f}",
        ]
        for d in sorted(result.departments, key=lambda d: -d.spend)
    ]
    out += _grid(["department", "spend", "current", "cap", "shadow price"], rows, {1, 2, 3, 4})
    out.append(f"  (shadow price: {result.shadow_prices.unit} of the cap)")

    floors = {k: v for k, v in result.shadow_prices.floors.items() if v > 0}
    if floors:
        out += ["", f"Floors that cost something ({result.shadow_prices.floor_unit})"]
        out += [f"  {k}: {v:,.2f}" for k, v in sorted(floors.items(), key=lambda kv: -kv[1])]
    out += ["", f"Binding: {', '.join(result.binding) if result.binding else 'nothing'}"]
    s = result.solver
    out.append(
        f"Solver: {s.name} {s.status}, {s.total_seconds:.2f} s (build {s.build_seconds:.2f} s, "
        f"solve {s.solve_seconds:.2f} s), {s.variables} variables, {s.constraints} constraints, "
        f"approximation gap {s.approximation_gap * 100:.3f} %"
    )
    return "\n".join(out) + "\n"


def _maybe(x: float | None, fmt: str = ",.0f") -> str:
    return "-" if x is None else format(x, fmt)


def frontier_table(result: "FrontierResult", *, portfolio_name: str | None = None) -> str:
    cur = result.currency
    title = portfolio_name or result.portfolio_id
    label = f"scenario {result.scenario_id}" if result.scenario_id else "portfolio as planned"
    out = [f"{title}: efficient frontier, {label}, mode {result.mode}", ""]
    budget = result.current.budget
    knee = result.knee
    rows = []
    for point in result.points:
        marks = []
        if abs(point.budget - budget) <= 1e-9 * max(1.0, budget):
            marks.append("current budget")
        rows.append(
            [
                money(point.budget),
                _maybe(point.value),
                _maybe(point.weighted_value),
                _maybe(point.spend),
                _maybe(point.unallocated),
                _maybe(point.shadow_price, ".2f"),
                _maybe(point.marginal_value, ".2f"),
                ", ".join(marks) if point.status == "optimal" else point.status,
            ]
        )
    out += _grid(
        [
            f"budget ({cur})",
            f"value ({cur})",
            f"priority-weighted value ({cur})",
            f"spend ({cur})",
            f"unallocated ({cur})",
            "shadow price",
            "marginal to next",
            "",
        ],
        rows,
        {0, 1, 2, 3, 4, 5, 6},
    )
    unit = OBJECTIVES[result.mode].units(cur)[0] if result.mode in OBJECTIVES else ""
    out.append(
        f"  (shadow price: {unit} of budget; marginal to next: {cur} of priority-weighted value "
        f"per {cur} from this budget to the next)"
    )
    s = result.current
    out.append("")
    out.append(
        f"  At the current budget of {money(budget)} {cur} the optimum is worth "
        f"{_maybe(s.value)} {cur} ({_maybe(s.weighted_value)} {cur} priority-weighted);"
    )
    out.append(
        f"  the current allocation spends {money(s.current_allocation_spend)} {cur} and is worth "
        f"{money(s.current_allocation_value)} {cur} "
        f"({money(s.current_allocation_weighted_value)} {cur} priority-weighted)"
        + (
            f": the optimum reaches that priority-weighted value with "
            f"{money(s.budget_for_current_value)} {cur}."
            if s.budget_for_current_value is not None
            else "."
        )
    )
    if knee is not None:
        out.append(
            f"  Money stops paying back at a budget of {money(knee)} {cur} (priority-weighted "
            f"value {_maybe(result.knee_value)} {cur}): beyond it one more {cur} returns less "
            f"than one {cur} of priority-weighted value."
        )
    out.append(f"  {len(result.points)} points, {result.solves} solves, {result.seconds:.2f} s")
    return "\n".join(out) + "\n"


FRONTIER_COLUMNS = {
    "budget": "budget ({cur})",
    "status": "status",
    "value": "value ({cur})",
    "weighted_value": "priority-weighted value ({cur})",
    "spend": "spend ({cur})",
    "unallocated": "unallocated ({cur})",
    "shadow_price": "shadow price ({unit})",
    "marginal_value": "marginal value to the next point ({cur} of priority-weighted value per "
    "{cur})",
    "approximation_gap": "approximation gap (relative)",
}
"""Each point's key -> its CSV header, with units."""


def frontier_csv(result: "FrontierResult") -> str:
    cur = result.currency
    unit = OBJECTIVES[result.mode].units(cur)[0] if result.mode in OBJECTIVES else ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([h.format(cur=cur, unit=unit) for h in FRONTIER_COLUMNS.values()])
    for point in result.points:
        data = point.model_dump()
        writer.writerow(["" if data[c] is None else data[c] for c in FRONTIER_COLUMNS])
    return buffer.getvalue()


def robustness_table(result: "RobustnessResult", *, portfolio_name: str | None = None) -> str:
    cur = result.currency
    title = portfolio_name or result.portfolio_id
    evidence = {m: ids for m, ids in result.methods.items() if m != "uniform" and ids}
    if not evidence:
        out = [
            f"{title}: robustness, {result.samples} samples, curve gains off by up to "
            f"{result.spread * 100:.0f} % (seed {result.seed})",
            "",
        ]
    else:
        words = {
            "covariance": "drawn from their covariance",
            "draws": "drawn from their draws",
            "band": "drawn within their band",
        }
        out = [
            f"{title}: robustness, {result.samples} samples (seed {result.seed}); curves drawn "
            "from their evidence where they have it:",
        ]
        for method, ids in evidence.items():
            shown = ", ".join(ids[:12]) + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")
            out.append(f"  {words.get(method, method)} ({len(ids)}): {shown}")
        uniform = result.methods.get("uniform", [])
        if uniform:
            out.append(
                f"  the other {len(uniform)}: gains off by up to {result.spread * 100:.0f} %"
            )
        out.append("")
    rows = [
        [
            name,
            money(spread.nominal),
            money(spread.p10),
            money(spread.p50),
            money(spread.p90),
        ]
        for name, spread in (
            ("optimum", result.optimum),
            ("silo", result.silo),
            ("current", result.current),
        )
    ]
    out += _grid(["allocation", "as estimated", "P10", "P50", "P90"], rows, {1, 2, 3, 4})
    out += [
        "",
        f"  The optimum beats the silo allocation in {result.optimum_beats_silo * 100:.1f} % "
        f"of samples and the current one in {result.optimum_beats_current * 100:.1f} % "
        f"(values in {cur}, priority-weighted).",
    ]
    return "\n".join(out) + "\n"


def ask_table(result: "AskResult") -> str:
    """A journey owner's ask for people: both prices in money, then what moves."""
    cur = result.currency
    b = result.base
    out = [
        f"{result.journey_name} ({result.journey}) at quality {result.target:.2f} "
        f"(today's optimum: {b.quality:.3f})",
        f"Portfolio today: value {money(b.value)} {cur}, spend {money(b.spend)} {cur}",
        "",
    ]
    same = result.same_budget
    if same is not None:
        out.append(
            f"At the same budget: the portfolio's value changes by {signed(same.value_change)} "
            f"{cur} ({money(b.value)} -> {money(same.value)} {cur})"
        )
        for loser in same.losers:
            out.append(f"  loses most: {loser.name}  {signed(loser.value_change)} {cur}")
        for helped in same.helped:
            out.append(f"  gains too:  {helped.name}  {signed(helped.value_change)} {cur}")
    else:
        out.append("At the same budget: not reachable")
    extra = result.extra_budget
    if extra is not None:
        out.append(
            f"With more money: it takes {money(extra.extra)} {cur} more "
            f"({money(b.spend)} -> {money(extra.spend)} {cur}), the portfolio's value kept"
        )
    else:
        out.append("With more money: not reachable")
    if result.reason:
        out.append(f"Why: {result.reason}")
    if result.highest_reachable is not None:
        out.append(f"Highest reachable quality: {result.highest_reachable:.3f}")
    if result.changes:
        out += ["", "Touchpoints that move (shared ones first)"]
        rows = [
            [
                c.name,
                "shared" if c.shared else "own",
                "-" if c.same_budget is None else signed(c.same_budget),
                "-" if c.extra_budget is None else signed(c.extra_budget),
            ]
            for c in result.changes
        ]
        header = ["touchpoint", "", f"same budget ({cur})", f"more money ({cur})"]
        out += _grid(header, rows, {2, 3})
    return "\n".join(out) + "\n"
