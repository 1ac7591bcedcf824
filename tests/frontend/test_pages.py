"""Every page of the app under Streamlit's AppTest, against the live API (real HTTP): no
exception, the key elements, and an edit and a run through the pages."""

import os
from typing import Any

import httpx2
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from frontend import common, frames
from frontend.client import API_KEY_ENV, API_URL_ENV, Api
from optimizer.document import document_to_data, load_document
from tests.frontend.support import (
    APP,
    PAGE_TIMEOUT,
    SEEDS,
    SONNENREISEN,
    LiveApi,
    button,
    chart_rows,
    charts,
    close,
    free_port,
    open_page,
)

FINANZHAUS = "finanzhaus-2027"
MASCHINENBAU = "maschinenbau-2027"


def values(elements: Any) -> list[Any]:
    return [element.value for element in elements]


def plan_of(api: Api, portfolio_id: str) -> dict[str, Any]:
    """The run the pages show for the portfolio as planned (the same Idempotency-Key replays
    the page's run, so both see one run)."""
    version = api.portfolio(portfolio_id)["version"]
    return api.create_run(portfolio_id, idempotency_key=f"ui-plan-{portfolio_id}-v{version}")


def marks(spec: dict[str, Any]) -> set[str]:
    """The mark types of a chart spec (layers and facets included)."""
    inner = spec.get("spec", spec)
    found = set()
    for layer in inner.get("layer", [inner]):
        mark = layer["mark"]
        found.add(mark if isinstance(mark, str) else mark["type"])
    return found


# =========================================================================== Portfolio


def test_portfolio_page_answers_worth_silos_and_bigger_budget(app: AppTest, api: Api) -> None:
    at = open_page(app, "overview", portfolio=SONNENREISEN)
    assert not at.exception
    assert not at.error
    assert values(at.title) == ["Sonnenreisen 2027"]
    run = plan_of(api, SONNENREISEN)
    metrics = {m.label: m.value for m in at.metric}
    assert list(metrics) == [
        "Portfolio value",
        "Spend vs. budget",
        "Value vs. current allocation",
        "Price of silos",
    ]
    # Money at the precision shown (test_figures.py checks that the figures add up).
    assert close(metrics["Portfolio value"], run["portfolio"]["value"])
    assert close(metrics["Spend vs. budget"], run["portfolio"]["spend"])
    gain = run["portfolio"]["value"] - run["baselines"]["current"]["value"]
    assert close(metrics["Value vs. current allocation"], gain)
    assert close(metrics["Price of silos"], run["price_of_silos_value"])
    left_out = [c for c in values(at.caption) if "Left out by lifecycle" in c]
    assert left_out == [
        f"**Left out by lifecycle** (1): Kite surfer buys a season pass, "
        f"{run['left_out'][0]['reason']}."
    ]
    what_if = at.info[0].value
    assert "What would pooling, then 10 % more budget, buy?" in what_if
    # the box is the pooled bridge: pooling, then the extra money alone
    bridge = api.pooled_bridge(SONNENREISEN)
    assert [s["name"] for s in bridge["steps"]] == ["pooling", "budget"]
    sentence = frames.pooled_bridge_sentence(bridge)
    assert sentence is not None
    assert sentence in what_if
    # The journeys worth most, first.
    table = at.dataframe[0].value
    assert list(table["journey"])[0] == "Family books a beach holiday"
    assert table["value"].dropna().is_monotonic_decreasing
    # the idea left out of the plan is listed without a value, last
    assert list(table[table["value"].isna()]["journey"]) == ["Kite surfer buys a season pass"]
    specs = charts(at)
    matrix = specs[0]
    assert marks(matrix) == {"circle", "text"}
    assert matrix["layer"][0]["encoding"]["size"]["field"] == "attributed_cost"
    assert values(at.subheader) == ["Journey portfolio", "Journeys by value", "Departments"]


