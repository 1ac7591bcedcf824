"""A bounded load test of the API: real uvicorn in its own process, async clients on 127.0.0.1.

Two shapes, each with a request count and a time limit:

- burst: `concurrency` requests started at once (mixed reads, If-Match writes and runs);
- sustained: `concurrency` clients, each sending one request after the other, until
  `requests` are done or `seconds` have passed.

It prints requests a second, p50 and p99 (of all requests, and of reads alone), the count of
5xx answers and of dropped connections (reset, closed, refused or no answer in time). A 412
(another writer got there first) is an expected answer, not an error.

    python -m tests.loadtest --database sqlite:////tmp/load.db --burst 100 \
        --concurrency 50 --requests 2000 --seconds 60

`make test` runs it at a reduced size on SQLite and PostgreSQL (tests/backend/test_load.py);
`make bench` at full size (tests/benchmarks/test_load.py).
"""

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from sqlmodel import Session

from backend.db import make_engine
from backend.migrate import upgrade
from backend.security import Role, create_key
from optimizer.document import document_to_data, load_document

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "tests" / "backend" / "data" / "strandhaus-2027.yaml"
PORTFOLIO = "strandhaus-2027"
TOUCHPOINTS = ["search-ads", "website", "hotline", "checkin", "app-guide"]
API = "/api/v1"


@dataclass
class Figures:
    name: str
    latencies: list[float] = field(default_factory=list)
    read_latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    dropped: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies) + self.dropped

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def line(self) -> str:
        def pct(values: list[float], q: float) -> str:
            if not values:
                return "-"
            ordered = sorted(values)
            return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f} ms"

        rate = self.count / self.seconds if self.seconds else 0.0
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.name}: {self.count} requests in {self.seconds:.1f} s = {rate:.1f} req/s; "
            f"p50 {pct(self.latencies, 0.5)}, p99 {pct(self.latencies, 0.99)} "
            f"(reads p50 {pct(self.read_latencies, 0.5)}, p99 {pct(self.read_latencies, 0.99)}); "
            f"5xx {self.server_errors}, dropped {self.dropped}; statuses {statuses}"
        )


# ------------------------------------------------------------------ the server


