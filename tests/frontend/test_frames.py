"""The API's JSON shaped for the pages (frames.py) and the edits turned back into requests
(edits.py). The run comes from the optimizer on a demo portfolio: the same JSON the API gives
(run-result.md), without the network."""

import math
from typing import Any

import pandas as pd
import pytest

from frontend import edits, frames


def journey(portfolio: dict[str, Any], journey_id: str) -> dict[str, Any]:
    return next(j for j in portfolio["journeys"] if j["id"] == journey_id)


# =========================================================================== formatting


def test_whole_rounds_money_without_negative_zero() -> None:
    assert frames.whole(1234.56) == 1235.0
    assert str(frames.whole(-0.2)) == "0.0"
    assert math.isnan(frames.whole(None))


def test_when_reads_the_api_timestamps() -> None:
    assert frames.when("2026-11-23T16:13:43.151478Z") == "23 Nov 16:13:43"
    assert frames.when("not a time") == "not a time"


# =========================================================================== portfolio


def test_headline_figures_are_money_and_add_up(portfolio: dict[str, Any]) -> None:
    run = portfolio["run"]
    figures = frames.headline(run)
    step = float(figures["step"])
    # The headline figures are the run's, rounded to the group's step ...
    assert figures["value"] == pytest.approx(run["portfolio"]["value"], abs=step / 2)
    assert figures["price_of_silos"] == pytest.approx(run["price_of_silos_value"], abs=step / 2)
    assert figures["price_of_silos_weighted"] == run["price_of_silos"]
    # ... and what explains them is derived so that the differences hold on the screen, each
    # within one step of the run's figure.
    assert figures["silo_value"] == figures["value"] - figures["price_of_silos"]
    silo = run["baselines"]["silo"]["value"]
    assert figures["silo_value"] == pytest.approx(silo, abs=step)
    assert figures["gain_vs_current"] == figures["value"] - figures["current_value"]
    current = run["baselines"]["current"]["value"]
    assert figures["current_value"] == pytest.approx(current, abs=step)
    assert figures["unallocated"] == figures["budget"] - figures["spend"]


def test_journey_table_ranks_journeys_by_value_with_names(portfolio: dict[str, Any]) -> None:
    table = frames.journey_table(portfolio["journeys"], portfolio["personas"], portfolio["run"])
    assert len(table) == len(portfolio["journeys"])
    assert table["value"].dropna().is_monotonic_decreasing
    # a journey the run left out (an idea not launched) is listed, without a value, last
    left_out = {x["journey"] for x in portfolio["run"]["left_out"]}
    assert set(table[table["value"].isna()]["id"]) == left_out
    top = table.iloc[0]
    best = max(portfolio["run"]["journeys"], key=lambda j: j["value"])
    assert top["id"] == best["id"]
    assert top["value"] == round(best["value"])
    assert top["persona"] == "Familie Sommer"  # the name, not the id
    assert top["limited_by"] in {t["name"] for t in portfolio["touchpoints"]}


def test_journey_table_without_a_result_still_lists_every_journey(
    portfolio: dict[str, Any],
) -> None:
    table = frames.journey_table(
        portfolio["journeys"], portfolio["personas"], portfolio["infeasible_run"]
    )
    assert len(table) == len(portfolio["journeys"])
    assert table["quality"].isna().all()


# =========================================================================== one journey


def test_journey_map_follows_the_links_with_their_qualities(portfolio: dict[str, Any]) -> None:
    family = journey(portfolio, "family-beach")
    journey_map = frames.journey_map(family, portfolio["touchpoints"], portfolio["run"])
    assert list(journey_map["touchpoint_id"]) == [
        link["touchpoint"] for link in family["touchpoints"]
    ]
    assert journey_map["share"].sum() == pytest.approx(1.0)
    critical = {link["touchpoint"] for link in family["touchpoints"] if link.get("critical")}
    assert set(journey_map.loc[journey_map["critical"], "touchpoint_id"]) == critical
    qualities = {t["id"]: t["quality"] for t in portfolio["run"]["touchpoints"]}
    for row in journey_map.itertuples():
        assert row.quality == qualities[row.touchpoint_id]
    assert journey_map["label"].iloc[0].startswith("1. ")


def test_stage_order_adds_stages_the_links_name() -> None:
    trip = {
        "stages": ["Need", "Buy"],
        "touchpoints": [{"touchpoint": "a", "stage": "Use"}, {"touchpoint": "b"}],
    }
    assert frames.stage_order(trip) == ["Need", "Buy", "Use", frames.NO_STAGE]


