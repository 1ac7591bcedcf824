"""Lifecycle (DOMAIN.md): an `idea` journey claims no budget unless a scenario launches it; a
`sunset` journey keeps no floor unless the scenario sets one; runs say what was left out."""

import copy
import json
from typing import Any

import pytest

from optimizer.bridge import End, bridge
from optimizer.document import DocumentError, validate_document
from optimizer.problem import resolve
from optimizer.solve import solve
from tests.optimizer.builders import journey, portfolio, problem_of, saturating, touchpoint
from tests.optimizer.checks import check_run


def shared_portfolio(**idea: Any) -> dict[str, Any]:
    """Two touchpoints and a budget too small for both: every euro the idea claims is a euro
    the active journey does not get."""
    data = portfolio(
        budget=100_000,
        touchpoints=[
            touchpoint("web", saturating(0.1, 0.9, 40_000), 200_000),
            touchpoint("shop", saturating(0.1, 0.9, 40_000), 200_000),
        ],
        journeys=[
            journey("book", 1_000_000, [("web", 1.0)]),
            journey("pilot", 3_000_000, [("shop", 1.0)], **idea),
        ],
        scenarios=[{"id": "launch-pilot", "name": "Launch", "launch": ["pilot"]}],
    )
    data["journeys"][1]["lifecycle"] = "idea"
    return data


def without_pilot(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["journeys"] = [j for j in out["journeys"] if j["id"] != "pilot"]
    out["scenarios"] = []
    return out


def test_an_idea_claims_no_budget_and_the_run_says_so() -> None:
    data = shared_portfolio()
    run = solve(problem_of(data))
    assert run.status == "optimal"
    assert "pilot" not in {j.id for j in run.journeys}
    assert [(o.journey, o.lifecycle, o.part) for o in run.left_out] == [
        ("pilot", "idea", "journey")
    ]
    assert "launches it" in run.left_out[0].reason
    # independent check: the same optimum as the document without the idea at all
    alone = solve(problem_of(without_pilot(data)))
    assert run.portfolio.value == pytest.approx(alone.portfolio.value, rel=1e-9)
    assert [t.spend for t in run.touchpoints] == pytest.approx(
        [t.spend for t in alone.touchpoints], abs=1e-3
    )
    # the idea's larger value would otherwise pull money to its touchpoint
    shop = next(t for t in run.touchpoints if t.id == "shop")
    assert shop.spend == pytest.approx(0, abs=1e-6)
    assert json.loads(run.to_json())["left_out"][0]["journey"] == "pilot"


def test_a_launched_idea_competes_like_an_active_journey() -> None:
    data = shared_portfolio()
    launched = solve(problem_of(data, "launch-pilot"))
    assert launched.left_out == []
    assert "pilot" in {j.id for j in launched.journeys}
    active = copy.deepcopy(data)
    active["journeys"][1]["lifecycle"] = "active"
    same = solve(problem_of(active))
    assert launched.portfolio.value == pytest.approx(same.portfolio.value, rel=1e-9)
    shop = next(t for t in launched.touchpoints if t.id == "shop")
    assert shop.spend > 10_000
    problem = problem_of(data, "launch-pilot")
    assert check_run(problem, launched) == []


def test_a_scenario_floor_on_an_idea_not_launched_is_named_as_ignored() -> None:
    data = shared_portfolio()
    data["scenarios"].append({"id": "floor-only", "name": "Floor", "floors": {"pilot": 0.5}})
    run = solve(problem_of(data, "floor-only"))
    assert "does not apply" in run.left_out[0].reason
    assert "pilot" not in {j.id for j in run.journeys}


def test_a_sunset_journey_keeps_no_floor_unless_the_scenario_sets_one() -> None:
    data = shared_portfolio()
    data["journeys"][1]["lifecycle"] = "active"
    data["journeys"][0]["lifecycle"] = "sunset"
    data["journeys"][0]["floor"] = 0.6
    data["scenarios"] = [{"id": "keep-floor", "name": "Keep", "floors": {"book": 0.6}}]
    free = solve(problem_of(data))
    assert [(o.journey, o.part) for o in free.left_out] == [("book", "floor")]
    assert "0.6" in free.left_out[0].reason
    book = next(j for j in free.journeys if j.id == "book")
    assert book.quality < 0.6  # the money goes to the larger journey: no floor holds it
    kept = solve(problem_of(data, "keep-floor"))
    assert kept.left_out == []
    book = next(j for j in kept.journeys if j.id == "book")
    assert book.quality >= 0.6 - 1e-6
    assert kept.portfolio.value < free.portfolio.value


@pytest.mark.parametrize(
    ("launch", "message"),
    [(["nobody"], "unknown journey 'nobody'"), (["pilot", "pilot"], "launched twice")],
)
def test_bad_launch_lists_are_named_with_their_path(launch: list[str], message: str) -> None:
    data = shared_portfolio()
    data["scenarios"][0]["launch"] = launch
    with pytest.raises(DocumentError) as caught:
        validate_document(data)
    paths = {p.path: p.message for p in caught.value.problems}
    assert any(path.startswith("scenarios[0].launch[") for path in paths), paths
    assert any(message in m for m in paths.values()), paths


def test_the_bridge_names_the_launch_as_its_own_step() -> None:
    doc = validate_document(shared_portfolio())
    result = bridge(
        End(doc, resolve(doc, None), "base"),
        End(doc, resolve(doc, "launch-pilot"), "launch-pilot"),
        solve=solve,
    )
    assert [s.name for s in result.steps] == ["launch"]
    step = result.steps[0]
    assert step.changes == ["launch pilot"]
    assert step.value_change is not None
    assert step.value_change > 0
    assert result.total == step.value_change
