"""The independent reference (tests/optimizer/reference.py) on hand-worked instances.

Each optimum is derived in a comment, so these tests stand on their own: they run before and
without the optimizer. Curves are mostly straight lines q = x / 100 on [0, 100] ("lin100").
"""

import pytest

from tests.optimizer.builders import (
    journey,
    points,
    portfolio,
    problem_of,
    saturating,
    touchpoint,
)
from tests.optimizer.reference import (
    chord_error,
    curve_lines,
    curve_quality,
    evaluate,
    reference_optimum,
    silo_allocation,
    silo_allotments,
    silo_weighted_value_range,
    violations,
)

LIN100 = points((0, 0), (100, 1))
LIN50 = points((0, 0), (50, 1))


def spends(problem, allocation):
    return {tp.id: x for tp, x in zip(problem.touchpoints, allocation, strict=True)}


# --------------------------------------------------------------------------- true curves


def test_points_curve_is_linear_between_points_and_flat_after_the_last():
    problem = problem_of(
        portfolio(
            budget=0,
            touchpoints=[touchpoint("a", points((0, 0.1), (10, 0.5), (30, 0.7)), 100)],
            journeys=[journey("j", 1, [("a", 1)])],
        )
    )
    curve = problem.touchpoints[0].curve
    assert curve_quality(curve, 0) == 0.1
    assert curve_quality(curve, 5) == pytest.approx(0.3)
    assert curve_quality(curve, 20) == pytest.approx(0.6)
    assert curve_quality(curve, 30) == pytest.approx(0.7)
    assert curve_quality(curve, 90) == pytest.approx(0.7)


def test_saturating_curve_is_the_exact_formula():
    problem = problem_of(
        portfolio(
            budget=0,
            touchpoints=[touchpoint("a", saturating(0.2, 0.9, 150), 600)],
            journeys=[journey("j", 1, [("a", 1)])],
        )
    )
    curve = problem.touchpoints[0].curve
    assert curve_quality(curve, 0) == pytest.approx(0.2)
    # half_spend: halfway from base to max
    assert curve_quality(curve, 150) == pytest.approx(0.55)
    assert curve_quality(curve, 450) == pytest.approx(0.2 + 0.7 * 0.75)


def test_evaluate_caps_by_dependencies_transitively_and_takes_the_weakest_critical_link():
    # c requires b, b requires a: e_a = 0.2, e_b = min(0.9, 0.2) = 0.2, e_c = min(0.6, 0.2).
    # Journey j: links a (w 1), c (w 3, critical), d (w 4): average = (0.2 + 0.6 + 3.2) / 8
    # = 0.5 but critical c has 0.2, so E_j = 0.2; value 0.2 * 1000 = 200; priority 2 -> 400.
    problem = problem_of(
        portfolio(
            budget=0,
            touchpoints=[
                touchpoint("a", LIN100, 100),
                touchpoint("b", LIN100, 100),
                touchpoint("c", LIN100, 100),
                touchpoint("d", LIN100, 100),
            ],
            journeys=[journey("j", 1000, [("a", 1), ("c", 3, True), ("d", 4)], priority=2)],
            dependencies=[("c", "b"), ("b", "a")],
        )
    )
    ev = evaluate(problem, [20, 90, 60, 80])
    assert ev.touchpoint_qualities == pytest.approx([0.2, 0.2, 0.2, 0.8])
    assert ev.journey_qualities == pytest.approx([0.2])
    assert ev.value == pytest.approx(200)
    assert ev.weighted_value == pytest.approx(400)


# --------------------------------------------------------------------------- optimum


