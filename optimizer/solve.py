"""Solve a resolved portfolio problem: model -> HiGHS -> allocation -> run result.

1. Build the LP (optimizer/model.py) and solve it with HiGHS through PuLP.
2. Measure the chord approximation: the duals y_k of the curve lines bound what the
   tangent model (every chord lifted by its delta_k) could reach: upper bound = objective
   + sum_k |y_k| delta_k (weak duality: only right-hand sides change). If the gap to the
   true-curve value of the allocation exceeds the target, split the chords that carry it
   and solve again.
3. Tie-break on the same HiGHS instance, warm-started: keep the objective (within 1e-9
   relative) and minimize the total spend (min_spend mode: keep the spend, maximize the
   weighted value). Budget that creates no value stays unallocated.
4. Infeasible: diagnose with an elastic re-solve (optimizer/diagnose.py).
"""

import ctypes
import os
import time
from dataclasses import dataclass

import highspy
import numpy as np
import pulp

from optimizer.baselines import current_allocation, silo_allocation
from optimizer.curves import refine, slope_at
from optimizer.diagnose import diagnose
from optimizer.document import PortfolioDocument
from optimizer.evaluate import Evaluation, evaluate_allocation, violations
from optimizer.model import BuiltModel, build_model
from optimizer.problem import PortfolioProblem, resolve
from optimizer.report import Duals, build_result, infeasible_result, objective_of
from optimizer.result import RunResult, SolverInfo

GAP_TARGET = 1e-3
MAX_REFINEMENTS = 6
TIE_TOLERANCE = 1e-9


class SolveError(RuntimeError):
    """The solver did not prove an optimum (time limit, numerical trouble)."""


def default_solver(*, time_limit: float | None = None) -> pulp.HiGHS:
    """HiGHS in process (highspy), quiet; dual simplex keeps duals exact and warm starts cheap."""
    return pulp.HiGHS(msg=False, timeLimit=time_limit)


_banner_silenced = False


def _silence_highs_banner() -> None:
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
class Stage:
    spends: list[float]
    objective: float
    """Model objective in money (money / S * S)."""
    row_duals: np.ndarray
    col_duals: np.ndarray
    seconds: float
    columns: dict[int, int]
    """Variable id -> HiGHS column."""


def _columns(built: BuiltModel) -> dict[int, int]:
    return {v.id: j for j, v in enumerate(built.prob.exported_variables())}


def _solve_stage_one(
    built: BuiltModel, solver: pulp.HiGHS
) -> tuple[pulp.LpSolveStatus, Stage | None]:
    start = time.perf_counter()
    stats = built.prob.solve(solver)
    seconds = time.perf_counter() - start
    if stats.status != pulp.LpSolveStatus.Optimal:
        return stats.status, None
    highs = built.prob.solverModel
    solution = highs.getSolution()
    columns = _columns(built)
    values = solution.col_value
    spends = [values[columns[x.id]] * built.scale for x in built.spend.values()]
    stage = Stage(
        spends=spends,
        objective=highs.getInfo().objective_function_value * built.scale,
        row_duals=np.asarray(solution.row_dual),
        col_duals=np.asarray(solution.col_dual),
        seconds=seconds,
        columns=columns,
    )
    return stats.status, stage