def test_the_portfolio_choice_is_kept_across_pages(app: AppTest) -> None:
    at = open_page(app, "overview")
    picker = at.sidebar.selectbox(key="_portfolio_picker")
    picker.set_value(MASCHINENBAU).run()
    assert values(at.title) == ["Huber Verpackungsmaschinen 2027"]
    open_page(at, "touchpoints")
    assert not at.exception
    assert at.sidebar.selectbox(key="_portfolio_picker").value == MASCHINENBAU
    assert "17 touchpoints serve 7 journeys" in at.caption[0].value


# =========================================================================== Journey


def test_journey_page_shows_the_product(app: AppTest, api: Api) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="family-beach")
    assert not at.exception
    assert values(at.title) == ["Family books a beach holiday"]
    assert "Owner **anna.berg@sonnenreisen.example**" in at.markdown[0].value
    assert ":green-badge[active]" in at.markdown[0].value
    assert values(at.subheader) == [
        "Journey map",
        "KPIs against targets",
        "Pain points and feedback",
        "Journey P&L",
        "What would it take?",
        "Edit this journey",
    ]
    result = next(j for j in plan_of(api, SONNENREISEN)["journeys"] if j["id"] == "family-beach")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Experience quality"] == f"{result['quality']:.2f}"
    assert close(metrics["Attributed cost"], result["attributed_cost"])
    specs = charts(at)
    assert len(specs) == 4  # journey map, emotion curve, KPIs, cost
    journey_map = specs[0]
    assert marks(journey_map) == {"rect", "text"}
    assert journey_map["layer"][0]["encoding"]["x"]["sort"] == ["Need", "Buy", "Use"]
    assert specs[2]["facet"]["field"] == "kpi"
    kpis = at.dataframe[0].value
    assert list(kpis["kpi"]) == ["Web conversion rate", "NPS"]
    pains = at.dataframe[1].value
    assert "Waiting time over 10 minutes in July and August" in set(pains["text"])
    assert len(at.data_editor) == 3  # links, KPIs, actuals


def test_owner_prices_an_ask_on_the_journey_page(app: AppTest, api: Api) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="family-beach")
    at.slider(key="ask-family-beach").set_value(0.7).run()
    button(at, "Price this ask").click().run()
    assert not at.exception
    priced = api.ask(SONNENREISEN, "family-beach", 0.7)
    assert priced["same_budget"] is not None
    assert priced["extra_budget"] is not None
    metrics = {m.label: m.value for m in at.metric}
    # the page's figures are the API's, in money
    base_value = round(priced["base"]["value"])
    assert close(metrics["At the same budget"], round(priced["same_budget"]["value"]) - base_value)
    assert metrics["With more money"].endswith(" more")
    extra = round(priced["extra_budget"]["spend"]) - round(priced["base"]["spend"])
    assert close(metrics["With more money"].removesuffix(" more"), extra)
    (table,) = [d.value for d in at.dataframe if "shared" in d.value.columns]
    assert list(table["touchpoint"]) == [c["name"] for c in priced["changes"]]
    losers = [m for m in values(at.markdown) if m.startswith("Loses most")]
    assert losers
    assert priced["same_budget"]["losers"][0]["name"] in losers[0]


def _editor_tag(at: AppTest, journey_id: str) -> str:
    base = at.session_state[f"journey-base:{SONNENREISEN}:{journey_id}"]
    return f"{SONNENREISEN}:{journey_id}:{base.etag}"


