"""Portfolios: import, list, read, change, delete, export, audit; health; errors."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import make_settings
from tests.backend.support import (
    API,
    STRANDHAUS,
    Keys,
    assert_problem,
    audit_total,
    base,
    etag_of,
    export,
    strandhaus,
)


def test_health_needs_no_key(client: TestClient) -> None:
    for path in ("health", "ready"):
        response = client.get(f"{API}/{path}")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["database"] in ("sqlite", "postgresql")


def test_import_then_read(client: TestClient, keys: Keys) -> None:
    response = client.post(f"{API}/portfolios", json=strandhaus(), headers=keys.headers("planner"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == "strandhaus-2027"
    assert (body["departments"], body["touchpoints"], body["journeys"]) == (3, 5, 3)
    assert body["version"] == 1
    assert body["created_by"] == "leadership"
    assert response.headers["Location"] == f"{API}/portfolios/strandhaus-2027"
    assert response.headers["ETag"]

    response = client.get(base(), headers=keys.headers("viewer"))
    assert response.status_code == 200
    assert response.json() == body
    assert response.headers["ETag"] == etag_of(client, base(), keys.headers("viewer"))


def test_export_equals_import(client: TestClient, portfolio: str, keys: Keys) -> None:
    assert export(client, keys.headers("viewer")) == strandhaus()


def test_import_existing_id_is_409(client: TestClient, portfolio: str, planner: dict) -> None:
    response = client.post(f"{API}/portfolios", json=strandhaus(), headers=planner)
    assert_problem(response, 409, contains="exists already")


def test_import_invalid_document_names_every_problem(client: TestClient, planner: dict) -> None:
    data = strandhaus()
    data["journeys"][2]["touchpoints"][0]["wieght"] = 2
    data["touchpoints"][1]["curve"] = {"points": [[0, 0.1], [10, 0.5], [20, 0.6], [30, 0.9]]}
    response = client.post(f"{API}/portfolios", json=data, headers=planner)
    body = assert_problem(response, 422)
    found = {(e["path"], e["message"]) for e in body["errors"]}
    assert ("journeys[2].touchpoints[0].wieght", "unknown key") in found
    refused = "slope increases after falling, so the curve is neither concave nor S-shaped"
    assert any(
        path == "touchpoints[1].curve.points[3]" and message.startswith(refused)
        for path, message in found
    )
    assert client.get(f"{API}/portfolios", headers=planner).json()["total"] == 0


def test_import_dangling_reference_is_422(client: TestClient, planner: dict) -> None:
    data = strandhaus()
    data["touchpoints"][0]["department"] = "finance"
    body = assert_problem(client.post(f"{API}/portfolios", json=data, headers=planner), 422)
    assert body["errors"] == [
        {
            "location": "body",
            "path": "touchpoints[0].department",
            "message": "unknown department 'finance'",
        }
    ]


def test_import_over_the_size_limit_is_422(database_url: str, planner: dict) -> None:
    with small_client(database_url, max_touchpoints=4) as client:
        response = client.post(f"{API}/portfolios", json=strandhaus(), headers=planner)
        body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "touchpoints"
    assert "exceed the limit of 4" in body["errors"][0]["message"]


def test_request_too_large_is_413(database_url: str, planner: dict) -> None:
    with small_client(database_url, max_request_bytes=1000) as client:
        response = client.post(f"{API}/portfolios", json=strandhaus(), headers=planner)
        assert_problem(response, 413, contains="1000 bytes")
        # Also when the body comes in chunks without a Content-Length.
        chunks = (bytes([b]) * 400 for b in b"abc")
        response = client.post(f"{API}/portfolios", content=chunks, headers=planner)
        assert_problem(response, 413)
        assert client.get(f"{API}/portfolios", headers=planner).json()["total"] == 0


@contextmanager
def small_client(database_url: str, **limits: Any) -> Iterator[TestClient]:
    app = create_app(make_settings(database_url, **limits))
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.engine.dispose()


def test_malformed_json_is_400(client: TestClient, planner: dict) -> None:
    response = client.post(
        f"{API}/portfolios",
        content=b'{"id": "x", ',
        headers={**planner, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, contains="not valid JSON")


def test_wrong_types_are_422_not_coerced(client: TestClient, planner: dict) -> None:
    data = strandhaus()
    data["budget"] = "900000"
    body = assert_problem(client.post(f"{API}/portfolios", json=data, headers=planner), 422)
    assert body["errors"][0]["path"] == "budget"


def test_list_is_paginated_with_a_total(client: TestClient, planner: dict) -> None:
    for name in ("a", "b", "c"):
        data = {**strandhaus(), "id": f"portfolio-{name}"}
        assert client.post(f"{API}/portfolios", json=data, headers=planner).status_code == 201
    page = client.get(f"{API}/portfolios?offset=1&limit=1", headers=planner).json()
    assert page["total"] == 3
    assert [p["id"] for p in page["items"]] == ["portfolio-b"]
    assert (page["offset"], page["limit"]) == (1, 1)
    assert_problem(client.get(f"{API}/portfolios?limit=0", headers=planner), 422)


def test_unknown_portfolio_is_404(client: TestClient, keys: Keys) -> None:
    for url in (base("nope"), f"{base('nope')}/document", f"{base('nope')}/audit"):
        assert_problem(client.get(url, headers=keys.headers("viewer")), 404, contains="nope")


def test_unknown_route_and_method_are_problems(client: TestClient, keys: Keys) -> None:
    assert_problem(client.get(f"{API}/nothing", headers=keys.headers("viewer")), 404)
    assert_problem(client.put(f"{API}/portfolios", headers=keys.headers("viewer")), 405)


def test_patch_portfolio(client: TestClient, portfolio: str, planner: dict) -> None:
    assert_problem(client.patch(base(), json={"budget": 1}, headers=planner), 428)
    stale = {**planner, "If-Match": '"1.0"'}
    assert_problem(client.patch(base(), json={"budget": 1}, headers=stale), 412)
    tag = etag_of(client, base(), planner)
    response = client.patch(
        base(), json={"budget": 950000, "description": None}, headers={**planner, "If-Match": tag}
    )
    assert response.status_code == 200, response.text
    assert response.json()["budget"] == 950000
    assert response.json()["description"] is None
    assert response.headers["ETag"] != tag
    document = export(client, planner)
    assert document["budget"] == 950000
    assert "description" not in document


def test_patch_portfolio_rejects_unknown_fields(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    tag = etag_of(client, base(), planner)
    response = client.patch(base(), json={"id": "other"}, headers={**planner, "If-Match": tag})
    body = assert_problem(response, 422)
    assert body["errors"] == [{"location": "body", "path": "id", "message": "unknown key"}]


def test_delete_portfolio(client: TestClient, portfolio: str, planner: dict) -> None:
    assert_problem(client.delete(base(), headers=planner), 428)
    assert_problem(client.delete(base(), headers={**planner, "If-Match": '"0.0"'}), 412)
    tag = etag_of(client, base(), planner)
    assert client.delete(base(), headers={**planner, "If-Match": tag}).status_code == 204
    assert_problem(client.get(base(), headers=planner), 404)
    # Everything inside went with it, and the id is free again.
    response = client.post(f"{API}/portfolios", json=strandhaus(), headers=planner)
    assert response.status_code == 201
    assert client.get(f"{base()}/journeys", headers=planner).json()["total"] == 3


def test_every_change_is_in_the_audit_log(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    url = f"{base()}/departments/marketing"
    tag = etag_of(client, url, planner)
    client.patch(url, json={"budget": 410000}, headers={**planner, "If-Match": tag})
    log = client.get(f"{base()}/audit", headers=keys.headers("viewer")).json()
    assert log["total"] == 2
    newest = log["items"][0]
    assert (newest["action"], newest["entity"], newest["entity_id"]) == (
        "update",
        "department",
        "marketing",
    )
    assert newest["actor"] == "leadership"
    assert newest["role"] == "planner"
    assert newest["before"]["budget"] == 400000
    assert newest["after"]["budget"] == 410000
    assert log["items"][1]["action"] == "import"
    filtered = client.get(f"{base()}/audit?entity=department", headers=planner).json()
    assert filtered["total"] == 1


def test_audit_outlives_the_portfolio(client: TestClient, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    assert client.delete(base(), headers={**planner, "If-Match": "*"}).status_code == 204
    log = client.get(f"{base()}/audit", headers=keys.headers("viewer")).json()
    assert [(e["action"], e["entity"]) for e in log["items"]] == [
        ("delete", "portfolio"),
        ("import", "portfolio"),
    ]
    assert log["items"][0]["before"]["journeys"] == 3
    assert log["items"][0]["after"] is None


def test_unexpected_error_is_a_plain_500_problem(app: Any, keys: Keys) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    app.router.routes.append(APIRoute("/api/v1/broken", broken, methods=["GET"]))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/broken", headers=keys.headers("viewer"))
    body = assert_problem(response, 500, contains="unexpected error")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert body["instance"] == "/api/v1/broken"


def test_health_says_when_the_database_is_gone(tmp_path: Any) -> None:
    app = create_app(make_settings("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        with TestClient(app) as client:
            assert client.get(f"{API}/health").status_code == 200  # the API itself is up
            response = client.get(f"{API}/ready")
            assert_problem(response, 503, contains="database does not answer")
            response = client.get(f"{API}/portfolios", headers={"Authorization": "Bearer jf_x"})
            assert_problem(response, 503, contains="retry")
    finally:
        app.state.engine.dispose()


def test_idempotent_import(client: TestClient, planner: dict) -> None:
    headers = {**planner, "Idempotency-Key": "import-1"}
    first = client.post(f"{API}/portfolios", json=strandhaus(), headers=headers)
    assert first.status_code == 201
    again = client.post(f"{API}/portfolios", json=strandhaus(), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert audit_total(client, planner) == 1
    other = {**strandhaus(), "name": "Another name"}
    assert_problem(
        client.post(f"{API}/portfolios", json=other, headers=headers), 422, contains="another"
    )


def test_openapi_declares_problem_responses(client: TestClient) -> None:
    schema = client.get(f"{API}/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    operation = schema["paths"][f"{API}/portfolios/{{portfolio_id}}/journeys/{{journey_id}}"]
    for code in ("401", "403", "404", "412", "422", "428"):
        content = operation["patch"]["responses"][code]["content"]
        assert content == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }


def test_nul_characters_are_refused_everywhere(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    before = export(client, planner)
    response = client.post(
        f"{base()}/departments", json={"id": "nul", "name": "a\x00b"}, headers=planner
    )
    body = assert_problem(response, 422, contains="NUL")
    assert body["errors"] == [
        {"location": "body", "path": "name", "message": "contains a NUL character"}
    ]
    document = {**strandhaus(), "id": "nul-2027"}
    document["journeys"][1]["kpis"] = [{"name": "Q\x00"}]
    response = client.post(f"{API}/portfolios", json=document, headers=planner)
    assert assert_problem(response, 422)["errors"][0]["path"] == "journeys[1].kpis[0].name"
    response = client.get(f"{base()}/audit?entity=a%00b", headers=planner)
    assert assert_problem(response, 422)["errors"][0]["location"] == "query"
    response = client.get(f"{API}/portfolios/a%00b", headers=planner)
    assert assert_problem(response, 422)["errors"][0]["location"] == "path"
    assert export(client, planner) == before


# ------------------------------------------------------------------ YAML over the API


def yaml_headers(headers: dict[str, str], kind: str = "application/yaml") -> dict[str, str]:
    return {**headers, "Content-Type": kind}


def test_import_yaml_equals_import_json(client: TestClient, keys: Keys) -> None:
    text = STRANDHAUS.read_text(encoding="utf-8")
    planner = keys.headers("planner")
    response = client.post(f"{API}/portfolios", content=text, headers=yaml_headers(planner))
    assert response.status_code == 201, response.text
    assert response.json()["id"] == "strandhaus-2027"
    assert export(client, keys.headers("viewer")) == strandhaus()


def test_export_as_yaml_imports_again(client: TestClient, portfolio: str, keys: Keys) -> None:
    viewer = keys.headers("viewer")
    response = client.get(f"{base()}/document", headers={**viewer, "Accept": "application/yaml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.headers["content-disposition"].endswith('.yaml"')
    assert response.headers["ETag"] == etag_of(client, base(), viewer)
    assert yaml.safe_load(response.text) == strandhaus()
    # the same text imports as another portfolio
    data = yaml.safe_load(response.text)
    data["id"] = "strandhaus-copy"
    copy = yaml.safe_dump(data, allow_unicode=True)
    planner = keys.headers("planner")
    response = client.post(f"{API}/portfolios", content=copy, headers=yaml_headers(planner))
    assert response.status_code == 201, response.text
    again = export(client, viewer, "strandhaus-copy")
    assert {k: v for k, v in again.items() if k != "id"} == {
        k: v for k, v in strandhaus().items() if k != "id"
    }


def test_yaml_with_anchors_is_the_data_it_stands_for(client: TestClient, keys: Keys) -> None:
    expected = strandhaus()
    expected["touchpoints"][1]["curve"] = expected["touchpoints"][0]["curve"]
    text = yaml.safe_dump(expected, sort_keys=False, allow_unicode=True)
    # PyYAML writes the one curve once, with an anchor, and the second time as an alias
    assert "&id001" in text
    assert "*id001" in text
    planner = keys.headers("planner")
    response = client.post(f"{API}/portfolios", content=text, headers=yaml_headers(planner))
    assert response.status_code == 201, response.text
    assert export(client, keys.headers("viewer")) == expected


def test_yaml_alias_bomb_is_413_before_any_work(client: TestClient, keys: Keys) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    body = "\n".join(lines)
    assert len(body) < 1_000  # a kilobyte that stands for 10^9 values
    response = client.post(
        f"{API}/portfolios", content=body, headers=yaml_headers(keys.headers("planner"))
    )
    assert_problem(response, 413, contains="aliases repeat more than 100,000 values")
    assert client.get(f"{API}/portfolios", headers=keys.headers("viewer")).json()["total"] == 0


def test_bad_yaml_is_400_naming_line_and_why(client: TestClient, keys: Keys) -> None:
    planner = keys.headers("planner")
    cases = [
        ("id: a\nname: [unclosed\n", "invalid YAML at line"),
        ("id: a\nid: b\n", "the key 'id' appears twice in one mapping at line 2"),
        ("!!python/object/apply:os.system ['true']\n", "invalid YAML"),
        ("a: " + "[" * 80 + "]" * 80, "nested too deeply"),
    ]
    for body, message in cases:
        for kind in ("application/yaml", "text/yaml", "application/x-yaml"):
            response = client.post(
                f"{API}/portfolios", content=body, headers=yaml_headers(planner, kind)
            )
            status = 413 if "deeply" in message else 400
            assert_problem(response, status, contains=message)


def test_yaml_document_problems_have_the_same_paths_as_json(client: TestClient, keys: Keys) -> None:
    data = strandhaus()
    data["touchpoints"][1]["max_spend"] = -5
    planner = keys.headers("planner")
    as_json = client.post(f"{API}/portfolios", json=data, headers=planner)
    as_yaml = client.post(
        f"{API}/portfolios",
        content=yaml.safe_dump(data, allow_unicode=True),
        headers=yaml_headers(planner),
    )
    assert as_json.status_code == as_yaml.status_code == 422
    assert as_json.json()["errors"] == as_yaml.json()["errors"]
