"""Alembic environment: the connection comes from `backend.migrate.upgrade()` (or, for the
alembic command line, from JOURNEYFOLIO_DATABASE_URL)."""

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import backend.models  # noqa: F401 - registers the tables on SQLModel.metadata
from backend.config import Settings
from backend.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(Settings().database_url)
    with engine.begin() as own:
        run(own)
    engine.dispose()
