"""Solve a resolved portfolio problem: model -> HiGHS -> allocation -> run result.

1. Build the LP (optimizer/model.py; ties are broken inside its objective) and solve it
   with HiGHS through PuLP.
2. Measure the chord approximation: the duals y_k of the curve lines bound what the
   tangent model (every chord lifted by its delta_k) could reach: upper bound = objective
   + sum_k |y_k| delta_k (weak duality: only right-hand sides change). If the gap to the
   true-curve value of the allocation exceeds the target, split the chords that carry it
   and solve again.
3. Infeasible: diagnose with an elastic re-solve (optimizer/diagnose.py).
4. Evaluate the allocation on the true curves and explain it (optimizer/report.py).

S-shaped curves (binaries on their convex starts, optimizer/model.py) make step 1 a MIP,
solved to a relative MIP gap of `MIP_GAP`. Its binaries are then fixed at the optimum and
steps 2-4 run on that LP as they do for any other run: the approximation gap and the
prices are those of the LP with the binaries fixed. Beside the MIP gap the run reports the
concave-envelope bound: the same model with every S-shaped curve replaced by its concave
envelope, solved as an LP, its objective lifted by its chords' tangent gaps (no allocation
can beat it on the true curves).
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pulp

from optimizer.baselines import current_allocation, silo_allocation
from optimizer.curves import chord_lines, finite_slope, refine, tangent
from optimizer.diagnose import diagnose
from optimizer.document import PortfolioDocument
from optimizer.evaluate import Evaluation, evaluate_allocation, value_gradient, violations
from optimizer.model import LARGE_MODEL_ROWS, BuiltModel, LiveModel, Row, build_model
from optimizer.problem import PortfolioProblem, resolve
from optimizer.report import Duals, build_result, infeasible_result, objective_of
from optimizer.result import RunResult, SolveError, SolverInfo

GAP_TARGET = 1e-4
MIP_GAP = 1e-4
"""Relative MIP gap (HiGHS mip_rel_gap) the S-shaped runs are solved to."""
MAX_REFINEMENTS = 8
INITIAL_SLACK = 3.0
"""The first chords aim at this multiple of the gap target; refinement does the rest."""
PRICE_RADIUS = 1e-3
"""Least distance (a share of its spend range) of the first tangents either side of an
optimal spend in the model the prices are read from."""
CUT_ROUNDS = 12
CUT_CLOSE = 1e-7
"""A spend this close (share of its range) to a tangent point needs no tangent of its own."""
PRICE_SETTLED = 1e-5
"""The cutting planes stop once no price of money or floor moves by more than this share
and no spend by more than SPEND_SETTLED (prices can stand still for a round, held by a
points curve's segment, while the spends still travel to the optimum)."""
SPEND_SETTLED = 1e-5
"""Share of its spend range a spend may still move in a round that settles the prices."""
KINK_STEP = 1e-6
"""Relative step of the one-sided re-solves that find a price's two sides at a kink."""


def solver_options(
    *, time_limit: float | None = None, rows: int = 0, simplex: bool = False
) -> dict[str, Any]:
    """HiGHS in process, quiet. Dual simplex for small models (exact vertices, cheap warm
    starts); interior point with crossover for large ones unless `simplex`."""
    options: dict[str, Any] = {"msg": False, "timeLimit": time_limit}
    if rows >= LARGE_MODEL_ROWS and not simplex:
        options["solver"] = "ipm"
    return options


def default_solver(
    built: BuiltModel | None = None, *, time_limit: float | None = None, simplex: bool = False
) -> pulp.HiGHS:
    """PuLP's HiGHS interface with options for the model's size."""
    rows = built.rows if built is not None else 0
    return pulp.HiGHS(**solver_options(time_limit=time_limit, rows=rows, simplex=simplex))


def mip_solver(*, time_limit: float | None = None) -> pulp.HiGHS:
    """PuLP's HiGHS interface for a model with binaries: quiet, to a relative gap of
    MIP_GAP (HiGHS chooses its own LP method inside branch and bound)."""
    return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=MIP_GAP)


@dataclass
class Solution:
    """What one HiGHS solve of a built model gave back."""

    spends: list[float]
    objective: float
    """Model objective, in money."""
    row_duals: np.ndarray
    col_duals: np.ndarray
    row_values: np.ndarray
    seconds: float

    def dual(self, row: Row) -> float:
        return float(self.row_duals[row.id])