def _tie_break(built: BuiltModel, problem: PortfolioProblem, stage: Stage) -> Stage | None:
    """Second solve on the same HiGHS instance: least spend among optimal allocations
    (min_spend mode: most weighted value among least-spend allocations)."""
    highs: highspy.Highs = built.prob.solverModel
    columns = stage.columns
    inf = highspy.kHighsInf
    n_cols = highs.getNumCol()
    spend_cols = np.array([columns[x.id] for x in built.spend.values()], dtype=np.int32)
    target = stage.objective / built.scale
    slack = TIE_TOLERANCE * max(1.0, abs(target)) + 1e-9
    cost = np.zeros(n_cols)
    start = time.perf_counter()
    if problem.mode == "min_spend":
        highs.addRow(-inf, target + slack, len(spend_cols), spend_cols, np.ones(len(spend_cols)))
        for j, journey in enumerate(problem.journeys):
            cost[columns[built.experience[j].id]] = journey.priority * journey.value / built.scale
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    else:
        idx = np.array([columns[v.id] for v, _ in built.objective_terms], dtype=np.int32)
        coef = np.array([c for _, c in built.objective_terms], dtype=float)
        highs.addRow(target - slack, inf, len(idx), idx, coef)
        cost[spend_cols] = 1.0
        highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    solution = highs.getSolution()
    values = solution.col_value
    return Stage(
        spends=[values[columns[x.id]] * built.scale for x in built.spend.values()],
        objective=stage.objective,
        row_duals=np.asarray(solution.row_dual),
        col_duals=np.asarray(solution.col_dual),
        seconds=time.perf_counter() - start,
        columns=columns,
    )


def approximation(
    built: BuiltModel, problem: PortfolioProblem, stage: Stage, evaluation: Evaluation
) -> tuple[float, dict[int, list[float]]]:
    """Relative gap between the tangent bound and the true value of the allocation, and
    each saturating line's share of it (|y_k| * delta_k, in money)."""
    contributions: dict[int, list[float]] = {}
    total = 0.0
    for t, rows in built.curve_rows.items():
        lines = built.lines[t]
        if lines is None or not any(lines.deltas):
            continue
        shares = [
            abs(stage.row_duals[r]) * d * built.scale
            for r, d in zip(rows, lines.deltas, strict=True)
        ]
        contributions[t] = shares
        total += sum(shares)
    true_objective = objective_of(problem, evaluation)
    if problem.mode == "min_spend":
        bound = stage.objective - total
        gap = max(0.0, true_objective - bound) / max(abs(true_objective), 1e-9)
    else:
        bound = stage.objective + total
        scale = evaluation.weighted_value if problem.mode == "max_net_value" else bound
        gap = max(0.0, bound - true_objective) / max(abs(scale), 1e-9)
    return gap, contributions


