"""The linear program of the journey portfolio (shared/DOMAIN.md, "The model").

Sets
    T touchpoints, J journeys, D departments; L_j the links of journey j, C_j its
    critical links; R the dependencies (t, u): t requires u; K_t the lines of t's curve.

Parameters
    lo_t, hi_t   spend bounds after the scenario (locks fix both, excludes pin to min_spend)
    a_tk, b_tk   line k of t's curve: q <= a_tk + b_tk * x (chords for saturating curves)
    w'_jt        normalized link weights, sum_t w'_jt = 1
    v_j, p_j     journey value at quality 1.0 and priority; f_j optional floor
    B, c_d       total budget and department caps (caps dropped when pooled)
    S            money scale: spends enter the model as x / S, money as money / S, so the
                 coefficients stay near 1 (a slope of 2e-6 per EUR becomes 0.2 per S)

Variables
    x_t in [lo_t, hi_t]   spend (scaled by S)
    q_t in [0, 1]         quality of t's own curve
    e_t in [0, 1]         effective quality (only for touchpoints that require others;
                          elsewhere e_t is q_t)
    E_j in [0, 1]         experience quality of journey j

Constraints
    (1) curve_t_k       q_t <= a_tk + b_tk x_t                  for k in K_t
    (2) effective_t     e_t <= q_t
        requires_t_u    e_t <= e_u                              for (t, u) in R
    (3) journey_j       E_j <= sum_{t in L_j} w'_jt e_t
        critical_j_t    E_j <= e_t                              for t in C_j
    (4) floor_j         E_j >= f_j
    (5) budget          sum_t x_t <= B                          (not in min_spend mode)
    (6) department_d    sum_{t in d} x_t <= c_d                 (unless pooled)

Objective (in money / S)
    max_value       max sum_j p_j v_j E_j - eps sum_t x_t
    max_net_value   max sum_j p_j v_j E_j - (1 + eps) sum_t x_t
    min_spend       min sum_t x_t - delta sum_j p_j v_j E_j
    eps = 1e-7 sum_j p_j v_j and delta = 1e-7 sum_t hi_t / sum_j p_j v_j (scaled) break
    ties: among optimal allocations the least spend (money worth less than 1e-7 of the
    portfolio's value range per unit creates "no value" and stays unallocated); in
    min_spend mode, among least-spend allocations the most valuable one.

Because the curves are concave and E_j only appears capped from above, maximization
pushes every q, e and E up to the minimum of its caps: the LP computes exactly the
weakest-link, dependency-capped quality of DOMAIN.md.

Example (worked by hand, also a test): one journey, value 1000, two touchpoints a, b with
weights 1:1, points curves a: [[0, 0], [10, 1]], b: [[0, 0], [10, 0.5]], b critical,
budget 10. E = min((qa + qb) / 2, qb): below qa, b is the cap and only b counts; above
qa, a raises the average faster. The optimum makes them equal: xa = 10/3, xb = 20/3,
qa = qb = 1/3, E = 1/3, value 333.33.

The model is built in PuLP (variables, constraints, objective) and, row by row as it is
built, also recorded as the sparse arrays HiGHS takes (`ModelArrays`), so the solver can
receive it in one call instead of a Python loop over PuLP's rows. The tens of thousands
of chord rows of a large portfolio carry no names (PuLP names them _C<n>): a name costs a
third of a row's build time; every other constraint is named.
"""

from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp

from optimizer.curves import (
    DEFAULT_TOLERANCE,
    Lines,
    chord_integral,
    lines_for,
    saturating_lines_batch,
)
from optimizer.evaluate import requirements, topological_order
from optimizer.problem import PortfolioProblem

MIN_TOLERANCE = 1e-6
MAX_TOLERANCE = 0.02
"""Bounds on a chord's error (in quality) whatever a touchpoint's importance."""

TIE_BREAK = 1e-7
"""Relative weight of the tie-breaking term (least spend; in min_spend mode, most value)."""

LE = pulp.const.LpConstraintLE
GE = pulp.const.LpConstraintGE
INF = float("inf")


@dataclass
class ModelArrays:
    """The LP as HiGHS takes it: columns by PuLP variable id, rows in PuLP's order."""

    col_lower: list[float] = field(default_factory=list)
    col_upper: list[float] = field(default_factory=list)
    col_cost: np.ndarray | None = None
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)