def prepare(database_url: str) -> str:
    """Migrate the database and make a planner key (the portfolio is imported over HTTP)."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            return create_key(session=session, role=Role.planner, name="load")[1]
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(
    database_url: str, *, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """uvicorn serving the API on 127.0.0.1 in its own process; its base URL."""
    port = _free_port()
    environment = {**os.environ, **(env or {}), "JOURNEYFOLIO_DATABASE_URL": database_url}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1"]
        + ["--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=environment,
        stdout=out,
        stderr=out,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn stopped with code {process.returncode}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{url}{API}/health", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer /health within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def import_portfolio(url: str, key: str) -> None:
    data = document_to_data(load_document(DOCUMENT))
    headers = {"Authorization": f"Bearer {key}"}
    answer = httpx2.post(f"{url}{API}/portfolios", json=data, headers=headers, timeout=60)
    if answer.status_code not in (201, 409):
        raise RuntimeError(f"import failed: {answer.status_code} {answer.text[:300]}")


# ------------------------------------------------------------------ the traffic


def _kind(rng: random.Random) -> str:
    roll = rng.random()
    return "read" if roll < 0.7 else "write" if roll < 0.95 else "run"


async def _one(client: httpx2.AsyncClient, kind: str, rng: random.Random, out: Figures) -> None:
    portfolio = f"{API}/portfolios/{PORTFOLIO}"
    start = time.perf_counter()
    try:
        if kind == "read":
            path = rng.choice(
                [
                    f"{API}/portfolios",
                    portfolio,
                    f"{portfolio}/touchpoints",
                    f"{portfolio}/journeys",
                    f"{portfolio}/touchpoints/{rng.choice(TOUCHPOINTS)}",
                    f"{API}/health",
                ]
            )
            answer = await client.get(path)
        elif kind == "write":
            path = f"{portfolio}/touchpoints/{rng.choice(TOUCHPOINTS)}"
            read = await client.get(path)
            if read.status_code != 200:
                answer = read
            else:
                answer = await client.patch(
                    path,
                    json={"description": f"load {rng.random():.6f}"},
                    headers={"If-Match": read.headers["ETag"]},
                )
        else:
            budget = rng.randrange(400_000, 900_000, 1000)
            answer = await client.post(f"{portfolio}/runs", json={"budget": budget})
    except (httpx2.TransportError, httpx2.TimeoutException) as error:
        out.dropped += 1
        if len(out.errors) < 5:
            out.errors.append(f"{kind}: {type(error).__name__}: {error}")
        return
    elapsed = time.perf_counter() - start
    out.latencies.append(elapsed)
    if kind == "read":
        out.read_latencies.append(elapsed)
    out.statuses[answer.status_code] = out.statuses.get(answer.status_code, 0) + 1
    if answer.status_code >= 500 and len(out.errors) < 5:
        out.errors.append(f"{kind}: {answer.status_code} {answer.text[:200]}")


def _client(url: str, key: str, connections: int, timeout: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
        limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def burst(
    url: str, key: str, *, concurrency: int, seed: int = 1, timeout: float = 60
) -> Figures:
    """`concurrency` requests started at once."""
    rng = random.Random(seed)
    out = Figures(f"burst {concurrency} in flight")
    async with _client(url, key, concurrency, timeout) as client:
        start = time.perf_counter()
        tasks = [
            _one(client, _kind(rng), random.Random(rng.random()), out) for _ in range(concurrency)
        ]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout * 3)
        out.seconds = time.perf_counter() - start
    return out


async def sustained(
    url: str,
    key: str,
    *,
    concurrency: int,
    requests: int,
    seconds: float,
    seed: int = 2,
    timeout: float = 60,
) -> Figures:
    """`concurrency` clients, one request after the other, up to `requests` or `seconds`."""
    rng = random.Random(seed)
    out = Figures(f"sustained {concurrency} clients")
    left = requests
    async with _client(url, key, concurrency, timeout) as client:
        start = time.perf_counter()
        stop = start + seconds

        async def worker(number: int) -> None:
            nonlocal left
            mine = random.Random(rng.random() + number)
            while left > 0 and time.perf_counter() < stop:
                left -= 1
                await _one(client, _kind(mine), mine, out)

        await asyncio.wait_for(
            asyncio.gather(*(worker(n) for n in range(concurrency))), timeout=seconds + timeout * 2
        )
        out.seconds = time.perf_counter() - start
    return out


def run(
    database_url: str,
    *,
    burst_size: int,
    concurrency: int,
    requests: int,
    seconds: float,
    log: Path | None = None,
) -> tuple[Figures, Figures]:
    """Prepare the database, start the server, send the burst then the sustained load."""
    key = prepare(database_url)
    with server(database_url, log=log) as url:
        import_portfolio(url, key)
        first = asyncio.run(burst(url, key, concurrency=burst_size))
        second = asyncio.run(
            sustained(url, key, concurrency=concurrency, requests=requests, seconds=seconds)
        )
    return first, second


def report(figures: Figures) -> str:
    text = figures.line()
    for error in figures.errors:
        text += f"\n    {error}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="database URL (SQLite or PostgreSQL)")
    parser.add_argument("--burst", type=int, default=100, help="requests at once")
    parser.add_argument("--concurrency", type=int, default=50, help="sustained clients")
    parser.add_argument("--requests", type=int, default=2000, help="sustained requests, at most")
    parser.add_argument("--seconds", type=float, default=60, help="sustained time, at most")
    parser.add_argument("--log", type=Path, help="file for the server's log")
    args = parser.parse_args(argv)
    first, second = run(
        args.database,
        burst_size=args.burst,
        concurrency=args.concurrency,
        requests=args.requests,
        seconds=args.seconds,
        log=args.log,
    )
    print(report(first))
    print(report(second))
    failed = any(f.server_errors or f.dropped for f in (first, second))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
