"""Journey links and dependencies: CRUD, versions, and the rules they can break (a cycle,
a dangling reference, a stage the journey does not have, a journey without links)."""

from fastapi.testclient import TestClient

from tests.backend.support import Keys, assert_problem, audit_total, base, etag_of, export

LINKS = f"{base()}/journeys/family-booking/links"
DEPENDENCIES = f"{base()}/dependencies"


def test_list_and_read_links(client: TestClient, portfolio: str, keys: Keys) -> None:
    viewer = keys.headers("viewer")
    page = client.get(LINKS, headers=viewer).json()
    assert page["total"] == 4
    assert [link["touchpoint"] for link in page["items"]] == [
        "search-ads",
        "website",
        "hotline",
        "checkin",
    ]
    assert client.get(f"{LINKS}?offset=3", headers=viewer).json()["items"][0]["touchpoint"] == (
        "checkin"
    )
    response = client.get(f"{LINKS}/website", headers=viewer)
    assert response.json() == {
        "journey": "family-booking",
        "touchpoint": "website",
        "stage": "Buy",
        "weight": 4.0,
        "critical": True,
        "emotion": -1.0,
        "version": 1,
    }
    assert_problem(client.get(f"{LINKS}/app-guide", headers=viewer), 404, contains="no link")
    assert_problem(client.get(f"{base()}/journeys/nope/links", headers=viewer), 404)


def test_create_link(client: TestClient, portfolio: str, planner: dict) -> None:
    journey_tag = etag_of(client, f"{base()}/journeys/family-booking", planner)
    body = {"touchpoint": "app-guide", "stage": "Use", "weight": 0.5, "emotion": 2}
    response = client.post(LINKS, json=body, headers=planner)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{LINKS}/app-guide"
    assert response.json()["version"] == 1
    links = export(client, planner)["journeys"][0]["touchpoints"]
    assert links[-1] == {
        "touchpoint": "app-guide",
        "stage": "Use",
        "weight": 0.5,
        "critical": False,
        "emotion": 2.0,
    }
    # The journey changed with its links.
    assert etag_of(client, f"{base()}/journeys/family-booking", planner) != journey_tag
    assert_problem(client.post(LINKS, json=body, headers=planner), 409, contains="already")