def read_solution(live: LiveModel, seconds: float) -> Solution:
    built, highs = live.built, live.highs
    solution = highs.getSolution()
    values = np.asarray(solution.col_value)
    columns = np.array([live.col(x) for x in built.spend.values()], dtype=int)
    return Solution(
        spends=(values[columns] * built.scale).tolist(),
        objective=highs.getInfo().objective_function_value * built.scale,
        row_duals=np.asarray(solution.row_dual),
        col_duals=np.asarray(solution.col_dual),
        row_values=np.asarray(solution.row_value),
        seconds=seconds,
    )


def solve_built(
    built: BuiltModel, solver: pulp.HiGHS
) -> tuple[pulp.LpSolveStatus, LiveModel | None, Solution | None]:
    """The first solve, through PuLP; later ones go through the returned LiveModel."""
    start = time.perf_counter()
    stats = built.prob.solve(solver)
    seconds = time.perf_counter() - start
    if stats.status != pulp.LpSolveStatus.Optimal:
        return stats.status, None, None
    live = LiveModel(built)
    return stats.status, live, read_solution(live, seconds)


@dataclass(frozen=True)
class MipFigures:
    gap: float
    """Relative gap HiGHS proved (objective vs. best bound)."""
    seconds: float
    """Time of the MIP solve alone (PuLP and HiGHS)."""


def solve_mip(
    built: BuiltModel, solver: pulp.HiGHS, remaining: Callable[[], float | None]
) -> tuple[pulp.LpSolveStatus, LiveModel | None, Solution | None, MipFigures]:
    """The MIP of a model with S-shaped curves, through PuLP; then its binaries are fixed
    at the optimum and the LP of that choice is solved (its duals are the run's prices).
    Returns the LP's solution and the MIP's gap and time."""
    start = time.perf_counter()
    stats = built.prob.solve(solver)
    figures = MipFigures(max(0.0, stats.gap_rel or 0.0), time.perf_counter() - start)
    if stats.status != pulp.LpSolveStatus.Optimal:
        return stats.status, None, None, figures
    live = LiveModel(built)
    live.fix_binaries()
    solution = resolve_warm(live, remaining())
    if solution is None:
        raise SolveError("the solver lost the optimum once the binaries were fixed")
    solution.seconds = time.perf_counter() - start
    return stats.status, live, solution, figures


def envelope_bound(
    problem: PortfolioProblem, value_estimate: float, remaining: Callable[[], float | None]
) -> float | None:
    """The concave-envelope LP bound on the objective (money): the model with every
    S-shaped curve replaced by its concave envelope, solved as an LP, plus the tangent
    lift of its chords (weak duality, as in `approximation`). None when it does not solve."""
    built = build_model(
        problem, value_estimate=value_estimate, gap_target=GAP_TARGET * INITIAL_SLACK, envelope=True
    )
    status, live, solution = solve_built(built, default_solver(built, time_limit=remaining()))
    if live is None or solution is None:
        return None
    rows, deltas, _ = built.chord_rows()
    ids = np.array([row.id for row in rows], dtype=int)
    lift = float((np.abs(solution.row_duals[ids]) * deltas).sum()) * built.scale if rows else 0.0
    total = built.tie_break + lift
    return solution.objective + total if built.objective.maximize else solution.objective - total


def resolve_warm(live: LiveModel, time_limit: float | None = None) -> Solution | None:
    """Re-solve the edited model from its last basis (dual simplex); None unless optimal."""
    highs = live.highs
    highs.setOptionValue("solver", "simplex")
    highs.setOptionValue("time_limit", highspy.kHighsInf if time_limit is None else time_limit)
    start = time.perf_counter()
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return read_solution(live, time.perf_counter() - start)


