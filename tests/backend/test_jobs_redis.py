"""The scaled setup for real: the API (in this process) puts jobs on Redis, two `journeyfolio
worker` processes share them and PostgreSQL; one worker is killed (SIGKILL) in the middle
of a job, and the other takes the job over.

Needs PostgreSQL (JOURNEYFOLIO_TEST_POSTGRES_URL) and the Redis on 127.0.0.1:6379: with the
variable set, a Redis that does not answer is a failure, not a skip. Each test has a queue
of its own (a unique name), emptied at the end.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.config import Settings
from backend.db import make_engine
from backend.main import create_app
from backend.models import Job
from optimizer.generate import generate_document
from tests.backend.conftest import POSTGRES_ENV, _empty, make_keys
from tests.backend.support import API, ROOT, Keys, strandhaus

REDIS_URL = os.environ.get("JOURNEYFOLIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FINISHED = {"done", "failed", "cancelled"}


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} does not answer: {error}"
        if os.environ.get(POSTGRES_ENV):
            pytest.fail(f"{POSTGRES_ENV} is set (CI) but {message}", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def scaled(postgres_url: str, redis_url: str) -> Iterator[Settings]:
    """Settings of the scaled setup: PostgreSQL, a queue of this test's own on Redis."""
    settings = Settings(
        database_url=postgres_url,
        queue_url=redis_url,
        queue_name=f"jf-test-{uuid.uuid4().hex[:12]}",
        job_heartbeat_seconds=0.3,
        job_stale_seconds=3.0,
        solver_time_limit=60,
    )
    yield settings
    from backend.queue import make_huey

    make_huey(settings).flush()
    engine = make_engine(postgres_url)
    _empty(engine)
    engine.dispose()


