"""From a solved model to the run result: values on the true curves, and the why.

Everything a user reads is evaluated on the true curves at the reported allocation. The
"why" comes from the LP's duals (stage one of the solve, the value-maximizing LP):

- shadow prices of the budget, each department cap and each floor;
- a touchpoint's marginal value, sum_k y_tk * b_tk: the weighted value one more unit of
  money buys there (y_tk the dual of curve line k, b_tk its slope). At the optimum a
  touchpoint strictly between its bounds has marginal value equal to the price of money
  it competes for (budget + its department's cap, + 1 in max_net_value mode); one at its
  minimum is worth less, one at its maximum more.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.curves import inflexion, slope_at
from optimizer.evaluate import Evaluation, requirements, topological_order
from optimizer.objective import objective_for
from optimizer.problem import PortfolioProblem
from optimizer.result import (
    Baseline,
    Baselines,
    Conflict,
    DepartmentResult,
    JourneyResult,
    LeftOut,
    PortfolioFigures,
    PriceIntervals,
    Reason,
    RunResult,
    Scenario,
    ShadowPrices,
    SolverInfo,
    TouchpointResult,
)

DUAL_ZERO = 1e-7
FIXED_BINARIES = (
    " (S-shaped curves make this run a MIP: prices of the LP with the binaries of the"
    " curves' convex starts fixed at the optimum, valid while the spends stay on the"
    " same pieces)"
)


@dataclass(frozen=True)
class Duals:
    """Dual information in money units (already unscaled)."""

    budget: float
    departments: dict[int, float]
    """Objective improvement per extra unit of each department cap (>= 0)."""
    floors: dict[int, float]
    """Objective cost of raising each floor by 0.01 (>= 0)."""
    marginal: list[float]
    """Weighted value per extra unit of money in each touchpoint."""


def _money(x: float) -> str:
    return f"{x:,.0f}"


def unallocated(budget: float, spend: float) -> float:
    """Budget left over; solver noise (a billionth of the budget) counts as nothing."""
    left = budget - spend
    return left if left > 1e-9 * max(1.0, budget) else 0.0


def objective_of(problem: PortfolioProblem, evaluation: Evaluation) -> float:
    return objective_for(problem.mode).of(evaluation.weighted_value, evaluation.spend)


def shadow_prices(
    problem: PortfolioProblem,
    budget: float,
    departments: dict[int, float],
    floors: dict[int, float],
    sides: dict[str, tuple[float, float]] | None = None,
    *,
    fixed: bool = False,
) -> ShadowPrices:
    """The prices by id; `sides` (keys `budget`, `department:<d>`, `floor:<j>` by
    position) become `intervals`. `fixed`: a MIP run (S-shaped curves), whose prices are
    those of the LP with its binaries fixed at the optimum, and its units say so."""
    unit, floor_unit = objective_for(problem.mode).units(problem.currency)
    if fixed:
        unit += FIXED_BINARIES
        floor_unit += FIXED_BINARIES
    intervals: dict[str, dict[str, list[float]]] = {"departments": {}, "floors": {}}
    budget_sides = None
    for key, (gain, loss) in (sides or {}).items():
        kind, _, position = key.partition(":")
        if kind == "budget":
            budget_sides = [gain, loss]
        elif kind == "department":
            intervals["departments"][problem.departments[int(position)].id] = [gain, loss]
        else:
            intervals["floors"][problem.journeys[int(position)].id] = [gain, loss]
    return ShadowPrices(
        budget=budget,
        departments={problem.departments[d].id: p for d, p in departments.items()},
        floors={problem.journeys[j].id: c for j, c in floors.items()},
        unit=unit,
        floor_unit=floor_unit,
        intervals=PriceIntervals(budget=budget_sides, **intervals),
    )


def touchpoint_journeys(problem: PortfolioProblem) -> list[dict[int, float]]:
    """Journeys each touchpoint serves, with cost-sharing weights w'_jt * value_j.

    A touchpoint no journey links but others require serves their journeys, with their
    weights: its spend exists for them.
    """
    direct: list[dict[int, float]] = [{} for _ in problem.touchpoints]
    for j, journey in enumerate(problem.journeys):
        for link in journey.links:
            direct[link.touchpoint][j] = link.weight * max(journey.value, 1e-12)
    requires = requirements(problem)
    served = [dict(d) for d in direct]
    # dependents before what they require: reverse topological order
    for t in reversed(topological_order(problem)):
        for u in requires[t]:
            if direct[u]:
                continue
            for j, w in served[t].items():
                served[u][j] = served[u].get(j, 0.0) + w
    return served


def attributed_costs(
    problem: PortfolioProblem, spends: Sequence[float], served: list[dict[int, float]]
) -> tuple[list[float], float]:
    costs = [0.0] * len(problem.journeys)
    unattributed = 0.0
    for t, x in enumerate(spends):
        weights = served[t]
        total = sum(weights.values())
        if not weights or total <= 0:
            unattributed += x
            continue
        for j, w in weights.items():
            costs[j] += x * w / total
    return costs, unattributed


def limiting_touchpoint(
    problem: PortfolioProblem, j: int, qualities: Sequence[float]
) -> tuple[int | None, bool]:
    """What holds journey j down: the weakest critical touchpoint when it caps the
    experience, else the link with the largest weighted shortfall w'_jt * (1 - q_t)."""
    links = problem.journeys[j].links
    average = sum(link.weight * qualities[link.touchpoint] for link in links)
    critical = [link for link in links if link.critical]
    if critical:
        weakest = min(critical, key=lambda link: qualities[link.touchpoint])
        if qualities[weakest.touchpoint] < average - 1e-9:
            return weakest.touchpoint, True
    if average >= 1 - 1e-9:
        return None, False
    worst = max(links, key=lambda link: link.weight * (1 - qualities[link.touchpoint]))
    return worst.touchpoint, False


