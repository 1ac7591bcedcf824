"""The floor no Python modeller can beat: the optimizer's LP built with numpy arrays and
handed to HiGHS in one call (highspy's array API), solved with the same algorithm.

Same formulation as optimizer/model.py: the same lines (optimizer.curves.lines_for), the
same variables, rows, scaling and tie-breaking objective, so the two solves do the same
work and the ratio measures the modelling and reporting overhead alone.
"""

import time
from dataclasses import dataclass

import highspy
import numpy as np

from optimizer.curves import lines_for
from optimizer.model import TIE_BREAK, money_scale, relevant_touchpoints
from optimizer.problem import PortfolioProblem
from optimizer.solve import LARGE_MODEL_ROWS


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
    scale = money_scale(problem)
    n_t = len(problem.touchpoints)
    relevant = relevant_touchpoints(problem)
    lower = [tp.lower / scale for tp in problem.touchpoints]
    upper = [tp.upper / scale for tp in problem.touchpoints]
    col_lo, col_hi = list(lower), list(upper)
    quality: dict[int, int] = {}
    effective: dict[int, int] = {}
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    inf = highspy.kHighsInf

    def row(cols: list[int], coefs: list[float], lo: float, hi: float) -> None:
        starts.append(len(index))
        index.extend(cols)
        value.extend(coefs)
        rows_lo.append(lo)
        rows_hi.append(hi)

    def new_col(lo: float, hi: float) -> int:
        col_lo.append(lo)
        col_hi.append(hi)
        return len(col_lo) - 1

    for t, tp in enumerate(problem.touchpoints):
        if not relevant[t]:
            continue
        lines = lines_for(tp.curve, tp.lower, tp.upper)
        if len(lines) == 1 and lines.slopes[0] == 0:
            quality[t] = new_col(0.0, min(1.0, max(0.0, lines.intercepts[0])))
            continue
        q = quality[t] = new_col(0.0, 1.0)
        for slope, intercept in zip(lines.slopes, lines.intercepts, strict=True):
            row([q, t], [1.0, -slope * scale], -inf, intercept)
    requires: dict[int, list[int]] = {}
    for t, u in problem.requires:
        if relevant[t]:
            requires.setdefault(t, []).append(u)
    for t in requires:
        e = effective[t] = new_col(0.0, 1.0)
        row([e, quality[t]], [1.0, -1.0], -inf, 0.0)

    def eff(t: int) -> int:
        return effective.get(t, quality[t])

    for t, us in requires.items():
        for u in us:
            row([effective[t], eff(u)], [1.0, -1.0], -inf, 0.0)
    experience = []
    for journey in problem.journeys:
        ex = new_col(0.0, 1.0)
        experience.append(ex)
        row(
            [ex] + [eff(link.touchpoint) for link in journey.links],
            [1.0] + [-link.weight for link in journey.links],
            -inf,
            0.0,
        )
        for link in journey.links:
            if link.critical:
                row([ex, eff(link.touchpoint)], [1.0, -1.0], -inf, 0.0)
        if journey.floor is not None and journey.floor > 0:
            row([ex], [1.0], journey.floor, inf)
    if problem.mode != "min_spend":
        row(list(range(n_t)), [1.0] * n_t, -inf, problem.budget / scale)
    for d, cap in problem.department_caps.items():
        members = list(problem.members[d])
        if members:
            row(members, [1.0] * len(members), -inf, cap / scale)

    n_cols = len(col_lo)
    cost = np.zeros(n_cols)
    weights = np.array([j.priority * j.value / scale for j in problem.journeys])
    value_range = float(weights[weights > 0].sum())
    if problem.mode == "min_spend":
        spend_range = sum(upper)
        bonus = TIE_BREAK * spend_range / value_range if value_range > 0 else 0.0
        cost[:n_t] = 1.0
        cost[experience] = -bonus * weights
        sense = highspy.ObjSense.kMinimize
    else:
        penalty = TIE_BREAK * max(value_range, 1.0)
        cost[:n_t] = -(penalty + (1.0 if problem.mode == "max_net_value" else 0.0))
        cost[experience] = weights
        sense = highspy.ObjSense.kMaximize

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(rows_lo)
    lp.col_cost_ = cost
    lp.col_lower_ = np.array(col_lo)
    lp.col_upper_ = np.array(col_hi)
    lp.row_lower_ = np.array(rows_lo)
    lp.row_upper_ = np.array(rows_hi)
    lp.sense_ = sense
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts + [len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    if len(rows_lo) >= LARGE_MODEL_ROWS:
        highs.setOptionValue("solver", "ipm")
    highs.passModel(lp)
    built = time.perf_counter()
    highs.run()
    solution = highs.getSolution()
    _ = np.asarray(solution.col_value), np.asarray(solution.row_dual)
    solved = time.perf_counter()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return FloorTiming(
        build_seconds=built - start,
        solve_seconds=solved - built,
        objective=highs.getInfo().objective_function_value * scale,
        rows=len(rows_lo),
        columns=n_cols,
    )
