"""Departments, personas, touchpoints, journeys and scenarios: the same five routes each,
with their happy and unhappy paths; a write that breaks a rule of the document is refused
with 422 and leaves nothing behind."""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optimizer import document
from tests.backend.support import (
    Keys,
    assert_problem,
    audit_total,
    base,
    etag_of,
    export,
    strandhaus,
)

MODELS = {
    "departments": document.Department,
    "personas": document.Persona,
    "touchpoints": document.Touchpoint,
    "journeys": document.Journey,
    "scenarios": document.Scenario,
}


def normalized(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """An entity as the document gives it back (defaults filled in, numbers as floats)."""
    return MODELS[kind].model_validate(data).model_dump(mode="json", exclude_none=True)


# rises, flattens, then rises again: neither concave nor S-shaped
CONVEX = {"points": [[0, 0.1], [10000, 0.5], [20000, 0.6], [30000, 0.9]]}


@dataclass(frozen=True)
class Case:
    kind: str
    existing: str
    """An entity of the test portfolio."""
    new: dict[str, Any]
    """A valid new one."""
    patch: dict[str, Any]
    """A valid change of `existing`."""
    breaking_patch: dict[str, Any]
    """A change of `existing` that breaks a rule of the document..."""
    breaking_path: str
    """...reported at this path of the document."""
    referenced: str
    """An entity others refer to (deleting it is refused)."""
    referenced_path: str


CASES = [
    Case(
        "departments",
        "marketing",
        {"id": "finance", "name": "Finance", "budget": 1000},
        {"budget": 410000, "description": "Brand and performance"},
        {"budget": None, "name": ""},
        "",
        "service",
        "touchpoints[2].department",
    ),
    Case(
        "personas",
        "family",
        {"id": "solo", "name": "Solo traveller", "customers": 10},
        {"customers": 9000},
        {"customers": -1},
        "",
        "couple",
        "journeys[2].persona",
    ),
    Case(
        "touchpoints",
        "hotline",
        {
            "id": "newsletter",
            "name": "Newsletter",
            "department": "marketing",
            "channel": "e-mail",
            "current_spend": 10000,
            "max_spend": 40000,
            "curve": {"points": [[0, 0.1], [20000, 0.5], [40000, 0.6]]},
            "pain_points": [{"text": '=HYPERLINK("http://x")', "severity": 2}],
        },
        {"current_spend": 130000, "pain_points": [{"text": "Queue in July", "severity": 3}]},
        {"department": "finance"},
        "touchpoints[2].department",
        "website",
        "journeys[0].touchpoints[1].touchpoint",
    ),
    Case(
        "journeys",
        "family-booking",
        {
            "id": "family-rebooking",
            "name": "Family changes a booking",
            "persona": "family",
            "owner": "anna.berg@strandhaus.example",
            "value": 300000,
            "stages": ["Use"],
            "touchpoints": [{"touchpoint": "hotline", "stage": "Use", "weight": 2}],
            "kpis": [{"name": "Handling time", "unit": "min", "target": 8}],
        },
        {
            "stages": ["Need", "Buy", "Use", "Advocacy"],
            "kpis": [
                {
                    "name": "Conversion",
                    "unit": "%",
                    "target": 4.6,
                    "actuals": [{"period": "2027-Q1", "value": 4.0}],
                }
            ],
        },
        {"stages": ["Need", "Use"]},
        "journeys[0].touchpoints[1].stage",
        "family-booking",
        "scenarios[0].priorities.family-booking",
    ),
    Case(
        "scenarios",
        "pooled-plus-10",
        {"id": "lean", "name": "Lean year", "budget": 700000, "mode": "max_net_value"},
        {"budget": 1000000, "locks": {}, "exclude": ["hotline"]},
        {"locks": {"nope": 5}},
        "scenarios[0].locks.nope",
        "",
        "",
    ),
]
IDS = [case.kind for case in CASES]


def one(case: Case, entity_id: str | None = None) -> str:
    return f"{base()}/{case.kind}/{entity_id or case.existing}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_list_and_read(client: TestClient, portfolio: str, keys: Keys, case: Case) -> None:
    viewer = keys.headers("viewer")
    page = client.get(f"{base()}/{case.kind}", headers=viewer).json()
    document = export(client, viewer)
    assert page["total"] == len(document[case.kind])
    assert [item["id"] for item in page["items"]] == [item["id"] for item in document[case.kind]]
    second = client.get(f"{base()}/{case.kind}?offset=1&limit=1", headers=viewer).json()
    assert [item["id"] for item in second["items"]] == [document[case.kind][1]["id"]]

    response = client.get(one(case), headers=viewer)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    expected = next(item for item in document[case.kind] if item["id"] == case.existing)
    assert {k: v for k, v in body.items() if k != "version"} == expected
    assert response.headers["ETag"]

    assert_problem(client.get(one(case, "nope"), headers=viewer), 404, contains="nope")
    assert_problem(client.get(f"{base('nope')}/{case.kind}", headers=viewer), 404)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_create(client: TestClient, portfolio: str, planner: dict, case: Case) -> None:
    response = client.post(f"{base()}/{case.kind}", json=case.new, headers=planner)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == case.new["id"]
    assert body["version"] == 1
    assert response.headers["Location"] == one(case, case.new["id"])
    assert response.headers["ETag"] == etag_of(client, one(case, case.new["id"]), planner)
    document = export(client, planner)
    assert document[case.kind][-1] == normalized(case.kind, case.new)

    again = client.post(f"{base()}/{case.kind}", json=case.new, headers=planner)
    assert_problem(again, 409, contains="already")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_create_strict_input(client: TestClient, portfolio: str, planner: dict, case: Case) -> None:
    before = export(client, planner)
    response = client.post(
        f"{base()}/{case.kind}", json={**case.new, "colour": "red"}, headers=planner
    )
    body = assert_problem(response, 422)
    assert {"location": "body", "path": "colour", "message": "unknown key"} in body["errors"]
    response = client.post(f"{base()}/{case.kind}", json={**case.new, "name": 7}, headers=planner)
    assert_problem(response, 422)
    response = client.post(
        f"{base()}/{case.kind}", json={**case.new, "id": "Not A Slug"}, headers=planner
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "id"
    assert export(client, planner) == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update(client: TestClient, portfolio: str, planner: dict, case: Case) -> None:
    tag = etag_of(client, one(case), planner)
    response = client.patch(one(case), json=case.patch, headers={**planner, "If-Match": tag})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert response.headers["ETag"] != tag
    original = next(item for item in strandhaus()[case.kind] if item["id"] == case.existing)
    stored = next(
        item for item in export(client, planner)[case.kind] if item["id"] == case.existing
    )
    assert stored == normalized(case.kind, {**original, **case.patch})
    assert {k: v for k, v in body.items() if k != "version"} == stored
    log = client.get(f"{base()}/audit", headers=planner).json()["items"][0]
    assert (log["action"], log["entity_id"]) == ("update", case.existing)
    assert log["after"]["version"] == 2

    # The same change again changes nothing: no new version, no audit event.
    tag = response.headers["ETag"]
    events = audit_total(client, planner)
    again = client.patch(one(case), json=case.patch, headers={**planner, "If-Match": tag})
    assert again.status_code == 200
    assert again.json()["version"] == 2
    assert audit_total(client, planner) == events


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update_needs_the_current_version(
    client: TestClient, portfolio: str, planner: dict, case: Case
) -> None:
    assert_problem(client.patch(one(case), json=case.patch, headers=planner), 428)
    tag = etag_of(client, one(case), planner)
    first = client.patch(one(case), json=case.patch, headers={**planner, "If-Match": tag})
    assert first.status_code == 200
    stale = client.patch(
        one(case), json={"name": "Lost update"}, headers={**planner, "If-Match": tag}
    )
    assert_problem(stale, 412, contains="changed since you read it")
    assert stale.headers["ETag"] == first.headers["ETag"]
    current = client.get(one(case), headers=planner).json()
    assert current["name"] != "Lost update"
    star = client.patch(one(case), json={"name": "Forced"}, headers={**planner, "If-Match": "*"})
    assert star.status_code == 200
    assert star.json()["name"] == "Forced"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update_breaking_a_rule_is_422_and_changes_nothing(
    client: TestClient, portfolio: str, planner: dict, case: Case
) -> None:
    before = export(client, planner)
    events = audit_total(client, planner)
    tag = etag_of(client, one(case), planner)
    response = client.patch(
        one(case), json=case.breaking_patch, headers={**planner, "If-Match": tag}
    )
    body = assert_problem(response, 422)
    if case.breaking_path:
        assert body["errors"][0]["location"] == "document"
        assert body["errors"][0]["path"] == case.breaking_path
    else:
        assert body["errors"][0]["location"] == "body"
    assert export(client, planner) == before
    assert audit_total(client, planner) == events
    assert etag_of(client, one(case), planner) == tag


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_delete(client: TestClient, portfolio: str, planner: dict, case: Case) -> None:
    created = client.post(f"{base()}/{case.kind}", json=case.new, headers=planner)
    url = one(case, case.new["id"])
    assert_problem(client.delete(url, headers=planner), 428)
    assert_problem(client.delete(url, headers={**planner, "If-Match": '"1.9"'}), 412)
    response = client.delete(url, headers={**planner, "If-Match": created.headers["ETag"]})
    assert response.status_code == 204
    assert_problem(client.get(url, headers=planner), 404)
    assert case.new["id"] not in [item["id"] for item in export(client, planner)[case.kind]]
    assert_problem(client.delete(url, headers={**planner, "If-Match": "*"}), 404)


@pytest.mark.parametrize("case", [c for c in CASES if c.referenced], ids=lambda c: c.kind)
def test_delete_what_is_referenced_is_422(
    client: TestClient, portfolio: str, planner: dict, case: Case
) -> None:
    before = export(client, planner)
    url = one(case, case.referenced)
    response = client.delete(url, headers={**planner, "If-Match": etag_of(client, url, planner)})
    body = assert_problem(response, 422, contains="nothing was changed")
    assert case.referenced_path in [e["path"] for e in body["errors"]]
    assert export(client, planner) == before


def test_convex_curve_is_refused(client: TestClient, portfolio: str, planner: dict) -> None:
    url = f"{base()}/touchpoints/hotline"
    tag = etag_of(client, url, planner)
    response = client.patch(url, json={"curve": CONVEX}, headers={**planner, "If-Match": tag})
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "location": "body",
            "path": "curve.points[3]",
            "message": "slope increases after falling, so the curve is neither concave "
            "nor S-shaped (slopes rise, then fall)",
        }
    ]


