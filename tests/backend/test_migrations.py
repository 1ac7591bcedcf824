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
        assert current_revision(engine) == "0005"
        upgrade(engine)  # applying again is a no-op
        assert current_revision(engine) == "0005"
    finally:
        engine.dispose()


def test_empty_database_gets_the_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'journeyfolio.db'}")
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == "0005"
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_existing_runs_are_numbered_in_the_order_they_were_made(database_url: str) -> None:
    """0002 numbers the runs already stored 1, 2, 3... per portfolio by created_at (the
    primary key breaks ties), whatever order their rows were written in."""
    from alembic import command
    from sqlalchemy import text

    from backend.migrate import alembic_config

    engine = make_engine(database_url)
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        assert current_revision(engine) == "0001"
        with engine.begin() as connection:
            for pk, portfolio_id in ((1, "alpha"), (2, "beta")):
                connection.execute(
                    text(
                        "INSERT INTO portfolio (pk, id, name, currency, period, budget, version,"
                        " created_at, updated_at, created_by) VALUES (:pk, :id, :name, 'EUR', '',"
                        " 1, 1, :created, :updated, 'test')"
                    ),
                    {
                        "pk": pk,
                        "id": portfolio_id,
                        "name": portfolio_id,
                        "created": "2026-01-01 00:00:00+00:00",
                        "updated": "2026-01-01 00:00:00+00:00",
                    },
                )
            # (run pk, portfolio pk, created_at): written out of order on purpose
            rows = [
                (1, 1, "2026-03-01 10:00:00+00:00"),
                (2, 2, "2026-03-02 10:00:00+00:00"),
                (3, 1, "2026-02-01 10:00:00+00:00"),
                (4, 1, "2026-03-01 10:00:00+00:00"),  # same moment as run 1: after it
                (5, 2, "2026-01-15 10:00:00+00:00"),
            ]
            for pk, portfolio_pk, at in rows:
                connection.execute(
                    text(
                        "INSERT INTO run (pk, id, portfolio_pk, portfolio_version, status, mode,"
                        " input_json, input_sha256, result_json, result_sha256, value,"
                        " weighted_value, objective, spend, created_at, created_by) VALUES"
                        " (:pk, :id, :portfolio_pk, 1, 'optimal', 'max_value', '{}', 'x', '{}',"
                        " 'y', 0, 0, 0, 0, :at, 'test')"
                    ),
                    {"pk": pk, "id": f"run-{pk}", "portfolio_pk": portfolio_pk, "at": at},
                )
        upgrade(engine)
        assert current_revision(engine) == "0005"
        with engine.connect() as connection:
            numbers = dict(connection.execute(text("SELECT id, number FROM run")).all())
        assert numbers == {"run-3": 1, "run-1": 2, "run-4": 3, "run-5": 1, "run-2": 2}
    finally:
        engine.dispose()
