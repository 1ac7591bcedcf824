"""The database: engine and sessions.

SQLite (the default) runs in WAL mode with foreign keys on, and every transaction starts
with ``BEGIN IMMEDIATE``: writers take the lock before they read, so a write never works on a
snapshot another writer has already replaced (the "no lost update" rule holds without retry
loops). PostgreSQL serializes writers per portfolio with ``SELECT ... FOR UPDATE`` instead
(see crud.lock_portfolio).
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


def make_engine(url: str, *, busy_timeout: float = 30.0, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite files get their directory, WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    database = parsed.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, on the application's engine."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session
