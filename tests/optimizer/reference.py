"""An independent reference for the optimizer's model (shared/DOMAIN.md), on HiGHS directly.

This module shares nothing with optimizer.curves/model/solve/baselines and uses no PuLP: it
reads the resolved scenario (optimizer.problem, plain data), builds its own sparse matrices
(scipy.sparse) and hands them to HiGHS through highspy's array API (HighsLp).

The linear program, for touchpoints t, journeys j, departments d::

    variables  x_t  spend            lower_t <= x_t <= upper_t   (scenario bounds: locks, excludes)
               e_t  effective quality      0 <= e_t <= 1
               E_j  experience       floor_j <= E_j <= 1
    (1) e_t <= a_k + b_k x_t        for every line k of t's curve (concave: min of lines)
    (2) e_t <= e_u                  for every dependency "t requires u"
    (3) E_j <= sum_t w'_jt e_t
    (4) E_j <= e_t                  for every critical link (j, t)
    (5) sum_t x_t <= budget         (not in min_spend mode)
    (6) sum_{t in d} x_t <= cap_d   (for departments with a cap, unless pooled)
    objective  max sum_j p_j v_j E_j  |  max sum_j p_j v_j E_j - sum_t x_t  |  min sum_t x_t
    then       min sum_t x_t  s.t. objective within 1e-9 of its optimum (least spend on ties)

Curves: `points` curves are exact (a concave piecewise linear function is the minimum of its
pieces' lines, the flat tail included). Saturating curves get ``segments`` chords between
breakpoints spaced evenly in (x + half_spend)^-1/2, which spreads the chord error evenly
(hill, exponential and logistic curves: breakpoints evenly spaced in quality): chords
lie below the curve, so the chord LP's allocation is feasible on the true curves and its true
value is a lower bound of the true optimum; tangents at the same breakpoints lie above it, so
the tangent LP is a relaxation and its optimum an upper bound.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import highspy
import numpy as np
from scipy import sparse

from optimizer.problem import Curve, PortfolioProblem

SEGMENTS = 256
"""Chords (and tangents) per formula curve."""

TIE_TOLERANCE = 1e-9
"""Relative slack on the optimum in the least-spend re-solve."""


# --------------------------------------------------------------------------- true curves


def curve_quality(curve: Curve, spend: float) -> float:
    """The true curve: points linear between points and flat after the last; saturating exact."""
    if curve.points is not None:
        points = curve.points
        if spend <= points[0][0]:
            return points[0][1]
        for (s0, q0), (s1, q1) in zip(points, points[1:], strict=False):
            if spend <= s1:
                return q0 + (q1 - q0) * (spend - s0) / (s1 - s0)
        return points[-1][1]
    x = max(spend, 0.0)
    a = curve.top - curve.base
    if curve.form == "hill":
        n = curve.shape
        return curve.base + a * x**n / (x**n + curve.half_spend**n)
    if curve.form == "exponential":
        return curve.base + a * (1 - math.exp(-x / curve.scale))
    if curve.form == "logistic":
        e = math.exp(-curve.lam * x)
        return curve.base + a * (1 - e) / (1 + e)
    return curve.base + a * x / (x + curve.half_spend)


def tangent_point(curve: Curve, spend: float) -> float:
    """Where the tangent at `spend` is taken: a hill curve with shape < 1 is infinitely
    steep at 0, so its tangent there is taken a hair to the right (still a tangent, still
    above the curve)."""
    if curve.form == "hill":
        return max(spend, 1e-9 * curve.half_spend)
    return spend


def curve_slope(curve: Curve, spend: float) -> float:
    """dq/dx of a formula curve (written out here, not taken from optimizer.curves)."""
    x = max(spend, 0.0)
    a = curve.top - curve.base
    if curve.form == "hill":
        n, h = curve.shape, curve.half_spend
        return a * n * h**n * x ** (n - 1) / (x**n + h**n) ** 2
    if curve.form == "exponential":
        return a / curve.scale * math.exp(-x / curve.scale)
    if curve.form == "logistic":
        e = math.exp(-curve.lam * x)
        return a * 2 * curve.lam * e / (1 + e) ** 2
    return a * curve.half_spend / (x + curve.half_spend) ** 2


def effective_qualities(problem: PortfolioProblem, curve_qualities: Sequence[float]) -> list[float]:
    """min(own curve quality, effective quality of every required touchpoint), recursively."""
    requires: list[list[int]] = [[] for _ in problem.touchpoints]
    for t, u in problem.requires:
        requires[t].append(u)
    memo: dict[int, float] = {}

    def effective(t: int) -> float:
        if t not in memo:
            memo[t] = min([curve_qualities[t], *(effective(u) for u in requires[t])])
        return memo[t]

    return [effective(t) for t in range(len(problem.touchpoints))]


class Evaluation(NamedTuple):
    value: float
    """sum_j value_j * E_j (money)."""
    weighted_value: float
    """sum_j priority_j * value_j * E_j."""
    journey_qualities: list[float]
    """E_j = min(sum_t w'_jt e_t, min over critical links of e_t)."""
    touchpoint_qualities: list[float]
    """Effective qualities e_t (curve quality capped by dependencies)."""


def evaluate(problem: PortfolioProblem, allocation: Sequence[float]) -> Evaluation:
    """Value of an allocation (spend per touchpoint position) on the true curves."""
    curve = [
        curve_quality(tp.curve, x) for tp, x in zip(problem.touchpoints, allocation, strict=True)
    ]
    eff = effective_qualities(problem, curve)
    journey_qualities = []
    value = weighted = 0.0
    for journey in problem.journeys:
        average = sum(link.weight * eff[link.touchpoint] for link in journey.links)
        critical = [eff[link.touchpoint] for link in journey.links if link.critical]
        quality = min([average, *critical])
        journey_qualities.append(quality)
        value += journey.value * quality
        weighted += journey.priority * journey.value * quality
    return Evaluation(value, weighted, journey_qualities, eff)


def true_objective(problem: PortfolioProblem, allocation: Sequence[float]) -> float:
    """What the scenario's mode optimizes, on the true curves."""
    spend = math.fsum(allocation)
    if problem.mode == "min_spend":
        return spend
    weighted = evaluate(problem, allocation).weighted_value
    return weighted - spend if problem.mode == "max_net_value" else weighted


def violations(
    problem: PortfolioProblem, allocation: Sequence[float], rel: float = 1e-6
) -> list[str]:
    """Which scenario constraints an allocation breaks (true curves), with a tolerance."""
    out = []
    scale = max(1.0, problem.budget, *(tp.upper for tp in problem.touchpoints))
    tol = rel * scale
    for tp, x in zip(problem.touchpoints, allocation, strict=True):
        if not tp.lower - tol <= x <= tp.upper + tol:
            out.append(f"touchpoint {tp.id}: spend {x:g} outside {tp.lower:g}..{tp.upper:g}")
    if problem.mode != "min_spend" and math.fsum(allocation) > problem.budget + tol:
        out.append(f"budget: spend {math.fsum(allocation):g} > {problem.budget:g}")
    for d, cap in problem.department_caps.items():
        spend = math.fsum(allocation[t] for t in problem.members[d])
        if spend > cap + tol:
            out.append(f"department {problem.departments[d].id}: spend {spend:g} > cap {cap:g}")
    qualities = evaluate(problem, allocation).journey_qualities
    for journey, quality in zip(problem.journeys, qualities, strict=True):
        if journey.floor is not None and quality < journey.floor - rel:
            out.append(f"journey {journey.id}: quality {quality:g} < floor {journey.floor:g}")
    return out


# --------------------------------------------------------------------------- linearization


def is_exact(problem: PortfolioProblem) -> bool:
    """True when every curve is linearized exactly (points, or a fixed spend)."""
    return all(tp.curve.is_points or tp.lower >= tp.upper for tp in problem.touchpoints)


def breakpoints(curve: Curve, lower: float, upper: float, segments: int) -> np.ndarray:
    """Breakpoints of a saturating curve on [lower, upper], even in (x + h)^-1/2; of the
    other forms, half even in quality (dense where the curve bends, found by bisection) and
    half even in spend (for the long flat tail)."""
    if curve.form != "saturating":
        q_low, q_up = curve_quality(curve, lower), curve_quality(curve, upper)
        xs = [lower]
        for q in np.linspace(q_low, q_up, segments // 2 + 1)[1:-1].tolist():
            lo, hi = xs[-1], upper
            for _ in range(100):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if curve_quality(curve, mid) < q else (lo, mid)
            if hi > xs[-1]:
                xs.append(hi)
        xs.append(upper)
        even = np.linspace(lower, upper, segments - len(xs) + 3)
        merged = np.unique(np.concatenate([np.array(xs), even]))
        # points a rounding error apart would make a chord of noise
        keep = np.concatenate([[True], np.diff(merged) > 1e-9 * (upper - lower)])
        merged = merged[keep]
        merged[-1] = upper
        return merged
    h = curve.half_spend
    r = np.linspace((lower + h) ** -0.5, (upper + h) ** -0.5, segments + 1)
    xs = r**-2.0 - h
    xs[0], xs[-1] = lower, upper
    return xs


def curve_lines(
    curve: Curve, lower: float, upper: float, *, side: str, segments: int = SEGMENTS
) -> tuple[np.ndarray, np.ndarray]:
    """Lines (intercepts a, slopes b) whose minimum is the curve on [lower, upper].

    side="chord" gives lines at or below a saturating curve, side="tangent" at or above it;
    points curves and fixed spends are exact either way.
    """
    if curve.points is not None:
        pts = curve.points
        a, b = [pts[-1][1]], [0.0]  # the flat tail
        for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
            slope = (q1 - q0) / (s1 - s0)
            a.append(q0 - slope * s0)
            b.append(slope)
        return np.array(a), np.array(b)
    if upper <= lower:
        return np.array([curve_quality(curve, lower)]), np.array([0.0])
    xs = breakpoints(curve, lower, upper, segments)
    qs = np.array([curve_quality(curve, x) for x in xs])
    if side == "chord":
        slopes = np.diff(qs) / np.diff(xs)
        return qs[:-1] - slopes * xs[:-1], slopes
    if side != "tangent":
        raise ValueError(side)
    at = np.array([tangent_point(curve, x) for x in xs.tolist()])
    slopes = np.array([curve_slope(curve, x) for x in at.tolist()])
    values = np.array([curve_quality(curve, x) for x in at.tolist()])
    return values - slopes * at, slopes


def chord_error(curve: Curve, lower: float, upper: float, segments: int = SEGMENTS) -> float:
    """Largest gap between a curve and its chords on [lower, upper] (0 when exact)."""
    if curve.points is not None or upper <= lower:
        return 0.0
    xs = breakpoints(curve, lower, upper, segments)
    worst = 0.0
    rise = (curve.top - curve.base) * curve.half_spend
    for x0, x1 in zip(xs, xs[1:], strict=False):
        q0, q1 = curve_quality(curve, x0), curve_quality(curve, x1)
        slope = (q1 - q0) / (x1 - x0)
        if curve.form == "saturating":
            # The gap of a concave curve to its chord peaks where the curve's slope equals
            # the chord's.
            x = math.sqrt(rise / slope) - curve.half_spend if slope > 0 else x0
        else:
            # the gap is concave on the segment: a ternary search finds its peak
            lo, hi = float(x0), float(x1)
            for _ in range(80):
                m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
                g1 = curve_quality(curve, m1) - (q0 + slope * (m1 - x0))
                g2 = curve_quality(curve, m2) - (q0 + slope * (m2 - x0))
                lo, hi = (m1, hi) if g1 < g2 else (lo, m2)
            x = (lo + hi) / 2
        x = min(max(x, x0), x1)
        worst = max(worst, curve_quality(curve, x) - (q0 + slope * (x - x0)))
    return worst


# --------------------------------------------------------------------------- portfolio LP


@dataclass(frozen=True)
class Solution:
    """One LP solve (chords or tangents) with the least-spend tie-break."""

    feasible: bool
    objective: float
    """The LP's optimum in the mode's own sense (weighted value, net value or spend)."""
    allocation: tuple[float, ...]
    spend: float


class _Builder:
    """Rows of A_ub x <= b_ub collected as triplets."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs: list[float] = []
        self._cache: tuple[int, int, sparse.csr_array, np.ndarray] | None = None

    def add(self, coefficients: dict[int, float], rhs: float) -> None:
        self._cache = None
        row = len(self.rhs)
        for col, val in coefficients.items():
            self.rows.append(row)
            self.cols.append(col)
            self.vals.append(val)
        self.rhs.append(rhs)

    def add_lines(self, e: int, x: int, a: np.ndarray, b: np.ndarray) -> None:
        """e <= a_k + b_k x for every k (the lines of a curve), in bulk."""
        self._cache = None
        first = len(self.rhs)
        k = len(a)
        self.rows.extend(range(first, first + k))
        self.cols.extend([e] * k)
        self.vals.extend([1.0] * k)
        sloped = np.flatnonzero(b)
        self.rows.extend((first + sloped).tolist())
        self.cols.extend([x] * len(sloped))
        self.vals.extend((-b[sloped]).tolist())
        self.rhs.extend(a.tolist())

    def matrix(self, n: int) -> tuple[sparse.csr_array, np.ndarray]:
        if self._cache is None or self._cache[0] != n:
            shape = (len(self.rhs), n)
            a = sparse.csr_array((self.vals, (self.rows, self.cols)), shape=shape)
            self._cache = (n, len(self.rhs), a, np.array(self.rhs))
        return self._cache[2], self._cache[3]


class _Lp:
    """min c.z subject to the builder's rows (<= rhs) and bounds, on HiGHS's array API.

    Kept between solves: a new objective or an added row re-solves from the last basis.
    """

    def __init__(self, builder: _Builder, bounds: Sequence[tuple[float, float]]) -> None:
        self.n = len(bounds)
        a, rhs = builder.matrix(self.n)
        csc = sparse.csc_array(a)
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = len(rhs)
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.array([lo for lo, _ in bounds], dtype=float)
        lp.col_upper_ = np.array([hi for _, hi in bounds], dtype=float)
        lp.row_lower_ = np.full(len(rhs), -highspy.kHighsInf)
        lp.row_upper_ = np.asarray(rhs, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr
        lp.a_matrix_.index_ = csc.indices
        lp.a_matrix_.value_ = csc.data
        self.lower, self.upper = lp.col_lower_, lp.col_upper_
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.columns = np.arange(self.n, dtype=np.int32)

    def minimize(self, c: np.ndarray) -> tuple[np.ndarray, float] | None:
        """(solution, objective), or None when infeasible (every variable is bounded)."""
        self.highs.changeColsCost(self.n, self.columns, np.asarray(c, dtype=float))
        self.highs.run()
        status = self.highs.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kInfeasible,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"reference LP: {self.highs.modelStatusToString(status)}")
        # HiGHS may stray outside a bound by its feasibility tolerance (1e-7): clip it back.
        x = np.clip(np.array(self.highs.getSolution().col_value), self.lower, self.upper)
        return x, float(np.dot(c, x))

    def add_row(self, coefficients: dict[int, float], upper: float) -> None:
        """sum coefficients * z <= upper."""
        cols = np.array(list(coefficients), dtype=np.int32)
        vals = np.array(list(coefficients.values()), dtype=float)
        self.highs.addRow(-highspy.kHighsInf, upper, len(cols), cols, vals)


def solve_reference(
    problem: PortfolioProblem,
    *,
    side: str,
    segments: int = SEGMENTS,
    tie_tolerance: float = TIE_TOLERANCE,
) -> Solution:
    """Optimum of the scenario's LP with chord or tangent lines, least spend on ties.

    The least-spend re-solve keeps the objective within `tie_tolerance` (relative) of the
    optimum: that hair of objective may buy a visible saving where money earns little.
    """
    n, m = len(problem.touchpoints), len(problem.journeys)
    x = list(range(n))
    e = [n + t for t in range(n)]
    big_e = [2 * n + j for j in range(m)]
    size = 2 * n + m
    rows = _Builder()
    for t, tp in enumerate(problem.touchpoints):
        a, b = curve_lines(tp.curve, tp.lower, tp.upper, side=side, segments=segments)
        rows.add_lines(e[t], x[t], a, b)
    for t, u in problem.requires:
        rows.add({e[t]: 1.0, e[u]: -1.0}, 0.0)
    for j, journey in enumerate(problem.journeys):
        average = {big_e[j]: 1.0}
        for link in journey.links:
            average[e[link.touchpoint]] = average.get(e[link.touchpoint], 0.0) - link.weight
            if link.critical:
                rows.add({big_e[j]: 1.0, e[link.touchpoint]: -1.0}, 0.0)
        rows.add(average, 0.0)
    if problem.mode != "min_spend":
        rows.add(dict.fromkeys(x, 1.0), problem.budget)
    for d, cap in problem.department_caps.items():
        if problem.members[d]:
            rows.add({x[t]: 1.0 for t in problem.members[d]}, cap)
    bounds = [(tp.lower, tp.upper) for tp in problem.touchpoints] + [(0.0, 1.0)] * n
    bounds += [(j.floor if j.floor is not None else 0.0, 1.0) for j in problem.journeys]

    spend_cost = np.zeros(size)
    spend_cost[:n] = 1.0
    if problem.mode == "min_spend":
        c = spend_cost
    else:
        c = np.zeros(size)
        for j, journey in enumerate(problem.journeys):
            c[big_e[j]] = -journey.priority * journey.value
        if problem.mode == "max_net_value":
            c[:n] = 1.0
    lp = _Lp(rows, bounds)
    first = lp.minimize(c)
    if first is None:
        return Solution(False, math.nan, (), math.nan)
    if problem.mode == "min_spend":
        allocation = tuple(float(v) for v in first[0][:n])
        return Solution(True, first[1], allocation, math.fsum(allocation))
    best = -first[1]
    # Least spend among optimal allocations: keep the objective, minimize spend.
    slack = tie_tolerance * max(1.0, abs(best))
    lp.add_row({k: float(v) for k, v in enumerate(c) if v}, -(best - slack))
    second = lp.minimize(spend_cost) or first
    allocation = tuple(float(v) for v in second[0][:n])
    return Solution(True, best, allocation, math.fsum(allocation))


@dataclass(frozen=True)
class Reference:
    """The true optimum of a scenario, bracketed by a chord LP and a tangent LP."""

    problem: PortfolioProblem
    chord: Solution
    tangent: Solution
    exact: bool

    @property
    def feasible(self) -> bool | None:
        """True/False when the chords/tangents settle it; None when only the curves' fine
        detail decides (chord LP infeasible, tangent LP feasible)."""
        if self.chord.feasible:
            return True
        if not self.tangent.feasible:
            return False
        return None

    @property
    def lower(self) -> float:
        """Lower bound of the true optimal objective (true curves; -inf/+inf when there is
        no feasible allocation to show, for the max/min modes)."""
        if self.problem.mode == "min_spend":
            return self.tangent.objective if self.tangent.feasible else math.inf
        if not self.chord.feasible:
            return -math.inf
        return true_objective(self.problem, self.chord.allocation)

    @property
    def upper(self) -> float:
        """Upper bound of the true optimal objective (-inf/+inf likewise)."""
        if self.problem.mode == "min_spend":
            return self.chord.spend if self.chord.feasible else math.inf
        return self.tangent.objective if self.tangent.feasible else -math.inf

    @property
    def allocation(self) -> tuple[float, ...]:
        """A truly feasible allocation at the lower bound (the optimum when exact)."""
        return self.chord.allocation

    @property
    def least_spend(self) -> float:
        """Least spend among optimal allocations (exact problems only)."""
        return self.chord.spend


def least_spend_range(
    problem: PortfolioProblem, *, tie_tolerance: float = 1e-7
) -> tuple[float, float]:
    """Least spend of an exact problem at its optimum, and when giving away `tie_tolerance`.

    An optimizer's least-spend tie-break keeps the objective within some small tolerance of
    the optimum; its spend lies in this range when that tolerance is at most `tie_tolerance`
    (relative). Where money earns little near the optimum the range is wide, elsewhere narrow.
    """
    if problem.mode == "min_spend":
        spend = solve_reference(problem, side="chord").spend
        return spend, spend
    low = solve_reference(problem, side="chord", tie_tolerance=tie_tolerance).spend
    high = solve_reference(problem, side="chord", tie_tolerance=0.0).spend
    return low, high


def reference_optimum(problem: PortfolioProblem, *, segments: int = SEGMENTS) -> Reference:
    """Solve the scenario independently: chords (lower bound) and tangents (upper bound)."""
    chord = solve_reference(problem, side="chord", segments=segments)
    exact = is_exact(problem)
    tangent = chord if exact else solve_reference(problem, side="tangent", segments=segments)
    return Reference(problem, chord, tangent, exact)


# --------------------------------------------------------------------------- silo baseline


def silo_allotments(problem: PortfolioProblem) -> list[float]:
    """Each department's allotment of the total budget (DOMAIN.md, silo baseline).

    Caps (the scenario's caps, whether or not the scenario pools them: the silo *is* the
    departments) scaled down in proportion when they add up to more than the budget; the
    departments without a cap share the rest in proportion to their current spend, equally
    when none has any.
    """
    budget = problem.budget
    caps = [d.cap for d in problem.departments]
    total_caps = math.fsum(c for c in caps if c is not None)
    scale = budget / total_caps if total_caps > budget else 1.0
    allotments = [c * scale if c is not None else 0.0 for c in caps]
    rest = max(0.0, budget - math.fsum(allotments))
    uncapped = [d for d, c in enumerate(caps) if c is None]
    current = {
        d: math.fsum(problem.touchpoints[t].current_spend for t in problem.members[d])
        for d in uncapped
    }
    total_current = math.fsum(current.values())
    for d in uncapped:
        share = current[d] / total_current if total_current > 0 else 1.0 / len(uncapped)
        allotments[d] = rest * share
    return allotments


@dataclass(frozen=True)
class DepartmentSilo:
    allotment: float
    limit: float
    """What the department may spend: its allotment, or its touchpoints' lower spends if more."""
    quality: float
    """Optimal sum of its touchpoints' curve qualities (chords: a lower bound)."""
    quality_upper: float
    """Upper bound of that optimum (tangents; equal to `quality` when exact)."""
    spend: float
    """Least spend at (within 1e-9 of) that optimum."""
    spend_at_optimum: float
    """Least spend keeping the optimum exactly (an upper bound of any least spend)."""
    exact: bool


@dataclass(frozen=True)
class Silo:
    allotments: tuple[float, ...]
    departments: tuple[DepartmentSilo, ...]
    allocation: tuple[float, ...]
    value: float
    weighted_value: float
    spend: float


def _department_lp(
    problem: PortfolioProblem,
    members: Sequence[int],
    limit: float,
    side: str,
    segments: int,
) -> tuple[np.ndarray, _Builder, list[tuple[float, float]]]:
    """Variables x (k) then c (k): c_t <= lines of t's curve, sum x <= limit."""
    k = len(members)
    rows = _Builder()
    for i, t in enumerate(members):
        tp = problem.touchpoints[t]
        a, b = curve_lines(tp.curve, tp.lower, tp.upper, side=side, segments=segments)
        rows.add_lines(k + i, i, a, b)
    rows.add(dict.fromkeys(range(k), 1.0), limit)
    bounds = [(problem.touchpoints[t].lower, problem.touchpoints[t].upper) for t in members]
    bounds += [(0.0, 1.0)] * k
    c = np.zeros(2 * k)
    c[k:] = -1.0
    return c, rows, bounds


def _department_silo(
    problem: PortfolioProblem, members: Sequence[int], allotment: float, segments: int
) -> tuple[DepartmentSilo, list[float]]:
    k = len(members)
    if not k:
        return DepartmentSilo(allotment, allotment, 0.0, 0.0, 0.0, 0.0, True), []
    lowers = math.fsum(problem.touchpoints[t].lower for t in members)
    limit = max(allotment, lowers)
    c, rows, bounds = _department_lp(problem, members, limit, "chord", segments)
    lp = _Lp(rows, bounds)
    first = lp.minimize(c)
    assert first is not None, "a department's silo LP is always feasible"
    quality = -first[1]
    spend_cost = np.zeros(2 * k)
    spend_cost[:k] = 1.0
    spends = []
    # Least spend keeping the quality within the tie tolerance, then keeping it exactly.
    for tie in (TIE_TOLERANCE, 0.0):
        lp.add_row(dict.fromkeys(range(k, 2 * k), -1.0), -(quality - tie * max(1.0, quality)))
        solution = lp.minimize(spend_cost) or first
        spends.append([float(v) for v in solution[0][:k]])
    allocation = spends[0]
    exact = all(
        problem.touchpoints[t].curve.is_points
        or problem.touchpoints[t].lower >= problem.touchpoints[t].upper
        for t in members
    )
    if exact:
        upper = quality
    else:
        ct, rows_t, bounds_t = _department_lp(problem, members, limit, "tangent", segments)
        tangent = _Lp(rows_t, bounds_t).minimize(ct)
        assert tangent is not None, "a department's silo LP is always feasible"
        upper = -tangent[1]
    silo = DepartmentSilo(
        allotment, limit, quality, upper, math.fsum(allocation), math.fsum(spends[1]), exact
    )
    return silo, allocation


def silo_allocation(problem: PortfolioProblem, *, segments: int = SEGMENTS) -> Silo:
    """The silo baseline: each department maximizes its own curve qualities in its allotment.

    Blind to journeys and dependencies, never below the scenario's lower spends (min spends,
    locks, excludes), least spend on ties; then valued with the portfolio's formula.
    """
    allotments = silo_allotments(problem)
    allocation = [0.0] * len(problem.touchpoints)
    departments = []
    for d, members in enumerate(problem.members):
        silo, spends = _department_silo(problem, members, allotments[d], segments)
        departments.append(silo)
        for t, x in zip(members, spends, strict=True):
            allocation[t] = x
    ev = evaluate(problem, allocation)
    return Silo(
        tuple(allotments),
        tuple(departments),
        tuple(allocation),
        ev.value,
        ev.weighted_value,
        math.fsum(allocation),
    )


def silo_weighted_value_range(
    problem: PortfolioProblem, *, rel_tol: float = 1e-3, segments: int = SEGMENTS
) -> tuple[float, float]:
    """Range of the silo baseline's weighted value over every near-optimal silo allocation.

    Each department's near-optimal set: allocations whose sum of chord qualities is within
    `rel_tol` (relative) plus the chord error of its optimum; exact departments (points
    curves) also keep the least spend. It holds the true silo allocation (ties included) and
    any allocation an approximating optimizer may pick. The portfolio value is nondecreasing
    in every spend, so evaluating the lowest and the highest spend of every touchpoint over
    that set bounds the value.
    """
    allotments = silo_allotments(problem)
    low = [0.0] * len(problem.touchpoints)
    high = [0.0] * len(problem.touchpoints)
    for d, members in enumerate(problem.members):
        if not members:
            continue
        k = len(members)
        silo, _ = _department_silo(problem, members, allotments[d], segments)
        _, rows, bounds = _department_lp(problem, members, silo.limit, "chord", segments)
        quality_row = dict.fromkeys(range(k, 2 * k), -1.0)
        spend_row = dict.fromkeys(range(k), 1.0)
        if silo.exact:
            # Points curves are exact: only ties remain, and they keep the least spend.
            slack, spend_cap = 0.0, silo.spend_at_optimum
        else:
            # Any allocation within rel_tol of the true optimum has a chord quality at most
            # rel_tol + the largest chord error below the chord optimum.
            error = math.fsum(
                chord_error(problem.touchpoints[t].curve, *bounds[i], segments)
                for i, t in enumerate(members)
            )
            slack, spend_cap = rel_tol * max(1.0, silo.quality_upper) + error, math.inf
        # A hair of room keeps the LP clear of HiGHS's feasibility tolerance; where a
        # department's money buys very little quality, that hair must grow.
        for hair in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
            lp = _Lp(rows, bounds)
            lp.add_row(quality_row, -(silo.quality - slack - hair * max(1.0, silo.quality)))
            if spend_cap < math.inf:
                lp.add_row(spend_row, spend_cap + hair * max(1.0, spend_cap))
            ranges = []
            for i in range(k):
                unit = np.zeros(2 * k)
                unit[i] = 1.0
                ranges.append((lp.minimize(unit), lp.minimize(-unit)))
            if all(lo is not None and hi is not None for lo, hi in ranges):
                break
        else:
            raise RuntimeError(f"silo range LP infeasible in department {d}")
        for i, t in enumerate(members):
            (lowest, _), (highest, _) = ranges[i]  # type: ignore[misc]
            low[t], high[t] = float(lowest[i]), float(highest[i])
    return evaluate(problem, low).weighted_value, evaluate(problem, high).weighted_value