def test_weakest_link_with_a_critical_touchpoint():
    # Journey (value 1000): a cheap (lin50: q = x/50 on [0, 50]) and b (lin100), equal
    # weights, budget 100.
    # Without a critical link: money goes to the steeper a first (0.02/unit) until a is full
    # at 50, then b gets 50: E = 0.5 * 1 + 0.5 * 0.5 = 0.75 -> 750.
    # With b critical: E = min(0.5 qa + 0.5 qb, qb). With x_b = 100 - x_a >= 50 the average
    # is 1 - x_b/200 and the critical term x_b/100; they meet at x_b = 200/3:
    # E = 2/3 -> 666.67, x_a = 100/3. Both spend the whole budget.
    def problem(critical: bool):
        return problem_of(
            portfolio(
                budget=100,
                touchpoints=[touchpoint("a", LIN50, 50), touchpoint("b", LIN100, 100)],
                journeys=[journey("j", 1000, [("a", 1), ("b", 1, critical)])],
            )
        )

    free = reference_optimum(problem(False))
    assert free.exact
    assert free.lower == pytest.approx(750)
    assert free.upper == pytest.approx(750)
    assert free.allocation == pytest.approx((50, 50))
    weakest = reference_optimum(problem(True))
    assert weakest.lower == pytest.approx(2000 / 3)
    assert weakest.upper == pytest.approx(2000 / 3)
    assert weakest.allocation == pytest.approx((100 / 3, 200 / 3))
    assert weakest.least_spend == pytest.approx(100)


def test_a_touchpoint_shared_by_two_journeys():
    # s serves j1 (value 1000) and j2 (value 600), p1 only j1, p2 only j2, all lin100, equal
    # weights, budget 150. Value per unit: s 0.01 * (0.5 * 1000 + 0.5 * 600) = 8,
    # p1 0.01 * 500 = 5, p2 0.01 * 300 = 3. So s = 100 (full), p1 = 50, p2 = 0:
    # j1 = 0.5 + 0.25 = 0.75 -> 750, j2 = 0.5 -> 300, total 1050.
    # Silo (three departments, no caps, current spend 50 each -> allotments 50 each): each
    # spends its 50: j1 = 0.5 -> 500, j2 = 0.5 -> 300, total 800; price of silos 250.
    data = portfolio(
        budget=150,
        departments={"shared": None, "one": None, "two": None},
        touchpoints=[
            touchpoint("s", LIN100, 100, department="shared", current=50),
            touchpoint("p1", LIN100, 100, department="one", current=50),
            touchpoint("p2", LIN100, 100, department="two", current=50),
        ],
        journeys=[
            journey("j1", 1000, [("s", 1), ("p1", 1)]),
            journey("j2", 600, [("s", 1), ("p2", 1)]),
        ],
    )
    problem = problem_of(data)
    ref = reference_optimum(problem)
    assert ref.lower == pytest.approx(1050)
    assert spends(problem, ref.allocation) == pytest.approx({"s": 100, "p1": 50, "p2": 0})
    silo = silo_allocation(problem)
    assert silo.allotments == pytest.approx((50, 50, 50))
    assert silo.allocation == pytest.approx((50, 50, 50))
    assert silo.weighted_value == pytest.approx(800)
    assert silo_weighted_value_range(problem) == pytest.approx((800, 800))
    # The current allocation happens to be the silo's here.
    assert evaluate(problem, [50, 50, 50]).value == pytest.approx(800)


def test_a_dependency_caps_quality():
    # t (lin100) serves the journey (value 1000) and requires u (lin50), which serves none.
    # Budget 100. Effective q_t = min(x_t/100, x_u/50); best when equal: x_t = 2 x_u,
    # 3 x_u = 100 -> x_u = 33.33, x_t = 66.67, E = 2/3 -> 666.67.
    # Without the dependency x_t = 100 and the value is 1000.
    # Silo (one department) maximizes q_t + q_u, blind to the dependency: u first (0.02/unit)
    # to 50, then t gets 50: q_t = 0.5 = effective -> 500.
    def problem(dependencies):
        return problem_of(
            portfolio(
                budget=100,
                touchpoints=[touchpoint("t", LIN100, 100), touchpoint("u", LIN50, 50)],
                journeys=[journey("j", 1000, [("t", 1)])],
                dependencies=dependencies,
            )
        )

    capped = problem([("t", "u")])
    ref = reference_optimum(capped)
    assert ref.lower == pytest.approx(2000 / 3)
    assert ref.allocation == pytest.approx((200 / 3, 100 / 3))
    silo = silo_allocation(capped)
    assert silo.allocation == pytest.approx((50, 50))
    assert silo.weighted_value == pytest.approx(500)
    free = reference_optimum(problem([]))
    assert free.lower == pytest.approx(1000)
    # u serves no journey and nothing requires it: least spend leaves it at 0.
    assert free.allocation == pytest.approx((100, 0))


