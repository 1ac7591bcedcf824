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
    (7) value_floor     sum_j p_j v_j E_j >= W                  (a kept weighted value)
    (S1-S6)             an S-shaped curve (hill shape > 1, or points whose slopes rise then
                        fall) whose spend range reaches into its convex start: chord
                        segments of the convex start in delta form with one binary each,
                        the last one gating the concave tail, whose chord rows (1) stay
                        continuous (`define_s_curves`). Only these touchpoints get
                        binaries; without them the model is the LP above, unchanged.

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

The model is built once, in PuLP, in named blocks of rows (`Blocks`: curve, effective,
requires, journey, critical, floor, budget, department), and solved with PuLP's HiGHS
interface as shipped. Duals and slacks are read by block and key. Later solves of the same
model (refined chords, price refinement, frontier budgets, the knee) edit it in place
through `LiveModel`: each edit goes to the PuLP model and, through documented highspy
calls, to the HiGHS instance PuLP solved it with (`prob.solverModel`), which then re-solves
warm. The tens of thousands of chord rows of a large portfolio carry no names (PuLP names
them _C<n>): a name costs a third of a row's build time; every other row is named.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp

from optimizer.curves import (
    DEFAULT_TOLERANCE,
    ConvexStart,
    Lines,
    chord_integral,
    convex_start,
    envelope_lines,
    evaluate,
    lines_for,
    s_shaped_on,
    saturating_lines_batch,
)
from optimizer.evaluate import requirements, topological_order
from optimizer.objective import Objective, objective_for
from optimizer.problem import PortfolioProblem

MIN_TOLERANCE = 1e-6
MAX_TOLERANCE = 0.02
"""Bounds on a chord's error (in quality) whatever a touchpoint's importance."""

LARGE_MODEL_ROWS = 60_000
"""From this many rows on, the interior point method beats dual simplex by far."""

LE = pulp.const.LpConstraintLE
GE = pulp.const.LpConstraintGE
EQ = pulp.const.LpConstraintEQ
INF = highspy.kHighsInf

REDUNDANT = 2.0
"""Right-hand side that takes a curve row out of play: q - b x <= 2 holds for any q <= 1."""

Row = pulp.LpConstraint
Terms = list[tuple[pulp.LpVariable, float]]


@dataclass
class Blocks:
    """The model's rows by family and key (the numbers of the module docstring)."""

    curve: dict[int, list[Row]] = field(default_factory=dict)
    """(1) the lines of each touchpoint's curve, in line order."""
    effective: dict[int, Row] = field(default_factory=dict)
    """(2) e_t <= q_t."""
    requires: dict[tuple[int, int], Row] = field(default_factory=dict)
    """(2) e_t <= e_u."""
    journey: dict[int, Row] = field(default_factory=dict)
    """(3) E_j <= weighted average."""
    critical: dict[tuple[int, int], Row] = field(default_factory=dict)
    """(3) E_j <= e_t for a critical link."""
    floor: dict[int, Row] = field(default_factory=dict)
    """(4) E_j >= f_j."""
    budget: Row | None = None
    """(5) the total budget."""
    department: dict[int, Row] = field(default_factory=dict)
    """(6) department caps."""
    value_floor: Row | None = None
    """(7) sum_j p_j v_j E_j >= W (only when the problem keeps a weighted value)."""


@dataclass
class SPart:
    """The convex start of an S-shaped touchpoint's curve in the model (S1-S5): fill
    variables per chord segment, their binaries, the concave tail's spend and the rows."""

    turn: float
    """Spend where the convex start ends and the concave tail begins (money)."""
    start: ConvexStart
    fills: list[pulp.LpVariable]
    gates: list[pulp.LpVariable]
    """gates[k] = 1: segment k is full; the last one is "past the start" (the tail is open)."""
    tail: pulp.LpVariable
    convex: Row
    """(S5) q_t below the lowered chords of the convex start while the tail is shut."""
    filled: int | None = None
    """How many segments the optimum fills (set when the binaries are fixed)."""

    @property
    def past_start(self) -> bool:
        return self.filled == len(self.start)

    def active_slope(self) -> float:
        """The slope of the segment the spend moves on while the binaries stay fixed."""
        assert self.filled is not None
        return self.start.model_slopes[min(self.filled, len(self.start) - 1)]


