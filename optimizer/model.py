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
    max_value       max sum_j p_j v_j E_j
    max_net_value   max sum_j p_j v_j E_j - sum_t x_t
    min_spend       min sum_t x_t

Because the curves are concave and E_j only appears capped from above, maximization
pushes every q, e and E up to the minimum of its caps: the LP computes exactly the
weakest-link, dependency-capped quality of DOMAIN.md. Ties (least spend among optimal
allocations) are broken by a second solve in optimizer/solve.py.

Example (worked by hand, also a test): one journey, value 1000, two touchpoints a, b with
weights 1:1, points curves a: [[0, 0], [10, 1]], b: [[0, 0], [10, 0.5]], b critical,
budget 10. E = min((qa + qb) / 2, qb); b's slope (0.05) beats a's half-weight (0.05) only
once the cap binds, so the optimum spends where qa = qb: xa = 10/3, xb = 20/3,
qa = qb = 1/3, E = 1/3, value 333.33.
"""

from dataclasses import dataclass, field

import pulp

from optimizer.curves import Lines, lines_for
from optimizer.problem import PortfolioProblem


@dataclass
class BuiltModel:
    """The PuLP problem and where everything is in it."""

    prob: pulp.LpProblem
    scale: float
    spend: dict[int, pulp.LpVariable]
    quality: dict[int, pulp.LpVariable]
    effective: dict[int, pulp.LpVariable]
    experience: dict[int, pulp.LpVariable]
    lines: list[Lines | None]
    relevant: list[bool]
    """Touchpoints whose quality matters (linked by a journey, or required by one that is)."""
    curve_rows: dict[int, list[int]] = field(default_factory=dict)
    """Row ids of each touchpoint's curve lines, in line order."""
    budget_row: int | None = None
    department_rows: dict[int, int] = field(default_factory=dict)
    floor_rows: dict[int, int] = field(default_factory=dict)
    objective_terms: list[tuple[pulp.LpVariable, float]] = field(default_factory=list)

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
    requires: dict[int, list[int]] = {}
    for t, u in problem.requires:
        requires.setdefault(t, []).append(u)
    stack = [t for t, r in enumerate(relevant) if r]
    while stack:
        t = stack.pop()
        for u in requires.get(t, ()):
            if not relevant[u]:
                relevant[u] = True
                stack.append(u)
    return relevant


def build_model(
    problem: PortfolioProblem,
    *,
    breakpoints: dict[int, list[float]] | None = None,
    tolerance: float | None = None,
) -> BuiltModel:
    """Build the LP of a resolved problem; `breakpoints` override saturating curves' chords."""
    sense = pulp.LpMinimize if problem.mode == "min_spend" else pulp.LpMaximize
    prob = pulp.LpProblem("journey_portfolio", sense)
    scale = money_scale(problem)
    n_tp = len(problem.touchpoints)
    relevant = relevant_touchpoints(problem)
    built = BuiltModel(
        prob=prob,
        scale=scale,
        spend={},
        quality={},
        effective={},
        experience={},
        lines=[None] * n_tp,
        relevant=relevant,
    )
    define_spend(built, problem)
    define_response_curves(built, problem, breakpoints or {}, tolerance)
    define_dependencies(built, problem)
    define_journey_experience(built, problem)
    define_budgets(built, problem)
    define_objective(built, problem)
    return built


def define_spend(built: BuiltModel, problem: PortfolioProblem) -> None:
    prob, scale = built.prob, built.scale
    for t, tp in enumerate(problem.touchpoints):
        built.spend[t] = prob.add_variable(f"spend_{t}", tp.lower / scale, tp.upper / scale)


