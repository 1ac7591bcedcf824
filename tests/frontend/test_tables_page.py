"""The Spreadsheet tables page under AppTest, against the live API: downloads, an upload with
a bad cell (named, nothing written), an upload with changes (listed, then applied)."""

import httpx2
from streamlit.testing.v1 import AppTest

from frontend import common
from frontend.client import Api
from optimizer import workbook as wb
from optimizer.document import document_to_data, load_document, validate_document
from tests.frontend.support import ROOT, LiveApi, button, open_page

STRANDHAUS = ROOT / "tests" / "backend" / "data" / "strandhaus-2027.yaml"
PID = "strandhaus-2027"


def ensure_strandhaus(live: LiveApi) -> None:
    """A portfolio of its own (the seeds stay as the other page tests expect them)."""
    headers = {"Authorization": f"Bearer {live.key}"}
    httpx2.delete(f"{live.url}/portfolios/{PID}", headers={**headers, "If-Match": "*"})
    created = httpx2.post(
        f"{live.url}/portfolios",
        json=document_to_data(load_document(STRANDHAUS)),
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    common.portfolios.clear()


def test_tables_page_names_bad_cells_then_applies_a_dry_run(
    app: AppTest, api: Api, live: LiveApi
) -> None:
    ensure_strandhaus(live)
    at = open_page(app, "tables", portfolio=PID)
    assert not at.exception
    downloads = at.get("download_button")
    assert len(downloads) == 3
    assert at.title[0].value == "Spreadsheet tables"

    tables = wb.document_tables(validate_document(api.document(PID)))
    tables["touchpoints"][1]["max_spend"] = "abc"
    at.session_state["tables_upload"] = ("strandhaus.xlsx", wb.to_xlsx(tables))
    at.run()
    assert not at.exception
    assert "cannot be imported: 1 problem(s)" in at.error[0].value
    shown = at.dataframe[0].value
    assert list(shown["where"]) == ["touchpoints, row 3, column G (max_spend)"]
    assert "expected a number" in shown["problem"][0]

    tables["touchpoints"][1]["max_spend"] = 320000
    tables["departments"].append({"id": "legal", "name": "Legal"})
    at.session_state["tables_upload"] = ("strandhaus.zip", wb.to_csv_zip(tables))
    at.run()
    assert not at.exception
    changes = at.dataframe[0].value
    assert list(changes["change"]) == ["added", "changed"]
    assert list(changes["what changes"])[1] == "max_spend: 300000 → 320000"
    assert api.document(PID)["touchpoints"][1]["max_spend"] == 300000  # nothing written yet

    button(at, "Apply 2 change(s)").click()
    at.run()
    assert not at.exception
    assert "2 change(s) applied" in at.success[0].value
    after = api.document(PID)
    assert after["touchpoints"][1]["max_spend"] == 320000
    assert after["departments"][-1]["id"] == "legal"