def _refined_breakpoints(
    built: BuiltModel,
    problem: PortfolioProblem,
    contributions: dict[int, list[float]],
    excess: float,
) -> dict[int, list[float]]:
    """Split the lines carrying the largest shares of the gap until splitting them removes
    (at ~3/4 of each share) more than the excess."""
    ranked = sorted(
        ((share, t, k) for t, shares in contributions.items() for k, share in enumerate(shares)),
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


def _duals(
    built: BuiltModel, problem: PortfolioProblem, stage: Stage, marginal_stage: Stage
) -> Duals:
    maximize = problem.mode != "min_spend"
    sign = 1.0 if maximize else -1.0
    budget = 0.0
    if built.budget_row is not None:
        budget = max(0.0, stage.row_duals[built.budget_row])
    departments = {
        d: max(0.0, sign * stage.row_duals[row]) for d, row in built.department_rows.items()
    }
    floors = {
        j: max(0.0, -sign * stage.row_duals[row] * built.scale * 0.01)
        for j, row in built.floor_rows.items()
    }
    columns = stage.columns
    marginal = [0.0] * len(problem.touchpoints)
    for t in range(len(problem.touchpoints)):
        lines = built.lines[t]
        if lines is None:
            continue
        rows = built.curve_rows.get(t)
        if rows:
            value = sum(
                marginal_stage.row_duals[r] * slope * built.scale
                for r, slope in zip(rows, lines.slopes, strict=True)
            )
        else:
            # fixed spend (lock, exclude): the quality bound's dual times the curve's slope
            tp = problem.touchpoints[t]
            dual = marginal_stage.col_duals[columns[built.quality[t].id]]
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
        A `pulp.HiGHS` instance (default: `default_solver(time_limit=...)`).
    gap_target
        Largest relative approximation gap accepted before chords are refined.
    time_limit
        Seconds the solver may spend (per solve); a run that hits it raises SolveError.

    Returns
    -------
    RunResult
        The run JSON: `status` "optimal", or "infeasible" with its conflicts.
    """
    if solver is None:
        solver = default_solver(time_limit=time_limit)
    if not isinstance(solver, pulp.HiGHS):
        raise TypeError("the optimizer needs HiGHS in process (pulp.HiGHS)")
    _silence_highs_banner()
    started = time.perf_counter()
    current = evaluate_allocation(problem, current_allocation(problem))
    silo = evaluate_allocation(problem, silo_allocation(problem))
    baseline_problems = (violations(problem, current), violations(problem, silo))

    build_seconds = solve_seconds = 0.0
    breakpoints: dict[int, list[float]] = {}
    refinements = 0
    while True:
        t0 = time.perf_counter()
        built = build_model(problem, breakpoints=breakpoints)
        build_seconds += time.perf_counter() - t0
        status, stage = _solve_stage_one(built, solver)
        if stage is None:
            return _not_optimal(
                problem,
                built,
                solver,
                status,
                current,
                silo,
                baseline_problems,
                started,
                build_seconds,
            )
        solve_seconds += stage.seconds
        evaluation = evaluate_allocation(problem, stage.spends)
        gap, contributions = approximation(built, problem, stage, evaluation)
        if gap <= gap_target or refinements >= MAX_REFINEMENTS:
            break
        excess = (gap - gap_target * 0.5) * max(abs(stage.objective), 1e-9)
        breakpoints = _refined_breakpoints(built, problem, contributions, excess)
        refinements += 1

    rows = built.prob.solverModel.getNumRow()
    tie = _tie_break(built, problem, stage)
    final = stage
    if tie is not None:
        solve_seconds += tie.seconds
        saved = sum(stage.spends) - sum(tie.spends)
        # keep the first solution unless the tie-break saved real money: it is free of the
        # tie-break's tolerance noise
        if problem.mode == "min_spend" or saved > 1e-6 * max(1.0, problem.budget):
            final = tie
    spends = [
        min(max(x, tp.lower), tp.upper)
        for x, tp in zip(final.spends, problem.touchpoints, strict=True)
    ]
    evaluation = evaluate_allocation(problem, spends)
    final_gap, _ = approximation(built, problem, stage, evaluation)
    marginal_stage = final if problem.mode == "min_spend" else stage
    duals = _duals(built, problem, stage, marginal_stage)
    info = SolverInfo(
        name="HiGHS",
        status="Optimal",
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        total_seconds=time.perf_counter() - started,
        variables=built.prob.solverModel.getNumCol(),
        constraints=rows,
        approximation_gap=final_gap,
        breakpoints=sum(len(lines) for lines in built.lines if lines is not None),
        refinements=refinements,
    )
    return build_result(
        problem, evaluation, current, silo, duals, built.relevant, info, baseline_problems
    )


def _not_optimal(
    problem: PortfolioProblem,
    built: BuiltModel,
    solver: pulp.HiGHS,
    status: pulp.LpSolveStatus,
    current: Evaluation,
    silo: Evaluation,
    baseline_problems: tuple[list[str], list[str]],
    started: float,
    build_seconds: float,
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
    conflicts = diagnose(problem, solver)
    if not conflicts:
        raise SolveError(f"the solver reported {status.name} but no constraint needed relaxing")
    info = SolverInfo(
        name="HiGHS",
        status=status.name,
        build_seconds=build_seconds,
        solve_seconds=time.perf_counter() - t0,
        total_seconds=time.perf_counter() - started,
        variables=built.prob.solverModel.getNumCol() if built.prob.solverModel else 0,
        constraints=built.prob.solverModel.getNumRow() if built.prob.solverModel else 0,
        approximation_gap=0.0,
        breakpoints=sum(len(lines) for lines in built.lines if lines is not None),
        refinements=0,
    )
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
