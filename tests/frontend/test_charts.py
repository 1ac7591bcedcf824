"""Every chart builder, checked through `chart.to_dict()` (the Vega-Lite spec the browser
gets): marks, typed fields, titles, and the data it carries."""

from typing import Any

from frontend import charts, frames


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


def _mark(layer: dict[str, Any]) -> str:
    mark = layer["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def _rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the chart's (only) inline dataset."""
    datasets = spec["datasets"]
    assert len(datasets) == 1
    return next(iter(datasets.values()))


def _comparison(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """What GET /compare answers for two runs (the parts the charts use)."""

    def section(attribute: str, field: str) -> list[dict[str, Any]]:
        other = {item["id"]: item for item in second[attribute]}
        return [
            {
                "id": item["id"],
                "name": item["name"],
                f"{field}_delta": [0.0, other[item["id"]][field] - item[field]],
            }
            for item in first[attribute]
        ]

    return {
        "runs": [
            {
                "status": run["status"],
                "mode": run["mode"],
                "budget": run["portfolio"]["budget"],
                "value": run["portfolio"]["value"],
                "spend": run["portfolio"]["spend"],
                "unallocated": run["portfolio"]["unallocated"],
                "price_of_silos": run["price_of_silos"],
                # The page adds it from the run where the comparison lacks it.
                "price_of_silos_value": run["price_of_silos_value"],
            }
            for run in (first, second)
        ],
        "touchpoints": section("touchpoints", "spend"),
        "departments": section("departments", "spend"),
        "journeys": section("journeys", "value"),
    }


def test_portfolio_matrix_is_quality_against_value(portfolio: dict[str, Any]) -> None:
    table = frames.journey_table(portfolio["journeys"], portfolio["personas"], portfolio["run"])
    spec = charts.portfolio_matrix(table, "EUR").to_dict()
    bubbles, labels = spec["layer"]
    assert _mark(bubbles) == "circle"
    assert bubbles["encoding"]["x"]["field"] == "quality"
    assert bubbles["encoding"]["x"]["type"] == "quantitative"
    assert (
        labels["encoding"]["y"]
        == bubbles["encoding"]["y"]
        == {
            "axis": {"format": "~s"},
            "field": "value",
            "title": "Value per period (EUR)",
            "type": "quantitative",
        }
    )
    assert bubbles["encoding"]["size"]["field"] == "attributed_cost"
    assert bubbles["encoding"]["color"]["field"] == "persona"
    assert bubbles["encoding"]["color"]["type"] == "nominal"
    assert labels["encoding"]["text"]["field"] == "journey"
    rows = _rows(spec)
    assert len(rows) == len(portfolio["journeys"])
    assert {r["persona"] for r in rows} == {p["name"] for p in portfolio["personas"]}


def test_kpi_trend_faces_each_kpi_with_its_target() -> None:
    history = frames.kpi_history(
        {
            "kpis": [
                {"name": "NPS", "target": 45, "actuals": [{"period": "Q1", "value": 30}]},
                {"name": "Calls", "actuals": [{"period": "Q1", "value": 3}]},
            ]
        }
    )
    spec = charts.kpi_trend(history).to_dict()
    assert spec["facet"]["field"] == "kpi"
    assert spec["resolve"]["scale"]["y"] == "independent"
    line, target = spec["spec"]["layer"]
    assert _mark(line) == "line"
    assert line["encoding"]["x"]["type"] == "ordinal"
    assert _mark(target) == "rule"
    assert target["encoding"]["y"]["field"] == "target"
    assert target["transform"] == [{"filter": "isValid(datum.target)"}]


def test_journey_map_is_stages_by_touchpoints_coloured_by_quality(
    portfolio: dict[str, Any],
) -> None:
    family = next(j for j in portfolio["journeys"] if j["id"] == "family-beach")
    journey_map = frames.journey_map(family, portfolio["touchpoints"], portfolio["run"])
    spec = charts.journey_map(journey_map, frames.stage_order(family)).to_dict()
    cells, text = spec["layer"]
    assert _mark(cells) == "rect"
    assert cells["encoding"]["x"]["sort"] == ["Need", "Buy", "Use"]
    assert cells["encoding"]["y"]["sort"] == {"field": "step", "order": "ascending"}
    assert cells["encoding"]["color"]["field"] == "quality"
    assert cells["encoding"]["color"]["scale"]["domain"] == [0, 1]
    # Moments of truth are outlined.
    assert cells["encoding"]["strokeWidth"]["condition"][0]["test"] == "datum.critical"
    assert "★" in text["transform"][0]["calculate"]
    assert spec["height"] == {"step": charts.ROW_STEP}


def test_emotion_curve_runs_from_minus_two_to_two(portfolio: dict[str, Any]) -> None:
    family = next(j for j in portfolio["journeys"] if j["id"] == "family-beach")
    spec = charts.emotion_curve(
        frames.journey_map(family, portfolio["touchpoints"], portfolio["run"])
    ).to_dict()
    zero, line, points = spec["layer"]
    assert [_mark(zero), _mark(line), _mark(points)] == ["rule", "line", "circle"]
    assert line["encoding"]["y"]["scale"]["domain"] == [-2, 2]
    for layer in (zero, line, points):
        assert layer["transform"] == [{"filter": "isValid(datum.emotion)"}]


def test_journey_cost_bars_sorted_by_cost(portfolio: dict[str, Any]) -> None:
    costs = frames.journey_costs("family-beach", portfolio["journeys"], portfolio["run"])
    spec = charts.journey_costs(costs, "EUR").to_dict()
    assert _mark(spec) == "bar"
    assert spec["encoding"]["y"]["sort"] == "-x"
    assert spec["encoding"]["x"]["title"] == "Attributed cost (EUR)"
    assert len(_rows(spec)) == len(costs)


def test_sharing_matrix_is_journeys_by_touchpoints(portfolio: dict[str, Any]) -> None:
    matrix = frames.sharing_matrix(portfolio["journeys"], portfolio["touchpoints"])
    spec = charts.sharing_matrix(matrix).to_dict()
    cells, marks = spec["layer"]
    assert cells["encoding"]["x"]["field"] == "touchpoint"
    assert cells["encoding"]["y"]["field"] == "journey"
    assert cells["encoding"]["x"]["sort"] == {
        "field": "journeys_sharing",
        "op": "max",
        "order": "descending",
    }
    assert cells["encoding"]["color"]["field"] == "share"
    assert marks["encoding"]["text"]["field"] == "mark"


def test_response_curves_facet_per_touchpoint_with_marks(portfolio: dict[str, Any]) -> None:
    frame = frames.response_curves(portfolio["touchpoints"], portfolio["run"])
    spec = charts.response_curves(frame, "EUR", columns=4).to_dict()
    assert spec["facet"]["field"] == "touchpoint"
    assert spec["columns"] == 4
    curve, marks = spec["spec"]["layer"]
    assert _mark(curve) == "line"
    assert curve["transform"] == [{"filter": "(datum.kind === 'curve')"}]
    assert _mark(marks) == "point"
    assert marks["encoding"]["color"]["scale"]["domain"] == [frames.CURRENT, frames.OPTIMAL]
    kinds = {row["kind"] for row in _rows(spec)}
    assert kinds == {"curve", frames.CURRENT, frames.OPTIMAL}


def test_allocation_bars_put_current_and_optimal_side_by_side(portfolio: dict[str, Any]) -> None:
    long = frames.side_by_side(frames.department_allocation(portfolio["run"]), "department")
    spec = charts.allocation_bars(long, "department", "EUR").to_dict()
    assert _mark(spec) == "bar"
    assert spec["encoding"]["y"]["field"] == "department"
    assert spec["encoding"]["yOffset"] == {"field": "allocation", "type": "nominal"}
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Current", "Optimal"]
    assert len(_rows(spec)) == 2 * len(portfolio["departments"])


def test_shadow_price_bars_explain_themselves(portfolio: dict[str, Any]) -> None:
    prices = frames.shadow_prices(portfolio["run"], frames.names(portfolio["journeys"]))
    unit = portfolio["run"]["shadow_prices"]["unit"]
    spec = charts.shadow_price_bars(prices[prices["unit"] == unit], unit).to_dict()
    assert spec["encoding"]["y"]["field"] == "constraint"
    assert spec["encoding"]["x"]["title"] == f"Shadow price ({unit})"
    assert "unit" in {t["field"] for t in spec["encoding"]["tooltip"]}


def test_compare_charts_keep_the_runs_in_order_and_colour(portfolio: dict[str, Any]) -> None:
    comparison = _comparison(portfolio["run"], portfolio["pooled_run"])
    names = ["Plan", "Pooled +10 %"]
    figures = charts.compare_figures(frames.compare_figures(comparison, names), "EUR").to_dict()
    assert figures["encoding"]["xOffset"]["sort"] == names
    assert figures["encoding"]["color"]["scale"]["domain"] == names
    first_colour, second_colour = figures["encoding"]["color"]["scale"]["range"]
    value = next(r for r in _rows(figures) if r["run"] == names[1] and r["figure"] == "Value")
    assert value["amount"] == portfolio["pooled_run"]["portfolio"]["value"]
    silos = next(
        r for r in _rows(figures) if r["run"] == names[1] and r["figure"] == "Price of silos"
    )
    assert silos["amount"] == portfolio["pooled_run"]["price_of_silos_value"]  # money

    deltas = frames.compare_deltas(comparison, names, "touchpoints", "spend")
    spec = charts.delta_bars(deltas, "EUR", "Change in spend (EUR)", names).to_dict()
    bars, zero = spec["layer"]
    assert bars["encoding"]["x"]["title"] == "Change in spend (EUR)"
    # The second run keeps its colour from the figures chart; the reference has no bars.
    assert bars["encoding"]["color"]["scale"] == {"domain": [names[1]], "range": [second_colour]}
    assert zero["encoding"]["x"] == {"datum": 0}
    assert {row["run"] for row in _rows(spec)} == {names[1]}


# =========================================================================== value bridge


def _bridge(steps: list[dict[str, Any]], start: float, end: float | None) -> dict[str, Any]:
    """A bridge JSON with the parts the frames and charts use."""
    return {
        "currency": "EUR",
        "from": {"label": "a", "status": "optimal", "budget": 100.0, "conflicts": []},
        "to": {
            "label": "b",
            "status": "optimal" if end is not None else "infeasible",
            "budget": 120.0,
            "conflicts": [] if end is not None else ["floor 0.80 on journey j needs 3 more"],
        },
        "from_value": start,
        "to_value": end,
        "steps": steps,
    }


def _step(name: str, value: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": name.title(),
        "status": "optimal" if value is not None else "infeasible",
        "value": value,
        "conflicts": [] if value is not None else ["needs 3 more in the a budget"],
        **extra,
    }


def test_bridge_waterfall_floats_each_step_from_the_level_before() -> None:
    bridge = _bridge(
        [
            _step("budget", 1300.4, budget_change=20.0),
            _step("pooling", None),
            _step("floors", 1200.6),
        ],
        1000.0,
        1200.6,
    )
    frame = frames.bridge_frame(bridge, "Plan", "Pooled")
    spec = charts.bridge_waterfall(frame, "EUR").to_dict()
    bars, labels = _layers(spec)
    assert (_mark(bars), _mark(labels)) == ("bar", "text")
    assert bars["encoding"]["y"]["field"] == "low"
    assert bars["encoding"]["y2"]["field"] == "high"
    assert bars["encoding"]["y"]["scale"]["zero"] is False
    assert bars["encoding"]["x"]["sort"] == [
        "From Plan",
        "1. Budget",
        "2. Pooling",
        "3. Floors",
        "To Pooled",
    ]
    assert labels["encoding"]["text"]["field"] == "text"
    rows = _rows(spec)
    # whole units: 1000 -> 1300 (+300), pooling infeasible (no bar, no change), -99 -> 1201
    floor = rows[0]["floor"]
    assert [(r["low"], r["high"], r["text"], r["kind"]) for r in rows] == [
        (floor, 1000.0, "1,000", "total"),
        (1000.0, 1300.0, "+300", "increase"),
        (1300.0, 1300.0, "infeasible", "infeasible"),
        (1300.0, 1201.0, "-99", "decrease"),
        (floor, 1201.0, "1,201", "total"),
    ]
    assert floor < 1000
    # the step labels add up to the end's label
    assert 1000 + 300 - 99 == 1201
    caption = frames.bridge_caption(bridge)
    assert "1,000 EUR to 1,201 EUR: +201 EUR in total, the sum of the 2 step(s)." in caption
    assert "Pooling is infeasible: needs 3 more in the a budget." in caption
    assert "Budget +20 EUR: +300 EUR of value, 15.00 EUR per extra EUR." in caption


def test_bridge_to_an_infeasible_end_says_so() -> None:
    bridge = _bridge([_step("floors", None)], 1000.0, None)
    frame = frames.bridge_frame(bridge, "Plan", "Floors")
    assert list(frame["text"]) == ["1,000", "infeasible", "infeasible"]
    caption = frames.bridge_caption(bridge)
    assert "in total" not in caption
    assert "b is infeasible: floor 0.80 on journey j needs 3 more." in caption
    charts.bridge_waterfall(frame, "EUR").to_dict()  # still a valid chart


def test_pooled_bridge_sentence_adds_up_at_the_precision_shown() -> None:
    bridge = _bridge(
        [_step("pooling", 1395.6), _step("budget", 1475.4, budget_change=10.0)], 1000.4, 1475.4
    )
    sentence = frames.pooled_bridge_sentence(bridge)
    assert sentence is not None
    # levels 1,000 -> 1,396 -> 1,475: +396, then +79 for +10 of budget: 7.90 per unit
    assert "worth 1,000 EUR" in sentence
    assert "**+396 EUR** of value, worth 1,396 EUR" in sentence
    assert (
        "**Then +10 EUR of budget** in the pool: **+79 EUR** of value, worth 1,475 EUR" in sentence
    )
    assert "7.90 EUR of value per extra EUR" in sentence
    assert "Together +475 EUR." in sentence
    infeasible = _bridge([_step("pooling", None), _step("budget", 1475.4)], 1000.4, 1475.4)
    assert frames.pooled_bridge_sentence(infeasible) is None