@dataclass
class BuiltModel:
    """The PuLP problem, the same LP as arrays, and where everything is in it."""

    prob: pulp.LpProblem
    scale: float
    spend: dict[int, pulp.LpVariable]
    quality: dict[int, pulp.LpVariable]
    effective: dict[int, pulp.LpVariable]
    experience: dict[int, pulp.LpVariable]
    lines: list[Lines | None]
    relevant: list[bool]
    """Touchpoints whose quality matters (linked by a journey, or required by one that is)."""
    arrays: ModelArrays = field(default_factory=ModelArrays)
    curve_rows: dict[int, list[int]] = field(default_factory=dict)
    """Row ids of each touchpoint's curve lines, in line order."""
    budget_row: int | None = None
    department_rows: dict[int, int] = field(default_factory=dict)
    floor_rows: dict[int, int] = field(default_factory=dict)
    objective_terms: list[tuple[pulp.LpVariable, float]] = field(default_factory=list)
    tie_break: float = 0.0
    """Most the tie-breaking term can move the objective, in money."""
    rows: int = 0

    def add_variable(self, name: str, low: float, up: float) -> pulp.LpVariable:
        var = self.prob.add_variable(name, low, up)
        assert var.id == len(self.arrays.col_lower), "columns are variable ids"
        self.arrays.col_lower.append(low)
        self.arrays.col_upper.append(up)
        return var

    def add_row(
        self,
        terms: list[tuple[pulp.LpVariable, float]],
        sense: int,
        rhs: float,
        name: str | None = None,
    ) -> int:
        """Add `sum(coef * var) <sense> rhs` to both PuLP and the arrays; its row id."""
        expr = pulp.LpAffineExpression.from_list(terms, constant=-rhs, name=name)
        expr.sense = sense
        row = self.prob.addConstraint(expr).id
        arrays = self.arrays
        arrays.starts.append(len(arrays.index))
        arrays.index.extend(var.id for var, _ in terms)
        arrays.value.extend(coef for _, coef in terms)
        arrays.row_lower.append(rhs if sense == GE else -INF)
        arrays.row_upper.append(rhs if sense == LE else INF)
        self.rows += 1
        return row

    @property
    def highs(self) -> highspy.Highs:
        """The HiGHS instance PuLP solved this model with."""
        highs = self.prob.solverModel
        assert highs is not None, "solve the model first"
        return highs

    def chord_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row ids, tangent lifts and touchpoints of every curve line that approximates
        (saturating chords), as arrays: the approximation gap is sum |dual| * lift."""
        cached = self.__dict__.get("_chords")
        if cached is None:
            rows: list[int] = []
            deltas: list[float] = []
            owners: list[int] = []
            for t, ids in self.curve_rows.items():
                lines = self.lines[t]
                if lines is None or not any(lines.deltas):
                    continue
                rows.extend(ids)
                deltas.extend(lines.deltas)
                owners.extend([t] * len(ids))
            cached = (
                np.array(rows, dtype=int),
                np.array(deltas, dtype=float),
                np.array(owners, dtype=int),
            )
            self.__dict__["_chords"] = cached
        return cached

    def eff(self, t: int) -> pulp.LpVariable:
        return self.effective.get(t, self.quality[t])


def money_scale(problem: PortfolioProblem) -> float:
    """A power of ten near the largest spend bound, so scaled spends are O(1..10)."""
    biggest = max([tp.upper for tp in problem.touchpoints] + [problem.budget, 1.0])
    scale = 1.0
    while scale * 10 <= biggest:
        scale *= 10
    return scale


def relevant_touchpoints(problem: PortfolioProblem) -> list[bool]:
    relevant = [False] * len(problem.touchpoints)
    for journey in problem.journeys:
        for link in journey.links:
            relevant[link.touchpoint] = True
    requires = requirements(problem)
    stack = [t for t, r in enumerate(relevant) if r]
    while stack:
        t = stack.pop()
        for u in requires[t]:
            if not relevant[u]:
                relevant[u] = True
                stack.append(u)
    return relevant


def build_model(
    problem: PortfolioProblem,
    *,
    breakpoints: dict[int, list[float]] | None = None,
    tolerance: float | None = None,
    value_estimate: float | None = None,
    gap_target: float = 1e-3,
) -> BuiltModel:
    """Build the LP of a resolved problem; `breakpoints` override saturating curves' chords,
    `value_estimate` (e.g. the current allocation's weighted value) sizes them by
    importance, else every chord aims at `tolerance`."""
    sense = pulp.LpMinimize if problem.mode == "min_spend" else pulp.LpMaximize
    prob = pulp.LpProblem("journey_portfolio", sense)
    built = BuiltModel(
        prob=prob,
        scale=money_scale(problem),
        spend={},
        quality={},
        effective={},
        experience={},
        lines=[None] * len(problem.touchpoints),
        relevant=relevant_touchpoints(problem),
    )
    define_spend(built, problem)
    built.lines = curve_lines(
        problem, built.relevant, breakpoints or {}, tolerance, value_estimate, gap_target
    )
    define_response_curves(built, problem)
    define_dependencies(built, problem)
    define_journey_experience(built, problem)
    define_budgets(built, problem)
    define_objective(built, problem)
    return built


def define_spend(built: BuiltModel, problem: PortfolioProblem) -> None:
    scale = built.scale
    for t, tp in enumerate(problem.touchpoints):
        built.spend[t] = built.add_variable(f"spend_{t}", tp.lower / scale, tp.upper / scale)


def importance(problem: PortfolioProblem) -> np.ndarray:
    """The most weighted value one unit of quality of each touchpoint can move: its share
    of every journey it serves (all of it where it is critical), passed on to what it
    requires."""
    weight = np.zeros(len(problem.touchpoints))
    for journey in problem.journeys:
        value = journey.priority * journey.value
        for link in journey.links:
            weight[link.touchpoint] += value * (1.0 if link.critical else link.weight)
    requires = requirements(problem)
    # dependents before what they require
    for t in reversed(topological_order(problem)):
        for u in requires[t]:
            weight[u] += weight[t]
    return weight


def chord_tolerances(
    problem: PortfolioProblem, batch: list[int], value_estimate: float, gap_target: float
) -> np.ndarray:
    """Chord error per saturating curve so that sum_t importance_t * error_t stays within
    the gap target of the estimated value (importance is an upper bound of each curve's
    dual, so the realized gap is about half of that), with the fewest chords: minimizing
    sum_t L_t / sqrt(error_t) subject to that sum gives error_t ~ (L_t / importance_t)^(2/3).
    A touchpoint that carries little value gets coarse chords; a moment of truth of a big
    journey gets fine ones."""
    tps = problem.touchpoints
    lengths = chord_integral(
        [tps[t].curve for t in batch], [tps[t].lower for t in batch], [tps[t].upper for t in batch]
    )
    weights = importance(problem)[batch]
    budget = gap_target * value_estimate
    usable = (weights > 0) & (lengths > 0)
    tolerance = np.full(len(batch), MAX_TOLERANCE)
    if budget <= 0 or not usable.any():
        return np.full(len(batch), DEFAULT_TOLERANCE)
    shape = (lengths[usable] / weights[usable]) ** (2 / 3)
    scale = budget / float((weights[usable] * shape).sum())
    tolerance[usable] = np.clip(scale * shape, MIN_TOLERANCE, MAX_TOLERANCE)
    return tolerance


def curve_lines(
    problem: PortfolioProblem,
    relevant: list[bool],
    breakpoints: dict[int, list[float]],
    tolerance: float | None,
    value_estimate: float | None = None,
    gap_target: float = 1e-3,
) -> list[Lines | None]:
    """The lines of every relevant touchpoint's curve (saturating ones in one numpy batch).
    With a value estimate, each saturating curve gets the chord error its importance
    allows (`chord_tolerances`); otherwise all get `tolerance`."""
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    out: list[Lines | None] = [None] * len(problem.touchpoints)
    batch = []
    for t, tp in enumerate(problem.touchpoints):
        if not relevant[t]:
            continue
        c = tp.curve
        if c.points is None and t not in breakpoints and tp.upper > tp.lower and c.top > c.base:
            batch.append(t)
        else:
            out[t] = lines_for(c, tp.lower, tp.upper, tolerance=tol, breakpoints=breakpoints.get(t))
    tps = problem.touchpoints
    tolerances: float | np.ndarray = tol
    if value_estimate is not None and tolerance is None and batch:
        tolerances = chord_tolerances(problem, batch, value_estimate, gap_target)
    lines = saturating_lines_batch(
        [tps[t].curve for t in batch],
        [tps[t].lower for t in batch],
        [tps[t].upper for t in batch],
        tolerances,
    )
    for t, line in zip(batch, lines, strict=True):
        out[t] = line
    return out


def define_response_curves(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(1) q_t <= a_tk + b_tk x_t; a fixed spend becomes an upper bound on q_t."""
    scale = built.scale
    for t, lines in enumerate(built.lines):
        if lines is None:
            continue
        if len(lines) == 1 and lines.slopes[0] == 0:
            top = min(1.0, max(0.0, lines.intercepts[0]))
            built.quality[t] = built.add_variable(f"quality_{t}", 0.0, top)
            continue
        q = built.quality[t] = built.add_variable(f"quality_{t}", 0.0, 1.0)
        x = built.spend[t]
        built.curve_rows[t] = [
            built.add_row([(q, 1.0), (x, -slope * scale)], LE, intercept)
            for slope, intercept in zip(lines.slopes, lines.intercepts, strict=True)
        ]


def define_dependencies(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(2) e_t <= q_t and e_t <= e_u for every requirement (t, u)."""
    requires: dict[int, list[int]] = {}
    for t, u in problem.requires:
        if built.relevant[t]:
            requires.setdefault(t, []).append(u)
    for t in requires:
        e = built.effective[t] = built.add_variable(f"effective_{t}", 0.0, 1.0)
        built.add_row([(e, 1.0), (built.quality[t], -1.0)], LE, 0.0, f"effective_{t}")
    for t, us in requires.items():
        for u in us:
            built.add_row(
                [(built.effective[t], 1.0), (built.eff(u), -1.0)], LE, 0.0, f"requires_{t}_{u}"
            )


def define_journey_experience(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(3) E_j <= weighted average and E_j <= every critical touchpoint; (4) floors."""
    for j, journey in enumerate(problem.journeys):
        experience = built.experience[j] = built.add_variable(f"experience_{j}", 0.0, 1.0)
        terms = [(experience, 1.0)]
        terms += [(built.eff(link.touchpoint), -link.weight) for link in journey.links]
        built.add_row(terms, LE, 0.0, f"journey_{j}")
        for link in journey.links:
            if link.critical:
                built.add_row(
                    [(experience, 1.0), (built.eff(link.touchpoint), -1.0)],
                    LE,
                    0.0,
                    f"critical_{j}_{link.touchpoint}",
                )
        if journey.floor is not None and journey.floor > 0:
            built.floor_rows[j] = built.add_row(
                [(experience, 1.0)], GE, journey.floor, f"floor_{j}"
            )


def define_budgets(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(5) the total budget (except in min_spend mode) and (6) department caps."""
    scale = built.scale
    if problem.mode != "min_spend":
        terms = [(x, 1.0) for x in built.spend.values()]
        built.budget_row = built.add_row(terms, LE, problem.budget / scale, "budget")
    for d, cap in problem.department_caps.items():
        members = problem.members[d]
        if not members:
            continue
        terms = [(built.spend[t], 1.0) for t in members]
        built.department_rows[d] = built.add_row(terms, LE, cap / scale, f"department_{d}")


def define_objective(built: BuiltModel, problem: PortfolioProblem) -> None:
    """The mode's objective, plus a tie-breaking term too small to trade real value for:
    maximizing, every unit of spend costs `TIE_BREAK` of the portfolio's value range, so
    money that creates no value stays unallocated; in min_spend mode a bonus of the same
    relative size prefers, among least-spend allocations, the most valuable one."""
    scale = built.scale
    weights = {
        j: journey.priority * journey.value / scale
        for j, journey in enumerate(problem.journeys)
        if journey.priority * journey.value > 0
    }
    value_range = sum(weights.values())
    if problem.mode == "min_spend":
        spend_range = sum(tp.upper for tp in problem.touchpoints) / scale
        bonus = TIE_BREAK * spend_range / value_range if value_range > 0 else 0.0
        terms = [(x, 1.0) for x in built.spend.values()]
        terms += [(built.experience[j], -bonus * w) for j, w in weights.items()]
        built.tie_break = bonus * value_range * scale
    else:
        penalty = TIE_BREAK * max(value_range, 1.0)
        cost = penalty + (1.0 if problem.mode == "max_net_value" else 0.0)
        terms = [(built.experience[j], w) for j, w in weights.items()]
        terms += [(x, -cost) for x in built.spend.values()]
        built.tie_break = penalty * sum(tp.upper for tp in problem.touchpoints)
    built.objective_terms = terms
    built.prob.setObjective(pulp.LpAffineExpression.from_list(terms))
    costs = np.zeros(len(built.arrays.col_lower))
    for var, coef in terms:
        costs[var.id] += coef
    built.arrays.col_cost = costs
