"""The value bridge over HTTP: two stored runs, and the pooled chain of the portfolio."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from optimizer.bridge import ORDER, End, bridge
from optimizer.document import load_document
from optimizer.problem import resolve
from optimizer.solve import solve
from tests.backend.support import STRANDHAUS, Keys, assert_problem, base

RUNS = f"{base()}/runs"


def start(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post(RUNS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["run_id"]


def test_bridge_of_two_runs(client: TestClient, portfolio: str, keys: Keys) -> None:
    owner = keys.headers("owner")
    a = start(client, owner, {})
    b = start(client, owner, {"scenario": "pooled-plus-10"})
    response = client.get(f"{base()}/bridge?from={a}&to={b}", headers=keys.headers("viewer"))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["format"] == "journeyfolio-bridge/v1"
    assert (data["from"]["run_id"], data["to"]["run_id"]) == (a, b)
    assert data["from"]["label"] == "base"
    assert data["to"]["label"] == "pooled-plus-10"
    # pooled-plus-10 changes every group of settings but the mode
    assert [s["name"] for s in data["steps"]] == [
        "budget",
        "pooling",
        "launch",
        "priorities",
        "floors",
        "locks",
    ]
    assert data["steps"][2]["changes"] == ["launch family-stay"]
    assert data["unchanged"] == ["mode", "portfolio"]
    total = round(sum(s["value_change"] for s in data["steps"]), 2)
    assert total == data["total"]
    assert round(data["to_value"] - data["from_value"], 2) == data["total"]
    # the ends are the stored runs
    for side, run_id in (("from", a), ("to", b)):
        value = client.get(f"/api/v1/runs/{run_id}", headers=owner).json()["portfolio"]["value"]
        assert data[side]["value"] == pytest.approx(value, abs=0.005)
        assert data[side]["stored_value"] == pytest.approx(value)
    budget = data["steps"][0]
    assert budget["budget_change"] == 90000
    assert budget["value_per_extra_unit"] == budget["value_change"] / 90000
    # the same bridge as the optimizer computes from the document
    doc = load_document(STRANDHAUS)
    expected = bridge(
        End(doc, resolve(doc), "base"), End(doc, resolve(doc, "pooled-plus-10"), "p"), solve=solve
    )
    assert [s["value_change"] for s in data["steps"]] == [s.value_change for s in expected.steps]


def test_bridge_unhappy_paths(client: TestClient, portfolio: str, keys: Keys) -> None:
    viewer = keys.headers("viewer")
    a = start(client, keys.headers("owner"), {})
    assert_problem(
        client.get(f"{base()}/bridge?from={a}&to=nope", headers=viewer), 404, contains="'nope'"
    )
    assert_problem(
        client.get(f"{base()}/bridge?from=nope&to={a}", headers=viewer), 404, contains="?from="
    )
    assert_problem(client.get(f"{base('other-2027')}/bridge?from={a}&to={a}", headers=viewer), 404)
    body = assert_problem(client.get(f"{base()}/bridge?from={a}", headers=viewer), 422)
    assert [(e["location"], e["path"]) for e in body["errors"]] == [("query", "to")]
    assert_problem(client.get(f"{base()}/bridge?from=&to={a}", headers=viewer), 422)
    assert client.get(f"{base()}/bridge?from={a}&to={a}").status_code == 401
    same = client.get(f"{base()}/bridge?from={a}&to={a}", headers=viewer).json()
    assert same["steps"] == []
    assert same["total"] == 0
    assert same["unchanged"] == list(ORDER)


def test_pooled_bridge_of_the_portfolio(client: TestClient, portfolio: str, keys: Keys) -> None:
    viewer = keys.headers("viewer")
    response = client.get(f"{base()}/bridge/pooled", headers=viewer)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["order"] == ["pooling", "budget"]
    pooling, money = data["steps"]
    doc = load_document(STRANDHAUS)
    values = [
        round(solve(resolve(doc, **kwargs)).portfolio.value, 2)
        for kwargs in ({}, {"pooled": True}, {"pooled": True, "budget": 990000})
    ]
    assert data["from_value"] == values[0]
    assert pooling["value_change"] == round(values[1] - values[0], 2)
    assert money["value_change"] == round(values[2] - values[1], 2)
    assert money["budget_change"] == 90000
    assert money["value_per_extra_unit"] == money["value_change"] / 90000
    assert data["total"] == round(pooling["value_change"] + money["value_change"], 2)
    five = client.get(f"{base()}/bridge/pooled?percent=5", headers=viewer).json()
    assert five["steps"][1]["budget_change"] == 45000
    assert_problem(client.get(f"{base()}/bridge/pooled?percent=0", headers=viewer), 422)
    assert_problem(client.get(f"{base()}/bridge/pooled?percent=x", headers=viewer), 422)
    assert_problem(client.get(f"{base('other-2027')}/bridge/pooled", headers=viewer), 404)


def test_bridge_is_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    get = spec["paths"]["/api/v1/portfolios/{portfolio_id}/bridge"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"from", "to", "portfolio_id"}
    assert get["responses"]["404"]["content"]["application/problem+json"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/Bridge")
    assert "from" in spec["components"]["schemas"]["Bridge"]["properties"]
    assert "/api/v1/portfolios/{portfolio_id}/bridge/pooled" in spec["paths"]
