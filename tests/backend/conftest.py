"""Fixtures of the backend tests: a fresh database per test, on SQLite and on PostgreSQL.

Every test that uses `app` or `client` runs twice: on a fresh SQLite file (a copy of a
migrated template, so it is cheap) and on PostgreSQL when JOURNEYFOLIO_TEST_POSTGRES_URL is
set. The PostgreSQL runs use one database per pytest worker, created and migrated at start,
emptied after each test and dropped at the end. An unreachable server with the variable set
is an error, not a skip: CI must not pass without the PostgreSQL part.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from backend.config import Settings
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.security import Role, create_key
from tests.backend.support import API, OWNER_ANNA, OWNER_BEN, Keys, strandhaus

POSTGRES_ENV = "JOURNEYFOLIO_TEST_POSTGRES_URL"


# ------------------------------------------------------------------ databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close folds the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this worker (skips without the variable)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: the PostgreSQL part does not run")
    name = f"jf_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:
        admin.dispose()
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is not usable: {error}", pytrace=False)
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _empty(engine: Engine) -> None:
    # DELETE beats TRUNCATE by far on a handful of rows.
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "journeyfolio.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    _empty(engine)
    engine.dispose()


# ------------------------------------------------------------------ the app


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(**{"database_url": database_url, "solver_time_limit": 60, **overrides})


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # the job queue in the test's own directory (on PostgreSQL it would be var/ otherwise)
    return make_settings(database_url, queue_url=f"sqlite:///{tmp_path / 'queue.db'}")


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def make_keys(engine: Engine) -> Keys:
    with Session(engine) as session:
        keys = {
            "admin": create_key(session=session, role=Role.admin, name="admin")[1],
            "planner": create_key(session=session, role=Role.planner, name="leadership")[1],
            "owner": create_key(session=session, role=Role.owner, name="anna", owner=OWNER_ANNA)[1],
            "other_owner": create_key(
                session=session, role=Role.owner, name="ben", owner=OWNER_BEN
            )[1],
            "viewer": create_key(session=session, role=Role.viewer, name="finance")[1],
        }
    return Keys(**keys)


@pytest.fixture
def keys(app: FastAPI) -> Keys:
    return make_keys(app.state.engine)


@pytest.fixture
def planner(keys: Keys) -> dict[str, str]:
    return keys.headers("planner")


@pytest.fixture
def portfolio(client: TestClient, planner: dict[str, str]) -> str:
    """The Strandhaus portfolio, imported; its id."""
    response = client.post(f"{API}/portfolios", json=strandhaus(), headers=planner)
    assert response.status_code == 201, response.text
    return response.json()["id"]