def test_kpis_over_time_and_against_target() -> None:
    trip = {
        "kpis": [
            {
                "name": "NPS",
                "unit": "points",
                "target": 45,
                "actuals": [{"period": "2026-Q1", "value": 30}, {"period": "2026-Q2", "value": 46}],
            },
            {
                "name": "Complaints",
                "target": 10,
                "higher_is_better": False,
                "actuals": [{"period": "2026", "value": 12}],
            },
            {"name": "New", "actuals": []},
        ]
    }
    history = frames.kpi_history(trip)
    assert list(history["kpi"]) == ["NPS (points)", "NPS (points)", "Complaints"]
    assert list(history["target"]) == [45, 45, 10]
    status = frames.kpi_status(trip).set_index("kpi")["status"].to_dict()
    assert status == {"NPS": "on target", "Complaints": "off target", "New": "no data"}


def test_pain_points_most_severe_first(portfolio: dict[str, Any]) -> None:
    pains = frames.pain_points(journey(portfolio, "family-beach"), portfolio["touchpoints"])
    assert not pains.empty
    severities = list(pains["severity"])
    assert severities == sorted(severities, reverse=True)
    assert "Waiting time over 10 minutes in July and August" in set(pains["text"])


def test_journey_costs_add_up_to_the_attributed_cost(portfolio: dict[str, Any]) -> None:
    run = portfolio["run"]
    for result in run["journeys"]:
        costs = frames.journey_costs(result["id"], portfolio["journeys"], run)
        assert costs["cost"].sum() == pytest.approx(result["attributed_cost"], abs=1.0)
        assert costs["cost"].is_monotonic_decreasing


# =========================================================================== touchpoints


def test_sharing_matrix_has_one_row_per_link(portfolio: dict[str, Any]) -> None:
    matrix = frames.sharing_matrix(portfolio["journeys"], portfolio["touchpoints"])
    assert len(matrix) == sum(len(j["touchpoints"]) for j in portfolio["journeys"])
    assert matrix.groupby("journey")["share"].sum().to_numpy() == pytest.approx(1.0)
    web = matrix[matrix["touchpoint"] == "Web booking"]
    assert (web["journeys_sharing"] == len(web)).all()
    assert set(matrix.loc[matrix["critical"], "mark"]) == {"★"}


def test_touchpoint_table_flags_touchpoints_that_serve_no_journey(
    portfolio: dict[str, Any],
) -> None:
    touchpoints = [
        *portfolio["touchpoints"],
        {**portfolio["touchpoints"][0], "id": "orphan", "name": "Orphan"},
    ]
    table = frames.touchpoint_table(
        touchpoints, portfolio["journeys"], portfolio["departments"], portfolio["run"]
    )
    assert list(table.loc[table["serves_no_journey"], "id"]) == ["orphan"]
    optimal = {t["id"]: round(t["spend"]) for t in portfolio["run"]["touchpoints"]}
    for row in table[table["id"] != "orphan"].itertuples():
        assert row.optimal_spend == optimal[row.id]
    assert math.isnan(table.set_index("id").loc["orphan", "optimal_spend"])


def test_response_curves_put_the_marks_on_the_curve(portfolio: dict[str, Any]) -> None:
    run = portfolio["run"]
    curves = frames.response_curves(portfolio["touchpoints"], run)
    optimal = curves[curves["kind"] == frames.OPTIMAL].set_index("touchpoint")
    for result in run["touchpoints"]:
        # The run evaluates the true curve at its spend: so must the chart's mark.
        assert optimal.loc[result["name"], "quality"] == pytest.approx(result["curve_quality"])
    info = next(t for t in portfolio["touchpoints"] if t["id"] == "hotline")
    hotline = curves[(curves["touchpoint"] == info["name"]) & (curves["kind"] == "curve")]
    assert hotline["spend"].iloc[0] == 0
    assert hotline["spend"].iloc[-1] == info["max_spend"]
    assert hotline["quality"].is_monotonic_increasing


def test_points_curve_is_linear_between_points_and_flat_after() -> None:
    curve = {"points": [[0, 0.1], [100, 0.5], [300, 0.7]]}
    assert frames.evaluate_curve(curve, 50) == pytest.approx(0.3)
    assert frames.evaluate_curve(curve, 1000) == 0.7
    assert frames.curve_points(curve, 400)[-1] == (400, 0.7)
    assert frames.curve_points(curve, 200)[-1] == (200, pytest.approx(0.6))
    saturating = {"saturating": {"base": 0.2, "max": 0.9, "half_spend": 100}}
    assert frames.evaluate_curve(saturating, 100) == pytest.approx(0.55)


