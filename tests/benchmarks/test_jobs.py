"""Jobs end to end (make bench): the API (`journeyfolio serve`, uvicorn in its own process)
and `journeyfolio worker` processes, on a generated portfolio (300 x 150 touchpoints and
journeys by default; JF_BENCH_JOBS_SIZE=5000x2000 for the issue's size).

Two setups: embedded (SQLite database, the SQLite queue beside it, one worker) and, with
JOURNEYFOLIO_TEST_POSTGRES_URL, scaled (PostgreSQL, Redis on 127.0.0.1:6379, two workers).
Each prints, per job kind (run, 25-point frontier, 1,000-sample robustness, pooled bridge),
the wait in the queue and the time from POST to done; the throughput of 20 run jobs; and
the p50/p99 of reads (GET /jobs/{id}, GET /portfolios/{id}) while the jobs run.
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy.engine import make_url

from backend.db import make_engine
from optimizer.generate import generate_document
from tests.backend.support import ROOT

SIZE = tuple(int(n) for n in os.environ.get("JF_BENCH_JOBS_SIZE", "300x150").split("x"))
THROUGHPUT_JOBS = 20
KINDS: list[dict[str, Any]] = [
    {"kind": "run"},
    {"kind": "frontier", "points": 25},
    {"kind": "robustness", "samples": 1000},
    {"kind": "bridge", "percent": 10},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    name: str
    env: dict[str, str]
    workers: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, args: list[str], log: Path) -> None:
        out = log.open("ab")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "backend.cli", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        out.close()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def key_for(env: dict[str, str]) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend.cli",
            "keys",
            "create",
            "--role",
            "planner",
            "--name",
            "bench",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(params=["embedded", "scaled"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYFOLIO_")}
    if request.param == "embedded":
        env["JOURNEYFOLIO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'bench.db'}"
        yield Setup("embedded (SQLite, SQLite queue, 1 worker)", env, workers=1)
        return
    base = os.environ.get("JOURNEYFOLIO_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("JOURNEYFOLIO_TEST_POSTGRES_URL is not set: no scaled setup")
    name = f"jf_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    env["JOURNEYFOLIO_DATABASE_URL"] = (
        make_url(base).set(database=name).render_as_string(hide_password=False)
    )
    env["JOURNEYFOLIO_QUEUE_URL"] = "redis://127.0.0.1:6379/0"
    env["JOURNEYFOLIO_QUEUE_NAME"] = f"jf-bench-{uuid.uuid4().hex[:8]}"
    try:
        yield Setup("scaled (PostgreSQL, Redis, 2 workers)", env, workers=2)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class Reads:
    """A client reading the API in a loop while the jobs run; latencies in seconds."""

    def __init__(self, api: str, headers: dict[str, str], paths: list[str]) -> None:
        self.api, self.headers, self.paths = api, headers, paths
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with httpx2.Client(base_url=self.api, headers=self.headers, timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                started = time.perf_counter()
                response = client.get(self.paths[i % len(self.paths)])
                self.latencies.append(time.perf_counter() - started)
                self.errors += response.status_code >= 500
                i += 1
                time.sleep(0.02)

    def __enter__(self) -> "Reads":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def figures(self) -> str:
        if not self.latencies:
            return "no reads"
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return (
            f"{len(ordered)} reads, p50 {statistics.median(ordered) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, 5xx {self.errors}"
        )


def wait_done(client: httpx2.Client, job_id: str, timeout: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def seconds(job: dict[str, Any], start: str, end: str) -> float:
    return (datetime.fromisoformat(job[end]) - datetime.fromisoformat(job[start])).total_seconds()


def test_jobs(setup: Setup, tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    log = tmp_path / "servers.log"
    setup.start(["serve", "--port", str(port)], log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx2.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key_for(setup.env)}"}
        for _ in range(setup.workers):
            setup.start(["worker"], log)
        document = generate_document(SIZE[0], SIZE[1], 1)
        with httpx2.Client(base_url=api, headers=headers, timeout=600) as client:
            response = client.post("/portfolios", json=document)
            assert response.status_code == 201, response.text
            portfolio = f"/portfolios/{document['id']}"
            print(f"\n{setup.name}, {SIZE[0]:,} x {SIZE[1]:,}:")
            ids: list[str] = []
            with Reads(api, headers, [portfolio, f"{portfolio}/jobs"]) as reads:
                for body in KINDS:
                    posted = time.perf_counter()
                    response = client.post(f"{portfolio}/jobs", json=body)
                    accepted = time.perf_counter() - posted
                    assert response.status_code == 202, response.text
                    ids.append(response.json()["job_id"])
                    job = wait_done(client, ids[-1])
                    total = time.perf_counter() - posted
                    assert job["status"] == "done", job
                    print(
                        f"  {body['kind']:<10} 202 in {accepted * 1000:.0f} ms, queued "
                        f"{seconds(job, 'created_at', 'started_at'):.2f} s, worked "
                        f"{seconds(job, 'started_at', 'finished_at'):.2f} s, POST to done "
                        f"{total:.2f} s"
                    )
                started = time.perf_counter()
                batch = []
                for i in range(THROUGHPUT_JOBS):
                    budget = document["budget"] * (0.9 + 0.01 * i)
                    response = client.post(
                        f"{portfolio}/jobs", json={"kind": "run", "budget": budget}
                    )
                    assert response.status_code == 202, response.text
                    batch.append(response.json()["job_id"])
                finished = [wait_done(client, job_id) for job_id in batch]
                elapsed = time.perf_counter() - started
                assert all(job["status"] == "done" for job in finished)
                waits = sorted(seconds(job, "created_at", "started_at") for job in finished)
                print(
                    f"  throughput: {THROUGHPUT_JOBS} run jobs in {elapsed:.1f} s "
                    f"({THROUGHPUT_JOBS / elapsed * 60:.0f} jobs/min), queue wait median "
                    f"{statistics.median(waits):.2f} s, max {waits[-1]:.2f} s"
                )
            print(f"  reads while the jobs ran: {reads.figures()}")
            assert reads.errors == 0
    finally:
        setup.stop()