def baseline_of(problem: PortfolioProblem, evaluation: Evaluation, problems: list[str]) -> Baseline:
    return Baseline(
        value=evaluation.value,
        weighted_value=evaluation.weighted_value,
        spend=evaluation.spend,
        feasible=not problems,
        violations=problems,
        allocation={tp.id: x for tp, x in zip(problem.touchpoints, evaluation.spends, strict=True)},
    )


def scenario_of(problem: PortfolioProblem) -> Scenario:
    return Scenario(
        id=problem.scenario_id,
        name=problem.scenario_name,
        budget=problem.budget,
        pooled=problem.pooled,
        mode=problem.mode,
    )


def _reason(
    problem: PortfolioProblem,
    t: int,
    x: float,
    evaluation: Evaluation,
    relevant: bool,
    marginal: float,
    price: float,
    price_label: str,
    requires: list[int],
) -> tuple[Reason, str]:
    tp = problem.touchpoints[t]
    cur = problem.currency
    tol = 1e-6 * max(1.0, tp.max_spend)
    worth = f"{marginal:,.2f} {cur} of priority-weighted value per extra {cur}"
    against = f"the {price_label}, {price:,.2f}"
    if tp.locked:
        return "locked", f"locked at {_money(tp.lower)} {cur} by the scenario"
    if tp.excluded:
        return (
            "excluded",
            f"excluded by the scenario: held at its minimum {_money(tp.lower)} {cur}",
        )
    if not relevant:
        return "serves_no_journey", "serves no journey: more money here creates no value"
    q = evaluation.curve_qualities[t]
    if requires:
        # the dependency binds when what t requires is no better than t's own curve here:
        # spending more on t would not raise its effective quality
        capping = min(requires, key=lambda u: evaluation.qualities[u])
        cap = evaluation.qualities[capping]
        if cap <= q + 1e-9 and (x > tp.lower + tol or cap < q - 1e-9 or marginal <= 1e-12):
            return (
                "limited_by_dependency",
                f"its quality is capped at {cap:.2f} by '{problem.touchpoints[capping].name}', "
                "which it requires: more money here would not show",
            )
    if x >= tp.upper - tol:
        return (
            "at_max_spend",
            f"at its maximum {_money(tp.upper)} {cur}: its marginal value, {worth}, "
            f"is more than {against}",
        )
    turn = inflexion(tp.curve)
    if slope_at(tp.curve, x) <= 0 and (turn is None or x >= turn):
        return "saturated", "its curve is flat here: more money buys no quality"
    if x <= tp.lower + tol:
        s_shaped = (
            "; its curve is S-shaped: the first money buys little, only a large amount pays"
            if turn is not None and x < turn
            else ""
        )
        return (
            "at_min_spend",
            f"at its minimum {_money(tp.lower)} {cur}: its marginal value, {worth}, "
            f"is less than {against}{s_shaped}",
        )
    return (
        "balanced",
        f"balanced: its marginal value, {worth}, equals {against}; money elsewhere buys the same",
    )


