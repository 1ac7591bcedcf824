"""Curves from evidence through the API: a touchpoint's observations (read, replace, bad rows
named), a fit with its band, and a planner's accept (roles, audit). Runs on SQLite and on
PostgreSQL (conftest)."""

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.backend.support import Keys, assert_problem, audit_total, base, etag_of, export

TOUCHPOINT = f"{base()}/touchpoints/hotline"
OBSERVATIONS = f"{TOUCHPOINT}/observations"
FIT = f"{TOUCHPOINT}/fit"
ACCEPT = f"{TOUCHPOINT}/curve/accept"

# The truth behind the generated observations: quality 0.1 + 0.75 x / (x + 60,000), and a
# first-call-resolution rate of 0.40 at quality 0 and 0.95 at quality 1.
BASE, TOP, HALF = 0.1, 0.85, 60_000.0
AT_0, AT_1 = 0.40, 0.95


def truth(spend: np.ndarray) -> np.ndarray:
    quality: np.ndarray = BASE + (TOP - BASE) * spend / (spend + HALF)
    return quality


def generated(n: int, seed: int = 5, noise: float = 0.01, low: float = 10_000) -> dict[str, Any]:
    """n monthly observations of the hotline, outcome in the KPI's own units."""
    rng = np.random.default_rng(seed)
    spend = np.round(rng.uniform(low, 240_000, n), -2)
    quality = truth(spend) + rng.normal(0, noise, n)
    outcome = AT_0 + (AT_1 - AT_0) * quality
    return {
        "kpi": "First-call resolution",
        "outcome_at_0": AT_0,
        "outcome_at_1": AT_1,
        "rows": [
            {"period": f"{2020 + i // 12}-{i % 12 + 1:02d}", "spend": s, "outcome": round(o, 4)}
            for i, (s, o) in enumerate(zip(spend.tolist(), outcome.tolist(), strict=True))
        ],
    }


