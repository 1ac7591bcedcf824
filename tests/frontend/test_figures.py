"""What the screen says adds up: the pages walked under AppTest against the live API, their
rendered text parsed back into numbers.

The checks compare figures on the screen with each other (and with the run JSON at the
precision shown), never with the app's own formatter: every "A − B = C" holds to the digit,
a stated percentage is the ratio of the figures it names, the headline price of silos is
money (value minus silo value), a metric whose change shows as zero has no delta, tables show
no "None", names instead of ids, and prices come with their unit.
"""

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from frontend.client import Api
from tests.frontend.support import (
    DIFFERENCE,
    MONEY,
    PERCENT,
    SONNENREISEN,
    amount,
    button,
    close,
    near,
    open_page,
)

NO_ARROW = MetricProto.MetricDirection.NONE
SEED_PORTFOLIOS = [SONNENREISEN, "finanzhaus-2027", "maschinenbau-2027"]


def texts(at: AppTest) -> list[str]:
    """Everything the page says in words: metrics (value, delta, help), captions, Markdown,
    alerts."""
    found = []
    for metric in at.metric:
        found += [metric.value, metric.proto.delta, metric.proto.help]
    for kind in ("caption", "markdown", "info", "warning", "error", "success"):
        found += [element.value for element in getattr(at, kind)]
    return [text for text in found if text]


def differences(at: AppTest) -> list[tuple[str, str, str]]:
    return [(m["a"], m["b"], m["c"]) for text in texts(at) for m in DIFFERENCE.finditer(text)]


def check_differences_add_up(at: AppTest) -> list[tuple[str, str, str]]:
    found = differences(at)
    for a, b, c in found:
        assert amount(a) - amount(b) == amount(c), f"{a} − {b} = {c} does not hold"
    return found


def check_no_arrow_for_zero(at: AppTest) -> None:
    """A delta with an arrow states a change that is not zero at the precision shown."""
    for metric in at.metric:
        delta = metric.proto.delta
        if not delta or metric.proto.direction == NO_ARROW:
            continue
        number = re.search(r"\d[\d,]*(?:\.\d+)?", delta)
        assert number, f"{metric.label}: {delta}"
        assert Decimal(number[0].replace(",", "")) != 0, f"{metric.label}: {delta}"


NAMED = {"touchpoint", "journey", "department", "persona", "scenario", "limited_by", "item"}
"""Columns that name an entity (what a person reads there is a name, never an id)."""


def labelled(table: Any, column: str) -> bool:
    """Whether the table shows `column`'s values through labels (a select box column with
    `format_func`: the cell holds the id, the screen its name)."""
    config = json.loads(table.proto.columns or "{}").get(column, {})
    options = config.get("type_config", {}).get("options") or []
    return bool(options) and all(
        isinstance(o, dict) and o.get("label") != o.get("value") for o in options
    )


def check_tables(at: AppTest, ids: set[str]) -> None:
    """No "None" shown and no id where a name belongs, in every table on the page."""
    for table in at.dataframe:
        frame = table.value
        shown = list(table.proto.column_order) or list(frame.columns)
        shown = [c for c in shown if c in frame.columns]
        if frame[shown].isna().to_numpy().any():
            assert table.proto.placeholder not in ("", "None"), f"None shown in {shown}"
        for column in shown:
            cells = {str(v) for v in frame[column].dropna()}
            assert "None" not in cells, column
            if column in NAMED and not labelled(table, column):
                assert not cells & ids, f"ids in column {column}: {sorted(cells & ids)[:5]}"
            quoted = {q for cell in cells for q in re.findall(r"'([^']+)'", cell)}
            assert not quoted & ids, f"ids quoted in column {column}: {sorted(quoted & ids)}"


def entity_ids(api: Api, portfolio_id: str) -> set[str]:
    ids = set()
    for kind in ("departments", "personas", "touchpoints", "journeys", "scenarios"):
        ids |= {item["id"] for item in api.items(portfolio_id, kind)}
    return ids


