"""The efficient frontier: the optimal portfolio value at each budget level.

One model serves every point: after the first solve only the budget row's bound changes,
and HiGHS re-solves from the previous basis (dual simplex: a right-hand side change keeps
the basis dual feasible, so each point costs a few pivots, not a new solve).

The knee is where one more unit of money stops paying back (the budget's shadow price
falls below 1): exactly the spend of the max_net_value optimum with an unlimited budget,
which one more re-solve of the same model finds (objective value - (1 + eps) spend).
"""

import time
from dataclasses import dataclass

import pulp
from pydantic import BaseModel, ConfigDict

from optimizer.baselines import current_allocation
from optimizer.evaluate import evaluate_allocation
from optimizer.model import (
    BuiltModel,
    LiveModel,
    Row,
    build_model,
    objective_terms,
    relevant_touchpoints,
    s_turns,
)
from optimizer.objective import objective_for
from optimizer.problem import PortfolioProblem
from optimizer.progress import Progress, no_progress
from optimizer.report import unallocated
from optimizer.solve import (
    GAP_TARGET,
    Solution,
    approximation,
    clipped,
    default_solver,
    resolve_warm,
    solve_built,
)


class FrontierPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: float
    status: str
    """optimal, or infeasible (floors, min spends or locks need more money)."""
    value: float | None
    weighted_value: float | None
    spend: float | None
    unallocated: float | None
    shadow_price: float | None
    """Weighted value per extra unit of budget at this point (LP dual)."""
    marginal_value: float | None
    """Weighted value gained per unit of money from this point to the next."""
    approximation_gap: float | None


class Standing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: float
    value: float | None
    weighted_value: float | None
    current_allocation_value: float
    current_allocation_weighted_value: float
    current_allocation_spend: float
    budget_for_current_value: float | None
    """Least budget at which the optimum is worth what the current allocation is worth."""


class FrontierResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = "journeyfolio-frontier/v1"
    portfolio_id: str
    scenario_id: str | None
    currency: str
    mode: str
    points: list[FrontierPoint]
    current: Standing
    knee: float | None
    """Budget beyond which one more unit of money returns less than one unit of value."""
    knee_value: float | None
    seconds: float
    solves: int


@dataclass
class _Resolver:
    """Re-solves the one built model warm after its budget or objective changed."""

    live: LiveModel
    runs: int = 0

    @property
    def budget(self) -> Row:
        row = self.live.built.blocks.budget
        if row is None:
            raise ValueError("this mode has no budget to vary")
        return row

    def set_budget(self, budget: float) -> None:
        self.live.set_rhs(self.budget, budget / self.live.built.scale)

    def run(self) -> Solution | None:
        return resolve_warm(self.live)


def s_shaped_touchpoints(problem: PortfolioProblem) -> list[str]:
    """Ids of the touchpoints whose curve is S-shaped on their spend range (binaries)."""
    turns = s_turns(problem, relevant_touchpoints(problem))
    return [problem.touchpoints[t].id for t in sorted(turns)]


def budget_levels(
    problem: PortfolioProblem, points: int, low: float | None, high: float | None
) -> list[float]:
    floor = sum(tp.lower for tp in problem.touchpoints)
    ceiling = sum(tp.upper for tp in problem.touchpoints)
    low = max(floor, problem.budget / 2) if low is None else low
    high = min(2 * problem.budget, ceiling) if high is None else high
    high = max(high, low)
    if points <= 1 or high == low:
        return [low]
    return [low + (high - low) * i / (points - 1) for i in range(points)]