def test_owner_edits_lifecycle_links_and_kpis_through_the_page(app: AppTest, api: Api) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="kite-trip")
    before = api.journey(SONNENREISEN, "kite-trip").body
    tag = _editor_tag(at, "kite-trip")
    at.selectbox(key=f"lifecycle:{tag}").set_value("sunset")
    at.session_state[f"links:{tag}"] = {
        "edited_rows": {0: {"weight": 7.0, "emotion": 2.0}},
        "added_rows": [],
        "deleted_rows": [len(before["touchpoints"]) - 1],
    }
    kpi = before["kpis"][0]["name"]
    at.session_state[f"actuals:{tag}"] = {
        "edited_rows": {},
        "added_rows": [{"kpi": kpi, "period": "2027-Q1", "value": 99.0}],
        "deleted_rows": [],
    }
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert not at.error
    assert values(at.success)[0].startswith("Saved Kite surfer books a trip (version")

    after = api.journey(SONNENREISEN, "kite-trip").body
    assert after["lifecycle"] == "sunset"
    assert after["touchpoints"][0]["weight"] == 7.0
    assert after["touchpoints"][0]["emotion"] == 2.0
    assert len(after["touchpoints"]) == len(before["touchpoints"]) - 1
    assert after["kpis"][0]["actuals"][-1] == {"period": "2027-Q1", "value": 99.0}
    # The page shows the new version at once.
    assert ":gray-badge[sunset]" in at.markdown[0].value
    assert f"Editing version {after['version']} of the journey." in values(at.caption)


def test_a_conflicting_edit_is_refused_clearly_and_can_be_reloaded(app: AppTest, api: Api) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="senior-round-trip")
    tag = _editor_tag(at, "senior-round-trip")
    # Someone else saves first.
    theirs = api.journey(SONNENREISEN, "senior-round-trip")
    api.update_journey(
        SONNENREISEN, "senior-round-trip", {"description": "their change"}, etag=theirs.etag
    )
    at.selectbox(key=f"lifecycle:{tag}").set_value("idea")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert "Someone else changed this since you opened it" in at.error[0].value
    now = api.journey(SONNENREISEN, "senior-round-trip").body
    assert now["description"] == "their change"
    assert now["lifecycle"] == theirs.body["lifecycle"]

    button(at, "Reload the latest version (discards unsaved edits)").click().run()
    assert not at.error
    assert f"Editing version {now['version']} of the journey." in values(at.caption)


