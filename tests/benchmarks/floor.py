"""The floor no Python modeller can beat: the optimizer's own model (optimizer/model.py,
the same named blocks of rows, the same first chords) handed to HiGHS in one call through
highspy's array API, and solved once with the same algorithm.

The run itself hands the same model to HiGHS through PuLP's HiGHS interface, refines the
chords where the spends land (warm re-solves), and reads the prices from the linearized
model; the ratio measures all of that against one bare solve.
"""

import time
from dataclasses import dataclass

import highspy
import numpy as np

from optimizer.baselines import current_allocation
from optimizer.evaluate import evaluate_allocation
from optimizer.model import LARGE_MODEL_ROWS, build_model
from optimizer.problem import PortfolioProblem
from optimizer.solve import GAP_TARGET, INITIAL_SLACK


@dataclass
class FloorTiming:
    build_seconds: float
    solve_seconds: float
    objective: float
    rows: int
    columns: int

    @property
    def total(self) -> float:
        return self.build_seconds + self.solve_seconds


def floor_solve(problem: PortfolioProblem) -> FloorTiming:
    start = time.perf_counter()
    current = evaluate_allocation(problem, current_allocation(problem))
    built = build_model(
        problem, value_estimate=current.weighted_value, gap_target=GAP_TARGET * INITIAL_SLACK
    )
    prob = built.prob
    variables = prob.variables()
    column = {var.id: j for j, var in enumerate(variables)}
    inf = highspy.kHighsInf
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for row in prob.constraints():
        starts.append(len(index))
        for var, coef in row.items():
            index.append(column[var.id])
            value.append(coef)
        lo, up = row.getLb(), row.getUb()
        lower.append(-inf if lo is None else lo)
        upper.append(inf if up is None else up)
    cost = np.zeros(len(variables))
    for var, coef in built.objective_terms:
        cost[column[var.id]] += coef
    lp = highspy.HighsLp()
    lp.num_col_ = len(variables)
    lp.num_row_ = len(lower)
    lp.col_cost_ = cost
    lp.col_lower_ = np.array([v.lowBound for v in variables], dtype=float)
    lp.col_upper_ = np.array([v.upBound for v in variables], dtype=float)
    lp.row_lower_ = np.array(lower)
    lp.row_upper_ = np.array(upper)
    lp.sense_ = (
        highspy.ObjSense.kMaximize if built.objective.maximize else highspy.ObjSense.kMinimize
    )
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array([*starts, len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    if len(lower) >= LARGE_MODEL_ROWS:
        highs.setOptionValue("solver", "ipm")
    highs.passModel(lp)
    built_at = time.perf_counter()
    highs.run()
    solution = highs.getSolution()
    _ = np.asarray(solution.col_value), np.asarray(solution.row_dual)
    solved = time.perf_counter()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"the floor's solve ended with {highs.getModelStatus()}")
    return FloorTiming(
        build_seconds=built_at - start,
        solve_seconds=solved - built_at,
        objective=highs.getInfo().objective_function_value * built.scale,
        rows=len(lower),
        columns=len(variables),
    )