def approximation(
    built: BuiltModel, problem: PortfolioProblem, solution: Solution, evaluation: Evaluation
) -> tuple[float, dict[int, np.ndarray]]:
    """Relative gap between the tangent bound and the true value of the allocation, and
    each saturating line's share of it (|y_k| * delta_k, in money)."""
    rows, deltas, owners = built.chord_rows()
    ids = np.array([row.id for row in rows], dtype=int)
    shares = np.abs(solution.row_duals[ids]) * deltas * built.scale if rows else np.zeros(0)
    # the convex starts of S-shaped curves: their lowered chords lifted back up (at most
    # by the largest lift; a bound, as for the tangents)
    convex = sum(
        abs(solution.dual(part.convex)) * part.start.lift * built.scale
        for part in built.s_parts.values()
    )
    total = built.tie_break + float(shares.sum()) + convex
    true_objective = objective_of(problem, evaluation)
    objective = built.objective
    if objective.maximize:
        bound = solution.objective + total
        scale = evaluation.weighted_value if objective.spend_cost else bound
        gap = max(0.0, bound - true_objective) / max(abs(scale), 1e-9)
    else:
        bound = solution.objective - total
        gap = max(0.0, true_objective - bound) / max(abs(true_objective), 1e-9)
    contributions = {t: shares[owners == t] for t in np.unique(owners[shares > 0]).tolist()}
    return gap, contributions


def refined_breakpoints(
    built: BuiltModel,
    problem: PortfolioProblem,
    contributions: dict[int, np.ndarray],
    excess: float,
) -> dict[int, list[float]]:
    """New breakpoints of the curves whose lines carry the largest shares of the gap:
    split them until splitting removes (at ~3/4 of each share) more than the excess."""
    ranked = sorted(
        (
            (float(share), t, k)
            for t, shares in contributions.items()
            for k, share in enumerate(shares.tolist())
        ),
        reverse=True,
    )
    chosen: dict[int, list[int]] = {}
    removed = 0.0
    for share, t, k in ranked:
        if share <= 0 or removed >= excess / 0.75:
            break
        chosen.setdefault(t, []).append(k)
        removed += share
    out = {}
    for t, segments in chosen.items():
        # neighbours too: the optimum may move into the next chord once this one is split
        lines = built.lines[t]
        assert lines is not None
        wider = {s + o for s in segments for o in (-1, 0, 1) if 0 <= s + o < len(lines)}
        out[t] = refine(lines.breakpoints, sorted(wider), problem.touchpoints[t].curve)
    return out


def true_curve_prices(
    live: LiveModel,
    problem: PortfolioProblem,
    spends: Sequence[float],
    remaining: Callable[[], float | None],
) -> tuple[Solution, dict[int, list[float]]]:
    """The model from which prices are read: every saturating curve's chords give way to
    tangents of the true curve (an outer model, whose lines touch the curve), first at the
    optimal spend and a chord's length either side, then at every spend the re-solve moves
    to (Kelley's cutting planes: the curves are one-dimensional, so a few rounds put a
    tangent at the true optimum), each spend held within a few chord lengths. Its duals are
    the derivatives of the optimum on the true curves. Returns the last solution and the
    slopes of each curve's tangent rows."""
    built = live.built
    slopes: dict[int, list[float]] = {}
    points: dict[int, list[float]] = {}
    cuts: dict[int, list[tuple[float, float, float]]] = {}
    bounds: dict[int, tuple[float, float]] = {}
    for t, lines in enumerate(built.lines):
        if lines is None or not lines.breakpoints or t not in built.blocks.curve:
            continue
        tp = problem.touchpoints[t]
        lower = tp.lower
        part = built.s_parts.get(t)
        if part is not None:
            if not part.past_start:
                continue  # the spend stays on a convex chord: its row is exact enough
            lower = part.turn  # tangents of the concave tail only (fixed: x >= turn)
        x = spends[t]
        # the chord the optimum sits on (or next to) sets how far the true optimum may be
        k = min(max(int(np.searchsorted(lines.breakpoints, x)) - 1, 0), len(lines) - 1)
        chord = lines.breakpoints[k + 1] - lines.breakpoints[k]
        step = max(chord, PRICE_RADIUS * (tp.upper - tp.lower))
        points[t] = [p for p in (x - step, x, x + step) if lower <= p <= tp.upper]
        cuts[t] = [tangent(tp.curve, p, tp.upper) for p in points[t]]
        slopes[t] = [slope for _, slope, _ in cuts[t]]
        bounds[t] = (max(lower, x - 2 * step), min(tp.upper, x + 2 * step))
    live.outer(cuts, bounds)
    solution = resolve_warm(live, remaining())
    money = list(money_rows(built).values())
    previous = {t: spends[t] for t in points}
    for _ in range(CUT_ROUNDS):
        if solution is None:
            break
        new: dict[int, list[tuple[float, float, float]]] = {}
        moved = 0.0  # the largest move of a spend since the last round, share of its range
        for t, at in points.items():
            tp = problem.touchpoints[t]
            part = built.s_parts.get(t)
            lower = part.turn if part is not None else tp.lower
            x = min(max(solution.spends[t], lower), tp.upper)
            span = max(tp.upper - tp.lower, 1.0)
            moved = max(moved, abs(x - previous[t]) / span)
            previous[t] = x
            if min(abs(x - p) for p in at) <= CUT_CLOSE * span:
                continue
            cut = tangent(tp.curve, x, tp.upper)
            slope = cut[1]
            new[t] = [cut]
            at.append(x)
            slopes[t].append(slope)
        if not new:
            break
        live.tangents(new)
        before = np.array([solution.dual(row) for row in money])
        solution = resolve_warm(live, remaining())
        if solution is not None and money and moved <= SPEND_SETTLED:
            after = np.array([solution.dual(row) for row in money])
            if np.all(np.abs(after - before) <= PRICE_SETTLED * np.maximum(np.abs(after), 1e-9)):
                break
    if solution is None:
        raise SolveError("the solver lost the optimum of the model the prices are read from")
    return solution, slopes


