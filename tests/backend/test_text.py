"""Text is checked where it enters, and stored text never breaks an export.

Every string: valid Unicode (no lone surrogate), no control character but line breaks and
tabs in free text (none at all in names and labels), a maximum length per field; lists of
free-form items a maximum count. Each refusal is a 422 naming the field and the limit. A body
that is not JSON this API reads (not UTF-8, nested too deep, a number out of range, a key
twice) is a 400 saying which. Both databases (the fixtures run each test on each).
"""

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text

from optimizer import document as doc
from tests.backend.support import API, Keys, assert_problem, base, etag_of, strandhaus

DEPARTMENTS = f"{base()}/departments"


def post(client: TestClient, url: str, body: bytes | dict[str, Any], headers: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(url, content=raw, headers={**headers, "Content-Type": "application/json"})


def problem_at(response: Any, path: str, *words: str, status: int = 422) -> dict[str, Any]:
    body = assert_problem(response, status)
    found = [e for e in body["errors"] if e["path"] == path]
    assert found, body
    for word in words:
        assert word in found[0]["message"], body
    return body


# ------------------------------------------------------------------ Unicode, control characters


@pytest.mark.parametrize("field", ["name", "description"])
def test_a_lone_surrogate_is_refused(
    client: TestClient, portfolio: str, keys: Keys, field: str
) -> None:
    values = {"name": '"Ok"', "description": '"Fine"', field: '"a\\ud800b"'}
    body = ('{"id": "d1", ' + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}").encode()
    response = post(client, DEPARTMENTS, body, keys.headers("planner"))
    problem_at(response, field, "lone surrogate", "U+D800")


def test_a_lone_surrogate_in_a_key_or_the_query_is_refused(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    body = b'{"id": "d1", "name": "Ok", "\\udfff": 1}'
    response = post(client, DEPARTMENTS, body, keys.headers("planner"))
    assert_problem(response, 422, contains="valid Unicode")
    response = client.get(f"{API}/portfolios?x=%ED%A0%80", headers=keys.headers("viewer"))
    assert response.status_code in (200, 422)  # percent-decoding replaces invalid UTF-8


def test_a_lone_surrogate_in_a_document_is_refused(client: TestClient, keys: Keys) -> None:
    data = strandhaus()
    data["touchpoints"][1]["description"] = "\ud800"
    raw = json.dumps(data).encode()  # ensure_ascii: "\\ud800", as a client would send it
    response = post(client, f"{API}/portfolios", raw, keys.headers("planner"))
    problem_at(response, "touchpoints[1].description", "lone surrogate")


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\n", "\x7f", "\x85"])
def test_a_name_is_one_line_without_control_characters(
    client: TestClient, portfolio: str, keys: Keys, char: str
) -> None:
    response = post(client, DEPARTMENTS, {"id": "d1", "name": f"A{char}B"}, keys.headers("planner"))
    problem_at(response, "name", f"U+{ord(char):04X}", "one line")


def test_a_control_character_in_a_department_name_of_a_document_is_refused(
    client: TestClient, keys: Keys
) -> None:
    data = strandhaus()
    data["departments"][1]["name"] = "Guest\x07service"
    response = post(client, f"{API}/portfolios", data, keys.headers("planner"))
    problem_at(response, "departments[1].name", "U+0007")


def test_free_text_keeps_line_breaks_and_tabs_only(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    planner = keys.headers("planner")
    description = "First line\r\nsecond line\n\tindented, ünïcödé 🏖"
    response = post(
        client, DEPARTMENTS, {"id": "d1", "name": "D", "description": description}, planner
    )
    assert response.status_code == 201, response.text
    stored = client.get(f"{DEPARTMENTS}/d1", headers=planner).json()
    assert stored["description"] == description
    response = post(
        client, DEPARTMENTS, {"id": "d2", "name": "D", "description": "a\x0cb"}, planner
    )
    problem_at(response, "description", "U+000C", "line breaks and tabs")


def test_a_patch_is_checked_too(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    url = f"{base()}/touchpoints/website"
    tag = etag_of(client, url, planner)
    response = client.patch(
        url,
        content=b'{"description": "x\\ud83d", "feedback": [{"text": "ok\\u0000"}]}',
        headers={**planner, "If-Match": tag, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert {e["path"] for e in body["errors"]} == {"description", "feedback[0].text"}
    tag_after = etag_of(client, url, planner)
    assert tag_after == tag  # nothing changed


# ------------------------------------------------------------------ lengths and counts


def _touchpoint(**changes: Any) -> dict[str, Any]:
    touchpoint = dict(strandhaus()["touchpoints"][0])
    return {**touchpoint, "id": "new-touchpoint", **changes}


def _journey(**changes: Any) -> dict[str, Any]:
    journey = dict(strandhaus()["journeys"][0])
    return {**journey, "id": "new-journey", **changes}


@pytest.mark.parametrize(
    ("url", "body", "path", "limit"),
    [
        ("departments", {"id": "d", "name": "x" * (doc.NAME_MAX + 1)}, "name", doc.NAME_MAX),
        (
            "departments",
            {"id": "d", "name": "x", "description": "y" * (doc.DESCRIPTION_MAX + 1)},
            "description",
            doc.DESCRIPTION_MAX,
        ),
        (
            "touchpoints",
            _touchpoint(feedback=[{"text": "n" * (doc.NOTE_MAX + 1)}]),
            "feedback[0].text",
            doc.NOTE_MAX,
        ),
        (
            "touchpoints",
            _touchpoint(pain_points=[{"text": "p" * (doc.NAME_MAX + 1)}]),
            "pain_points[0].text",
            doc.NAME_MAX,
        ),
        (
            "journeys",
            _journey(kpis=[{"name": "k" * (doc.NAME_MAX + 1)}]),
            "kpis[0].name",
            doc.NAME_MAX,
        ),
        (
            "journeys",
            _journey(kpis=[{"name": "k", "unit": "u" * (doc.LABEL_MAX + 1)}]),
            "kpis[0].unit",
            doc.LABEL_MAX,
        ),
        (
            "journeys",
            _journey(owner="o" * (doc.LABEL_MAX + 1)),
            "owner",
            doc.LABEL_MAX,
        ),
    ],
    ids=["name", "description", "note", "pain-point", "kpi-name", "kpi-unit", "owner"],
)
def test_each_text_field_has_a_maximum_length(
    client: TestClient, portfolio: str, keys: Keys, url: str, body: Any, path: str, limit: int
) -> None:
    response = post(client, f"{base()}/{url}", body, keys.headers("planner"))
    problem_at(response, path, f"at most {limit} characters")


@pytest.mark.parametrize(
    ("url", "body", "path", "limit"),
    [
        (
            "touchpoints",
            _touchpoint(pain_points=[{"text": "p"}] * (doc.MAX_PAIN_POINTS + 1)),
            "pain_points",
            doc.MAX_PAIN_POINTS,
        ),
        (
            "touchpoints",
            _touchpoint(feedback=[{"text": "f"}] * (doc.MAX_FEEDBACK + 1)),
            "feedback",
            doc.MAX_FEEDBACK,
        ),
        ("journeys", _journey(kpis=[{"name": "k"}] * (doc.MAX_KPIS + 1)), "kpis", doc.MAX_KPIS),
        (
            "journeys",
            _journey(
                kpis=[
                    {"name": "k", "actuals": [{"period": "p", "value": 1}] * (doc.MAX_ACTUALS + 1)}
                ]
            ),
            "kpis[0].actuals",
            doc.MAX_ACTUALS,
        ),
        ("journeys", _journey(stages=["s"] * (doc.MAX_STAGES + 1)), "stages", doc.MAX_STAGES),
    ],
    ids=["pain-points", "feedback", "kpis", "actuals", "stages"],
)
def test_each_list_has_a_maximum_count(
    client: TestClient, portfolio: str, keys: Keys, url: str, body: Any, path: str, limit: int
) -> None:
    response = post(client, f"{base()}/{url}", body, keys.headers("planner"))
    problem_at(response, path, f"at most {limit} items")


def test_limits_hold_in_a_patch_and_in_a_document(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    planner = keys.headers("planner")
    url = f"{base()}/journeys/family-booking"
    tag = etag_of(client, url, planner)
    response = client.patch(
        url,
        json={"kpis": [{"name": "k"}] * (doc.MAX_KPIS + 1)},
        headers={**planner, "If-Match": tag},
    )
    problem_at(response, "kpis", f"at most {doc.MAX_KPIS} items")
    data = strandhaus()
    data["id"] = "another"
    data["description"] = "d" * (doc.DESCRIPTION_MAX + 1)
    response = post(client, f"{API}/portfolios", data, planner)
    problem_at(response, "description", f"at most {doc.DESCRIPTION_MAX} characters")


# ------------------------------------------------------------------ JSON that names the problem


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"id": "d", "name": "\xff\xfe"}', ["not valid UTF-8", "0xff", "byte 21"]),
        (b"[" * 50_000 + b"]" * 50_000, ["nested too deeply", "64"]),
        (b'{"id":' + b"[" * 70 + b"]" * 70 + b"}", ["nested too deeply", "64"]),
        (b'{"id": "d", "name": "x", "budget": 1' + b"0" * 5000 + b"}", ["out of range", "5001"]),
        (b'{"id": "d", "name": "x", "budget": 1e5000}', ["1e5000", "out of range"]),
        (b'{"id": "d", "name": "x", "budget": NaN}', ["NaN is not a JSON number"]),
        (b'{"id": "d", "name": "x", "name": "y"}', ['the key "name" appears twice']),
        (b'{"id": "d", "name": ', ["not valid JSON", "at character"]),
    ],
    ids=["utf-8", "deep-50000", "deep-70", "integer", "float", "nan", "duplicate-key", "syntax"],
)
def test_json_errors_name_the_problem(
    client: TestClient, portfolio: str, keys: Keys, raw: bytes, words: list[str]
) -> None:
    response = post(client, DEPARTMENTS, raw, keys.headers("planner"))
    body = assert_problem(response, 400)
    for word in words:
        assert word in body["detail"], body


# ------------------------------------------------------------------ exports


def test_stored_text_never_breaks_an_xlsx_export(
    client: TestClient, app: Any, portfolio: str, keys: Keys
) -> None:
    """Text stored before these rules (control characters in department names) is
    neutralized in the workbook, not a 500. (A lone surrogate cannot be stored: both
    databases refuse to encode it.)"""
    planner = keys.headers("planner")
    response = client.post(f"{base()}/runs", json={}, headers=planner)
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]
    with app.state.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE run SET result_json = REPLACE(REPLACE(result_json, 'Guest service', "
                "'Guest\\u0007service'), 'Marketing', 'Mark\\u001beting') WHERE id = :id"
            ),
            {"id": run_id},
        )
    response = client.get(f"{API}/runs/{run_id}/allocation.xlsx", headers=planner)
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    names = {cell for row in book["Departments"].iter_rows(values_only=True) for cell in row}
    assert "Guest\ufffdservice" in names
    assert "Mark\ufffdeting" in names
    response = client.get(f"{API}/runs/{run_id}/allocation.csv", headers=planner)
    assert response.status_code == 200, response.text