def put(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    etag = etag_of(client, OBSERVATIONS, headers)
    return client.put(OBSERVATIONS, json=body, headers={**headers, "If-Match": etag})


def test_observations_round_trip_and_belong_to_the_touchpoint(
    client: TestClient, portfolio: str, planner: dict[str, str], keys: Keys
) -> None:
    empty = client.get(OBSERVATIONS, headers=keys.headers("viewer"))
    assert empty.status_code == 200
    assert empty.json() == {"touchpoint": "hotline", "version": 1, "rows": []}
    body = generated(12)
    response = put(client, planner, body)
    assert response.status_code == 200, response.text
    assert response.json() == {**body, "touchpoint": "hotline", "version": 2}
    read = client.get(OBSERVATIONS, headers=keys.headers("viewer"))
    assert read.json() == response.json()
    # the same version as the touchpoint: one ETag for both
    assert read.headers["ETag"] == etag_of(client, TOUCHPOINT, planner)
    # and in the portfolio document
    (hotline,) = [t for t in export(client, planner)["touchpoints"] if t["id"] == "hotline"]
    assert hotline["observations"] == body
    # an empty table removes them
    cleared = put(client, planner, {"rows": []})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json() == {"touchpoint": "hotline", "version": 3, "rows": []}
    (hotline,) = [t for t in export(client, planner)["touchpoints"] if t["id"] == "hotline"]
    assert "observations" not in hotline


def test_bad_rows_are_named_with_their_column_and_nothing_changes(
    client: TestClient, portfolio: str, planner: dict[str, str]
) -> None:
    before = audit_total(client, planner)
    rows = generated(6)["rows"]
    rows[2] = {"period": "2020-03", "spend": -5, "outcome": 0.5}
    rows[4] = {"period": "2020-05", "spend": 100, "outcome": "high"}
    del rows[5]["outcome"]
    body = assert_problem(put(client, planner, {"rows": rows}), 422)
    found = {(e["path"], e["location"]) for e in body["errors"]}
    assert found == {
        ("rows[2].spend", "body"),
        ("rows[4].outcome", "body"),
        ("rows[5].outcome", "body"),
    }
    messages = {e["path"]: e["message"] for e in body["errors"]}
    assert messages["rows[5].outcome"] == "required key missing"
    # a period twice names both rows
    twice = generated(6)["rows"]
    twice[3]["period"] = twice[1]["period"]
    body = assert_problem(put(client, planner, {"rows": twice}), 422)
    assert body["errors"] == [
        {
            "location": "body",
            "path": "rows[3].period",
            "message": "period 2020-02 is in rows[1] already; one row a period",
        }
    ]
    # one outcome value without the other
    body = assert_problem(put(client, planner, {"outcome_at_0": 0.4, "rows": []}), 422)
    assert "give both outcome_at_0 and outcome_at_1" in body["errors"][0]["message"]
    assert audit_total(client, planner) == before
    assert client.get(OBSERVATIONS, headers=planner).json()["rows"] == []


def test_replacing_observations_needs_the_current_version_and_a_planner(
    client: TestClient, portfolio: str, planner: dict[str, str], keys: Keys
) -> None:
    body = generated(8)
    assert_problem(client.put(OBSERVATIONS, json=body, headers=planner), 428)
    stale = etag_of(client, OBSERVATIONS, planner)
    assert put(client, planner, body).status_code == 200
    response = client.put(OBSERVATIONS, json=body, headers={**planner, "If-Match": stale})
    assert_problem(response, 412)
    for role in ("viewer", "owner"):
        response = client.put(
            OBSERVATIONS, json=body, headers=keys.headers(role, **{"If-Match": "*"})
        )
        assert_problem(response, 403)


def test_the_fit_reproduces_the_data_and_its_band_holds_the_curve(
    client: TestClient, portfolio: str, planner: dict[str, str], keys: Keys
) -> None:
    assert put(client, planner, generated(24)).status_code == 200
    response = client.post(FIT, json={"form": "saturating"}, headers=keys.headers("viewer"))
    assert response.status_code == 200, response.text
    fit = response.json()
    assert fit["form"] == "saturating"
    assert fit["n"] == 24
    # noise 0.01 on a rise of 0.75: the curve explains nearly all of the variation
    assert fit["r2"] > 0.97
    assert fit["rmse"] < 0.015
    curve = fit["curve"]
    assert set(curve) == {"saturating", "source"}
    assert curve["source"]["kind"] == "fit"
    assert curve["source"]["n"] == 24
    params = curve["saturating"]
    assert params["base"] == pytest.approx(BASE, abs=0.04)
    assert params["max"] == pytest.approx(TOP, abs=0.04)
    assert params["half_spend"] == pytest.approx(HALF, rel=0.25)
    # the outcomes became qualities with the KPI's scale
    first = fit["points"][0]
    assert first["quality"] == pytest.approx((first["outcome"] - AT_0) / (AT_1 - AT_0))
    assert fit["uncertainty"]["parameters"] == ["base", "max", "log_half_spend"]
    band = fit["band"]
    assert band["draws"] == 4000
    assert band["level"] == 0.9
    # the grid reaches the touchpoint's largest allowed spend
    assert band["spend"][0] == 0
    assert band["spend"][-1] == 250_000
    for low, mid, high in zip(band["low"], band["curve"], band["high"], strict=True):
        assert 0 <= low <= mid <= high <= 1
    # the band's curve is the fitted curve, and near the truth where there are data
    x = np.array(band["spend"])
    fitted = params["base"] + (params["max"] - params["base"]) * x / (x + params["half_spend"])
    assert np.allclose(band["curve"], fitted, atol=1e-5)
    inside = (x >= 10_000) & (x <= 240_000)
    assert np.max(np.abs(np.array(band["curve"])[inside] - truth(x[inside]))) < 0.03
    assert not [w for w in fit["warnings"] if "pin the parameters" in w]
    # auto compares the forms and keeps one
    auto = client.post(FIT, headers=planner).json()
    assert set(auto["compared"]) == {"saturating", "hill", "exponential", "logistic"}
    assert auto["form"] in auto["compared"]


def test_the_band_narrows_with_more_data(
    client: TestClient, portfolio: str, planner: dict[str, str]
) -> None:
    widths = []
    for n in (10, 120):
        assert put(client, planner, generated(n, seed=9)).status_code == 200
        fit = client.post(FIT, json={"form": "saturating"}, headers=planner).json()
        band = fit["band"]
        widths.append(np.mean(np.array(band["high"]) - np.array(band["low"])))
    few, many = widths
    # 12 times the data: standard errors about a third (1 / sqrt(12))
    assert many < 0.55 * few, widths


def test_a_band_the_data_do_not_pin_down_is_said_to_be_rough(
    client: TestClient, portfolio: str, planner: dict[str, str]
) -> None:
    # spends only from 100,000 up: the data never see the curve's start (base), and the
    # covariance's draws stray from them (measured ratio 10-15 on these seeds, 1.0 with
    # spends from 10,000)
    assert put(client, planner, generated(24, low=100_000)).status_code == 200
    fit = client.post(FIT, json={"form": "saturating"}, headers=planner).json()
    (rough,) = [w for w in fit["warnings"] if "pin the parameters" in w]
    assert "times as wide at the observed spends" in rough
    band = fit["band"]
    for low, mid, high in zip(band["low"], band["curve"], band["high"], strict=True):
        assert low <= mid <= high


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([(1000, 0.2), (2000, 0.3), (3000, 0.4), (4000, 0.5)], "4 observations: a curve needs"),
        ([(500, 0.2), (500, 0.3), (500, 0.4), (500, 0.5), (500, 0.6)], "no variation in spend"),
        (
            [(1000, 0.9), (2000, 0.8), (3000, 0.6), (4000, 0.5), (5000, 0.3), (6000, 0.2)],
            "outcomes fall with spend",
        ),
        (
            [(1000 * i, 0.001 * i) for i in range(1, 11)],
            "the data do not show where it saturates",
        ),
    ],
    ids=["too few", "flat spend", "falling", "no saturation"],
)
def test_data_that_cannot_support_a_curve_get_the_reason_and_no_curve(
    client: TestClient,
    portfolio: str,
    planner: dict[str, str],
    rows: list[tuple[float, float]],
    reason: str,
) -> None:
    body = {
        "rows": [
            {"period": f"2026-{i + 1:02d}", "spend": s, "outcome": q}
            for i, (s, q) in enumerate(rows)
        ]
    }
    assert put(client, planner, body).status_code == 200
    problem = assert_problem(client.post(FIT, json={}, headers=planner), 422, contains=reason)
    assert "cannot support a curve" in problem["detail"]
    assert "curve" not in problem


