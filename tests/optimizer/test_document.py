"""Each rule of portfolio-format.md rejects its malformed case, naming the path."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from optimizer.document import (
    DocumentError,
    Limits,
    document_to_data,
    dump_yaml,
    find_cycle,
    load_document,
    parse_text,
    validate_document,
)

BASE: dict[str, Any] = {
    "format": "journeyfolio/v1",
    "id": "sonnenreisen-2027",
    "name": "Sonnenreisen 2027",
    "currency": "EUR",
    "period": "2027",
    "budget": 1_800_000,
    "departments": [
        {"id": "marketing", "name": "Marketing", "budget": 700_000},
        {"id": "service", "name": "Kundenservice", "budget": 500_000},
        {"id": "sales", "name": "Vertrieb"},
    ],
    "personas": [
        {"id": "family", "name": "Familie Sommer", "customers": 120_000, "value_per_customer": 410}
    ],
    "touchpoints": [
        {
            "id": "search-ads",
            "name": "Search ads",
            "department": "marketing",
            "channel": "search",
            "current_spend": 250_000,
            "max_spend": 600_000,
            "curve": {"saturating": {"base": 0.2, "max": 0.9, "half_spend": 150_000}},
        },
        {
            "id": "hotline",
            "name": "Service hotline",
            "department": "service",
            "channel": "phone",
            "current_spend": 180_000,
            "min_spend": 60_000,
            "max_spend": 400_000,
            "curve": {"points": [[0, 0.1], [60_000, 0.45], [180_000, 0.7], [400_000, 0.82]]},
            "pain_points": [{"text": "Waiting time over 10 minutes in July", "severity": 2}],
        },
        {
            "id": "video",
            "name": "Video tutorials",
            "department": "sales",
            "channel": "web",
            "current_spend": 10_000,
            "max_spend": 50_000,
            "curve": {"points": [[0, 0.3], [50_000, 0.9]]},
        },
    ],
    "dependencies": [{"touchpoint": "hotline", "requires": "video"}],
    "journeys": [
        {
            "id": "family-booking",
            "name": "Family books a beach holiday",
            "persona": "family",
            "owner": "anna.berg@sonnenreisen.example",
            "lifecycle": "active",
            "value": 5_200_000,
            "priority": 1.0,
            "floor": 0.5,
            "stages": ["Need", "Buy", "Use"],
            "touchpoints": [
                {"touchpoint": "search-ads", "stage": "Need", "weight": 3},
                {"touchpoint": "hotline", "stage": "Use", "weight": 2, "critical": True},
            ],
            "kpis": [
                {
                    "name": "Conversion",
                    "unit": "%",
                    "target": 4.5,
                    "actuals": [{"period": "2026-Q4", "value": 3.9}],
                }
            ],
        }
    ],
    "scenarios": [
        {
            "id": "pooled-plus-10",
            "name": "Pooled budget, +10 %",
            "budget": 1_980_000,
            "pooled": True,
            "mode": "max_value",
            "priorities": {"family-booking": 1.5},
            "floors": {"family-booking": 0.6},
            "locks": {"hotline": 200_000},
            "exclude": ["video"],
            "departments": {"marketing": 800_000},
        }
    ],
}


def problems_of(data: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(DocumentError) as info:
        validate_document(data, **kwargs)
    return [str(p) for p in info.value.problems]


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def test_the_example_document_is_valid() -> None:
    doc = validate_document(BASE)
    assert doc.touchpoints[1].curve.points is not None
    assert doc.scenarios[0].locks == {"hotline": 200_000}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[parts[-1]]

    return change


CASES = [
    # unknown keys, with their path
    ("journeys.0.touchpoints.0.wieght", 3, "journeys[0].touchpoints[0].wieght: unknown key"),
    ("colour", "blue", "colour: unknown key"),
    # types and ranges
    ("budget", -1, "budget: Input should be greater than or equal to 0"),
    ("budget", "lots", "budget: Input should be a valid number"),
    ("budget", float("inf"), "budget:"),
    ("touchpoints.0.current_spend", float("nan"), "touchpoints[0].current_spend:"),
    ("journeys.0.floor", 1.2, "journeys[0].floor: Input should be less than or equal to 1"),
    ("journeys.0.value", -5, "journeys[0].value: Input should be greater than or equal to 0"),
    (
        "journeys.0.touchpoints.0.weight",
        0,
        "journeys[0].touchpoints[0].weight: Input should be greater than 0",
    ),
    (
        "journeys.0.touchpoints.1.emotion",
        3,
        "journeys[0].touchpoints[1].emotion: Input should be less than or equal to 2",
    ),
    (
        "journeys.0.lifecycle",
        "retired",
        "journeys[0].lifecycle: Input should be 'idea', 'active' or 'sunset'",
    ),
    ("journeys.0.touchpoints", [], "journeys[0].touchpoints: List should have at least 1 item"),
    ("id", "Sonnen Reisen", "id: String should match pattern"),
    ("format", "journeyfolio/v2", "format: Input should be 'journeyfolio/v1'"),
    ("scenarios.0.mode", "max_fun", "scenarios[0].mode: Input should be"),
    (
        "touchpoints.1.min_spend",
        500_000,
        "touchpoints[1]: min_spend 500000 is above max_spend 400000",
    ),
    # curves
    (
        "touchpoints.1.curve.points",
        [[10, 0.1], [20, 0.5]],
        "touchpoints[1].curve.points[0]: the first point must be at spend 0",
    ),
    (
        "touchpoints.1.curve.points",
        [[0, 0.1], [60_000, 0.45], [60_000, 0.5]],
        "touchpoints[1].curve.points[2]: spend 60000 does not increase",
    ),
    (
        "touchpoints.1.curve.points",
        [[0, 0.5], [60_000, 0.4]],
        "touchpoints[1].curve.points[1]: quality 0.4 decreases",
    ),
    (
        "touchpoints.1.curve.points",
        [[0, 0.1], [10, 0.5], [20, 0.6], [30, 0.9]],
        "touchpoints[1].curve.points[3]: slope increases after falling, so the curve is "
        "neither concave nor S-shaped (slopes rise, then fall)",
    ),
    (
        "touchpoints.1.curve.points",
        [[0, 0.1], [10, 1.5]],
        "touchpoints[1].curve.points[1]: quality 1.5 is outside 0..1",
    ),
    (
        "touchpoints.1.curve.points",
        [],
        "touchpoints[1].curve.points: List should have at least 1 item",
    ),
    (
        "touchpoints.0.curve",
        {"saturating": {"base": 0.9, "max": 0.2, "half_spend": 1}},
        "touchpoints[0].curve.saturating: base 0.9 is above max 0.2",
    ),
    (
        "touchpoints.0.curve",
        {"saturating": {"base": 0.2, "max": 0.9, "half_spend": 0}},
        "touchpoints[0].curve.saturating.half_spend: Input should be greater than 0",
    ),
    (
        "touchpoints.0.curve",
        {},
        "touchpoints[0].curve: give exactly one of 'points', 'saturating', 'hill', "
        "'exponential', 'logistic'",
    ),
    (
        "touchpoints.0.curve",
        {"hill": {"base": 0.1, "max": 0.9, "half_spend": 100, "shape": 0}},
        "touchpoints[0].curve.hill.shape: Input should be greater than 0",
    ),
    (
        "touchpoints.0.curve",
        {"exponential": {"base": 0.5, "max": 0.4, "scale": 100}},
        "touchpoints[0].curve.exponential: base 0.5 is above max 0.4",
    ),
    (
        "touchpoints.0.curve",
        {"exponential": {"base": 0.1, "max": 1.2, "scale": 100}},
        "touchpoints[0].curve.exponential.max: Input should be less than or equal to 1",
    ),
    (
        "touchpoints.0.curve",
        {"logistic": {"base": 0.1, "max": 0.9, "lam": -1}},
        "touchpoints[0].curve.logistic.lam: Input should be greater than 0",
    ),
    (
        "touchpoints.0.curve",
        {"logistic": {"base": 0.1, "max": 0.9, "lam": 0.01}, "source": {"kind": "guess"}},
        "touchpoints[0].curve.source.kind: Input should be",
    ),
    (
        "touchpoints.0.curve",
        {
            "saturating": {"base": 0.1, "max": 0.9, "half_spend": 100},
            "source": {"kind": "fit", "uncertainty": {"parameters": ["base"]}},
        },
        "touchpoints[0].curve.source.uncertainty: give exactly one of "
        "'covariance', 'draws', 'band'",
    ),
    (
        "touchpoints.0.curve",
        {
            "saturating": {"base": 0.1, "max": 0.9, "half_spend": 100},
            "source": {
                "kind": "fit",
                "uncertainty": {"parameters": ["base", "max"], "covariance": [[1, 0.5], [0.4, 1]]},
            },
        },
        "touchpoints[0].curve.source.uncertainty: 'covariance' is not symmetric at [1][0]",
    ),
    (
        "touchpoints.0.curve",
        {
            "saturating": {"base": 0.1, "max": 0.9, "half_spend": 100},
            "source": {
                "kind": "fit",
                "uncertainty": {"parameters": ["base", "max"], "draws": [[0.1, 0.9], [0.2]]},
            },
        },
        "touchpoints[0].curve.source.uncertainty: 'draws'[1] has 1 values for 2 parameters",
    ),
    (
        "touchpoints.0.curve",
        {
            "points": [[0, 0.1], [100, 0.5]],
            "source": {
                "kind": "meridian",
                "uncertainty": {"band": [[0, 0.1, 0.1], [100, 0.6, 0.4]]},
            },
        },
        "touchpoints[0].curve.source.uncertainty: 'band'[1]: low 0.6 is above high 0.4",
    ),
    (
        "touchpoints.0.observations",
        {"outcome_at_0": 0.4, "rows": []},
        "touchpoints[0].observations: give both outcome_at_0 and outcome_at_1, or neither",
    ),
    (
        "touchpoints.0.observations",
        {"rows": [{"period": "2026-01", "spend": -1, "outcome": 0.5}]},
        "touchpoints[0].observations.rows[0].spend: Input should be greater than or equal to 0",
    ),
    (
        "touchpoints.0.curve",
        {"points": [[0, 0.1]], "saturating": {"base": 0, "max": 1, "half_spend": 1}},
        "touchpoints[0].curve: give exactly one",
    ),
    # references
    (
        "touchpoints.0.department",
        "finance",
        "touchpoints[0].department: unknown department 'finance'",
    ),
    ("journeys.0.persona", "surfer", "journeys[0].persona: unknown persona 'surfer'"),
    (
        "journeys.0.touchpoints.0.touchpoint",
        "print",
        "journeys[0].touchpoints[0].touchpoint: unknown touchpoint 'print'",
    ),
    (
        "journeys.0.touchpoints.0.stage",
        "Pay",
        "journeys[0].touchpoints[0].stage: 'Pay' is not one of the journey's stages",
    ),
    ("dependencies.0.requires", "tv", "dependencies[0].requires: unknown touchpoint 'tv'"),
    ("dependencies.0.requires", "hotline", "dependencies[0]: touchpoint 'hotline' requires itself"),
    ("scenarios.0.priorities", {"kite": 2}, "scenarios[0].priorities.kite: unknown journey 'kite'"),
    ("scenarios.0.floors", {"kite": 0.5}, "scenarios[0].floors.kite: unknown journey 'kite'"),
    ("scenarios.0.locks", {"tv": 5}, "scenarios[0].locks.tv: unknown touchpoint 'tv'"),
    (
        "scenarios.0.locks",
        {"hotline": 900_000},
        "scenarios[0].locks.hotline: lock 900000 is outside the touchpoint's spend range "
        "60000..400000",
    ),
    ("scenarios.0.exclude", ["tv"], "scenarios[0].exclude[0]: unknown touchpoint 'tv'"),
    (
        "scenarios.0.exclude",
        ["hotline"],
        "scenarios[0].exclude[0]: touchpoint 'hotline' is both locked and excluded",
    ),
    ("scenarios.0.departments", {"it": 5}, "scenarios[0].departments.it: unknown department 'it'"),
]


@pytest.mark.parametrize(("path", "value", "expected"), CASES, ids=[c[2][:60] for c in CASES])
def test_rule_rejects_with_path(path: str, value: Any, expected: str) -> None:
    problems = problems_of(mutated(_set(path, value)))
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("budget", "budget: required key missing"),
        ("touchpoints.0.curve", "touchpoints[0].curve: required key missing"),
        ("journeys.0.value", "journeys[0].value: required key missing"),
    ],
)
def test_missing_keys_are_named(path: str, expected: str) -> None:
    assert expected in problems_of(mutated(_delete(path)))


def test_duplicate_ids_name_both_places() -> None:
    def change(data: dict[str, Any]) -> None:
        data["touchpoints"].append(copy.deepcopy(data["touchpoints"][0]))

    assert "touchpoints[3].id: duplicate id 'search-ads' (also touchpoints[0])" in problems_of(
        mutated(change)
    )


def test_touchpoint_linked_twice_is_rejected() -> None:
    def change(data: dict[str, Any]) -> None:
        data["journeys"][0]["touchpoints"].append({"touchpoint": "search-ads", "stage": "Buy"})

    problems = problems_of(mutated(change))
    assert problems[0].startswith(
        "journeys[0].touchpoints[2].touchpoint: touchpoint 'search-ads' is linked twice"
    )


def test_dependency_cycle_is_named() -> None:
    def change(data: dict[str, Any]) -> None:
        data["dependencies"] += [
            {"touchpoint": "video", "requires": "search-ads"},
            {"touchpoint": "search-ads", "requires": "hotline"},
        ]

    problems = problems_of(mutated(change))
    assert len(problems) == 1
    assert problems[0].startswith("dependencies: dependencies form a cycle: ")
    cycle = problems[0].split(": ")[-1].split(" -> ")
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"hotline", "video", "search-ads"}


def test_all_problems_are_reported_at_once() -> None:
    def change(data: dict[str, Any]) -> None:
        data["budget"] = -1
        data["touchpoints"][0]["colour"] = "red"
        data["journeys"][0]["floor"] = 2

    problems = problems_of(mutated(change))
    assert len(problems) == 3
    assert {p.split(":")[0] for p in problems} == {
        "budget",
        "touchpoints[0].colour",
        "journeys[0].floor",
    }


def test_strict_types_do_not_guess() -> None:
    assert any(
        p.startswith("touchpoints[0].max_spend: Input should be a valid number")
        for p in problems_of(mutated(_set("touchpoints.0.max_spend", "600000")))
    )
    assert any(
        p.startswith("journeys[0].touchpoints[1].critical: Input should be a valid boolean")
        for p in problems_of(mutated(_set("journeys.0.touchpoints.1.critical", "yes")))
    )


def test_size_limits_are_checked_before_anything_else() -> None:
    data = mutated(_set("budget", -1))  # also invalid, but the limit is reported alone
    limits = Limits(touchpoints=2)
    assert problems_of(data, limits=limits) == ["touchpoints: 3 entries exceed the limit of 2"]
    assert problems_of(BASE, limits=Limits(links=1)) == [
        "journeys: 2 touchpoint links exceed the limit of 1"
    ]
    assert problems_of(BASE, limits=Limits(curve_points=3)) == [
        "touchpoints[1].curve.points: 4 points exceed the limit of 3"
    ]


def test_not_a_mapping() -> None:
    assert problems_of([1, 2]) == ["a portfolio document must be a mapping of keys"]


def test_yaml_and_json_errors_name_the_line(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("id: x\nname: [unclosed\n")
    with pytest.raises(DocumentError) as info:
        load_document(bad_yaml)
    assert "invalid YAML at line" in str(info.value)
    with pytest.raises(DocumentError) as info:
        parse_text('{"id": 1,,}', name="doc.json")
    assert "doc.json: invalid JSON at line 1, column 10" in str(info.value)
    with pytest.raises(DocumentError) as info:
        load_document(tmp_path / "missing.yaml")
    assert "cannot read" in str(info.value)


def test_round_trip_through_yaml_and_json(tmp_path: Path) -> None:
    doc = validate_document(BASE)
    as_yaml = tmp_path / "p.yaml"
    as_yaml.write_text(dump_yaml(doc))
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps(document_to_data(doc)))
    assert load_document(as_yaml) == doc
    assert load_document(as_json) == doc


def test_period_given_as_a_number_is_read_as_text() -> None:
    doc = validate_document(mutated(_set("period", 2027)))
    assert doc.period == "2027"


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"]}) is None
    assert find_cycle({"a": ["b"], "b": ["a"]}) in (["a", "b", "a"], ["b", "a", "b"])


def test_money_is_bounded_and_whole_numbers_may_be_written_as_floats() -> None:
    assert any(
        p.startswith("budget: Input should be less than or equal to 1000000000000000")
        for p in problems_of(mutated(_set("budget", 1e18)))
    )
    assert any(
        p.startswith("touchpoints[1].curve.points[1]: spend 1e+20 is outside")
        for p in problems_of(mutated(_set("touchpoints.1.curve.points", [[0, 0.1], [1e20, 0.5]])))
    )
    doc = validate_document(mutated(_set("personas.0.customers", 8000.0)))
    assert doc.personas[0].customers == 8000
    assert isinstance(doc.personas[0].customers, int)
    assert any(
        p.startswith("personas[0].customers:")
        for p in problems_of(mutated(_set("personas.0.customers", 8000.5)))
    )