def define_response_curves(
    built: BuiltModel,
    problem: PortfolioProblem,
    breakpoints: dict[int, list[float]],
    tolerance: float | None,
) -> None:
    """(1) q_t <= a_tk + b_tk x_t; a fixed spend becomes an upper bound on q_t."""
    prob, scale = built.prob, built.scale
    options = {} if tolerance is None else {"tolerance": tolerance}
    for t, tp in enumerate(problem.touchpoints):
        if not built.relevant[t]:
            continue
        lines = lines_for(tp.curve, tp.lower, tp.upper, breakpoints=breakpoints.get(t), **options)
        built.lines[t] = lines
        if len(lines) == 1 and lines.slopes[0] == 0:
            built.quality[t] = prob.add_variable(
                f"quality_{t}", 0, min(1.0, max(0.0, lines.intercepts[0]))
            )
            continue
        q = built.quality[t] = prob.add_variable(f"quality_{t}", 0, 1)
        x = built.spend[t]
        rows = []
        for k, (slope, intercept) in enumerate(zip(lines.slopes, lines.intercepts, strict=True)):
            expr = pulp.lpSum_vars_coefs([(q, 1.0), (x, -slope * scale)])
            rows.append(prob.addConstraint(expr <= intercept, f"curve_{t}_{k}").id)
        built.curve_rows[t] = rows


def define_dependencies(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(2) e_t <= q_t and e_t <= e_u for every requirement (t, u)."""
    prob = built.prob
    requires: dict[int, list[int]] = {}
    for t, u in problem.requires:
        if built.relevant[t]:
            requires.setdefault(t, []).append(u)
    for t in requires:
        e = built.effective[t] = prob.add_variable(f"effective_{t}", 0, 1)
        prob.addConstraint(
            pulp.lpSum_vars_coefs([(e, 1.0), (built.quality[t], -1.0)]) <= 0, f"effective_{t}"
        )
    for t, us in requires.items():
        for u in us:
            prob.addConstraint(
                pulp.lpSum_vars_coefs([(built.effective[t], 1.0), (built.eff(u), -1.0)]) <= 0,
                f"requires_{t}_{u}",
            )


def define_journey_experience(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(3) E_j <= weighted average and E_j <= every critical touchpoint; (4) floors."""
    prob = built.prob
    for j, journey in enumerate(problem.journeys):
        experience = built.experience[j] = prob.add_variable(f"experience_{j}", 0, 1)
        terms = [(experience, 1.0)]
        terms += [(built.eff(link.touchpoint), -link.weight) for link in journey.links]
        prob.addConstraint(pulp.lpSum_vars_coefs(terms) <= 0, f"journey_{j}")
        for link in journey.links:
            if link.critical:
                prob.addConstraint(
                    pulp.lpSum_vars_coefs([(experience, 1.0), (built.eff(link.touchpoint), -1.0)])
                    <= 0,
                    f"critical_{j}_{link.touchpoint}",
                )
        if journey.floor is not None and journey.floor > 0:
            row = prob.addConstraint(
                pulp.LpAffineExpression.from_variable(experience) >= journey.floor, f"floor_{j}"
            )
            built.floor_rows[j] = row.id


def define_budgets(built: BuiltModel, problem: PortfolioProblem) -> None:
    """(5) the total budget (except in min_spend mode) and (6) department caps."""
    prob, scale = built.prob, built.scale
    if problem.mode != "min_spend":
        total = pulp.lpSum_vars(built.spend.values())
        built.budget_row = prob.addConstraint(total <= problem.budget / scale, "budget").id
    for d, cap in problem.department_caps.items():
        members = problem.members[d]
        if not members:
            continue
        total = pulp.lpSum_vars(built.spend[t] for t in members)
        built.department_rows[d] = prob.addConstraint(total <= cap / scale, f"department_{d}").id


def define_objective(built: BuiltModel, problem: PortfolioProblem) -> None:
    scale = built.scale
    value_terms = [
        (built.experience[j], journey.priority * journey.value / scale)
        for j, journey in enumerate(problem.journeys)
        if journey.priority * journey.value > 0
    ]
    spend_terms = [(x, 1.0) for x in built.spend.values()]
    if problem.mode == "max_value":
        terms = value_terms
    elif problem.mode == "max_net_value":
        terms = value_terms + [(x, -1.0) for x, _ in spend_terms]
    else:
        terms = spend_terms
    built.objective_terms = terms
    built.prob.setObjective(
        pulp.lpSum_vars_coefs(terms) if terms else pulp.LpAffineExpression.empty()
    )
