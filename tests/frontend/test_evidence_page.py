"""The Touchpoints page's "Curves from evidence" under AppTest, against the live API (real
HTTP): the observations, the fitted curve and its band, the spends marked, and "Accept this
curve" for planners only."""

from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from backend.db import make_engine
from backend.security import Role, create_key
from frontend import common, frames
from frontend.client import API_KEY_ENV, Api
from tests.frontend.support import LiveApi, button, chart_rows, charts, open_page

SONNENREISEN = "sonnenreisen-2027"
FINANZHAUS = "finanzhaus-2027"
ACCEPT = "Accept this curve"


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def test_the_section_shows_observations_fit_band_and_spends(app: AppTest, api: Api) -> None:
    at = open_page(app, "touchpoints", portfolio=SONNENREISEN, evidence_touchpoint="hotline")
    assert not at.exception
    assert subheaders(at)[-1] == "Curves from evidence"
    fit = api.fit(SONNENREISEN, "hotline")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Observations"] == "18"
    assert metrics["r²"] == f"{fit['r2']:.3f}"
    assert metrics["Form"] == fit["form"]
    assert any("typed in" in m.value for m in at.markdown)
    specs = charts(at)
    assert len(specs) == 3  # sharing matrix, response curves, evidence
    evidence = specs[2]
    assert [layer["mark"]["type"] for layer in evidence["layer"]] == [
        "area",
        "line",
        "circle",
        "rule",
    ]
    rows = chart_rows(at, 2)
    kinds = rows["kind"].value_counts().to_dict()
    assert kinds[frames.OBSERVED] == 18
    assert kinds[frames.FITTED] == len(fit["band"]["spend"])
    assert kinds[frames.CURRENT] == 1
    assert kinds[frames.OPTIMAL] == 1
    band = rows[rows["kind"] == frames.FITTED]
    assert (band["low"] <= band["quality"]).all()
    assert (band["quality"] <= band["high"]).all()
    today = rows[rows["kind"] == frames.CURRENT]["spend"].item()
    assert today == 170_000
    # the live key is a planner's
    assert button(at, ACCEPT)


def test_a_planner_accepts_the_fitted_curve(app: AppTest, api: Api) -> None:
    original = api.touchpoint(FINANZHAUS, "chatbot")
    at = open_page(app, "touchpoints", portfolio=FINANZHAUS, evidence_touchpoint="chatbot")
    assert not at.exception
    fit = api.fit(FINANZHAUS, "chatbot")
    try:
        button(at, ACCEPT).click().run()
        assert not at.exception
        assert not at.error
        assert "now has the fitted" in at.success[0].value
        accepted = api.touchpoint(FINANZHAUS, "chatbot").body["curve"]
        assert accepted == fit["curve"]
        assert accepted["source"]["kind"] == "fit"
        assert any("fitted to observations" in m.value for m in at.markdown)
        # the page's rerun solves the new version (a `run` event): the change comes before it
        events = api.http.get(f"/portfolios/{FINANZHAUS}/audit").json()["items"]
        change = next(e for e in events if e["action"] != "run")
        assert change["action"] == "accept"
        assert change["entity_id"] == "chatbot"
        assert change["after"]["curve"]["source"]["kind"] == "fit"
    finally:
        current = api.touchpoint(FINANZHAUS, "chatbot")
        restored = api.http.patch(
            f"/portfolios/{FINANZHAUS}/touchpoints/chatbot",
            json={"curve": original.body["curve"]},
            headers={"If-Match": current.etag},
        )
        assert restored.status_code == 200, restored.text


@pytest.fixture
def as_owner(live: LiveApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app runs with a journey owner's key (they may run scenarios, not accept curves;
    a viewer's key cannot even run the plan the page shows)."""
    engine = make_engine(live.database_url)
    with Session(engine) as session:
        _, key = create_key(
            session=session, role=Role.owner, name="anna", owner="anna.berg@sonnenreisen.example"
        )
    engine.dispose()
    monkeypatch.setenv(API_KEY_ENV, key)
    common.api.clear()
    st.cache_data.clear()
    yield
    common.api.clear()
    st.cache_data.clear()


def test_a_journey_owner_sees_the_fit_but_no_accept_button(app: AppTest, as_owner: Any) -> None:
    at = open_page(app, "touchpoints", portfolio=SONNENREISEN, evidence_touchpoint="search-ads")
    assert not at.exception
    assert subheaders(at)[-1] == "Curves from evidence"
    assert {m.label for m in at.metric} >= {"r²", "RMSE", "Observations"}
    assert ACCEPT not in [b.label for b in at.button]
    assert any("Only a planner accepts" in c.value for c in at.caption)


def test_data_that_cannot_support_a_curve_show_the_reason_and_no_button(
    app: AppTest, api: Api
) -> None:
    four = {
        "kpi": "App store rating",
        "rows": [
            {"period": f"2026-0{i}", "spend": 100_000 * i, "outcome": 0.2 + 0.1 * i}
            for i in range(1, 5)
        ],
    }
    current = api.observations(FINANZHAUS, "mobile-app")
    api.update_observations(FINANZHAUS, "mobile-app", four, etag=current.etag)
    try:
        at = open_page(app, "touchpoints", portfolio=FINANZHAUS, evidence_touchpoint="mobile-app")
        assert not at.exception
        assert "4 observations: a curve needs at least 5" in at.warning[-1].value
        assert ACCEPT not in [b.label for b in at.button]
        assert len(charts(at)) == 2  # no fitted curve drawn
    finally:
        current = api.observations(FINANZHAUS, "mobile-app")
        api.update_observations(FINANZHAUS, "mobile-app", {"rows": []}, etag=current.etag)
