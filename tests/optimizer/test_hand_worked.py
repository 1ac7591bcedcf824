"""Small portfolios whose optimum is worked out by hand in the comment above each test."""

from typing import Any

import pytest

from optimizer.document import validate_document
from optimizer.problem import resolve
from optimizer.result import RunResult
from optimizer.solve import solve


def linear(top_spend: float, top_quality: float, start: float = 0.0) -> dict[str, Any]:
    return {"points": [[0, start], [top_spend, top_quality]]}


def portfolio(
    touchpoints: list[dict[str, Any]],
    journeys: list[dict[str, Any]],
    *,
    budget: float,
    departments: list[dict[str, Any]] | None = None,
    dependencies: list[dict[str, str]] | None = None,
    scenarios: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    tps = []
    for tp in touchpoints:
        full = {
            "name": tp["id"].upper(),
            "department": "d",
            "channel": "web",
            "current_spend": 0,
            "max_spend": 10,
        }
        full.update(tp)
        tps.append(full)
    js = []
    for journey in journeys:
        full = {"name": journey["id"].upper(), "persona": "p"}
        full.update(journey)
        js.append(full)
    return {
        "format": "journeyfolio/v1",
        "id": "hand",
        "name": "Hand-worked",
        "budget": budget,
        "departments": departments or [{"id": "d", "name": "D"}],
        "personas": [{"id": "p", "name": "P"}],
        "touchpoints": tps,
        "dependencies": dependencies or [],
        "journeys": js,
        "scenarios": scenarios or [],
    }


def run(data: dict[str, Any], scenario: str | None = None, **overrides: Any) -> RunResult:
    return solve(resolve(validate_document(data), scenario, **overrides))


def by_id(items: list[Any]) -> dict[str, Any]:
    return {item.id: item for item in items}


def test_weakest_link_balances_critical_touchpoint() -> None:
    # One journey (value 1000), a and b weighted 1:1, b critical. qa = xa / 10,
    # qb = xb / 20, xa + xb = 10. E = min((qa + qb) / 2, qb).
    # If qb <= qa: E = qb, maximal when qb = qa: xb / 20 = (10 - xb) / 10 -> xb = 20/3.
    # If qb >= qa: E = (qa + qb) / 2 rises with xa up to qa = qb: the same point.
    # So xa = 10/3, xb = 20/3, qa = qb = 1/3, value 1000 / 3.
    data = portfolio(
        [{"id": "a", "curve": linear(10, 1)}, {"id": "b", "curve": linear(10, 0.5)}],
        [
            {
                "id": "j",
                "value": 1000,
                "touchpoints": [{"touchpoint": "a"}, {"touchpoint": "b", "critical": True}],
            }
        ],
        budget=10,
    )
    result = run(data)
    tps = by_id(result.touchpoints)
    assert result.status == "optimal"
    assert tps["a"].spend == pytest.approx(10 / 3, rel=1e-6)
    assert tps["b"].spend == pytest.approx(20 / 3, rel=1e-6)
    assert result.portfolio.value == pytest.approx(1000 / 3, rel=1e-6)
    assert result.journeys[0].quality == pytest.approx(1 / 3, rel=1e-6)
    # the silo maximizes qa + qb: a's slope (0.1) beats b's (0.05), so a gets all 10,
    # qb = 0 and the critical touchpoint zeroes the journey
    assert result.baselines.silo.allocation == pytest.approx({"a": 10, "b": 0})
    assert result.baselines.silo.value == pytest.approx(0)
    assert result.price_of_silos == pytest.approx(1000 / 3, rel=1e-6)
    # one more unit of budget: 1/3 to a and 2/3 to b keeps them equal, E rises by 1/30
    assert result.shadow_prices.budget == pytest.approx(1000 / 30, rel=1e-6)
    assert result.binding == ["budget"]


def test_shared_touchpoint_is_worth_the_sum_of_its_journeys() -> None:
    # Two journeys worth 100 each: J1 = (s + a) / 2, J2 = (s + b) / 2. s has slope 0.1 up
    # to 10 and serves both: 0.1 * (50 + 50) = 10 per unit. a and b have slope 0.15 up to
    # 5 (quality 0.75) but serve one journey each: 0.15 * 50 = 7.5 per unit. Budget 10:
    # all of it to s, qs = 1, E1 = E2 = 0.5, value 100.
    # The silo maximizes qs + qa + qb: a and b (0.15) first, 5 each, qa = qb = 0.75,
    # qs = 0: E = 0.375 each, value 75. Price of silos 25.
    # Budget shadow price: s is at its max, so the next unit goes to a or b: 7.5 (right
    # derivative); the last unit taken from s loses 10 (left derivative).
    data = portfolio(
        [
            {"id": "s", "curve": linear(10, 1)},
            {"id": "a", "curve": {"points": [[0, 0], [5, 0.75]]}},
            {"id": "b", "curve": {"points": [[0, 0], [5, 0.75]]}},
        ],
        [
            {"id": "j1", "value": 100, "touchpoints": [{"touchpoint": "s"}, {"touchpoint": "a"}]},
            {"id": "j2", "value": 100, "touchpoints": [{"touchpoint": "s"}, {"touchpoint": "b"}]},
        ],
        budget=10,
    )
    result = run(data)
    tps = by_id(result.touchpoints)
    assert tps["s"].spend == pytest.approx(10)
    assert tps["a"].spend == pytest.approx(0, abs=1e-6)
    assert result.portfolio.value == pytest.approx(100)
    assert result.baselines.silo.value == pytest.approx(75)
    assert result.price_of_silos == pytest.approx(25)
    assert 7.5 - 1e-6 <= result.shadow_prices.budget <= 10 + 1e-6
    assert tps["s"].journeys == ["j1", "j2"]
    assert tps["s"].reason == "at_max_spend"
    assert tps["a"].reason == "at_min_spend"
    # s's 10 is shared by w' * value: 0.5 * 100 each
    assert [j.attributed_cost for j in result.journeys] == pytest.approx([5, 5])


def test_dependency_caps_quality_and_spare_money_stays_unallocated() -> None:
    # t requires u; u's quality is 0.5 whatever is spent (a flat curve). The journey sees
    # min(qt, 0.5): t needs only xt = 5 (qt = 0.5); spending more creates no value, so
    # with least spend on ties 5 of the budget of 10 stays unallocated. Value 100 * 0.5.
    data = portfolio(
        [{"id": "t", "curve": linear(10, 1)}, {"id": "u", "curve": {"points": [[0, 0.5]]}}],
        [{"id": "j", "value": 100, "touchpoints": [{"touchpoint": "t"}]}],
        budget=10,
        dependencies=[{"touchpoint": "t", "requires": "u"}],
    )
    result = run(data)
    tps = by_id(result.touchpoints)
    assert tps["t"].spend == pytest.approx(5, rel=1e-6)
    assert tps["u"].spend == pytest.approx(0, abs=1e-9)
    assert tps["t"].quality == pytest.approx(0.5)
    assert tps["t"].reason == "limited_by_dependency"
    assert tps["u"].journeys == ["j"]  # serves j through t
    assert result.portfolio.value == pytest.approx(50)
    assert result.portfolio.unallocated == pytest.approx(5, rel=1e-6)
    assert result.shadow_prices.budget == pytest.approx(0, abs=1e-9)
    # the silo is blind to the dependency: it spends all 10 on t (qt = 1), still worth 50
    assert result.baselines.silo.allocation["t"] == pytest.approx(10)
    assert result.baselines.silo.value == pytest.approx(50)


def test_pooled_budget_beats_department_caps() -> None:
    # m (marketing, cap 4) has slope 0.1, s (service, cap 10) slope 0.05; one journey worth
    # 100 weights them 1:1. Departmental: m = 4, s = 6, E = (0.4 + 0.3) / 2 = 0.35 -> 35.
    # Pooled: m's 0.1 * 50 = 5 per unit beats s's 2.5: m = 10, s = 0, E = 0.5 -> 50.
    # Departmental shadow prices: budget 2.5 (one more unit goes to s), marketing cap 5 - 2.5
    # (a unit moved from s to m). The silo allotments: caps 4 + 10 > budget 10, scaled by
    # 10/14: m gets 20/7, s 50/7 -> E = (2/7 + 5/14) / 2 = 9/28, value 32.14.
    data = portfolio(
        [
            {"id": "m", "department": "marketing", "curve": linear(10, 1)},
            {"id": "s", "department": "service", "curve": linear(10, 0.5)},
        ],
        [{"id": "j", "value": 100, "touchpoints": [{"touchpoint": "m"}, {"touchpoint": "s"}]}],
        budget=10,
        departments=[
            {"id": "marketing", "name": "Marketing", "budget": 4},
            {"id": "service", "name": "Service", "budget": 10},
        ],
        scenarios=[{"id": "pooled", "name": "Pooled", "pooled": True}],
    )
    departmental = run(data)
    pooled = run(data, "pooled")
    assert departmental.portfolio.value == pytest.approx(35)
    assert pooled.portfolio.value == pytest.approx(50)
    assert by_id(pooled.touchpoints)["m"].spend == pytest.approx(10)
    assert departmental.shadow_prices.budget == pytest.approx(2.5)
    assert departmental.shadow_prices.departments == pytest.approx(
        {"marketing": 2.5, "service": 0.0}
    )
    assert set(departmental.binding) == {"budget", "department:marketing"}
    assert pooled.shadow_prices.departments == {}
    assert pooled.shadow_prices.budget == pytest.approx(2.5)  # s is next, at 2.5
    assert departmental.baselines.silo.value == pytest.approx(100 * 9 / 28)
    assert pooled.price_of_silos == pytest.approx(50 - 100 * 9 / 28)


def test_min_spend_mode_reaches_the_floor_with_least_money() -> None:
    # q = x / 10; floor 0.6 on the only journey -> x = 6 whatever the budget (mode
    # min_spend ignores it). Raising the floor by 0.01 costs 0.1 more spend.
    data = portfolio(
        [{"id": "t", "curve": linear(10, 1)}],
        [{"id": "j", "value": 100, "floor": 0.6, "touchpoints": [{"touchpoint": "t"}]}],
        budget=3,
    )
    result = run(data, mode="min_spend")
    assert result.status == "optimal"
    assert result.portfolio.spend == pytest.approx(6, rel=1e-6)
    assert result.portfolio.objective == pytest.approx(6, rel=1e-6)
    assert result.shadow_prices.floors["j"] == pytest.approx(0.1, rel=1e-6)
    assert "floor:j" in result.binding


def test_floor_that_needs_money_names_the_department_and_amount() -> None:
    # q = x / 10 in department d capped at 5; floor 0.8 needs x = 8: 3 more in d.
    data = portfolio(
        [{"id": "t", "curve": linear(10, 1)}],
        [{"id": "j", "value": 100, "floor": 0.8, "touchpoints": [{"touchpoint": "t"}]}],
        budget=10,
        departments=[{"id": "d", "name": "D", "budget": 5}],
    )
    result = run(data)
    assert result.status == "infeasible"
    assert [c.constraint for c in result.conflicts] == ["department:d"]
    conflict = result.conflicts[0]
    assert conflict.shortfall == pytest.approx(3, rel=1e-6)
    assert conflict.message.startswith(
        "the floor 0.80 on 'J' needs 3 EUR more in the D budget (cap 5 EUR)"
    )
    assert conflict.related == ["floor:j"]


def test_unreachable_floor_is_reported_in_quality() -> None:
    # The curve tops out at 0.7: a floor of 0.9 is 0.2 out of reach with any money.
    data = portfolio(
        [{"id": "t", "curve": linear(10, 0.7)}],
        [{"id": "j", "value": 100, "floor": 0.9, "touchpoints": [{"touchpoint": "t"}]}],
        budget=100,
    )
    result = run(data)
    assert result.status == "infeasible"
    (conflict,) = result.conflicts
    assert conflict.constraint == "floor:j"
    assert conflict.unit == "quality"
    assert conflict.shortfall == pytest.approx(0.2, rel=1e-6)


def test_locks_above_a_cap_are_a_money_conflict() -> None:
    data = portfolio(
        [{"id": "t", "curve": linear(10, 1)}, {"id": "u", "curve": linear(10, 1)}],
        [{"id": "j", "value": 100, "touchpoints": [{"touchpoint": "t"}, {"touchpoint": "u"}]}],
        budget=20,
        departments=[{"id": "d", "name": "D", "budget": 5}],
        scenarios=[{"id": "locked", "name": "Locked", "locks": {"t": 4, "u": 3}}],
    )
    result = run(data, "locked")
    assert result.status == "infeasible"
    (conflict,) = result.conflicts
    assert conflict.constraint == "department:d"
    assert conflict.shortfall == pytest.approx(2)
    assert conflict.message.startswith(
        "locked and minimum spends (7 EUR) alone exceed the D budget (cap 5 EUR) by 2 EUR"
    )


def test_saturating_curves_split_evenly_within_the_gap() -> None:
    # Two identical saturating touchpoints, one journey weighting them 1:1, budget 200:
    # by symmetry and concavity x1 = x2 = 100, q = 0.2 + 0.6 * 100 / 200 = 0.5, value 50.
    curve = {"saturating": {"base": 0.2, "max": 0.8, "half_spend": 100}}
    data = portfolio(
        [
            {"id": "a", "curve": curve, "max_spend": 1000},
            {"id": "b", "curve": curve, "max_spend": 1000},
        ],
        [{"id": "j", "value": 100, "touchpoints": [{"touchpoint": "a"}, {"touchpoint": "b"}]}],
        budget=200,
    )
    result = run(data)
    assert result.solver.approximation_gap <= 1e-3
    assert result.portfolio.value == pytest.approx(50, rel=1e-3)
    assert result.portfolio.value <= 50 + 1e-9  # the true optimum bounds any allocation
    assert result.portfolio.spend == pytest.approx(200, rel=1e-6)
    # marginal value at the optimum: 100 * 0.5 * q'(100) = 50 * 0.6 * 100 / 200^2 = 0.075
    assert result.shadow_prices.budget == pytest.approx(0.075, rel=0.05)


def test_time_limit_covers_the_whole_run() -> None:
    from optimizer.result import SolveError

    data = portfolio(
        [{"id": "t", "curve": linear(10, 1)}],
        [{"id": "j", "value": 100, "touchpoints": [{"touchpoint": "t"}]}],
        budget=10,
    )
    problem = resolve(validate_document(data))
    with pytest.raises(SolveError, match="time limit"):
        solve(problem, time_limit=1e-9)
    assert solve(problem, time_limit=60).status == "optimal"
