"""check_run on hand-made runs: quiet on a consistent run, loud on every kind of corruption.

The runs are built here from an allocation with the reference's true-curve evaluation (a
minimal, honest reporter), validated by RunResult, and then corrupted one figure at a time.
"""

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from optimizer.problem import PortfolioProblem
from optimizer.result import RunResult
from tests.optimizer.builders import journey, points, portfolio, problem_of, touchpoint
from tests.optimizer.checks import check_run, served_journeys
from tests.optimizer.reference import (
    curve_quality,
    evaluate,
    reference_optimum,
    silo_allocation,
    violations,
)

LIN100 = points((0, 0), (100, 1))


def fake_run(
    problem: PortfolioProblem,
    allocation: Sequence[float],
    *,
    budget_price: float = 0.0,
    department_prices: dict[str, float] | None = None,
    floor_prices: dict[str, float] | None = None,
    binding: Sequence[str] = (),
) -> dict[str, Any]:
    """A run of `allocation` with every figure computed as run-result.md defines it."""
    ids = [tp.id for tp in problem.touchpoints]
    ev = evaluate(problem, allocation)
    current_alloc = [tp.current_spend for tp in problem.touchpoints]
    current = evaluate(problem, current_alloc)
    serves = served_journeys(problem)
    spend = math.fsum(allocation)
    department_prices = department_prices or {}
    floor_prices = floor_prices or {}

    def baseline(alloc: Sequence[float]) -> dict[str, Any]:
        e = evaluate(problem, alloc)
        broken = violations(problem, alloc)
        return {
            "value": e.value,
            "weighted_value": e.weighted_value,
            "spend": math.fsum(alloc),
            "feasible": not broken,
            "violations": broken,
            "allocation": dict(zip(ids, alloc, strict=True)),
        }

    costs = [0.0] * len(problem.journeys)
    for t, served in enumerate(serves):
        total = sum(w * problem.journeys[j].value for j, w in served.items())
        for j, w in served.items():
            costs[j] += allocation[t] * w * problem.journeys[j].value / total
    silo = baseline(silo_allocation(problem).allocation)
    weighted = ev.weighted_value
    objective = {"max_value": weighted, "max_net_value": weighted - spend, "min_spend": spend}
    run = {
        "portfolio_id": problem.portfolio_id,
        "scenario_id": problem.scenario_id,
        "status": "optimal",
        "mode": problem.mode,
        "currency": problem.currency,
        "scenario": {
            "id": problem.scenario_id,
            "name": problem.scenario_name,
            "budget": problem.budget,
            "pooled": problem.pooled,
            "mode": problem.mode,
        },
        "portfolio": {
            "value": ev.value,
            "weighted_value": weighted,
            "objective": objective[problem.mode],
            "spend": spend,
            "budget": problem.budget,
            "unallocated": max(0.0, problem.budget - spend),
            "current_spend": math.fsum(current_alloc),
            "unattributed_spend": math.fsum(
                x for x, s in zip(allocation, serves, strict=True) if not s
            ),
        },
        "touchpoints": [
            {
                "id": tp.id,
                "name": tp.name,
                "department": problem.departments[tp.department].id,
                "channel": tp.channel,
                "spend": allocation[t],
                "current_spend": tp.current_spend,
                "change": allocation[t] - tp.current_spend,
                "min_spend": tp.min_spend,
                "max_spend": tp.max_spend,
                "quality": ev.touchpoint_qualities[t],
                "curve_quality": curve_quality(tp.curve, allocation[t]),
                "current_quality": current.touchpoint_qualities[t],
                "marginal_value": 0.0,
                "reason": "locked" if tp.locked else "excluded" if tp.excluded else "balanced",
                "explanation": "",
                "journeys": [problem.journeys[j].id for j in serves[t]],
                "requires": [problem.touchpoints[u].id for tt, u in problem.requires if tt == t],
            }
            for t, tp in enumerate(problem.touchpoints)
        ],
        "journeys": [
            {
                "id": j.id,
                "name": j.name,
                "persona": j.persona,
                "owner": j.owner,
                "quality": ev.journey_qualities[k],
                "value": j.value * ev.journey_qualities[k],
                "weighted_value": j.priority * j.value * ev.journey_qualities[k],
                "priority": j.priority,
                "max_value": j.value,
                "current_quality": current.journey_qualities[k],
                "current_value": j.value * current.journey_qualities[k],
                "attributed_cost": costs[k],
                "value_per_cost": j.value * ev.journey_qualities[k] / costs[k]
                if costs[k]
                else None,
                "floor": j.floor,
                "limited_by": None,
                "limited_by_critical": False,
            }
            for k, j in enumerate(problem.journeys)
        ],
        "departments": [
            {
                "id": dept.id,
                "name": dept.name,
                "spend": math.fsum(allocation[t] for t in problem.members[d]),
                "current_spend": math.fsum(current_alloc[t] for t in problem.members[d]),
                "cap": dept.cap,
                "cap_applies": d in problem.department_caps,
                "shadow_price": department_prices.get(dept.id, 0.0),
            }
            for d, dept in enumerate(problem.departments)
        ],
        "shadow_prices": {
            "budget": budget_price,
            "departments": {
                problem.departments[d].id: department_prices.get(problem.departments[d].id, 0.0)
                for d in problem.department_caps
            },
            "floors": {j.id: floor_prices.get(j.id, 0.0) for j in problem.journeys if j.floor},
        },
        "baselines": {"current": baseline(current_alloc), "silo": silo},
        "price_of_silos": weighted - silo["weighted_value"],
        "binding": list(binding),
        "conflicts": [],
        "solver": {
            "name": "reference",
            "status": "Optimal",
            "build_seconds": 0.0,
            "solve_seconds": 0.0,
            "total_seconds": 0.0,
            "variables": 0,
            "constraints": 0,
            "approximation_gap": 0.0,
            "breakpoints": 0,
            "refinements": 0,
        },
    }
    # The dict is exactly the run JSON: RunResult accepts it and gives it back.
    return RunResult.model_validate(run).model_dump()


