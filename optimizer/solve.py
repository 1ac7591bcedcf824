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
"""

import ctypes
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pulp

from optimizer.baselines import current_allocation, silo_allocation
from optimizer.curves import refine, slope_at
from optimizer.diagnose import diagnose
from optimizer.document import PortfolioDocument
from optimizer.evaluate import Evaluation, evaluate_allocation, value_gradient, violations
from optimizer.model import BuiltModel, ModelArrays, build_model
from optimizer.problem import PortfolioProblem, resolve
from optimizer.report import Duals, build_result, infeasible_result, objective_of
from optimizer.result import RunResult, SolveError, SolverInfo

GAP_TARGET = 1e-3
MAX_REFINEMENTS = 6
LARGE_MODEL_ROWS = 60_000
"""From this many rows on, the interior point method beats dual simplex by far."""


class ArrayHiGHS(pulp.HiGHS):
    """pulp.HiGHS that hands HiGHS the model as the arrays it was recorded in while it was
    built (optimizer.model.ModelArrays): one addCols and one addRows call, no Python loop
    over PuLP's rows, and no per-row copy of the duals back into PuLP (solve.py reads them
    from HiGHS as arrays)."""

    def __init__(self, arrays: ModelArrays, **options: Any) -> None:
        super().__init__(**options)
        self.arrays = arrays

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:  # noqa: N802 - PuLP's name
        a = self.arrays
        highs = lp.solverModel
        assert highs is not None
        n_cols = len(a.col_lower)
        empty = np.zeros(0, dtype=np.int32)
        assert a.col_cost is not None
        highs.addCols(
            n_cols,
            a.col_cost,
            np.array(a.col_lower),
            np.array(a.col_upper),
            0,
            empty,
            empty,
            np.zeros(0),
        )
        if lp.sense == pulp.LpMaximize:
            highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        highs.addRows(
            len(a.row_lower),
            np.array(a.row_lower),
            np.array(a.row_upper),
            len(a.index),
            np.array(a.starts, dtype=np.int32),
            np.array(a.index, dtype=np.int32),
            np.array(a.value),
        )

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, bool]:  # noqa: N802
        assert lp.solverModel is not None
        status = lp.solverModel.getModelStatus()
        optimal = status == highspy.HighsModelStatus.kOptimal
        return _STATUS.get(status, pulp.LpSolveStatus.Undefined), optimal


_STATUS = {
    highspy.HighsModelStatus.kOptimal: pulp.LpSolveStatus.Optimal,
    highspy.HighsModelStatus.kInfeasible: pulp.LpSolveStatus.Infeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: pulp.LpSolveStatus.Infeasible,
    highspy.HighsModelStatus.kUnbounded: pulp.LpSolveStatus.Unbounded,
    highspy.HighsModelStatus.kTimeLimit: pulp.LpSolveStatus.TimeLimit,
    highspy.HighsModelStatus.kIterationLimit: pulp.LpSolveStatus.IterationLimit,
    highspy.HighsModelStatus.kInterrupt: pulp.LpSolveStatus.Interrupted,
    highspy.HighsModelStatus.kMemoryLimit: pulp.LpSolveStatus.MemoryLimit,
}


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
    """The solver for a built model: ArrayHiGHS with options for its size."""
    rows = built.rows if built is not None else 0
    options = solver_options(time_limit=time_limit, rows=rows, simplex=simplex)
    if built is None:
        return pulp.HiGHS(**options)
    return ArrayHiGHS(built.arrays, **options)


_banner_silenced = False


def silence_highs_banner() -> None:
    """HiGHS prints a copyright banner to standard output when the first instance is made.
    Make that instance with standard output pointed at /dev/null, so JSON on stdout stays
    clean."""
    global _banner_silenced
    if _banner_silenced:
        return
    libc = ctypes.CDLL(None)
    saved = os.dup(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        highspy.Highs()
        libc.fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_silenced = True


@dataclass
class Solution:
    """What one HiGHS solve of a built model gave back."""

    spends: list[float]
    objective: float
    """Model objective, in money."""
    row_duals: np.ndarray
    col_duals: np.ndarray
    seconds: float


def read_solution(built: BuiltModel, seconds: float) -> Solution:
    """The solution of the model's HiGHS instance. Every variable of the model is used, so
    PuLP hands them all to HiGHS in id order: column j is variable id j."""
    highs = built.highs
    assert highs.getNumCol() == len(built.arrays.col_lower)
    solution = highs.getSolution()
    values = solution.col_value
    return Solution(
        spends=[values[x.id] * built.scale for x in built.spend.values()],
        objective=highs.getInfo().objective_function_value * built.scale,
        row_duals=np.asarray(solution.row_dual),
        col_duals=np.asarray(solution.col_dual),
        seconds=seconds,
    )


def solve_built(
    built: BuiltModel, solver: pulp.HiGHS
) -> tuple[pulp.LpSolveStatus, Solution | None]:
    start = time.perf_counter()
    stats = built.prob.solve(solver)
    seconds = time.perf_counter() - start
    if stats.status != pulp.LpSolveStatus.Optimal:
        return stats.status, None
    return stats.status, read_solution(built, seconds)


def approximation(
    built: BuiltModel, problem: PortfolioProblem, solution: Solution, evaluation: Evaluation
) -> tuple[float, dict[int, np.ndarray]]:
    """Relative gap between the tangent bound and the true value of the allocation, and
    each saturating line's share of it (|y_k| * delta_k, in money)."""
    rows, deltas, owners = built.chord_arrays()
    shares = np.abs(solution.row_duals[rows]) * deltas * built.scale
    total = built.tie_break + float(shares.sum())
    true_objective = objective_of(problem, evaluation)
    if problem.mode == "min_spend":
        bound = solution.objective - total
        gap = max(0.0, true_objective - bound) / max(abs(true_objective), 1e-9)
    else:
        bound = solution.objective + total
        scale = evaluation.weighted_value if problem.mode == "max_net_value" else bound
        gap = max(0.0, bound - true_objective) / max(abs(scale), 1e-9)
    if gap <= GAP_TARGET:
        return gap, {}
    contributions = {t: shares[owners == t] for t in np.unique(owners[shares > 0]).tolist()}
    return gap, contributions


