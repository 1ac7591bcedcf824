"""Jobs through the API, done by a real huey consumer (its worker threads in this process,
on the embedded SQLite queue), on SQLite and PostgreSQL: every kind to the end, progress,
cancel (queued and running), failure as problem+json, listing, roles, the size rule of
POST .../runs, a restart, and a worker that dies in the middle of a job."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend import jobs
from backend.config import Settings
from backend.main import create_app
from backend.models import Job
from backend.worker import embedded_worker
from optimizer.generate import generate_document
from tests.backend.conftest import make_settings
from tests.backend.support import API, Keys, assert_problem, base

FINISHED = {"done", "failed", "cancelled"}


def wait_for(
    client: TestClient,
    job_id: str,
    headers: dict[str, str],
    until: set[str] = FINISHED,
    timeout: float = 120,
    seen: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Poll the job until its status is in `until`; every answer goes to `seen`."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{API}/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job = response.json()
        if seen is not None:
            seen.append(job)
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}: {job}"
        time.sleep(0.05)


def start(
    client: TestClient, headers: dict[str, str], body: dict[str, Any], portfolio: str = ""
) -> str:
    response = client.post(
        f"{base(portfolio or 'strandhaus-2027')}/jobs", json=body, headers=headers
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"{API}/jobs/{job['job_id']}"
    assert job["status"] == "queued"
    assert job["progress"] == 0
    return str(job["job_id"])


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
        job_heartbeat_seconds=0.2,
        job_stale_seconds=1.5,
    )


@pytest.fixture
def worker(app: FastAPI) -> Iterator[jobs.JobQueue]:
    """huey's consumer on the app's queue: real worker threads take the jobs."""
    with embedded_worker(app.state.queue) as queue:
        yield queue


def test_a_run_job_stores_the_run_that_post_runs_would(
    client: TestClient, portfolio: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    owner = keys.headers("owner")
    job_id = start(client, owner, {"kind": "run", "scenario": "pooled-plus-10"})
    job = wait_for(client, job_id, owner)
    assert job["status"] == "done", job
    assert job["progress"] == 1
    assert job["attempts"] == 1
    assert job["links"]["run"] == f"{API}/runs/{job['run_id']}"
    run = client.get(job["links"]["run"], headers=owner).json()
    assert run["status"] == "optimal"
    assert job["result"]["run_id"] == run["run_id"] == job["run_id"]
    assert job["result"]["value"] == run["portfolio"]["value"]
    assert job["input_sha256"] == run["input_sha256"]
    # the synchronous route finds the same input stored: the job's run, not a new one
    again = client.post(f"{base()}/runs", json={"scenario": "pooled-plus-10"}, headers=owner)
    assert again.status_code == 200, again.text
    assert again.json()["run_id"] == run["run_id"]
    result = client.get(f"{API}/jobs/{job_id}/result", headers=owner)
    assert result.status_code == 200
    assert result.json()["run_id"] == run["run_id"]


def test_frontier_job_reports_progress_and_matches_the_optimizer(
    client: TestClient, portfolio: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    from optimizer.document import load_document
    from optimizer.frontier import frontier
    from optimizer.problem import resolve
    from tests.backend.support import STRANDHAUS

    planner = keys.headers("planner")
    seen: list[dict[str, Any]] = []
    job_id = start(client, planner, {"kind": "frontier", "points": 9})
    job = wait_for(client, job_id, planner, seen=seen)
    assert job["status"] == "done", job
    progress = [j["progress"] for j in seen]
    assert progress == sorted(progress)
    assert all(0 <= p <= 1 for p in progress)
    result = job["result"]
    assert result["format"] == "journeyfolio-frontier/v1"
    expected = frontier(resolve(load_document(STRANDHAUS), None), points=9)
    assert [p["budget"] for p in result["points"]] == [p.budget for p in expected.points]
    assert [p["value"] for p in result["points"]] == pytest.approx(
        [p.value for p in expected.points], rel=1e-6
    )
    assert result["knee"] == pytest.approx(expected.knee, rel=1e-6)
    assert job["result_sha256"]
    assert len(job["input_sha256"]) == 64


def test_robustness_job(
    client: TestClient, portfolio: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    planner = keys.headers("planner")
    job_id = start(
        client, planner, {"kind": "robustness", "samples": 600, "spread": 0.3, "seed": 7}
    )
    job = wait_for(client, job_id, planner)
    assert job["status"] == "done", job
    result = job["result"]
    assert (result["samples"], result["spread"], result["seed"]) == (600, 0.3, 7)
    assert result["optimum"]["p10"] <= result["optimum"]["p50"] <= result["optimum"]["p90"]
    assert 0 <= result["optimum_beats_silo"] <= 1
    assert job["parameters"] == {"kind": "robustness", "samples": 600, "spread": 0.3, "seed": 7}


def test_bridge_jobs_between_runs_and_pooled(
    client: TestClient, portfolio: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    planner = keys.headers("planner")
    a = client.post(f"{base()}/runs", json={}, headers=planner).json()["run_id"]
    b = client.post(f"{base()}/runs", json={"scenario": "pooled-plus-10"}, headers=planner)
    b_id = b.json()["run_id"]
    job = wait_for(
        client, start(client, planner, {"kind": "bridge", "from": a, "to": b_id}), planner
    )
    assert job["status"] == "done", job
    direct = client.get(f"{base()}/bridge?from={a}&to={b_id}", headers=planner).json()
    assert job["result"]["total"] == direct["total"]
    assert [s["value_change"] for s in job["result"]["steps"]] == [
        s["value_change"] for s in direct["steps"]
    ]
    pooled = wait_for(client, start(client, planner, {"kind": "bridge", "percent": 10}), planner)
    assert pooled["status"] == "done", pooled
    assert pooled["result"] == client.get(f"{base()}/bridge/pooled", headers=planner).json()
    # one end without the other, or a run the portfolio does not have: refused at once
    assert_problem(
        client.post(f"{base()}/jobs", json={"kind": "bridge", "from": a}, headers=planner), 422
    )
    assert_problem(
        client.post(
            f"{base()}/jobs", json={"kind": "bridge", "from": a, "to": "nope"}, headers=planner
        ),
        404,
        contains="'nope'",
    )


def test_a_failed_job_says_why_as_problem_json(
    client: TestClient, portfolio: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    planner = keys.headers("planner")
    job_id = start(client, planner, {"kind": "run", "locks": {"no-such-touchpoint": 5}})
    job = wait_for(client, job_id, planner)
    assert job["status"] == "failed"
    assert job["result"] is None
    error = job["error"]
    assert error["status"] == 422
    assert "do not fit the portfolio" in error["detail"]
    assert any("no-such-touchpoint" in item["message"] for item in error["errors"])
    response = client.get(f"{API}/jobs/{job_id}/result", headers=planner)
    body = assert_problem(response, 422, contains="do not fit the portfolio")
    assert body["instance"] == f"{API}/jobs/{job_id}/result"
    # a frontier varies the budget, which min_spend has not
    frontier = wait_for(
        client, start(client, planner, {"kind": "frontier", "mode": "min_spend"}), planner
    )
    assert frontier["status"] == "failed"
    assert "mode min_spend" in frontier["error"]["detail"]
    # refused before queueing: an unknown scenario, a bad parameter, an unknown kind
    for body, status in (
        ({"kind": "run", "scenario": "nope"}, 422),
        ({"kind": "frontier", "points": 0}, 422),
        ({"kind": "sleep"}, 422),
        ({"kind": "robustness", "samples": "many"}, 422),
    ):
        assert_problem(client.post(f"{base()}/jobs", json=body, headers=planner), status)
    assert_problem(client.get(f"{API}/jobs/nope", headers=planner), 404)


def test_cancel_a_queued_job(client: TestClient, app: FastAPI, portfolio: str, keys: Keys) -> None:
    planner = keys.headers("planner")
    job_id = start(client, planner, {"kind": "frontier"})  # no worker yet: it waits
    response = client.delete(f"{API}/jobs/{job_id}", headers=planner)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert_problem(
        client.delete(f"{API}/jobs/{job_id}", headers=planner), 409, contains="cancelled"
    )
    assert_problem(client.get(f"{API}/jobs/{job_id}/result", headers=planner), 409)
    with embedded_worker(app.state.queue):
        later = start(client, planner, {"kind": "run"})
        assert wait_for(client, later, planner)["status"] == "done"
    job = client.get(f"{API}/jobs/{job_id}", headers=planner).json()
    assert job["status"] == "cancelled"
    assert job["attempts"] == 0  # the worker dropped its message


@pytest.fixture
def big(client: TestClient, keys: Keys) -> str:
    """A generated 300 x 150 portfolio: long enough a robustness run to cancel it."""
    data = generate_document(300, 150, 5)
    response = client.post(f"{API}/portfolios", json=data, headers=keys.headers("planner"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_cancel_a_running_job_stops_it_at_its_next_progress_point(
    client: TestClient, big: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    planner = keys.headers("planner")
    job_id = start(client, planner, {"kind": "robustness", "samples": 100_000}, big)
    running = wait_for(client, job_id, planner, until={"running"} | FINISHED)
    assert running["status"] == "running"
    while running["progress"] < 0.35:  # sampling has begun
        running = wait_for(client, job_id, planner, until={"running"} | FINISHED)
        assert running["status"] == "running"
    response = client.delete(f"{API}/jobs/{job_id}", headers=planner)
    assert response.status_code == 202, response.text
    assert response.json()["cancel_requested"] is True
    job = wait_for(client, job_id, planner)
    assert job["status"] == "cancelled"
    assert job["progress"] < 1
    assert job["result"] is None
    assert job["finished_at"]


def test_listing_and_roles(
    client: TestClient, portfolio: str, keys: Keys, worker: jobs.JobQueue
) -> None:
    planner, owner, viewer = (keys.headers(r) for r in ("planner", "owner", "viewer"))
    assert_problem(client.post(f"{base()}/jobs", json={"kind": "run"}, headers=viewer), 403)
    assert_problem(client.post(f"{base()}/jobs", json={"kind": "run"}), 401)
    first = start(client, planner, {"kind": "run"})
    second = start(client, owner, {"kind": "frontier", "points": 3})
    for job_id in (first, second):
        assert wait_for(client, job_id, viewer)["status"] == "done"
    listing = client.get(f"{base()}/jobs", headers=viewer).json()
    assert listing["total"] == 2
    assert [j["job_id"] for j in listing["items"]] == [second, first]
    assert "result" not in listing["items"][0]
    assert listing["items"][0]["created_by"] == "anna <anna.berg@strandhaus.example>"
    only = client.get(f"{base()}/jobs?kind=run&status=done", headers=viewer).json()
    assert [j["job_id"] for j in only["items"]] == [first]
    assert client.get(f"{base()}/jobs?status=running", headers=viewer).json()["total"] == 0
    assert_problem(client.get(f"{base('nope')}/jobs", headers=viewer), 404)
    # an owner cancels only their own jobs; the viewer none
    queued = start(client, planner, {"kind": "robustness", "samples": 10})
    other = client.delete(f"{API}/jobs/{queued}", headers=owner)
    assert other.status_code in (403, 409), other.text  # 409 when it has finished already
    assert_problem(client.delete(f"{API}/jobs/{queued}", headers=viewer), 403)
    audit = client.get(f"{base()}/audit", headers=viewer).json()["items"]
    assert {(e["action"], e["entity_id"]) for e in audit} >= {("job", first), ("job", second)}


def test_post_runs_queues_a_large_portfolio(
    database_url: str, tmp_path: Path, portfolio: str, keys: Keys
) -> None:
    """Above the size rule (touchpoints x journeys > sync_run_max_size) POST .../runs
    answers 202 with a run job; below it, 201 as before."""
    settings = make_settings(
        database_url, queue_url=f"sqlite:///{tmp_path / 'queue.db'}", sync_run_max_size=5 * 3 - 1
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client, embedded_worker(app.state.queue):
            owner = keys.headers("owner")
            response = client.post(f"{base()}/runs", json={"budget": 800000}, headers=owner)
            assert response.status_code == 202, response.text
            job = response.json()
            assert job["kind"] == "run"
            assert job["parameters"] == {"kind": "run", "budget": 800000}
            assert response.headers["Location"] == f"{API}/jobs/{job['job_id']}"
            done = wait_for(client, job["job_id"], owner)
            assert done["status"] == "done", done
            run = client.get(done["links"]["run"], headers=owner).json()
            assert run["portfolio"]["budget"] == 800000
    finally:
        app.state.engine.dispose()


def test_jobs_survive_a_restart(
    database_url: str, settings: Settings, portfolio: str, keys: Keys, client: TestClient
) -> None:
    """Results stay stored; a job queued when the server stopped is done by the next worker."""
    planner = keys.headers("planner")
    done_id = start(client, planner, {"kind": "frontier", "points": 3})
    app = client.app
    assert isinstance(app, FastAPI)
    with embedded_worker(app.state.queue):
        before = wait_for(client, done_id, planner)
    waiting = start(client, planner, {"kind": "robustness", "samples": 50})
    app.state.engine.dispose()

    again = create_app(settings)
    try:
        with TestClient(again) as fresh:
            after = fresh.get(f"{API}/jobs/{done_id}", headers=planner).json()
            assert after == before
            assert fresh.get(f"{API}/jobs/{waiting}", headers=planner).json()["status"] == "queued"
            with embedded_worker(again.state.queue):
                assert wait_for(fresh, waiting, planner)["status"] == "done"
    finally:
        again.state.engine.dispose()


def test_a_job_whose_worker_died_is_started_again(
    app: FastAPI, client: TestClient, portfolio: str, keys: Keys
) -> None:
    """A worker claims a job and dies before it ends (no heartbeat any more): the next
    worker's look for lost jobs queues it again, and it is done on the second start."""
    planner = keys.headers("planner")
    job_id = start(client, planner, {"kind": "run"})
    queue: jobs.JobQueue = app.state.queue
    assert job_id in queue.pending_ids()
    # what a worker does first with a message; this one then "dies"
    message = queue.huey.dequeue()
    assert message.args == (job_id,)
    assert jobs.claim(queue.engine, job_id) is not None
    assert wait_for(client, job_id, planner, until={"running"})["attempts"] == 1
    time.sleep(1.6)  # job_stale_seconds without a heartbeat
    with embedded_worker(queue):
        job = wait_for(client, job_id, planner)
    assert job["status"] == "done", job
    assert job["attempts"] == 2


