"""Settings of the backend, read from the environment (`JOURNEYFOLIO_*`).

A dependency (`get_settings()`), never a module singleton, so tests and `create_app(settings)`
can give their own.
"""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from optimizer.document import Limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEYFOLIO_", extra="ignore")

    database_url: str = "sqlite:///var/journeyfolio.db"
    """SQLite file by default (WAL, foreign keys on); PostgreSQL in production
    (`postgresql+psycopg://user@host/db`)."""
    sqlite_busy_timeout: float = Field(default=10.0, gt=0)
    """Seconds a SQLite writer waits for the lock before giving up (then 503, Retry-After)."""
    db_pool_size: int = Field(default=16, ge=1, le=1000)
    """Database connections of the server, and as many worker threads: a request's thread
    always finds a connection."""
    db_pool_timeout: float = Field(default=10.0, gt=0)
    """Seconds a request waits for a database connection before 503 with Retry-After."""

    max_request_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    """Largest request body accepted (413 above)."""
    max_touchpoints: int = Field(default=20_000, gt=0)
    max_journeys: int = Field(default=10_000, gt=0)
    max_links: int = Field(default=200_000, gt=0)
    max_curve_points: int = Field(default=64, gt=1)
    max_departments: int = Field(default=1_000, gt=0)
    max_personas: int = Field(default=10_000, gt=0)
    max_dependencies: int = Field(default=100_000, gt=0)
    max_scenarios: int = Field(default=1_000, gt=0)

    solver_time_limit: float = Field(default=120.0, gt=0)
    """Seconds one run may take in the solver before it is stopped with a clear answer."""
    max_page_size: int = Field(default=500, gt=0)
    max_compare_runs: int = Field(default=12, ge=2)
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    """How long an `Idempotency-Key` is remembered."""

    def limits(self) -> Limits:
        """The portfolio size limits, for `validate_document`."""
        return Limits(
            touchpoints=self.max_touchpoints,
            journeys=self.max_journeys,
            links=self.max_links,
            curve_points=self.max_curve_points,
            departments=self.max_departments,
            personas=self.max_personas,
            dependencies=self.max_dependencies,
            scenarios=self.max_scenarios,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
