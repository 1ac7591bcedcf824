"""The client (frontend/client.py) against the live API: what it reads, writes, and how every
failure becomes a sentence a person understands."""

import httpx2
import pytest

from frontend import client as client_module
from frontend.client import API_KEY_ENV, Api, ApiError
from tests.frontend.support import SONNENREISEN, LiveApi, free_port


def test_reads_whole_lists_across_pages(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = api.items(SONNENREISEN, "touchpoints")
    monkeypatch.setattr(client_module, "PAGE", 5)
    paged = api.items(SONNENREISEN, "touchpoints")
    assert len(everything) == 18
    assert [t["id"] for t in paged] == [t["id"] for t in everything]
    assert {p["id"] for p in api.portfolios()} >= {SONNENREISEN, "finanzhaus-2027"}


def test_runs_and_exports(api: Api) -> None:
    run = api.create_run(SONNENREISEN, scenario="pooled")
    assert run["status"] == "optimal"
    assert run["scenario_id"] == "pooled"
    assert api.run(run["run_id"])["portfolio"] == run["portfolio"]
    assert api.runs(SONNENREISEN, scenario="pooled")[0]["run_id"] == run["run_id"]
    csv = api.export(run["run_id"], "csv").decode()
    assert "search-ads" in csv
    assert api.export(run["run_id"], "xlsx")[:2] == b"PK"  # a zip: an Excel workbook
    plan = api.create_run(SONNENREISEN)
    comparison = api.compare(SONNENREISEN, [plan["run_id"], run["run_id"]])
    assert [r["value"] for r in comparison["runs"]] == [
        plan["portfolio"]["value"],
        run["portfolio"]["value"],
    ]
    with pytest.raises(ApiError) as caught:
        api.compare(SONNENREISEN, [run["run_id"], run["run_id"]])
    assert caught.value.problems == [f"runs[1]: run '{run['run_id']}' is named twice"]


def test_the_same_idempotency_key_gives_the_same_run(api: Api) -> None:
    first = api.create_run(SONNENREISEN, idempotency_key="client-test-once")
    again = api.create_run(SONNENREISEN, idempotency_key="client-test-once")
    assert again["run_id"] == first["run_id"]


def test_a_stale_etag_is_a_conflict_and_nothing_is_overwritten(api: Api) -> None:
    read = api.journey(SONNENREISEN, "kite-season-pass")
    api.update_journey(SONNENREISEN, "kite-season-pass", {"description": "theirs"}, etag=read.etag)
    with pytest.raises(ApiError) as caught:
        api.update_journey(SONNENREISEN, "kite-season-pass", {"lifecycle": "idea"}, etag=read.etag)
    assert caught.value.conflict
    assert "Someone else changed this since you opened it" in caught.value.message
    now = api.journey(SONNENREISEN, "kite-season-pass").body
    assert now["description"] == "theirs"
    assert now["lifecycle"] == read.body["lifecycle"]


def test_refused_changes_list_each_problem_with_its_path(api: Api) -> None:
    read = api.journey(SONNENREISEN, "kite-season-pass")
    links = [{**link, "weight": 0} for link in read.body["touchpoints"]]
    with pytest.raises(ApiError) as caught:
        api.update_journey(SONNENREISEN, "kite-season-pass", {"touchpoints": links}, etag=read.etag)
    assert caught.value.status == 422
    assert caught.value.summary.startswith("The change was refused while saving journey")
    assert caught.value.problems
    assert all(problem.startswith("touchpoints[") for problem in caught.value.problems)
    assert "- touchpoints[0].weight" in caught.value.message


def test_unknown_things_are_named(api: Api) -> None:
    with pytest.raises(ApiError, match="Not found while reading a run") as caught:
        api.run("no-such-run")
    assert caught.value.status == 404


def test_a_wrong_key_says_how_to_get_a_new_one(live: LiveApi) -> None:
    wrong = Api(live.url, "jf_not-a-key")
    with pytest.raises(ApiError, match="did not accept the app's key") as caught:
        wrong.portfolios()
    wrong.close()
    assert caught.value.status == 401
    assert "journeyfolio up" in caught.value.message


def test_an_api_that_does_not_answer_is_a_message() -> None:
    silent = Api(f"http://127.0.0.1:{free_port()}/api/v1", "jf_key")
    with pytest.raises(ApiError, match="does not answer") as caught:
        silent.portfolios()
    silent.close()
    assert caught.value.status is None
    assert "journeyfolio up" in caught.value.message


def test_a_missing_key_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with pytest.raises(ApiError, match="has no API key"):
        Api.from_env()


def test_error_pages_that_are_not_problem_json_are_still_explained() -> None:
    response = httpx2.Response(502, text="<html>bad gateway</html>")
    error = client_module._explain(response, "listing the portfolios")
    assert error.status == 502
    assert error.message == "The API failed while listing the portfolios (HTTP 502): Bad Gateway."
