"""schemathesis over the whole OpenAPI schema, with a valid (admin) key: no 5xx, and every
response matches the schema (status code, content type, body, headers), plus the other
default checks (schema-violating requests rejected, schema-valid ones accepted, Allow
headers, auth not ignored...).

Each operation runs against a fresh database holding the demo portfolio the schema's
examples name (sonnenreisen-2027), so the examples phase reaches real entities, not only 404s.
"""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlmodel import Session

from backend.config import Settings
from backend.main import create_app
from backend.models import ApiKey
from backend.security import hash_key
from optimizer.document import document_to_data, load_document
from tests.backend.support import API, ROOT, Keys

SONNENREISEN = ROOT / "seeds" / "sonnenreisen-2027.yaml"
EXAMPLES = 15
"""Generated cases per operation (on top of the explicit examples and coverage cases)."""

# A schema-valid request may still break a rule of the portfolio document that JSON Schema
# cannot express (a reference to an id, a concave curve, no cycles): 422 is a fine answer
# to it, as are 412/428 for a change without the current ETag (If-Match is optional in the
# schema so that its absence can be a 428, not a validation error).
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "412", "422", "428"]
            }
        }
    }
)


class AppUnderTest:
    """The ASGI app schemathesis calls: each test points it at its own app and database
    (schemathesis sends probes of its own through it too, e.g. without the key)."""

    def __init__(self) -> None:
        # The schema does not depend on the database: an app that never connects serves it.
        self.app: Any = create_app(Settings(database_url="sqlite://"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


APP = AppUnderTest()
schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", APP, config=CONFIG)
STATUSES: Counter[tuple[str, int]] = Counter()


ADMIN_KEY = "jf_schemathesis-admin-key-of-every-test-database"
"""One key for all tests: schemathesis builds some cases (coverage phase) ahead of the test,
with the key it had then."""


@schema.auth()
class AdminKey:
    """The admin key, given the schemathesis way (so it knows when a case drops it)."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        return ADMIN_KEY

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def seeded(app: FastAPI, client: TestClient, keys: Keys) -> Iterator[FastAPI]:
    """The test's app, over a database that holds the demo portfolio."""
    data = document_to_data(load_document(SONNENREISEN))
    response = client.post(f"{API}/portfolios", json=data, headers=keys.headers("planner"))
    assert response.status_code == 201
    with Session(app.state.engine) as session:
        session.add(
            ApiKey(name="schemathesis", role="admin", key_hash=hash_key(ADMIN_KEY), prefix="jf_sch")
        )
        session.commit()
    APP.app = app
    app.state.needs_run = True
    yield app
    APP.app = create_app(Settings(database_url="sqlite://"))


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[None]:
    yield
    if STATUSES:
        total = sum(STATUSES.values())
        by_status = Counter[int]()
        for (_, status), count in STATUSES.items():
            by_status[status] += count
        print(
            f"\nschemathesis: {len({op for op, _ in STATUSES})} operations, {total} calls, "
            f"statuses {dict(sorted(by_status.items()))}"
        )


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: schemathesis.Case, seeded: FastAPI, client: TestClient, keys: Keys) -> None:
    if seeded.state.needs_run and (
        "/runs" in case.path or case.path.endswith(("/plan", "/compare"))
    ):
        # Only the run operations need a run: solving for every operation would be slow.
        response = client.post(
            f"{API}/portfolios/sonnenreisen-2027/runs", json={}, headers=keys.headers("planner")
        )
        assert response.status_code == 201
        seeded.state.needs_run = False
    response = case.call_and_validate()
    STATUSES[(case.operation.label, response.status_code)] += 1