@dataclass
class BuiltModel:
    """The PuLP problem and where everything is in it."""

    prob: pulp.LpProblem
    objective: Objective
    scale: float
    spend: dict[int, pulp.LpVariable]
    quality: dict[int, pulp.LpVariable]
    effective: dict[int, pulp.LpVariable]
    experience: dict[int, pulp.LpVariable]
    lines: list[Lines | None]
    relevant: list[bool]
    """Touchpoints whose quality matters (linked by a journey, or required by one that is)."""
    blocks: Blocks = field(default_factory=Blocks)
    s_parts: dict[int, SPart] = field(default_factory=dict)
    """S-shaped touchpoints (the only ones with binaries); empty: the model is an LP."""
    envelope: bool = False
    """S-shaped curves replaced by their concave envelopes (an LP bound, no binaries)."""
    objective_terms: Terms = field(default_factory=list)
    tie_break: float = 0.0
    """Most the tie-breaking term can move the objective, in money."""

    @property
    def rows(self) -> int:
        return self.prob.numConstraints()

    def add_row(self, terms: Terms, sense: int, rhs: float, name: str | None = None) -> Row:
        """Add `sum(coef * var) <sense> rhs` to the model."""
        expr = pulp.LpAffineExpression.from_list(terms, constant=-rhs, name=name)
        expr.sense = sense
        return self.prob.addConstraint(expr)

    def eff(self, t: int) -> pulp.LpVariable:
        return self.effective.get(t, self.quality[t])

    def chord_rows(self) -> tuple[list[Row], np.ndarray, np.ndarray]:
        """Every curve line that approximates (saturating chords), its tangent lift and its
        touchpoint: the approximation gap is sum |dual| * lift."""
        rows: list[Row] = []
        deltas: list[float] = []
        owners: list[int] = []
        for t, block in self.blocks.curve.items():
            lines = self.lines[t]
            if lines is None or not any(lines.deltas):
                continue
            part = self.s_parts.get(t)
            if part is not None and part.filled is not None and not part.past_start:
                continue  # an S-curve held on its convex start: its tail lines are not in play
            rows.extend(block)
            deltas.extend(lines.deltas)
            owners.extend([t] * len(block))
        return rows, np.array(deltas, dtype=float), np.array(owners, dtype=int)


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
    envelope: bool = False,
) -> BuiltModel:
    """Build the LP of a resolved problem; `breakpoints` override saturating curves' chords,
    `value_estimate` (e.g. the current allocation's weighted value) sizes them by
    importance, else every chord aims at `tolerance`. S-shaped curves make it a MIP
    (binaries on their convex starts), or with `envelope` an LP on their concave
    envelopes (a bound)."""
    objective = objective_for(problem.mode)
    sense = pulp.LpMaximize if objective.maximize else pulp.LpMinimize
    built = BuiltModel(
        prob=pulp.LpProblem("journey_portfolio", sense),
        objective=objective,
        scale=money_scale(problem),
        spend={},
        quality={},
        effective={},
        experience={},
        lines=[None] * len(problem.touchpoints),
        relevant=relevant_touchpoints(problem),
        envelope=envelope,
    )
    define_spend(built, problem)
    turns = s_turns(problem, built.relevant)
    built.lines = curve_lines(
        problem, built.relevant, breakpoints or {}, tolerance, value_estimate, gap_target, turns
    )
    if envelope:
        tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
        for t in turns:
            tp = problem.touchpoints[t]
            built.lines[t] = envelope_lines(tp.curve, tp.lower, tp.upper, tol)
        turns = {}
    define_response_curves(built, problem, skip=turns)
    define_s_curves(built, problem, turns)
    define_dependencies(built, problem)
    define_journey_experience(built, problem)
    define_budgets(built, problem)
    define_objective(built, problem)
    return built


def define_spend(built: BuiltModel, problem: PortfolioProblem) -> None:
    scale = built.scale
    for t, tp in enumerate(problem.touchpoints):
        built.spend[t] = built.prob.add_variable(f"spend_{t}", tp.lower / scale, tp.upper / scale)


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
    turns: dict[int, float] | None = None,
) -> list[Lines | None]:
    """The lines of every relevant touchpoint's curve (saturating ones in one numpy batch).
    With a value estimate, each saturating curve gets the chord error its importance
    allows (`chord_tolerances`); otherwise all get `tolerance`. An S-shaped curve (in
    `turns`) gets the lines of its concave tail only, from its turn on."""
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    out: list[Lines | None] = [None] * len(problem.touchpoints)
    batch = []
    for t, tp in enumerate(problem.touchpoints):
        if not relevant[t]:
            continue
        c = tp.curve
        if turns and t in turns:
            turn = turns[t]
            out[t] = (
                lines_for(c, turn, tp.upper, tolerance=tol, breakpoints=breakpoints.get(t))
                if turn < tp.upper
                else Lines((), (), (), ())
            )
        elif c.points is None and t not in breakpoints and tp.upper > tp.lower and c.top > c.base:
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


