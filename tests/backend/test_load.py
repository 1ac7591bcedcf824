"""The API under load: connections, transactions and the keep-alive connection.

- A burst and a sustained mixed load against uvicorn in its own process (tests/loadtest.py,
  reduced size; `make bench` runs the full size): no 5xx, no dropped connection.
- More requests than connections queue (bounded) instead of failing; waiting too long for a
  turn or a connection is 503 with Retry-After, never 500.
- SQLite: a read does not wait for a writer; `/health` answers while the write lock is held.
- After an unexpected error (500) the server keeps the keep-alive connection open.
"""

import http.client
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.api.routes import portfolios
from backend.main import create_app
from tests import loadtest
from tests.backend.conftest import make_keys, make_settings
from tests.backend.support import API, Keys, assert_problem, base, etag_of, serve


@pytest.fixture
def server(app: FastAPI) -> Iterator[tuple[str, int]]:
    """uvicorn serving `app` in a thread: (host, port)."""
    with serve(app, lifespan="on", log_level="critical") as port:
        yield "127.0.0.1", port


def test_keep_alive_after_a_bad_request_and_a_500(
    server: tuple[str, int], app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad request, then one that fails unexpectedly, then a good one: all three on the
    same connection (http.client never reconnects by itself while the socket stays)."""
    keys = make_keys(app.state.engine)

    def broken(**_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(portfolios.crud, "list_portfolios", broken)
    connection = http.client.HTTPConnection(*server, timeout=20)
    viewer = keys.headers("viewer")
    planner = {**keys.headers("planner"), "Content-Type": "application/json"}
    try:
        connection.request("POST", f"{API}/portfolios", body=b'{"id": ', headers=planner)
        response = connection.getresponse()
        assert response.status == 400, response.read()
        response.read()
        sock = connection.sock
        connection.request("GET", f"{API}/portfolios", headers=viewer)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 500
        assert body["detail"].startswith("an unexpected error")
        assert "secret" not in json.dumps(body)
        assert not response.will_close
        connection.request("GET", f"{API}/health")
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()
        assert connection.sock is sock  # the same connection all along
    finally:
        connection.close()


def test_waiting_for_a_connection_is_503_with_retry_after(database_url: str) -> None:
    app = create_app(make_settings(database_url, db_pool_size=1, db_pool_timeout=0.3))
    keys = make_keys(app.state.engine)
    try:
        with TestClient(app) as client, app.state.engine.connect():  # the only connection
            started = time.monotonic()
            response = client.get(f"{API}/portfolios", headers=keys.headers("viewer"))
            assert time.monotonic() - started < 5
            assert_problem(response, 503, contains="retry")
            assert response.headers["Retry-After"]
            assert client.get(f"{API}/health").status_code == 200  # needs no connection
    finally:
        app.state.engine.dispose()


def test_waiting_for_a_turn_is_503_with_retry_after(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One slot: a request that finds it taken for longer than the wait gets 503."""
    app = create_app(make_settings(database_url, db_pool_size=1, db_pool_timeout=0.3))
    keys = make_keys(app.state.engine)
    real = portfolios.crud.list_portfolios

    def slow(**kwargs: Any) -> Any:
        time.sleep(1.5)
        return real(**kwargs)

    monkeypatch.setattr(portfolios.crud, "list_portfolios", slow)
    statuses: list[int] = []
    try:
        with TestClient(app) as client:

            def first() -> None:
                statuses.append(
                    client.get(f"{API}/portfolios", headers=keys.headers("viewer")).status_code
                )

            thread = threading.Thread(target=first)
            thread.start()
            time.sleep(0.5)
            response = client.get(f"{API}/portfolios/x", headers=keys.headers("viewer"))
            assert_problem(response, 503, contains="busy")
            assert response.headers["Retry-After"]
            assert client.get(f"{API}/health").status_code == 200
            thread.join()
    finally:
        app.state.engine.dispose()
    assert statuses == [200]


# SQLite's write lock only: PostgreSQL readers never wait for writers
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_reads_do_not_wait_for_a_writer(
    database_url: str, client: TestClient, portfolio: str, keys: Keys, settings: Any
) -> None:
    viewer = keys.headers("viewer")
    tag = etag_of(client, base(), viewer)
    writer = sqlite3.connect(Path(database_url.removeprefix("sqlite:///")), timeout=1)
    writer.isolation_level = None
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        for path in ("/health", "/ready", "/portfolios", f"/portfolios/{portfolio}/touchpoints"):
            started = time.monotonic()
            response = client.get(f"{API}{path}", headers=viewer)
            assert response.status_code == 200, (path, response.text)
            assert time.monotonic() - started < 5.0, path  # a wait would take the 10 s busy_timeout
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    response = client.patch(
        base(), json={"description": "after"}, headers={**keys.headers("planner"), "If-Match": tag}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_writer_waits_briefly_then_503(database_url: str, keys: Keys) -> None:
    app = create_app(make_settings(database_url, sqlite_busy_timeout=0.3))
    writer = sqlite3.connect(Path(database_url.removeprefix("sqlite:///")), timeout=1)
    writer.isolation_level = None
    try:
        with TestClient(app) as client:
            writer.execute("BEGIN IMMEDIATE")
            response = client.post(
                f"{API}/portfolios",
                json={"id": "x", "name": "X", "currency": "EUR", "period": "2027", "budget": 1},
                headers=keys.headers("planner"),
            )
            writer.execute("ROLLBACK")
            assert_problem(response, 503, contains="retry")
            assert response.headers["Retry-After"]
    finally:
        writer.close()
        app.state.engine.dispose()


def test_burst_and_sustained_load(database_url: str, tmp_path: Path) -> None:
    """Reduced size of `make bench`: uvicorn in its own process, 40 requests at once, then
    20 clients for 300 requests (at most 60 s): no 5xx, no dropped connection."""
    first, second = loadtest.run(
        database_url,
        burst_size=40,
        concurrency=20,
        requests=300,
        seconds=60,
        log=tmp_path / "server.log",
    )
    print(f"\n{loadtest.report(first)}\n{loadtest.report(second)}")
    for figures in (first, second):
        assert figures.server_errors == 0, loadtest.report(figures)
        assert figures.dropped == 0, loadtest.report(figures)
        assert figures.statuses.get(200, 0) > 0, loadtest.report(figures)