# =========================================================================== runs


def test_allocation_in_long_form_for_side_by_side_bars(portfolio: dict[str, Any]) -> None:
    allocation = frames.allocation(portfolio["run"])
    assert (allocation["change"] == allocation["optimal"] - allocation["current"]).all()
    long = frames.side_by_side(allocation, "touchpoint")
    assert len(long) == 2 * len(allocation)
    assert set(long["allocation"]) == {"Current", "Optimal"}
    departments = frames.department_allocation(portfolio["run"])
    assert departments["optimal"].sum() == pytest.approx(allocation["optimal"].sum(), abs=10)


def test_shadow_prices_and_binding_in_plain_words_with_units(portfolio: dict[str, Any]) -> None:
    run = portfolio["run"]
    unit, floor_unit = run["shadow_prices"]["unit"], run["shadow_prices"]["floor_unit"]
    names = frames.names(portfolio["journeys"])
    prices = frames.shadow_prices(run, names)
    assert prices.iloc[0]["constraint"] == "Total budget"
    assert prices.iloc[0]["price"] == run["shadow_prices"]["budget"]
    assert prices.iloc[0]["unit"] == unit
    floor = prices.set_index("constraint").loc["Floor of Family books a beach holiday"]
    assert floor["unit"] == floor_unit
    sentences = frames.binding_sentences(run, names)
    assert len(sentences) == len(run["binding"])
    budget_price = f"{run['shadow_prices']['budget']:.2f}"
    assert sentences[0] == (
        f"The total budget of €1.8M is used up: its shadow price is {budget_price} {unit}."
    )
    assert any("Zielgebietsbetreuung" in s and unit in s for s in sentences)


def test_min_spend_shadow_prices_carry_the_runs_units() -> None:
    run = {
        "currency": "EUR",
        "mode": "min_spend",
        "binding": ["floor:a"],
        "departments": [{"id": "it", "name": "IT"}],
        "shadow_prices": {
            "budget": 0.0,
            "departments": {"it": 0.0},
            "floors": {"a": 1200.0},
            "unit": "EUR of spend saved per extra EUR of a department cap",
            "floor_unit": "EUR of spend per +0.01 of the floor",
        },
    }
    prices = frames.shadow_prices(run, {"a": "Alpha"})
    assert list(prices["constraint"]) == ["Cap of IT", "Floor of Alpha"]
    assert list(prices["unit"]) == [
        "EUR of spend saved per extra EUR of a department cap",
        "EUR of spend per +0.01 of the floor",
    ]


def test_run_labels_say_scenario_what_if_and_time() -> None:
    summary = {"scenario_id": None, "created_at": "2026-11-23T16:13:43Z"}
    assert frames.run_label(summary, {}, None, "EUR") == "As planned · 23 Nov 16:13:43"
    what_if = frames.run_label(summary, {}, {"budget": 1_980_000, "pooled": True}, "EUR")
    assert what_if == "As planned + what-if (budget €1.98M, pooled) · 23 Nov 16:13:43"
    named = frames.run_label({**summary, "scenario_id": "p"}, {"p": "Pooled"}, None, "EUR")
    assert named.startswith("Pooled · ")


def test_explanations_name_touchpoints_by_name() -> None:
    text = "its quality is capped at 0.46 by 'video-content', which it requires"
    assert frames.named(text, {"video-content": "Destination videos"}) == (
        "its quality is capped at 0.46 by 'Destination videos', which it requires"
    )


def test_the_price_of_silos_at_real_size_is_money_and_adds_up() -> None:
    # At 5,000 x 2,000 the page said 393.59 M (weighted) above 1,120.64 M - 741.47 M.
    run = {
        "portfolio": {
            "value": 1_120_640_000.0,
            "spend": 176_950_000.0,
            "budget": 176_950_000.0,
            "current_spend": 176_950_000.0,
        },
        "baselines": {"current": {"value": 900_120_000.0}, "silo": {"value": 741_470_000.0}},
        "price_of_silos": 393_590_000.0,
        "price_of_silos_value": 379_170_000.0,
    }
    figures = frames.headline(run)
    assert figures["price_of_silos"] == 379_000_000
    assert figures["value"] - figures["silo_value"] == figures["price_of_silos"]
    assert figures["price_of_silos_weighted"] == 393_590_000.0


