"""Why a scenario is infeasible, in money and quality: an elastic re-solve.

The model is rebuilt with slack on the constraints a planner can change: the total budget
and department caps (money slack) and journey floors (quality slack). Bounds, locks and
excludes stay hard (they are the planner's explicit choices; a lock outside its range is
already refused by the document validator).

Phase 1 minimizes the total floor shortfall with unlimited money: a floor is relaxed only
if no money can reach it (max spends, locks, excludes, critical touchpoints hold it
down). Phase 2 keeps that shortfall and minimizes the money missing. Every constraint
with slack is a conflict; floors whose rows carry a dual in phase 2 are the ones the
missing money is for.
"""

from dataclasses import dataclass

import pulp

from optimizer.model import BuiltModel
from optimizer.problem import PortfolioProblem
from optimizer.result import Conflict, SolveError

ZERO = 1e-7


def _money(x: float) -> str:
    return f"{x:,.0f}"


def diagnose(problem: PortfolioProblem, built: BuiltModel, solver: pulp.LpSolver) -> list[Conflict]:
    """The constraints an infeasible scenario has to relax, each with its shortfall: the
    model that was found infeasible gets elastic slack on its money and floor rows."""
    prob, scale, blocks = built.prob, built.scale, built.blocks

    money_slack: dict[str, pulp.LpVariable] = {}
    rows: dict[str, pulp.LpConstraint] = {}
    if blocks.budget is not None:
        money_slack["budget"] = prob.add_variable("slack_budget", 0, None)
        rows["budget"] = blocks.budget
    for d, row in blocks.department.items():
        key = f"department:{d}"
        money_slack[key] = prob.add_variable(f"slack_department_{d}", 0, None)
        rows[key] = row
    for key, s in money_slack.items():
        rows[key].set_coefficient(s, -1.0)
    floor_slack: dict[int, pulp.LpVariable] = {}
    for j, row in blocks.floor.items():
        f = floor_slack[j] = prob.add_variable(f"slack_floor_{j}", 0, 1)
        row.set_coefficient(f, 1.0)

    prob.sense = pulp.LpMinimize
    floor_total = pulp.lpSum_vars(floor_slack.values()) if floor_slack else None
    if floor_total is not None:
        prob.setObjective(floor_total)
        _solve(prob, solver)
        shortfall = sum(v.varValue or 0.0 for v in floor_slack.values())
        prob.addConstraint(floor_total <= shortfall + ZERO, "floor_shortfall")
    money_total = pulp.lpSum_vars(money_slack.values()) if money_slack else None
    if money_total is not None:
        prob.setObjective(money_total)
        _solve(prob, solver)

    # floors that cost money at the margin (their row carries a dual in phase 2), the
    # dearest first: what +0.01 on each would add to the money missing
    costs = {
        j: abs(row.pi or 0.0) * scale * 0.01
        for j, row in blocks.floor.items()
        if abs(row.pi or 0.0) > ZERO and (floor_slack[j].varValue or 0.0) <= ZERO
    }
    floors = [
        Floor(problem.journeys[j].id, problem.journeys[j].name, problem.journeys[j].floor or 0.0, c)
        for j, c in sorted(costs.items(), key=lambda item: -item[1])
    ]
    cur = problem.currency

    conflicts: list[Conflict] = []
    for key, var in money_slack.items():
        missing = (var.varValue or 0.0) * scale
        if missing <= ZERO * max(scale, 1.0):
            continue
        if key == "budget":
            fixed = sum(tp.lower for tp in problem.touchpoints)
            conflicts.append(
                _money_conflict(
                    "budget",
                    missing,
                    f"the total budget of {_money(problem.budget)} {cur}",
                    fixed,
                    problem.budget,
                    floors,
                    cur,
                )
            )
        else:
            d = int(key.split(":")[1])
            dept = problem.departments[d]
            cap = dept.cap or 0.0
            fixed = sum(problem.touchpoints[t].lower for t in problem.members[d])
            conflicts.append(
                _money_conflict(
                    f"department:{dept.id}",
                    missing,
                    f"the {dept.name} budget (cap {_money(cap)} {cur})",
                    fixed,
                    cap,
                    floors,
                    cur,
                )
            )
    for j, var in floor_slack.items():
        short = var.varValue or 0.0
        if short <= 1e-6:
            continue
        journey = problem.journeys[j]
        assert journey.floor is not None
        best = journey.floor - short
        conflicts.append(
            Conflict(
                constraint=f"floor:{journey.id}",
                shortfall=short,
                unit="quality",
                message=(
                    f"the floor {journey.floor:.2f} on '{journey.name}' is out of reach: at most "
                    f"{best:.3f} even with unlimited budget (max spends, locks, excludes and "
                    "critical touchpoints hold it down)"
                ),
                related=[],
            )
        )
    # the real cause first: money that fixed spends alone already exceed, then the largest
    # shortfalls of money, then floors no money reaches
    conflicts.sort(
        key=lambda c: (
            "min_spend_and_locks" not in c.related,
            c.unit != "money",
            -c.shortfall,
        )
    )
    return conflicts


@dataclass(frozen=True)
class Floor:
    id: str
    name: str
    floor: float
    cost: float
    """Money missing per +0.01 of this floor."""


def _money_conflict(
    constraint: str,
    missing: float,
    what: str,
    fixed: float,
    limit: float,
    floors: list[Floor],
    cur: str,
) -> Conflict:
    related = []
    parts = []
    if fixed > limit:
        related.append("min_spend_and_locks")
        parts.append(
            f"locked and minimum spends ({_money(fixed)} {cur}) alone exceed {what} "
            f"by {_money(fixed - limit)} {cur}"
        )
    related += [f"floor:{f.id}" for f in floors]
    if len(floors) == 1:
        (f,) = floors
        parts.append(
            f"the floor {f.floor:.2f} on '{f.name}' needs {_money(missing)} {cur} more in {what}"
        )
    elif floors:
        names = ", ".join(f"'{f.name}' ({f.floor:.2f})" for f in floors)
        parts.append(
            f"the floors on {names} need {_money(missing)} {cur} more in {what}; "
            f"the dearest, '{floors[0].name}', costs {_money(floors[0].cost)} {cur} "
            "per +0.01"
        )
    elif fixed <= limit:
        parts.append(f"{what} needs {_money(missing)} {cur} more")
    message = "; ".join(parts)
    return Conflict(
        constraint=constraint, shortfall=missing, unit="money", message=message, related=related
    )


def _solve(prob: pulp.LpProblem, solver: pulp.LpSolver) -> None:
    stats = prob.solve(solver)
    if stats.status != pulp.LpSolveStatus.Optimal:
        raise SolveError(
            f"the scenario is infeasible, and finding why ended with status {stats.status_str}"
        )