def test_a_change_the_api_refuses_shows_its_problems(app: AppTest, api: Api) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="catalogue-order")
    tag = _editor_tag(at, "catalogue-order")
    at.session_state[f"links:{tag}"] = {
        "edited_rows": {0: {"stage": "Teleport"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    before = api.journey(SONNENREISEN, "catalogue-order").body
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert "The change was refused while saving journey 'catalogue-order'" in at.error[0].value
    assert "touchpoints[0].stage: 'Teleport' is not one of the journey's stages" in (
        at.error[0].value
    )
    assert api.journey(SONNENREISEN, "catalogue-order").body["version"] == before["version"]


# =========================================================================== Touchpoints


def test_touchpoints_page_shows_sharing_curves_and_idle_touchpoints(
    app: AppTest, api: Api, live: LiveApi
) -> None:
    orphan = {
        "id": "trade-fair-stand",
        "name": "Trade fair stand",
        "department": api.items(MASCHINENBAU, "departments")[0]["id"],
        "channel": "event",
        "current_spend": 40000,
        "max_spend": 80000,
        "curve": {"points": [[0, 0.2], [80000, 0.6]]},
    }
    created = httpx2.post(
        f"{live.url}/portfolios/{MASCHINENBAU}/touchpoints",
        json=orphan,
        headers={"Authorization": f"Bearer {live.key}"},
    )
    assert created.status_code == 201, created.text

    at = open_page(app, "touchpoints", portfolio=MASCHINENBAU)
    assert not at.exception
    assert values(at.title) == ["Touchpoints"]
    assert "1 touchpoint(s) serve no journey" in at.warning[0].value
    assert "Trade fair stand" in at.warning[0].value
    specs = charts(at)
    sharing, curves = specs
    assert sharing["layer"][0]["encoding"]["y"]["field"] == "journey"
    assert curves["facet"]["field"] == "touchpoint"
    table = at.dataframe[0].value
    assert len(table) == 18
    row = table.set_index("id").loc["trade-fair-stand"]
    assert row["journeys"] == 0

    department = at.selectbox[0]
    department.set_value(orphan["department"]).run()
    members = {t["name"] for t in api.items(MASCHINENBAU, "touchpoints")}
    shown = set(chart_rows(at, 1)["touchpoint"])
    assert "Trade fair stand" in shown
    assert shown < members


# =========================================================================== Scenario planner


def test_scenario_is_created_and_run_through_the_page(app: AppTest, api: Api) -> None:
    at = open_page(app, "scenarios", portfolio=SONNENREISEN)
    assert not at.exception
    at.sidebar.selectbox(key="_scenario_widget").set_value("__new__").run()
    assert values(at.form_submit_button) == [False]
    at.text_input[0].input("Pooled, a tenth more")
    at.number_input[0].set_value(1_980_000.0)
    at.toggle[0].set_value(True)
    ideas = at.multiselect(key=f"launch:{SONNENREISEN}:new")
    assert ideas.label == "Launch these ideas"
    assert ideas.options == ["Kite surfer buys a season pass"]
    ideas.set_value(["kite-season-pass"])
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert values(at.success) == ["Created scenario “Pooled, a tenth more”. Run it below."]
    scenario = api.scenario(SONNENREISEN, "pooled-a-tenth-more").body
    assert scenario["budget"] == 1_980_000
    assert scenario["pooled"] is True
    assert scenario["launch"] == ["kite-season-pass"]

    button(at, "Run this scenario").click().run()
    assert not at.exception
    assert [s.label for s in at.status] == ["Run finished: optimal"]
    run = api.runs(SONNENREISEN, scenario="pooled-a-tenth-more")[0]
    assert not any("Left out by lifecycle" in c for c in values(at.caption))
    metrics = {m.label: m.value for m in at.metric}
    assert close(metrics["Portfolio value"], run["value"])
    assert metrics["Spend"] == "€1.98M"
    assert [t.label for t in at.tabs] == [
        "Departments",
        "Touchpoints",
        "Shadow prices and what binds",
        "Journeys",
    ]
    assert "**What holds the result back**" in values(at.markdown)
    assert [d.label for d in at.get("download_button")] == ["Download CSV", "Download XLSX"]
    assert len(charts(at)) == 3  # departments, touchpoints, shadow prices

    button(at, "Compare with the plan").click().run()
    assert not at.exception
    assert values(at.title) == ["Compare scenarios"]
    assert at.multiselect[0].value == [plan_of(api, SONNENREISEN)["run_id"], run["run_id"]]


def test_infeasible_scenario_says_what_conflicts(app: AppTest) -> None:
    at = open_page(app, "scenarios", portfolio=SONNENREISEN, scenario="higher-floors-departmental")
    assert not at.exception
    button(at, "Run this scenario").click().run()
    assert not at.exception
    assert [s.label for s in at.status] == ["Run finished: infeasible"]
    assert "This scenario cannot be met" in at.error[0].value
    conflicts = [m for m in values(at.markdown) if m.startswith("- the floor")]
    assert conflicts
    # journeys by name, money with its currency
    assert all("'Family books a beach holiday'" in c and " EUR " in c for c in conflicts)


def test_scenario_settings_are_saved_with_if_match(app: AppTest, api: Api) -> None:
    at = open_page(app, "scenarios", portfolio=FINANZHAUS)
    chosen = at.sidebar.selectbox(key="_scenario_widget").value
    before = api.scenario(FINANZHAUS, chosen)
    at.toggle[0].set_value(not before.body["pooled"])
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert values(at.success) == [f"Saved scenario “{before.body['name']}”."]
    after = api.scenario(FINANZHAUS, chosen).body
    assert after["pooled"] is (not before.body["pooled"])
    assert after["version"] == before.body["version"] + 1


# =========================================================================== Compare


def test_compare_puts_two_to_four_runs_side_by_side(app: AppTest, api: Api) -> None:
    runs = [
        api.create_run(FINANZHAUS, scenario=scenario["id"])
        for scenario in api.items(FINANZHAUS, "scenarios")[:3]
    ]
    at = open_page(app, "compare", portfolio=FINANZHAUS, compare=[r["run_id"] for r in runs[:2]])
    assert not at.exception
    assert len(at.metric) == 6  # value, spend, price of silos per run
    assert close(at.metric[0].value, runs[0]["portfolio"]["value"])
    assert close(at.metric[3].value, runs[1]["portfolio"]["value"])
    assert [t.label for t in at.tabs] == ["Touchpoints", "Departments", "Journeys"]
    figures = charts(at)[0]
    assert figures["encoding"]["xOffset"]["field"] == "run"

    at.multiselect[0].set_value([r["run_id"] for r in runs]).run()
    assert not at.exception
    assert len(at.metric) == 9
    for spec in [c for c in charts(at)[1:] if c.get("title") != "Value bridge"]:
        domain = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
        assert len(domain) == 2  # every run against the first


def test_compare_bridges_the_first_run_to_the_others(app: AppTest, api: Api) -> None:
    first = api.create_run(SONNENREISEN)
    second = api.create_run(SONNENREISEN, scenario="pooled-plus-10")
    at = open_page(
        app, "compare", portfolio=SONNENREISEN, compare=[first["run_id"], second["run_id"]]
    )
    assert not at.exception
    specs = charts(at)
    (index,) = [k for k, spec in enumerate(specs) if spec.get("title") == "Value bridge"]
    bridge = api.bridge(SONNENREISEN, first["run_id"], second["run_id"])
    rows = chart_rows(at, index)
    assert list(rows["kind"]) == ["total", "increase", "increase", "total"]
    levels = frames.bridge_levels(bridge)
    assert list(rows["text"]) == [
        f"{levels[0]['level']:,.0f}",
        f"{levels[1]['change']:+,.0f}",
        f"{levels[2]['change']:+,.0f}",
        f"{levels[3]['level']:,.0f}",
    ]
    assert levels[0]["level"] + levels[1]["change"] + levels[2]["change"] == levels[3]["level"]
    caption = frames.bridge_caption(bridge)
    assert caption in [c.value for c in at.caption]
    # other tests may have edited the portfolio: the figures are the bridge's own
    total = levels[3]["level"] - levels[0]["level"]
    assert abs(total - bridge["total"]) <= 1
    assert f"{total:+,.0f} EUR in total, the sum of the 2 step(s)." in caption


def test_compare_without_two_runs_says_what_to_do(app: AppTest, live: LiveApi) -> None:
    document = document_to_data(load_document(SEEDS / "maschinenbau-2027.yaml"))
    document["id"] = "nordwerk-2027"
    document["name"] = "Nordwerk 2027"
    created = httpx2.post(
        f"{live.url}/portfolios",
        json=document,
        headers={"Authorization": f"Bearer {live.key}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    common.portfolios.clear()  # the list is cached for a few seconds
    at = open_page(app, "compare", portfolio="nordwerk-2027")
    assert not at.exception
    assert "Comparing needs at least two runs" in at.info[0].value


# =========================================================================== errors


@pytest.fixture
def environment(live: LiveApi) -> Any:
    """Change the app's API address or key for one test (the client is rebuilt)."""
    saved = {name: os.environ[name] for name in (API_URL_ENV, API_KEY_ENV)}

    def change(**values: str) -> None:
        os.environ.update(values)
        common.api.clear()
        st.cache_data.clear()

    yield change
    change(**saved)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("url", "does not answer"),
        ("key", "did not accept the app's key"),
    ],
)
def test_api_failures_are_messages_not_tracebacks(
    live: LiveApi, environment: Any, setting: str, message: str
) -> None:
    if setting == "url":
        environment(**{API_URL_ENV: f"http://127.0.0.1:{free_port()}/api/v1"})
    else:
        environment(**{API_KEY_ENV: "jf_revoked-or-never-issued"})
    for page in ("overview", "journeys", "touchpoints", "scenarios", "compare"):
        at = AppTest.from_file(str(APP), default_timeout=PAGE_TIMEOUT)
        at.run()
        open_page(at, page)
        assert not at.exception, page
        assert len(at.error) == 1, page
        assert message in at.error[0].value
        assert "journeyfolio up" in at.error[0].value
