"""Spreadsheet tables in and out (optimizer/workbook.py): round trips, a bad cell of each
column type on each table named exactly, the dry run, the template, formula injection."""

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from optimizer import workbook as wb
from optimizer.document import PortfolioDocument, document_to_data, load_document, validate_document

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    *sorted((ROOT / "seeds").glob("*.yaml")),
    ROOT / "tests/backend/data/strandhaus-2027.yaml",
]
STRANDHAUS = ROOT / "tests/backend/data/strandhaus-2027.yaml"


def strandhaus() -> PortfolioDocument:
    return load_document(STRANDHAUS)


def problems(content: bytes) -> list[str]:
    with pytest.raises(wb.WorkbookError) as caught:
        wb.read_document(content)
    return [str(p) for p in caught.value.problems]


def with_cell(table: str, row: int, column: str, value: Any, kind: str = "xlsx") -> bytes:
    tables = wb.document_tables(strandhaus())
    tables[table][row][column] = value
    return wb.to_xlsx(tables) if kind == "xlsx" else wb.to_csv_zip(tables)


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("kind", ["xlsx", "zip"])
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_export_then_import_gives_the_same_document(path: Path, kind: str) -> None:
    doc = load_document(path)
    back = wb.read_document(wb.write_tables(doc, kind))  # type: ignore[arg-type]
    assert document_to_data(back) == document_to_data(doc)
    assert not any(wb.diff_documents(doc, back))


def test_a_round_trip_keeps_curve_sources_observations_and_every_curve_form() -> None:
    data = document_to_data(strandhaus())
    tps = data["touchpoints"]
    tps[0]["curve"] = {
        "hill": {"base": 0.1, "max": 0.9, "half_spend": 1000.5, "shape": 0.7},
        "source": {
            "kind": "fit",
            "date": "2026-11-30",
            "n": 12,
            "uncertainty": {"parameters": ["base", "max"], "covariance": [[0.01, 0], [0, 0.02]]},
        },
    }
    tps[1]["curve"] = {"exponential": {"base": 0.0, "max": 0.8, "scale": 1e-3}}
    tps[2]["curve"] = {"logistic": {"base": 0.2, "max": 0.7, "lam": 1.25e-5}}
    tps[2]["observations"] = {
        "kpi": "First-call resolution",
        "outcome_at_0": 0.4,
        "outcome_at_1": 0.95,
        "rows": [{"period": "2026-01", "spend": 14000, "outcome": 0.71}],
    }
    tps[3]["name"] = 'Größe; Ümlaut, "quoted"\nsecond line? no: one line'[:20]
    doc = validate_document(data)
    for kind in ("xlsx", "zip"):
        back = wb.read_document(wb.write_tables(doc, kind))  # type: ignore[arg-type]
        assert document_to_data(back) == document_to_data(doc)


def test_the_round_trip_check_would_see_a_change() -> None:
    doc = strandhaus()
    tables = wb.document_tables(doc)
    tables["links"][0]["weight"] = 3.5
    back = wb.read_document(wb.to_xlsx(tables))
    assert document_to_data(back) != document_to_data(doc)


# ------------------------------------------------------------------ bad cells, per table