def capped_problem(**kwargs: Any) -> PortfolioProblem:
    # a (marketing, cap 30; 0.01 quality/unit) and b (service; 0.005/unit up to 0.5), equal
    # weights in one journey of value 1000 with floor 0.3, budget 100. Optimum: a = 30 (cap),
    # b = 70: E = 0.5 * 0.3 + 0.5 * 0.35 = 0.325 -> 325. Prices: an extra unit of budget goes
    # to b: 1000 * 0.5 * 0.005 = 2.5; an extra unit of cap moves a unit from b to a:
    # 1000 * 0.5 * (0.01 - 0.005) = 2.5. The floor (0.3 < 0.325) does not bind: price 0.
    data = portfolio(
        budget=100,
        departments={"marketing": 30, "service": None},
        touchpoints=[
            touchpoint("a", LIN100, 100, department="marketing", current=20),
            touchpoint("b", points((0, 0), (100, 0.5)), 100, department="service", current=50),
        ],
        journeys=[journey("j", 1000, [("a", 1), ("b", 1)], floor=0.3)],
        scenarios=[
            {"id": "lock", "name": "Lock", "locks": {"a": 10.0}, "floors": {"j": None}},
            {"id": "exclude", "name": "Exclude", "exclude": ["a"], "floors": {"j": None}},
        ],
    )
    return problem_of(data, **kwargs)


def optimal_run() -> tuple[PortfolioProblem, dict[str, Any]]:
    problem = capped_problem()
    return problem, fake_run(
        problem,
        [30, 70],
        budget_price=2.5,
        department_prices={"marketing": 2.5},
        binding=["budget", "department:marketing"],
    )


def test_the_hand_worked_optimum_is_the_reference_optimum():
    problem, _ = optimal_run()
    ref = reference_optimum(problem)
    assert ref.allocation == pytest.approx((30, 70))
    assert ref.lower == pytest.approx(325)


def test_a_consistent_run_passes():
    problem, run = optimal_run()
    assert check_run(problem, run) == []
    assert check_run(problem, RunResult.model_validate(run)) == []
    # The baselines: current (20, 50) misses the floor, silo = (cap 30, rest 70) = optimum.
    assert run["baselines"]["current"]["feasible"] is False
    assert run["price_of_silos"] == pytest.approx(0, abs=1e-5)