def apply_breakpoints(
    live: LiveModel, problem: PortfolioProblem, breakpoints: dict[int, list[float]]
) -> None:
    for t, points in breakpoints.items():
        live.refine_lines(t, chord_lines(problem.touchpoints[t].curve, points))


@dataclass(frozen=True)
class Prices:
    """A price at the optimum and, where the value function has a kink, its two sides."""

    price: float
    sides: tuple[float, float] | None
    """(gain per extra unit, loss per unit removed), only where they differ."""


def money_rows(built: BuiltModel) -> dict[str, Row]:
    """The rows whose right-hand side is money or a floor, by key of `shadow_prices`."""
    rows: dict[str, Row] = {}
    if built.blocks.budget is not None:
        rows["budget"] = built.blocks.budget
    rows |= {f"department:{d}": row for d, row in built.blocks.department.items()}
    rows |= {f"floor:{j}": row for j, row in built.blocks.floor.items()}
    return rows


def price_of(built: BuiltModel, key: str, dual: float) -> float:
    """A row's dual as the run reports it: objective gained per extra unit of money, or
    objective given up per +0.01 of a floor (both >= 0)."""
    sign = built.objective.dual_sign
    if key.startswith("floor:"):
        return max(0.0, -sign * dual * built.scale * 0.01)
    return max(0.0, sign * dual)


def kink_sides(
    live: LiveModel, solution: Solution, remaining: Callable[[], float | None]
) -> dict[str, tuple[float, float]]:
    """Both one-sided prices of every money or floor row that binds or just touches: the
    dual after a tiny warm re-solve with the row's bound moved each way. Where the two
    agree the value function is smooth there and nothing is reported."""
    built = live.built
    sides: dict[str, tuple[float, float]] = {}
    for key, row in money_rows(built).items():
        rhs = -row.constant
        slack = abs(float(solution.row_values[row.id]) - rhs)
        touching = slack <= 1e-9 * max(1.0, abs(rhs))
        if abs(solution.dual(row)) <= 1e-12 and not touching:
            continue
        step = KINK_STEP * max(1.0, abs(rhs))
        looser, tighter = (
            (rhs + step, rhs - step)
            if row.sense == pulp.LpConstraintLE
            else (
                rhs - step,
                rhs + step,
            )
        )
        found = []
        for moved in (looser, tighter):
            live.set_rhs(row, moved)
            again = resolve_warm(live, remaining())
            found.append(price_of(built, key, again.dual(row)) if again is not None else None)
        live.set_rhs(row, rhs)
        gain, loss = found
        if key.startswith("floor:"):
            # a floor's price is what it costs: raising it is the "tighter" side
            gain, loss = loss, gain
        if gain is None or loss is None:
            continue
        if abs(gain - loss) > 1e-6 * max(abs(gain), abs(loss), 1e-9):
            sides[key] = (gain, loss)
    if sides:
        resolve_warm(live, remaining())
    return sides