def test_pooled_budget_ignores_department_caps():
    # a (marketing, cap 30; lin100 0.01/unit) and b (service, no cap; q = x/200 up to 0.5,
    # 0.005/unit), equal weights in a journey of value 1000, budget 100.
    # Departmental: a = 30 (cap), b = 70: E = 0.5 * 0.3 + 0.5 * 0.35 = 0.325 -> 325.
    # Pooled: a = 100, b = 0: E = 0.5 -> 500.
    data = portfolio(
        budget=100,
        departments={"marketing": 30, "service": None},
        touchpoints=[
            touchpoint("a", LIN100, 100, department="marketing"),
            touchpoint("b", points((0, 0), (100, 0.5)), 100, department="service"),
        ],
        journeys=[journey("j", 1000, [("a", 1), ("b", 1)])],
        scenarios=[{"id": "pooled", "name": "Pooled", "pooled": True}],
    )
    departmental = reference_optimum(problem_of(data))
    assert departmental.lower == pytest.approx(325)
    assert departmental.allocation == pytest.approx((30, 70))
    pooled = reference_optimum(problem_of(data, "pooled"))
    assert pooled.lower == pytest.approx(500)
    assert pooled.allocation == pytest.approx((100, 0))
    assert problem_of(data, pooled=True).department_caps == {}


def test_spend_that_creates_no_value_stays_unallocated():
    # a is flat after spend 40 (max_spend 100), budget 100: spend 40, value 1000.
    problem = problem_of(
        portfolio(
            budget=100,
            touchpoints=[touchpoint("a", points((0, 0), (40, 1)), 100)],
            journeys=[journey("j", 1000, [("a", 1)])],
        )
    )
    ref = reference_optimum(problem)
    assert ref.lower == pytest.approx(1000)
    assert ref.least_spend == pytest.approx(40)


def test_modes_net_value_and_min_spend():
    # One touchpoint lin100 in a journey with value v, floor 0.6, budget 10.
    # min_spend: the floor needs x = 60 (the budget does not bind in this mode).
    # max_net_value: v * x/100 - x; v = 1000 -> slope 9 > 0: x = 100, net 900;
    # v = 50 -> slope -0.5: only the floor's 60 (with budget 100): net 30 - 60 = -30.
    def problem(value, budget, mode):
        return problem_of(
            portfolio(
                budget=budget,
                touchpoints=[touchpoint("a", LIN100, 100)],
                journeys=[journey("j", value, [("a", 1)], floor=0.6)],
            ),
            mode=mode,
        )

    assert reference_optimum(problem(1000, 10, "min_spend")).lower == pytest.approx(60)
    # The same scenario in max_value mode: the budget binds, the floor is out of reach.
    assert reference_optimum(problem(1000, 10, "max_value")).feasible is False
    net = reference_optimum(problem(1000, 100, "max_net_value"))
    assert net.lower == pytest.approx(900)
    assert net.allocation == pytest.approx((100,))
    net = reference_optimum(problem(50, 100, "max_net_value"))
    assert net.lower == pytest.approx(-30)
    assert net.allocation == pytest.approx((60,))