def curve_terms(built: BuiltModel, t: int, slope: float) -> Terms:
    return [(built.quality[t], 1.0), (built.spend[t], -slope * built.scale)]


def define_response_curves(
    built: BuiltModel, problem: PortfolioProblem, skip: dict[int, float] | None = None
) -> None:
    """(1) q_t <= a_tk + b_tk x_t; a fixed spend becomes an upper bound on q_t. S-shaped
    touchpoints (`skip`) are `define_s_curves`'s."""
    prob = built.prob
    for t, lines in enumerate(built.lines):
        if lines is None or (skip and t in skip):
            continue
        if len(lines) == 1 and lines.slopes[0] == 0:
            top = min(1.0, max(0.0, lines.intercepts[0]))
            built.quality[t] = prob.add_variable(f"quality_{t}", 0.0, top)
            continue
        built.quality[t] = prob.add_variable(f"quality_{t}", 0.0, 1.0)
        built.blocks.curve[t] = [
            built.add_row(curve_terms(built, t, slope), LE, intercept)
            for slope, intercept in zip(lines.slopes, lines.intercepts, strict=True)
        ]


def s_turns(problem: PortfolioProblem, relevant: list[bool]) -> dict[int, float]:
    """Relevant touchpoints whose curve is S-shaped within their spend range, with the
    spend where the convex start ends."""
    out = {}
    for t, tp in enumerate(problem.touchpoints):
        if relevant[t]:
            turn = s_shaped_on(tp.curve, tp.lower, tp.upper)
            if turn is not None:
                out[t] = turn
    return out