BAD_CELLS = [
    (
        "portfolio",
        "budget",
        "abc",
        "portfolio, row 2, column F (budget): expected a number (digits with a decimal "
        "point), got 'abc'",
    ),
    (
        "departments",
        "budget",
        -5,
        "departments, row 2, column C (budget): input should be greater than or equal to 0, got -5",
    ),
    (
        "portfolio",
        "id",
        "Strand Haus",
        "portfolio, row 2, column A (id): expected an id: lowercase letters a-z, digits and "
        "hyphens, starting with a letter or digit, at most 64 characters, got 'Strand Haus'",
    ),
    (
        "personas",
        "customers",
        1.5,
        "personas, row 2, column D (customers): expected a whole number, got 1.5",
    ),
    (
        "touchpoints",
        "max_spend",
        "lots",
        "touchpoints, row 2, column G (max_spend): expected a number (digits with a decimal "
        "point), got 'lots'",
    ),
    (
        "touchpoints",
        "department",
        "ghost",
        "touchpoints, row 2, column C (department): unknown department 'ghost' (not on the "
        "departments sheet)",
    ),
    (
        "touchpoints",
        "curve_form",
        "spline",
        "touchpoints, row 2, column H (curve_form): expected one of points, saturating, hill, "
        "exponential, logistic, got 'spline'",
    ),
    (
        "touchpoints",
        "source_uncertainty",
        "{bad",
        "touchpoints, row 2, column S (source_uncertainty): expected JSON (Expecting property "
        "name enclosed in double quotes at character 1), got '{bad'",
    ),
    (
        "pain_points",
        "severity",
        9,
        "pain_points, row 2, column C (severity): input should be less than or equal to 5, got 9",
    ),
    (
        "feedback",
        "touchpoint",
        "ghost",
        "feedback, row 2, column A (touchpoint): unknown touchpoint 'ghost' (not on the "
        "touchpoints sheet)",
    ),
    (
        "dependencies",
        "requires",
        "ghost",
        "dependencies, row 2, column B (requires): unknown touchpoint 'ghost' (not on the "
        "touchpoints sheet)",
    ),
    (
        "journeys",
        "floor",
        1.5,
        "journeys, row 2, column H (floor): input should be less than or equal to 1, got 1.5",
    ),
    (
        "journeys",
        "persona",
        "nobody",
        "journeys, row 2, column C (persona): unknown persona 'nobody' (not on the personas sheet)",
    ),
    (
        "links",
        "critical",
        "maybe",
        "links, row 2, column E (critical): expected yes or no (also true/false, 1/0), got 'maybe'",
    ),
    (
        "links",
        "weight",
        0,
        "links, row 2, column D (weight): input should be greater than 0, got 0",
    ),
    (
        "links",
        "stage",
        "Dream",
        "links, row 2, column C (stage): 'Dream' is not one of the journey's stages (Need, Buy, "
        "Use)",
    ),
    (
        "kpis",
        "target",
        "high",
        "kpis, row 2, column D (target): expected a number (digits with a decimal point), got "
        "'high'",
    ),
    (
        "kpi_actuals",
        "kpi",
        "NPS",
        "kpi_actuals, row 2, column B (kpi): journey 'family-booking' has no KPI 'NPS' on the "
        "kpis sheet",
    ),
    (
        "kpi_actuals",
        "period",
        None,
        "kpi_actuals, row 2, column C (period): is empty; a value is required",
    ),
    (
        "scenarios",
        "pooled",
        "perhaps",
        "scenarios, row 2, column E (pooled): expected yes or no (also true/false, 1/0), got "
        "'perhaps'",
    ),
    (
        "scenario_settings",
        "setting",
        "flors",
        "scenario_settings, row 2, column B (setting): expected one of priorities, floors, "
        "locks, departments, exclude, launch, got 'flors'",
    ),
    (
        "scenario_settings",
        "value",
        7,
        # the first entry is a priority (at most 1e6): make it a floor's
        "scenario_settings, row 2, column D (value): input should be less than or equal to "
        "1000000, got 7000000",
    ),
]


@pytest.mark.parametrize("kind", ["xlsx", "zip"])
@pytest.mark.parametrize(
    ("table", "column", "value", "message"), BAD_CELLS, ids=lambda v: str(v)[:20]
)
def test_a_bad_cell_is_named_by_sheet_row_and_column(
    table: str, column: str, value: Any, message: str, kind: str
) -> None:
    if message.endswith("got 7000000"):
        value = 7_000_000
    assert problems(with_cell(table, 0, column, value, kind)) == [message]


def test_a_points_curve_cell_and_its_rules() -> None:
    bad = with_cell("touchpoints", 1, "points", "0:0.1; 5000")
    assert problems(bad) == [
        "touchpoints, row 3, column O (points): expected spend:quality pairs separated by "
        "';' (e.g. 0:0.2; 50000:0.6), pair 2 is '5000', got '0:0.1; 5000'"
    ]
    # slopes that rise again after falling: neither concave nor S-shaped
    wavy = with_cell("touchpoints", 1, "points", "0:0.1; 100:0.5; 200:0.6; 300:0.9")
    assert problems(wavy) == [
        "touchpoints, row 3, column O (points): slope increases after falling, so the curve "
        "is neither concave nor S-shaped (slopes rise, then fall)"
    ]