def plan_of(api: Api, portfolio_id: str) -> dict[str, Any]:
    version = api.portfolio(portfolio_id)["version"]
    return api.create_run(portfolio_id, idempotency_key=f"ui-plan-{portfolio_id}-v{version}")


# =========================================================================== Portfolio


@pytest.mark.parametrize("portfolio_id", SEED_PORTFOLIOS)
def test_the_portfolio_page_says_what_adds_up(app: AppTest, api: Api, portfolio_id: str) -> None:
    at = open_page(app, "overview", portfolio=portfolio_id)
    assert not at.exception
    run = plan_of(api, portfolio_id)
    metrics = {m.label: m for m in at.metric}
    value = metrics["Portfolio value"].value
    silos = metrics["Price of silos"].value
    gain = metrics["Value vs. current allocation"]

    found = check_differences_add_up(at)
    # The headline price of silos is the caption's value minus silo value, as shown ...
    silo_sentence = [d for d in found if amount(d[2]) == amount(silos) and d[0] == value]
    assert silo_sentence, f"no 'value − silo value = {silos}' on the page: {found}"
    _, silo_value, _ = silo_sentence[0]
    # ... and it is money: the run's unweighted figures at the precision shown (the silo
    # value derived from them, within a unit of its last digit).
    assert close(value, run["portfolio"]["value"])
    assert near(silo_value, run["baselines"]["silo"]["value"])
    assert close(silos, run["price_of_silos_value"])
    assert not close(silos, run["price_of_silos"])  # the weighted twin differs on the demos
    weighted = re.search(rf"[Pp]riority-weighted[^€]*?(?P<w>{MONEY})", " ".join(texts(at)))
    assert weighted
    assert close(weighted["w"], run["price_of_silos"])

    # The gain over today's allocation: its sentence adds up and its percentage is the ratio
    # of the figures it names.
    (gain_sentence,) = DIFFERENCE.findall(gain.proto.help) or [None]
    assert gain_sentence is not None
    optimum, today, difference = gain_sentence
    assert optimum == value
    assert difference == gain.value
    shown_percent = PERCENT.search(gain.proto.delta)
    assert shown_percent
    decimals = len(shown_percent["fraction"] or "")
    ratio = amount(difference) / amount(today) * 100
    assert Decimal(shown_percent["number"]) == ratio.quantize(Decimal(1).scaleb(-decimals))
    assert shown_percent[0] in gain.proto.help

    check_no_arrow_for_zero(at)
    check_tables(at, entity_ids(api, portfolio_id))


def test_spend_and_what_is_left_add_up_to_the_budget(app: AppTest, api: Api) -> None:
    at = open_page(app, "overview", portfolio=SONNENREISEN)
    spend = next(m for m in at.metric if m.label == "Spend vs. budget")
    budget = re.match(
        rf"of (?P<b>{MONEY}); (?:(?P<u>{MONEY}) unallocated|all used)", spend.proto.delta
    )
    assert budget, spend.proto.delta
    left = amount(budget["u"]) if budget["u"] else Decimal(0)
    assert amount(spend.value) + left == amount(budget["b"])


# =========================================================================== the other pages


