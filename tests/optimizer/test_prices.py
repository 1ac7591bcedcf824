"""Prices on the true curves: every shadow price is the derivative of the optimum on the
true curves, checked against central finite differences of re-solved optima (the run is a
black box: the optima at b - h and b + h are the true-curve objectives of separate runs).

Where the value function has a kink the run reports both one-sided prices in
`shadow_prices.intervals`; there the finite difference must lie between them.
"""

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from optimizer.document import load_document
from optimizer.problem import PortfolioProblem, resolve
from optimizer.result import RunResult
from optimizer.solve import solve
from tests.optimizer.strategies import as_yaml, portfolios, problem_from

STEP = 1e-3
"""Finite-difference step, relative to the right-hand side it moves."""
PRICE_REL = 0.01
FINE = 1e-7
"""Gap target of the runs the finite differences are taken from."""
QUOTED = 1e-4
"""A price is quoted to four decimals: a difference below this from a price of 0 is the
reference optima's noise (a slack cap moved by 0.1 % changes a 24 M optimum by cents)."""


def examples(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
        # each example re-solves a handful of runs: shrinking would take minutes
        phases=[Phase.explicit, Phase.generate],
    )


def objective(problem: PortfolioProblem) -> tuple[float, float] | None:
    """The optimum on the true curves and how far it may be off (its certified gap)."""
    run = solve(problem, gap_target=FINE)
    if run.status != "optimal":
        return None
    value = run.portfolio.objective
    return value, run.solver.approximation_gap * max(abs(value), abs(run.portfolio.weighted_value))


def central(problem: PortfolioProblem, at: float, moved: Any) -> tuple[float, float] | None:
    """(v(at + h) - v(at - h)) / 2h, v the optimum of `moved(problem, rhs)`, and the
    uncertainty the two optima's certified gaps leave in it."""
    h = STEP * max(at, 1.0)
    if at - h < 0:
        return None
    up, down = objective(moved(problem, at + h)), objective(moved(problem, at - h))
    if up is None or down is None:
        return None
    return (up[0] - down[0]) / (2 * h), (up[1] + down[1]) / (2 * h)


def agrees(price: float, interval: list[float] | None, fd: tuple[float, float]) -> bool:
    difference, uncertainty = max(fd[0], 0.0), fd[1]
    # 1 % of the price, plus what the reference optima's certified gaps leave uncertain in
    # the difference (capped at another 1 %: the gap certificates are loose)
    scale = max(abs(price), abs(difference))
    slack = PRICE_REL * scale + min(uncertainty, PRICE_REL * scale) + QUOTED
    if interval is not None:
        low, high = min(interval), max(interval)
        return low - slack <= difference <= high + slack
    return abs(price - difference) <= slack


def with_cap(problem: PortfolioProblem, d: int, cap: float) -> PortfolioProblem:
    departments = list(problem.departments)
    departments[d] = replace(departments[d], cap=cap)
    return replace(problem, departments=tuple(departments))


def check_prices(problem: PortfolioProblem, run: RunResult, say: Any = note) -> int:
    """Assert every price of the run against its finite difference; how many were checked."""
    prices = run.shadow_prices
    intervals = prices.intervals
    checked = 0
    if problem.mode != "min_spend":
        fd = central(problem, problem.budget, lambda p, b: p.with_budget(b))
        say(f"budget: price {prices.budget}, interval {intervals.budget}, difference {fd}")
        if fd is not None:
            assert agrees(prices.budget, intervals.budget, fd), (prices.budget, fd)
            checked += 1
    for d, cap in problem.department_caps.items():
        dept = problem.departments[d].id
        if dept not in prices.departments:
            continue
        fd = central(problem, cap, lambda p, c, d=d: with_cap(p, d, c))
        say(f"department {dept}: price {prices.departments[dept]}, difference {fd}")
        if fd is not None:
            interval = intervals.departments.get(dept)
            assert agrees(prices.departments[dept], interval, fd), (dept, fd)
            checked += 1
    return checked


@examples(15)
@given(
    portfolios(curves="saturating", scenario=False, max_touchpoints=6, max_journeys=4),
    st.sampled_from(["max_value", "max_net_value"]),
    st.booleans(),
)
def test_prices_are_derivatives_of_the_true_optimum(doc: dict[str, Any], mode: str, pooled):
    note(f"document:\n{as_yaml(doc)}")
    problem = problem_from(doc, mode=mode, pooled=pooled)
    run = solve(problem)
    if run.status != "optimal":
        return
    check_prices(problem, run)


@pytest.mark.parametrize("seed", ["sonnenreisen-2027", "finanzhaus-2027", "maschinenbau-2027"])
def test_demo_prices_are_derivatives(seed: str) -> None:
    from pathlib import Path

    path = Path(__file__).parents[2] / "seeds" / f"{seed}.yaml"
    problem = resolve(load_document(path))
    run = solve(problem)
    assert run.status == "optimal"
    assert check_prices(problem, run, print) >= 1
    # the unit says what a price is worth in this mode
    assert (
        run.shadow_prices.unit
        == f"{run.currency} of priority-weighted value per extra {run.currency}"
    )
