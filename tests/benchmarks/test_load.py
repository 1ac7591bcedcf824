"""The load test at full size (make bench; tests/backend/test_load.py runs it reduced in make
test): uvicorn in its own process, a burst of 100 requests at once, then 50 clients for up to
3,000 requests or 90 s, on SQLite and (with JOURNEYFOLIO_TEST_POSTGRES_URL) PostgreSQL.
Prints req/s, p50 and p99, 5xx and dropped connections; asserts none of either."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from backend.db import make_engine
from tests import loadtest

BURST = 100
CLIENTS = 50
REQUESTS = 3_000
SECONDS = 90


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'load.db'}"
        return
    base = os.environ.get("JOURNEYFOLIO_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("JOURNEYFOLIO_TEST_POSTGRES_URL is not set")
    name = f"jf_load_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_load(database_url: str, tmp_path: Path) -> None:
    first, second = loadtest.run(
        database_url,
        burst_size=BURST,
        concurrency=CLIENTS,
        requests=REQUESTS,
        seconds=SECONDS,
        log=tmp_path / "server.log",
    )
    print(f"\n{make_url(database_url).get_backend_name()}:")
    print(loadtest.report(first))
    print(loadtest.report(second))
    for figures in (first, second):
        assert figures.server_errors == 0, loadtest.report(figures)
        assert figures.dropped == 0, loadtest.report(figures)