def build_result(
    problem: PortfolioProblem,
    evaluation: Evaluation,
    current: Evaluation,
    silo: Evaluation,
    duals: Duals,
    relevant: list[bool],
    solver: SolverInfo,
    baseline_problems: tuple[list[str], list[str]],
    sides: dict[str, tuple[float, float]] | None = None,
    *,
    s_shaped: list[str] | None = None,
) -> RunResult:
    served = touchpoint_journeys(problem)
    requires = requirements(problem)
    spends = evaluation.spends
    caps = problem.department_caps
    mode = problem.mode
    spend_cost = objective_for(mode).spend_cost if objective_for(mode).maximize else 0.0

    touchpoints = []
    for t, tp in enumerate(problem.touchpoints):
        d = tp.department
        price = duals.budget + duals.departments.get(d, 0.0) + spend_cost
        parts = []
        if duals.budget > DUAL_ZERO:
            parts.append("budget")
        if duals.departments.get(d, 0.0) > DUAL_ZERO:
            parts.append(f"{problem.departments[d].id} cap")
        if spend_cost:
            parts.append("unit of spend")
        label = "price of money (" + " + ".join(parts) + ")" if parts else "price of money"
        reason, explanation = _reason(
            problem,
            t,
            spends[t],
            evaluation,
            relevant[t],
            duals.marginal[t],
            price,
            label,
            requires[t],
        )
        touchpoints.append(
            TouchpointResult(
                id=tp.id,
                name=tp.name,
                department=problem.departments[d].id,
                channel=tp.channel,
                spend=spends[t],
                current_spend=tp.current_spend,
                change=spends[t] - tp.current_spend,
                min_spend=tp.min_spend,
                max_spend=tp.max_spend,
                quality=evaluation.qualities[t],
                curve_quality=evaluation.curve_qualities[t],
                current_quality=current.qualities[t],
                marginal_value=duals.marginal[t],
                reason=reason,
                explanation=explanation,
                journeys=[problem.journeys[j].id for j in sorted(served[t])],
                requires=[problem.touchpoints[u].id for u in requires[t]],
            )
        )

    costs, unattributed = attributed_costs(problem, spends, served)
    journeys = []
    for j, journey in enumerate(problem.journeys):
        limit, critical = limiting_touchpoint(problem, j, evaluation.qualities)
        cost = costs[j]
        journeys.append(
            JourneyResult(
                id=journey.id,
                name=journey.name,
                persona=journey.persona,
                owner=journey.owner,
                quality=evaluation.experiences[j],
                value=evaluation.values[j],
                weighted_value=evaluation.weighted_values[j],
                priority=journey.priority,
                max_value=journey.value,
                current_quality=current.experiences[j],
                current_value=current.values[j],
                attributed_cost=cost,
                value_per_cost=evaluation.values[j] / cost if cost > 0 else None,
                floor=journey.floor,
                limited_by=problem.touchpoints[limit].id if limit is not None else None,
                limited_by_critical=critical,
            )
        )

    departments = []
    for d, dept in enumerate(problem.departments):
        members = problem.members[d]
        departments.append(
            DepartmentResult(
                id=dept.id,
                name=dept.name,
                spend=float(sum(spends[t] for t in members)),
                current_spend=float(sum(problem.touchpoints[t].current_spend for t in members)),
                cap=dept.cap,
                cap_applies=d in caps,
                shadow_price=duals.departments.get(d, 0.0),
            )
        )

    binding = []
    if duals.budget > DUAL_ZERO:
        binding.append("budget")
    binding += [
        f"department:{problem.departments[d].id}"
        for d, price in duals.departments.items()
        if price > DUAL_ZERO
    ]
    binding += [
        f"floor:{problem.journeys[j].id}" for j, cost in duals.floors.items() if cost > DUAL_ZERO
    ]

    spend = evaluation.spend
    figures = PortfolioFigures(
        value=evaluation.value,
        weighted_value=evaluation.weighted_value,
        objective=objective_of(problem, evaluation),
        spend=spend,
        budget=problem.budget,
        unallocated=unallocated(problem.budget, spend),
        current_spend=current.spend,
        unattributed_spend=unattributed,
    )
    return RunResult(
        portfolio_id=problem.portfolio_id,
        scenario_id=problem.scenario_id,
        status="optimal",
        mode=mode,
        currency=problem.currency,
        scenario=scenario_of(problem),
        portfolio=figures,
        touchpoints=touchpoints,
        journeys=journeys,
        departments=departments,
        shadow_prices=shadow_prices(
            problem, duals.budget, duals.departments, duals.floors, sides, fixed=bool(s_shaped)
        ),
        baselines=Baselines(
            current=baseline_of(problem, current, baseline_problems[0]),
            silo=baseline_of(problem, silo, baseline_problems[1]),
        ),
        price_of_silos=evaluation.weighted_value - silo.weighted_value,
        price_of_silos_value=evaluation.value - silo.value,
        binding=binding,
        conflicts=[],
        solver=solver,
        left_out=left_out_of(problem),
        s_shaped=s_shaped or [],
    )