def duals_of(
    built: BuiltModel,
    problem: PortfolioProblem,
    solution: Solution,
    evaluation: Evaluation,
    slopes: dict[int, list[float]] | None = None,
) -> Duals:
    """Shadow prices and marginal values in money, signed so that more is better."""
    blocks = built.blocks
    budget = price_of(built, "budget", solution.dual(blocks.budget)) if blocks.budget else 0.0
    departments = {
        d: price_of(built, "department", solution.dual(row)) for d, row in blocks.department.items()
    }
    floors = {j: price_of(built, "floor:", solution.dual(row)) for j, row in blocks.floor.items()}
    if not built.objective.maximize:
        # the duals speak of spend here; value per unit comes from the journeys' gradient
        gradient = value_gradient(problem, evaluation)
        marginal = [
            g * finite_slope(tp.curve, x, tp.upper)
            for g, tp, x in zip(gradient, problem.touchpoints, evaluation.spends, strict=True)
        ]
        return Duals(budget=budget, departments=departments, floors=floors, marginal=marginal)
    marginal = [0.0] * len(problem.touchpoints)
    for t, tp in enumerate(problem.touchpoints):
        lines = built.lines[t]
        if lines is None:
            continue
        rows = blocks.curve.get(t)
        part = built.s_parts.get(t)
        if part is not None and (not part.past_start or not rows):
            # on a chord of the convex start: the convex row's dual times its slope
            value = solution.dual(part.convex) * part.active_slope() * built.scale
        elif slopes is not None and t in slopes and rows:
            # tangent rows: value per unit of quality times the curve's slope there
            value = sum(
                solution.dual(row) * slope * built.scale
                for row, slope in zip(rows, slopes[t], strict=True)
            )
        elif rows:
            value = sum(
                solution.dual(row) * slope * built.scale
                for row, slope in zip(rows, lines.slopes, strict=True)
            )
        else:
            # fixed spend (lock, exclude): the quality bound's dual times the curve's slope
            dual = solution.col_duals[built.quality[t].id]
            value = dual * finite_slope(tp.curve, tp.lower, tp.upper) * built.scale
        marginal[t] = max(0.0, value)
    return Duals(budget=budget, departments=departments, floors=floors, marginal=marginal)


def solve(
    problem: PortfolioProblem,
    *,
    solver: pulp.HiGHS | None = None,
    gap_target: float = GAP_TARGET,
    time_limit: float | None = None,
) -> RunResult:
    """Optimize the allocation of a resolved portfolio problem.

    Parameters
    ----------
    problem
        A portfolio with its scenario applied (`optimizer.problem.resolve`).
    solver
        A `pulp.HiGHS` instance for the first solve (default: `default_solver(...)` for
        the model's size); the refinements re-solve the same HiGHS instance warm.
    gap_target
        Largest relative approximation gap accepted before chords are refined.
    time_limit
        Seconds the whole run may spend solving (every solve of the refinement loop and
        the diagnosis draw from it); a run that hits it raises SolveError.

    Returns
    -------
    RunResult
        The run JSON: `status` "optimal", or "infeasible" with its conflicts.
    """
    if solver is not None and not isinstance(solver, pulp.HiGHS):
        raise TypeError("the optimizer needs HiGHS in process (pulp.HiGHS)")
    started = time.perf_counter()
    current = evaluate_allocation(problem, current_allocation(problem))
    deadline = None if time_limit is None else started + time_limit

    def remaining() -> float | None:
        if deadline is None:
            return None
        left = deadline - time.perf_counter()
        if left <= 0:
            raise SolveError(
                f"the run needed more than its time limit of {time_limit:g} s; "
                "try a longer time limit or a smaller portfolio"
            )
        return left

    t0 = time.perf_counter()
    # coarse chords first (ten times the target), then refined where the spends land
    built = build_model(
        problem, value_estimate=current.weighted_value, gap_target=gap_target * INITIAL_SLACK
    )
    build_seconds = time.perf_counter() - t0
    mip: MipFigures | None = None
    if built.s_parts:
        chosen = solver or mip_solver(time_limit=remaining())
        status, live, solution, mip = solve_mip(built, chosen, remaining)
    else:
        chosen = solver or default_solver(built, time_limit=remaining())
        status, live, solution = solve_built(built, chosen)
    if live is None or solution is None:
        return _not_optimal(problem, built, status, current, started, build_seconds, remaining)
    solve_seconds = solution.seconds

    def settle(breakpoints: dict[int, list[float]]) -> Solution:
        nonlocal solve_seconds
        t1 = time.perf_counter()
        apply_breakpoints(live, problem, breakpoints)
        again = resolve_warm(live, remaining())
        if again is None:
            raise SolveError("the solver lost the optimum of a refined model")
        solve_seconds += time.perf_counter() - t1
        return again

    refinements = 0
    while True:
        evaluation = evaluate_allocation(problem, clipped(problem, solution.spends))
        gap, contributions = approximation(built, problem, solution, evaluation)
        if gap <= gap_target or refinements >= MAX_REFINEMENTS:
            break
        excess = (gap - gap_target * 0.5) * max(abs(solution.objective), 1e-9)
        solution = settle(refined_breakpoints(built, problem, contributions, excess))
        refinements += 1
    # prices: the same model with every saturating curve replaced by its tangent at the
    # optimal spend (points curves are exact already)
    priced, slopes = true_curve_prices(live, problem, evaluation.spends, remaining)
    sides = kink_sides(live, priced, remaining)

    silo_problem = (
        problem.with_budget(evaluation.spend)
        if built.objective.silo_gets_optimum_spend
        else problem
    )
    silo = evaluate_allocation(problem, silo_allocation(silo_problem))
    baseline_problems = (violations(problem, current), violations(problem, silo))
    duals = duals_of(built, problem, priced, evaluation, slopes)
    bound = envelope_seconds = None
    if built.s_parts:
        t2 = time.perf_counter()
        bound = envelope_bound(problem, current.weighted_value, remaining)
        envelope_seconds = time.perf_counter() - t2
    info = SolverInfo(
        name="HiGHS",
        status="Optimal",
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        total_seconds=time.perf_counter() - started,
        variables=live.highs.getNumCol(),
        constraints=live.highs.getNumRow(),
        approximation_gap=gap,
        breakpoints=sum(len(lines) for lines in built.lines if lines is not None),
        refinements=refinements,
        mip_gap=mip.gap if mip is not None else None,
        mip_seconds=mip.seconds if mip is not None else None,
        envelope_bound=bound,
        envelope_seconds=envelope_seconds,
    )
    s_shaped = [problem.touchpoints[t].id for t in sorted(built.s_parts)]
    return build_result(
        problem,
        evaluation,
        current,
        silo,
        duals,
        built.relevant,
        info,
        baseline_problems,
        sides,
        s_shaped=s_shaped,
    )


