"""Runs: create (with idempotency), read, reproduce, export as CSV and XLSX, compare, approve
as the plan of record; a run through the API equals the command line's run."""

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from backend.cli import app as cli
from optimizer.document import document_to_data, load_document
from tests.backend.support import (
    API,
    ROOT,
    STRANDHAUS,
    Keys,
    assert_problem,
    audit_total,
    base,
    etag_of,
    export,
    strandhaus,
)

RUNS = f"{base()}/runs"
TIMINGS = ("build_seconds", "solve_seconds", "total_seconds")


def without_timings(run: dict[str, Any]) -> dict[str, Any]:
    """The run JSON without what depends on the clock or on where it is kept."""
    solver = {k: v for k, v in run["solver"].items() if k not in TIMINGS}
    keep = set(json.loads(json.dumps(run))) - {
        "run_id",
        "number",
        "created_at",
        "created_by",
        "input_sha256",
        "result_sha256",
        "portfolio_version",
        "approved",
        "solver",
    }
    return {**{k: run[k] for k in keep}, "solver": solver}


def start(client: TestClient, headers: dict[str, str], body: dict[str, Any] | None = None) -> dict:
    response = client.post(RUNS, json=body or {}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_run(client: TestClient, portfolio: str, keys: Keys) -> None:
    response = client.post(RUNS, json={"scenario": "pooled-plus-10"}, headers=keys.headers("owner"))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["format"] == "journeyfolio-run/v1"
    assert (run["portfolio_id"], run["scenario_id"], run["status"]) == (
        "strandhaus-2027",
        "pooled-plus-10",
        "optimal",
    )
    assert run["portfolio"]["budget"] == 990000
    assert len(run["input_sha256"]) == 64
    assert run["created_by"] == "anna <anna.berg@strandhaus.example>"
    assert run["approved"] is False
    assert response.headers["Location"] == f"{API}/runs/{run['run_id']}"
    assert client.get(f"{API}/runs/{run['run_id']}", headers=keys.headers("viewer")).json() == run
    log = client.get(f"{base()}/audit", headers=keys.headers("viewer")).json()["items"][0]
    assert (log["action"], log["entity_id"]) == ("run", run["run_id"])


@pytest.mark.parametrize(
    ("document", "scenario"),
    [
        (STRANDHAUS, "pooled-plus-10"),
        (STRANDHAUS, None),
        (ROOT / "seeds" / "sonnenreisen-2027.yaml", "families-first"),
        (ROOT / "seeds" / "finanzhaus-2027.yaml", None),
    ],
    ids=["strandhaus-pooled", "strandhaus", "sonnenreisen-families-first", "finanzhaus"],
)
def test_api_run_equals_command_line_run(
    client: TestClient, keys: Keys, document: Path, scenario: str | None
) -> None:
    planner = keys.headers("planner")
    data = document_to_data(load_document(document))
    assert client.post(f"{API}/portfolios", json=data, headers=planner).status_code == 201
    body = {"scenario": scenario} if scenario else {}
    response = client.post(f"{base(data['id'])}/runs", json=body, headers=planner)
    assert response.status_code == 201, response.text

    args = ["optimize", str(document), "--format", "json"]
    if scenario:
        args += ["--scenario", scenario]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert without_timings(response.json()) == without_timings(json.loads(result.stdout))


def test_overrides_apply_on_top_of_the_scenario(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    run = start(
        client,
        planner,
        {"scenario": "pooled-plus-10", "budget": 800000, "locks": {"checkin": 150000}},
    )
    assert run["portfolio"]["budget"] == 800000
    checkin = next(t for t in run["touchpoints"] if t["id"] == "checkin")
    assert checkin["spend"] == pytest.approx(150000)
    assert checkin["reason"] == "locked"
    stored = client.get(f"{API}/runs/{run['run_id']}/input", headers=planner).json()
    assert stored["scenario"] == "pooled-plus-10"
    assert stored["overrides"] == {"budget": 800000.0, "locks": {"checkin": 150000.0}}


def test_invalid_run_requests(client: TestClient, portfolio: str, planner: dict) -> None:
    response = client.post(RUNS, json={"scenario": "nope"}, headers=planner)
    body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "scenario"
    assert "unknown scenario 'nope'" in body["errors"][0]["message"]
    response = client.post(RUNS, json={"locks": {"hotline": 999999999}}, headers=planner)
    body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "overrides.locks.hotline"
    response = client.post(RUNS, json={"budget": "lots"}, headers=planner)
    assert assert_problem(response, 422)["errors"][0]["path"] == "budget"
    response = client.post(RUNS, json={"mode": "max_fun"}, headers=planner)
    assert assert_problem(response, 422)["errors"][0]["path"] == "mode"
    response = client.post(RUNS, json={"scenario": None, "colour": 1}, headers=planner)
    assert assert_problem(response, 422)["errors"][0]["message"] == "unknown key"
    assert_problem(client.post(f"{base('nope')}/runs", json={}, headers=planner), 404)
    assert client.get(RUNS, headers=planner).json()["total"] == 0


def test_infeasible_run_is_kept_and_says_why(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    run = start(client, planner, {"budget": 100000, "floors": {"family-booking": 0.95}})
    assert run["status"] == "infeasible"
    assert run["conflicts"]
    approve = client.post(f"{API}/runs/{run['run_id']}/approve", headers=planner)
    assert_problem(approve, 409, contains="only an optimal run")


def test_run_is_reproducible_from_its_stored_input(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    run = start(client, planner, {"scenario": "floors-cost"})
    stored = client.get(f"{API}/runs/{run['run_id']}/input", headers=planner).json()
    input_sha = stored.pop("input_sha256")
    assert input_sha == run["input_sha256"]
    canonical = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == input_sha
    assert stored["document"] == export(client, planner)

    # Same input, same result: importing the stored document elsewhere and running it again.
    again = {**stored["document"], "id": "strandhaus-copy"}
    assert client.post(f"{API}/portfolios", json=again, headers=planner).status_code == 201
    response = client.post(
        f"{base('strandhaus-copy')}/runs", json={"scenario": "floors-cost"}, headers=planner
    )
    second = response.json()
    first, second = without_timings(run), without_timings(second)
    assert first.pop("portfolio_id") == "strandhaus-2027"
    assert second.pop("portfolio_id") == "strandhaus-copy"
    assert first == second


def test_a_run_never_changes_when_the_portfolio_does(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    run = start(client, planner)
    url = f"{base()}/touchpoints/hotline"
    tag = etag_of(client, url, planner)
    client.patch(url, json={"current_spend": 1}, headers={**planner, "If-Match": tag})
    later = client.get(f"{API}/runs/{run['run_id']}", headers=planner).json()
    assert later == run
    stored = client.get(f"{API}/runs/{run['run_id']}/input", headers=planner).json()
    hotline = next(t for t in stored["document"]["touchpoints"] if t["id"] == "hotline")
    assert hotline["current_spend"] == 120000
    newer = start(client, planner)
    assert newer["portfolio_version"] == run["portfolio_version"] + 1
    assert newer["input_sha256"] != run["input_sha256"]


def test_idempotent_run(client: TestClient, portfolio: str, planner: dict) -> None:
    headers = {**planner, "Idempotency-Key": "finance-retry-7"}
    first = client.post(RUNS, json={"scenario": "pooled-plus-10"}, headers=headers)
    again = client.post(RUNS, json={"scenario": "pooled-plus-10"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(RUNS, headers=planner).json()["total"] == 1
    other = client.post(RUNS, json={"scenario": "floors-cost"}, headers=headers)
    assert_problem(other, 422, contains="Idempotency-Key")
    # Keys belong to the API key that used them: another caller starts afresh.
    assert client.get(RUNS, headers=planner).json()["total"] == 1


def test_an_unchanged_scenario_returns_its_stored_run(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    first = start(client, planner, {"scenario": "pooled-plus-10"})
    events = audit_total(client, planner)
    again = client.post(RUNS, json={"scenario": "pooled-plus-10"}, headers=planner)
    assert again.status_code == 200, again.text
    assert again.json() == first
    assert again.headers["Content-Location"] == f"{API}/runs/{first['run_id']}"
    assert client.get(RUNS, headers=planner).json()["total"] == 1
    assert audit_total(client, planner) == events  # nothing was created

    # Other options are other runs: no scenario, another budget, another mode.
    others = [
        start(client, planner, body)
        for body in (
            {},
            {"scenario": "pooled-plus-10", "budget": 800000},
            {"scenario": "pooled-plus-10", "mode": "max_net_value"},
        )
    ]
    assert len({run["input_sha256"] for run in [first, *others]}) == 4
    assert [run["number"] for run in [first, *others]] == [1, 2, 3, 4]

    # A changed portfolio is a new input: a new run, numbered on.
    url = f"{base()}/touchpoints/hotline"
    tag = etag_of(client, url, planner)
    client.patch(url, json={"current_spend": 1}, headers={**planner, "If-Match": tag})
    changed = start(client, planner, {"scenario": "pooled-plus-10"})
    assert changed["run_id"] != first["run_id"]
    assert changed["number"] == 5
    # The stored run comes back as it is now: approved once it is the plan of record.
    assert client.post(f"{API}/runs/{changed['run_id']}/approve", headers=planner).is_success
    same = client.post(RUNS, json={"scenario": "pooled-plus-10"}, headers=planner)
    assert (same.status_code, same.json()["run_id"]) == (200, changed["run_id"])
    assert same.json()["approved"] is True
    assert client.get(RUNS, headers=planner).json()["total"] == 5


def test_an_unchanged_scenario_with_an_idempotency_key(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    """The key's record keeps the first answer (the stored run, 200) for its retries."""
    first = start(client, planner, {"scenario": "floors-cost"})
    headers = {**planner, "Idempotency-Key": "finance-monday"}
    answers = [client.post(RUNS, json={"scenario": "floors-cost"}, headers=headers) for _ in "ab"]
    assert [a.status_code for a in answers] == [200, 200]
    assert {a.json()["run_id"] for a in answers} == {first["run_id"]}
    assert "Idempotent-Replayed" not in answers[0].headers
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    other = client.post(RUNS, json={"scenario": "pooled-plus-10"}, headers=headers)
    assert_problem(other, 422, contains="Idempotency-Key")
    assert client.get(RUNS, headers=planner).json()["total"] == 1


def test_list_runs(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    bodies = ({}, {"scenario": "floors-cost"}, {"budget": 800000})
    ids = [start(client, planner, body)["run_id"] for body in bodies]
    page = client.get(f"{RUNS}?limit=2", headers=keys.headers("viewer")).json()
    assert page["total"] == 3
    assert [item["run_id"] for item in page["items"]] == ids[::-1][:2]
    assert [item["number"] for item in page["items"]] == [3, 2]
    assert set(page["items"][0]) >= {"status", "value", "spend", "input_sha256", "created_at"}
    only = client.get(f"{RUNS}?scenario=floors-cost", headers=planner).json()
    assert [item["run_id"] for item in only["items"]] == [ids[1]]
    for tail in ("", "/input", "/allocation.csv", "/allocation.xlsx"):
        assert_problem(client.get(f"{API}/runs/nope{tail}", headers=planner), 404)


FORMULA = '=HYPERLINK("http://evil.example","Click")'


def _poisoned_run(client: TestClient, planner: dict) -> dict[str, Any]:
    url = f"{base()}/touchpoints/hotline"
    tag = etag_of(client, url, planner)
    response = client.patch(url, json={"name": FORMULA}, headers={**planner, "If-Match": tag})
    assert response.status_code == 200
    url = f"{base()}/departments/service"
    tag = etag_of(client, url, planner)
    response = client.patch(url, json={"name": "@SUM(1+1)"}, headers={**planner, "If-Match": tag})
    assert response.status_code == 200
    return start(client, planner)


def test_allocation_csv(client: TestClient, portfolio: str, keys: Keys) -> None:
    run = _poisoned_run(client, keys.headers("planner"))
    response = client.get(
        f"{API}/runs/{run['run_id']}/allocation.csv", headers=keys.headers("viewer")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    *rows, totals = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["touchpoint"] for row in rows] == [t["id"] for t in run["touchpoints"]]
    assert totals["touchpoint"] == "Total"
    hotline = next(row for row in rows if row["touchpoint"] == "hotline")
    assert hotline["touchpoint name"] == "'" + FORMULA
    assert hotline["department name"] == "'@SUM(1+1)"
    spends = {row["touchpoint"]: float(row["spend (EUR)"]) for row in rows}
    assert spends == pytest.approx({t["id"]: t["spend"] for t in run["touchpoints"]}, abs=0.01)


def test_allocation_xlsx(client: TestClient, portfolio: str, keys: Keys) -> None:
    run = _poisoned_run(client, keys.headers("planner"))
    response = client.get(
        f"{API}/runs/{run['run_id']}/allocation.xlsx", headers=keys.headers("viewer")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Summary", "Allocation", "Departments", "Journeys"]
    sheet = book["Allocation"]
    header = [cell.value for cell in sheet[1]]
    *rows, _ = [
        dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(2)
    ]
    assert [row["touchpoint"] for row in rows] == [t["id"] for t in run["touchpoints"]]
    assert sum(row["spend (EUR)"] for row in rows) == pytest.approx(run["portfolio"]["spend"])
    names = [cell for cell in sheet["B"] if cell.value and "HYPERLINK" in str(cell.value)]
    assert [cell.value for cell in names] == ["'" + FORMULA]
    assert names[0].data_type == "s"
    departments = book["Departments"]
    service = [row for row in departments.iter_rows(values_only=True) if row[0] == "service"]
    assert service[0][1] == "'@SUM(1+1)"
    assert not any(
        cell.data_type == "f" for sheet in book for row in sheet.iter_rows() for cell in row
    )
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["run id"] == run["run_id"]
    assert summary["input SHA-256"] == run["input_sha256"]


def test_compare_runs(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    a = start(client, planner)
    b = start(client, planner, {"scenario": "pooled-plus-10"})
    response = client.get(
        f"{base()}/compare?runs={a['run_id']},{b['run_id']}", headers=keys.headers("viewer")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["run_id"] for r in body["runs"]] == [a["run_id"], b["run_id"]]
    assert body["runs"][1]["budget"] == 990000
    for shown, run in zip(body["runs"], (a, b), strict=True):
        assert shown["number"] == run["number"]
        assert shown["price_of_silos"] == run["price_of_silos"]
        assert shown["price_of_silos_value"] == run["price_of_silos_value"]
        silo = run["baselines"]["silo"]
        assert shown["price_of_silos_value"] == pytest.approx(
            run["portfolio"]["value"] - silo["value"]
        )
    assert body["runs"][1]["price_of_silos_value"] != body["runs"][1]["price_of_silos"]
    hotline = next(row for row in body["touchpoints"] if row["id"] == "hotline")
    spend_a = next(t["spend"] for t in a["touchpoints"] if t["id"] == "hotline")
    spend_b = next(t["spend"] for t in b["touchpoints"] if t["id"] == "hotline")
    assert hotline["spend"] == pytest.approx([spend_a, spend_b])
    assert hotline["spend_delta"] == pytest.approx([0, spend_b - spend_a])
    assert {row["id"] for row in body["departments"]} == {"marketing", "service", "digital"}
    journey = next(row for row in body["journeys"] if row["id"] == "family-booking")
    value_a = next(j["value"] for j in a["journeys"] if j["id"] == "family-booking")
    value_b = next(j["value"] for j in b["journeys"] if j["id"] == "family-booking")
    assert journey["value_delta"] == pytest.approx([0, value_b - value_a])
    assert len(journey["quality"]) == 2


def test_compare_unhappy_paths(client: TestClient, portfolio: str, planner: dict) -> None:
    a = start(client, planner)["run_id"]
    assert_problem(client.get(f"{base()}/compare?runs={a},{a}", headers=planner), 422)
    assert_problem(client.get(f"{base()}/compare?runs=,", headers=planner), 422)
    assert_problem(client.get(f"{base()}/compare", headers=planner), 422)
    assert_problem(client.get(f"{base()}/compare?runs={a},nope", headers=planner), 404)
    many = ",".join(f"r{i}" for i in range(20))
    assert_problem(client.get(f"{base()}/compare?runs={many}", headers=planner), 422)
    other = {**export(client, planner), "id": "other-2027"}
    client.post(f"{API}/portfolios", json=other, headers=planner)
    # A run of another portfolio is not one of this portfolio's runs.
    assert_problem(client.get(f"{base('other-2027')}/compare?runs={a}", headers=planner), 404)


def test_plan_of_record(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    assert_problem(client.get(f"{base()}/plan", headers=planner), 404, contains="no approved plan")
    a = start(client, planner)
    b = start(client, planner, {"scenario": "pooled-plus-10"})
    for role in ("viewer", "owner"):
        response = client.post(f"{API}/runs/{a['run_id']}/approve", headers=keys.headers(role))
        assert_problem(response, 403)
    assert_problem(client.get(f"{base()}/plan", headers=planner), 404)
    tag = client.get(f"{API}/runs/{a['run_id']}", headers=planner).headers["ETag"]

    response = client.post(
        f"{API}/runs/{a['run_id']}/approve", json={"note": "Board, 2026-11-20"}, headers=planner
    )
    assert response.status_code == 200, response.text
    plan = client.get(f"{base()}/plan", headers=keys.headers("viewer")).json()
    assert plan == response.json()
    assert (plan["run_id"], plan["note"], plan["approved_by"]) == (
        a["run_id"],
        "Board, 2026-11-20",
        "leadership",
    )
    assert {t["id"]: t["spend"] for t in plan["touchpoints"]} == {
        t["id"]: t["spend"] for t in a["touchpoints"]
    }
    approved = client.get(f"{API}/runs/{a['run_id']}", headers=planner)
    assert approved.json()["approved"] is True
    assert approved.headers["ETag"] != tag
    assert client.get(base(), headers=planner).json()["approved_run_id"] == a["run_id"]

    # Approving the same run again changes nothing; another run replaces it.
    events = audit_total(client, planner)
    client.post(f"{API}/runs/{a['run_id']}/approve", headers=planner)
    assert audit_total(client, planner) == events
    client.post(f"{API}/runs/{b['run_id']}/approve", headers=planner)
    assert client.get(f"{base()}/plan", headers=planner).json()["run_id"] == b["run_id"]
    log = client.get(f"{base()}/audit?entity=plan", headers=planner).json()["items"][0]
    assert log["before"] == {"run_id": a["run_id"]}
    assert log["after"]["run_id"] == b["run_id"]

    # The approved run and its input never change, and the portfolio cannot be deleted.
    response = client.delete(base(), headers={**planner, "If-Match": "*"})
    assert_problem(response, 409, contains="approved plan")
    assert client.get(f"{API}/runs/{b['run_id']}", headers=planner).json()["approved"] is True
    assert_problem(client.post(f"{API}/runs/nope/approve", headers=planner), 404)


def test_viewer_reads_runs_but_cannot_start_one(
    client: TestClient, portfolio: str, keys: Keys
) -> None:
    assert_problem(client.post(RUNS, json={}, headers=keys.headers("viewer")), 403)
    assert_problem(client.post(RUNS, json={}), 401)
    run = start(client, keys.headers("other_owner"))
    assert (
        client.get(RUNS, headers=keys.headers("viewer")).json()["items"][0]["run_id"]
        == (run["run_id"])
    )


def test_time_limit_ends_a_long_run_clearly(database_url: str, keys: Any) -> None:
    from backend.main import create_app
    from optimizer.generate import generate_document
    from tests.backend.conftest import make_settings

    app = create_app(make_settings(database_url, solver_time_limit=1e-6))
    try:
        with TestClient(app) as client:
            planner = keys.headers("planner")
            data = generate_document(300, 150, 3)
            assert client.post(f"{API}/portfolios", json=data, headers=planner).status_code == 201
            response = client.post(f"{base(data['id'])}/runs", json={}, headers=planner)
            assert_problem(response, 422, contains="time limit")
            assert client.get(f"{base(data['id'])}/runs", headers=planner).json()["total"] == 0
    finally:
        app.state.engine.dispose()


def test_numbers_the_optimizer_cannot_handle_get_a_clear_answer(
    client: TestClient, planner: dict
) -> None:
    """Money beyond a quadrillion is refused by the document's rules, naming the path; at
    the largest amounts allowed a run still answers (a result or a clear 422)."""
    data = {**strandhaus(), "id": "astronomic", "budget": 1e300}
    body = assert_problem(client.post(f"{API}/portfolios", json=data, headers=planner), 422)
    assert body["errors"][0]["path"] == "budget"
    data["budget"] = 1e15
    for journey in data["journeys"]:
        journey["value"] = 1e15
    data["touchpoints"][0]["max_spend"] = 1e15
    assert client.post(f"{API}/portfolios", json=data, headers=planner).status_code == 201
    response = client.post(f"{base('astronomic')}/runs", json={}, headers=planner)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        # eleven orders of magnitude between spends: the solver may give up, said plainly
        body = assert_problem(response, 422)
        assert (
            "optimizer cannot compute" in body["detail"] or "nothing was stored" in body["detail"]
        )
        assert client.get(f"{base('astronomic')}/runs", headers=planner).json()["total"] == 0


def test_counts_a_database_cannot_hold_are_refused(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    persona = {"id": "everyone", "name": "Everyone", "customers": 10**20}
    body = assert_problem(client.post(f"{base()}/personas", json=persona, headers=planner), 422)
    assert body["errors"][0]["path"] in ("customers", "personas[2].customers")
    data = {**strandhaus(), "id": "crowded"}
    data["personas"][0]["customers"] = 2**63
    body = assert_problem(client.post(f"{API}/portfolios", json=data, headers=planner), 422)
    assert body["errors"][0]["path"] == "personas[0].customers"
    assert str(2**63 - 1) in body["errors"][0]["message"]


def test_a_result_with_non_finite_numbers_is_not_kept(
    client: TestClient, portfolio: str, planner: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend import runs

    real = runs.solve_problem

    def broken(problem: Any, **kwargs: Any) -> Any:
        return real(problem, **kwargs).model_copy(update={"price_of_silos": float("inf")})

    monkeypatch.setattr(runs, "solve_problem", broken)
    response = client.post(RUNS, json={}, headers=planner)
    assert_problem(response, 422, contains="not finite")
    assert client.get(RUNS, headers=planner).json()["total"] == 0


def test_lifecycle_ideas_launch_through_a_scenario(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    """An idea claims no budget (the run lists it in `left_out`) until a scenario launches it;
    `launch` is stored and edited like every other scenario key."""
    plain = start(client, planner)
    assert {(x["journey"], x["part"]) for x in plain["left_out"]} >= {("family-stay", "journey")}
    assert "family-stay" not in {j["id"] for j in plain["journeys"]}

    url = f"{base()}/scenarios/pooled-plus-10"
    assert client.get(url, headers=planner).json()["launch"] == ["family-stay"]
    launched = start(client, planner, {"scenario": "pooled-plus-10"})
    assert "family-stay" in {j["id"] for j in launched["journeys"]}
    assert all(x["journey"] != "family-stay" for x in launched["left_out"])

    headers = {**planner, "If-Match": etag_of(client, url, planner)}
    response = client.patch(url, json={"launch": []}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["launch"] == []
    again = start(client, planner, {"scenario": "pooled-plus-10"})
    assert "family-stay" not in {j["id"] for j in again["journeys"]}
    assert again["portfolio"]["value"] != launched["portfolio"]["value"]

    headers = {**planner, "If-Match": etag_of(client, url, planner)}
    bad = client.patch(url, json={"launch": ["nobody"]}, headers=headers)
    body = assert_problem(bad, 422)
    assert body["errors"] == [
        {
            "location": "document",
            "path": "scenarios[0].launch[0]",
            "message": "unknown journey 'nobody'",
        }
    ]
