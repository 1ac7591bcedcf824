"""The role matrix: every role against every write endpoint.

admin and planner change everything; an owner changes only their own journeys (and their
links), never a journey's owner, priority or floor; a viewer changes nothing; no key is 401.
Every refused request leaves the database as it was (same document, same audit log).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.backend.support import API, Keys, base, export, strandhaus

ROLES = ("none", "viewer", "owner", "other_owner", "planner", "admin")
LEADERSHIP = frozenset({"planner", "admin"})
ANNA = LEADERSHIP | {"owner"}
"""May change Anna's journeys (family-booking, family-stay)."""
BEN = LEADERSHIP | {"other_owner"}


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    url: str
    body: Any = None
    allowed: frozenset[str] = LEADERSHIP
    success: int = 200
    setup: Callable[[TestClient, dict[str, str]], None] | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _create(url: str, body: dict[str, Any]) -> Callable[[TestClient, dict[str, str]], None]:
    def setup(client: TestClient, planner: dict[str, str]) -> None:
        response = client.post(url, json=body, headers=planner)
        assert response.status_code == 201, response.text

    return setup


NEW_DEPARTMENT = {"id": "finance", "name": "Finance"}
NEW_PERSONA = {"id": "solo", "name": "Solo"}
NEW_TOUCHPOINT = {
    "id": "newsletter",
    "name": "Newsletter",
    "department": "marketing",
    "channel": "e-mail",
    "current_spend": 0,
    "max_spend": 10000,
    "curve": {"saturating": {"base": 0.1, "max": 0.5, "half_spend": 2000}},
}
NEW_JOURNEY = {
    "id": "family-rebooking",
    "name": "Family changes a booking",
    "persona": "family",
    "owner": "anna.berg@strandhaus.example",
    "value": 1000,
    "touchpoints": [{"touchpoint": "hotline"}],
}
NEW_SCENARIO = {"id": "lean", "name": "Lean"}
P = base()

ACTIONS = [
    Action(
        "import portfolio",
        "POST",
        f"{API}/portfolios",
        {**strandhaus(), "id": "other-2027"},
        success=201,
    ),
    Action("update portfolio", "PATCH", P, {"budget": 1}),
    Action("delete portfolio", "DELETE", P, success=204),
]
for kind, new, existing, patch in (
    ("departments", NEW_DEPARTMENT, "marketing", {"budget": 1}),
    ("personas", NEW_PERSONA, "family", {"customers": 1}),
    ("touchpoints", NEW_TOUCHPOINT, "hotline", {"current_spend": 1}),
    ("scenarios", NEW_SCENARIO, "floors-cost", {"budget": 1}),
    ("journeys", NEW_JOURNEY, "family-stay", {"lifecycle": "active"}),
):
    label = kind[:-1]
    ACTIONS += [
        Action(f"create {label}", "POST", f"{P}/{kind}", new, success=201),
        Action(
            f"update {label}",
            "PATCH",
            f"{P}/{kind}/{existing}",
            patch,
            allowed=ANNA if kind == "journeys" else LEADERSHIP,
        ),
        Action(
            f"delete {label}",
            "DELETE",
            f"{P}/{kind}/{new['id']}",
            success=204,
            setup=_create(f"{P}/{kind}", new),
        ),
    ]
