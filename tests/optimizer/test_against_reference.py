"""The optimizer checked from the outside, on random portfolios, against the reference.

The optimizer (optimizer.solve.solve) is used as a black box: its run JSON is re-checked by
check_run, and its optimum compared with an independent LP (tests/optimizer/reference.py,
scipy's HiGHS on matrices built there). Examples are derandomized (the same on every run and
every xdist worker); a failure prints the document as YAML (save it, rerun it with
``journeyfolio optimize``). JOURNEYFOLIO_REFTEST_EXAMPLES raises the example counts for a
deeper local search.
"""

import math
import os
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from optimizer.document import MODES
from optimizer.problem import PortfolioProblem
from optimizer.solve import solve
from tests.optimizer.builders import journey, points, portfolio, problem_of, saturating, touchpoint
from tests.optimizer.checks import check_run
from tests.optimizer.reference import (
    curve_quality,
    least_spend_range,
    reference_optimum,
    silo_allocation,
    silo_weighted_value_range,
    true_objective,
    violations,
)
from tests.optimizer.strategies import as_yaml, portfolios, problem_from

GAP_TARGET = 1e-3
"""The optimizer's default approximation gap target (relative)."""
REL = 1e-6


def examples(n: int) -> settings:
    factor = float(os.environ.get("JOURNEYFOLIO_REFTEST_EXAMPLES", "1"))
    return settings(
        max_examples=max(1, round(n * factor)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def setup(doc: dict[str, Any], **overrides: Any) -> PortfolioProblem:
    note(f"document:\n{as_yaml(doc)}")
    if overrides:
        note(f"overrides: {overrides}")
    return problem_from(doc, **overrides)


def money_scale(problem: PortfolioProblem) -> float:
    return max(1.0, problem.budget, math.fsum(tp.max_spend for tp in problem.touchpoints))


def value_scale(problem: PortfolioProblem) -> float:
    return max(1.0, math.fsum(j.value * max(1.0, j.priority) for j in problem.journeys))


def objective_tolerance(problem: PortfolioProblem) -> float:
    return REL * (value_scale(problem) + money_scale(problem))


modes = st.sampled_from(MODES)


# --------------------------------------------------------------------------- the run itself


@examples(120)
@given(portfolios(), modes)
def test_every_run_passes_check_run(doc, mode):
    """Constraints, true-curve qualities and values, attribution, baselines, prices."""
    problem = setup(doc, mode=mode)
    run = solve(problem)
    note(f"status {run.status}, objective {run.portfolio.objective}")
    assert check_run(problem, run) == []


# --------------------------------------------------------------------------- the optimum


@examples(40)
@given(portfolios(curves="formulas"), modes)
def test_every_form_passes_check_run_within_the_reference_bounds(doc, mode):
    """Hill, exponential and logistic curves (and saturating) beside each other: the run
    checks out and its objective lies between the reference's chord and tangent bounds."""
    problem = setup(doc, mode=mode)
    run = solve(problem)
    assert check_run(problem, run) == []
    ref = reference_optimum(problem)
    if ref.feasible is False:
        assert run.status == "infeasible"
        return
    if run.status == "infeasible":
        assert ref.feasible is not True
        return
    objective = run.portfolio.objective
    tol = objective_tolerance(problem)
    if mode == "min_spend":
        assert ref.lower - tol <= objective <= ref.upper * (1 + GAP_TARGET) + tol
    else:
        slack = GAP_TARGET * max(abs(ref.lower), abs(ref.upper))
        assert ref.lower - slack - tol <= objective <= ref.upper + tol


@examples(120)
@given(portfolios(), modes)
def test_optimum_lies_between_the_reference_bounds(doc, mode):
    """Chord lower bound (less the gap target) <= the run's objective <= tangent upper bound;
    infeasible exactly when the reference says so (where chords and tangents agree)."""
    problem = setup(doc, mode=mode)
    run = solve(problem)
    ref = reference_optimum(problem)
    note(f"reference: feasible {ref.feasible}, [{ref.lower!r}, {ref.upper!r}]")
    gap = run.solver.approximation_gap
    note(f"run: {run.status}, objective {run.portfolio.objective!r}, gap {gap}")
    if ref.feasible is False:
        assert run.status == "infeasible"
        return
    if ref.feasible is True:
        assert run.status == "optimal"
    if run.status == "infeasible":
        return  # only the curves' fine detail decides: chords infeasible, tangents feasible
    objective = run.portfolio.objective
    tol = objective_tolerance(problem)
    if mode == "min_spend":
        # Spend: the truth needs at least the tangents' (a relaxation) and at most the chords'
        # (truly feasible); the optimizer's own chords may need up to its gap more.
        assert ref.lower - tol <= objective <= ref.upper * (1 + GAP_TARGET) + tol
    else:
        slack = GAP_TARGET * max(abs(ref.lower), abs(ref.upper))
        assert ref.lower - slack - tol <= objective <= ref.upper + tol


@examples(150)
@given(portfolios(curves="points"), modes)
def test_points_curves_give_the_exact_optimum_and_the_least_spend(doc, mode):
    """Points curves are linear pieces: the LP is exact, so the optimum must match to 1e-6 and
    the spend must be the least spend among optimal allocations."""
    problem = setup(doc, mode=mode)
    run = solve(problem)
    ref = reference_optimum(problem)
    assert ref.exact
    note(f"reference: feasible {ref.feasible}, optimum {ref.lower!r}, spend {ref.least_spend!r}")
    note(f"run: {run.status}, objective {run.portfolio.objective!r}, spend {run.portfolio.spend!r}")
    assert run.status == ("optimal" if ref.feasible else "infeasible")
    if not ref.feasible:
        return
    scale = money_scale(problem) if mode == "min_spend" else value_scale(problem)
    assert math.isclose(run.portfolio.objective, ref.lower, rel_tol=REL, abs_tol=REL * scale)
    low, high = least_spend_range(problem)
    note(f"least spend range: [{low!r}, {high!r}]")
    tol = REL * money_scale(problem)
    assert low - tol <= run.portfolio.spend <= high + tol


# --------------------------------------------------------------------------- silo baseline


@examples(120)
@given(portfolios())
def test_silo_baseline_matches_the_independent_silo_allocation(doc):
    """Per department: as good as the best allotment use (within the gap target), within the
    allotment, least spend on ties; the silo value within the range of silo-optimal values."""
    problem = setup(doc)
    run = solve(problem)
    if run.status == "optimal" and problem.mode == "min_spend":
        # the budget does not bind in min_spend mode: silos get what the optimum spends
        problem = problem.with_budget(run.portfolio.spend)
    silo = silo_allocation(problem)
    reported = run.baselines.silo
    spends = [reported.allocation[tp.id] for tp in problem.touchpoints]
    tol = REL * money_scale(problem)
    for d, dept in enumerate(problem.departments):
        members = problem.members[d]
        ref = silo.departments[d]
        quality = math.fsum(curve_quality(problem.touchpoints[t].curve, spends[t]) for t in members)
        spend = math.fsum(spends[t] for t in members)
        note(f"department {dept.id}: allotment {ref.allotment!r}, limit {ref.limit!r}")
        note(f"  run: quality {quality!r}, spend {spend!r}")
        note(f"  reference: quality [{ref.quality!r}, {ref.quality_upper!r}], spend {ref.spend!r}")
        for t in members:
            tp = problem.touchpoints[t]
            assert tp.lower - tol <= spends[t] <= tp.upper + tol, tp.id
        assert spend <= ref.limit + tol
        slack = 0.0 if ref.exact else GAP_TARGET * max(1.0, ref.quality_upper)
        assert ref.quality - slack - 1e-6 <= quality <= ref.quality_upper + 1e-6
        if ref.exact:
            assert spend <= ref.spend_at_optimum + tol
    low, high = silo_weighted_value_range(problem, rel_tol=GAP_TARGET)
    note(
        f"silo weighted value: run {reported.weighted_value!r}, reference range [{low!r}, {high!r}]"
    )
    tol = REL * value_scale(problem)
    assert low - tol <= reported.weighted_value <= high + tol


# --------------------------------------------------------------------------- properties


@examples(100)
@given(portfolios(), modes)
def test_optimum_is_never_worse_than_a_feasible_baseline(doc, mode):
    """The optimum beats the current and the silo allocation whenever those meet the
    scenario's constraints (within the run's reported approximation gap)."""
    problem = setup(doc, mode=mode)
    run = solve(problem)
    if run.status == "infeasible":
        # Then no allocation is feasible, the baselines included: each breaks something.
        for name in ("current", "silo"):
            baseline = getattr(run.baselines, name)
            allocation = [baseline.allocation[tp.id] for tp in problem.touchpoints]
            assert violations(problem, allocation, rel=0.0) != [], name
        return
    gap = run.solver.approximation_gap
    for name in ("current", "silo"):
        baseline = getattr(run.baselines, name)
        allocation = [baseline.allocation[tp.id] for tp in problem.touchpoints]
        if violations(problem, allocation):
            continue
        theirs = true_objective(problem, allocation)
        ours = run.portfolio.objective
        note(f"{name}: objective {theirs!r}, optimum {ours!r}, gap {gap}")
        tol = gap * max(abs(ours), abs(theirs)) + objective_tolerance(problem)
        if mode == "min_spend":
            assert ours <= theirs + tol, name
        else:
            assert ours >= theirs - tol, name


@examples(80)
@given(
    portfolios(),
    st.sampled_from(["max_value", "max_net_value"]),
    st.integers(1, 100).map(lambda k: 10.0 * k),
)
def test_optimal_value_never_falls_when_the_budget_rises(doc, mode, extra):
    problem = setup(doc, mode=mode)
    before = solve(problem)
    after = solve(problem.with_budget(problem.budget + extra))
    note(f"budget {problem.budget} -> +{extra}: {before.status} -> {after.status}")
    if before.status == "infeasible":
        return
    assert after.status == "optimal"
    v0, v1 = before.portfolio.objective, after.portfolio.objective
    note(f"objective {v0!r} -> {v1!r}")
    gap = max(before.solver.approximation_gap, after.solver.approximation_gap)
    assert v1 >= v0 - gap * max(abs(v0), abs(v1)) - objective_tolerance(problem)


def _optimum(problem: PortfolioProblem) -> float:
    ref = reference_optimum(problem)
    return ref.lower if ref.feasible else -math.inf


@examples(100)
@given(portfolios(curves="points"), st.sampled_from(["max_value", "max_net_value"]))
def test_budget_shadow_price_lies_between_the_finite_differences(doc, mode):
    """The optimal objective is concave in the budget; its dual is a supergradient:
    (v(b+h) - v(b)) / h <= price <= (v(b) - v(b-h)) / h, with v from the reference."""
    problem = setup(doc, mode=mode)
    run = solve(problem)
    if run.status == "infeasible":
        assert _optimum(problem) == -math.inf
        return
    b = problem.budget
    h = max(1.0, 1e-3 * b)
    v = _optimum(problem)
    right = (_optimum(problem.with_budget(b + h)) - v) / h
    left = (v - _optimum(problem.with_budget(b - h))) / h if b >= h else math.inf
    price = run.shadow_prices.budget
    note(f"v(b) {v!r}, right {right!r}, price {price!r}, left {left!r}")
    tol = 1e-6 * max(1.0, abs(price)) + 4 * REL * value_scale(problem) / h
    assert right - tol <= price <= left + tol


@examples(60)
@given(portfolios(curves="points"), st.sampled_from(["max_value", "max_net_value"]))
def test_department_shadow_prices_lie_between_the_finite_differences(doc, mode):
    """The same for each department cap that applies."""
    problem = setup(doc, mode=mode, pooled=False)
    run = solve(problem)
    if run.status == "infeasible":
        return
    v = _optimum(problem)
    for d, cap in problem.department_caps.items():
        dept = problem.departments[d]
        h = max(1.0, 1e-3 * cap)

        def with_cap(value: float, d: int = d) -> PortfolioProblem:
            departments = list(problem.departments)
            departments[d] = replace(departments[d], cap=value)
            return replace(problem, departments=tuple(departments))

        right = (_optimum(with_cap(cap + h)) - v) / h
        left = (v - _optimum(with_cap(cap - h))) / h if cap >= h else math.inf
        price = next(row.shadow_price for row in run.departments if row.id == dept.id)
        note(f"department {dept.id}: cap {cap}, right {right!r}, price {price!r}, left {left!r}")
        tol = 1e-6 * max(1.0, abs(price)) + 4 * REL * value_scale(problem) / h
        assert right - tol <= price <= left + tol, dept.id


# --------------------------------------------------------------------------- found by the above
# Minimal documents for the disagreements the random tests found, so each has a name.


def test_a_flat_saturating_curve_is_solved():
    # saturating {base 0.3, max 0.3} is valid (base <= max): quality 0.3 whatever the spend.
    # Optimum: spend nothing (least spend), value 0.3 * 100 = 30.
    problem = problem_of(
        portfolio(
            budget=10,
            touchpoints=[touchpoint("a", saturating(0.3, 0.3, 10), 10)],
            journeys=[journey("j", 100, [("a", 1)])],
        )
    )
    run = solve(problem)
    assert check_run(problem, run) == []
    assert run.portfolio.weighted_value == pytest.approx(30)
    assert run.portfolio.spend == pytest.approx(0)


def test_a_touchpoint_only_required_serves_the_journeys_of_what_requires_it():
    # t (q = x/100) serves j (value 1000) and requires u (q = x/50), which no journey links.
    # Optimum (test_reference.py): t = 200/3, u = 100/3, value 666.67. DOMAIN.md shares a
    # touchpoint's spend among "its journeys" and is silent on a touchpoint only required:
    # the project's rule is that u serves the journeys of what requires it (its spend exists
    # for them), with their weights, so j's P&L carries u's cost and nothing is unattributed.
    problem = problem_of(
        portfolio(
            budget=100,
            touchpoints=[
                touchpoint("t", points((0, 0), (100, 1)), 100),
                touchpoint("u", points((0, 0), (50, 1)), 50),
            ],
            journeys=[journey("j", 1000, [("t", 1)])],
            dependencies=[("t", "u")],
        )
    )
    run = solve(problem)
    assert run.portfolio.weighted_value == pytest.approx(2000 / 3)
    u = next(row for row in run.touchpoints if row.id == "u")
    assert u.journeys == ["j"]
    assert u.reason != "serves_no_journey"
    assert run.journeys[0].attributed_cost == pytest.approx(100)
    assert run.portfolio.unattributed_spend == pytest.approx(0)
    assert check_run(problem, run) == []
