"""The Alembic migrations create exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from backend.db import make_engine
from backend.migrate import current_revision, upgrade


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        assert current_revision(engine) == "0001"
        upgrade(engine)  # applying again is a no-op
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()


def test_empty_database_gets_the_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'journeyfolio.db'}")
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == "0001"
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
