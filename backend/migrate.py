"""Alembic, driven from code: `upgrade(engine)` brings a database to the newest schema.

The migrations are package data (backend/migrations), so this works from an installed
package too. For a new migration during development:
`alembic -c backend/alembic.ini revision --autogenerate -m "what changed"`.
"""

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

SCRIPT_LOCATION = "backend:migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not applied yet (an empty database gets the whole schema)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return MigrationContext.configure(connection).get_current_revision()