def test_create_link_breaking_rules(client: TestClient, portfolio: str, planner: dict) -> None:
    before = export(client, planner)
    response = client.post(LINKS, json={"touchpoint": "nope"}, headers=planner)
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "location": "document",
            "path": "journeys[0].touchpoints[4].touchpoint",
            "message": "unknown touchpoint 'nope'",
        }
    ]
    response = client.post(
        LINKS, json={"touchpoint": "app-guide", "stage": "Dream"}, headers=planner
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "journeys[0].touchpoints[4].stage"
    response = client.post(LINKS, json={"touchpoint": "app-guide", "weight": 0}, headers=planner)
    body = assert_problem(response, 422)
    assert body["errors"][0] == {
        "location": "body",
        "path": "weight",
        "message": "Input should be greater than 0",
    }
    assert export(client, planner) == before


def test_update_link(client: TestClient, portfolio: str, planner: dict) -> None:
    url = f"{LINKS}/hotline"
    assert_problem(client.patch(url, json={"weight": 2}, headers=planner), 428)
    tag = etag_of(client, url, planner)
    response = client.patch(
        url,
        json={"weight": 2, "critical": True, "emotion": None},
        headers={**planner, "If-Match": tag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert "emotion" not in response.json()
    link = export(client, planner)["journeys"][0]["touchpoints"][2]
    assert link == {"touchpoint": "hotline", "stage": "Buy", "weight": 2.0, "critical": True}
    stale = client.patch(url, json={"weight": 3}, headers={**planner, "If-Match": tag})
    assert_problem(stale, 412)
    unknown = client.patch(
        url, json={"touchpoint": "website"}, headers={**planner, "If-Match": "*"}
    )
    assert_problem(unknown, 422)


def test_delete_link(client: TestClient, portfolio: str, planner: dict) -> None:
    url = f"{LINKS}/hotline"
    response = client.delete(url, headers={**planner, "If-Match": etag_of(client, url, planner)})
    assert response.status_code == 204
    assert [
        link["touchpoint"] for link in export(client, planner)["journeys"][0]["touchpoints"]
    ] == [
        "search-ads",
        "website",
        "checkin",
    ]
    assert_problem(client.get(url, headers=planner), 404)


def test_the_last_link_cannot_go(client: TestClient, portfolio: str, planner: dict) -> None:
    links = f"{base()}/journeys/couple-weekend/links"
    first = f"{links}/search-ads"
    assert client.delete(first, headers={**planner, "If-Match": "*"}).status_code == 204
    events = audit_total(client, planner)
    response = client.delete(f"{links}/website", headers={**planner, "If-Match": "*"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["path"] == "journeys[2].touchpoints"
    assert client.get(links, headers=planner).json()["total"] == 1
    assert audit_total(client, planner) == events


def test_dependencies_crud(client: TestClient, portfolio: str, planner: dict) -> None:
    page = client.get(DEPENDENCIES, headers=planner).json()
    assert page["items"] == [{"touchpoint": "app-guide", "requires": "website", "version": 1}]
    response = client.post(
        DEPENDENCIES, json={"touchpoint": "checkin", "requires": "hotline"}, headers=planner
    )
    assert response.status_code == 201, response.text
    url = f"{DEPENDENCIES}/checkin/hotline"
    assert response.headers["Location"] == url
    assert export(client, planner)["dependencies"][-1] == {
        "touchpoint": "checkin",
        "requires": "hotline",
    }
    again = client.post(
        DEPENDENCIES, json={"touchpoint": "checkin", "requires": "hotline"}, headers=planner
    )
    assert_problem(again, 409)

    tag = etag_of(client, url, planner)
    moved = client.patch(url, json={"requires": "website"}, headers={**planner, "If-Match": tag})
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"touchpoint": "checkin", "requires": "website", "version": 2}
    assert moved.headers["Content-Location"] == f"{DEPENDENCIES}/checkin/website"
    assert_problem(client.get(url, headers=planner), 404)

    new_url = f"{DEPENDENCIES}/checkin/website"
    onto_existing = client.patch(
        new_url,
        json={"touchpoint": "app-guide"},
        headers={**planner, "If-Match": moved.headers["ETag"]},
    )
    assert_problem(onto_existing, 409)
    gone = client.delete(new_url, headers={**planner, "If-Match": moved.headers["ETag"]})
    assert gone.status_code == 204
    assert len(export(client, planner)["dependencies"]) == 1


def test_dependency_cycle_is_refused(client: TestClient, portfolio: str, planner: dict) -> None:
    before = export(client, planner)
    response = client.post(
        DEPENDENCIES, json={"touchpoint": "website", "requires": "app-guide"}, headers=planner
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "location": "document",
            "path": "dependencies",
            "message": "dependencies form a cycle: app-guide -> website -> app-guide",
        }
    ]
    response = client.post(
        DEPENDENCIES, json={"touchpoint": "hotline", "requires": "hotline"}, headers=planner
    )
    assert "requires itself" in assert_problem(response, 422)["errors"][0]["message"]
    response = client.post(
        DEPENDENCIES, json={"touchpoint": "hotline", "requires": "nope"}, headers=planner
    )
    assert assert_problem(response, 422)["errors"][0]["path"] == "dependencies[1].requires"
    assert export(client, planner) == before


def test_deleting_a_touchpoint_that_is_required_is_refused(
    client: TestClient, portfolio: str, planner: dict
) -> None:
    # app-guide requires website and family-stay links app-guide.
    url = f"{base()}/touchpoints/app-guide"
    response = client.delete(url, headers={**planner, "If-Match": "*"})
    paths = [e["path"] for e in assert_problem(response, 422)["errors"]]
    assert paths == ["dependencies[0].touchpoint", "journeys[1].touchpoints[1].touchpoint"]