def infeasible_result(
    problem: PortfolioProblem,
    current: Evaluation,
    silo: Evaluation,
    conflicts: list[Conflict],
    solver: SolverInfo,
    baseline_problems: tuple[list[str], list[str]],
) -> RunResult:
    return RunResult(
        portfolio_id=problem.portfolio_id,
        scenario_id=problem.scenario_id,
        status="infeasible",
        mode=problem.mode,
        currency=problem.currency,
        scenario=scenario_of(problem),
        portfolio=PortfolioFigures(
            value=0.0,
            weighted_value=0.0,
            objective=0.0,
            spend=0.0,
            budget=problem.budget,
            unallocated=0.0,
            current_spend=current.spend,
            unattributed_spend=0.0,
        ),
        touchpoints=[],
        journeys=[],
        departments=[],
        shadow_prices=shadow_prices(problem, 0.0, {}, {}),
        baselines=Baselines(
            current=baseline_of(problem, current, baseline_problems[0]),
            silo=baseline_of(problem, silo, baseline_problems[1]),
        ),
        price_of_silos=0.0,
        price_of_silos_value=0.0,
        binding=[],
        conflicts=conflicts,
        solver=solver,
        left_out=left_out_of(problem),
    )


def left_out_of(problem: PortfolioProblem) -> list[LeftOut]:
    return [
        LeftOut(journey=x.journey, name=x.name, lifecycle=x.lifecycle, part=x.part, reason=x.reason)
        for x in problem.left_out
    ]