def test_a_fit_without_observations_or_with_an_unknown_form_is_refused(
    client: TestClient, portfolio: str, planner: dict[str, str]
) -> None:
    assert_problem(client.post(FIT, headers=planner), 422, contains="has no observations")
    problem = assert_problem(client.post(FIT, json={"form": "cubic"}, headers=planner), 422)
    assert problem["errors"][0]["path"] == "form"
    assert_problem(
        client.post(f"{base()}/touchpoints/nowhere/fit", headers=planner),
        404,
        contains="no touchpoint 'nowhere'",
    )


def _fitted_curve(client: TestClient, planner: dict[str, str]) -> dict[str, Any]:
    assert put(client, planner, generated(24)).status_code == 200
    response = client.post(FIT, json={"form": "saturating"}, headers=planner)
    assert response.status_code == 200, response.text
    curve: dict[str, Any] = response.json()["curve"]
    return curve


@pytest.mark.parametrize("role", ["viewer", "owner", "other_owner"])
def test_only_planners_accept_a_curve(
    client: TestClient, portfolio: str, planner: dict[str, str], keys: Keys, role: str
) -> None:
    curve = _fitted_curve(client, planner)
    before = export(client, planner)
    audit = audit_total(client, planner)
    response = client.post(ACCEPT, json=curve, headers=keys.headers(role, **{"If-Match": "*"}))
    assert_problem(response, 403, contains="needs the role 'planner'")
    assert export(client, planner) == before
    assert audit_total(client, planner) == audit
    assert_problem(client.post(ACCEPT, json=curve, headers={"If-Match": "*"}), 401)


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_accepting_a_curve_replaces_it_and_is_audited_with_its_source(
    client: TestClient, portfolio: str, planner: dict[str, str], keys: Keys, role: str
) -> None:
    curve = _fitted_curve(client, planner)
    headers = keys.headers(role)
    old = client.get(TOUCHPOINT, headers=headers).json()["curve"]
    assert_problem(client.post(ACCEPT, json=curve, headers=headers), 428)
    etag = etag_of(client, TOUCHPOINT, headers)
    response = client.post(ACCEPT, json=curve, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["curve"] == curve
    assert response.headers["ETag"] != etag
    (hotline,) = [t for t in export(client, planner)["touchpoints"] if t["id"] == "hotline"]
    assert hotline["curve"] == curve
    event = client.get(f"{base()}/audit", headers=planner).json()["items"][0]
    assert event["action"] == "accept"
    assert event["role"] == role
    assert event["entity"] == "touchpoint"
    assert event["entity_id"] == "hotline"
    assert event["before"]["curve"] == old
    assert event["after"]["curve"]["source"] == curve["source"]
    # the run uses the accepted curve
    run = client.post(f"{base()}/runs", json={}, headers=planner)
    assert run.status_code == 201, run.text


def test_an_accepted_curve_says_where_it_comes_from_and_keeps_the_rules(
    client: TestClient, portfolio: str, planner: dict[str, str]
) -> None:
    headers = {**planner, "If-Match": "*"}
    bare = {"saturating": {"base": 0.1, "max": 0.8, "half_spend": 50_000}}
    problem = assert_problem(client.post(ACCEPT, json=bare, headers=headers), 422)
    assert problem["errors"] == [
        {"location": "body", "path": "source", "message": "required key missing"}
    ]
    broken = {**bare, "saturating": {"base": 0.9, "max": 0.8, "half_spend": 50_000}}
    broken["source"] = {"kind": "robyn"}
    assert_problem(client.post(ACCEPT, json=broken, headers=headers), 422)


def test_me_names_the_role_and_whether_it_accepts_curves(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    expected = {"admin": True, "planner": True, "owner": False, "viewer": False}
    for role, accepts in expected.items():
        me = client.get("/api/v1/me", headers=keys.headers(role)).json()
        assert me["role"] == role
        assert me["can_accept_curves"] is accepts
    assert client.get("/api/v1/me", headers=keys.headers("owner")).json()["owner"] == (
        "anna.berg@strandhaus.example"
    )
    assert_problem(client.get("/api/v1/me"), 401)