def test_locks_and_excludes_and_min_spends():
    # a (lin100, min 10) locked at 70, b (lin100, min 20) excluded -> stays at 20, c lin100.
    # Budget 150: 70 + 20 fixed, c gets the remaining 60. Equal weights, value 300:
    # E = (0.7 + 0.2 + 0.6) / 3 = 0.5 -> 150.
    data = portfolio(
        budget=150,
        touchpoints=[
            touchpoint("a", LIN100, 100, min_spend=10),
            touchpoint("b", LIN100, 100, min_spend=20),
            touchpoint("c", LIN100, 100),
        ],
        journeys=[journey("j", 300, [("a", 1), ("b", 1), ("c", 1)])],
        scenarios=[{"id": "s", "name": "S", "locks": {"a": 70.0}, "exclude": ["b"]}],
    )
    problem = problem_of(data, "s")
    ref = reference_optimum(problem)
    assert ref.allocation == pytest.approx((70, 20, 60))
    assert ref.lower == pytest.approx(150)
    assert violations(problem, ref.allocation) == []
    assert violations(problem, (60, 20, 60)) == ["touchpoint a: spend 60 outside 70..70"]


def test_infeasible_scenarios():
    # Min spends above a cap (60 + 50 > 100), and a floor no budget reaches (max quality 0.5).
    over_cap = portfolio(
        budget=1000,
        departments={"ops": 100},
        touchpoints=[
            touchpoint("a", LIN100, 100, min_spend=60),
            touchpoint("b", LIN100, 100, min_spend=50),
        ],
        journeys=[journey("j", 1, [("a", 1), ("b", 1)])],
    )
    assert reference_optimum(problem_of(over_cap)).feasible is False
    assert reference_optimum(problem_of(over_cap, pooled=True)).feasible is True
    unreachable = problem_of(
        portfolio(
            budget=1000,
            touchpoints=[touchpoint("a", points((0, 0), (100, 0.5)), 100)],
            journeys=[journey("j", 1, [("a", 1)], floor=0.6)],
        ),
        mode="min_spend",
    )
    assert reference_optimum(unreachable).feasible is False


# --------------------------------------------------------------------------- saturating


def test_saturating_optimum_is_bracketed_by_chords_and_tangents():
    # Journey (value 1000) over a (saturating 0..1, half 100) and b (half 400), equal weights,
    # budget 300. Equal marginal quality: 100/(x_a+100)^2 = 400/(x_b+400)^2
    # -> x_b + 400 = 2 (x_a + 100); with x_a + x_b = 300: x_a = 500/3, x_b = 400/3.
    # q_a = (500/3)/(800/3) = 0.625, q_b = (400/3)/(1600/3) = 0.25: E = 0.4375 -> 437.5.
    problem = problem_of(
        portfolio(
            budget=300,
            touchpoints=[
                touchpoint("a", saturating(0, 1, 100), 1000),
                touchpoint("b", saturating(0, 1, 400), 1000),
            ],
            journeys=[journey("j", 1000, [("a", 1), ("b", 1)])],
        )
    )
    ref = reference_optimum(problem)
    assert not ref.exact
    assert ref.lower <= 437.5 <= ref.upper
    assert ref.upper - ref.lower < 1e-4 * 437.5
    assert ref.allocation == pytest.approx((500 / 3, 400 / 3), rel=1e-2)
    # Fewer segments: a looser, still valid bracket.
    coarse = reference_optimum(problem, segments=4)
    assert coarse.lower <= ref.lower
    assert coarse.upper >= ref.upper
    assert coarse.lower <= 437.5 <= coarse.upper


@pytest.mark.parametrize(
    ("base", "top", "half", "lower", "upper"),
    [(0, 1, 100, 0, 1000), (0.2, 0.9, 150, 0, 600), (0.3, 0.31, 1, 5, 100000), (0, 1, 5, 7, 7.5)],
)
def test_tangents_lie_above_and_chords_below_a_saturating_curve(base, top, half, lower, upper):
    data = portfolio(
        budget=0,
        touchpoints=[touchpoint("a", saturating(base, top, half), upper)],
        journeys=[journey("j", 1, [("a", 1)])],
    )
    curve = problem_of(data).touchpoints[0].curve
    chord_a, chord_b = curve_lines(curve, lower, upper, side="chord")
    tangent_a, tangent_b = curve_lines(curve, lower, upper, side="tangent")
    error = chord_error(curve, lower, upper)
    assert 0 < error < 1e-4
    for k in range(2001):
        x = lower + (upper - lower) * k / 2000
        true = curve_quality(curve, x)
        chord = min(chord_a + chord_b * x)
        tangent = min(tangent_a + tangent_b * x)
        assert chord - 1e-12 <= true <= tangent + 1e-12
        assert true - chord <= error + 1e-12