def test_min_above_max_spend_is_refused(client: TestClient, portfolio: str, planner: dict) -> None:
    url = f"{base()}/touchpoints/hotline"
    tag = etag_of(client, url, planner)
    response = client.patch(url, json={"min_spend": 300000}, headers={**planner, "If-Match": tag})
    body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "touchpoints[2]"
    assert "min_spend 300000 is above max_spend 250000" in body["errors"][0]["message"]


def test_null_removes_an_optional_field(client: TestClient, portfolio: str, planner: dict) -> None:
    url = f"{base()}/journeys/family-booking"
    tag = etag_of(client, url, planner)
    response = client.patch(url, json={"floor": None}, headers={**planner, "If-Match": tag})
    assert response.status_code == 200
    assert "floor" not in response.json()
    assert "floor" not in export(client, planner)["journeys"][0]
    # A required field cannot be removed.
    tag = response.headers["ETag"]
    response = client.patch(url, json={"name": None}, headers={**planner, "If-Match": tag})
    assert_problem(response, 422)


def test_journey_links_kept_when_the_journey_changes(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    link_url = f"{base()}/journeys/family-booking/links/website"
    link_tag = etag_of(client, link_url, planner)
    url = f"{base()}/journeys/family-booking"
    tag = etag_of(client, url, planner)
    assert (
        client.patch(url, json={"value": 2500000}, headers={**planner, "If-Match": tag}).status_code
        == 200
    )
    # The link did not change, so its ETag still holds.
    assert etag_of(client, link_url, planner) == link_tag