def refined_breakpoints(
    built: BuiltModel,
    problem: PortfolioProblem,
    contributions: dict[int, np.ndarray],
    excess: float,
) -> dict[int, list[float]]:
    """Split the lines carrying the largest shares of the gap until splitting them removes
    (at ~3/4 of each share) more than the excess."""
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
    out = {
        t: list(lines.breakpoints)
        for t, lines in enumerate(built.lines)
        if lines and lines.breakpoints
    }
    for t, segments in chosen.items():
        # neighbours too: the optimum may move into the next chord once this one is split
        lines = built.lines[t]
        assert lines is not None
        wider = {s + o for s in segments for o in (-1, 0, 1) if 0 <= s + o < len(lines)}
        out[t] = refine(lines.breakpoints, sorted(wider), problem.touchpoints[t].curve)
    return out


def duals_of(
    built: BuiltModel, problem: PortfolioProblem, solution: Solution, evaluation: Evaluation
) -> Duals:
    """Shadow prices and marginal values in money, signed so that more is better."""
    sign = -1.0 if problem.mode == "min_spend" else 1.0
    budget = 0.0
    if built.budget_row is not None:
        budget = max(0.0, solution.row_duals[built.budget_row])
    departments = {
        d: max(0.0, sign * solution.row_duals[row]) for d, row in built.department_rows.items()
    }
    floors = {
        j: max(0.0, -sign * solution.row_duals[row] * built.scale * 0.01)
        for j, row in built.floor_rows.items()
    }
    if problem.mode == "min_spend":
        # the duals speak of spend here; value per unit comes from the journeys' gradient
        gradient = value_gradient(problem, evaluation)
        marginal = [
            g * slope_at(tp.curve, x)
            for g, tp, x in zip(gradient, problem.touchpoints, evaluation.spends, strict=True)
        ]
        return Duals(budget=budget, departments=departments, floors=floors, marginal=marginal)
    marginal = [0.0] * len(problem.touchpoints)
    for t, tp in enumerate(problem.touchpoints):
        lines = built.lines[t]
        if lines is None:
            continue
        rows = built.curve_rows.get(t)
        if rows:
            value = sum(
                solution.row_duals[r] * slope * built.scale
                for r, slope in zip(rows, lines.slopes, strict=True)
            )
        else:
            # fixed spend (lock, exclude): the quality bound's dual times the curve's slope
            dual = solution.col_duals[built.quality[t].id]
            value = dual * slope_at(tp.curve, tp.lower) * built.scale
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
        A `pulp.HiGHS` instance (default: `default_solver(...)` for the model's size).
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
    silence_highs_banner()
    started = time.perf_counter()
    current = evaluate_allocation(problem, current_allocation(problem))

    build_seconds = solve_seconds = 0.0
    breakpoints: dict[int, list[float]] = {}
    refinements = 0
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

    while True:
        t0 = time.perf_counter()
        built = build_model(
            problem,
            breakpoints=breakpoints,
            value_estimate=current.weighted_value,
            gap_target=gap_target,
        )
        build_seconds += time.perf_counter() - t0
        chosen = solver or default_solver(built, time_limit=remaining())
        status, solution = solve_built(built, chosen)
        if solution is None:
            return _not_optimal(problem, built, status, current, started, build_seconds, remaining)
        solve_seconds += solution.seconds
        evaluation = evaluate_allocation(problem, clipped(problem, solution.spends))
        gap, contributions = approximation(built, problem, solution, evaluation)
        if gap <= gap_target or refinements >= MAX_REFINEMENTS:
            break
        excess = (gap - gap_target * 0.5) * max(abs(solution.objective), 1e-9)
        breakpoints = refined_breakpoints(built, problem, contributions, excess)
        refinements += 1

    # silos get the same money: the budget, or in min_spend mode what the optimum spends
    silo_problem = problem.with_budget(evaluation.spend) if problem.mode == "min_spend" else problem
    silo = evaluate_allocation(problem, silo_allocation(silo_problem))
    baseline_problems = (violations(problem, current), violations(problem, silo))
    duals = duals_of(built, problem, solution, evaluation)
    highs = built.highs
    info = SolverInfo(
        name="HiGHS",
        status="Optimal",
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        total_seconds=time.perf_counter() - started,
        variables=highs.getNumCol(),
        constraints=highs.getNumRow(),
        approximation_gap=gap,
        breakpoints=sum(len(lines) for lines in built.lines if lines is not None),
        refinements=refinements,
    )
    result = build_result(
        problem, evaluation, current, silo, duals, built.relevant, info, baseline_problems
    )
    return result


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
    conflicts = diagnose(problem, pulp.HiGHS(**solver_options(time_limit=remaining())))
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
