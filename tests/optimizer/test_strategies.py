"""The random portfolios are valid, varied, and the reference is self-consistent on them.

No optimizer here: these hold the generators and the reference to account on their own.
"""

import collections
import math

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from optimizer.document import MODES
from tests.optimizer.reference import (
    evaluate,
    reference_optimum,
    silo_allocation,
    silo_allotments,
    true_objective,
    violations,
)
from tests.optimizer.strategies import as_yaml, portfolios, problem_from

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_drawn_documents_are_valid_small_and_varied():
    seen: collections.Counter[str] = collections.Counter()

    @settings(SETTINGS, max_examples=200)
    @given(portfolios())
    def draw(doc):
        problem = problem_from(doc)  # validates: raises on an invalid document
        assert 2 <= len(problem.touchpoints) <= 10
        assert 1 <= len(problem.journeys) <= 6
        assert all(1 <= len(j.links) <= 5 for j in problem.journeys)
        seen["points"] += any(tp.curve.is_points for tp in problem.touchpoints)
        seen["saturating"] += any(not tp.curve.is_points for tp in problem.touchpoints)
        seen["dependencies"] += bool(problem.requires)
        seen["critical"] += any(link.critical for j in problem.journeys for link in j.links)
        seen["floors"] += any(j.floor is not None for j in problem.journeys)
        seen["caps"] += bool(problem.department_caps)
        seen["uncapped"] += any(d.cap is None for d in problem.departments)
        seen["scenario"] += bool(doc["scenarios"])
        seen["pooled"] += problem.pooled
        seen["locks"] += any(tp.locked for tp in problem.touchpoints)
        seen["excludes"] += any(tp.excluded for tp in problem.touchpoints)
        seen["min_spends"] += any(tp.min_spend > 0 for tp in problem.touchpoints)
        seen["priorities"] += any(j.priority != 1 for j in problem.journeys)
        seen["modes"] += problem.mode != "max_value"
        feasible = reference_optimum(problem).feasible
        seen["feasible"] += feasible is True
        seen["infeasible"] += feasible is False

    draw()
    for feature in (
        "points saturating dependencies critical floors caps uncapped scenario pooled locks "
        "excludes min_spends priorities modes feasible infeasible"
    ).split():
        assert seen[feature] >= 10, (feature, seen)
    # Mostly solvable: infeasible examples test diagnosis, feasible ones everything else.
    assert seen["feasible"] >= 2 * seen["infeasible"], seen


@SETTINGS
@given(portfolios(), st.sampled_from(MODES))
def test_reference_bounds_are_ordered_and_its_allocation_is_truly_feasible(doc, mode):
    problem = problem_from(doc, mode=mode)
    note(as_yaml(doc))
    ref = reference_optimum(problem)
    if ref.chord.feasible:
        # Chords lie below the curves: the chord LP is a restriction of the tangent LP.
        assert ref.tangent.feasible
        assert violations(problem, ref.allocation) == []
        assert ref.lower <= ref.upper + 1e-9 * max(1.0, abs(ref.upper))
        # The true objective of the chord allocation is at least what the chord LP promised.
        if mode != "min_spend":
            promised = ref.chord.objective
            assert true_objective(problem, ref.allocation) >= promised - 1e-6 * max(
                1, abs(promised)
            )
    if ref.exact:
        assert ref.feasible is not None
        if ref.feasible:
            assert math.isclose(ref.lower, ref.upper, rel_tol=1e-9, abs_tol=1e-9)


@SETTINGS
@given(portfolios())
def test_silo_allocation_spends_its_allotments(doc):
    problem = problem_from(doc)
    note(as_yaml(doc))
    silo = silo_allocation(problem)
    allotments = silo_allotments(problem)
    assert math.fsum(allotments) <= max(problem.budget, 0) * (1 + 1e-12) + 1e-9
    for d, members in enumerate(problem.members):
        spend = math.fsum(silo.allocation[t] for t in members)
        lowers = math.fsum(problem.touchpoints[t].lower for t in members)
        uppers = math.fsum(problem.touchpoints[t].upper for t in members)
        assert spend <= max(allotments[d], lowers) + 1e-6
        for t in members:
            tp = problem.touchpoints[t]
            assert tp.lower - 1e-9 <= silo.allocation[t] <= tp.upper + 1e-9
        # Rising saturating curves always gain: the department spends all it may (or can).
        curves = [problem.touchpoints[t].curve for t in members]
        if all(not c.is_points and c.top > c.base for c in curves):
            reachable = min(max(allotments[d], lowers), uppers)
            assert spend >= reachable - 1e-6 * max(1.0, reachable)
    assert silo.weighted_value == evaluate(problem, silo.allocation).weighted_value
