"""The value bridge: steps in the fixed order, each a re-solve, summing to the total."""

import copy
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from optimizer.bridge import ORDER, Bridge, End, Settings, bridge, pooled_bridge
from optimizer.document import PortfolioDocument, load_document, validate_document
from optimizer.problem import PortfolioProblem, resolve
from optimizer.result import RunResult
from optimizer.solve import solve
from tests.optimizer.builders import journey, points, portfolio, touchpoint

SEEDS = sorted(Path(__file__).parents[2].joinpath("seeds").glob("*.yaml"))


def cents(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))


def end(doc: PortfolioDocument, scenario: str | None) -> End:
    return End(doc, resolve(doc, scenario), scenario or "base")


def assert_reconciles(result: Bridge) -> None:
    """The steps sum to the total to the cent; each feasible step is the difference of its
    re-solve and the last feasible one before it."""
    last = result.from_value
    for step in result.steps:
        if step.status == "optimal" and last is not None:
            assert step.value is not None
            assert step.value_change is not None
            assert cents(step.value) - cents(last) == cents(step.value_change)
        if step.status == "optimal":
            last = step.value
        else:
            assert step.value_change is None
            assert step.conflicts
        if step.name == "budget" and step.value_change is not None:
            assert step.budget_change
            assert step.value_per_extra_unit == step.value_change / step.budget_change
    assert [s.name for s in result.steps] == [n for n in result.order if n not in result.unchanged]
    if result.status == "optimal":
        assert result.total is not None
        assert result.from_value is not None
        assert result.to_value is not None
        total = sum((cents(s.value_change or 0) for s in result.steps), Decimal(0))
        assert total == cents(result.total)
        assert cents(result.to_value) - cents(result.from_value) == cents(result.total)
        assert last == result.to_value
    else:
        assert result.total is None


@cache
def seed(path: Path) -> PortfolioDocument:
    return load_document(path)


@cache
def run_of(path: Path, scenario: str | None) -> RunResult:
    return solve(resolve(seed(path), scenario))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_every_pair_of_seed_scenarios_reconciles(path: Path) -> None:
    doc = seed(path)
    ids: list[str | None] = [None, *(s.id for s in doc.scenarios)]
    for a in ids:
        for b in ids:
            result = bridge(end(doc, a), end(doc, b), solve=solve)
            assert_reconciles(result)
            # the ends are the two scenarios' own runs
            for side, scenario in ((result.from_, a), (result.to, b)):
                run = run_of(path, scenario)
                assert side.status == run.status
                if run.status == "optimal":
                    assert side.value == float(cents(run.portfolio.value))
            if a == b:
                assert result.steps == []


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_settings_as_overrides_resolve_to_the_same_problem(path: Path) -> None:
    """Intermediate states are resolved from explicit settings: with every group from one
    scenario they give that scenario's problem back."""
    doc = seed(path)

    def essence(problem: PortfolioProblem) -> tuple[object, ...]:
        return (
            problem.budget,
            problem.pooled,
            problem.mode,
            problem.departments,
            problem.touchpoints,
            problem.journeys,
        )

    for scenario in [None, *(s.id for s in doc.scenarios)]:
        problem = resolve(doc, scenario)
        again = resolve(doc, None, overrides=Settings.of(problem).overrides())
        assert essence(again) == essence(problem)


BUDGET_ONLY = portfolio(
    budget=4,
    touchpoints=[touchpoint("t", points((0, 0), (4, 0.6), (10, 0.9)), 10)],
    journeys=[journey("j", 100, [("t", 1)])],
    scenarios=[{"id": "more", "name": "More", "budget": 6}],
)


def test_a_budget_only_bridge_is_the_difference_of_two_runs() -> None:
    # budget 4: quality 0.6, value 60; budget 6: 0.6 + 2 * 0.3 / 6 = 0.7, value 70.
    # One step, +10 of value for +2 of budget: 5 of value per extra unit of money.
    doc = validate_document(BUDGET_ONLY)
    result = bridge(end(doc, None), end(doc, "more"), solve=solve)
    low = solve(resolve(doc)).portfolio.value
    high = solve(resolve(doc, "more")).portfolio.value
    assert low == pytest.approx(60)
    assert high == pytest.approx(70)
    assert [s.name for s in result.steps] == ["budget"]
    (step,) = result.steps
    assert step.value_change == pytest.approx(10, abs=0.005)
    assert step.value_change == float(cents(high) - cents(low))
    assert step.spend_change == pytest.approx(2, abs=0.005)
    assert step.budget_change == 2
    assert step.value_per_extra_unit == step.value_change / 2
    assert step.changes == ["budget 4 -> 6"]
    assert result.total == step.value_change
    assert result.unchanged == [n for n in ORDER if n != "budget"]
    assert_reconciles(result)
    back = bridge(end(doc, "more"), end(doc, None), solve=solve)
    assert back.total == -result.total


def test_the_json_names_the_ends_and_carries_the_format() -> None:
    doc = validate_document(BUDGET_ONLY)
    data = bridge(end(doc, None), end(doc, "more"), solve=solve).model_dump(
        mode="json", by_alias=True
    )
    assert data["format"] == "journeyfolio-bridge/v1"
    assert data["from"]["scenario_id"] is None
    assert data["to"]["scenario_id"] == "more"
    for key in ("portfolio_id", "currency", "from_value", "to_value", "total", "steps"):
        assert key in data
    assert set(data["steps"][0]) >= {"name", "value_change", "spend_change"}


