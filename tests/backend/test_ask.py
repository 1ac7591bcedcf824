"""A journey owner's ask over HTTP: the same prices as the optimizer's own, and clear
refusals."""

import pytest
from fastapi.testclient import TestClient

from optimizer.ask import ask
from optimizer.document import load_document
from optimizer.problem import resolve
from tests.backend.support import STRANDHAUS, Keys, assert_problem, base


def test_the_api_prices_an_ask_like_the_optimizer(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    response = client.get(
        f"{base()}/ask?journey=couple-weekend&quality=0.8&scenario=with-the-stay",
        headers=keys.headers("viewer"),
    )
    assert response.status_code == 200, response.text
    data = response.json()
    expected = ask(resolve(load_document(STRANDHAUS), "with-the-stay"), "couple-weekend", 0.8)
    assert data["journey"] == "couple-weekend"
    assert data["reason"] is None
    assert expected.same_budget is not None
    assert expected.extra_budget is not None
    assert data["same_budget"]["value_change"] == pytest.approx(
        expected.same_budget.value_change, rel=1e-6
    )
    assert data["same_budget"]["value_change"] < 0
    assert data["extra_budget"]["extra"] == pytest.approx(expected.extra_budget.extra, rel=1e-6)
    assert data["extra_budget"]["extra"] > 0
    # the money reconciles: base spend + extra = the spend with more money
    assert data["base"]["spend"] + data["extra_budget"]["extra"] == pytest.approx(
        data["extra_budget"]["spend"], rel=1e-9
    )
    assert [c["id"] for c in data["changes"]] == [c.id for c in expected.changes]


def test_an_unreachable_ask_says_why(client: TestClient, portfolio: str, keys: Keys) -> None:
    response = client.get(
        f"{base()}/ask?journey=family-stay&quality=0.95&scenario=with-the-stay",
        headers=keys.headers("owner"),
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["same_budget"] is None
    assert data["extra_budget"] is None
    assert "out of reach" in data["reason"]
    assert 0 < data["highest_reachable"] < 0.95


def test_ask_refusals(client: TestClient, portfolio: str, keys: Keys) -> None:
    viewer = keys.headers("viewer")
    body = assert_problem(client.get(f"{base()}/ask?journey=nope&quality=0.5", headers=viewer), 422)
    assert "unknown journey 'nope'" in str(body)
    # an idea the scenario does not launch claims no budget: its ask says so
    body = assert_problem(
        client.get(f"{base()}/ask?journey=family-stay&quality=0.5", headers=viewer), 422
    )
    assert "claims no budget until a scenario launches it" in str(body)
    assert_problem(client.get(f"{base()}/ask?journey=family-stay&quality=2", headers=viewer), 422)
    assert_problem(client.get(f"{base()}/ask?journey=family-stay", headers=viewer), 422)
    body = assert_problem(
        client.get(f"{base()}/ask?journey=family-stay&quality=0.5&scenario=nope", headers=viewer),
        422,
    )
    assert "unknown scenario 'nope'" in str(body)
    assert_problem(
        client.get(f"{base('other-2027')}/ask?journey=family-stay&quality=0.5", headers=viewer), 404
    )
    assert client.get(f"{base()}/ask?journey=family-stay&quality=0.5").status_code == 401
