"""The price of a journey owner's ask, against hand-worked optima and an independent LP.

Hand-worked (points curves, so the LP is exact): touchpoints a and b, one journey each,
value 100 each, budget 10. a: q = x / 10 (10 of value per unit), b: q = x / 20 (5 per
unit), both up to spend 10. The optimum puts all 10 on a: value 100, jb at quality 0.

Ask: jb at quality 0.25 (xb = 5).
- Same budget: xa = 5, value 50 + 25 = 75: the portfolio gives up 25; ja loses 50.
- More money, keeping value 100: 10 xa + 5 xb >= 100 with xb >= 5 -> xa = 7.5, spend
  12.5: it takes 2.5 more.
"""

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from optimizer.ask import ask, with_floor
from tests.optimizer.builders import journey, points, portfolio, problem_of, touchpoint
from tests.optimizer.reference import reference_optimum
from tests.optimizer.strategies import as_yaml, portfolios, problem_from


def two_journeys(**kwargs: Any) -> dict[str, Any]:
    return portfolio(
        budget=10,
        touchpoints=[
            touchpoint("a", points((0, 0), (10, 1)), 10),
            touchpoint("b", points((0, 0), (10, 0.5)), 10),
        ],
        journeys=[journey("ja", 100, [("a", 1)]), journey("jb", 100, [("b", 1)])],
        **kwargs,
    )


def test_both_prices_of_a_hand_worked_ask() -> None:
    result = ask(problem_of(two_journeys()), "jb", 0.25)
    assert result.reason is None
    assert result.base.value == pytest.approx(100, rel=1e-6)
    assert result.base.quality == pytest.approx(0, abs=1e-9)
    same = result.same_budget
    assert same is not None
    assert same.value == pytest.approx(75, rel=1e-6)
    assert same.value_change == pytest.approx(-25, rel=1e-6)
    assert [(c.id, round(c.value_change, 6)) for c in same.losers] == [("ja", -50)]
    extra = result.extra_budget
    assert extra is not None
    assert extra.spend == pytest.approx(12.5, rel=1e-6)
    assert extra.extra == pytest.approx(2.5, rel=1e-6)
    moves = {c.id: (c.same_budget, c.extra_budget) for c in result.changes}
    assert moves["a"] == (pytest.approx(-5), pytest.approx(-2.5))
    assert moves["b"] == (pytest.approx(5), pytest.approx(5))


def test_a_department_cap_binds_the_price_with_more_money() -> None:
    # b's department may spend at most 4: quality 0.2 at most; 0.25 is out of reach
    doc = two_journeys(departments={"ops": None, "cx": 4})
    doc["touchpoints"][1]["department"] = "cx"
    result = ask(problem_of(doc), "jb", 0.25)
    assert result.same_budget is None
    assert result.extra_budget is None
    assert result.reason is not None
    assert "Cx budget" in result.reason
    # pooled, the cap does not apply
    pooled = ask(problem_of(doc, pooled=True), "jb", 0.25)
    assert pooled.reason is None
    assert pooled.extra_budget is not None
    assert pooled.extra_budget.extra == pytest.approx(2.5, rel=1e-6)


def test_an_unreachable_target_says_how_high_it_can_go() -> None:
    result = ask(problem_of(two_journeys()), "jb", 0.9)
    assert result.same_budget is None
    assert result.extra_budget is None
    assert result.highest_reachable == pytest.approx(0.5, rel=1e-6)
    assert "out of reach" in (result.reason or "")


def test_unknown_journey_and_bad_target_are_refused() -> None:
    problem = problem_of(two_journeys())
    with pytest.raises(ValueError, match="unknown journey 'nope'"):
        ask(problem, "nope", 0.5)
    with pytest.raises(ValueError, match="outside"):
        ask(problem, "jb", 1.5)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.generate],
)
@given(portfolios(curves="points", scenario=False, max_touchpoints=6), st.data())
def test_prices_hold_against_an_independent_lp(doc: dict[str, Any], data: st.DataObject) -> None:
    note(f"document:\n{as_yaml(doc)}")
    problem = problem_from(doc)
    base = reference_optimum(problem)
    if base.feasible is not True:
        return
    j = data.draw(st.integers(0, len(problem.journeys) - 1))
    target = data.draw(st.sampled_from([0.1, 0.3, 0.5, 0.7]))
    journey_id = problem.journeys[j].id
    result = ask(problem, journey_id, target)
    tol = 1e-6 * max(1.0, sum(jj.value * max(1.0, jj.priority) for jj in problem.journeys))
    # (a) the same budget: the independent optimum with the floor raised
    same = reference_optimum(with_floor(problem, j, target))
    if result.same_budget is None:
        assert same.feasible is False
    else:
        assert same.feasible is True
        assert result.same_budget.weighted_value == pytest.approx(same.lower, abs=tol)
    # (b) more money: the least budget at which the independent optimum with the floor keeps
    # today's optimal weighted value
    kept = base.lower
    if result.extra_budget is None:
        return
    spend = result.extra_budget.spend
    floored = with_floor(problem, j, target)
    at = reference_optimum(floored.with_budget(spend + tol))
    assert at.feasible is True
    assert at.lower >= kept - 10 * tol
    step = max(1e-3 * spend, 1e-3)
    if spend - step >= 0:
        below = reference_optimum(floored.with_budget(spend - step))
        assert below.feasible is not True or below.lower < kept - tol


def test_command_line_prints_both_prices(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(two_journeys()))
    exe = str(Path(sys.executable).with_name("journeyfolio"))

    def ask_cli(journey: str, quality: str, *more: str) -> subprocess.CompletedProcess[str]:
        args = [exe, "ask", str(path), "--journey", journey, "--quality", quality, *more]
        return subprocess.run(args, capture_output=True, text=True, check=False)

    proc = ask_cli("jb", "0.25", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert math.isclose(data["extra_budget"]["extra"], 2.5, rel_tol=1e-6)
    assert math.isclose(data["same_budget"]["value_change"], -25, rel_tol=1e-6)
    text = ask_cli("jb", "0.25").stdout
    assert "it takes 2 EUR more" in text or "it takes 3 EUR more" in text
    bad = ask_cli("nope", "0.25")
    assert bad.returncode == 2
    assert "--journey: unknown journey 'nope'" in bad.stderr
    far = ask_cli("jb", "0.9")
    assert far.returncode == 3
    assert "Highest reachable quality: 0.500" in far.stdout
