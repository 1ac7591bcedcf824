"""The database: engine and sessions.

SQLite (the default) runs in WAL mode with foreign keys on and a `busy_timeout`. A transaction
that may write starts with ``BEGIN IMMEDIATE``: writers take the lock before they read, so a
write never works on a snapshot another writer has already replaced (the "no lost update" rule
holds without retry loops), and they take turns. A request that only reads (GET, HEAD) starts
with a plain ``BEGIN``: in WAL mode it reads its snapshot and never waits for a writer.
PostgreSQL serializes writers per portfolio with ``SELECT ... FOR UPDATE`` instead (see
crud.get_portfolio).

The pool has a fixed size and a bounded wait: a request that cannot get a connection in
`pool_timeout` seconds gets 503 with Retry-After (api/errors.py), never waits forever. The
server runs as many worker threads as there are connections (main.py), and a request holds a
connection only while one of its threads works on the database (`get_session`, `get_caller`).
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


READS_ONLY = "journeyfolio_reads_only"
"""Execution option of a connection whose transactions only read (SQLite: plain BEGIN)."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(
    url: str,
    *,
    busy_timeout: float = 10.0,
    pool_size: int = 5,
    pool_timeout: float = 10.0,
    echo: bool = False,
) -> Engine:
    """An engine for `url`; SQLite files get their directory, WAL and foreign keys.

    `pool_size` connections at most (no overflow); waiting for one is bounded by
    `pool_timeout` seconds (sqlalchemy.exc.TimeoutError after that)."""
    parsed = make_url(url)
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
    }
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True, **pool)

    database = parsed.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
        **({} if memory else pool),
    )

    @event.listens_for(engine, "do_connect")
    def _make_directory(*_args: Any) -> None:
        # On first use, not when the engine is made (importing the app creates nothing).
        if not memory:
            # If this fails, connecting fails next with the driver's clear error.
            with contextlib.suppress(OSError):
                Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        reads_only = connection.get_execution_options().get(READS_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

    return engine


def session_for(engine: Engine, method: str) -> Session:
    """A session for a request with this HTTP method: reads only for GET and HEAD."""
    bind = engine.execution_options(**{READS_ONLY: True}) if method in SAFE_METHODS else engine
    return Session(bind, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, on the application's engine. It takes a connection at its
    first statement and gives it back at each commit (and at the end of the request)."""
    with session_for(request.app.state.engine, request.method) as session:
        yield session