@dataclass
class Worker:
    """A `journeyfolio worker` process and what it printed."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


def start_worker(settings: Settings) -> Worker:
    env = {
        **os.environ,
        "JOURNEYFOLIO_DATABASE_URL": settings.database_url,
        "JOURNEYFOLIO_QUEUE_URL": settings.queue_location(),
        "JOURNEYFOLIO_QUEUE_NAME": settings.queue_name,
        "JOURNEYFOLIO_JOB_HEARTBEAT_SECONDS": str(settings.job_heartbeat_seconds),
        "JOURNEYFOLIO_JOB_STALE_SECONDS": str(settings.job_stale_seconds),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "worker"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    worker = Worker(process)
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            worker.lines.append(line.rstrip())
            if line.startswith("journeyfolio worker:"):
                ready.set()

    worker.reader = threading.Thread(target=read, daemon=True)
    worker.reader.start()
    if not ready.wait(60):
        worker.stop()
        pytest.fail(f"the worker did not start: {worker.lines}")
    return worker


@pytest.fixture
def workers(scaled: Settings) -> Iterator[list[Worker]]:
    started = [start_worker(scaled), start_worker(scaled)]
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def api(scaled: Settings) -> Iterator[tuple[TestClient, Keys]]:
    app = create_app(scaled)
    try:
        with TestClient(app) as client:
            yield client, make_keys(app.state.engine)
    finally:
        app.state.engine.dispose()


def wait_for(
    client: TestClient, job_id: str, headers: dict[str, str], until: set[str], timeout: float = 180
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"{API}/jobs/{job_id}", headers=headers).json()
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def worker_of(settings: Settings, job_id: str) -> str:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            row = session.exec(select(Job).where(Job.id == job_id)).one()
            return row.worker or ""
    finally:
        engine.dispose()


def test_two_workers_share_the_jobs(
    scaled: Settings, api: tuple[TestClient, Keys], workers: list[Worker]
) -> None:
    client, keys = api
    planner = keys.headers("planner")
    assert client.post(f"{API}/portfolios", json=strandhaus(), headers=planner).status_code == 201
    bodies = [
        {"kind": "run"},
        {"kind": "frontier", "points": 7},
        {"kind": "robustness", "samples": 300},
        {"kind": "run", "scenario": "pooled-plus-10"},
        {"kind": "frontier", "points": 5, "pooled": True},
        {"kind": "robustness", "samples": 200, "seed": 3},
    ]
    ids = []
    for body in bodies:
        response = client.post(f"{API}/portfolios/strandhaus-2027/jobs", json=body, headers=planner)
        assert response.status_code == 202, response.text
        ids.append(response.json()["job_id"])
    done = [wait_for(client, job_id, planner, FINISHED) for job_id in ids]
    assert [job["status"] for job in done] == ["done"] * len(bodies), done
    pids = {worker_of(scaled, job_id).split(":")[1] for job_id in ids}
    assert pids <= {str(w.process.pid) for w in workers}
    listing = client.get(f"{API}/portfolios/strandhaus-2027/jobs", headers=planner).json()
    assert listing["total"] == len(bodies)


def test_a_killed_worker_s_job_is_taken_over(
    scaled: Settings, api: tuple[TestClient, Keys], workers: list[Worker]
) -> None:
    client, keys = api
    planner = keys.headers("planner")
    data = generate_document(300, 150, 9)
    assert client.post(f"{API}/portfolios", json=data, headers=planner).status_code == 201
    response = client.post(
        f"{API}/portfolios/{data['id']}/jobs",
        json={"kind": "robustness", "samples": 40_000},
        headers=planner,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job = wait_for(client, job_id, planner, {"running"} | FINISHED)
    while job["status"] == "running" and job["progress"] < 0.35:  # sampling has begun
        job = wait_for(client, job_id, planner, {"running"} | FINISHED)
    assert job["status"] == "running", job
    pid = int(worker_of(scaled, job_id).split(":")[1])
    victim = next(w for w in workers if w.process.pid == pid)
    victim.process.send_signal(signal.SIGKILL)  # no chance to say anything
    victim.process.wait(timeout=10)
    job = wait_for(client, job_id, planner, FINISHED)
    assert job["status"] == "done", job
    assert job["attempts"] == 2
    survivor = next(w for w in workers if w is not victim)
    assert worker_of(scaled, job_id).split(":")[1] == str(survivor.process.pid)
    assert job["result"]["samples"] == 40_000


def test_a_worker_stopped_with_sigterm_queues_its_job_again_at_once(
    scaled: Settings, api: tuple[TestClient, Keys]
) -> None:
    """SIGTERM (what `up` and service managers send) stops a worker without waiting for its
    job; huey's interrupted-task signal puts the job back on the queue then, so the other
    worker takes it long before a heartbeat could go stale (600 s here)."""
    patient = scaled.model_copy(update={"job_stale_seconds": 600.0})
    both = [start_worker(patient), start_worker(patient)]
    try:
        client, keys = api
        planner = keys.headers("planner")
        data = generate_document(300, 150, 11)
        assert client.post(f"{API}/portfolios", json=data, headers=planner).status_code == 201
        response = client.post(
            f"{API}/portfolios/{data['id']}/jobs",
            json={"kind": "robustness", "samples": 40_000},
            headers=planner,
        )
        job_id = response.json()["job_id"]
        job = wait_for(client, job_id, planner, {"running"} | FINISHED)
        while job["status"] == "running" and job["progress"] < 0.35:  # sampling has begun
            job = wait_for(client, job_id, planner, {"running"} | FINISHED)
        assert job["status"] == "running", job
        pid = int(worker_of(scaled, job_id).split(":")[1])
        stopped = next(w for w in both if w.process.pid == pid)
        stopped.process.send_signal(signal.SIGTERM)
        stopped.process.wait(timeout=30)
        job = wait_for(client, job_id, planner, FINISHED, timeout=300)
        assert job["status"] == "done", job
        assert job["attempts"] == 2
        other = next(w for w in both if w is not stopped)
        assert worker_of(scaled, job_id).split(":")[1] == str(other.process.pid)
    finally:
        for worker in both:
            worker.stop()
