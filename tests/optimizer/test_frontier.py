"""The efficient frontier: monotone, concave, each point equal to a separate run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.document import load_document
from optimizer.frontier import frontier
from optimizer.problem import resolve
from optimizer.solve import solve

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module", params=["sonnenreisen-2027", "maschinenbau-2027"])
def problem(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return resolve(load_document(SEEDS / f"{request.param}.yaml"), "pooled")


def test_frontier_is_nondecreasing_and_concave(problem) -> None:  # type: ignore[no-untyped-def]
    result = frontier(problem, points=15)
    points = [p for p in result.points if p.status == "optimal"]
    assert len(points) >= 10
    values = [p.weighted_value for p in points]
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(values, values[1:], strict=False))
    marginals = [p.marginal_value for p in points[:-1]]
    # the chords' approximation may wiggle the slopes by the gap, no more
    tolerance = 2e-3 * max(values) / (points[1].budget - points[0].budget)
    assert all(b <= a + tolerance for a, b in zip(marginals, marginals[1:], strict=False))
    # the dual at each point lies between the slopes on either side (concave value function)
    for left, mid, right in zip(points, points[1:], points[2:], strict=False):
        slope_in = (mid.weighted_value - left.weighted_value) / (mid.budget - left.budget)
        slope_out = (right.weighted_value - mid.weighted_value) / (right.budget - mid.budget)
        assert slope_out - tolerance <= mid.shadow_price <= slope_in + tolerance


def test_each_point_equals_a_separate_run(problem) -> None:  # type: ignore[no-untyped-def]
    result = frontier(problem, points=6)
    for point in result.points:
        run = solve(problem.with_budget(point.budget))
        if point.status == "infeasible":
            assert run.status == "infeasible"
            continue
        # both lie within their certified gaps of the same true optimum
        gaps = run.solver.approximation_gap + point.approximation_gap
        assert gaps <= 2.5e-4
        assert run.portfolio.weighted_value == pytest.approx(point.weighted_value, rel=gaps)


def test_knee_is_where_money_stops_paying_back(problem) -> None:  # type: ignore[no-untyped-def]
    result = frontier(problem, points=40, low=problem.budget / 2, high=3 * problem.budget)
    assert result.knee is not None
    # below the knee one more unit of budget returns more than one, above it less
    before = [p for p in result.points if p.status == "optimal" and p.budget < result.knee * 0.98]
    after = [p for p in result.points if p.budget > result.knee * 1.02]
    assert before
    assert after
    assert all(p.shadow_price >= 1 - 1e-6 for p in before)
    assert all(p.shadow_price <= 1 + 1e-6 for p in after)
    # and it equals the net-value optimum with an unlimited budget
    net = solve(resolve_net(problem))
    # the net objective is flat at its optimum: a value gap of 1e-4 places the spend only
    # to about a percent (the frontier's chords are not refined, the run's are)
    assert net.portfolio.spend == pytest.approx(result.knee, rel=2e-2)
    assert result.knee_value is not None
    assert net.portfolio.weighted_value == pytest.approx(result.knee_value, rel=5e-3)


def resolve_net(problem):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(problem, mode="max_net_value", budget=sum(t.upper for t in problem.touchpoints))


def test_current_standing(problem) -> None:  # type: ignore[no-untyped-def]
    result = frontier(problem, points=5)
    at_budget = solve(problem)
    assert result.current.weighted_value == pytest.approx(
        at_budget.portfolio.weighted_value, rel=2.5e-4
    )
    cheapest = result.current.budget_for_current_value
    assert cheapest is not None
    assert cheapest < problem.budget
    # the optimum at that budget is worth (at least) what the current allocation is worth
    run = solve(problem.with_budget(cheapest))
    assert run.portfolio.weighted_value >= result.current.current_allocation_weighted_value * (
        1 - 1e-3
    )


def test_many_points_cost_far_less_than_many_runs() -> None:
    # counted in solves, not seconds: one model build, warm re-solves
    problem = resolve(load_document(SEEDS / "sonnenreisen-2027.yaml"))
    result = frontier(problem, points=25)
    on_a_point = any(abs(p.budget - problem.budget) < 1e-6 for p in result.points)
    # one solve per point (the first one cold, through PuLP), the current budget unless it
    # is a point already, the knee, and a few Newton steps for the cheapest budget that is
    # worth the current allocation
    fixed = 25 + (0 if on_a_point else 1) + 1
    assert fixed < result.solves <= fixed + 6


def test_min_spend_mode_is_refused() -> None:
    problem = resolve(load_document(SEEDS / "sonnenreisen-2027.yaml"), mode="min_spend")
    with pytest.raises(ValueError, match="max_value or max_net_value"):
        frontier(problem)


def test_frontier_command_json_and_csv() -> None:
    exe = str(Path(sys.executable).with_name("journeyfolio"))
    seed = str(SEEDS / "sonnenreisen-2027.yaml")
    proc = subprocess.run(
        [
            exe,
            "frontier",
            seed,
            "--points",
            "5",
            "--from",
            "1500000",
            "--to",
            "2500000",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [p["budget"] for p in data["points"]] == [1.5e6, 1.75e6, 2e6, 2.25e6, 2.5e6]
    proc = subprocess.run(
        [exe, "frontier", seed, "--points", "3", "-f", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    header = proc.stdout.splitlines()[0].split(",")
    assert header[:4] == [
        "budget (EUR)",
        "status",
        "value (EUR)",
        "priority-weighted value (EUR)",
    ]
    assert len(proc.stdout.splitlines()) == 4
    proc = subprocess.run(
        [exe, "frontier", seed, "--from", "5", "--to", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "--to" in proc.stderr


def test_frontier_table_labels_money_and_priority_weighted_value() -> None:
    """The table's value column is money (as in `optimize`), the weighted one says so."""
    from optimizer.tables import frontier_table

    problem = resolve(load_document(SEEDS / "sonnenreisen-2027.yaml"))
    result = frontier(problem, points=3, low=problem.budget, high=2 * problem.budget)
    lines = frontier_table(result).splitlines()
    header = lines[2].split("  ")
    assert "value (EUR)" in [h.strip() for h in header]
    assert "priority-weighted value (EUR)" in [h.strip() for h in header]
    first = result.points[0]
    assert first.value is not None
    assert first.weighted_value is not None
    assert first.value != first.weighted_value  # the seed has priorities: they differ
    row = lines[4].split()
    assert row[1:3] == [f"{first.value:,.0f}", f"{first.weighted_value:,.0f}"]
    standing = result.current
    assert f"worth {standing.value:,.0f} EUR ({standing.weighted_value:,.0f} EUR priority-" in (
        frontier_table(result)
    )