def test_the_scenario_planner_shows_money_prices_with_units(app: AppTest, api: Api) -> None:
    at = open_page(app, "scenarios", portfolio=SONNENREISEN, scenario="higher-floors")
    next(b for b in at.button if b.label == "Run this scenario").click().run()
    assert not at.exception
    run = api.runs(SONNENREISEN, scenario="higher-floors")[0]
    result = api.run(run["run_id"])
    unit, floor_unit = result["shadow_prices"]["unit"], result["shadow_prices"]["floor_unit"]

    found = check_differences_add_up(at)
    metrics = {m.label: m for m in at.metric}
    silos = metrics["Price of silos"].value
    assert close(silos, result["price_of_silos_value"])
    assert any(c == silos and a == metrics["Portfolio value"].value for a, _, c in found)
    change = metrics["Portfolio value"].proto.delta
    assert any(f"{c} vs. plan" == change for _, _, c in found)

    # Every price on the page comes with its unit.
    sentences = [m for m in (e.value for e in at.markdown) if "shadow price" in m]
    assert sentences
    for sentence in sentences:
        assert unit in sentence or floor_unit in sentence, sentence
    prices = next(t.value for t in at.dataframe if "unit" in t.value.columns)
    assert set(prices["unit"]) == {unit, floor_unit}
    assert any(unit in text for text in texts(at) if "Why" in text)  # marginal values
    check_no_arrow_for_zero(at)
    check_tables(at, entity_ids(api, SONNENREISEN))
    # The scenario's floors, not the plan's; "–" where a journey has none.
    journeys = at.dataframe[-1].value.set_index("journey")
    assert journeys.loc["Family books a beach holiday", "floor"] == pytest.approx(0.66)


def test_compare_defaults_to_different_runs_and_adds_up(app: AppTest, api: Api) -> None:
    portfolio_id = "finanzhaus-2027"
    pooled = api.create_run(portfolio_id, scenario="pooled")
    plan_of(api, portfolio_id)
    plan_of(api, portfolio_id)  # replayed, and a fresh identical run after it
    api.create_run(portfolio_id)
    at = open_page(app, "compare", portfolio=portfolio_id)
    assert not at.exception
    chosen = at.multiselect[0].value
    listing = {r["run_id"]: r for r in api.runs(portfolio_id)}
    first, second = (listing[r] for r in chosen)
    assert (first["input_sha256"], first["scenario_id"]) != (
        second["input_sha256"],
        second["scenario_id"],
    )
    assert pooled["run_id"] in chosen

    values = [m for m in at.metric if m.label == "Value"]
    reference, other = (amount(m.value) for m in values)
    assert amount(values[1].proto.delta) == other - reference
    spends = [m for m in at.metric if m.label == "Spend"]
    spend_change = amount(spends[1].value) - amount(spends[0].value)
    if spend_change:
        assert amount(spends[1].proto.delta) == spend_change
    else:
        assert not spends[1].proto.delta
    for metric, run_id in zip(
        (m for m in at.metric if m.label == "Price of silos"), chosen, strict=True
    ):
        assert close(metric.value, api.run(run_id)["price_of_silos_value"])
    check_no_arrow_for_zero(at)


def test_the_journey_page_states_changes_that_add_up(app: AppTest, api: Api) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="family-beach")
    assert not at.exception
    found = check_differences_add_up(at)
    metrics = {m.label: m for m in at.metric}
    assert any(f"{c} vs. today" == metrics["Value per period"].proto.delta for _, _, c in found)
    ratio = amount(metrics["Value per period"].value) / amount(metrics["Attributed cost"].value)
    assert Decimal(metrics["Value per cost"].value) == ratio.quantize(Decimal("0.1"))
    check_no_arrow_for_zero(at)
    check_tables(at, entity_ids(api, SONNENREISEN))


def test_the_ask_states_prices_that_add_up(app: AppTest) -> None:
    at = open_page(app, "journeys", portfolio=SONNENREISEN, journey="family-beach")
    at.slider(key="ask-family-beach").set_value(0.7).run()
    button(at, "Price this ask").click().run()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    found = check_differences_add_up(at)
    # both prices state their sentence: value given up, and the extra money
    shown = {c for _, _, c in found}
    assert metrics["At the same budget"].value in shown
    assert metrics["With more money"].value.removesuffix(" more") in shown


def test_the_touchpoints_page_names_and_units(app: AppTest, api: Api) -> None:
    at = open_page(app, "touchpoints", portfolio=SONNENREISEN)
    assert not at.exception
    unit = plan_of(api, SONNENREISEN)["shadow_prices"]["unit"]
    assert any(unit in caption for caption in (c.value for c in at.caption))
    check_tables(at, entity_ids(api, SONNENREISEN))