def test_every_problem_is_reported_at_once_in_sheet_order() -> None:
    tables = wb.document_tables(strandhaus())
    tables["scenario_settings"][0]["setting"] = "flors"
    tables["touchpoints"][1]["max_spend"] = "abc"
    tables["touchpoints"][3]["min_spend"] = 999_999
    tables["links"][0]["critical"] = "maybe"
    tables["personas"][0]["customers"] = -1
    found = problems(wb.to_xlsx(tables))
    assert [p.split(":")[0] for p in found] == [
        "personas, row 2, column D (customers)",
        "touchpoints, row 3, column G (max_spend)",
        "touchpoints, row 5",
        "links, row 2, column E (critical)",
        "scenario_settings, row 2, column B (setting)",
    ]
    assert found[2] == "touchpoints, row 5: min_spend 999999 is above max_spend 200000"


def test_rules_across_rows_name_the_other_row() -> None:
    tables = wb.document_tables(strandhaus())
    tables["departments"].append({"id": "marketing", "name": "Marketing again"})
    tables["touchpoints"] = [row for row in tables["touchpoints"] if row["id"] != "hotline"]
    tables["links"] = [row for row in tables["links"] if row["touchpoint"] != "hotline"]
    assert problems(wb.to_xlsx(tables)) == [
        "departments, row 5, column A (id): duplicate id 'marketing' (also row 2)",
        "scenario_settings, row 5, column C (key): unknown touchpoint 'hotline'",
    ]


def test_a_journey_without_links_is_named() -> None:
    tables = wb.document_tables(strandhaus())
    tables["links"] = [row for row in tables["links"] if row["journey"] != "family-stay"]
    assert problems(wb.to_xlsx(tables)) == [
        "journeys, row 3, column A (id): the journey has no row on the links sheet; it needs "
        "at least one touchpoint",
    ]


def test_a_dependency_cycle_is_named_on_its_sheet() -> None:
    tables = wb.document_tables(strandhaus())
    tables["dependencies"].append({"touchpoint": "website", "requires": "app-guide"})
    assert problems(wb.to_csv_zip(tables)) == [
        "dependencies: dependencies form a cycle: app-guide -> website -> app-guide"
    ]


def test_unknown_and_missing_columns_and_tables() -> None:
    book = load_workbook(io.BytesIO(wb.write_tables(strandhaus(), "xlsx")))
    book["links"]["D1"] = "wieght"
    book["kpis"].delete_cols(2)  # the required 'name'
    book.create_sheet("Budgets")
    out = io.BytesIO()
    book.save(out)
    found = problems(out.getvalue())
    assert len(found) == 3
    assert found[0].startswith("Budgets: unknown table 'Budgets' (expected: portfolio, ")
    assert found[1].startswith(
        "links, row 1, column D (wieght): unknown column 'wieght' (expected one of: journey, "
    )
    assert found[2] == "kpis, row 1: required column 'name' is missing"