def frontier(
    problem: PortfolioProblem,
    *,
    points: int = 25,
    low: float | None = None,
    high: float | None = None,
    solver: pulp.HiGHS | None = None,
    progress: Progress = no_progress,
) -> FrontierResult:
    """The optimal value at `points` budgets from `low` to `high` (default: the least
    money the scenario needs up to twice its budget, never past what all touchpoints can
    take), the current budget's standing and the knee.

    `progress` is called after each budget level (optimizer.progress: it may raise to stop)."""
    if not objective_for(problem.mode).budget_binds:
        raise ValueError(
            f"a frontier varies the budget, which mode {problem.mode} does not have: "
            "use max_value or max_net_value"
        )
    if points < 1:
        raise ValueError("points must be at least 1")
    shaped = s_shaped_touchpoints(problem)
    if shaped:
        raise ValueError(
            "a frontier of a portfolio with S-shaped curves is not computed yet (its value "
            "is not concave in the budget, so warm re-solves of one LP do not give it): "
            f"S-shaped: {', '.join(shaped)}; run the budgets as scenarios instead"
        )
    started = time.perf_counter()
    budgets = budget_levels(problem, points, low, high)
    # the levels, then the knee: each a step of the progress
    steps = len(budgets) + 1
    progress(0.0, f"solving budget 1 of {len(budgets)}")
    # the first solve (through PuLP) is the first point; every later one starts warm
    current = evaluate_allocation(problem, current_allocation(problem))
    built = build_model(
        problem.with_budget(budgets[0]),
        value_estimate=current.weighted_value,
        gap_target=GAP_TARGET,
    )
    # warm re-solves need a basis: simplex throughout (a crossover would give one too,
    # but each later interior point solve would start from scratch)
    status, live, first = solve_built(built, solver or default_solver(built, simplex=True))
    if live is None:
        if status != pulp.LpSolveStatus.Infeasible:
            raise RuntimeError(f"the solver ended with status {status.name}")
        # an infeasible first budget: its rows are all there, so the later budgets re-solve
        # the same model; PuLP still made the HiGHS instance
        live = LiveModel(built)
    resolver = _Resolver(live)
    highs = live.highs
    highs.setOptionValue("presolve", "off")
    # devex pricing: cheaper iterations on these short warm re-solves
    highs.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    solves = 1

    def point_at(
        budget: float, solution: Solution | None = None, *, solved: bool = False
    ) -> FrontierPoint:
        nonlocal solves
        if not solved:
            resolver.set_budget(budget)
            solution = resolver.run()
            solves += 1
        if solution is None:
            return FrontierPoint(
                budget=budget,
                status="infeasible",
                value=None,
                weighted_value=None,
                spend=None,
                unallocated=None,
                shadow_price=None,
                marginal_value=None,
                approximation_gap=None,
            )
        evaluation = evaluate_allocation(
            problem.with_budget(budget), clipped(problem, solution.spends)
        )
        gap, _ = approximation(built, problem.with_budget(budget), solution, evaluation)
        return FrontierPoint(
            budget=budget,
            status="optimal",
            value=evaluation.value,
            weighted_value=evaluation.weighted_value,
            spend=evaluation.spend,
            unallocated=unallocated(budget, evaluation.spend),
            shadow_price=max(0.0, solution.dual(resolver.budget)),
            marginal_value=None,
            approximation_gap=gap,
        )

    target = current.weighted_value
    cheapest: float | None = None
    computed = [point_at(budgets[0], first, solved=True)]
    for i, budget in enumerate(budgets[1:], start=1):
        progress(i / steps, f"solving budget {i + 1} of {len(budgets)}")
        computed.append(point_at(budget))
        reached = computed[-1].weighted_value
        if cheapest is None and reached is not None and reached >= target:
            # while the basis is near: the least budget worth the current allocation
            cheapest = _least_budget_for(resolver, built, budget, target)
            solves += resolver.runs
    if cheapest is None and computed[0].weighted_value is not None:
        if computed[0].weighted_value >= target:
            cheapest = _least_budget_for(resolver, built, budgets[0], target)
            solves += resolver.runs
    filled = []
    for i, point in enumerate(computed):
        nxt = computed[i + 1] if i + 1 < len(computed) else None
        marginal = None
        if nxt is not None and point.weighted_value is not None and nxt.weighted_value is not None:
            marginal = (nxt.weighted_value - point.weighted_value) / (nxt.budget - point.budget)
        filled.append(point.model_copy(update={"marginal_value": marginal}))

    same = [
        p for p in computed if abs(p.budget - problem.budget) <= 1e-9 * max(1.0, problem.budget)
    ]
    at_budget = same[0] if same else point_at(problem.budget)
    standing = Standing(
        budget=problem.budget,
        value=at_budget.value,
        weighted_value=at_budget.weighted_value,
        current_allocation_value=current.value,
        current_allocation_weighted_value=current.weighted_value,
        current_allocation_spend=current.spend,
        budget_for_current_value=None,
    )
    progress(len(budgets) / steps, "finding the knee")
    knee, knee_value = _knee(resolver, problem, built)
    standing = standing.model_copy(update={"budget_for_current_value": cheapest})
    solves += 1
    progress(1.0, f"{len(budgets)} budget levels and the knee solved")
    return FrontierResult(
        portfolio_id=problem.portfolio_id,
        scenario_id=problem.scenario_id,
        currency=problem.currency,
        mode=problem.mode,
        points=filled,
        current=standing,
        knee=knee,
        knee_value=knee_value,
        seconds=time.perf_counter() - started,
        solves=solves,
    )


def _knee(
    resolver: _Resolver, problem: PortfolioProblem, built: BuiltModel
) -> tuple[float | None, float | None]:
    """Spend of the max_net_value optimum with an unlimited budget: the same model with
    the net-value objective and no budget row."""
    terms, _ = objective_terms(built, problem, objective_for("max_net_value"))
    resolver.live.set_objective(terms)
    # no budget: more than every touchpoint can take
    resolver.set_budget(2 * sum(tp.upper for tp in problem.touchpoints) + 1.0)
    solution = resolver.run()
    if solution is None:
        return None, None
    evaluation = evaluate_allocation(problem, clipped(problem, solution.spends))
    return evaluation.spend, evaluation.weighted_value


def _least_budget_for(
    resolver: "_Resolver", built: BuiltModel, start: float, target: float
) -> float | None:
    """Least budget at which the optimum is worth `target`, by a safeguarded Newton's
    method on the concave value function v(b), each step a warm re-solve.

    A tangent lies above a concave function, so a step b - (v(b) - target) / v'(b) from a
    budget worth more lands at or below the answer, and steps from below climb towards it:
    on a piecewise linear v a few steps hit it exactly. Where a step lands on a budget too
    small to be feasible (floors, minimum spends), bisection takes over.
    """
    resolver.runs = 0
    tolerance = 1e-9 * max(1.0, abs(target))
    low: float | None = None  # worth less than target, or infeasible
    high = start  # worth at least target
    budget = start
    for _ in range(60):
        resolver.set_budget(budget)
        solution = resolver.run()
        resolver.runs += 1
        if solution is None:
            low = budget
            budget = (low + high) / 2
        else:
            value = solution.objective
            slope = solution.dual(resolver.budget)
            if abs(value - target) <= tolerance:
                return budget
            if value > target:
                high = budget
            else:
                low = budget
            step = (value - target) / slope if slope > 0 else 0.0
            newton = budget - step
            inside = newton < high and (low is None or newton > low)
            budget = newton if step and inside else (high if low is None else (low + high) / 2)
            if budget < 0:
                budget = 0.0
        if low is not None and high - low <= 1e-9 * max(1.0, high):
            return high
    return high