def test_tangent_upper_bound_is_above_the_chord_lower_bound_with_dependencies_and_floors():
    # Three saturating touchpoints, a dependency, a critical link and a floor; no hand
    # optimum, but the two LPs must bracket, and the chord allocation must be truly feasible.
    data = portfolio(
        budget=500,
        departments={"m": 300, "s": None},
        touchpoints=[
            touchpoint("a", saturating(0.1, 0.9, 50), 400, department="m"),
            touchpoint("b", saturating(0.0, 0.8, 200), 400, department="m", min_spend=20),
            touchpoint("c", saturating(0.3, 1.0, 20), 400, department="s"),
        ],
        journeys=[
            journey("j1", 1000, [("a", 2), ("b", 1, True)], floor=0.4),
            journey("j2", 400, [("b", 1), ("c", 3)], priority=2),
        ],
        dependencies=[("c", "a")],
    )
    for mode in ("max_value", "max_net_value", "min_spend"):
        problem = problem_of(data, mode=mode)
        ref = reference_optimum(problem)
        assert ref.feasible
        assert ref.lower <= ref.upper + 1e-9
        assert ref.upper - ref.lower <= 1e-3 * abs(ref.upper)
        assert violations(problem, ref.allocation) == []


# --------------------------------------------------------------------------- silo


def test_silo_allotments_scale_caps_and_share_the_rest_by_current_spend():
    # Caps 300 + 100 under a budget of 1000: kept; the rest 600 goes to the uncapped c and d
    # in proportion to their current spend (10 : 30).
    def data(budget, current_c, current_d):
        return portfolio(
            budget=budget,
            departments={"a": 300, "b": 100, "c": None, "d": None},
            touchpoints=[
                touchpoint(f"t{d}", LIN100, 100, department=d, current=cur)
                for d, cur in [("a", 0), ("b", 0), ("c", current_c), ("d", current_d)]
            ],
            journeys=[journey("j", 1, [("ta", 1)])],
        )

    assert silo_allotments(problem_of(data(1000, 10, 30))) == pytest.approx([300, 100, 150, 450])
    # No current spend at all: equal shares.
    assert silo_allotments(problem_of(data(1000, 0, 0))) == pytest.approx([300, 100, 300, 300])
    # Caps add up to more than the budget (400 > 200): scaled by 1/2, nothing left.
    assert silo_allotments(problem_of(data(200, 10, 30))) == pytest.approx([150, 50, 0, 0])


def test_silo_respects_min_spends_locks_and_least_spend():
    # One department, cap 50, budget 1000. a: lin100 with min 40; b: flat after 10 (q 1),
    # locked at 30; c: lin100. The department maximizes q_a + q_b + q_c with 50:
    # b is locked at 30 (above its allotment share, never below a lock), a needs its min 40:
    # 70 > 50, so the department spends its lower spends only: a = 40, b = 30, c = 0.
    # Without the lock: a needs its min 40, b gets the other 10 (0.1/unit beats 0.01) and
    # reaches quality 1: a = 40, b = 10, c = 0.
    data = portfolio(
        budget=1000,
        departments={"ops": 50},
        touchpoints=[
            touchpoint("a", LIN100, 100, min_spend=40),
            touchpoint("b", points((0, 0), (10, 1)), 100),
            touchpoint("c", LIN100, 100),
        ],
        journeys=[journey("j", 300, [("a", 1), ("b", 1), ("c", 1)])],
        scenarios=[{"id": "lock", "name": "Lock", "locks": {"b": 30.0}}],
    )
    locked = silo_allocation(problem_of(data, "lock"))
    assert locked.allocation == pytest.approx((40, 30, 0))
    assert locked.departments[0].limit == pytest.approx(70)
    free = silo_allocation(problem_of(data))
    assert free.allocation == pytest.approx((40, 10, 0))
    assert free.spend == pytest.approx(50)
    # j = (0.4 + 1 + 0) / 3 * 300 = 140
    assert free.weighted_value == pytest.approx(140)