def corrupt(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set run[path] (dots and list indices: 'journeys.0.value') to value (or value(old))."""

    def apply(run: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = run
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key = int(last) if isinstance(node, list) else last
        node[key] = value(node[key]) if callable(value) else value

    return apply


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (corrupt("touchpoints.0.quality", lambda q: q + 0.01), "touchpoint a: quality"),
        (corrupt("touchpoints.0.curve_quality", 0.5), "touchpoint a: curve_quality"),
        (corrupt("touchpoints.1.current_quality", 0.0), "touchpoint b: current_quality"),
        (corrupt("touchpoints.0.change", 0.0), "touchpoint a: change"),
        (corrupt("touchpoints.0.journeys", []), "touchpoint a: journeys"),
        (corrupt("touchpoints.0.reason", "serves_no_journey"), "serves_no_journey"),
        (corrupt("touchpoints.0.reason", "at_max_spend"), "at_max_spend"),
        (corrupt("touchpoints.0.reason", "locked"), "reason 'locked'"),
        (corrupt("journeys.0.quality", 0.4), "journey j: quality"),
        (corrupt("journeys.0.value", 400.0), "journey j: value"),
        (corrupt("journeys.0.weighted_value", 1.0), "journey j: weighted_value"),
        (corrupt("journeys.0.attributed_cost", 90.0), "attributed_cost"),
        (corrupt("journeys.0.value_per_cost", 1.0), "value_per_cost"),
        (corrupt("journeys.0.floor", None), "journey j: floor"),
        (corrupt("journeys.0.limited_by", "zzz"), "limited_by"),
        (corrupt("departments.0.spend", 20.0), "department marketing: spend"),
        (corrupt("departments.0.cap_applies", False), "cap_applies"),
        (corrupt("departments.0.shadow_price", 0.0), "shadow_price"),
        (corrupt("portfolio.value", 300.0), "portfolio.value"),
        (corrupt("portfolio.weighted_value", 300.0), "portfolio.weighted_value"),
        (corrupt("portfolio.objective", 300.0), "portfolio.objective"),
        (corrupt("portfolio.spend", 90.0), "portfolio.spend"),
        (corrupt("portfolio.unallocated", 10.0), "portfolio.unallocated"),
        (corrupt("portfolio.unattributed_spend", 10.0), "unattributed_spend"),
        (corrupt("baselines.silo.weighted_value", 0.0), "baselines.silo.weighted_value"),
        (corrupt("baselines.silo.allocation.a", 0.0), "baselines.silo.value"),
        (corrupt("baselines.current.allocation.a", 25.0), "baselines.current.allocation.a"),
        (corrupt("baselines.current.feasible", True), "baselines.current.feasible"),
        (corrupt("price_of_silos", 10.0), "price_of_silos"),
        (corrupt("shadow_prices.budget", -1.0), "shadow_prices.budget"),
        (corrupt("binding", ["floor:j", "department:service"]), "department:service"),
        (corrupt("status", "unknown"), "status"),
        (corrupt("mode", "min_spend"), "mode"),
        (corrupt("scenario.budget", 1.0), "scenario.budget"),
        (corrupt("conflicts", [{"constraint": "budget"}]), "conflicts"),
    ],
)
def test_each_corruption_is_reported(mutation, expected):
    problem, run = optimal_run()
    bad = copy.deepcopy(run)
    mutation(bad)
    found = check_run(problem, bad)
    assert any(expected in message for message in found), found


def test_a_cap_overrun_is_reported_even_when_every_figure_matches():
    # a = 40 > cap 30 (b = 60): a consistent report of an allocation that breaks the cap.
    problem = capped_problem()
    found = check_run(problem, fake_run(problem, [40, 60]))
    assert found == ["department marketing: spend 40 above its cap 30"]
    # Pooled, the cap does not apply and the same allocation is fine.
    pooled = capped_problem(pooled=True)
    assert check_run(pooled, fake_run(pooled, [40, 60])) == []


def test_budget_bounds_floor_lock_and_exclude_violations_are_reported():
    problem = capped_problem()
    # Over the budget (30 + 80 = 110 > 100).
    assert "portfolio: spend 110 above the budget 100" in check_run(
        problem, fake_run(problem, [30, 80])
    )
    # A floor missed: a = 10, b = 10: E = 0.5 * 0.1 + 0.5 * 0.05 = 0.075 < 0.3.
    assert any("misses its floor" in m for m in check_run(problem, fake_run(problem, [10, 10])))
    # Above max_spend.
    assert any("above max_spend" in m for m in check_run(problem, fake_run(problem, [30, 130])))
    # The lock (a = 10) and the exclusion (a at its min spend 0); both scenarios drop the floor.
    locked = capped_problem(scenario_id="lock")
    assert check_run(locked, fake_run(locked, [10, 90])) == []
    assert any("differs from its lock" in m for m in check_run(locked, fake_run(locked, [20, 80])))
    excluded = capped_problem(scenario_id="exclude")
    assert check_run(excluded, fake_run(excluded, [0, 100])) == []
    assert any("excluded but spends" in m for m in check_run(excluded, fake_run(excluded, [5, 95])))


def test_prices_of_slack_constraints_must_be_zero():
    # Budget 1000: a = 30 (cap), b = 100 (max): spend 130 < 1000, the budget has price 0 and
    # the floor (E = 0.4 > 0.3) too; the cap binds at a's 1000 * 0.5 * 0.01 = 5 per unit
    # (b is at its max and no longer competes).
    problem = capped_problem(budget=1000)
    assert reference_optimum(problem).allocation == pytest.approx((30, 100))
    good = fake_run(problem, [30, 100], department_prices={"marketing": 5.0})
    assert check_run(problem, good) == []
    bad = fake_run(problem, [30, 100], budget_price=2.5, floor_prices={"j": 1.0})
    found = check_run(problem, bad)
    assert found == [
        "shadow_prices.budget: price 2.5 but 870 of room left (complementary slackness)",
        "shadow_prices.floors.j: price 1 but 0.1 of room left (complementary slackness)",
    ]
    assert any(
        "binding: 'budget'" in m
        for m in check_run(problem, fake_run(problem, [30, 100], binding=["budget"]))
    )


def test_min_spend_mode_ignores_the_budget():
    # min_spend with floor 0.3: a = 30 (cheaper quality) -> 0.15, b needs 0.15 more:
    # 0.5 * x_b / 200 = 0.15 -> x_b = 60: spend 90. With budget 50 the budget must not bind.
    problem = capped_problem(mode="min_spend", budget=50)
    ref = reference_optimum(problem)
    assert ref.allocation == pytest.approx((30, 60))
    assert check_run(problem, fake_run(problem, [30, 60])) == []
    found = check_run(problem, fake_run(problem, [30, 60], budget_price=1.0, binding=["budget"]))
    assert any("does not bind in min_spend" in m for m in found), found


def test_attributed_costs_follow_weight_times_value():
    # s shared by j1 (value 1000, w' 1/2) and j2 (value 500, w' 1/4): s's 90 splits
    # 500 : 125 -> 72 and 18. p: j1 (w' 1/2) and j2 (w' 3/4): p's 10 splits 500 : 375 ->
    # 40/7 and 30/7.
    problem = problem_of(
        portfolio(
            budget=100,
            touchpoints=[touchpoint("s", LIN100, 100), touchpoint("p", LIN100, 100)],
            journeys=[
                journey("j1", 1000, [("s", 1), ("p", 1)]),
                journey("j2", 500, [("s", 1), ("p", 3)]),
            ],
        )
    )
    run = fake_run(problem, [90, 10])
    assert [j["attributed_cost"] for j in run["journeys"]] == pytest.approx(
        [72 + 40 / 7, 18 + 30 / 7]
    )
    assert check_run(problem, run) == []
    # Shared by weight alone (s: 60/30, p: 4/6) is wrong, though it sums up.
    wrong = copy.deepcopy(run)
    for row, cost in zip(wrong["journeys"], [64.0, 36.0], strict=True):
        row["attributed_cost"] = cost
        row["value_per_cost"] = row["value"] / cost
    found = check_run(problem, wrong)
    assert any(m.startswith("journey j1: attributed_cost") for m in found), found
    assert not any("sum of attributed_cost" in m for m in found), found


def test_infeasible_runs_must_name_their_conflicts():
    problem = capped_problem(budget=10)  # the floor 0.3 needs more than 10
    assert reference_optimum(problem).feasible is False
    run = fake_run(problem, [10, 0])
    run["status"] = "infeasible"
    assert "conflicts: an infeasible run names no conflicting constraint" in check_run(problem, run)
    run["conflicts"] = [
        {
            "constraint": "floor:j",
            "shortfall": 0.25,
            "unit": "quality",
            "message": "",
            "related": [],
        }
    ]
    assert check_run(problem, run) == []
    run["conflicts"] = [
        {
            "constraint": "department:service",
            "shortfall": 5.0,
            "unit": "money",
            "message": "",
            "related": [],
        }
    ]
    assert any("has no cap" in m for m in check_run(problem, run))