def define_s_curves(
    built: BuiltModel,
    problem: PortfolioProblem,
    turns: dict[int, float],
) -> None:
    """(S1-S6) An S-shaped curve, incremental (delta) form: chord segments k = 1..K of the
    convex start [lo_t, turn_t] with lengths L_k and slopes s_k, fills d_k in [0, L_k],
    binaries z_k (segment k full), and the tail's spend y_t in [0, hi_t - turn_t]:

        (S1) s_spend_t    x_t = lo_t + sum_k d_k + y_t
        (S2) s_full_t_k   d_k >= L_k z_k                      segment k full when z_k = 1
        (S3) s_order_t_k  d_k <= L_k z_{k-1}                  only once segment k-1 is full
        (S4) s_tail_t     y_t <= (hi_t - turn_t) z_K          the tail opens past the start
        (S5) s_convex_t   q_t <= q(lo_t) + sum_k s'_k d_k + sum_k c_k z_k + M z_K
        (1') tail lines   q_t <= a_tk + b_tk x_t + M_k (1 - z_K)

    The chords of a convex piece lie above it, so (S5) uses on segment k >= 2 its chord
    lowered by the chord's lift e_k, and on the first segment the tangent at lo_t (slope
    s'_1 = q'(lo_t), exact where a touchpoint that gets nothing sits): the model never
    promises quality the curve does not give, and is exact at every breakpoint it leaves
    full. In delta form that is s'_k = s_k for k >= 2 and steps c_k = e_k - e_{k+1}
    (c_1 makes up the first segment's tangent, c_K ends exactly at q(turn); see
    `ConvexStart.steps`). Big-M terms switch (S5) off past the start and the tail's chord
    rows (1') off before it, as tight as they can be (the LP relaxation stays close to the
    concave envelope): M = q(hi_t) - q(turn), and M_k the most q exceeds tail line k on the
    convex start (q minus a line is convex there: the larger of its two ends; mostly 0)."""
    scale = built.scale
    prob = built.prob
    for t, turn in turns.items():
        tp = problem.touchpoints[t]
        start = convex_start(tp.curve, tp.lower, turn)
        x = built.spend[t]
        q = built.quality[t] = prob.add_variable(f"quality_{t}", 0.0, 1.0)
        lengths = [
            (b - a) / scale for a, b in zip(start.breakpoints, start.breakpoints[1:], strict=False)
        ]
        fills = [prob.add_variable(f"fill_{t}_{k}", 0.0, n) for k, n in enumerate(lengths)]
        gates = [prob.add_variable(f"gate_{t}_{k}", 0, 1, cat="Binary") for k in range(len(fills))]
        reach = (tp.upper - turn) / scale
        tail = prob.add_variable(f"tail_{t}", 0.0, reach)
        terms: Terms = [(x, 1.0), *((d, -1.0) for d in fills), (tail, -1.0)]
        built.add_row(terms, EQ, tp.lower / scale, f"s_spend_{t}")
        for k, (d, z, n) in enumerate(zip(fills, gates, lengths, strict=True)):
            built.add_row([(d, 1.0), (z, -n)], GE, 0.0, f"s_full_{t}_{k}")
            if k:
                built.add_row([(d, 1.0), (gates[k - 1], -n)], LE, 0.0, f"s_order_{t}_{k}")
        built.add_row([(tail, 1.0), (gates[-1], -reach)], LE, 0.0, f"s_tail_{t}")
        # a curve convex over its whole range has no tail: its chords hold past the start
        q_turn = evaluate(tp.curve, turn)
        big = max(0.0, evaluate(tp.curve, tp.upper) - q_turn) if turn < tp.upper else 0.0
        convex_terms: Terms = [(q, 1.0)]
        convex_terms += [(d, -s * scale) for d, s in zip(fills, start.model_slopes, strict=True)]
        convex_terms += [(z, -c) for z, c in zip(gates, start.steps, strict=True)]
        convex_terms.append((gates[-1], -big))
        convex = built.add_row(convex_terms, LE, start.start_quality, f"s_convex_{t}")
        lines = built.lines[t]
        assert lines is not None
        rows = []
        q_low = start.start_quality
        for slope, intercept in zip(lines.slopes, lines.intercepts, strict=True):
            # before the turn q_t stays below the convex curve: q minus this line is convex
            # there, so its largest excess is at an end of the convex start
            m = max(
                0.0,
                q_low - (intercept + slope * tp.lower),
                q_turn - (intercept + slope * turn),
            )
            m = m * (1 + 1e-9) + 1e-12 if m > 0 else 0.0
            rows.append(
                built.add_row([*curve_terms(built, t, slope), (gates[-1], m)], LE, intercept + m)
            )
        built.blocks.curve[t] = rows
        built.s_parts[t] = SPart(turn, start, fills, gates, tail, convex)