def test_a_job_is_failed_when_its_workers_keep_dying(
    database_url: str, tmp_path: Path, portfolio: str, keys: Keys
) -> None:
    settings = make_settings(
        database_url,
        queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
        job_heartbeat_seconds=0.2,
        job_stale_seconds=1.0,
        job_max_attempts=1,
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            planner = keys.headers("planner")
            job_id = start(client, planner, {"kind": "run"})
            queue: jobs.JobQueue = app.state.queue
            queue.huey.dequeue()
            attempt = jobs.claim(queue.engine, job_id)
            assert attempt is not None
            time.sleep(1.1)
            assert jobs.reap(queue) == [job_id]
            job = client.get(f"{API}/jobs/{job_id}", headers=planner).json()
            assert job["status"] == "failed"
            assert job["error"]["title"] == "Worker lost"
            assert "stopped answering" in job["error"]["detail"]
            assert "given up after 1 start(s)" in job["message"]
            # asking for its result is not a server error: 409 with the job's problem
            result = client.get(f"{API}/jobs/{job_id}/result", headers=planner)
            body = assert_problem(result, 409)
            assert (body["title"], body["job_status"]) == ("Worker lost", 500)
            assert "stopped answering" in body["detail"]
            # the lost attempt cannot write any more
            assert not attempt.update(progress=0.5)
            with Session(queue.engine) as session:
                row = session.exec(select(Job).where(Job.id == job_id)).one()
                assert row.progress == 0
    finally:
        app.state.engine.dispose()
