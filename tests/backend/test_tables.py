"""Spreadsheet tables over the API (backend/api/routes/tables.py), on both databases:
export, template, create and replace from a workbook, the dry run, all or nothing."""

import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from optimizer import workbook as wb
from optimizer.document import validate_document
from tests.backend.support import API, Keys, assert_problem, audit_total, base, export, strandhaus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


def tables_of(client: TestClient, headers: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    return wb.document_tables(validate_document(export(client, headers)))


def test_export_xlsx_and_zip_import_as_the_same_document(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    viewer = keys.headers("viewer")
    document = export(client, viewer)
    for ext, media in (("xlsx", XLSX), ("zip", ZIP)):
        response = client.get(f"{base()}/tables.{ext}", headers=viewer)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media
        assert f'filename="strandhaus-2027_tables.{ext}"' in response.headers["content-disposition"]
        back = wb.read_document(response.content)
        assert back.model_dump(mode="json", exclude_none=True) == document


def test_create_from_a_workbook_then_export_equals_it(client: TestClient, keys: Keys) -> None:
    planner = keys.headers("planner", **{"Content-Type": XLSX})
    blob = wb.write_tables(validate_document(strandhaus()), "xlsx")
    response = client.post(f"{API}/portfolios/tables", content=blob, headers=planner)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{API}/portfolios/strandhaus-2027"
    assert response.json()["touchpoints"] == 5
    assert export(client, keys.headers("viewer")) == strandhaus()
    again = client.post(f"{API}/portfolios/tables", content=blob, headers=planner)
    assert_problem(again, 409, contains="exists already")


def test_viewers_cannot_import_tables(client: TestClient, keys: Keys) -> None:
    blob = wb.write_tables(validate_document(strandhaus()), "zip")
    response = client.post(
        f"{API}/portfolios/tables",
        content=blob,
        headers=keys.headers("viewer", **{"Content-Type": ZIP}),
    )
    assert_problem(response, 403)


def test_bad_cells_are_422_naming_each_cell_and_nothing_is_written(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    planner = keys.headers("planner")
    tables = tables_of(client, planner)
    tables["touchpoints"][1]["max_spend"] = "abc"
    tables["links"][0]["critical"] = "maybe"
    tables["departments"].append({"id": "legal", "name": "Legal"})  # a valid change too
    url = f"{base()}/tables"
    etag = client.get(base(), headers=planner).headers["ETag"]
    before, audit = export(client, planner), audit_total(client, planner)
    response = client.put(
        url, content=wb.to_xlsx(tables), headers={**planner, "Content-Type": XLSX, "If-Match": etag}
    )
    body = assert_problem(response, 422, contains="the tables have 2 problem(s)")
    assert body["errors"] == [
        {
            "location": "workbook",
            "path": "touchpoints, row 3, column G (max_spend)",
            "message": "expected a number (digits with a decimal point), got 'abc'",
        },
        {
            "location": "workbook",
            "path": "links, row 2, column E (critical)",
            "message": "expected yes or no (also true/false, 1/0), got 'maybe'",
        },
    ]
    assert export(client, planner) == before
    assert audit_total(client, planner) == audit
    created = client.post(
        f"{API}/portfolios/tables",
        content=wb.to_csv_zip(tables),
        headers={**planner, "Content-Type": ZIP},
    )
    assert_problem(created, 422, contains="2 problem(s)")
    listed = client.get(f"{API}/portfolios", headers=planner).json()
    assert listed["total"] == 1


def test_a_rule_broken_in_the_database_step_writes_nothing(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    """All or nothing when the workbook is valid but the write fails half-way: the route's
    transaction rolls back (a failure injected after the old rows are deleted)."""
    planner = keys.headers("planner")
    tables = tables_of(client, planner)
    tables["touchpoints"][0]["max_spend"] = 555555
    etag = client.get(base(), headers=planner).headers["ETag"]
    before = export(client, planner)
    from backend import crud

    original = crud._add_entities

    def broken(**kwargs: Any) -> None:
        original(**kwargs)
        raise RuntimeError("disk full")

    crud._add_entities = broken  # type: ignore[assignment]
    try:
        with TestClient(client.app, raise_server_exceptions=False) as failing:
            response = failing.put(
                f"{base()}/tables",
                content=wb.to_xlsx(tables),
                headers={**planner, "Content-Type": XLSX, "If-Match": etag},
            )
    finally:
        crud._add_entities = original  # type: ignore[assignment]
    assert response.status_code == 500
    assert export(client, planner) == before


def test_dry_run_lists_the_changes_and_writes_nothing_then_apply(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    planner = keys.headers("planner")
    tables = tables_of(client, planner)
    tables["departments"].append({"id": "legal", "name": "Legal"})
    tables["touchpoints"][2]["max_spend"] = 260000
    tables["scenarios"] = [row for row in tables["scenarios"] if row["id"] != "floors-cost"]
    tables["scenario_settings"] = [
        row for row in tables["scenario_settings"] if row["scenario"] != "floors-cost"
    ]
    blob = wb.to_xlsx(tables)
    url = f"{base()}/tables"
    before = export(client, planner)
    dry = client.put(f"{url}?dry_run=true", content=blob, headers={**planner, "Content-Type": XLSX})
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["dry_run"] is True
    assert body["changes"] == 1 + 1 + 1 + 4  # department, hotline, scenario, 4 settings
    tables_changed = {
        t["table"]: t for t in body["tables"] if t["added"] or t["changed"] or t["removed"]
    }
    assert set(tables_changed) == {"departments", "touchpoints", "scenarios", "scenario_settings"}
    assert tables_changed["departments"]["added"] == ["legal"]
    assert tables_changed["touchpoints"]["changed"] == [
        {"key": "hotline", "fields": [{"column": "max_spend", "old": 250000, "new": 260000}]}
    ]
    assert tables_changed["scenarios"]["removed"] == ["floors-cost"]
    assert export(client, planner) == before

    missing = client.put(url, content=blob, headers={**planner, "Content-Type": XLSX})
    assert_problem(missing, 428)
    applied = client.put(
        url,
        content=blob,
        headers={**planner, "Content-Type": XLSX, "If-Match": dry.headers["ETag"]},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["dry_run"] is False
    assert applied.json()["portfolio"]["departments"] == 4
    after = export(client, planner)
    assert [d["id"] for d in after["departments"]][-1] == "legal"
    assert after["touchpoints"][2]["max_spend"] == 260000
    assert [s["id"] for s in after["scenarios"]] == ["pooled-plus-10", "with-the-stay"]
    assert applied.headers["ETag"] != dry.headers["ETag"]
    stale = client.put(
        url,
        content=blob,
        headers={**planner, "Content-Type": XLSX, "If-Match": dry.headers["ETag"]},
    )
    assert_problem(stale, 412)
    audit = client.get(f"{base()}/audit?entity=portfolio", headers=planner).json()["items"][0]
    assert audit["action"] == "replace"


def test_replacing_needs_the_same_portfolio_id(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    planner = keys.headers("planner")
    tables = tables_of(client, planner)
    tables["portfolio"][0]["id"] = "other-2027"
    response = client.put(
        f"{base()}/tables?dry_run=true",
        content=wb.to_xlsx(tables),
        headers={**planner, "Content-Type": XLSX},
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "location": "workbook",
            "path": "portfolio, row 2, column A (id)",
            "message": "the workbook is portfolio 'other-2027', but it would replace "
            "'strandhaus-2027' (the id cannot change)",
        }
    ]


def test_template_downloads_and_imports_as_an_empty_portfolio(
    client: TestClient, keys: Keys
) -> None:
    viewer = keys.headers("viewer")
    xlsx = client.get(f"{API}/tables/template.xlsx", headers=viewer)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[:2] == ["portfolio", "departments"]
    assert book.sheetnames[-1] == "README"
    archive = client.get(f"{API}/tables/template.zip", headers=viewer)
    with zipfile.ZipFile(io.BytesIO(archive.content)) as files:
        assert "touchpoints.csv" in files.namelist()
    response = client.post(
        f"{API}/portfolios/tables",
        content=xlsx.content,
        headers=keys.headers("planner", **{"Content-Type": XLSX}),
    )
    assert response.status_code == 201, response.text
    assert (response.json()["id"], response.json()["touchpoints"]) == ("my-portfolio", 0)


def test_wrong_media_type_empty_and_garbage_bodies(client: TestClient, keys: Keys) -> None:
    url = f"{API}/portfolios/tables"
    text = client.post(
        url, content=b"a,b", headers=keys.headers("planner", **{"Content-Type": "text/csv"})
    )
    assert_problem(text, 415, contains="application/zip")
    empty = client.post(url, content=b"", headers=keys.headers("planner", **{"Content-Type": XLSX}))
    assert empty.status_code == 422
    garbage = client.post(
        url, content=b"not a zip", headers=keys.headers("planner", **{"Content-Type": XLSX})
    )
    body = assert_problem(garbage, 422)
    assert body["errors"][0]["path"] == "upload"


def test_a_zip_that_unpacks_beyond_the_limit_is_413(database_url: str, planner: dict) -> None:
    """A small upload that unpacks to 40 times the request limit is refused before it is
    read (a ZIP bomb), as too large, not as bad cells."""
    from tests.backend.test_portfolios import small_client

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("touchpoints.csv", "id\n" + "x\n" * 100_000)
    blob = buffer.getvalue()
    assert len(blob) < 2000
    with small_client(database_url, max_request_bytes=2000) as client:
        response = client.post(
            f"{API}/portfolios/tables", content=blob, headers={**planner, "Content-Type": ZIP}
        )
        body = assert_problem(response, 413, contains="unpacks to 200,003 bytes")
        assert body["errors"][0]["location"] == "workbook"
        assert client.get(f"{API}/portfolios", headers=planner).json()["total"] == 0
