"""Exports finance can load: a run's CSV and XLSX read back (csv module, openpyxl) reconcile
with the run JSON to the cent, carry names and units, and say what the file is."""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.backend.support import API, Keys, base

RUNS = f"{base()}/runs"
MONEY_TEXT = re.compile(r"^-?\d+\.\d\d$")


def start(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(RUNS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def cents(amount: float) -> int:
    return round(amount * 100)


def text_cents(text: str) -> int:
    """Cents of a CSV money cell, which must be plain fixed-point with two decimals."""
    assert MONEY_TEXT.match(text), text
    assert text != "-0.00"
    return int(Decimal(text) * 100)


def export(client: TestClient, run_id: str, kind: str, headers: dict[str, str]) -> Any:
    response = client.get(f"{API}/runs/{run_id}/allocation.{kind}", headers=headers)
    assert response.status_code == 200, response.text
    return response


def file_name(response: Any) -> str:
    disposition = response.headers["content-disposition"]
    match = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
    assert match, disposition
    return match.group(1)


def created_day(run: dict[str, Any]) -> str:
    return datetime.fromisoformat(run["created_at"]).astimezone(UTC).date().isoformat()


def sheet_rows(sheet: Any) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    header = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    return header, rows[:-1], rows[-1]


@pytest.mark.parametrize("body", [{"scenario": "pooled-plus-10"}, {}], ids=["pooled", "base"])
def test_csv_round_trip(
    client: TestClient, portfolio: str, keys: Keys, body: dict[str, Any]
) -> None:
    run = start(client, keys.headers("planner"), body)
    response = export(client, run["run_id"], "csv", keys.headers("viewer"))
    scenario = body.get("scenario", "base")
    assert file_name(response) == (
        f"strandhaus-2027_{scenario}_run-{run['number']}_{created_day(run)}.csv"
    )
    reader = csv.DictReader(io.StringIO(response.text))
    header = list(reader.fieldnames or [])
    for column in (
        "touchpoint name",
        "department name",
        "journey names",
        "current spend (EUR)",
        "spend (EUR)",
        "change (EUR)",
        "quality (0-1)",
        "marginal value (EUR of priority-weighted value per EUR)",
    ):
        assert column in header
    *rows, totals = list(reader)
    assert totals["touchpoint"] == "Total"
    touchpoints = {t["id"]: t for t in run["touchpoints"]}
    assert [row["touchpoint"] for row in rows] == list(touchpoints)

    departments = {d["id"]: d["name"] for d in run["departments"]}
    journeys = {j["id"]: j["name"] for j in run["journeys"]}
    for row in rows:
        t = touchpoints[row["touchpoint"]]
        assert row["touchpoint name"] == t["name"]
        assert row["department name"] == departments[t["department"]]
        assert row["journey names"] == "; ".join(journeys[j] for j in t["journeys"])
        # each figure is the run's to the cent (a rounding carry moves one cent at most)
        assert abs(text_cents(row["spend (EUR)"]) - cents(t["spend"])) <= 1
        assert abs(text_cents(row["current spend (EUR)"]) - cents(t["current_spend"])) <= 1
        assert text_cents(row["change (EUR)"]) == text_cents(row["spend (EUR)"]) - text_cents(
            row["current spend (EUR)"]
        )
        assert float(row["quality (0-1)"]) == pytest.approx(t["quality"], abs=5e-5)

    figures = run["portfolio"]
    for column, figure in (
        ("spend (EUR)", figures["spend"]),
        ("current spend (EUR)", figures["current_spend"]),
        ("change (EUR)", figures["spend"] - figures["current_spend"]),
    ):
        total = text_cents(totals[column])
        assert total == sum(text_cents(row[column]) for row in rows)
        assert abs(total - cents(figure)) <= (1 if column.startswith("change") else 0)


def test_xlsx_round_trip(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    first = start(client, planner, {})
    run = start(client, planner, {"scenario": "pooled-plus-10"})
    response = export(client, run["run_id"], "xlsx", keys.headers("viewer"))
    assert file_name(response) == (f"strandhaus-2027_pooled-plus-10_run-2_{created_day(run)}.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Summary", "Allocation", "Departments", "Journeys"]
    figures = run["portfolio"]

    # Allocation: totals = the run's figures = the sum of the rows, to the cent
    header, rows, totals = sheet_rows(book["Allocation"])
    assert "marginal value (EUR of priority-weighted value per EUR)" in header
    assert totals["touchpoint"] == "Total"
    for column, figure in (
        ("spend (EUR)", figures["spend"]),
        ("current spend (EUR)", figures["current_spend"]),
    ):
        assert cents(totals[column]) == cents(figure)
        assert cents(totals[column]) == sum(cents(row[column]) for row in rows)
    names = {t["id"]: t["name"] for t in run["touchpoints"]}
    assert {row["touchpoint"]: row["touchpoint name"] for row in rows} == names

    # Departments: each the sum of its touchpoints' rows, totals the portfolio's
    _, departments, department_totals = sheet_rows(book["Departments"])
    for d in departments:
        members = [r for r in rows if r["department"] == d["department"]]
        assert cents(d["spend (EUR)"]) == sum(cents(r["spend (EUR)"]) for r in members)
    assert cents(department_totals["spend (EUR)"]) == cents(figures["spend"])
    assert {d["department name"] for d in departments} == {d["name"] for d in run["departments"]}

    # Journeys: value in money and priority-weighted, each total the run's
    header, journeys, journey_totals = sheet_rows(book["Journeys"])
    for column, figure in (
        ("value (EUR)", figures["value"]),
        ("priority-weighted value (EUR)", figures["weighted_value"]),
        ("current value (EUR)", run["baselines"]["current"]["value"]),
    ):
        assert cents(journey_totals[column]) == cents(figure)
        assert cents(journey_totals[column]) == sum(cents(j[column]) for j in journeys)
    assert figures["value"] != pytest.approx(figures["weighted_value"])  # priorities differ

    # Formats, frozen header, widths that fit the header
    sheet = book["Allocation"]
    assert sheet.freeze_panes == "A2"
    column_of = {cell.value: cell.column_letter for cell in sheet[1]}
    assert sheet[f"{column_of['spend (EUR)']}2"].number_format == "#,##0.00"
    assert sheet[f"{column_of['quality (0-1)']}2"].number_format == "0.000"
    for title, letter in column_of.items():
        assert sheet.column_dimensions[letter].width >= min(len(title), 58)
    assert all(cell.font.bold for cell in sheet[1])

    # Summary: the run JSON's figures
    summary = {r[0]: r[1:] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["portfolio"][0] == "strandhaus-2027"
    assert summary["scenario"][0] == "pooled-plus-10"
    assert summary["run id"][0] == run["run_id"]
    assert summary["run number"][0] == run["number"] == 2
    assert summary["input SHA-256"][0] == run["input_sha256"]
    created = datetime.fromisoformat(run["created_at"]).astimezone(UTC)
    assert summary["created"] == (created.replace(tzinfo=None, microsecond=0), "UTC")
    assert summary["plan of record"][0].startswith("no")
    assert cents(summary["value"][0]) == cents(figures["value"])
    assert cents(summary["spend"][0]) == cents(figures["spend"])
    assert summary["value"][1] == "EUR"
    assert (
        abs(
            cents(summary["price of silos (value minus the silo allocation's value)"][0])
            - cents(run["price_of_silos_value"])
        )
        <= 1
    )
    weighted = summary["price of silos, priority-weighted"]
    assert abs(cents(weighted[0]) - cents(run["price_of_silos"])) <= 1
    assert weighted[1] == "EUR, priority-weighted"
    price = summary["shadow price of the budget"]
    assert price == (
        pytest.approx(run["shadow_prices"]["budget"], abs=5e-5),
        run["shadow_prices"]["unit"],
    )

    # The plan-of-record state follows the approval
    assert client.post(f"{API}/runs/{first['run_id']}/approve", headers=planner).is_success
    for run_id, state in (
        (first["run_id"], "yes"),
        (run["run_id"], "no: the plan of record is run 1"),
    ):
        book = load_workbook(io.BytesIO(export(client, run_id, "xlsx", planner).content))
        summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
        assert summary["plan of record"].startswith(state)


def test_infeasible_export_holds_its_conflicts(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    run = start(
        client, keys.headers("planner"), {"budget": 100000, "floors": {"family-booking": 0.95}}
    )
    assert run["status"] == "infeasible"
    viewer = keys.headers("viewer")
    rows = list(csv.DictReader(io.StringIO(export(client, run["run_id"], "csv", viewer).text)))
    assert [row["constraint"] for row in rows] == [c["constraint"] for c in run["conflicts"]]
    for row, conflict in zip(rows, run["conflicts"], strict=True):
        assert row["message"] == conflict["message"]
        if conflict["unit"] == "money":
            assert row["shortfall unit"] == "EUR"
            assert text_cents(row["shortfall"]) == cents(conflict["shortfall"])
        else:
            assert row["shortfall unit"] == "quality (0-1)"
            assert float(row["shortfall"]) == pytest.approx(conflict["shortfall"], abs=5e-5)

    book = load_workbook(io.BytesIO(export(client, run["run_id"], "xlsx", viewer).content))
    assert book.sheetnames == ["Summary", "Conflicts"]
    _, *conflicts = list(book["Conflicts"].iter_rows(values_only=True))
    assert [c[0] for c in conflicts] == [c["constraint"] for c in run["conflicts"]]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert (summary["status"], summary["conflicts"]) == ("infeasible", len(run["conflicts"]))
