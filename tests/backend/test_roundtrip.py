"""Round trip: each demo portfolio imported, exported, imported again: identical."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from optimizer.document import document_to_data, load_document, validate_document
from tests.backend.support import API, ROOT, STRANDHAUS, base

DOCUMENTS = [*sorted((ROOT / "seeds").glob("*.yaml")), STRANDHAUS]


def test_there_are_demo_portfolios() -> None:
    assert len(DOCUMENTS) >= 3


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_import_export_import_is_identical(client: TestClient, planner: dict, path: Path) -> None:
    original = document_to_data(load_document(path))
    assert client.post(f"{API}/portfolios", json=original, headers=planner).status_code == 201
    exported = client.get(f"{base(original['id'])}/document", headers=planner).json()
    assert exported == original

    # Export, delete, import the export: the same portfolio again.
    response = client.delete(base(original["id"]), headers={**planner, "If-Match": "*"})
    assert response.status_code == 204
    assert client.post(f"{API}/portfolios", json=exported, headers=planner).status_code == 201
    again = client.get(f"{base(original['id'])}/document", headers=planner).json()
    assert again == exported

    # And the entity endpoints show what the document shows.
    for kind in ("departments", "personas", "touchpoints", "journeys", "scenarios"):
        page = client.get(f"{base(original['id'])}/{kind}?limit=1000", headers=planner).json()
        assert [{k: v for k, v in item.items() if k != "version"} for item in page["items"]] == (
            original[kind]
        )


def test_curve_forms_sources_and_observations_round_trip(client: TestClient, planner: dict) -> None:
    original = document_to_data(load_document(STRANDHAUS))
    original["id"] = "curve-forms"
    forms = [
        {"hill": {"base": 0.1, "max": 0.9, "half_spend": 3000.0, "shape": 0.6}},
        {"exponential": {"base": 0.2, "max": 0.8, "scale": 4000.0}},
        {"logistic": {"base": 0.05, "max": 0.95, "lam": 0.0004}},
    ]
    for tp, curve in zip(original["touchpoints"], forms, strict=False):
        tp["curve"] = {**curve, "source": {"kind": "fit", "date": "2026-11-30", "n": 12}}
    original["touchpoints"][0]["observations"] = {
        "kpi": "Conversion",
        "outcome_at_0": 0.01,
        "outcome_at_1": 0.05,
        "rows": [
            {"period": "2026-01", "spend": 1200.0, "outcome": 0.031},
            {"period": "2026-02", "spend": 1500.0, "outcome": 0.034},
        ],
    }
    original = document_to_data(validate_document(original))
    assert client.post(f"{API}/portfolios", json=original, headers=planner).status_code == 201
    exported = client.get(f"{base(original['id'])}/document", headers=planner).json()
    assert exported == original
    touchpoint = client.get(
        f"{base(original['id'])}/touchpoints/{original['touchpoints'][0]['id']}", headers=planner
    ).json()
    assert touchpoint["observations"] == original["touchpoints"][0]["observations"]
    assert touchpoint["curve"]["source"]["kind"] == "fit"