def test_silo_value_range_covers_ties():
    # One department, allotment 60 (budget, no caps), a and b both lin100 serving journeys of
    # different value: the department is indifferent between them, so the silo value lies
    # anywhere between all-to-the-poor-journey (60 * 0.01 * 100 = 60) and
    # all-to-the-rich-journey (60 * 0.01 * 1000 = 600). The range is a box bound (lowest and
    # highest spend of each touchpoint): [0, 660].
    problem = problem_of(
        portfolio(
            budget=60,
            touchpoints=[touchpoint("a", LIN100, 100), touchpoint("b", LIN100, 100)],
            journeys=[journey("rich", 1000, [("a", 1)]), journey("poor", 100, [("b", 1)])],
        )
    )
    low, high = silo_weighted_value_range(problem)
    assert (low, high) == pytest.approx((0, 660))
    silo = silo_allocation(problem)
    assert silo.spend == pytest.approx(60)
    assert 60 - 1e-6 <= silo.weighted_value <= 600 + 1e-6


def test_silo_value_range_is_narrow_for_a_strictly_concave_department():
    # The saturating pair of test_saturating_optimum_is_bracketed_by_chords_and_tangents in one
    # department: maximizing q_a + q_b is the same problem, x_a = 500/3, x_b = 400/3, and the
    # journey's value 437.5. Near-optimal allocations (1e-3 of the qualities) stay close.
    problem = problem_of(
        portfolio(
            budget=300,
            touchpoints=[
                touchpoint("a", saturating(0, 1, 100), 1000),
                touchpoint("b", saturating(0, 1, 400), 1000),
            ],
            journeys=[journey("j", 1000, [("a", 1), ("b", 1)])],
        )
    )
    silo = silo_allocation(problem)
    assert silo.allocation == pytest.approx((500 / 3, 400 / 3), rel=1e-2)
    assert silo.weighted_value == pytest.approx(437.5, rel=1e-4)
    low, high = silo_weighted_value_range(problem, rel_tol=1e-3)
    assert low <= 437.5 <= high
    assert high - low < 0.1 * 437.5
    exact_low, exact_high = silo_weighted_value_range(problem, rel_tol=0)
    assert low <= exact_low <= 437.5 <= exact_high <= high


@pytest.mark.parametrize(
    ("curve", "lower", "upper"),
    [
        ({"hill": {"base": 0.1, "max": 0.9, "half_spend": 300, "shape": 0.5}}, 0, 5000),
        ({"hill": {"base": 0.0, "max": 1.0, "half_spend": 300, "shape": 1.0}}, 20, 900),
        ({"exponential": {"base": 0.2, "max": 0.8, "scale": 250}}, 0, 3000),
        ({"logistic": {"base": 0.05, "max": 0.95, "lam": 0.004}}, 0, 3000),
    ],
    ids=["hill-0.5", "hill-1", "exponential", "logistic"],
)
def test_tangents_lie_above_and_chords_below_every_form(curve, lower, upper):
    data = portfolio(
        budget=0,
        touchpoints=[touchpoint("a", curve, upper)],
        journeys=[journey("j", 1, [("a", 1)])],
    )
    c = problem_of(data).touchpoints[0].curve
    chord_a, chord_b = curve_lines(c, lower, upper, side="chord")
    tangent_a, tangent_b = curve_lines(c, lower, upper, side="tangent")
    error = chord_error(c, lower, upper)
    assert 0 < error < 2e-3
    for k in range(2001):
        x = lower + (upper - lower) * k / 2000
        true = curve_quality(c, x)
        assert min(chord_a + chord_b * x) - 1e-12 <= true <= min(tangent_a + tangent_b * x) + 1e-9
        assert true - min(chord_a + chord_b * x) <= error + 1e-12