def test_compare_defaults_to_two_runs_of_different_inputs() -> None:
    def run(run_id: str, sha: str, scenario: str | None = None) -> dict[str, Any]:
        return {"run_id": run_id, "input_sha256": sha, "scenario_id": scenario}

    # Newest first: two identical runs as planned, then a pooled one, then an older plan.
    listing = [run("r4", "a"), run("r3", "a"), run("r2", "b", "pooled"), run("r1", "a")]
    assert frames.default_pair(listing) == ["r2", "r4"]
    # Nothing else to compare with: the two newest.
    assert frames.default_pair(listing[:2]) == ["r3", "r4"]


def test_compare_summary_changes_add_up_with_the_figures() -> None:
    def run(value: float, spend: float, silos: float) -> dict[str, Any]:
        return {
            "status": "optimal",
            "mode": "max_value",
            "budget": 1_800_000.0,
            "value": value,
            "spend": spend,
            "unallocated": 0.0,
            "price_of_silos": silos * 1.02,
            "price_of_silos_value": silos,
        }

    comparison = {
        "runs": [
            run(8_892_788.95, 1_800_000.0, 865_076.85),
            run(9_567_512.4, 1_979_999.6, 770_611.2),
        ]
    }
    summary = frames.compare_summary(comparison, ["Plan", "Pooled"])
    step = summary.attrs["step"]
    assert step == 1000
    plan, pooled = summary.iloc[0], summary.iloc[1]
    assert pooled["value_change"] == pooled["value"] - plan["value"] == 675_000
    assert pooled["spend_change"] == pooled["spend"] - plan["spend"] == 180_000
    assert list(summary["price_of_silos"]) == [865_000, 771_000]


def test_compare_deltas_leave_out_what_does_not_change() -> None:
    comparison = {
        "touchpoints": [
            {"name": "A", "spend_delta": [0.0, 5000.0, -20.0]},
            {"name": "B", "spend_delta": [0.0, 1e-9, -0.2]},
            {"name": "C", "spend_delta": [0.0, None, 3.0]},
        ]
    }
    deltas = frames.compare_deltas(comparison, ["r1", "r2", "r3"], "touchpoints", "spend")
    assert deltas.to_dict("records") == [
        {"item": "A", "run": "r2", "delta": 5000.0},
        {"item": "A", "run": "r3", "delta": -20.0},
        {"item": "C", "run": "r3", "delta": 3.0},
    ]


# =========================================================================== edits


def test_an_untouched_journey_editor_changes_nothing(portfolio: dict[str, Any]) -> None:
    family = journey(portfolio, "family-beach")
    kpis, actuals = edits.kpi_rows(family)
    changes = edits.journey_changes(
        family,
        lifecycle=family["lifecycle"],
        stages=", ".join(family["stages"]),
        links=edits.link_rows(family),
        kpis=kpis,
        actuals=actuals,
    )
    assert changes == {}


def test_journey_changes_carry_only_what_changed(portfolio: dict[str, Any]) -> None:
    family = journey(portfolio, "family-beach")
    links = edits.link_rows(family)
    links.loc[0, "weight"] = 5.0
    links.loc[1, "emotion"] = math.nan  # an emptied cell: no emotion
    links = pd.concat([links, pd.DataFrame([{"touchpoint": None}])], ignore_index=True)
    kpis, actuals = edits.kpi_rows(family)
    actuals = pd.concat(
        [actuals, pd.DataFrame([{"kpi": "NPS", "period": "2027-Q1", "value": 33.0}])],
        ignore_index=True,
    )
    changes = edits.journey_changes(
        family,
        lifecycle="sunset",
        stages=", ".join(family["stages"]),
        links=links,
        kpis=kpis,
        actuals=actuals,
    )
    assert set(changes) == {"lifecycle", "touchpoints", "kpis"}
    assert changes["lifecycle"] == "sunset"
    assert changes["touchpoints"][0]["weight"] == 5.0
    assert "emotion" not in changes["touchpoints"][1]
    assert len(changes["touchpoints"]) == len(family["touchpoints"])  # the empty row is dropped
    nps = next(k for k in changes["kpis"] if k["name"] == "NPS")
    assert nps["actuals"][-1] == {"period": "2027-Q1", "value": 33.0}


