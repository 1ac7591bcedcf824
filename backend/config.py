"""Settings of the backend, read from the environment (`JOURNEYFOLIO_*`).

A dependency (`get_settings()`), never a module singleton, so tests and `create_app(settings)`
can give their own.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

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

    queue_url: str | None = None
    """The task queue of the jobs (huey): `redis://host:6379/0` for workers on several
    machines, `sqlite:///path/queue.db` for one machine; by default a SQLite file next to a
    SQLite database (`var/journeyfolio.queue.db`), or `var/journeyfolio.queue.db` beside
    PostgreSQL."""
    queue_name: str = Field(default="journeyfolio", min_length=1, max_length=200)
    """Name of the queue: workers and the API that share it use the same name."""
    worker_threads: int = Field(default=1, ge=1, le=64)
    """Jobs one `journeyfolio worker` process runs at once."""
    job_heartbeat_seconds: float = Field(default=5.0, gt=0)
    """How often a worker says that it is still working on a job."""
    job_stale_seconds: float = Field(default=60.0, gt=0)
    """A running job without a heartbeat for this long has lost its worker: it is started
    again (up to `job_max_attempts` starts) or failed, by the next worker that looks."""
    job_max_attempts: int = Field(default=2, ge=1, le=10)
    sync_run_max_size: int = Field(default=1_000_000, ge=0)
    """POST .../runs computes in the request when touchpoints x journeys is at most this;
    a larger portfolio's run goes to the queue (202 and a job)."""

    def queue_location(self) -> str:
        """The queue's URL: `queue_url`, or the SQLite file beside the database."""
        if self.queue_url:
            return self.queue_url
        url = make_url(self.database_url)
        database = url.database or ""
        if url.get_backend_name() != "sqlite":
            return "sqlite:///var/journeyfolio.queue.db"
        if database in ("", ":memory:") or database.startswith("file:"):
            return "memory://"
        path = Path(database)
        return f"sqlite:///{path.with_name(path.stem + '.queue' + (path.suffix or '.db'))}"

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
