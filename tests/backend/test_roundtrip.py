"""Round trip: each demo portfolio imported, exported, imported again: identical."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from optimizer.document import document_to_data, load_document
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