def clipped(problem: PortfolioProblem, spends: list[float]) -> list[float]:
    """Spends within their bounds (the solver may overshoot by its tolerance)."""
    return [
        min(max(x, tp.lower), tp.upper) for x, tp in zip(spends, problem.touchpoints, strict=True)
    ]


def _not_optimal(
    problem: PortfolioProblem,
    built: BuiltModel,
    status: pulp.LpSolveStatus,
    current: Evaluation,
    started: float,
    build_seconds: float,
    remaining: Callable[[], float | None],
) -> RunResult:
    limits = (
        pulp.LpSolveStatus.TimeLimit,
        pulp.LpSolveStatus.IterationLimit,
        pulp.LpSolveStatus.Interrupted,
        pulp.LpSolveStatus.MemoryLimit,
    )
    if status in limits:
        raise SolveError(
            f"the solver stopped before proving an optimum ({status.name}); "
            "try a longer time limit or a smaller portfolio"
        )
    t0 = time.perf_counter()
    conflicts = diagnose(problem, built, pulp.HiGHS(**solver_options(time_limit=remaining())))
    if not conflicts:
        raise SolveError(f"the solver reported {status.name} but no constraint needed relaxing")
    silo = evaluate_allocation(problem, silo_allocation(problem))
    highs = built.prob.solverModel
    info = SolverInfo(
        name="HiGHS",
        status=status.name,
        build_seconds=build_seconds,
        solve_seconds=time.perf_counter() - t0,
        total_seconds=time.perf_counter() - started,
        variables=highs.getNumCol() if highs else 0,
        constraints=highs.getNumRow() if highs else 0,
        approximation_gap=0.0,
        breakpoints=sum(len(lines) for lines in built.lines if lines is not None),
        refinements=0,
    )
    baseline_problems = (violations(problem, current), violations(problem, silo))
    return infeasible_result(problem, current, silo, conflicts, info, baseline_problems)


def run_document(
    doc: PortfolioDocument,
    scenario_id: str | None = None,
    *,
    mode: str | None = None,
    budget: float | None = None,
    pooled: bool | None = None,
    time_limit: float | None = None,
) -> RunResult:
    """Resolve a scenario of a document and solve it."""
    problem = resolve(doc, scenario_id, mode=mode, budget=budget, pooled=pooled)
    return solve(problem, time_limit=time_limit)