@pytest.mark.parametrize(
    ("links", "actuals", "message"),
    [
        ([{"touchpoint": None, "weight": 2.0}], [], "touchpoint link 1: choose the touchpoint"),
        ([], [], "at least one touchpoint link"),
        (
            [{"touchpoint": "hotline"}],
            [{"kpi": "Nope", "period": "2027", "value": 1.0}],
            "'Nope' is not one of the KPIs",
        ),
    ],
)
def test_journey_edits_that_cannot_be_sent_name_the_row(
    links: list[dict[str, Any]], actuals: list[dict[str, Any]], message: str
) -> None:
    trip = {"touchpoints": [{"touchpoint": "hotline"}]}
    with pytest.raises(edits.EditError, match=message):
        edits.journey_changes(
            trip,
            lifecycle="active",
            stages="",
            links=pd.DataFrame(links, columns=["touchpoint", "stage", "weight", "emotion"]),
            kpis=pd.DataFrame(columns=["name", "unit", "target", "higher_is_better"]),
            actuals=pd.DataFrame(actuals, columns=["kpi", "period", "value"]),
        )


def test_scenario_round_trips_through_the_editor_tables(portfolio: dict[str, Any]) -> None:
    scenario = {
        "name": "Mixed",
        "budget": 2_000_000,
        "pooled": False,
        "mode": "max_value",
        "priorities": {"family-beach": 1.5},
        "floors": {"family-problem": 0.6, "senior-phone": None},
        "locks": {"hotline": 170_000},
        "exclude": ["print-catalogue"],
        "departments": {"destination": 300_000, "marketing": None},
        "launch": ["kite-season-pass"],
    }
    data = edits.scenario_data(
        name=scenario["name"],
        description="",
        budget=scenario["budget"],
        pooled=scenario["pooled"],
        mode=scenario["mode"],
        journeys=edits.journey_overrides(scenario, portfolio["journeys"]),
        touchpoints=edits.touchpoint_overrides(scenario, portfolio["touchpoints"]),
        departments=edits.department_overrides(scenario, portfolio["departments"]),
        launch=scenario["launch"],
    )
    assert data == {**scenario, "description": None}


def test_a_touchpoint_is_locked_or_excluded_not_both(portfolio: dict[str, Any]) -> None:
    rows = edits.touchpoint_overrides({}, portfolio["touchpoints"])
    rows.loc[0, ["lock", "exclude"]] = [100_000.0, True]
    with pytest.raises(edits.EditError, match="lock it or exclude it"):
        edits.scenario_data(
            name="x",
            description="",
            budget=None,
            pooled=True,
            mode="max_value",
            journeys=None,
            touchpoints=rows,
            departments=None,
        )


def test_scenario_ids_come_from_the_name_and_are_unused() -> None:
    assert edits.slug("Pooled budget, +10 %", []) == "pooled-budget-10"
    assert edits.slug("Pooled budget, +10 %", ["pooled-budget-10"]) == "pooled-budget-10-2"
    assert edits.slug("!!!", []) == "scenario"


def test_scenario_ids_transliterate_german_the_german_way() -> None:
    name = "Größere Budgets für Österreich"
    assert edits.slug(name, []) == "groessere-budgets-fuer-oesterreich"
    assert edits.slug("ÄRGER über Maß", []) == "aerger-ueber-mass"
    assert edits.slug("Café déjà vu", []) == "cafe-deja-vu"
    long = edits.slug("Budget " * 20, [])
    assert len(long) <= 56
    assert not long.endswith("-")
    assert edits.slug(name, ["groessere-budgets-fuer-oesterreich"]).endswith("-2")


def test_scenario_summary_lists_the_overrides_by_name(portfolio: dict[str, Any]) -> None:
    names = frames.names(portfolio["journeys"]) | frames.names(portfolio["touchpoints"])
    lines = edits.scenario_summary(
        {"budget": 1_980_000, "pooled": True, "locks": {"hotline": 170_000}}, "EUR", names
    )
    hotline = next(t["name"] for t in portfolio["touchpoints"] if t["id"] == "hotline")
    assert lines == [
        "budget €1.98M",
        "one pooled budget (department caps ignored)",
        "maximize value",
        f"{hotline} locked at €170K",
    ]


def test_evaluate_curve_knows_every_form() -> None:
    hill = {"hill": {"base": 0.1, "max": 0.9, "half_spend": 100, "shape": 0.5}}
    assert frames.evaluate_curve(hill, 100) == pytest.approx(0.5)
    exponential = {"exponential": {"base": 0.1, "max": 0.9, "scale": 100}}
    assert frames.evaluate_curve(exponential, 100) == pytest.approx(0.1 + 0.8 * (1 - math.exp(-1)))
    logistic = {"logistic": {"base": 0.1, "max": 0.9, "lam": 0.01}}
    assert frames.evaluate_curve(logistic, 100) == pytest.approx(0.1 + 0.8 * math.tanh(0.5))