def define_dependencies(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(2) e_t <= q_t and e_t <= e_u for every requirement (t, u)."""
    requires: dict[int, list[int]] = {}
    for t, u in problem.requires:
        if built.relevant[t]:
            requires.setdefault(t, []).append(u)
    blocks = built.blocks
    for t in requires:
        e = built.effective[t] = built.prob.add_variable(f"effective_{t}", 0.0, 1.0)
        blocks.effective[t] = built.add_row(
            [(e, 1.0), (built.quality[t], -1.0)], LE, 0.0, f"effective_{t}"
        )
    for t, us in requires.items():
        for u in us:
            blocks.requires[t, u] = built.add_row(
                [(built.effective[t], 1.0), (built.eff(u), -1.0)], LE, 0.0, f"requires_{t}_{u}"
            )


def define_journey_experience(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(3) E_j <= weighted average and E_j <= every critical touchpoint; (4) floors."""
    blocks = built.blocks
    for j, journey in enumerate(problem.journeys):
        experience = built.experience[j] = built.prob.add_variable(f"experience_{j}", 0.0, 1.0)
        terms = [(experience, 1.0)]
        terms += [(built.eff(link.touchpoint), -link.weight) for link in journey.links]
        blocks.journey[j] = built.add_row(terms, LE, 0.0, f"journey_{j}")
        for link in journey.links:
            if link.critical:
                t = link.touchpoint
                blocks.critical[j, t] = built.add_row(
                    [(experience, 1.0), (built.eff(t), -1.0)], LE, 0.0, f"critical_{j}_{t}"
                )
        if journey.floor is not None and journey.floor > 0:
            blocks.floor[j] = built.add_row([(experience, 1.0)], GE, journey.floor, f"floor_{j}")


def define_budgets(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(5) the total budget (where the mode has one) and (6) department caps."""
    scale = built.scale
    if built.objective.budget_binds:
        terms = [(x, 1.0) for x in built.spend.values()]
        built.blocks.budget = built.add_row(terms, LE, problem.budget / scale, "budget")
    for d, cap in problem.department_caps.items():
        members = problem.members[d]
        if not members:
            continue
        terms = [(built.spend[t], 1.0) for t in members]
        built.blocks.department[d] = built.add_row(terms, LE, cap / scale, f"department_{d}")
    if problem.value_floor is not None:
        terms = [
            (built.experience[j], journey.priority * journey.value / scale)
            for j, journey in enumerate(problem.journeys)
            if journey.priority * journey.value > 0
        ]
        built.blocks.value_floor = built.add_row(
            terms, GE, problem.value_floor / scale, "value_floor"
        )


def objective_terms(
    built: BuiltModel, problem: PortfolioProblem, objective: Objective
) -> tuple[Terms, float]:
    """The objective of `objective`'s mode over this model, tie-break included, and the
    most the tie-break can move it (money)."""
    scale = built.scale
    weights = {
        j: journey.priority * journey.value / scale
        for j, journey in enumerate(problem.journeys)
        if journey.priority * journey.value > 0
    }
    value_range = sum(weights.values())
    spend_range = sum(tp.upper for tp in problem.touchpoints) / scale
    per_value, per_spend = objective.tie_break_costs(value_range, spend_range)
    terms = [(built.experience[j], per_value * w) for j, w in weights.items()]
    terms += [(x, -per_spend if objective.maximize else per_spend) for x in built.spend.values()]
    if objective.maximize:
        tie_break = (per_spend - objective.spend_cost) * spend_range * scale
    else:
        tie_break = -per_value * value_range * scale
    return terms, tie_break


def define_objective(built: BuiltModel, problem: PortfolioProblem) -> None:
    """The mode's objective, plus a tie-breaking term too small to trade real value for
    (`Objective.tie_break_costs`)."""
    terms, built.tie_break = objective_terms(built, problem, built.objective)
    built.objective_terms = terms
    built.prob.setObjective(pulp.LpAffineExpression.from_list(terms))


class LiveModel:
    """A built model after PuLP solved it with HiGHS: edits go to the PuLP model and, by
    documented highspy calls, to the HiGHS instance PuLP made (`prob.solverModel`), which
    then re-solves warm from its last basis.

    PuLP's HiGHS interface passes the rows in `prob.constraints()` order (it reads a row's
    dual at the constraint's id) and the columns in `prob.exported_variables()` order; the
    maps below follow the same rule.
    """

    def __init__(self, built: BuiltModel) -> None:
        highs = built.prob.solverModel
        if not isinstance(highs, highspy.Highs):
            raise TypeError("solve the model with pulp.HiGHS first")
        self.built = built
        self.highs = highs
        self.column = {var.id: j for j, var in enumerate(built.prob.exported_variables())}
        if highs.getNumRow() != built.rows or highs.getNumCol() != len(self.column):
            raise RuntimeError("the HiGHS model does not match the PuLP model it was built from")

    def col(self, var: pulp.LpVariable) -> int:
        return self.column[var.id]

    def fix_binaries(self) -> None:
        """After a MIP solve: fix every binary at its (rounded) optimal value and make it
        continuous, so that the model is the LP of that choice (duals, warm re-solves)."""
        built = self.built
        values = np.asarray(self.highs.getSolution().col_value)
        index: list[int] = []
        fixed: list[float] = []
        for part in built.s_parts.values():
            chosen = [float(round(values[self.col(z)])) for z in part.gates]
            part.filled = int(sum(chosen))
            for z, v in zip(part.gates, chosen, strict=True):
                z.lowBound = z.upBound = v
                index.append(self.col(z))
                fixed.append(v)
        if not index:
            return
        n = len(index)
        columns = np.array(index, dtype=np.int32)
        self.highs.changeColsIntegrality(n, columns, np.full(n, highspy.HighsVarType.kContinuous))
        self.highs.changeColsBounds(n, columns, np.array(fixed), np.array(fixed))

    def set_rhs(self, row: Row, rhs: float) -> None:
        row.changeRHS(rhs)
        if row.sense == LE:
            self.highs.changeRowBounds(row.id, -INF, rhs)
        elif row.sense == GE:
            self.highs.changeRowBounds(row.id, rhs, INF)
        else:
            self.highs.changeRowBounds(row.id, rhs, rhs)

    def add_rows(self, rows: Sequence[tuple[Terms, int, float]]) -> list[Row]:
        """Add `sum(coef * var) <sense> rhs` rows to both models, in the same order."""
        first = self.highs.getNumRow()
        added = [self.built.add_row(terms, sense, rhs) for terms, sense, rhs in rows]
        if added and added[0].id != first:
            raise RuntimeError("PuLP's row numbering no longer matches HiGHS's")
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        lower: list[float] = []
        upper: list[float] = []
        for terms, sense, rhs in rows:
            starts.append(len(index))
            index.extend(self.col(var) for var, _ in terms)
            value.extend(coef for _, coef in terms)
            lower.append(rhs if sense != LE else -INF)
            upper.append(rhs if sense != GE else INF)
        self.highs.addRows(
            len(rows),
            np.array(lower),
            np.array(upper),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value),
        )
        return added

    def set_objective(self, terms: Terms) -> None:
        self.built.prob.setObjective(pulp.LpAffineExpression.from_list(terms))
        n = self.highs.getNumCol()
        cost = np.zeros(n)
        for var, coef in terms:
            cost[self.col(var)] += coef
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), cost)

    def tangents(self, cuts: dict[int, list[tuple[float, float, float]]]) -> None:
        """Add tangent rows `(spend, slope, quality)` (money) to each touchpoint's curve
        block, all in one call."""
        built = self.built
        order = [(t, cut) for t, these in cuts.items() for cut in these]
        rows = self.add_rows(
            [(curve_terms(built, t, slope), LE, q - slope * x) for t, (x, slope, q) in order]
        )
        for (t, _), row in zip(order, rows, strict=True):
            built.blocks.curve[t].append(row)

    def outer(
        self,
        cuts: dict[int, list[tuple[float, float, float]]],
        bounds: dict[int, tuple[float, float]],
    ) -> None:
        """Replace each touchpoint's chords by tangents of its curve (an outer model) and
        keep its spend within its bounds (money)."""
        built = self.built
        relaxed = [row for t in cuts for row in built.blocks.curve[t]]
        for row in relaxed:
            row.changeRHS(REDUNDANT)
        n = len(relaxed)
        self.highs.changeRowsBounds(  # type: ignore[attr-defined]  # in highspy, missing from its stubs
            n,
            np.array([row.id for row in relaxed], dtype=np.int32),
            np.full(n, -INF),
            np.full(n, REDUNDANT),
        )
        for t in cuts:
            built.blocks.curve[t] = []
        self.tangents(cuts)
        columns = []
        for t, (low, up) in bounds.items():
            x = built.spend[t]
            x.lowBound, x.upBound = low / built.scale, up / built.scale
            columns.append((self.col(x), x.lowBound, x.upBound))
        if columns:
            index, lows, ups = zip(*columns, strict=True)
            self.highs.changeColsBounds(
                len(columns), np.array(index, dtype=np.int32), np.array(lows), np.array(ups)
            )

    def refine_lines(self, t: int, lines: Lines) -> None:
        """Give touchpoint t's saturating curve finer chords (`lines`, whose breakpoints
        include the current ones): a chord that keeps its segment keeps its row, a split one
        is made redundant by its right-hand side (q - b x <= 2 always holds: q <= 1,
        b x >= 0) and its pieces are added. Only bounds change and rows are added, so HiGHS
        re-solves from its basis; no row is renumbered."""
        built = self.built
        old = built.lines[t]
        rows = built.blocks.curve[t]
        if old is None or not set(old.breakpoints) <= set(lines.breakpoints):
            raise ValueError("a curve's chords can only be refined")
        kept = {
            (a, b): row
            for a, b, row in zip(old.breakpoints, old.breakpoints[1:], rows, strict=False)
        }
        new = list(zip(lines.breakpoints, lines.breakpoints[1:], strict=False))
        for segment, row in kept.items():
            if segment not in set(new):
                self.set_rhs(row, REDUNDANT)
        added = iter(
            self.add_rows(
                [
                    (curve_terms(built, t, slope), LE, intercept)
                    for segment, slope, intercept in zip(
                        new, lines.slopes, lines.intercepts, strict=True
                    )
                    if segment not in kept
                ]
            )
        )
        built.blocks.curve[t] = [
            kept[segment] if segment in kept else next(added) for segment in new
        ]
        built.lines[t] = lines