# Two departments of 5 each; j (100) lives on ta, k (50) on tb, both linear to 1 at 10.
# "pooled-floor": pooled with j's floor 0.8 -> ta 10, tb 0: value 100.
# base: departmental, no floor -> 5 and 5: 50 + 25 = 75.
# From pooled-floor to base, the pooling step comes first: department caps with the floor
# still at 0.8 need 8 in department a, which has 5: infeasible. The floors step (floor gone)
# is measured from the last feasible state and carries the pooling step: 75 - 100 = -25.
SPLIT = portfolio(
    budget=10,
    departments={"a": 5, "b": 5},
    touchpoints=[
        touchpoint("ta", points((0, 0), (10, 1)), 10, department="a"),
        touchpoint("tb", points((0, 0), (10, 1)), 10, department="b"),
    ],
    journeys=[journey("j", 100, [("ta", 1)]), journey("k", 50, [("tb", 1)])],
    scenarios=[
        {"id": "pooled-floor", "name": "Pooled, floor", "pooled": True, "floors": {"j": 0.8}}
    ],
)


def test_an_infeasible_step_is_reported_and_carried_by_the_next() -> None:
    doc = validate_document(SPLIT)
    result = bridge(end(doc, "pooled-floor"), end(doc, None), solve=solve)
    assert result.status == "optimal"
    assert result.from_value == pytest.approx(100, abs=0.01)
    assert result.to_value == pytest.approx(75, abs=0.01)
    pooling, floors = result.steps
    assert (pooling.name, pooling.status, pooling.value_change) == ("pooling", "infeasible", None)
    assert pooling.conflicts
    assert pooling.conflicts == [
        "the floor 0.80 on 'J' needs 3 EUR more in the A budget (cap 5 EUR)"
    ]
    assert floors.name == "floors"
    assert floors.includes == ["pooling"]
    assert floors.value_change == pytest.approx(-25, abs=0.01)
    assert floors.value_change == result.total
    assert_reconciles(result)


def test_an_infeasible_end_has_no_total() -> None:
    data = copy.deepcopy(SPLIT)
    data["scenarios"].append({"id": "caps-floor", "name": "Caps, floor", "floors": {"j": 0.8}})
    doc = validate_document(data)
    result = bridge(end(doc, None), end(doc, "caps-floor"), solve=solve)
    assert result.status == "infeasible"
    assert result.to.status == "infeasible"
    assert result.to.conflicts
    assert (result.total, result.to_value) == (None, None)
    assert [(s.name, s.status) for s in result.steps] == [("floors", "infeasible")]
    assert_reconciles(result)


def test_edits_to_the_portfolio_are_the_last_step() -> None:
    # Document B doubles j's value and adds journey k with a priority in B's scenario; the
    # budget changes too. Budget first (on A: 60 -> 70), then the edits (70 -> 140 + k).
    doc_a = validate_document(BUDGET_ONLY)
    data = copy.deepcopy(BUDGET_ONLY)
    data["journeys"][0]["value"] = 200.0
    data["journeys"].append(journey("k", 10, [("t", 1)]))
    data["scenarios"] = [{"id": "more", "name": "More", "budget": 6, "priorities": {"k": 2}}]
    doc_b = validate_document(data)
    result = bridge(end(doc_a, None), end(doc_b, "more"), solve=solve)
    assert [s.name for s in result.steps] == ["budget", "portfolio"]
    budget, edits = result.steps
    assert budget.value_change == pytest.approx(10, abs=0.01)
    assert edits.changes == ["journeys added: k", "journeys changed: j"]
    assert result.to_value == pytest.approx(0.7 * 210, abs=0.01)
    assert edits.weighted_value_change == pytest.approx(0.7 * (200 + 2 * 10) - 70, abs=0.01)
    assert_reconciles(result)


def test_the_pooled_bridge_separates_pooling_from_money() -> None:
    """Sonnenreisen: today's departments -> pooled, same budget -> pooled +10 %."""
    path = next(p for p in SEEDS if p.stem == "sonnenreisen-2027")
    doc = seed(path)
    result = pooled_bridge(doc, percent=10, solve=solve)
    assert result.order == ["pooling", "budget"]
    pooling, money = result.steps
    base = run_of(path, None).portfolio
    pooled = run_of(path, "pooled").portfolio
    bigger = run_of(path, "pooled-plus-10").portfolio  # 1,980,000 pooled
    assert result.from_value == float(cents(base.value))
    assert pooling.value_change == float(cents(pooled.value) - cents(base.value))
    assert pooling.spend_change == 0
    assert money.value_change == float(cents(bigger.value) - cents(pooled.value))
    assert money.budget_change == pytest.approx(180_000)
    assert money.value_per_extra_unit == money.value_change / money.budget_change
    # the extra money alone returns about 1.5 per EUR (the issue measured 1.56 before the
    # idea journey left the budget), far below the 3.75 the mixed box once claimed
    assert 1.4 < money.value_per_extra_unit < 1.7
    assert_reconciles(result)