def test_headers_are_read_without_regard_to_case_or_spaces_and_csv_with_semicolons() -> None:
    tables = wb.document_tables(strandhaus())
    blob = wb.to_csv_zip(tables)
    files = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text)))
            rows[0] = [h.replace("_", " ").title() for h in rows[0]]
            out = io.StringIO()
            csv.writer(out, delimiter=";").writerows(rows)
            files[name] = out.getvalue().encode("utf-8")  # no BOM
    repacked = io.BytesIO()
    with zipfile.ZipFile(repacked, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    assert document_to_data(wb.read_document(repacked.getvalue())) == document_to_data(strandhaus())


def test_not_a_workbook_and_a_zip_bomb_are_refused() -> None:
    assert problems(b"hello") == [
        "upload: is neither an XLSX workbook nor a ZIP of CSV files (not a ZIP archive)"
    ]
    blob = wb.write_tables(strandhaus(), "zip")
    with pytest.raises(wb.WorkbookError, match="unpacks to .* more than the limit of 1,000"):
        wb.read_document(blob, max_unpacked=1000)


def test_expected_id_names_the_id_cell() -> None:
    blob = wb.write_tables(strandhaus(), "xlsx")
    with pytest.raises(wb.WorkbookError) as caught:
        wb.read_document(blob, expected_id="other-2027")
    assert [str(p) for p in caught.value.problems] == [
        "portfolio, row 2, column A (id): the workbook is portfolio 'strandhaus-2027', but it "
        "would replace 'other-2027' (the id cannot change)"
    ]


# ------------------------------------------------------------------ dry run


def test_the_dry_run_lists_added_changed_and_removed_rows_per_table() -> None:
    old = strandhaus()
    tables = wb.document_tables(old)
    tables["departments"].append({"id": "legal", "name": "Legal"})
    tables["touchpoints"][2]["max_spend"] = 260000
    tables["touchpoints"][2]["name"] = "Hotline"
    tables["links"] = [
        row
        for row in tables["links"]
        if (row["journey"], row["touchpoint"]) != ("family-stay", "app-guide")
    ]
    tables["scenarios"] = [s for s in tables["scenarios"] if s["id"] != "floors-cost"]
    tables["scenario_settings"] = [
        s for s in tables["scenario_settings"] if s["scenario"] != "floors-cost"
    ]
    new = wb.read_document(wb.to_xlsx(tables))
    diffs = {d.table: d for d in wb.diff_documents(old, new)}
    assert diffs["departments"].added == ["legal"]
    assert diffs["touchpoints"].changed == [
        wb.RowChange(
            "hotline",
            [
                wb.FieldChange("name", "Reservation hotline", "Hotline"),
                wb.FieldChange("max_spend", 250000.0, 260000.0),
            ],
        )
    ]
    assert diffs["links"].removed == ["family-stay / app-guide"]
    assert diffs["scenarios"].removed == ["floors-cost"]
    assert diffs["scenario_settings"].removed == [
        "floors-cost / floors / family-booking",
        "floors-cost / floors / family-stay",
        "floors-cost / floors / couple-weekend",
        "floors-cost / launch / family-stay",
    ]
    changed = {name for name, d in diffs.items() if d}
    assert changed == {"departments", "touchpoints", "links", "scenarios", "scenario_settings"}
    data = wb.diff_data(list(diffs.values()))
    assert data["changes"] == 1 + 1 + 1 + 1 + 4
    text = wb.diff_text(list(diffs.values()))
    assert "  ~ hotline: name Reservation hotline -> Hotline, max_spend 250000 -> 260000" in text


# ------------------------------------------------------------------ template, injection


@pytest.mark.parametrize("kind", ["xlsx", "zip"])
def test_the_template_imports_as_an_empty_portfolio(kind: str) -> None:
    tables = wb.template_tables()
    blob = wb.to_xlsx(tables) if kind == "xlsx" else wb.to_csv_zip(tables)
    doc = wb.read_document(blob)
    assert (doc.id, doc.budget, doc.touchpoints, doc.journeys) == ("my-portfolio", 0, [], [])
    tables["touchpoints"].append({"id": "web", "name": "Web", "department": "it"})
    blob = wb.to_xlsx(tables) if kind == "xlsx" else wb.to_csv_zip(tables)
    assert problems(blob) == [
        "touchpoints, row 2, column C (department): unknown department 'it' (not on the "
        "departments sheet)",
        "touchpoints, row 2, column D (channel): is empty; a value is required",
        "touchpoints, row 2, column E (current_spend): is empty; a value is required",
        "touchpoints, row 2, column G (max_spend): is empty; a value is required",
        "touchpoints, row 2, column H (curve_form): is empty; a value is required",
    ]


def test_formulas_are_neutralised_on_export_and_restored_on_import() -> None:
    data = document_to_data(strandhaus())
    data["name"] = '=HYPERLINK("http://evil.example","click")'
    data["touchpoints"][0]["name"] = "+49 hotline"
    data["journeys"][0]["owner"] = "@anna"
    doc = validate_document(data)
    blob = wb.write_tables(doc, "xlsx")
    book = load_workbook(io.BytesIO(blob))
    cell = book["portfolio"]["B2"]
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://evil.example","click")'
    assert book["touchpoints"]["B2"].value == "'+49 hotline"
    with zipfile.ZipFile(io.BytesIO(wb.write_tables(doc, "zip"))) as archive:
        text = archive.read("journeys.csv").decode("utf-8-sig")
    assert ",'@anna," in text
    for kind in ("xlsx", "zip"):
        back = wb.read_document(wb.write_tables(doc, kind))  # type: ignore[arg-type]
        assert document_to_data(back) == document_to_data(doc)