ACTIONS += [
    Action(
        "update other owner's journey",
        "PATCH",
        f"{P}/journeys/couple-weekend",
        {"description": "Ben's"},
        allowed=BEN,
    ),
    Action(
        "reassign own journey",
        "PATCH",
        f"{P}/journeys/family-booking",
        {"owner": "ben.kraus@strandhaus.example"},
    ),
    Action("reweigh own journey", "PATCH", f"{P}/journeys/family-booking", {"priority": 9}),
    Action("change own journey's floor", "PATCH", f"{P}/journeys/family-booking", {"floor": 0}),
    Action(
        "link own journey",
        "POST",
        f"{P}/journeys/family-booking/links",
        {"touchpoint": "app-guide"},
        allowed=ANNA,
        success=201,
    ),
    Action(
        "update own journey's link",
        "PATCH",
        f"{P}/journeys/family-booking/links/hotline",
        {"weight": 5},
        allowed=ANNA,
    ),
    Action(
        "unlink own journey",
        "DELETE",
        f"{P}/journeys/family-booking/links/hotline",
        allowed=ANNA,
        success=204,
    ),
    Action(
        "link other owner's journey",
        "POST",
        f"{P}/journeys/couple-weekend/links",
        {"touchpoint": "hotline"},
        allowed=BEN,
        success=201,
    ),
    Action(
        "update other owner's link",
        "PATCH",
        f"{P}/journeys/couple-weekend/links/website",
        {"critical": True},
        allowed=BEN,
    ),
    Action(
        "unlink other owner's journey",
        "DELETE",
        f"{P}/journeys/couple-weekend/links/website",
        allowed=BEN,
        success=204,
    ),
    Action(
        "create dependency",
        "POST",
        f"{P}/dependencies",
        {"touchpoint": "checkin", "requires": "hotline"},
        success=201,
    ),
    Action(
        "move dependency", "PATCH", f"{P}/dependencies/app-guide/website", {"requires": "hotline"}
    ),
    Action("delete dependency", "DELETE", f"{P}/dependencies/app-guide/website", success=204),
    Action(
        "replace a touchpoint's observations",
        "PUT",
        f"{P}/touchpoints/hotline/observations",
        {"rows": [{"period": "2026-01", "spend": 1000, "outcome": 0.5}]},
        extra={"If-Match": "*"},
    ),
    Action(
        "accept a curve",
        "POST",
        f"{P}/touchpoints/hotline/curve/accept",
        {
            "saturating": {"base": 0.1, "max": 0.8, "half_spend": 50000},
            "source": {"kind": "fit", "date": "2026-12-01", "n": 12},
        },
        extra={"If-Match": "*"},
    ),
]


def _send(client: TestClient, action: Action, headers: dict[str, str]) -> Any:
    if action.method in ("PATCH", "DELETE"):
        headers = {**headers, "If-Match": "*"}  # so the role, not the version, decides
    kwargs: dict[str, Any] = {"headers": {**headers, **action.extra}}
    if action.body is not None:
        kwargs["json"] = action.body
    return client.request(action.method, action.url, **kwargs)


def _headers(keys: Keys, role: str) -> dict[str, str]:
    return {} if role == "none" else keys.headers(role)


def _state(client: TestClient, keys: Keys) -> tuple[Any, ...]:
    viewer = keys.headers("viewer")
    portfolios = client.get(f"{API}/portfolios", headers=viewer).json()
    audit = client.get(f"{P}/audit?limit=1000", headers=viewer).json()
    return portfolios, export(client, viewer), audit


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_refused_roles_change_nothing(
    client: TestClient, portfolio: str, keys: Keys, action: Action
) -> None:
    if action.setup:
        action.setup(client, keys.headers("planner"))
    before = _state(client, keys)
    for role in ROLES:
        if role in action.allowed:
            continue
        response = _send(client, action, _headers(keys, role))
        expected = 401 if role == "none" else 403
        assert response.status_code == expected, (role, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert _state(client, keys) == before, role


ALLOWED = [(action, role) for action in ACTIONS for role in ROLES if role in action.allowed]


@pytest.mark.parametrize(
    ("action", "role"), ALLOWED, ids=[f"{a.name}-{role}" for a, role in ALLOWED]
)
def test_allowed_roles_succeed(
    client: TestClient, portfolio: str, keys: Keys, action: Action, role: str
) -> None:
    if action.setup:
        action.setup(client, keys.headers("planner"))
    response = _send(client, action, keys.headers(role))
    assert response.status_code == action.success, response.text
    if action.name == "delete portfolio":
        assert client.get(P, headers=keys.headers("viewer")).status_code == 404
        return
    target = "other-2027" if action.name == "import portfolio" else portfolio
    audit = client.get(f"{base(target)}/audit", headers=keys.headers("viewer")).json()
    assert audit["items"][0]["role"] == ("owner" if role == "other_owner" else role)


def test_owner_role_needs_an_email(app: Any) -> None:
    from sqlmodel import Session

    from backend.security import Role, create_key

    with Session(app.state.engine) as session, pytest.raises(ValueError, match="--owner"):
        create_key(session=session, role=Role.owner, name="nobody")


def test_revoked_and_unknown_keys_are_401(
    app: Any, client: TestClient, portfolio: str, keys: Keys
) -> None:
    from sqlmodel import Session, select

    from backend.models import ApiKey, utcnow

    assert client.get(P, headers={"Authorization": "Bearer jf_nope"}).status_code == 401
    assert client.get(P, headers={"Authorization": f"Basic {keys.viewer}"}).status_code == 401
    assert client.get(P, headers={"Authorization": "Bearer"}).status_code == 401
    with Session(app.state.engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.name == "finance")).one()
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
    response = client.get(P, headers=keys.headers("viewer"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
